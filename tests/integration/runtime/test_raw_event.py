"""The seed's ``raw_event`` form reaches listeners as the event itself: a Python listener reads
``pd.steps["trigger"]["event"]["name"]``, a DSL listener ``.[0].data.name``."""

from __future__ import annotations

from pathlib import Path

from emitflow.runtime import Engine

EMITTER = """
def handler(pd):
    for name in ["Luke", "Han"]:
        pd.send.emit({"raw_event": {"name": name}})
"""
PY_LISTENER = """
def handler(pd):
    return pd.steps["trigger"]["event"]["name"]
"""
DSL_LISTENER = {
    "document": {"dsl": "1.0.3", "namespace": "t", "name": "dsl-listener", "version": "1.0.0"},
    "do": [{"read": {"set": {"name": "${ .[0].data.name }"}}}],
}


async def test_raw_event_is_what_python_and_dsl_listeners_receive(tmp_path: Path) -> None:
    emitter_file = tmp_path / "emitter.py"
    emitter_file.write_text(EMITTER)
    listener_file = tmp_path / "listener.py"
    listener_file.write_text(PY_LISTENER)
    async with Engine.open(f"sqlite:///{tmp_path}/e.db") as engine:
        emitter = await engine.deploy(emitter_file)
        python = await engine.deploy(listener_file)
        dsl = await engine.deploy(DSL_LISTENER)
        for listener in (python, dsl):
            await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        await engine.start(emitter.id)
        await engine.drain()
        got_python = (await engine.store.list_runs(workflow_id=python.id)).items
        got_dsl = (await engine.store.list_runs(workflow_id=dsl.id)).items
        assert sorted(run.output for run in got_python) == ["Han", "Luke"]
        assert sorted(run.output["name"] for run in got_dsl) == ["Han", "Luke"]
        page = await engine.events(emitter.id)
        assert [stored.event["data"] for stored in page.items] == [
            {"name": "Han"},
            {"name": "Luke"},
        ]
