"""One HTTP call as ``call: http`` defines it: build, send, check the status, shape the output.

The engine evaluates every ``${}`` (and expands the URI template) first and passes plain values.

- Body: a map, list, number or boolean is sent as JSON; a string as UTF-8 text; bytes as they
  are; a map with a ``Content-Type: application/x-www-form-urlencoded`` header as a form.
- Query: entries are added to the URI's query, replacing same-named ones; a list repeats.
- Output: ``content`` is the body, parsed when its content type is JSON (``application/json``,
  ``*+json``), text otherwise, ``None`` when empty; ``response`` is ``{request: {method, uri,
  headers}, statusCode, headers, content}`` (credentials masked); ``raw`` is the body in base64.
- Status: 2xx succeeds; with ``redirect`` redirects are followed and 3xx succeeds too.

Failures come back as ``FaultError`` with a DSL problem: an unwanted status is ``communication``
carrying that status and its reason phrase as the title (the CTK's ``try`` scenarios match on
both); a body that claims JSON but is not is ``communication`` 502; a connection failure is
``communication`` 500, a timeout is ``timeout`` 408; a malformed call is ``configuration`` 400.
Details name the method and URL but never a credential.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

import httpx

from emitflow.errors import FaultError, Problem
from emitflow.http.auth import Authorization
from emitflow.http.redaction import excerpt, redact_headers, redact_url, scrub

__all__ = [
    "OUTPUTS",
    "build_request",
    "decode_content",
    "perform",
    "send",
    "shape",
    "status_problem",
]

OUTPUTS = ("content", "response", "raw")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FORM = "application/x-www-form-urlencoded"


async def perform(
    client: httpx.AsyncClient,
    *,
    method: str,
    uri: str,
    headers: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
    body: Any = None,
    output: str = "content",
    redirect: bool = False,
    auth: Authorization | None = None,
) -> Any:
    """Send one request and return its response shaped as ``output`` asks."""
    if output not in OUTPUTS:
        raise _configuration(f"output {output!r} is not one of {', '.join(OUTPUTS)}")
    request = build_request(
        client, method=method, uri=uri, headers=headers, query=query, body=body, auth=auth
    )
    response = await send(client, request, redirect=redirect, auth=auth)
    return shape(response, output, secrets=auth.secret_values() if auth else ())


def build_request(
    client: httpx.AsyncClient,
    *,
    method: str,
    uri: str,
    headers: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
    body: Any = None,
    auth: Authorization | None = None,
) -> httpx.Request:
    """The request a call describes; query entries replace same-named ones in ``uri``."""
    verb = method.upper() if isinstance(method, str) else ""
    if not _TOKEN.fullmatch(verb):
        raise _configuration(f"method {method!r} is not an HTTP method such as GET or POST")
    url = _absolute_url(uri)
    if query:
        url = url.copy_merge_params(_query_params(query))
    sent = _header_values(headers or {})
    if auth is not None:
        sent.update(auth.headers())
    content = _encode_body(body, sent)
    return client.build_request(verb, url, headers=sent, content=content)


async def send(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    redirect: bool = False,
    auth: Authorization | None = None,
) -> httpx.Response:
    """Send ``request`` and read the body; failures and unwanted statuses raise ``FaultError``."""
    where = f"{request.method} {redact_url(request.url)}"
    secrets = (*_flat(request.url.password), *(auth.secret_values() if auth else ()))
    try:
        response = await client.send(
            request,
            auth=auth.httpx_auth() if auth is not None else None,
            follow_redirects=redirect,
        )
    except httpx.TimeoutException as exc:
        raise FaultError(
            Problem.of(
                "timeout", title="Timeout", detail=f"{where}: no answer in time ({_why(exc)})"
            )
        ) from exc
    except httpx.HTTPError as exc:
        reason = scrub(_why(exc), secrets)
        raise FaultError(
            Problem.of("communication", title="Communication Error", detail=f"{where}: {reason}")
        ) from exc
    highest = 399 if redirect else 299
    if not 200 <= response.status_code <= highest:
        raise FaultError(status_problem(response, secrets=secrets))
    return response


def status_problem(response: httpx.Response, *, secrets: Iterable[str] = ()) -> Problem:
    """The ``communication`` problem for an unwanted status: that status, its reason phrase.

    The detail quotes the start of the body, which may echo credentials: ``secrets`` are masked.
    """
    status = response.status_code
    reason = response.reason_phrase or _phrase(status)
    request = response.request
    detail = f"{request.method} {redact_url(request.url)} answered {status} {reason}"
    if response.content:
        detail += f": {excerpt(scrub(response.text, secrets))}"
    return Problem.of("communication", status=status, title=reason, detail=detail)


def shape(response: httpx.Response, output: str, *, secrets: Iterable[str] = ()) -> Any:
    """The call's output: ``content``, the ``response`` object, or the ``raw`` body in base64."""
    if output == "raw":
        return base64.b64encode(response.content).decode("ascii")
    content = decode_content(response, secrets=secrets)
    if output == "content":
        return content
    request = response.request
    return {
        "request": {
            "method": request.method,
            "uri": redact_url(request.url),
            "headers": redact_headers(request.headers),
        },
        "statusCode": response.status_code,
        "headers": dict(response.headers.items()),
        "content": content,
    }


def decode_content(response: httpx.Response, *, secrets: Iterable[str] = ()) -> Any:
    """The body: parsed when its content type is JSON, text otherwise, ``None`` when empty."""
    if not response.content:
        return None
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if not _is_json(media_type):
        return response.text
    try:
        return json.loads(response.content)
    except ValueError as exc:
        request = response.request
        raise FaultError(
            Problem.of(
                "communication",
                status=502,
                title="Invalid JSON Response",
                detail=(
                    f"{request.method} {redact_url(request.url)} answered {media_type} but the "
                    f"body is not JSON ({exc}): {excerpt(scrub(response.text, secrets), 80)}"
                ),
            )
        ) from exc


def _is_json(media_type: str) -> bool:
    return media_type in ("application/json", "text/json") or media_type.endswith("+json")


def _absolute_url(uri: str) -> httpx.URL:
    try:
        url = httpx.URL(uri)
    except (httpx.InvalidURL, TypeError) as exc:
        raise _configuration(
            f"endpoint {redact_url(str(uri))!r} is not a valid URL ({exc})"
        ) from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise _configuration(
            f"endpoint {redact_url(url)!r} is not an absolute http:// or https:// URL"
        )
    return url


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def _header_values(headers: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(headers, Mapping):
        raise _configuration("headers must be a map of names to values")
    out: dict[str, str] = {}
    for name, value in headers.items():
        if value is None:
            continue
        text = _scalar_text(value)
        if text is None or not isinstance(name, str):
            raise _configuration(f"header {name!r} must be a string, number or boolean")
        out[name] = text
    return out


def _query_params(query: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    if not isinstance(query, Mapping):
        raise _configuration("query must be a map of names to values")
    params: list[tuple[str, str]] = []
    for name, value in query.items():
        # A list repeats the parameter (?tag=a&tag=b), the common server-side reading.
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is None:
                continue
            text = _scalar_text(item)
            if text is None:
                raise _configuration(
                    f"query parameter {name!r} must be a string, number, boolean or a list of them"
                )
            params.append((str(name), text))
    return tuple(params)


def _encode_body(body: Any, headers: dict[str, str]) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    if isinstance(body, str):
        if content_type is None:
            headers["Content-Type"] = "text/plain; charset=utf-8"
        return body.encode("utf-8")
    if content_type is not None and content_type.split(";")[0].strip().lower() == _FORM:
        if not isinstance(body, Mapping):
            raise _configuration(f"a {_FORM} body must be a map of names to values")
        return str(httpx.QueryParams(_query_params(body))).encode("ascii")
    if content_type is None:
        headers["Content-Type"] = "application/json"
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise _configuration(f"the body cannot be written as JSON ({exc})") from exc


def _flat(value: str | None) -> tuple[str, ...]:
    return (value,) if value else ()


def _why(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({text or type(exc).__name__})"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _configuration(detail: str) -> FaultError:
    return FaultError(Problem.of("configuration", title="Invalid HTTP Call", detail=detail))
