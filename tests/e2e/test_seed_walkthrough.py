"""The seed's walkthrough over HTTP against a real ``emitflow serve``, written from the seed's
own text: the emitter emits ``{"raw_event": {"name": …}}``, the listener reads
``pd.steps["trigger"]["event"]["name"]``, the subscription uses the seed's ``emitter_id=dc_…``
form; trigger the emitter by its hook, read the emitted events back. ``walk_the_seed`` is the
walkthrough itself, which the scale-out tests take through two servers sharing a store."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

import httpx

from tests.e2e.conftest import Server

NAMES = ["Luke", "Han", "Leia", "Obi Wan"]
EMITTER = """
def handler(pd):
    for name in ["Luke", "Han", "Leia", "Obi Wan"]:
        pd.send.emit({"raw_event": {"name": name}})
    return {"emitted": 4}
"""
LISTENER = """
def handler(pd):
    print("received", pd.steps["trigger"]["event"])
    return {"received": pd.steps["trigger"]["event"]["name"]}
"""


def _poll(check: Any, *, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


class Alternating:
    """An API client that sends each request to the next of its servers in turn (one server:
    all of them), with the admin token; ``hook`` posts without it, as a caller of a hook does."""

    def __init__(self, urls: Sequence[str], token: str) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        self._clients = [httpx.Client(base_url=url, headers=auth, timeout=30) for url in urls]
        self._turn = itertools.cycle(self._clients)

    def get(self, url: str, **options: Any) -> httpx.Response:
        """GET on the next server."""
        return next(self._turn).get(url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        """POST on the next server."""
        return next(self._turn).post(url, **options)

    def hook(self, path: str, body: Any) -> httpx.Response:
        """POST a hook on the next server, without a token."""
        return httpx.post(f"{next(self._turn).base_url}{path}", json=body, timeout=30)

    def close(self) -> None:
        """Close every client."""
        for client in self._clients:
            client.close()


def _deploy(http: Alternating, code: str, name: str) -> str:
    answer = http.post(
        f"/v1/workflows?name={name}", content=code, headers={"Content-Type": "text/x-python"}
    )
    assert answer.status_code == 201, answer.text
    workflow_id: str = answer.json()["data"]["id"]
    assert workflow_id.startswith("p_")
    return workflow_id


def walk_the_seed(urls: Sequence[str], token: str) -> None:
    """The seed's walkthrough against the servers at ``urls`` (one or more sharing a store),
    each request going to the next server in turn."""
    http = Alternating(urls, token)
    try:
        _walk(http)
    finally:
        http.close()


def _walk(http: Alternating) -> None:
    emitter = _deploy(http, EMITTER, "emitter")
    listener = _deploy(http, LISTENER, "listener")
    # The seed's form: emitter_id=dc_<x> for the emitter workflow p_<x>.
    source_form = "dc_" + emitter.removeprefix("p_")
    created = http.post(f"/v1/subscriptions?emitter_id={source_form}&listener_id={listener}")
    assert created.status_code == 200, created.text
    subscription = created.json()["data"]
    assert subscription["id"].startswith("sub_")
    assert subscription["emitter_id"] == emitter
    again = http.post(f"/v1/subscriptions?emitter_id={emitter}&listener_id={listener}")
    assert again.json()["data"]["id"] == subscription["id"]

    hook = http.hook(f"/hooks/{emitter}", {"go": True})
    assert hook.status_code == 202, hook.text
    run_id = hook.json()["run_id"]

    def listener_runs() -> list[Any] | None:
        runs = http.get(f"/v1/workflows/{listener}/runs?limit=100").json()["data"]
        done = [r for r in runs if r["status"] == "completed"]
        return done if len(done) == 4 else None

    runs = _poll(listener_runs)
    assert sorted(r["output"]["received"] for r in runs) == sorted(NAMES)

    page = http.get(f"/v1/workflows/{emitter}/event_summaries?expand=event").json()
    assert page["page_info"]["total_count"] == 4
    assert [item["event"]["name"] for item in page["data"]] == NAMES[::-1]
    assert all(item["metadata"]["emitter_id"] == emitter for item in page["data"])

    first = http.get(f"/v1/workflows/{emitter}/event_summaries?limit=2").json()
    rest = http.get(
        f"/v1/workflows/{emitter}/event_summaries",
        params={"limit": 2, "before": first["page_info"]["end_cursor"]},
    ).json()
    assert [i["event"]["name"] for i in first["data"] + rest["data"]] == NAMES[::-1]

    run = http.get(f"/v1/runs/{run_id}").json()
    assert run["status"] == "completed"
    (step,) = run["tasks"]
    assert [emit["data"]["name"] for emit in step["emits"]] == NAMES


def test_the_seed_walkthrough(server: Server) -> None:
    walk_the_seed([server.url], server.token)
    assert server.stop() == 0
