"""The seed 001 example on a server: ``emitflow serve --secret … --route …`` places orders with
its secret; the secret can also come from a file, ``EMITFLOW_SECRETS_FILE`` or the API; a missing
one is a fault that says how to give it to the server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import Server, start_server
from tests.standins.orders import ORIGIN, create_app
from tests.standins.server import serve

ORDER = ROOT / "examples" / "order.yaml"
SECRET = "s3cret-orders-key-0451"
CONTEXT = {"customer": {"first": "Ada", "last": "Lovelace"}}


@pytest.fixture(scope="module")
def orders() -> Iterator[tuple[str, Any]]:
    app = create_app(SECRET)
    with serve(app) as url:
        yield url, app


def _started(server: Server) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=60
    )


def _deploy_and_order(http: httpx.Client) -> dict[str, Any]:
    deployed = http.post(
        "/v1/workflows?id=p_order",
        content=ORDER.read_text(),
        headers={"Content-Type": "application/yaml"},
    )
    assert deployed.status_code == 201, deployed.text
    body = {"input": {"customerId": "c-42", "items": [{"sku": "fish-food", "qty": 2}]}}
    answer = http.post("/v1/workflows/p_order/runs?wait=true", json={**body, "context": CONTEXT})
    assert answer.status_code == 200, answer.text
    run: dict[str, Any] = answer.json()
    return run


def _placed(run: dict[str, Any]) -> list[dict[str, Any]]:
    emits = [emit for task in run["tasks"] for emit in task.get("emits") or []]
    return [emit for emit in emits if emit["type"] == "com.petstore.order.placed.v1"]


def _stop(server: Server) -> str:
    code = server.stop()
    assert code == 0
    return "".join(server.lines)


def test_the_seed_example_places_orders_on_a_server_with_its_secret(
    tmp_path: Path, orders: tuple[str, Any]
) -> None:
    url, app = orders
    server = start_server(
        tmp_path, args=["--secret", f"orderServiceApiKey={SECRET}", "--route", f"{ORIGIN}={url}"]
    )
    with _started(server) as http:
        run = _deploy_and_order(http)
        assert run["status"] == "completed", run
        (placed,) = _placed(run)
        assert placed["data"]["client"] == {"firstName": "Ada", "lastName": "Lovelace"}
        assert placed["data"]["orderId"].startswith("o-")
        assert app.state.received[-1].headers["authorization"] == f"Bearer {SECRET}"
        assert SECRET not in json.dumps(run)
        assert http.get("/v1/secrets").json()["data"] == [
            {"name": "orderServiceApiKey", "source": "server"}
        ]
    assert SECRET not in _stop(server)


def test_secrets_file_from_the_environment_and_routes_from_the_environment(
    tmp_path: Path, orders: tuple[str, Any]
) -> None:
    url, _ = orders
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"orderServiceApiKey: {SECRET}\n")
    server = start_server(
        tmp_path,
        env={"EMITFLOW_SECRETS_FILE": str(secrets), "EMITFLOW_ROUTES": f"{ORIGIN}={url}"},
    )
    with _started(server) as http:
        run = _deploy_and_order(http)
        assert run["status"] == "completed", run
        assert len(_placed(run)) == 1
    _stop(server)


def test_a_missing_secret_says_how_to_give_it_to_the_server_then_put_fixes_it(
    tmp_path: Path, orders: tuple[str, Any]
) -> None:
    url, _ = orders
    server = start_server(tmp_path, args=["--route", f"{ORIGIN}={url}"])
    with _started(server) as http:
        run = _deploy_and_order(http)
        assert run["status"] == "faulted"
        detail = run["error"]["detail"]
        assert "orderServiceApiKey" in detail
        assert "--secret orderServiceApiKey=" in detail and "PUT /v1/secrets/" in detail
        put = http.put("/v1/secrets/orderServiceApiKey", json={"value": SECRET})
        assert put.status_code == 200, put.text
        again = http.post(
            "/v1/workflows/p_order/runs?wait=true",
            json={"input": {"customerId": "c-7", "items": []}, "context": CONTEXT},
        ).json()
        assert again["status"] == "completed", again
    _stop(server)
    for path in tmp_path.glob("emitflow.db*"):  # the database, its WAL
        assert SECRET.encode() not in path.read_bytes()
    assert (tmp_path / "emitflow.key").stat().st_mode & 0o777 == 0o600


def test_serve_warns_about_a_short_secret(tmp_path: Path) -> None:
    server = start_server(tmp_path, args=["--secret", "key=e"])
    output = _stop(server)
    assert "shorter than 8 characters" in output
