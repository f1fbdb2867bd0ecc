"""A stand-in for petstore.swagger.io (and, in the same app, httpbin.org and an OAuth2 server).

It answers what the conformance kit asks of the real services: the Swagger 2.0 document at
``/v2/swagger.json``, ``findPetsByStatus``, ``getPetById`` (404 JSON for unknown pets and for
any other ``/v2`` path, so ``/v2/pet/getPetByName/Milou`` is "404 Not Found"), plus an
OpenAPI 3 twin under ``/v3``. ``create_app()`` mounts the httpbin-like and OAuth2 routes too, so
one server can stand in for every origin the kit calls.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.standins import httpbin, oauth

__all__ = ["DOCUMENTS", "PETS", "create_app"]

DOCUMENTS = Path(__file__).resolve().parent / "documents"

PETS: tuple[dict[str, Any], ...] = (
    {"id": 1, "name": "doggie", "status": "available", "photoUrls": [], "tags": []},
    {"id": 2, "name": "Rex", "status": "available", "photoUrls": [], "tags": []},
    {"id": 3, "name": "Tom", "status": "pending", "photoUrls": [], "tags": []},
    {"id": 4, "name": "Felix", "status": "sold", "photoUrls": [], "tags": []},
)


def create_app() -> Starlette:
    """The stand-in app: petstore v2/v3, httpbin-like routes, an OAuth2/OIDC server."""
    server = oauth.OAuthServer()
    app = Starlette(routes=[*_petstore_routes(), *httpbin.routes(), *server.routes()])
    app.state.oauth = server
    return app


def _petstore_routes() -> list[BaseRoute]:
    return [
        Route("/v2/swagger.json", _document("petstore-v2.json", "application/json")),
        Route("/v2/pet/findByStatus", _find_by_status),
        Route("/v2/pet/{pet_id}", _get_pet),
        Route("/v2/{rest:path}", _not_found),
        Route("/v3/openapi.yaml", _document("petstore-v3.yaml", "application/yaml")),
        Route("/v3/pet", _add_pet, methods=["POST"]),
        Route("/v3/pet/findByStatus", _find_by_status),
        Route("/v3/pet/{pet_id}", _get_pet),
        Route("/v3/echo/{id}", _echo),
    ]


def _document(name: str, media_type: str) -> Any:
    async def endpoint(request: Request) -> Response:
        return FileResponse(DOCUMENTS / name, media_type=media_type)

    return endpoint


async def _find_by_status(request: Request) -> Response:
    # Both spellings real clients use: ?status=a&status=b and ?status=a,b.
    wanted = {s for value in request.query_params.getlist("status") for s in value.split(",")}
    return JSONResponse([pet for pet in PETS if pet["status"] in wanted])


async def _get_pet(request: Request) -> Response:
    raw = request.path_params["pet_id"]
    pet = next((p for p in PETS if str(p["id"]) == raw), None)
    if pet is None:
        return JSONResponse({"code": 1, "type": "error", "message": "Pet not found"}, 404)
    return JSONResponse(pet)


async def _not_found(request: Request) -> Response:
    return JSONResponse({"code": 404, "type": "unknown", "message": "Not Found"}, 404)


_ids = itertools.count(100)


async def _add_pet(request: Request) -> Response:
    pet = await request.json()
    if not isinstance(pet, dict) or not isinstance(pet.get("name"), str):
        return JSONResponse({"code": 405, "type": "error", "message": "Invalid input"}, 405)
    return JSONResponse({**pet, "id": pet.get("id", next(_ids))}, 201)


async def _echo(request: Request) -> Response:
    return JSONResponse(
        {
            "id": request.path_params["id"],
            "query": [[k, v] for k, v in request.query_params.multi_items()],
            "headers": dict(request.headers),
            "cookies": dict(request.cookies),
        }
    )
