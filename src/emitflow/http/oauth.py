"""OAuth2 and OpenID Connect access tokens: the policy, the token request, the cache.

Supported grants: ``client_credentials``, ``password`` and token exchange; a cached token that
comes with a refresh token is renewed with the ``refresh_token`` grant first.
``authorization_code`` needs a person at a browser and is refused. A token is kept per
(authority, endpoint, client, grant, user, scopes, audiences) until shortly before it expires,
on the injected clock; a response without ``expires_in`` is kept ``DEFAULT_LIFETIME`` seconds.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import httpx

from emitflow.clock import Clock
from emitflow.errors import FaultError, Problem
from emitflow.http.oauth_policy import OAuthPolicy
from emitflow.http.redaction import excerpt, redact_url, scrub

__all__ = ["DEFAULT_LIFETIME", "Token", "TokenSource"]

log = logging.getLogger(__name__)

DEFAULT_LIFETIME = 300.0
_DISCOVERY = "/.well-known/openid-configuration"
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True, slots=True, kw_only=True)
class Token:
    """An access token and when (on the clock's monotonic time) to stop using it."""

    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)


class TokenSource:
    """Fetches access tokens and keeps each until shortly before it expires."""

    def __init__(self, client: httpx.AsyncClient, clock: Clock) -> None:
        self._client = client
        self._clock = clock
        self._tokens: dict[tuple[Any, ...], Token] = {}
        self._locks: dict[tuple[Any, ...], asyncio.Lock] = {}
        self._endpoints: dict[str, str] = {}

    async def token(self, policy: OAuthPolicy) -> Token:
        """A valid token for ``policy``: the cached one, or a new one from the token endpoint."""
        key = policy.cache_key()
        # One lock per key, so concurrent calls with the same policy fetch a single token.
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._tokens.get(key)
            if cached is not None and self._clock.monotonic() < cached.expires_at:
                return cached
            token = await self._renew(policy, cached)
            self._tokens[key] = token
            return token

    def forget(self) -> None:
        """Drop every cached token and discovered endpoint."""
        self._tokens.clear()
        self._endpoints.clear()

    async def _renew(self, policy: OAuthPolicy, cached: Token | None) -> Token:
        url = await self._token_endpoint(policy)
        if cached is not None and cached.refresh_token:
            fields = {"grant_type": "refresh_token", "refresh_token": cached.refresh_token}
            try:
                return await self._request(policy, url, fields, cached.refresh_token)
            except FaultError:
                # A refused refresh is routine (revoked, rotated): fall back to the grant itself.
                log.info("refresh refused by %s; requesting a new token", redact_url(url))
        return await self._request(policy, url, policy.grant_fields(), None)

    async def _token_endpoint(self, policy: OAuthPolicy) -> str:
        if policy.kind == "oauth2":
            return policy.token_url()
        authority = policy.authority.rstrip("/")
        if authority not in self._endpoints:
            self._endpoints[authority] = await self._discover(policy, authority + _DISCOVERY)
        return self._endpoints[authority]

    async def _discover(self, policy: OAuthPolicy, url: str) -> str:
        where = f"OpenID discovery at {redact_url(url)}"
        try:
            response = await self._client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise _failure(policy, f"{where} failed: {type(exc).__name__} {exc}") from exc
        if response.status_code != 200:
            raise _failure(policy, f"{where} answered {response.status_code}")
        try:
            endpoint = response.json().get("token_endpoint")
        except (ValueError, AttributeError) as exc:
            raise _failure(policy, f"{where} did not answer a JSON object") from exc
        if not isinstance(endpoint, str) or not endpoint:
            raise _failure(policy, f"{where} names no token_endpoint")
        return endpoint

    async def _request(
        self, policy: OAuthPolicy, url: str, fields: dict[str, str], refresh: str | None
    ) -> Token:
        fields = {**fields, **policy.scope_fields()}
        headers = {"Accept": "application/json"}
        self._authenticate_client(policy, fields, headers)
        if policy.encoding == "json":
            headers["Content-Type"] = "application/json"
            content = json.dumps(fields).encode("utf-8")
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            content = str(httpx.QueryParams(fields)).encode("ascii")
        grant = fields["grant_type"]
        where = f"token endpoint {redact_url(url)} ({grant} grant, client {policy.client_id!r})"
        try:
            response = await self._client.post(url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise _failure(
                policy, f"{where} cannot be reached: {type(exc).__name__} {exc}"
            ) from exc
        if not 200 <= response.status_code <= 299:
            raise _failure(policy, f"{where} refused: {_refusal(response)}", refresh)
        return self._token(policy, where, response, refresh)

    @staticmethod
    def _authenticate_client(
        policy: OAuthPolicy, fields: dict[str, str], headers: dict[str, str]
    ) -> None:
        method, client_id, secret = policy.client_auth, policy.client_id, policy.client_secret
        if method == "client_secret_basic" and client_id is not None:
            # RFC 6749 §2.3.1: id and secret are form-encoded before the Basic encoding.
            pair = f"{quote_plus(client_id)}:{quote_plus(secret or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
            return
        if client_id is not None:
            fields["client_id"] = client_id
        if method == "client_secret_post" and secret is not None:
            fields["client_secret"] = secret
        elif method in ("client_secret_jwt", "private_key_jwt") and policy.client_assertion:
            fields["client_assertion_type"] = _ASSERTION_TYPE
            fields["client_assertion"] = policy.client_assertion

    def _token(
        self, policy: OAuthPolicy, where: str, response: httpx.Response, refresh: str | None
    ) -> Token:
        try:
            data = response.json()
        except ValueError as exc:
            raise _failure(policy, f"{where} did not answer JSON") from exc
        access = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(access, str) or not access:
            raise _failure(policy, f"{where} answered without an access_token")
        token_type = str(data.get("token_type") or "Bearer")
        lifetime = _lifetime(data.get("expires_in"))
        # Renew a little early, so a token does not expire between the check and its use.
        margin = min(30.0, lifetime / 10)
        new_refresh = data.get("refresh_token")
        return Token(
            access_token=access,
            token_type="Bearer" if token_type.lower() == "bearer" else token_type,
            expires_at=self._clock.monotonic() + lifetime - margin,
            refresh_token=new_refresh if isinstance(new_refresh, str) else refresh,
        )


def _lifetime(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return DEFAULT_LIFETIME
    return seconds if seconds > 0 else DEFAULT_LIFETIME


def _refusal(response: httpx.Response) -> str:
    text = f"{response.status_code} {response.reason_phrase}".strip()
    try:
        data = response.json()
    except ValueError:
        return f"{text}: {excerpt(response.text, 120)}" if response.content else text
    if isinstance(data, dict) and "error" in data:
        text += f" ({data['error']}"
        description = data.get("error_description")
        text += f": {excerpt(str(description), 120)})" if description else ")"
    return text


def _failure(policy: OAuthPolicy, detail: str, *extra: str | None) -> FaultError:
    # The server's own words may echo what we sent: mask every secret we hold.
    clean = scrub(detail, (*policy.secret_values(), *extra))
    return FaultError(
        Problem.of(
            "authentication", title="Authentication Failed", detail=f"{policy.kind}: {clean}"
        )
    )
