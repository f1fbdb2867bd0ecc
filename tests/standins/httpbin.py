"""The httpbin.org routes the tests use: auth checks, echo, statuses, redirects, odd bodies.

Shapes follow httpbin where it has the route (``/basic-auth/{user}/{passwd}`` answers
``{"authenticated": true, "user": …}``, ``/digest-auth/auth/{user}/{passwd}`` runs an MD5
``qop=auth`` challenge); ``/json-lie`` and ``/delay`` exist for the failure paths.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import parse_qsl
from urllib.request import parse_http_list, parse_keqv_list

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = ["DIGEST_REALM", "routes"]

DIGEST_REALM = "emitflow-standin"
_ANY = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_nonces: set[str] = set()


def routes() -> list[BaseRoute]:
    """The httpbin-like routes."""
    return [
        Route("/basic-auth/{user}/{passwd}", _basic_auth),
        Route("/bearer", _bearer),
        Route("/digest-auth/{qop}/{user}/{passwd}", _digest_auth),
        Route("/anything", _anything, methods=_ANY),
        Route("/anything/{rest:path}", _anything, methods=_ANY),
        Route("/status/{code:int}", _status, methods=_ANY),
        Route("/redirect-to", _redirect_to),
        Route("/bytes/{n:int}", _bytes),
        Route("/html", _html),
        Route("/json-lie", _json_lie),
        Route("/empty", _empty, methods=_ANY),
        Route("/delay/{seconds:float}", _delay),
    ]


def _unauthorized(challenge: str) -> Response:
    return JSONResponse({"authenticated": False}, 401, headers={"WWW-Authenticate": challenge})


async def _basic_auth(request: Request) -> Response:
    user, passwd = request.path_params["user"], request.path_params["passwd"]
    scheme, _, param = request.headers.get("authorization", "").partition(" ")
    try:
        given = base64.b64decode(param, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        given = ""
    if scheme.lower() != "basic" or given != f"{user}:{passwd}":
        return _unauthorized('Basic realm="Fake Realm"')
    return JSONResponse({"authenticated": True, "user": user})


async def _bearer(request: Request) -> Response:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return _unauthorized("Bearer")
    return JSONResponse({"authenticated": True, "token": token})


async def _digest_auth(request: Request) -> Response:
    user, passwd = request.path_params["user"], request.path_params["passwd"]
    scheme, _, rest = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "digest" and _digest_matches(request.method, rest, user, passwd):
        return JSONResponse({"authenticated": True, "user": user})
    nonce = secrets.token_hex(16)
    _nonces.add(nonce)
    return _unauthorized(
        f'Digest realm="{DIGEST_REALM}", qop="auth", nonce="{nonce}", '
        f'opaque="{secrets.token_hex(8)}", algorithm=MD5'
    )


def _digest_matches(method: str, header: str, user: str, passwd: str) -> bool:
    fields = parse_keqv_list(parse_http_list(header))
    if fields.get("username") != user or fields.get("nonce") not in _nonces:
        return False

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"{user}:{DIGEST_REALM}:{passwd}")
    ha2 = md5(f"{method}:{fields.get('uri', '')}")
    parts = [ha1, fields["nonce"], fields.get("nc", ""), fields.get("cnonce", ""), "auth", ha2]
    return fields.get("response") == md5(":".join(parts))


async def _anything(request: Request) -> Response:
    body = await request.body()
    parsed: Any = None
    if request.headers.get("content-type", "").startswith("application/json") and body:
        parsed = json.loads(body)
    form: dict[str, Any] = {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(body.decode("ascii")))
    return JSONResponse(
        {
            "method": request.method,
            "url": str(request.url),
            "path": request.url.path,
            "args": [[k, v] for k, v in request.query_params.multi_items()],
            "headers": dict(request.headers),
            "json": parsed,
            "form": form,
            "data": body.decode("utf-8", "replace"),
        }
    )


async def _status(request: Request) -> Response:
    return PlainTextResponse(f"status {request.path_params['code']}", request.path_params["code"])


async def _redirect_to(request: Request) -> Response:
    status = int(request.query_params.get("status_code", "302"))
    return RedirectResponse(request.query_params["url"], status_code=status)


async def _bytes(request: Request) -> Response:
    data = bytes(range(256))[: request.path_params["n"]]
    return Response(data, media_type="application/octet-stream")


async def _html(request: Request) -> Response:
    return Response("<html><body>Hello</body></html>", media_type="text/html")


async def _json_lie(request: Request) -> Response:
    # Claims JSON, sends an HTML error page: what a misconfigured proxy does.
    return Response("<html>502 Bad Gateway</html>", media_type="application/json")


async def _empty(request: Request) -> Response:
    return Response(status_code=204)


async def _delay(request: Request) -> Response:
    # The server waits, not the test: it is how a client timeout is provoked. It stops
    # waiting when the client hangs up, so the server can shut down at once afterwards.
    seconds = request.path_params["seconds"]
    try:
        await asyncio.wait_for(_hang_up(request), timeout=seconds)
    except TimeoutError:
        return JSONResponse({"delayed": seconds})
    return Response(status_code=499)


async def _hang_up(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        continue
