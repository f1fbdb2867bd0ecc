"""What a code step sees as ``pd.steps["trigger"]``, and the secrets it is handed."""

from __future__ import annotations

from emitflow.dsl import from_mapping, python_workflow
from emitflow.runner import CodeStep, CodeStepOutcome, RunOptions, execute


class Recorder:
    """A ``CodeStepRunner`` that keeps the steps it was asked to run."""

    def __init__(self) -> None:
        self.steps: list[CodeStep] = []

    async def run(self, step: CodeStep) -> CodeStepOutcome:
        self.steps.append(step)
        return CodeStepOutcome(output=step.steps["trigger"])


CODE = "def handler(pd):\n    return 1\n"


async def test_the_trigger_defaults_to_the_input_and_context() -> None:
    runner = Recorder()
    result = await execute(
        python_workflow(CODE, "show"),
        input={"a": 1},
        options=RunOptions(code_steps=runner, context={"c": 2}),
    )
    assert result.output == {"event": {"a": 1}, "context": {"c": 2}}


async def test_a_given_trigger_is_what_the_step_sees() -> None:
    trigger = {"event": {"name": "Han"}, "context": {"emitter_id": "p_x", "event_name": ""}}
    result = await execute(
        python_workflow(CODE),
        input=[{"data": {"name": "Han"}}],
        options=RunOptions(code_steps=Recorder(), trigger=trigger),
    )
    assert result.status == "completed", result.error
    assert result.output == trigger


async def test_a_step_gets_only_its_declared_secrets() -> None:
    runner = Recorder()
    workflow = from_mapping(
        {
            "document": {"dsl": "1.0.3", "namespace": "t", "name": "s", "version": "1.0.0"},
            "use": {"secrets": ["key"]},
            "do": [{"s": {"run": {"script": {"language": "python", "code": CODE}}}}],
        }
    )
    await execute(
        workflow, options=RunOptions(code_steps=runner, secrets={"key": "k", "other": "o"})
    )
    assert dict(runner.steps[0].secrets) == {"key": "k"}


def test_python_workflow_names_its_step_after_the_file() -> None:
    workflow = python_workflow(CODE, "Greet Me")
    assert workflow.document.name == "greet-me"
    assert [item.name for item in workflow.do] == ["Greet Me"]
