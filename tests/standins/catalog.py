"""A function catalog stand-in: serves ``tests/standins/documents/catalog`` as raw files.

It answers for any ``<prefix>/functions/<name>/<version>/function.yaml`` path, so the same app
stands in for ``raw.githubusercontent.com/<owner>/<repo>/refs/heads/<branch>/…`` and for a
catalog served at its own root; it counts the requests per path (to see what is cached).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

__all__ = ["CATALOG", "create_app"]

CATALOG = Path(__file__).parent / "documents" / "catalog"


def create_app() -> Starlette:
    """The catalog app; ``app.state.hits`` counts requests by path."""
    hits: Counter[str] = Counter()

    async def document(request: Request) -> Response:
        path = request.url.path
        hits[path] += 1
        relative = path[path.find("/functions/") + 1 :] if "/functions/" in path else ""
        file = (CATALOG / relative).resolve()
        if not relative or CATALOG not in file.parents or not file.is_file():
            return PlainTextResponse("404: Not Found", status_code=404)
        return PlainTextResponse(file.read_text(encoding="utf-8"))

    app = Starlette(routes=[Route("/{path:path}", document)])
    app.state.hits = hits
    return app
