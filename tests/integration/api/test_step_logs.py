"""A code step's printed output is its task's log: in ``Engine.tasks()``, ``GET /v1/runs/{id}``
and ``?wait=true`` answers, a fault's last lines included."""

from __future__ import annotations

import httpx

from emitflow.runtime.engine import Engine

CHATTY = """
import sys
def handler(pd):
    print("hello from the step")
    print("to stderr", file=sys.stderr)
    return {"ok": True}
"""
FAULTY = """
def handler(pd):
    print("about to fail")
    print("the last line")
    raise ValueError("the last words")
"""


async def _deploy(client: httpx.AsyncClient, code: str, name: str) -> str:
    answer = await client.post(
        f"/v1/workflows?name={name}", content=code, headers={"Content-Type": "text/x-python"}
    )
    assert answer.status_code == 201, answer.text
    workflow_id: str = answer.json()["data"]["id"]
    return workflow_id


async def test_a_steps_output_is_its_log_everywhere_the_run_is_shown(
    client: httpx.AsyncClient, engine: Engine
) -> None:
    workflow_id = await _deploy(client, CHATTY, "chatty")
    answer = await client.post(f"/v1/workflows/{workflow_id}/runs?wait=true", json={})
    assert answer.status_code in (200, 201), answer.text
    waited = answer.json()
    (task,) = waited["tasks"]
    assert task["log"] == "hello from the step\nto stderr\n"
    shown = (await client.get(f"/v1/runs/{waited['id']}")).json()
    assert shown["tasks"][0]["log"] == "hello from the step\nto stderr\n"
    (record,) = await engine.tasks(waited["id"])
    assert record.log == "hello from the step\nto stderr\n"


async def test_a_faulted_steps_log_keeps_its_last_lines(client: httpx.AsyncClient) -> None:
    workflow_id = await _deploy(client, FAULTY, "faulty")
    answer = await client.post(f"/v1/workflows/{workflow_id}/runs?wait=true", json={})
    run = answer.json()
    assert run["status"] == "faulted"
    (task,) = run["tasks"]
    assert task["log"] == "about to fail\nthe last line\n"
    assert "the last words" in task["error"]["detail"]
