"""Endpoints (URI, template or expression), external resources, and authentication policies.

A policy is basic, bearer, digest, oauth2 or oidc, given inline, as ``{use: secretName}`` (the
secret holds the properties), or referenced from ``use.authentications`` by ``{use: name}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emitflow.dsl.context import Context, child, describe
from emitflow.dsl.model import AuthenticationRef, AuthPolicy, Endpoint, ExternalResource
from emitflow.expressions import is_expression

__all__ = [
    "SCHEMES",
    "URI_PATTERN",
    "auth_policy",
    "authentication_ref",
    "endpoint",
    "external_resource",
    "uri_literal",
]

# The schema's (main branch) pattern: a URI reference or template, no spaces, not "${".
URI_PATTERN = re.compile(
    r"^(?!\s*\$\{)(?=\S)(([^:/?#]+):)?(//([^/?#\s]*))?([^?#\s]*)(\?([^#\s]*))?(#(\S*))?$"
)

SCHEMES = ("basic", "bearer", "digest", "oauth2", "oidc")

_GRANTS = (
    "authorization_code",
    "client_credentials",
    "password",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:token-exchange",
)
_CLIENT_AUTH = (
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
)
_ENCODINGS = ("application/x-www-form-urlencoded", "application/json")
_OAUTH_KEYS = frozenset(
    {
        "authority",
        "grant",
        "client",
        "request",
        "issuers",
        "scopes",
        "audiences",
        "username",
        "password",
        "subject",
        "actor",
    }
)
_REQUIRED: Mapping[str, Mapping[str, str]] = {
    "basic": {"username": "", "password": ""},
    "digest": {"username": "", "password": ""},
    "bearer": {"token": "the token, usually from a secret: ${ $secrets.apiToken }"},
    "oauth2": {"authority": "the URI of the OAuth2 authority", "grant": "the grant type"},
    "oidc": {"authority": "the URI of the OpenID Connect authority", "grant": "the grant type"},
}
_ALLOWED: Mapping[str, frozenset[str]] = {
    "basic": frozenset({"username", "password"}),
    "digest": frozenset({"username", "password"}),
    "bearer": frozenset({"token"}),
    "oauth2": _OAUTH_KEYS | {"endpoints"},
    "oidc": _OAUTH_KEYS,
}


def uri_literal(ctx: Context, value: str, pointer: str, what: str) -> bool:
    """Check a literal URI or RFC 6570 template (relative references allowed)."""
    if URI_PATTERN.match(value):
        return True
    if value.lstrip().startswith("${"):
        message = "starts like an expression but is not one whole '${ … }'"
        ctx.error(pointer, f"{what} {message}; write the entire value as the expression")
    else:
        ctx.error(
            pointer,
            f"{what} {value!r} is not a URI or URI template (it must not be empty or contain "
            'spaces); for a computed URI write an expression: ${ "https://host/" + .path }',
        )
    return False


def uri_or_expression(ctx: Context, value: Any, pointer: str, what: str) -> str | None:
    """A URI, URI template or ``${ }`` expression given as a string."""
    if not isinstance(value, str):
        ctx.error(
            pointer, f"{what} must be a URI string or a ${{ }} expression, found {describe(value)}"
        )
        return None
    if is_expression(value):
        ctx.expression(pointer, value)
        return value
    return value if uri_literal(ctx, value, pointer, what) else None


def endpoint(ctx: Context, value: Any, pointer: str) -> Endpoint | None:
    """A string (URI, template or expression) or ``{uri, authentication}``."""
    if not isinstance(value, dict):
        uri = uri_or_expression(ctx, value, pointer, "an endpoint")
        return Endpoint(uri=uri) if uri is not None else None
    ctx.keys(value, pointer, "an endpoint", {"uri", "authentication"}, {"uri": "the URI to call"})
    if "uri" not in value:
        return None
    uri = uri_or_expression(ctx, value["uri"], child(pointer, "uri"), "'uri'")
    auth = None
    if "authentication" in value:
        auth = authentication_ref(ctx, value["authentication"], child(pointer, "authentication"))
    return Endpoint(uri=uri, authentication=auth) if uri is not None else None


def external_resource(ctx: Context, value: Any, pointer: str) -> ExternalResource | None:
    """``{name?, endpoint}``: a document to fetch."""
    obj = ctx.mapping(value, pointer, "an external resource")
    if obj is None:
        return None
    hint = {"endpoint": "where to fetch it, e.g. endpoint: https://example.com/openapi.json"}
    ctx.keys(obj, pointer, "an external resource", {"name", "endpoint"}, hint)
    name = ctx.string(obj, pointer, "name")
    if "endpoint" not in obj:
        return None
    where = endpoint(ctx, obj["endpoint"], child(pointer, "endpoint"))
    return ExternalResource(endpoint=where, name=name) if where is not None else None


def authentication_ref(ctx: Context, value: Any, pointer: str) -> AuthenticationRef | None:
    """An endpoint's ``authentication``: ``{use: name}`` or an inline policy."""
    obj = ctx.mapping(value, pointer, "an authentication")
    if obj is None:
        return None
    if "use" in obj:
        ctx.keys(obj, pointer, "an authentication reference", {"use"})
        name = obj["use"]
        if not isinstance(name, str) or not name:
            found = describe(name)
            message = f"'use' must name an entry of use.authentications, found {found}"
            ctx.error(child(pointer, "use"), message)
            return None
        ctx.refer("authentications", name, child(pointer, "use"))
        return AuthenticationRef(use=name)
    policy = auth_policy(ctx, obj, pointer)
    return AuthenticationRef(policy=policy) if policy is not None else None


def auth_policy(ctx: Context, value: Any, pointer: str) -> AuthPolicy | None:
    """One policy: exactly one scheme key, its properties or ``{use: secretName}``."""
    obj = ctx.mapping(value, pointer, "an authentication policy")
    if obj is None:
        return None
    ctx.keys(obj, pointer, "an authentication policy", SCHEMES)
    scheme = ctx.exactly_one(obj, pointer, "an authentication policy", SCHEMES)
    if scheme is None:
        return None
    here = child(pointer, scheme)
    body = ctx.mapping(obj[scheme], here, f"the '{scheme}' policy")
    if body is None:
        return None
    if "use" in body:
        ctx.keys(body, here, f"a secret-based '{scheme}' policy", {"use"})
        secret = body["use"]
        if not isinstance(secret, str) or not secret:
            ctx.error(child(here, "use"), f"'use' must name a secret, found {describe(secret)}")
            return None
        ctx.refer("secrets", secret, child(here, "use"))
        return AuthPolicy(scheme=scheme, secret=secret)
    _properties(ctx, scheme, body, here)
    return AuthPolicy(scheme=scheme, properties=body)


def _properties(ctx: Context, scheme: str, body: dict[str, Any], pointer: str) -> None:
    ctx.keys(body, pointer, f"the '{scheme}' policy", _ALLOWED[scheme], _REQUIRED[scheme])
    for key in ("username", "password", "token"):
        if key in _ALLOWED[scheme]:
            ctx.string(body, pointer, key)
    if scheme in ("oauth2", "oidc"):
        _oauth(ctx, scheme, body, pointer)


def _oauth(ctx: Context, scheme: str, body: dict[str, Any], pointer: str) -> None:
    authority = ctx.string(body, pointer, "authority")
    if authority is not None:
        uri_literal(ctx, authority, child(pointer, "authority"), "'authority'")
    if "grant" in body:
        ctx.choice(body, pointer, "grant", _GRANTS, _GRANTS[0])
    for key in ("issuers", "scopes", "audiences"):
        ctx.strings(body, pointer, key)
    client = ctx.mapping_field(body, pointer, "client")
    if client is not None:
        here = child(pointer, "client")
        ctx.keys(client, here, "an OAuth2 client", {"id", "secret", "assertion", "authentication"})
        for key in ("id", "secret", "assertion"):
            ctx.string(client, here, key)
        if "authentication" in client:
            ctx.choice(client, here, "authentication", _CLIENT_AUTH, "client_secret_post")
    request = ctx.mapping_field(body, pointer, "request")
    if request is not None:
        ctx.keys(request, child(pointer, "request"), "an OAuth2 token request", {"encoding"})
        if "encoding" in request:
            ctx.choice(request, child(pointer, "request"), "encoding", _ENCODINGS, _ENCODINGS[0])
    for key in ("subject", "actor"):
        _token(ctx, body, pointer, key)
    endpoints = ctx.mapping_field(body, pointer, "endpoints") if scheme == "oauth2" else None
    if endpoints is not None:
        here = child(pointer, "endpoints")
        ctx.keys(endpoints, here, "OAuth2 endpoints", {"token", "revocation", "introspection"})
        for key in ("token", "revocation", "introspection"):
            ctx.string(endpoints, here, key)


def _token(ctx: Context, body: dict[str, Any], pointer: str, key: str) -> None:
    token = ctx.mapping_field(body, pointer, key)
    if token is not None:
        here = child(pointer, key)
        ctx.keys(token, here, f"an OAuth2 {key} token", {"token", "type"}, ("token", "type"))
        ctx.string(token, here, "token")
        ctx.string(token, here, "type")
