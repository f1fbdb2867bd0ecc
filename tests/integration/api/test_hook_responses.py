"""``pd.respond`` headers the HTTP server could not write fault the step, with a clear message.

Before, a header holding CR/LF or a non-Latin-1 character reached the server: the client got
an empty reply (the connection dropped mid-answer) or a 500. Now ``pd.respond`` refuses it at
the step's line, and a step that writes its result without ``pd`` is refused by the engine.
"""

from __future__ import annotations

import httpx
import pytest

from emitflow.runtime.engine import Engine


def _doc(name: str, code: str) -> dict[str, object]:
    return {
        "document": {"dsl": "1.0.0", "namespace": "t", "name": name, "version": "1.0.0"},
        "do": [{"answer": {"run": {"script": {"language": "python", "code": code}}}}],
    }


BAD_HEADERS = [
    ({"X-Split": "a\r\nSet-Cookie: evil=1"}, "line break"),
    ({"X-Line": "a\nb"}, "line break"),
    ({"X-Nul": "a\x00b"}, "line break or NUL"),
    ({"X-Name": "Yoda \u2603"}, "Latin-1"),
    ({"X-Name": "\ud800"}, "Latin-1"),
    ({"Bad Name": "1"}, "not an HTTP header name"),
    ({"X-Bad:": "1"}, "not an HTTP header name"),
    ({"Content-Length": "1"}, "the server sets it"),
    ({"X-List": ["a", "b"]}, "must be text or a number"),
]


@pytest.mark.parametrize(("headers", "expected"), BAD_HEADERS)
async def test_a_bad_header_faults_the_step(
    live_url: str, engine: Engine, headers: dict[str, object], expected: str
) -> None:
    response = {"status": 200, "headers": headers, "body": "hi"}
    code = f"def handler(pd):\n    pd.respond({response!r})\n"
    version = await engine.deploy(_doc("bad-header", code))
    # A real server: a header it cannot write showed as a dropped connection, not a status.
    async with httpx.AsyncClient(base_url=live_url, timeout=60) as http:
        answer = await http.post(f"/hooks/{version.id}", json={})
    assert answer.status_code == 202, answer.text
    run = await engine.wait(answer.json()["run_id"])
    assert run.status == "faulted"
    assert run.error is not None
    assert "pd.respond()" in run.error["detail"] and expected in run.error["detail"]


async def test_a_step_bypassing_pd_is_refused_by_the_engine(live_url: str, engine: Engine) -> None:
    code = (
        "import json\n"
        "def handler(pd):\n"
        "    pd.recording.respond = json.dumps("
        "{'status': 200, 'headers': {'X-Split': 'a\\r\\nb'}, 'body': 'hi'})\n"
    )
    version = await engine.deploy(_doc("bypass", code))
    async with httpx.AsyncClient(base_url=live_url, timeout=60) as http:
        answer = await http.post(f"/hooks/{version.id}", json={})
    assert answer.status_code == 202, answer.text
    run = await engine.wait(answer.json()["run_id"])
    assert run.status == "faulted"
    assert run.error is not None
    assert run.error["title"] == "Invalid Response"
    assert "line break" in run.error["detail"]


async def test_good_headers_still_shape_the_answer(live_url: str, engine: Engine) -> None:
    code = (
        "def handler(pd):\n"
        "    pd.respond({'status': 201, 'headers': {'X-Order': 7, 'X-Name': 'Jos\\u00e9'},"
        " 'body': {'ok': True}})\n"
    )
    version = await engine.deploy(_doc("good-header", code))
    async with httpx.AsyncClient(base_url=live_url, timeout=60) as http:
        answer = await http.post(f"/hooks/{version.id}", json={})
    assert answer.status_code == 201, answer.text
    assert answer.headers["x-order"] == "7"
    assert answer.headers["x-name"].encode("latin-1").decode("latin-1") == "Jos\u00e9"
    assert answer.json() == {"ok": True}
