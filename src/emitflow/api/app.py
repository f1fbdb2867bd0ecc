"""``create_app``: the REST API of an open ``Engine`` as an ASGI app (FastAPI).

The app does not own the engine: whoever opens the engine (``emitflow serve``, a test) closes it.
Every route module is one resource with its own ``router``; ``/openapi.json`` describes them all.
"""

from __future__ import annotations

from fastapi import FastAPI

from emitflow import __version__
from emitflow.api import (
    destinations,
    events,
    hooks,
    replay,
    runs,
    secrets,
    stream,
    subscriptions,
    summaries,
    tokens,
    webhooks,
    workflows,
)
from emitflow.api.auth import TokenVerifier
from emitflow.api.credentials import StoreTokenVerifier
from emitflow.api.errors import install_error_handlers
from emitflow.api.limits import BodyLimit
from emitflow.api.openapi import install_openapi
from emitflow.api.settings import ApiSettings
from emitflow.runtime.engine import Engine

__all__ = ["create_app"]

# Routes are matched in this order: the busiest paths (ingest, hooks) first. No two routers
# serve the same path, so the order changes nothing else.
_ROUTERS = (
    events,
    hooks,
    workflows,
    runs,
    replay,
    subscriptions,
    summaries,
    stream,
    webhooks,
    destinations,
    tokens,
    secrets,
)


def create_app(
    engine: Engine, settings: ApiSettings | None = None, *, tokens: TokenVerifier | None = None
) -> FastAPI:
    """The API serving ``engine`` (already open) with ``settings``."""
    settings = settings or ApiSettings()
    app = FastAPI(
        title="emitflow",
        version=__version__,
        summary="Event-driven workflows: deploy, run, subscribe, and read their CloudEvents.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.tokens = tokens or StoreTokenVerifier(
        engine, settings.admin_token, clock=engine.settings.clock
    )
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    for module in _ROUTERS:
        app.include_router(module.router)
    # Imported here: the inspector's pages import the API's dependencies (``api.deps``).
    from emitflow.ui import install_ui

    install_ui(app)
    return app
