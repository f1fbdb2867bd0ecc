"""``kill -9`` while a workflow emits: every event whose emit committed is delivered after a
restart, logged once, and its listener runs once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from emitflow.clock import VirtualClock
from emitflow.runtime import Engine, EngineSettings
from tests.integration.runtime.documents import EMITTER, LISTENER

CHILD = textwrap.dedent(
    """
    import asyncio, dataclasses, sys
    from emitflow.runtime import Engine, EngineSettings, engine_executor

    class Announce:
        def __init__(self, inner):
            self.inner = inner
        async def publish(self, event):
            await self.inner.publish(event)
            print("committed", event.id, flush=True)  # the emit's commit has returned

    async def executor(workflow, *, input, options):
        if options.events is not None and workflow.document.name == "emitter":
            options = dataclasses.replace(options, events=Announce(options.events))
        return await engine_executor(workflow, input=input, options=options)

    async def main(url, emitter_id):
        async with Engine.open(url, settings=EngineSettings(executor=executor)) as engine:
            await engine.start(emitter_id, input={"names": [f"n{k}" for k in range(5000)]})

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def run_and_kill(url: str, emitter_id: str, *, after: int) -> list[str]:
    """Run the emitter in a child process, ``kill -9`` it after ``after`` committed emits;
    the ids of every emit whose commit had returned."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, emitter_id],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert child.stdout is not None
    committed: list[str] = []
    for line in child.stdout:
        committed.append(line.split()[1])
        if len(committed) == after:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(timeout=30)
    committed.extend(line.split()[1] for line in child.stdout if line.startswith("committed"))
    assert child.returncode == -signal.SIGKILL
    return committed


async def test_events_committed_before_a_kill_are_delivered_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/crash.db"
    async with Engine.open(url) as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(LISTENER)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
    committed = run_and_kill(url, emitter.id, after=300)
    # Rows the dead dispatcher had claimed come back when their lease ends: skip ahead to then.
    later = VirtualClock(datetime.now(UTC) + timedelta(seconds=EngineSettings().lease_seconds + 1))
    async with Engine.open(url, settings=EngineSettings(clock=later)) as engine:
        await engine.drain(within=60)
        page = await engine.events(emitter.id, limit=1000)
        logged = [stored.event["id"] for stored in page.items]
        assert set(committed) <= set(logged)  # nothing committed was lost
        assert len(logged) == len(set(logged))  # and nothing is there twice
        runs = (await engine.store.list_runs(workflow_id=listener.id, limit=1000)).items
        started_by = [run.trigger["context"]["id"] for run in runs]
        assert sorted(started_by) == sorted(logged)  # one listener run per event
        assert all(run.status == "completed" for run in runs)
        # The emitter was cut off after committing effects: recorded, not run again.
        (cut,) = (await engine.store.list_runs(workflow_id=emitter.id)).items
        assert cut.status == "faulted"
