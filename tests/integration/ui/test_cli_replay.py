"""``emitflow runs replay`` on the local store: one run, and a workflow's failed runs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emitflow.cli import app
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from tests.integration.runtime.documents import FAULTY, LISTENER


async def _seed(home: Path) -> tuple[str, str, str]:
    settings = EngineSettings(code_steps=None)
    async with Engine.open(f"sqlite:///{home}/emitflow.db", settings=settings) as engine:
        faulty = await engine.deploy(FAULTY)
        for _ in range(2):
            await engine.start(faulty.id)
        listener = await engine.deploy(LISTENER)
        run = await engine.start(listener.id, input=[{"data": {"name": "Obi Wan"}}])
        return faulty.id, listener.id, run.id


def test_runs_replay_on_the_local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMITFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("EMITFLOW_SERVER", raising=False)
    monkeypatch.delenv("EMITFLOW_STORE", raising=False)
    faulty, _, run_id = asyncio.run(_seed(tmp_path))
    runner = CliRunner()

    one = runner.invoke(app, ["runs", "replay", run_id, "--json"])
    assert one.exit_code == 0, one.output
    replayed = json.loads(one.output)
    assert replayed["trigger"]["replay_of"] == run_id
    assert replayed["output"] == {"greeting": "hello Obi Wan"}

    counted = runner.invoke(app, ["runs", "replay", "--workflow", faulty, "--dry-run"])
    assert counted.exit_code == 0 and "would replay 2 run(s)" in counted.output
    done = runner.invoke(app, ["runs", "replay", "--workflow", faulty, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["count"] == 2

    both = runner.invoke(app, ["runs", "replay", run_id, "--workflow", faulty])
    assert both.exit_code == 2 and "not both" in both.output
    naive = runner.invoke(app, ["runs", "replay", "--workflow", faulty, "--since", "2026-01-01"])
    assert naive.exit_code == 2 and "time zone" in naive.output
    missing = runner.invoke(app, ["runs", "replay", "r_missing"])
    assert missing.exit_code == 1 and "r_missing" in missing.output
