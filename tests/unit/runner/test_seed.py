"""The seed example (``examples/order.yaml``, as the seed document gives it) end to end.

The orders service is a local stand-in reached over real HTTP: the example's
``http://orders-service`` origin is routed to it by the client's transport.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from emitflow.dsl import load_workflow
from emitflow.http.routes import Routes, make_client
from emitflow.runner import MemorySink, RunOptions, RunResult, execute
from tests.standins.orders import FAILING_CUSTOMER, ORIGIN, create_app
from tests.standins.server import serve

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "order.yaml"
API_KEY = "orders-api-key-0451"
CUSTOMER = {"first": "Leia", "last": "Organa"}


@pytest.fixture(scope="module")
def orders() -> Iterator[tuple[str, Starlette]]:
    app = create_app(API_KEY)
    with serve(app) as url:
        yield url, app


@pytest.fixture
async def client(orders: tuple[str, Starlette]) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(Routes.parse([f"{ORIGIN}={orders[0]}"])) as routed:
        yield routed


async def _place(client: httpx.AsyncClient, customer_id: str) -> tuple[RunResult, MemorySink]:
    sink = MemorySink()
    result = await execute(
        load_workflow(EXAMPLE),
        input={"customerId": customer_id, "items": [{"sku": "kibble", "qty": 2}]},
        options=RunOptions(
            context={"customer": CUSTOMER},
            secrets={"orderServiceApiKey": API_KEY},
            http=client,
            events=sink,
        ),
    )
    return result, sink


async def test_a_placed_order_emits_the_placed_event(
    client: httpx.AsyncClient, orders: tuple[str, Starlette]
) -> None:
    result, sink = await _place(client, "c-42")
    assert result.status == "completed", result.error
    placed = [e for e in sink.events if e.type == "com.petstore.order.placed.v1"]
    assert len(placed) == 1
    order = orders[1].state.received[-1]
    assert order.headers["authorization"] == f"Bearer {API_KEY}"
    assert order.body == {"customerId": "c-42", "items": [{"sku": "kibble", "qty": 2}]}
    event = placed[0]
    assert event.source == "https://petstore.com/orders"
    assert event.subject == event.data["orderId"]
    assert event.data["client"] == {"firstName": "Leia", "lastName": "Organa"}
    assert event.data["items"] == [{"sku": "kibble", "qty": 2}]
    # As written, emitOrderPlacedEvent has no 'then: end', so the flow goes on into
    # handleOrderError (examples/README.md warns about it): that is the DSL's flow.
    assert [t.name for t in result.tasks] == [
        "placeOrder",
        "emitOrderPlacedEvent",
        "handleOrderError",
    ]


async def test_a_failed_order_emits_one_error_event(client: httpx.AsyncClient) -> None:
    result, sink = await _place(client, FAILING_CUSTOMER)
    assert result.status == "completed", result.error
    assert sink.types == ["com.petstore.order.error.v1"]
    event = sink.events[0]
    assert event.subject == "order-error"
    assert event.data["customerId"] == FAILING_CUSTOMER
    message = event.data["error"]
    assert message.startswith("Internal Server Error (500): POST http://orders-service/")
    assert "the order book is unavailable" in message
    assert "\n" not in message
    assert [t.name for t in result.tasks] == ["placeOrder", "handleOrderError"]
    assert result.tasks[0].error is not None and result.tasks[0].error["status"] == 500


async def test_the_api_key_never_leaves_the_engine(client: httpx.AsyncClient) -> None:
    for customer in ("c-1", FAILING_CUSTOMER):
        result, sink = await _place(client, customer)
        shown = json.dumps(
            [[e.to_dict() for e in sink.events], [(t.output, t.error) for t in result.tasks]]
        )
        assert API_KEY not in shown
