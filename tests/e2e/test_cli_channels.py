"""``emitflow events list --emitter`` says which channel it shows; ``--channel`` picks one."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from emitflow.runtime import Engine
from tests.e2e.test_cli_events import emitflow

CODE = """
def handler(pd):
    pd.send.emit({"name": "Luke"})
    pd.send.emit({"name": "Yoda"}, channel="jedi")
"""


def test_events_list_names_its_channel_and_picks_one_or_all(tmp_path: Path) -> None:
    step = tmp_path / "two.py"
    step.write_text(CODE)

    async def prepare() -> str:
        async with Engine.open(f"sqlite:///{tmp_path}/emitflow.db") as engine:
            workflow = await engine.deploy(step)
            await engine.start(workflow.id)
            await engine.drain()
            return workflow.id

    emitter = asyncio.run(prepare())
    table = emitflow(tmp_path, "events", "list", "--emitter", emitter)
    assert table.returncode == 0, table.stderr
    assert "default channel" in table.stdout and "Luke" in table.stdout
    assert "Yoda" not in table.stdout
    jedi = emitflow(tmp_path, "events", "list", "--emitter", emitter, "--channel", "jedi")
    assert "channel 'jedi'" in jedi.stdout and "Yoda" in jedi.stdout
    every = emitflow(tmp_path, "events", "list", "--emitter", emitter, "--channel", "*", "--json")
    page = json.loads(every.stdout)
    assert page["channel"] == "*"
    assert [item["event"]["data"]["name"] for item in page["data"]] == ["Yoda", "Luke"]
