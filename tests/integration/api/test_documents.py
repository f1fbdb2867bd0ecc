"""Workflow documents over the API: hostile YAML is a 422 naming the problem, never a 500."""

from __future__ import annotations

import httpx

HEAD = "document: {dsl: '1.0.3', namespace: test, name: hostile, version: '1.0.0'}\ndo: []\n"
YAML = {"Content-Type": "application/yaml"}


async def test_a_python_tag_is_a_422_naming_the_tag(client: httpx.AsyncClient) -> None:
    body = HEAD + 'x: !!python/object/apply:os.system ["touch /tmp/pwned"]\n'
    answer = await client.post("/v1/workflows", content=body, headers=YAML)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_document"
    assert "!!python/object/apply:os.system" in error["details"][0]["message"]


async def test_an_alias_bomb_is_a_422(client: httpx.AsyncClient) -> None:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 30)]
    answer = await client.post("/v1/workflows", content=HEAD + "\n".join(lines), headers=YAML)
    assert answer.status_code == 422
    assert "aliases expand it to" in answer.json()["error"]["details"][0]["message"]


async def test_deep_nesting_is_a_422(client: httpx.AsyncClient) -> None:
    body = HEAD + "x: " + "[" * 100 + "]" * 100 + "\n"
    answer = await client.post("/v1/workflows", content=body, headers=YAML)
    assert answer.status_code == 422
    assert "limit 64 levels" in answer.json()["error"]["details"][0]["message"]
