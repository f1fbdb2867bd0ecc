"""An ``oauth2`` or ``oidc`` authentication policy, read and checked from its plain-dict form.

Messages name the field that is wrong and what would be right, never a value: these fields
hold secrets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from emitflow.errors import FaultError, Problem

__all__ = ["CLIENT_AUTHENTICATIONS", "GRANTS", "TOKEN_EXCHANGE", "OAuthPolicy"]

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
GRANTS = ("client_credentials", "password", TOKEN_EXCHANGE)
CLIENT_AUTHENTICATIONS = (
    "client_secret_post",
    "client_secret_basic",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
)
_ENCODINGS = {
    "form": "form",
    "application/x-www-form-urlencoded": "form",
    "json": "json",
    "application/json": "json",
}
_REFUSED_GRANTS = {
    "authorization_code": "it needs a person at a browser, which a workflow does not have",
    "refresh_token": (
        "the DSL has no field for the refresh token; emitflow renews cached tokens "
        "with their refresh token by itself"
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthPolicy:
    """What is needed to request a token; secret fields stay out of ``repr``."""

    kind: str
    authority: str
    grant: str
    token_endpoint: str = "/oauth2/token"
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    client_assertion: str | None = field(default=None, repr=False)
    client_auth: str = "client_secret_post"
    encoding: str = "form"
    scopes: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    subject: tuple[str, str] | None = field(default=None, repr=False)
    actor: tuple[str, str] | None = field(default=None, repr=False)

    @classmethod
    def from_mapping(cls, kind: str, body: Mapping[str, Any]) -> OAuthPolicy:
        """Read and check a policy body (``kind`` is ``oauth2`` or ``oidc``)."""
        read = _Reader(kind, body)
        grant = read.string("grant", required=True) or ""
        if grant in _REFUSED_GRANTS:
            raise read.error(f"the {grant} grant is not supported: {_REFUSED_GRANTS[grant]}")
        if grant not in GRANTS:
            raise read.error(f"grant must be one of {', '.join(GRANTS)}")
        client = read.section("client")
        client_auth = client.string("authentication") or "client_secret_post"
        if client_auth not in CLIENT_AUTHENTICATIONS:
            raise read.error(
                f"client.authentication must be one of {', '.join(CLIENT_AUTHENTICATIONS)}"
            )
        encoding = read.section("request").string("encoding") or "form"
        if encoding not in _ENCODINGS:
            raise read.error("request.encoding must be form or json")
        policy = cls(
            kind=kind,
            authority=_authority(read),
            grant=grant,
            token_endpoint=read.section("endpoints").string("token") or "/oauth2/token",
            client_id=client.string("id"),
            client_secret=client.string("secret"),
            client_assertion=client.string("assertion"),
            client_auth=client_auth,
            encoding=_ENCODINGS[encoding],
            scopes=read.strings("scopes"),
            audiences=read.strings("audiences"),
            username=read.string("username", required=grant == "password"),
            password=read.string("password", required=grant == "password"),
            subject=read.token("subject", required=grant == TOKEN_EXCHANGE),
            actor=read.token("actor"),
        )
        policy._check_client(read)
        return policy

    def _check_client(self, read: _Reader) -> None:
        if self.client_auth in ("client_secret_post", "client_secret_basic"):
            if self.client_id is not None and self.client_secret is None:
                raise read.error(f"client.secret is needed for {self.client_auth}")
        elif self.client_auth != "none" and not self.client_assertion:
            raise read.error(
                f"{self.client_auth} needs client.assertion (a signed JWT); emitflow does not "
                "sign assertions itself"
            )

    def token_url(self) -> str:
        """The token endpoint: ``endpoints.token`` appended to the authority unless absolute."""
        if httpx.URL(self.token_endpoint).is_absolute_url:
            return self.token_endpoint
        return self.authority.rstrip("/") + "/" + self.token_endpoint.lstrip("/")

    def grant_fields(self) -> dict[str, str]:
        """The form fields of the grant itself (client authentication is added elsewhere)."""
        fields = {"grant_type": self.grant}
        if self.grant == "password":
            fields.update(username=self.username or "", password=self.password or "")
        if self.subject is not None:
            fields.update(subject_token=self.subject[0], subject_token_type=self.subject[1])
        if self.actor is not None:
            fields.update(actor_token=self.actor[0], actor_token_type=self.actor[1])
        return fields

    def scope_fields(self) -> dict[str, str]:
        """``scope`` and ``audience``, space-separated, when there are any."""
        fields = {}
        if self.scopes:
            fields["scope"] = " ".join(self.scopes)
        if self.audiences:
            fields["audience"] = " ".join(self.audiences)
        return fields

    def secret_values(self) -> tuple[str, ...]:
        """Every secret this policy holds, for masking."""
        tokens = [t[0] for t in (self.subject, self.actor) if t is not None]
        values = (self.client_secret, self.client_assertion, self.password, *tokens)
        return tuple(v for v in values if v)

    def cache_key(self) -> tuple[Any, ...]:
        """What makes two policies share a token (secrets only as digests)."""
        subject = hashlib.sha256(self.subject[0].encode()).hexdigest() if self.subject else None
        return (
            self.kind,
            self.authority.rstrip("/"),
            self.token_endpoint if self.kind == "oauth2" else None,
            self.client_id,
            self.grant,
            self.username,
            subject,
            self.scopes,
            self.audiences,
        )


def _authority(read: _Reader) -> str:
    authority = read.string("authority", required=True) or ""
    try:
        url = httpx.URL(authority)
    except httpx.InvalidURL:
        url = httpx.URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise read.error("authority must be an absolute http:// or https:// URL")
    return authority


class _Reader:
    """Typed reads from one policy section, with errors that name the field."""

    def __init__(self, kind: str, body: Any, prefix: str = "") -> None:
        self.kind = kind
        self.body: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
        self.prefix = prefix
        if body is not None and not isinstance(body, Mapping):
            raise self.error(f"{prefix.rstrip('.') or kind} must be an object")

    def error(self, detail: str) -> FaultError:
        return FaultError(
            Problem.of(
                "configuration",
                title="Invalid Authentication Policy",
                detail=f"{self.kind} authentication: {detail}",
            )
        )

    def section(self, name: str) -> _Reader:
        return _Reader(self.kind, self.body.get(name), f"{self.prefix}{name}.")

    def string(self, name: str, *, required: bool = False) -> str | None:
        value = self.body.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value):
            raise self.error(f"{self.prefix}{name} must be a non-empty string")
        return value

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.body.get(name)
        if value is None:
            return ()
        if isinstance(value, str):
            return tuple(value.split())
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{self.prefix}{name} must be a list of strings")
        return tuple(value)

    def token(self, name: str, *, required: bool = False) -> tuple[str, str] | None:
        if self.body.get(name) is None and not required:
            return None
        section = self.section(name)
        return (
            section.string("token", required=True) or "",
            section.string("type", required=True) or "",
        )
