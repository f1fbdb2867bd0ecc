"""Routes: signing in with an API token (an HTML form, no JavaScript needed) and out."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from emitflow.api.auth import TokenVerifier
from emitflow.ui.render import page
from emitflow.ui.session import COOKIE, TTL, CsrfRefused, Sessions

__all__ = ["router", "signin_url"]

router = APIRouter()


def signin_url(target: str) -> str:
    """The sign-in page that comes back to ``target``."""
    return "/ui/signin?" + urlencode({"next": target})


def _safe_next(target: str | None) -> str:
    # Only paths of this app: never an absolute URL or a scheme-relative one.
    if not target or not target.startswith("/ui") or target.startswith("//"):
        return "/ui"
    return target


@router.get("/ui/signin")
async def signin_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return page(request, "signin.html", None, next=_safe_next(next), problem=None)


@router.post("/ui/signin")
async def signin(
    request: Request,
    token: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/ui",
) -> Response:
    """Check the token; on success set the session cookie and go on to ``next``."""
    verifier: TokenVerifier = request.app.state.tokens
    principal = await verifier.verify(token.strip()) if token.strip() else None
    if principal is None:
        return page(
            request,
            "signin.html",
            None,
            status_code=401,
            next=_safe_next(next),
            problem="That token is not valid: paste an API token (efk_…) made by emitflow.",
        )
    sessions: Sessions = request.app.state.ui_sessions
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        sessions.start(principal),
        max_age=int(TTL),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/ui/signout")
async def signout(request: Request) -> Response:
    """End the session (its form carries the CSRF token like every other)."""
    sessions: Sessions = request.app.state.ui_sessions
    session = sessions.find(request.cookies.get(COOKIE))
    if session is not None:
        form = await request.form()
        sent = form.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf):
            raise CsrfRefused()
    sessions.end(request.cookies.get(COOKIE))
    response = RedirectResponse("/ui/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
