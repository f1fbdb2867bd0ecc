"""The stand-in server and a routed client for the HTTP integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from emitflow.http.openapi import DocumentCache
from emitflow.http.routes import Routes, make_client
from tests.standins.fixtures import ctk_routes, petstore, petstore_url

__all__ = ["client", "ctk_routes", "documents", "petstore", "petstore_url"]


@pytest.fixture
async def client(ctk_routes: Routes) -> AsyncIterator[httpx.AsyncClient]:
    """The engine's client, with the conformance kit's origins routed to the stand-in."""
    async with make_client(ctk_routes, timeout=10.0) as routed:
        yield routed


@pytest.fixture
def documents() -> DocumentCache:
    """A fresh document cache, so each test really loads its documents."""
    return DocumentCache()
