"""Code steps through the engine: the seed's emitter and listener as Python steps."""

from __future__ import annotations

from pathlib import Path

from emitflow.codesteps.bridge import CHANNEL_ATTRIBUTE, DEFAULT_EMIT_TYPE, PoolStepRunner
from emitflow.dsl import parse_workflow
from emitflow.run_file import load_file
from emitflow.runner import MemorySink, RunOptions, execute

EMITTER = """
def handler(pd):
    names = ["Luke", "Han", "Leia", "Obi Wan"]
    for name in names:
        pd.send.emit({"name": name})
    pd.send.emit({"raw_event": {"name": "Yoda"}}, channel="jedi", type="com.example.jedi")
    pd.export("count", len(names))
    print("emitted", len(names))
    return {"ok": True}
"""


async def test_the_seed_emitter_as_a_python_file(tmp_path: Path) -> None:
    path = tmp_path / "emitter.py"
    path.write_text(EMITTER)
    sink = MemorySink()
    async with PoolStepRunner() as steps:
        result = await execute(
            load_file(path), input={}, options=RunOptions(code_steps=steps, events=sink)
        )
    assert result.status == "completed", result.error
    assert result.output == {"ok": True}
    names = [e.data.get("name") for e in sink.events[:4]]
    assert names == ["Luke", "Han", "Leia", "Obi Wan"]
    assert all(e.type == DEFAULT_EMIT_TYPE for e in sink.events[:4])
    jedi = sink.events[4]
    assert jedi.type == "com.example.jedi"
    assert jedi.attributes[CHANNEL_ATTRIBUTE] == "jedi"
    (step,) = result.tasks
    assert step.name == "emitter"
    assert [e["data"] for e in step.emits] == [e.data for e in sink.events]


async def test_a_later_step_sees_earlier_outputs_exports_and_secrets() -> None:
    workflow = parse_workflow(
        """
document: {dsl: '1.0.3', namespace: test, name: steps, version: '1.0.0'}
use:
  secrets: [apiKey]
do:
  - first:
      run:
        script:
          language: python
          code: |
            def handler(pd):
                pd.export("seen", 1)
                return {"n": 41}
  - second:
      run:
        script:
          language: python
          code: |
            def handler(pd):
                return {
                    "n": pd.steps["first"]["n"] + 1,
                    "seen": pd.steps["first"]["seen"],
                    "trigger": pd.steps["trigger"]["event"],
                    "has_key": pd.secrets["apiKey"] == "k-123",
                }
"""
    )
    async with PoolStepRunner(secrets={"apiKey": "k-123"}) as steps:
        result = await execute(
            workflow,
            input={"go": True},
            options=RunOptions(code_steps=steps, secrets={"apiKey": "k-123"}),
        )
    assert result.status == "completed", result.error
    assert result.output == {"n": 42, "seen": 1, "trigger": {"go": True}, "has_key": True}


async def test_a_failing_step_faults_and_its_emits_are_still_sent() -> None:
    workflow = parse_workflow(
        """
document: {dsl: '1.0.3', namespace: test, name: boom, version: '1.0.0'}
do:
  - boom:
      run:
        script:
          language: python
          code: |
            def handler(pd):
                pd.send.emit({"before": "the fault"})
                raise ValueError("no such order")
"""
    )
    sink = MemorySink()
    async with PoolStepRunner() as steps:
        result = await execute(workflow, options=RunOptions(code_steps=steps, events=sink))
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.instance == "/do/0/boom"
    assert "ValueError" in (result.error.title or "") + (result.error.detail or "")
    assert "no such order" in (result.error.detail or "")
    assert [e.data for e in sink.events] == [{"before": "the fault"}]
