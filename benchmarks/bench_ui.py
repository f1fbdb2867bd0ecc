"""Inspector figures: server-side render times of its two heaviest pages.

- A run with 1,000 tasks and 1,000 emits (one per task), each emit having started a listener
  run (1,000 listener runs, the listener subscribed): ``GET /ui/runs/{id}``, p50/p99 of 20.
- The events page over a log of 1,000,000 events (``bench_store``'s log: 1,000 emitters, 10 hot
  ones with half the events): the newest page, one emitter's page, a page from a cursor deep in
  the log, and a type filter; p50/p99 of 200 each. Pages are keyset pages: no ``COUNT(*)``.

Times are taken in-process through the ASGI app (``httpx.ASGITransport``: the request's whole
server-side path, routing, session, store reads and template rendering, with no network).
``BENCH_UI_EVENTS`` makes a smaller log for a quick run.
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from benchmarks.bench_store import build
from emitflow.api import ApiSettings, create_app
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from emitflow.store.records import NewRun, RunRecord, StoredTask, Transition
from emitflow.store.sqlite import SqliteStore

EVENTS = int(os.environ.get("BENCH_UI_EVENTS", "1000000"))
TASKS = 1_000
RUN_SAMPLES = 20
PAGE_SAMPLES = 200
TOKEN = "bench-admin-token-0123456789"
LISTENER = """
document: {dsl: '1.0.3', namespace: bench, name: listener, version: '1.0.0'}
do:
  - keep:
      set: {ok: true}
"""


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _emit(n: int) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": f"e-{n}",
        "source": "/bench/emitter",
        "type": "com.example.tick",
        "datacontenttype": "application/json",
        "data": {"n": n, "name": f"item {n}"},
    }


async def _big_run(engine: Engine) -> str:
    """A completed run of 1,000 tasks, each with one emit that started a listener run."""
    store = engine.store
    listener = await engine.deploy(LISTENER)
    emitter = await engine.deploy(LISTENER.replace("listener", "emitter"))
    await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
    run, _ = await store.create_run(NewRun(workflow_id=emitter.id, workflow_revision=1))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    tasks = tuple(
        StoredTask(
            run_id=run.id,
            sequence=n,
            reference=f"/do/{n}/step{n}",
            name=f"step{n}",
            status="completed",
            input={"n": n},
            output={"n": n, "done": True},
            emits=(_emit(n),),
            started_at=start + timedelta(milliseconds=n),
            ended_at=start + timedelta(milliseconds=n + 1),
        )
        for n in range(TASKS)
    )
    ended = RunRecord(
        id=run.id,
        workflow_id=emitter.id,
        workflow_revision=1,
        status="completed",
        created_at=run.created_at,
        started_at=start,
        ended_at=start + timedelta(seconds=1),
    )
    await store.commit_transition(Transition(run_id=run.id, run=ended, tasks=tasks))
    await store.create_runs(
        [
            NewRun(
                workflow_id=listener.id,
                workflow_revision=1,
                status="completed",
                trigger={"event": {}, "context": {"source": "/bench/emitter", "id": f"e-{n}"}},
                dedupe_key=("/bench/emitter", f"e-{n}"),
            )
            for n in range(TASKS)
        ]
    )
    return run.id


async def _timed(http: httpx.AsyncClient, path: str, samples: int) -> tuple[float, float]:
    spans = []
    for _ in range(samples):
        started = time.perf_counter()
        answer = await http.get(path)
        spans.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
    return _percentile(spans, 0.5), _percentile(spans, 0.99)


async def run(folder: Path) -> None:
    """Build the log and the big run, then time the pages."""
    path = folder / "ui.db"
    async with SqliteStore(path) as store:
        built = time.perf_counter()
        _, cursors = await build(store, EVENTS)
        print(f"built a {EVENTS:,}-event log in {time.perf_counter() - built:.0f} s")
    settings = EngineSettings(code_steps=None)
    async with Engine.open(f"sqlite:///{path}", settings=settings) as engine:
        run_id = await _big_run(engine)
        app = create_app(engine, ApiSettings(admin_token=TOKEN))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            await http.post("/ui/signin", data={"token": TOKEN})
            page = (await http.get(f"/ui/runs/{run_id}")).text
            linked = page.count('class="started"')
            p50, p99 = await _timed(http, f"/ui/runs/{run_id}", RUN_SAMPLES)
            print(
                f"run page, {TASKS:,} tasks and {TASKS:,} emits ({linked} linked to their "
                f"listener runs, {len(page) / 1e6:.1f} MB of HTML): p50 {p50:.0f} ms, "
                f"p99 {p99:.0f} ms"
            )
            rng = random.Random(3)
            hot = sorted(e for e in cursors if e.startswith("p_hot"))
            deep = rng.choice(cursors[hot[0]])
            for label, target in [
                ("events page, newest 50", "/ui/events"),
                ("events page, one hot emitter", f"/ui/events?emitter={hot[1]}"),
                ("events page, from a cursor deep in the log", f"/ui/events?before={deep}"),
                ("events page, type filter", "/ui/events?type=com.example.tick"),
            ]:
                p50, p99 = await _timed(http, target, PAGE_SAMPLES)
                print(f"{label} ({EVENTS:,} events): p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def main() -> None:
    """Print the inspector figures."""
    print("## inspector (bench_ui)")
    with tempfile.TemporaryDirectory(prefix="emitflow-bench-ui-") as folder:
        asyncio.run(run(Path(folder)))


if __name__ == "__main__":
    main()
