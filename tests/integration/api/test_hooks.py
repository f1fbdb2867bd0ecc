"""``/hooks/{id}``: the HTTP trigger — input, the request seen by code steps, ``pd.respond``."""

from __future__ import annotations

from typing import Any

import httpx

from emitflow.api.credentials import make_token
from emitflow.runtime.engine import Engine


def _doc(
    name: str, do: list[dict[str, object]], metadata: dict[str, Any] | None = None
) -> dict[str, Any]:
    document: dict[str, object] = {
        "dsl": "1.0.0",
        "namespace": "t",
        "name": name,
        "version": "1.0.0",
    }
    if metadata:
        document["metadata"] = metadata
    return {"document": document, "do": do}


def _code(code: str) -> dict[str, object]:
    return {"run": {"script": {"language": "python", "code": code}}}


async def test_the_body_is_the_input(client: httpx.AsyncClient, engine: Engine) -> None:
    version = await engine.deploy(_doc("echo", [{"keep": {"set": {"got": "${ .go }"}}}]))
    answer = await client.post(
        f"/hooks/{version.id}", json={"go": True}, headers={"Authorization": ""}
    )
    assert answer.status_code == 202, answer.text
    run = await engine.wait(answer.json()["run_id"])
    assert run.output == {"got": True}
    assert run.trigger["kind"] == "http"


async def test_code_steps_see_the_request(client: httpx.AsyncClient, engine: Engine) -> None:
    code = (
        "def handler(pd):\n"
        "    request = pd.steps['trigger']['event']\n"
        "    return {'method': request['method'], 'query': request['query'],\n"
        "            'body': request['body'], 'auth': 'authorization' in request['headers'],\n"
        "            'agent': request['headers'].get('x-agent')}\n"
    )
    version = await engine.deploy(_doc("seer", [{"look": _code(code)}]))
    answer = await client.put(
        f"/hooks/{version.id}?page=2", json={"a": 1}, headers={"X-Agent": "curl"}
    )
    run = await engine.wait(answer.json()["run_id"])
    assert run.output == {
        "method": "PUT",
        "query": {"page": "2"},
        "body": {"a": 1},
        "auth": False,
        "agent": "curl",
    }


async def test_pd_respond_shapes_the_answer(client: httpx.AsyncClient, engine: Engine) -> None:
    code = (
        "def handler(pd):\n"
        "    pd.respond({'status': 201, 'headers': {'X-Order': '7'},"
        " 'body': {'hello': pd.steps['trigger']['event']['body']['name']}})\n"
    )
    version = await engine.deploy(_doc("responder", [{"answer": _code(code)}]))
    answer = await client.post(f"/hooks/{version.id}", json={"name": "Yoda"})
    assert answer.status_code == 201, answer.text
    assert answer.headers["x-order"] == "7"
    assert answer.json() == {"hello": "Yoda"}


async def test_a_hook_can_ask_for_a_token(client: httpx.AsyncClient, engine: Engine) -> None:
    metadata = {"emitflow": {"hook": {"auth": "token"}}}
    version = await engine.deploy(_doc("guarded", [{"k": {"set": {"ok": True}}}], metadata))
    anonymous = await client.post(f"/hooks/{version.id}", json={}, headers={"Authorization": ""})
    assert anonymous.status_code == 401
    _, reader = await make_token(
        engine.store, name="r", scopes=["read"], now=engine.settings.clock.now()
    )
    _, hooker = await make_token(
        engine.store, name="h", scopes=["hooks"], now=engine.settings.clock.now()
    )
    wrong = await client.post(
        f"/hooks/{version.id}", json={}, headers={"Authorization": f"Bearer {reader}"}
    )
    assert wrong.status_code == 403
    right = await client.post(
        f"/hooks/{version.id}", json={}, headers={"Authorization": f"Bearer {hooker}"}
    )
    assert right.status_code == 202


async def test_an_unknown_workflow_is_404(client: httpx.AsyncClient) -> None:
    answer = await client.post("/hooks/p_nothing", json={})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
