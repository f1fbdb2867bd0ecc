"""A small OAuth2 / OpenID Connect authorization server, for tests of token requests.

It issues opaque tokens for the ``client_credentials``, ``password``, ``refresh_token`` and
token-exchange grants, authenticates clients by ``client_secret_post``, ``client_secret_basic``,
an assertion, or not at all (public clients), and accepts form or JSON bodies. It counts token
requests per client and remembers how each was made, so tests can check caching and encoding.
Discovery documents are served at the root and under ``/oidc`` (whose token endpoint is not the
default path, so a test can tell discovery was used).
"""

from __future__ import annotations

import base64
import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = ["ASSERTION", "CLIENTS", "PUBLIC_CLIENTS", "USERS", "OAuthServer"]

CLIENTS = {"emitflow": "client-secret-1", "short-lived": "client-secret-2"}
PUBLIC_CLIENTS = frozenset({"public-app"})
USERS = {"alice": "wonderland-pw"}
ASSERTION = "signed.jwt.assertion"
_LIFETIMES = {"short-lived": 60}


@dataclass
class OAuthServer:
    """The server's state: issued tokens and what each client asked for."""

    requests: Counter[str] = field(default_factory=Counter)
    last: dict[str, dict[str, Any]] = field(default_factory=dict)
    issued: set[str] = field(default_factory=set)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    _serial: itertools.count[int] = field(default_factory=itertools.count)

    def routes(self) -> list[BaseRoute]:
        """The token endpoints, discovery documents and a token-checking resource."""
        return [
            Route("/oauth2/token", self.token, methods=["POST"]),
            Route("/oidc/protocol/token", self.token, methods=["POST"]),
            Route("/.well-known/openid-configuration", self.discovery),
            Route("/oidc/.well-known/openid-configuration", self.discovery),
            Route("/oauth2/protected", self.protected),
        ]

    async def discovery(self, request: Request) -> Response:
        """The OpenID provider metadata, naming this server's token endpoint."""
        base = str(request.base_url).rstrip("/")
        issuer = base + ("/oidc" if request.url.path.startswith("/oidc/") else "")
        token = "/oidc/protocol/token" if issuer.endswith("/oidc") else "/oauth2/token"
        return JSONResponse({"issuer": issuer, "token_endpoint": base + token})

    async def protected(self, request: Request) -> Response:
        """200 for a token this server issued, 401 otherwise."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token not in self.issued:
            return JSONResponse({"error": "invalid_token"}, 401)
        return JSONResponse({"ok": True})

    async def token(self, request: Request) -> Response:
        """The token endpoint (RFC 6749 §3.2)."""
        is_json = request.headers.get("content-type", "").startswith("application/json")
        body = await request.body()
        # Parsed by hand: Starlette's form parser needs python-multipart, a dependency for nothing.
        fields = json.loads(body) if is_json else dict(parse_qsl(body.decode("ascii")))
        client_id, method = self._client(request, fields)
        if client_id is None:
            return JSONResponse({"error": "invalid_client"}, 401)
        self.requests[client_id] += 1
        grant = fields.get("grant_type")
        self.last[client_id] = {
            "grant_type": grant,
            "encoding": "json" if is_json else "form",
            "client_auth": method,
            "scope": fields.get("scope"),
            "audience": fields.get("audience"),
            "path": request.url.path,
        }
        error = self._grant_error(client_id, fields)
        if error:
            return JSONResponse({"error": error, "error_description": "grant refused"}, 400)
        return self._issue(client_id, fields)

    def _client(self, request: Request, fields: dict[str, Any]) -> tuple[str | None, str]:
        scheme, _, param = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            user, _, secret = base64.b64decode(param).decode().partition(":")
            user, secret = unquote_plus(user), unquote_plus(secret)
            return (user if CLIENTS.get(user) == secret else None), "client_secret_basic"
        client_id = fields.get("client_id")
        if "client_assertion" in fields:
            ok = fields["client_assertion"] == ASSERTION
            return (client_id if ok else None), "assertion"
        if "client_secret" in fields:
            ok = CLIENTS.get(client_id or "") == fields["client_secret"]
            return (client_id if ok else None), "client_secret_post"
        return (client_id if client_id in PUBLIC_CLIENTS else None), "none"

    def _grant_error(self, client_id: str, fields: dict[str, Any]) -> str | None:
        grant = fields.get("grant_type")
        if grant == "client_credentials":
            return None
        if grant == "password":
            ok = USERS.get(fields.get("username", "")) == fields.get("password")
            return None if ok else "invalid_grant"
        if grant == "refresh_token":
            ok = self.refresh_tokens.get(fields.get("refresh_token", "")) == client_id
            return None if ok else "invalid_grant"
        if grant == "urn:ietf:params:oauth:grant-type:token-exchange":
            return None if fields.get("subject_token") else "invalid_request"
        return "unsupported_grant_type"

    def _issue(self, client_id: str, fields: dict[str, Any]) -> Response:
        serial = next(self._serial)
        access = f"access-{client_id}-{serial}"
        refresh = f"refresh-{client_id}-{serial}"
        self.issued.add(access)
        self.refresh_tokens[refresh] = client_id
        body = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": _LIFETIMES.get(client_id, 3600),
            "refresh_token": refresh,
        }
        if fields.get("scope"):
            body["scope"] = fields["scope"]
        return JSONResponse(body, headers={"Cache-Control": "no-store"})
