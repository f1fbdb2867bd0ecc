"""``emitflow run`` and ``emitflow validate`` as a user runs them: a subprocess, real HTTP."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.standins.server import serve

EXAMPLES = ROOT / "examples"
ORDER = EXAMPLES / "order.yaml"
SECRET = "s3cret-orders-key-0451"
CONTEXT = {"customer": {"first": "Ada", "last": "Lovelace"}}


def _orders_app(api_key: str) -> Any:
    spec = importlib.util.spec_from_file_location("orders_service", EXAMPLES / "orders_service.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_app(api_key)


@pytest.fixture(scope="module")
def orders_url() -> Iterator[str]:
    """The example orders service, accepting only the secret as its bearer token."""
    with serve(_orders_app(SECRET)) as url:
        yield url


@dataclass(frozen=True)
class Done:
    code: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]]
    trace: list[dict[str, Any]]


def emitflow(*args: str, tmp: Path | None = None) -> Done:
    """Run the command; with ``tmp``, collect --events and --trace written there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMITFLOW_")}
    done = subprocess.run(
        [sys.executable, "-m", "emitflow", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    def lines(name: str) -> list[dict[str, Any]]:
        path = tmp / name if tmp else None
        if path is None or not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    return Done(done.returncode, done.stdout, done.stderr, lines("events.jsonl"), lines("trace"))


def run_order(orders_url: str, tmp: Path, customer: str, *extra: str) -> Done:
    return emitflow(
        "run",
        str(ORDER),
        "--input",
        json.dumps({"customerId": customer, "items": [{"sku": "fish-food", "qty": 2}]}),
        "--context",
        json.dumps(CONTEXT),
        "--secret",
        f"orderServiceApiKey={SECRET}",
        "--route",
        f"http://orders-service={orders_url}",
        "--events",
        str(tmp / "events.jsonl"),
        "--trace",
        str(tmp / "trace"),
        *extra,
        tmp=tmp,
    )


def _assert_secret_nowhere(done: Done) -> None:
    everything = done.stdout + done.stderr + json.dumps(done.events) + json.dumps(done.trace)
    assert SECRET not in everything


def test_a_placed_order_emits_the_placed_event(orders_url: str, tmp_path: Path) -> None:
    done = run_order(orders_url, tmp_path, "c-42")
    assert done.code == 0, done.stderr
    placed = [e for e in done.events if e["type"] == "com.petstore.order.placed.v1"]
    assert len(placed) == 1
    event = placed[0]
    order_id = event["subject"]
    assert order_id.startswith("o-")
    assert event["source"] == "https://petstore.com/orders"
    assert event["data"]["client"] == {"firstName": "Ada", "lastName": "Lovelace"}
    assert event["data"]["orderId"] == order_id
    assert event["data"]["items"] == [{"sku": "fish-food", "qty": 2}]
    assert event["specversion"] == "1.0" and event["id"] and event["time"]
    # The orders service answers 201 only to `Authorization: Bearer <the secret>`.
    _assert_secret_nowhere(done)
    # As written, the document falls through to handleOrderError after a placed order
    # (`validate` warns about it): the placed event comes first.
    assert done.events[0]["type"] == "com.petstore.order.placed.v1"
    assert done.trace, "--trace wrote the lifecycle events"
    assert done.trace[0]["type"] == "io.serverlessworkflow.workflow.started.v1"
    assert done.trace[-1]["type"] == "io.serverlessworkflow.workflow.completed.v1"


def test_a_failed_order_emits_exactly_one_error_event(orders_url: str, tmp_path: Path) -> None:
    done = run_order(orders_url, tmp_path, "fail")
    assert done.code == 0, done.stderr
    assert [e["type"] for e in done.events] == ["com.petstore.order.error.v1"]
    data = done.events[0]["data"]
    assert data["customerId"] == "fail"
    assert isinstance(data["error"], str) and "500" in data["error"]
    assert "\n" not in data["error"]
    _assert_secret_nowhere(done)


def test_a_wrong_secret_faults_with_an_rfc7807_error(orders_url: str, tmp_path: Path) -> None:
    doc = tmp_path / "call.yaml"
    doc.write_text(
        """
document: {dsl: '1.0.3', namespace: test, name: call, version: '1.0.0'}
use:
  secrets: [key]
do:
  - placeOrder:
      call: http
      with:
        method: post
        endpoint:
          uri: http://orders-service/api/v1/orders
          authentication: {bearer: {token: '${ $secrets.key }'}}
        body: {customerId: c1}
"""
    )
    done = emitflow(
        "run", str(doc), "--secret", "key=wrong-key-123", "--route",
        f"http://orders-service={orders_url}",
    )  # fmt: skip
    assert done.code == 1
    error = json.loads(done.stderr.strip().splitlines()[-1])
    assert error["status"] == 401
    assert error["type"].endswith("/errors/communication")
    assert error["instance"] == "/do/0/placeOrder"
    assert "wrong-key-123" not in done.stderr


def test_validate_accepts_the_seed_and_names_the_shorthands() -> None:
    done = emitflow("validate", str(ORDER))
    assert done.code == 0, done.stderr
    text = done.stderr
    assert "$input + { orderResult: . }" in text or "orderResult" in text
    assert "handleOrderError" in text and "then: end" in text
    assert "catch" in text and ('"*"' in text or "'*'" in text)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("document: [\n  broken", "bad.yaml:"),
        (
            "document: {dsl: '1.0.3', namespace: t, name: n, version: '1.0.0'}\n"
            "do:\n  - a:\n      frobnicate: {}\n",
            "/do/0/a",
        ),
        (
            "document: {dsl: '1.0.3', namespace: t, name: n, version: '1.0.0'}\n"
            "do:\n  - a:\n      set: {x: '${ .a | }'}\n",
            "/do/0/a/set/x",
        ),
        (
            "document: {dsl: '1.0.3', namespace: t, name: n, version: '1.0.0'}\n"
            "do:\n  - a:\n      set: {x: 1}\n      then: nowhere\n",
            "nowhere",
        ),
        (
            "document: {dsl: '1.0.3', namespace: t, name: n, version: '1.0.0'}\n"
            "do:\n  - a:\n      wait: 12\n",
            "/do/0/a/wait",
        ),
    ],
    ids=["malformed", "unknown-kind", "bad-expression", "unknown-then", "wrong-type"],
)
def test_bad_documents_exit_2_naming_file_and_place(
    tmp_path: Path, document: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(document)
    for command in (["validate", str(path)], ["run", str(path)]):
        done = emitflow(*command)
        assert done.code == 2, (command, done.stderr)
        assert "bad.yaml" in done.stderr
        assert expected in done.stderr
        assert "Traceback" not in done.stderr


def test_a_missing_secret_exits_2_before_running(tmp_path: Path) -> None:
    done = emitflow("run", str(ORDER), "--input", "{}")
    assert done.code == 2
    assert "orderServiceApiKey" in done.stderr and "--secret" in done.stderr


def test_bad_arguments_exit_2() -> None:
    done = emitflow("run", str(ORDER), "--input", "{not json")
    assert done.code == 2
    assert "--input" in done.stderr and "not valid JSON" in done.stderr
    done = emitflow("run", str(ORDER), "--secret", "novalue")
    assert done.code == 2
    assert "NAME=VALUE" in done.stderr
    done = emitflow("run", str(ORDER), "--route", "nonsense")
    assert done.code == 2
    assert "nonsense" in done.stderr
