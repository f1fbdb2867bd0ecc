"""Outgoing HTTP for ``call: http`` and ``call: openapi``: routes, URI templates, auth, calls."""

from emitflow.http.auth import Authenticator, Authorization
from emitflow.http.call import perform
from emitflow.http.openapi import DocumentCache, OpenApiDocument, call_operation, load_document
from emitflow.http.routes import Routes, RoutingTransport, make_client
from emitflow.http.uritemplate import expand

__all__ = [
    "Authenticator",
    "Authorization",
    "DocumentCache",
    "OpenApiDocument",
    "Routes",
    "RoutingTransport",
    "call_operation",
    "expand",
    "load_document",
    "make_client",
    "perform",
]
