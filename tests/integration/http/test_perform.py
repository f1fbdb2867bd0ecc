"""``perform`` over real HTTP against the stand-in, reached through the CTK routes."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator

import httpx
import pytest

from emitflow.errors import FaultError, error_kind
from emitflow.http.auth import bearer_authorization
from emitflow.http.call import perform
from emitflow.http.redaction import MASK
from emitflow.http.routes import Routes, make_client
from emitflow.http.uritemplate import expand

PETSTORE = "https://petstore.swagger.io/v2"
HTTPBIN = "https://httpbin.org"


async def test_content_output_deserialises_json(client: httpx.AsyncClient) -> None:
    uri = expand(PETSTORE + "/pet/findByStatus?status={status}", {"status": "available"})
    pets = await perform(client, method="get", uri=uri)
    assert pets and {"id", "name", "status"} <= set(pets[0])
    assert {pet["status"] for pet in pets} == {"available"}


async def test_response_output_has_the_request_and_the_response(client: httpx.AsyncClient) -> None:
    uri = expand(PETSTORE + "/pet/{petId}", {"petId": 1})
    out = await perform(
        client, method="get", uri=uri, output="response", auth=bearer_authorization("tkn-1")
    )
    assert out["request"]["method"] == "GET"
    assert out["request"]["uri"] == PETSTORE + "/pet/1"
    assert out["request"]["headers"]["authorization"] == MASK
    assert out["statusCode"] == 200
    assert out["headers"]["content-type"] == "application/json"
    assert out["content"]["id"] == 1 and {"name", "status"} <= set(out["content"])


async def test_raw_output_is_the_body_in_base64(client: httpx.AsyncClient) -> None:
    raw = await perform(client, method="get", uri=HTTPBIN + "/bytes/16", output="raw")
    assert base64.b64decode(raw) == bytes(range(16))


async def test_text_and_empty_bodies(client: httpx.AsyncClient) -> None:
    assert "Hello" in await perform(client, method="get", uri=HTTPBIN + "/html")
    assert await perform(client, method="delete", uri=HTTPBIN + "/empty") is None


async def test_bodies_query_and_headers_reach_the_server(client: httpx.AsyncClient) -> None:
    echo = await perform(
        client,
        method="post",
        uri=HTTPBIN + "/anything/orders?source=uri",
        headers={"X-Request-Id": "r-1"},
        query={"page": 2, "tag": ["a", "b"]},
        body={"item": "book", "qty": 2},
    )
    assert echo["method"] == "POST"
    assert echo["path"] == "/anything/orders"
    assert echo["args"] == [["source", "uri"], ["page", "2"], ["tag", "a"], ["tag", "b"]]
    assert echo["headers"]["x-request-id"] == "r-1"
    assert echo["json"] == {"item": "book", "qty": 2}


async def test_not_found_is_a_communication_error_with_status_and_title(
    client: httpx.AsyncClient,
) -> None:
    uri = expand(PETSTORE + "/pet/getPetByName/{petName}", {"petName": "Milou"})
    with pytest.raises(FaultError) as caught:
        await perform(client, method="get", uri=uri)
    problem = caught.value.problem
    assert error_kind(problem.type) == "communication"
    assert (problem.status, problem.title) == (404, "Not Found")
    assert (problem.detail or "").startswith(f"GET {uri} answered 404 Not Found")


@pytest.mark.parametrize(
    ("code", "title"), [(500, "Internal Server Error"), (503, "Service Unavailable")]
)
async def test_server_errors_keep_their_status(
    client: httpx.AsyncClient, code: int, title: str
) -> None:
    with pytest.raises(FaultError) as caught:
        await perform(client, method="post", uri=f"{HTTPBIN}/status/{code}")
    assert (caught.value.problem.status, caught.value.problem.title) == (code, title)


async def test_redirects_are_errors_unless_the_call_allows_them(client: httpx.AsyncClient) -> None:
    uri = HTTPBIN + "/redirect-to?url=/anything/landed"
    with pytest.raises(FaultError) as caught:
        await perform(client, method="get", uri=uri)
    assert (caught.value.problem.status, caught.value.problem.title) == (302, "Found")
    landed = await perform(client, method="get", uri=uri, redirect=True)
    assert landed["path"] == "/anything/landed"


async def test_a_3xx_answer_passes_when_redirect_is_true(client: httpx.AsyncClient) -> None:
    out = await perform(
        client, method="get", uri=HTTPBIN + "/status/304", redirect=True, output="response"
    )
    assert out["statusCode"] == 304


async def test_a_body_that_claims_json_but_is_not_is_a_clear_error(
    client: httpx.AsyncClient,
) -> None:
    with pytest.raises(FaultError) as caught:
        await perform(client, method="get", uri=HTTPBIN + "/json-lie")
    problem = caught.value.problem
    assert error_kind(problem.type) == "communication"
    assert "application/json" in (problem.detail or "")
    assert "not JSON" in (problem.detail or "")
    assert "502 Bad Gateway" in (problem.detail or "")


@pytest.fixture
def refused_port() -> Iterator[int]:
    # A bound socket that never listens: connections to it are refused while we hold it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


async def test_a_connection_failure_names_the_url_but_no_credentials(refused_port: int) -> None:
    routes = Routes.parse([f"https://down.example=http://127.0.0.1:{refused_port}"])
    async with make_client(routes) as client:
        with pytest.raises(FaultError) as caught:
            await perform(client, method="get", uri="https://bob:hunter2@down.example/x?token=t0p")
    problem = caught.value.problem
    assert error_kind(problem.type) == "communication" and problem.status == 500
    detail = problem.detail or ""
    assert "GET https://down.example/x" in detail and "cannot connect" in detail
    assert "hunter2" not in detail and "t0p" not in detail


async def test_a_timeout_is_a_timeout_error(ctk_routes: Routes) -> None:
    async with make_client(ctk_routes, timeout=0.2) as client:
        with pytest.raises(FaultError) as caught:
            await perform(client, method="get", uri=HTTPBIN + "/delay/3")
    problem = caught.value.problem
    assert error_kind(problem.type) == "timeout" and problem.status == 408
    assert "GET https://httpbin.org/delay/3" in (problem.detail or "")
