"""call: http and openapi over real HTTP to the stand-ins, functions, unsupported calls."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from emitflow.http.routes import Routes, make_client
from tests.standins.fixtures import ctk_routes, petstore, petstore_url
from tests.unit.runner.workflows import run

__all__ = ["ctk_routes", "petstore", "petstore_url"]  # the stand-in fixtures used here


@pytest.fixture
async def client(ctk_routes: Routes) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(ctk_routes) as routed:
        yield routed


async def test_http_call_with_template_query_headers_and_body(client: httpx.AsyncClient) -> None:
    result = await run(
        """
        do:
          - echo:
              call: http
              with:
                method: post
                endpoint: https://httpbin.org/anything/{kind}/{id}
                headers: {X-Trace: '${ .trace }'}
                query: {page: '${ .page }'}
                body: {items: '${ .items }'}
              output:
                as: '{path, args, json, trace: .headers["x-trace"]}'
        """,
        {"kind": "order", "id": 7, "trace": "t-1", "page": 2, "items": [1, 2]},
        http=client,
    )
    assert result.output == {
        "path": "/anything/order/7",
        "args": [["page", "2"]],
        "json": {"items": [1, 2]},
        "trace": "t-1",
    }


async def test_endpoint_expression_and_response_output(client: httpx.AsyncClient) -> None:
    result = await run(
        """
        do:
          - get:
              call: http
              with:
                method: get
                endpoint: '${ "https://petstore.swagger.io/v2/pet/" + (.id | tostring) }'
                output: response
        """,
        {"id": 2},
        http=client,
    )
    assert result.output["statusCode"] == 200
    assert result.output["content"]["name"] == "Rex"
    assert result.output["request"]["method"] == "GET"


async def test_http_error_status_is_a_communication_fault(client: httpx.AsyncClient) -> None:
    result = await run(
        """
        do:
          - missing:
              call: http
              with: {method: get, endpoint: 'https://petstore.swagger.io/v2/pet/getPetByName/x'}
        """,
        http=client,
    )
    assert result.error is not None
    assert result.error.type.endswith("/errors/communication")
    assert (result.error.status, result.error.title) == (404, "Not Found")
    assert result.error.instance == "/do/0/missing"


BEARER = """
use:
  secrets: [token]
  authentications:
    api: {bearer: {token: '${ $secrets.token }'}}
do:
  - who:
      call: http
      with:
        method: get
        endpoint:
          uri: https://httpbin.org/bearer
          authentication: {use: api}
      output:
        as: '{authenticated, scheme: $authorization.scheme}'
"""


async def test_named_authentication_with_a_secret(client: httpx.AsyncClient) -> None:
    result = await run(BEARER, http=client, secrets={"token": "tok-123"})
    assert result.output == {"authenticated": True, "scheme": "Bearer"}


async def test_authentication_with_a_missing_secret_is_forbidden(
    client: httpx.AsyncClient,
) -> None:
    result = await run(BEARER, http=client)
    assert result.error is not None and result.error.status == 403


async def test_basic_authentication_from_the_input(client: httpx.AsyncClient) -> None:
    result = await run(
        """
        do:
          - login:
              call: http
              with:
                method: get
                endpoint:
                  uri: https://httpbin.org/basic-auth/{user}/{password}
                  authentication:
                    basic: {username: '${ .user }', password: '${ .password }'}
        """,
        {"user": "u", "password": "p"},
        http=client,
    )
    assert result.output == {"authenticated": True, "user": "u"}


async def test_openapi_call(client: httpx.AsyncClient) -> None:
    result = await run(
        """
        do:
          - find:
              call: openapi
              with:
                document: {endpoint: 'https://petstore.swagger.io/v2/swagger.json'}
                operationId: findPetsByStatus
                parameters: {status: '${ .status }'}
              output: {as: '[.[].name]'}
        """,
        {"status": "available"},
        http=client,
    )
    assert result.output == ["doggie", "Rex"]


async def test_a_custom_function_gets_the_call_arguments_as_input(
    client: httpx.AsyncClient,
) -> None:
    result = await run(
        """
        use:
          functions:
            getPet:
              call: http
              with:
                method: get
                endpoint: https://petstore.swagger.io/v2/pet/{petId}
              output: {as: .name}
        do:
          - named:
              call: getPet
              with: {petId: '${ .id + 1 }'}
        """,
        {"id": 1},
        http=client,
    )
    assert result.output == "Rex"
    assert [t.name for t in result.tasks] == ["named"]


@pytest.mark.parametrize("kind", ["grpc", "asyncapi", "a2a", "mcp"])
async def test_other_calls_say_they_are_not_supported(kind: str) -> None:
    arguments = {
        "grpc": "{proto: {endpoint: 'file://x.proto'}, service: {name: S, host: h}, method: m}",
        "asyncapi": "{document: {endpoint: 'file://a.yaml'}, operation: o, message: {payload: {}}}",
        "a2a": "{method: message/send, server: 'https://agent.example.com', parameters: {a: 1}}",
        "mcp": "{method: tools/list, transport: {stdio: {command: x}}}",
    }[kind]
    result = await run(f"do:\n  - c: {{call: {kind}, with: {arguments}}}")
    assert result.error is not None
    assert result.error.type.endswith("/errors/configuration")
    assert result.error.detail == f"call: {kind} is not supported yet"
