"""Routes: send requests for one origin to another server, keeping path and query.

``--route https://petstore.swagger.io=http://127.0.0.1:8081`` is how workflows meet local
stand-ins and how the conformance kit runs offline. Routing happens in the transport, under the
client, so everything above it (the call's ``request.uri``, relative redirects, digest
challenges) still sees the URL the workflow asked for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NoReturn

import httpx

from emitflow import __version__
from emitflow.errors import ConfigurationError

__all__ = ["ENV_VAR", "Route", "Routes", "RoutingTransport", "make_client"]

log = logging.getLogger(__name__)

ENV_VAR = "EMITFLOW_ROUTES"
_EXAMPLE = "https://petstore.swagger.io=http://127.0.0.1:8081"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """One ``ORIGIN=TARGET`` rule; ``prefix`` is the target's path, put before the request's."""

    scheme: str
    host: str
    port: int
    target: httpx.URL
    prefix: str = ""

    @property
    def origin(self) -> str:
        """The origin this route matches, as ``scheme://host[:port]``."""
        default = _DEFAULT_PORTS[self.scheme] == self.port
        return f"{self.scheme}://{self.host}" + ("" if default else f":{self.port}")

    def __str__(self) -> str:
        return f"{self.origin}={self.target}"


@dataclass(frozen=True, slots=True)
class Routes:
    """An immutable set of routes, at most one per origin."""

    entries: tuple[Route, ...] = ()

    @classmethod
    def parse(cls, specs: str | Iterable[str], *, source: str = "--route") -> Routes:
        """Routes from ``ORIGIN=TARGET`` strings (a single string may be comma-separated)."""
        items = specs.split(",") if isinstance(specs, str) else specs
        routes = cls()
        for item in items:
            if item.strip():
                routes = routes.merged(cls((_parse_route(item.strip(), source),)))
        return routes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Routes:
        """Routes from ``EMITFLOW_ROUTES`` (comma-separated); none when it is unset."""
        env = os.environ if environ is None else environ
        return cls.parse(env.get(ENV_VAR, ""), source=ENV_VAR)

    def merged(self, other: Routes) -> Routes:
        """These routes plus ``other``'s; ``other`` wins for an origin both have."""
        taken = {_key(r) for r in other.entries}
        return Routes(tuple(r for r in self.entries if _key(r) not in taken) + other.entries)

    def resolve(self, url: httpx.URL | str) -> httpx.URL | None:
        """Where a request for ``url`` goes instead, or ``None`` when no route matches."""
        url = httpx.URL(url)
        if url.scheme not in _DEFAULT_PORTS:
            return None
        key = (url.scheme, url.host, url.port or _DEFAULT_PORTS[url.scheme])
        for route in self.entries:
            if _key(route) == key:
                raw_path = route.prefix.encode("ascii") + url.raw_path
                return url.copy_with(
                    scheme=route.target.scheme,
                    host=route.target.host,
                    port=route.target.port,
                    raw_path=raw_path,
                )
        return None

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Route]:
        return iter(self.entries)


def _key(route: Route) -> tuple[str, str, int]:
    return (route.scheme, route.host, route.port)


def _parse_route(entry: str, source: str) -> Route:
    origin_text, sep, target_text = entry.partition("=")
    if not sep or not origin_text.strip() or not target_text.strip():
        _refuse(entry, source, "it is not ORIGIN=TARGET")
    origin = _absolute(entry, source, "ORIGIN", origin_text.strip())
    target = _absolute(entry, source, "TARGET", target_text.strip())
    if origin.path not in ("", "/"):
        _refuse(entry, source, f"ORIGIN has a path ({origin.path}); give scheme://host[:port] only")
    return Route(
        scheme=origin.scheme,
        host=origin.host,
        port=origin.port or _DEFAULT_PORTS[origin.scheme],
        target=target,
        prefix=target.raw_path.decode("ascii").rstrip("/"),
    )


def _absolute(entry: str, source: str, role: str, text: str) -> httpx.URL:
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        _refuse(entry, source, f"{role} {text!r} is not a URL ({exc})")
    if url.scheme not in _DEFAULT_PORTS or not url.host:
        _refuse(entry, source, f"{role} {text!r} is not an absolute http:// or https:// URL")
    if url.query or url.fragment or url.userinfo:
        _refuse(entry, source, f"{role} {text!r} may not carry a query, fragment or user info")
    return url


def _refuse(entry: str, source: str, reason: str) -> NoReturn:
    raise ConfigurationError(f"{source}: route {entry!r}: {reason}; write it as {_EXAMPLE}")


class RoutingTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends requests for routed origins to their targets."""

    def __init__(self, routes: Routes, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.routes = routes
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``, to its route's target when its origin is routed."""
        target = self.routes.resolve(request.url) if self.routes else None
        if target is None:
            return await self._inner.handle_async_request(request)
        headers = request.headers.copy()
        # The target sees a plain request for itself: its own Host, and no X-Forwarded-*
        # headers, which proxy-aware servers (uvicorn trusts them from loopback) would mix
        # with that Host into URLs that exist nowhere (https://127.0.0.1:8081/…).
        headers["Host"] = target.netloc.decode("ascii")
        routed = httpx.Request(
            request.method,
            target,
            headers=headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        log.debug("routing %s %s to %s", request.method, request.url.host, target.host)
        return await self._inner.handle_async_request(routed)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()


def make_client(
    routes: Routes | None = None,
    *,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The client for every outgoing request of the engine, routed by ``routes``.

    Redirects are off by default (a call opts in); proxy settings from the environment are not
    read, because the routing transport replaces httpx's default one.
    """
    return httpx.AsyncClient(
        transport=RoutingTransport(routes or Routes(), transport),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": f"emitflow/{__version__}"},
    )
