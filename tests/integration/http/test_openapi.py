"""``call: openapi`` over real HTTP: documents fetched through routes, operations called."""

from __future__ import annotations

import httpx
import pytest

from emitflow.errors import FaultError, error_kind
from emitflow.http.auth import bearer_authorization
from emitflow.http.openapi import DocumentCache, call_operation, load_document
from tests.standins.petstore import DOCUMENTS

SWAGGER = "https://petstore.swagger.io/v2/swagger.json"


async def test_find_pets_by_status_as_the_ctk_calls_it(
    client: httpx.AsyncClient, documents: DocumentCache
) -> None:
    document = await load_document(client, SWAGGER, cache=documents)
    pets = await call_operation(
        client, document, "findPetsByStatus", parameters={"status": "available"}
    )
    assert len(pets) == 2 and all(pet["status"] == "available" for pet in pets)


async def test_get_pet_by_id_with_response_output(
    client: httpx.AsyncClient, documents: DocumentCache
) -> None:
    document = await load_document(client, SWAGGER, cache=documents)
    out = await call_operation(
        client,
        document,
        "getPetById",
        parameters={"petId": 1},
        output="response",
        auth=bearer_authorization("t"),
    )
    assert out["request"]["method"] == "GET"
    assert out["request"]["uri"] == "https://petstore.swagger.io/v2/pet/1"
    assert out["request"]["headers"]["accept"] == "application/json"
    assert out["request"]["headers"]["authorization"] == "***"
    assert out["statusCode"] == 200 and "content-type" in out["headers"]
    assert {"id", "name", "status"} <= set(out["content"])


async def test_an_unknown_pet_is_a_404_communication_error(
    client: httpx.AsyncClient, documents: DocumentCache
) -> None:
    document = await load_document(client, SWAGGER, cache=documents)
    with pytest.raises(FaultError) as caught:
        await call_operation(client, document, "getPetById", parameters={"petId": 404})
    problem = caught.value.problem
    assert error_kind(problem.type) == "communication"
    assert (problem.status, problem.title) == (404, "Not Found")


async def test_the_document_is_fetched_once_per_cache(
    client: httpx.AsyncClient, documents: DocumentCache
) -> None:
    first = await load_document(client, SWAGGER, cache=documents)
    assert await load_document(client, SWAGGER + "#ignored", cache=documents) is first
    assert first.url == SWAGGER and first.version == "2.0"


async def test_a_missing_document_keeps_its_http_status(
    client: httpx.AsyncClient, documents: DocumentCache
) -> None:
    with pytest.raises(FaultError) as caught:
        await load_document(client, "https://petstore.swagger.io/v2/nope.json", cache=documents)
    assert error_kind(caught.value.problem.type) == "communication"
    assert caught.value.problem.status == 404


async def test_a_local_swagger_file_calls_the_routed_host(
    client: httpx.AsyncClient, documents: DocumentCache
) -> None:
    document = await load_document(client, str(DOCUMENTS / "petstore-v2.json"), cache=documents)
    pet = await call_operation(client, document, "getPetById", parameters={"petId": 2})
    assert pet["name"] == "Rex"


async def test_openapi3_yaml_with_a_relative_server(
    client: httpx.AsyncClient, documents: DocumentCache, petstore_url: str
) -> None:
    document = await load_document(client, petstore_url + "/v3/openapi.yaml", cache=documents)
    assert document.version.startswith("3.")
    pets = await call_operation(
        client, document, "findPetsByStatus", parameters={"status": ["pending", "sold"]}
    )
    assert [pet["name"] for pet in pets] == ["Tom", "Felix"]
    created = await call_operation(
        client, document, "addPet", parameters={"name": "Milou", "status": "available"}
    )
    assert created["name"] == "Milou" and isinstance(created["id"], int)


async def test_openapi3_header_cookie_and_query_parameters(
    client: httpx.AsyncClient, documents: DocumentCache, petstore_url: str
) -> None:
    document = await load_document(client, petstore_url + "/v3/openapi.yaml", cache=documents)
    echo = await call_operation(
        client,
        document,
        "echo",
        parameters={"id": "x y", "tags": ["a", "b"], "X-Trace": "t-9", "session": "s-1"},
    )
    assert echo["id"] == "x y"
    assert echo["query"] == [["tags", "a"], ["tags", "b"]]
    assert echo["headers"]["x-trace"] == "t-9"
    assert echo["cookies"] == {"session": "s-1"}


async def test_a_missing_parameter_is_named_before_anything_is_sent(
    client: httpx.AsyncClient, documents: DocumentCache
) -> None:
    document = await load_document(client, SWAGGER, cache=documents)
    with pytest.raises(FaultError) as caught:
        await call_operation(client, document, "findPetsByStatus", parameters={})
    assert error_kind(caught.value.problem.type) == "validation"
    assert "'status' (in query)" in (caught.value.problem.detail or "")
