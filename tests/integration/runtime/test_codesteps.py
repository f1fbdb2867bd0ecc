"""Code steps through the ``Engine``: the seed's emitter and listener as Python files, on a real
``SqliteStore`` and the real sandbox pool."""

from __future__ import annotations

from pathlib import Path

from emitflow.runtime import Engine, EngineSettings
from tests.integration.runtime.conftest import OpenEngine

NAMES = ["Luke", "Han", "Leia", "Obi Wan"]

EMITTER = """
def handler(pd):
    for name in ["Luke", "Han", "Leia", "Obi Wan"]:
        pd.send.emit({"name": name})
    pd.send.emit({"name": "Yoda"}, channel="jedi")
    return {"emitted": 4}
"""

LISTENER = """
def handler(pd):
    return pd.steps["trigger"]["event"]["name"].upper()
"""

SECRETIVE = """
def handler(pd):
    return sorted(pd.secrets.items())
"""


def _files(tmp_path: Path) -> tuple[Path, Path]:
    emitter = tmp_path / "emitter.py"
    listener = tmp_path / "listener.py"
    emitter.write_text(EMITTER)
    listener.write_text(LISTENER)
    return emitter, listener


async def test_the_seed_emitter_and_listener_as_python_steps(
    tmp_path: Path, open_engine: OpenEngine
) -> None:
    emitter_file, listener_file = _files(tmp_path)
    async with open_engine() as engine:
        emitter = await engine.deploy(emitter_file)
        listener = await engine.deploy(listener_file)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        run = await engine.start(emitter.id)
        await engine.drain()

        assert run.status == "completed", run.error
        assert run.output == {"emitted": 4}
        (step,) = await engine.tasks(run.id)
        assert step.name == "emitter"
        assert [emit["data"] for emit in step.emits] == [
            *({"name": n} for n in NAMES),
            {"name": "Yoda"},
        ]

        page = await engine.events(emitter.id)
        assert [stored.event["data"]["name"] for stored in page.items] == NAMES[::-1]
        (jedi,) = (await engine.events(emitter.id, event_name="jedi")).items
        assert jedi.event["data"] == {"name": "Yoda"}

        runs = (await engine.store.list_runs(workflow_id=listener.id)).items
        assert len(runs) == 4  # the "jedi" channel has no subscriber
        assert sorted(r.output for r in runs) == sorted(n.upper() for n in NAMES)
        assert all(r.status == "completed" for r in runs)
        contexts = [r.trigger["context"] for r in runs]
        assert {c["emitter_id"] for c in contexts} == {emitter.id}
        assert {c["event_name"] for c in contexts} == {""}
        ids = {stored.event["id"] for stored in page.items}
        assert {c["emit_id"] for c in contexts} == ids


async def test_a_code_step_reads_only_the_secrets_its_workflow_declares(tmp_path: Path) -> None:
    document = {
        "document": {"dsl": "1.0.3", "namespace": "t", "name": "secretive", "version": "1.0.0"},
        "use": {"secrets": ["apiKey"]},
        "do": [{"show": {"run": {"script": {"language": "python", "code": SECRETIVE}}}}],
    }
    settings = EngineSettings(secrets={"apiKey": "k-123", "other": "hidden"})
    async with Engine.open(f"sqlite:///{tmp_path}/s.db", settings=settings) as engine:
        workflow = await engine.deploy(document)
        run = await engine.start(workflow.id)
    assert run.status == "completed", run.error
    assert run.output == [["apiKey", "k-123"]]
