"""What route handlers get from the app: the engine, the settings, a capped page size.

Every dependency is ``async def``: FastAPI runs a plain ``def`` one in its thread pool, a
hand-off per request that cost the ingest route a fifth of its time.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from emitflow.api.settings import ApiSettings
from emitflow.runtime.engine import Engine

__all__ = ["EngineDep", "PageLimit", "SettingsDep", "get_engine", "get_settings", "page_limit"]


async def get_engine(request: Request) -> Engine:
    """The engine the app serves."""
    engine: Engine = request.app.state.engine
    return engine


async def get_settings(request: Request) -> ApiSettings:
    """The app's settings."""
    settings: ApiSettings = request.app.state.settings
    return settings


async def page_limit(
    request: Request,
    limit: Annotated[
        int, Query(ge=1, description="Page size; values above 100 count as 100.")
    ] = 10,
) -> int:
    """The ``limit`` query parameter, lowered to ``max_page_limit``."""
    settings: ApiSettings = request.app.state.settings
    return min(limit, settings.max_page_limit)


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
PageLimit = Annotated[int, Depends(page_limit)]
