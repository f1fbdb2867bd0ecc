"""``kill -9`` while a 50-task workflow emits: after a restart the run resumes from its committed
tasks and ends as an uninterrupted run would; every event is logged once, and its listener ran
once per event."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from emitflow.clock import VirtualClock
from emitflow.dsl import from_mapping
from emitflow.runner import RunOptions, execute
from emitflow.runtime import Engine, EngineSettings

EMITS = 25
EMITTER_ID = "p_crash_emitter"
LISTENER_ID = "p_crash_listener"


def emitter_document() -> dict[str, Any]:
    """50 tasks: ``s<i>`` counts and keeps a trail (pure), ``e<i>`` emits (an effect)."""
    tasks: list[dict[str, Any]] = []
    for i in range(EMITS):
        tasks.append({f"s{i}": {"set": {"n": "${ .n + 1 }", "trail": f"${{ .trail + [{i}] }}"}}})
        event = {"with": {"type": "com.example.step", "source": "/crash", "data": {"step": i}}}
        tasks.append({f"e{i}": {"emit": {"event": event}, "output": {"as": "${ $input }"}}})
    return {
        "document": {"dsl": "1.0.3", "namespace": "crash", "name": "emitter", "version": "1.0.0"},
        "do": tasks,
    }


LISTENER = {
    "document": {"dsl": "1.0.3", "namespace": "crash", "name": "listener", "version": "1.0.0"},
    "do": [{"note": {"set": {"step": "${ .[0].data.step }"}}}],
}
INPUT = {"n": 0, "trail": []}

CHILD = textwrap.dedent(
    """
    import asyncio, dataclasses, json, sys
    from emitflow.runtime import Engine, EngineSettings, engine_executor

    url, hang_after, emitter, listener = sys.argv[1], int(sys.argv[2]), *sys.argv[3:5]

    class Hang:
        # Commits as usual, then stops the run for good after the hang_after-th emit task.
        def __init__(self, inner):
            self.inner, self.emits = inner, 0
        async def task_committed(self, record, events):
            await self.inner.task_committed(record, events)
            self.emits += bool(events)
            if self.emits == hang_after:
                await asyncio.Event().wait()

    async def executor(workflow, *, input, options):
        if options.journal is not None and workflow.document.name == "emitter":
            options = dataclasses.replace(options, journal=Hang(options.journal))
        return await engine_executor(workflow, input=input, options=options)

    async def main():
        async with Engine.open(url, settings=EngineSettings(executor=executor)) as engine:
            await engine.deploy(json.loads(emitter), id="p_crash_emitter")
            await engine.deploy(json.loads(listener), id="p_crash_listener")
            await engine.subscribe(emitter_id="p_crash_emitter", listener_id="p_crash_listener")
            await engine.start("p_crash_emitter", input={"n": 0, "trail": []})

    asyncio.run(main())
    """
)


def committed_emits(db: Path) -> int:
    """Emit tasks of the emitter's run committed so far (read from the database file)."""
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
        try:
            (count,) = connection.execute(
                "SELECT count(*) FROM tasks WHERE name LIKE 'e%' AND run_id IN "
                "(SELECT id FROM runs WHERE workflow_id = ?)",
                (EMITTER_ID,),
            ).fetchone()
        except sqlite3.OperationalError:  # not created yet
            return 0
    return int(count)


def run_and_kill(db: Path, *, after: int) -> None:
    """Run the emitter in a child process and ``kill -9`` it once ``after`` emits committed."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            f"sqlite:///{db}",
            str(after),
            json.dumps(emitter_document()),
            json.dumps(LISTENER),
        ],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        deadline = time.monotonic() + 60
        while committed_emits(db) < after:
            assert child.poll() is None, "the child ended before it was killed"
            assert time.monotonic() < deadline, f"{after} emits were not committed in time"
            time.sleep(0.002)  # a poll interval: a busy loop here takes the child's CPU
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.parametrize("after", [1, 13, EMITS])
async def test_a_run_killed_mid_way_resumes_and_emits_each_event_once(
    tmp_path: Path, after: int
) -> None:
    db = tmp_path / "crash.db"
    run_and_kill(db, after=after)
    uninterrupted = await execute(from_mapping(emitter_document()), input=INPUT)
    # Rows the dead dispatcher had claimed come back when their lease ends: skip ahead to then.
    later = VirtualClock(datetime.now(UTC) + timedelta(seconds=EngineSettings().lease_seconds + 1))
    async with Engine.open(f"sqlite:///{db}", settings=EngineSettings(clock=later)) as engine:
        await engine.drain(within=60)
        (run,) = (await engine.store.list_runs(workflow_id=EMITTER_ID)).items
        assert run.status == "completed", run.error
        assert run.output == uninterrupted.output == {"n": EMITS, "trail": list(range(EMITS))}
        tasks = await engine.tasks(run.id)
        assert [task.name for task in tasks] == [task.name for task in uninterrupted.tasks]

        logged = (await engine.events(EMITTER_ID, limit=100)).items
        keys = [(stored.event["source"], stored.event["id"]) for stored in logged]
        assert len(keys) == len(set(keys)) == EMITS  # each event once, by (source, id)
        steps = sorted(stored.event["data"]["step"] for stored in logged)
        assert steps == list(range(EMITS))  # one per emit task
        emitted = [emit["id"] for task in tasks for emit in task.emits]
        assert sorted(emitted) == sorted(key[1] for key in keys)  # the run lists what is logged

        runs = (await engine.store.list_runs(workflow_id=LISTENER_ID, limit=100)).items
        assert sorted(r.trigger["context"]["id"] for r in runs) == sorted(k[1] for k in keys)
        assert all(r.status == "completed" for r in runs)
        assert sorted(r.output["step"] for r in runs) == list(range(EMITS))


async def test_an_uninterrupted_run_commits_every_emit_with_its_task(tmp_path: Path) -> None:
    records: list[tuple[str, int]] = []

    class Journal:
        async def task_committed(self, record: Any, events: Any) -> None:
            records.append((record.name, len(events)))

    result = await execute(
        from_mapping(emitter_document()), input=INPUT, options=RunOptions(journal=Journal())
    )
    assert result.status == "completed"
    assert records == [(f"e{i}", 1) for i in range(EMITS)]
