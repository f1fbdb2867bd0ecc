"""The inspector's pages in-process: deploying with problems at their line, runs filtered and
keyset paged, a run's emits under their task linked to the runs they started, an event's
reach and test event, subscriptions made, checked and removed, replays."""

from __future__ import annotations

import re

import httpx

from emitflow.runtime.engine import Engine
from tests.integration.runtime.documents import EMITTER, FAULTY, LISTENER

Browser = tuple[httpx.AsyncClient, str]

BROKEN = """document: {dsl: '1.0.3', namespace: it, name: broken, version: '1.0.0'}
do:
  - first:
      set:
        a: 1
  - second:
      frobnicate: {}
"""


async def test_deploy_shows_the_problems_at_their_line(browser: Browser, engine: Engine) -> None:
    http, csrf = browser
    answer = await http.post("/ui/workflows", data={"text": BROKEN, "csrf": csrf})
    assert answer.status_code == 400
    assert re.search(r'<li id="line-6" class="bad"><code>\s*- second:', answer.text)
    assert 'href="#line-6">line 6</a>' in answer.text
    assert await engine.workflows() == []


async def test_deploy_by_paste_and_by_upload(browser: Browser, engine: Engine) -> None:
    http, csrf = browser
    code = "def handler(pd):\n    return {'ok': True}\n"
    pasted = await http.post("/ui/workflows", data={"text": code, "name": "pasted", "csrf": csrf})
    assert pasted.status_code == 303
    uploaded = await http.post(
        "/ui/workflows",
        data={"csrf": csrf},
        files={"upload": ("listener.yaml", LISTENER.encode(), "application/yaml")},
    )
    assert uploaded.status_code == 303
    assert sorted(w.name for w in await engine.workflows()) == ["listener", "pasted"]
    page = await http.get(uploaded.headers["location"])
    assert page.status_code == 200 and "listener" in page.text


async def test_runs_filtered_by_status_and_keyset_paged(browser: Browser, engine: Engine) -> None:
    http, _ = browser
    faulty = await engine.deploy(FAULTY)
    for _ in range(27):
        await engine.start(faulty.id)
    first = await http.get(f"/ui/workflows/{faulty.id}?status=failed")
    assert first.text.count('href="/ui/runs/r_') == 25
    older = re.search(r'href="\?([^"]*before=[^"]+)">Older', first.text)
    assert older
    rest = await http.get(f"/ui/workflows/{faulty.id}?" + older.group(1).replace("&amp;", "&"))
    assert rest.text.count('href="/ui/runs/r_') == 2
    none = await http.get(f"/ui/workflows/{faulty.id}?status=completed")
    assert "No run matches." in none.text
    future = await http.get(f"/ui/workflows/{faulty.id}?since=2999-01-01T00:00")
    assert "No run matches." in future.text
    bad = await http.get(f"/ui/workflows/{faulty.id}?status=sideways")
    assert "is not a run status" in bad.text
    home = await http.get("/ui")
    assert re.search(r'errors <strong class="errors">27</strong>', home.text)


async def test_a_run_shows_its_emits_under_the_task_and_the_runs_they_started(
    browser: Browser, engine: Engine
) -> None:
    http, _ = browser
    emitter = await engine.deploy(EMITTER)
    listener = await engine.deploy(LISTENER)
    await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
    run = await engine.start(emitter.id, input={"names": ["Luke", "Han"]})
    await engine.drain()
    page = (await http.get(f"/ui/runs/{run.id}")).text
    tasks = page.split('<li class="task')
    with_emits = [t for t in tasks if "Emits (1)" in t]
    assert len(with_emits) == 2  # one emit task per name, each with its emit under it
    assert "Luke" in with_emits[0] and "Han" in with_emits[1]
    started = re.findall(r'<a class="started" href="/ui/runs/(r_\w+)"', page)
    assert len(started) == 2
    listener_page = (await http.get(f"/ui/runs/{started[0]}")).text
    assert "hello " in listener_page and f"event from {emitter.id}" in listener_page
    event_link = re.search(r'class="emit-event" href="([^"]+)"', page)
    assert event_link
    found = await http.get(event_link.group(1).replace("&amp;", "&"))
    assert found.status_code == 303 and found.headers["location"].startswith("/ui/events/")


async def test_an_event_page_shows_its_reach_and_sends_a_test_event(
    browser: Browser, engine: Engine
) -> None:
    http, csrf = browser
    emitter = await engine.deploy(EMITTER)
    listener = await engine.deploy(LISTENER)
    await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
    await engine.start(emitter.id, input={"name": "Leia"})
    await engine.drain()
    (stored,) = (await engine.find_events()).items
    page = await http.get(f"/ui/events/{stored.position}")
    assert page.status_code == 200
    assert "com.example.greeting" in page.text and 'class="started"' in page.text
    sent = await http.post(
        f"/ui/events/{stored.position}/test", data={"listener_id": listener.id, "csrf": csrf}
    )
    assert sent.status_code == 303
    run_id = sent.headers["location"].rsplit("/", 1)[1]
    run = await engine.wait(run_id)
    assert run.status == "completed" and run.trigger["kind"] == "test"
    assert run.output == {"greeting": "hello Leia"}
    listed = await http.get(f"/ui/events?emitter={emitter.id}&type=com.example.greeting")
    assert stored.position in listed.text
    any_channel = await http.get(f"/ui/events?emitter={emitter.id}&channel=")
    assert stored.position in any_channel.text
    default = await http.get(f"/ui/events?emitter={emitter.id}&channel=default")
    assert stored.position in default.text
    elsewhere = await http.get(f"/ui/events?emitter={emitter.id}&channel=orders")
    assert stored.position not in elsewhere.text
    other = await http.get("/ui/events?type=nothing.like.this")
    assert stored.position not in other.text
    assert (await http.get("/ui/events/1-1")).status_code == 404


async def test_subscriptions_made_checked_drawn_and_removed(
    browser: Browser, engine: Engine
) -> None:
    http, csrf = browser
    emitter = await engine.deploy(EMITTER)
    listener = await engine.deploy(LISTENER)
    page = await http.get("/ui/subscriptions")
    assert f'<option value="{emitter.id}"' in page.text
    bad = await http.post(
        "/ui/subscriptions/check", data={"filter": '[{"nope": {}}]'}, headers={"X-CSRF-Token": csrf}
    )
    assert bad.json()["ok"] is False and bad.json()["problem"]
    good = await http.post(
        "/ui/subscriptions/check",
        data={"filter": '[{"prefix": {"type": "com.example."}}]'},
        headers={"X-CSRF-Token": csrf},
    )
    assert good.json() == {"ok": True, "problem": None}
    form = {"emitter_id": emitter.id, "listener_id": listener.id, "csrf": csrf}
    refused = await http.post("/ui/subscriptions", data={**form, "filter": '[{"nope": 1}]'})
    assert refused.status_code == 400 and await engine.subscriptions() == []
    made = await http.post(
        "/ui/subscriptions", data={**form, "filter": '[{"prefix": {"type": "com.example."}}]'}
    )
    assert made.status_code == 303
    (sub,) = await engine.subscriptions()
    assert sub.filters == ({"prefix": {"type": "com.example."}},)
    drawn = (await http.get("/ui/subscriptions")).text
    assert "<svg" in drawn and drawn.count('class="edge"') == 1
    gone = await http.post("/ui/subscriptions/delete", data=form)
    assert gone.status_code == 303 and await engine.subscriptions() == []


async def test_bulk_replay_counts_first_then_shows_progress(
    browser: Browser, engine: Engine
) -> None:
    http, csrf = browser
    faulty = await engine.deploy(FAULTY)
    for _ in range(3):
        await engine.start(faulty.id)
    confirm = await http.get(f"/ui/workflows/{faulty.id}/replay")
    assert "<strong>3</strong> failed runs" in confirm.text
    started = await http.post(f"/ui/workflows/{faulty.id}/replay", data={"csrf": csrf})
    assert started.status_code == 303
    await engine.drain()
    progress = await http.get(started.headers["location"])
    assert "3 of 3 replayed runs ended." in progress.text
    runs = (await engine.runs(faulty.id, limit=10)).items
    assert len(runs) == 6 and sum(1 for r in runs if r.trigger.get("replay_of")) == 3


async def test_a_failed_run_marks_the_failing_task_and_shows_the_error(
    browser: Browser, engine: Engine
) -> None:
    http, _ = browser
    faulty = await engine.deploy(FAULTY)
    run = await engine.start(faulty.id)
    assert run.status == "faulted"
    page = (await http.get(f"/ui/runs/{run.id}")).text
    assert 'class="task failed"' in page
    assert "Out of stock" in page and 'href="#task-failed"' in page
