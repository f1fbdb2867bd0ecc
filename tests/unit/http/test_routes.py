"""Routes: parsing ORIGIN=TARGET, matching origins, and the routing transport."""

from __future__ import annotations

import httpx
import pytest

from emitflow.errors import ConfigurationError
from emitflow.http.routes import ENV_VAR, Routes, RoutingTransport, make_client

ROUTE = "https://petstore.swagger.io=http://127.0.0.1:8081"


def test_a_route_sends_its_origin_to_the_target_keeping_path_and_query() -> None:
    routes = Routes.parse([ROUTE])
    target = routes.resolve("https://petstore.swagger.io/v2/pet/findByStatus?status=sold")
    assert str(target) == "http://127.0.0.1:8081/v2/pet/findByStatus?status=sold"


@pytest.mark.parametrize(
    "url",
    [
        "http://petstore.swagger.io/v2",  # another scheme is another origin
        "https://petstore.swagger.io:8443/v2",  # and so is another port
        "https://swagger.io/v2",
    ],
)
def test_other_origins_are_not_routed(url: str) -> None:
    assert Routes.parse([ROUTE]).resolve(url) is None


def test_default_ports_and_host_case_are_normalised() -> None:
    routes = Routes.parse(["HTTPS://Petstore.Swagger.IO:443/=http://127.0.0.1:8081"])
    assert routes.resolve("https://petstore.swagger.io/x") is not None
    assert [r.origin for r in routes] == ["https://petstore.swagger.io"]


def test_a_target_path_is_put_before_the_request_path() -> None:
    routes = Routes.parse(["https://api.example.com=http://127.0.0.1:9000/stub/"])
    assert str(routes.resolve("https://api.example.com/v1/x?a=1")) == (
        "http://127.0.0.1:9000/stub/v1/x?a=1"
    )


def test_a_single_string_may_hold_comma_separated_routes() -> None:
    routes = Routes.parse(f"{ROUTE}, https://httpbin.org=http://127.0.0.1:8082 ,")
    assert len(routes) == 2


def test_merged_routes_let_the_later_set_win_per_origin() -> None:
    first = Routes.parse([ROUTE, "https://httpbin.org=http://127.0.0.1:1"])
    second = Routes.parse(["https://petstore.swagger.io=http://127.0.0.1:2"])
    merged = first.merged(second)
    assert len(merged) == 2
    assert str(merged.resolve("https://petstore.swagger.io/")) == "http://127.0.0.1:2/"


def test_routes_come_from_the_environment() -> None:
    assert len(Routes.from_env({ENV_VAR: ROUTE})) == 1
    assert len(Routes.from_env({})) == 0


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("https://petstore.swagger.io", "not ORIGIN=TARGET"),
        ("=http://127.0.0.1:1", "not ORIGIN=TARGET"),
        ("petstore.swagger.io=http://127.0.0.1:1", "ORIGIN"),
        ("https://petstore.swagger.io=127.0.0.1:8081", "TARGET"),
        ("ftp://files.example.com=http://127.0.0.1:1", "ORIGIN"),
        ("https://petstore.swagger.io/v2=http://127.0.0.1:1", "path"),
        ("https://petstore.swagger.io=http://127.0.0.1:1/?q=1", "query"),
    ],
)
def test_a_bad_entry_is_named_with_the_expected_form(entry: str, reason: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Routes.parse([entry])
    message = str(caught.value)
    assert repr(entry) in message and reason in message
    assert "https://petstore.swagger.io=http://127.0.0.1:8081" in message


def test_an_environment_error_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match=ENV_VAR):
        Routes.from_env({ENV_VAR: "nonsense"})


async def test_the_transport_sends_routed_requests_to_the_target() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    transport = RoutingTransport(Routes.parse([ROUTE]), httpx.MockTransport(answer))
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get("https://petstore.swagger.io/v2/pet/1?x=y")
        await client.get("https://elsewhere.example/")
    assert str(seen[0].url) == "http://127.0.0.1:8081/v2/pet/1?x=y"
    assert seen[0].headers["host"] == "127.0.0.1:8081"
    assert "x-forwarded-host" not in seen[0].headers
    # Everything above the transport still sees the URL the caller asked for.
    assert str(response.request.url) == "https://petstore.swagger.io/v2/pet/1?x=y"
    assert str(seen[1].url) == "https://elsewhere.example/"


async def test_the_client_factory_routes_and_names_emitflow() -> None:
    client = make_client(Routes.parse([ROUTE]), timeout=5.0)
    async with client:
        assert isinstance(client._transport, RoutingTransport)
        assert client.headers["user-agent"].startswith("emitflow/")
        assert client.timeout.read == 5.0
        assert client.follow_redirects is False
