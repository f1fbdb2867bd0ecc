"""Sign-in sessions of the inspector: an API token checked once, then an opaque cookie.

The token is verified by the app's ``TokenVerifier`` (the same as the API's bearer check) and is
never stored, echoed or put in the cookie: the cookie holds a random session id, HTTP-only and
SameSite=Strict, and the server keeps only that id's SHA-256 digest with the token's principal
and the session's CSRF token. Sessions live in the serving process and end after ``TTL``.
Every form carries the CSRF token (field ``csrf``; header ``X-CSRF-Token`` for scripts), and a
read-only token's session sees pages but may post nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from fastapi import Request

from emitflow.api.auth import Principal, Scope

__all__ = [
    "COOKIE",
    "TTL",
    "CsrfRefused",
    "ReadOnly",
    "Session",
    "Sessions",
    "SignInRequired",
    "current_session",
    "writer_session",
]

COOKIE = "emitflow_session"
TTL = 12 * 3600.0


class SignInRequired(Exception):
    """A page asked for without a live session: answered with a redirect to the sign-in."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


class CsrfRefused(Exception):
    """A form posted without the session's CSRF token: answered with 403."""


class ReadOnly(Exception):
    """A form posted by a session whose token may only read: answered with 403."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A signed-in browser: who (the token's id and scopes) and its CSRF token."""

    principal: Principal
    csrf: str
    expires: float

    @property
    def can_write(self) -> bool:
        """Whether the token may change things (deploy, subscribe, replay)."""
        return self.principal.allows(Scope.ADMIN)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class Sessions:
    """The live sessions of this process, by the digest of their cookie."""

    def __init__(self, ttl: float = TTL) -> None:
        self._ttl = ttl
        self._live: dict[str, Session] = {}

    def start(self, principal: Principal) -> str:
        """A new session for a verified principal; the cookie value to set."""
        self._sweep()
        session_id = secrets.token_urlsafe(32)
        self._live[_digest(session_id)] = Session(
            principal=principal,
            csrf=secrets.token_urlsafe(24),
            expires=time.monotonic() + self._ttl,
        )
        return session_id

    def find(self, session_id: str | None) -> Session | None:
        """The live session of a cookie value, or None."""
        if not session_id:
            return None
        session = self._live.get(_digest(session_id))
        if session is None or session.expires < time.monotonic():
            return None
        return session

    def end(self, session_id: str | None) -> None:
        """Sign a cookie's session out."""
        if session_id:
            self._live.pop(_digest(session_id), None)

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, s in self._live.items() if s.expires < now]:
            del self._live[key]


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.ui_sessions
    return sessions


def current_session(request: Request) -> Session:
    """The request's session, or a redirect to the sign-in page (then back here)."""
    session = _sessions(request).find(request.cookies.get(COOKIE))
    if session is None:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        raise SignInRequired(target)
    return session


async def writer_session(request: Request) -> Session:
    """The session of a form post: signed in, allowed to write, with the CSRF token."""
    session = current_session(request)
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfRefused()
    if not session.can_write:
        raise ReadOnly()
    return session
