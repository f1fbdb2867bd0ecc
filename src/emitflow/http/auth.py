"""Authentication policies (DSL §authentication) turned into what a request needs.

The engine evaluates the policy's ``${}`` values and resolves ``{use: <name>}`` references to
``use.authentications`` first, then calls ``Authenticator.resolve`` with the plain policy, e.g.
``{"basic": {"username": "u", "password": "p"}}``. The result holds the request headers (or an
``httpx.Auth`` for digest) and the ``$authorization`` value. A scheme written as
``{use: <secretName>}`` is read from the ``secrets`` given.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from emitflow.clock import Clock, SystemClock
from emitflow.errors import FaultError, Problem
from emitflow.http.oauth import TokenSource
from emitflow.http.oauth_policy import OAuthPolicy

__all__ = [
    "SCHEMES",
    "Authenticator",
    "Authorization",
    "basic_authorization",
    "bearer_authorization",
    "digest_authorization",
]

SCHEMES = ("basic", "bearer", "digest", "oauth2", "oidc")


@dataclass(frozen=True, slots=True, kw_only=True)
class Authorization:
    """Resolved credentials: what to add to a request, and the ``$authorization`` value.

    For ``Digest`` the credentials answer a server challenge, so there is no fixed header:
    ``httpx_auth()`` does the exchange and ``parameter`` is the user name.
    """

    scheme: str
    parameter: str = field(repr=False)
    password: str | None = field(default=None, repr=False)

    def headers(self) -> dict[str, str]:
        """The headers to send (none for digest)."""
        if self.scheme == "Digest":
            return {}
        return {"Authorization": f"{self.scheme} {self.parameter}"}

    def httpx_auth(self) -> httpx.Auth | None:
        """The httpx auth flow to send with, for schemes that need one (digest)."""
        if self.scheme == "Digest":
            return httpx.DigestAuth(self.parameter, self.password or "")
        return None

    def to_dict(self) -> dict[str, str]:
        """The ``$authorization`` argument: ``{"scheme": …, "parameter": …}``."""
        return {"scheme": self.scheme, "parameter": self.parameter}

    def secret_values(self) -> tuple[str, ...]:
        """The values to mask wherever this authorization could leak."""
        if self.scheme == "Digest":
            return (self.password,) if self.password else ()
        return (self.parameter,)


def basic_authorization(username: str, password: str) -> Authorization:
    """``Basic`` credentials (RFC 7617): base64 of ``username:password`` in UTF-8."""
    if ":" in username:
        raise _invalid("basic", "username may not contain ':' (RFC 7617)")
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return Authorization(scheme="Basic", parameter=token)


def bearer_authorization(token: str) -> Authorization:
    """``Bearer`` credentials (RFC 6750)."""
    return Authorization(scheme="Bearer", parameter=token)


def digest_authorization(username: str, password: str) -> Authorization:
    """``Digest`` credentials (RFC 7616), answered per challenge by httpx."""
    return Authorization(scheme="Digest", parameter=username, password=password)


class Authenticator:
    """Resolves authentication policies; caches OAuth2/OIDC tokens until they expire."""

    def __init__(self, client: httpx.AsyncClient, *, clock: Clock | None = None) -> None:
        self._tokens = TokenSource(client, clock or SystemClock())

    async def resolve(
        self, policy: Mapping[str, Any], *, secrets: Mapping[str, Any] | None = None
    ) -> Authorization:
        """The credentials ``policy`` describes, fetching a token when it is OAuth2/OIDC."""
        scheme, body = _single_scheme(policy)
        body = _dereference(scheme, body, secrets or {})
        if scheme == "basic":
            return basic_authorization(*_credentials(scheme, body))
        if scheme == "digest":
            return digest_authorization(*_credentials(scheme, body))
        if scheme == "bearer":
            return bearer_authorization(_field(scheme, body, "token"))
        token = await self._tokens.token(OAuthPolicy.from_mapping(scheme, body))
        return Authorization(scheme=token.token_type, parameter=token.access_token)

    def forget(self) -> None:
        """Drop cached tokens (after a credential rotation, say)."""
        self._tokens.forget()


def _single_scheme(policy: Mapping[str, Any]) -> tuple[str, Any]:
    if not isinstance(policy, Mapping):
        raise _invalid("the", "a policy must be an object with one scheme, e.g. {basic: {…}}")
    if "use" in policy:
        raise _invalid(
            "the", f"reference {{use: {policy['use']!r}}} must be resolved to its policy first"
        )
    schemes = [key for key in policy if key in SCHEMES]
    unknown = [key for key in policy if key not in SCHEMES]
    if unknown or len(schemes) != 1:
        named = ", ".join(map(repr, unknown)) or "none"
        raise _invalid(
            "the",
            f"a policy needs exactly one of {', '.join(SCHEMES)} (found {len(schemes)}, "
            f"unknown: {named})",
        )
    return schemes[0], policy[schemes[0]]


def _dereference(scheme: str, body: Any, secrets: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise _invalid(scheme, "its properties must be an object")
    name = body.get("use")
    if name is None:
        return body
    value = secrets.get(name) if isinstance(name, str) else None
    if value is None:
        raise FaultError(
            Problem.of(
                "authorization",
                title="Secret Not Available",
                detail=f"{scheme} authentication uses secret {name!r}, which is not available",
            )
        )
    if not isinstance(value, Mapping):
        raise _invalid(scheme, f"secret {name!r} must hold an object of {scheme} properties")
    return value


def _credentials(scheme: str, body: Mapping[str, Any]) -> tuple[str, str]:
    password = body.get("password")
    if not isinstance(password, str):
        raise _invalid(scheme, "password must be a string")
    return _field(scheme, body, "username"), password


def _field(scheme: str, body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _invalid(scheme, f"{name} must be a non-empty string")
    return value


def _invalid(scheme: str, detail: str) -> FaultError:
    return FaultError(
        Problem.of(
            "configuration",
            title="Invalid Authentication Policy",
            detail=f"{scheme} authentication: {detail}",
        )
    )
