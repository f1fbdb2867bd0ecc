"""OpenAPI operations: finding them and building their requests, from documents on disk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from emitflow.errors import FaultError, error_kind
from emitflow.http.openapi import DocumentCache, OpenApiDocument, load_document

DOCUMENTS = Path(__file__).resolve().parents[2] / "standins" / "documents"
V3_URL = "http://127.0.0.1:9/v3/openapi.yaml"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # Documents here are read from files: the client is never used to send.
    async with httpx.AsyncClient() as built:
        yield built


@pytest.fixture
async def swagger(client: httpx.AsyncClient) -> OpenApiDocument:
    return await load_document(client, str(DOCUMENTS / "petstore-v2.json"), cache=DocumentCache())


@pytest.fixture
def v3() -> OpenApiDocument:
    data = YAML(typ="safe").load((DOCUMENTS / "petstore-v3.yaml").read_text())
    return OpenApiDocument(source=V3_URL, url=V3_URL, data=data)


def test_swagger_operations_use_scheme_host_and_base_path(swagger: OpenApiDocument) -> None:
    assert swagger.version == "2.0"
    request = swagger.operation("getPetById").request({"petId": 1})
    assert (request.method, request.uri) == ("GET", "https://petstore.swagger.io/v2/pet/1")
    assert request.headers == {"Accept": "application/json"}
    assert request.body is None


def test_swagger_multi_query_arrays_repeat(swagger: OpenApiDocument) -> None:
    request = swagger.operation("findPetsByStatus").request({"status": ["available", "sold"]})
    assert request.uri == "https://petstore.swagger.io/v2/pet/findByStatus"
    assert request.query == {"status": ["available", "sold"]}


def test_an_unknown_operation_lists_known_ids(swagger: OpenApiDocument) -> None:
    with pytest.raises(FaultError) as caught:
        swagger.operation("getPetByName")
    problem = caught.value.problem
    assert error_kind(problem.type) == "configuration" and problem.status == 400
    assert "'getPetByName'" in (problem.detail or "")
    assert "findPetsByStatus, getPetById" in (problem.detail or "")


@pytest.mark.parametrize("values", [{}, {"petId": None}])
def test_a_missing_required_parameter_is_named(swagger: OpenApiDocument, values: Any) -> None:
    with pytest.raises(FaultError) as caught:
        swagger.operation("getPetById").request(values)
    problem = caught.value.problem
    assert error_kind(problem.type) == "validation" and problem.status == 400
    assert "'petId' (in path)" in (problem.detail or "")


def test_openapi3_relative_servers_resolve_against_the_document_url(v3: OpenApiDocument) -> None:
    request = v3.operation("getPetById").request({"petId": 7})
    assert request.uri == "http://127.0.0.1:9/v3/pet/7"


def test_openapi3_parameters_go_where_their_in_says(v3: OpenApiDocument) -> None:
    request = v3.operation("echo").request(
        {
            "id": "a b/c",
            "tags": ["x", "y"],
            "filter": {"color": "red"},
            "X-Trace": "t-1",
            "session": "s 1",
            "unrelated": "ignored",
        }
    )
    assert request.uri == "http://127.0.0.1:9/v3/echo/a%20b%2Fc"
    assert request.query == {"tags": ["x", "y"], "filter[color]": "red"}
    assert request.headers["X-Trace"] == "t-1"
    assert request.headers["Cookie"] == "session=s%201"
    assert "Content-Type" not in request.headers


def test_a_request_body_is_the_body_parameter(v3: OpenApiDocument) -> None:
    request = v3.operation("addPet").request({"body": {"name": "Rex"}})
    assert request.body == {"name": "Rex"}
    assert request.headers["Content-Type"] == "application/json"


def test_a_request_body_can_be_made_of_its_schema_properties(v3: OpenApiDocument) -> None:
    request = v3.operation("addPet").request({"name": "Rex", "status": "sold", "other": 1})
    assert request.body == {"name": "Rex", "status": "sold"}


def test_a_required_request_body_must_be_given(v3: OpenApiDocument) -> None:
    with pytest.raises(FaultError, match="request body"):
        v3.operation("addPet").request({})


async def test_a_relative_server_in_a_local_file_is_refused(client: httpx.AsyncClient) -> None:
    document = await load_document(
        client, "petstore-v3.yaml", base_dir=DOCUMENTS, cache=DocumentCache()
    )
    with pytest.raises(FaultError, match="relative server URL '/v3'"):
        document.operation("getPetById")


async def test_file_uris_and_the_cache(client: httpx.AsyncClient) -> None:
    cache = DocumentCache()
    uri = (DOCUMENTS / "petstore-v2.json").as_uri()
    first = await load_document(client, uri, cache=cache)
    again = await load_document(client, str(DOCUMENTS / "petstore-v2.json"), cache=cache)
    assert first is again


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{not json", "neither JSON nor YAML"),
        ("- a list", "not an object"),
        ("openapi: 2.5\npaths: {}", "not an OpenAPI description"),
    ],
)
async def test_a_bad_document_is_a_configuration_error(
    client: httpx.AsyncClient, tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(text)
    with pytest.raises(FaultError) as caught:
        await load_document(client, str(path), cache=DocumentCache())
    assert error_kind(caught.value.problem.type) == "configuration"
    assert named in (caught.value.problem.detail or "")


async def test_a_missing_file_is_named(client: httpx.AsyncClient, tmp_path: Path) -> None:
    with pytest.raises(FaultError, match="cannot be read"):
        await load_document(client, str(tmp_path / "nope.json"), cache=DocumentCache())


def test_external_references_are_refused() -> None:
    data = {
        "swagger": "2.0",
        "host": "a.io",
        "paths": {"/x": {"get": {"operationId": "x", "parameters": [{"$ref": "other.json#/p"}]}}},
    }
    document = OpenApiDocument(source="inline", url=None, data=data)
    with pytest.raises(FaultError, match="only references inside the document"):
        document.operation("x")


def test_swagger_csv_arrays_and_form_data() -> None:
    data = {
        "swagger": "2.0",
        "host": "a.io",
        "paths": {
            "/x": {
                "post": {
                    "operationId": "x",
                    "consumes": ["application/x-www-form-urlencoded"],
                    "parameters": [
                        {"name": "ids", "in": "query", "type": "array"},
                        {"name": "name", "in": "formData", "type": "string", "required": True},
                    ],
                }
            }
        },
    }
    document = OpenApiDocument(source="inline", url=None, data=data)
    request = document.operation("x").request({"ids": [1, 2], "name": "Rex"})
    assert request.uri == "https://a.io/x"
    assert request.query == {"ids": "1,2"}
    assert request.body == {"name": "Rex"}
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
