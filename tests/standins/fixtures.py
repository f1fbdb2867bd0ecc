"""Session fixtures for the stand-ins; import them into a ``conftest.py`` to use them.

    from tests.standins.fixtures import ctk_routes, petstore, petstore_url

    __all__ = ["ctk_routes", "petstore", "petstore_url"]

The server starts on first use only, so tests that do not need it do not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette

from emitflow.http.routes import Routes
from tests.standins.oauth import OAuthServer
from tests.standins.petstore import create_app
from tests.standins.server import serve

__all__ = ["CTK_ORIGINS", "StandIn", "ctk_routes", "petstore", "petstore_url"]

#: The origins the conformance kit calls, all served by the one stand-in.
CTK_ORIGINS = ("https://petstore.swagger.io", "https://httpbin.org")


@dataclass(frozen=True, slots=True)
class StandIn:
    """A running stand-in: its base URL and its app (whose state tests may inspect)."""

    url: str
    app: Starlette

    @property
    def oauth(self) -> OAuthServer:
        """The OAuth2 server's state (token requests per client, issued tokens)."""
        server: OAuthServer = self.app.state.oauth
        return server


@pytest.fixture(scope="session")
def petstore() -> Iterator[StandIn]:
    """The petstore/httpbin/OAuth2 stand-in, running on loopback for the session."""
    app = create_app()
    with serve(app) as url:
        yield StandIn(url=url, app=app)


@pytest.fixture(scope="session")
def petstore_url(petstore: StandIn) -> str:
    """The stand-in's base URL, e.g. ``http://127.0.0.1:54321``."""
    return petstore.url


@pytest.fixture(scope="session")
def ctk_routes(petstore_url: str) -> Routes:
    """Routes sending petstore.swagger.io and httpbin.org to the stand-in."""
    return Routes.parse([f"{origin}={petstore_url}" for origin in CTK_ORIGINS])
