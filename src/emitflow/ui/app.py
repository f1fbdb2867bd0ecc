"""``install_ui``: the inspector's pages, assets and sign-in on the API app.

Everything is under ``/ui`` (and ``/`` redirects there); assets are files of this package served
by the app itself (no CDN, no external fonts). A page asked for without a session redirects to
the sign-in page; a form posted without the session's CSRF token, or by a read-only token, is
refused with 403.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from emitflow.ui import pages_events, pages_runs, pages_subscriptions, pages_workflows, signin
from emitflow.ui.render import page
from emitflow.ui.session import CsrfRefused, ReadOnly, Sessions, SignInRequired

__all__ = ["install_ui"]

_STATIC = Path(__file__).resolve().parent / "static"
_ROUTERS = (signin, pages_workflows, pages_runs, pages_events, pages_subscriptions)


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    target = exc.target if isinstance(exc, SignInRequired) else "/ui"
    return RedirectResponse(signin.signin_url(target), status_code=303)


async def _refused(request: Request, exc: Exception) -> Response:
    if isinstance(exc, CsrfRefused):
        message = "This form was sent without its CSRF token (reload the page and send it again)."
    else:
        message = "Your token may only read: sign in with an admin token to change things."
    return page(request, "error.html", None, status_code=403, title="Refused", message=message)


async def _home() -> Response:
    return RedirectResponse("/ui", status_code=307)


def install_ui(app: FastAPI) -> None:
    """Serve the inspector on ``app`` (whose ``state.engine`` and ``state.tokens`` it uses)."""
    app.state.ui_sessions = Sessions()
    app.state.ui_replays = {}  # bulk replay id -> the new runs' ids, for its progress page
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(CsrfRefused, _refused)
    app.add_exception_handler(ReadOnly, _refused)
    app.mount("/ui/static", StaticFiles(directory=_STATIC), name="ui-static")
    app.add_api_route("/", _home, include_in_schema=False, response_class=HTMLResponse)
    for module in _ROUTERS:
        app.include_router(module.router, include_in_schema=False)
