"""The Serverless Workflow conformance kit (CTK), read in place from ``shared/spec/ctk``.

Every scenario of every feature file is bound here with pytest-bdd; the step library covers the
phrases the features use and the ones the kit's README documents but no feature uses yet. Runs
go through ``emitflow.runner.execute`` over real HTTP to the local stand-ins for
petstore.swagger.io and httpbin.org (routed by the client's transport), so the kit runs offline.
Docstrings are read as YAML 1.2; a scenario without an input step starts from ``{}``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then, when
from ruamel.yaml import YAML

from emitflow.dsl import parse_workflow
from emitflow.dsl.model import Workflow
from emitflow.http.routes import Routes, make_client
from emitflow.runner import RunOptions, RunResult, TaskRecord, execute
from tests.conftest import require_spec
from tests.standins.fixtures import ctk_routes, petstore, petstore_url

__all__ = ["ctk_routes", "petstore", "petstore_url"]  # the stand-in fixtures this module uses

# The kit this harness was written for: 11 files, 21 scenarios.
KIT_FEATURES = 11


def _kit() -> Path:
    try:
        return require_spec("ctk")
    except pytest.skip.Exception as exc:
        pytest.skip(str(exc), allow_module_level=True)


FEATURES = sorted(_kit().glob("*.feature"))
if len(FEATURES) != KIT_FEATURES:
    raise RuntimeError(f"expected {KIT_FEATURES} CTK feature files, found {len(FEATURES)}")
for _feature in FEATURES:
    scenarios(str(_feature))


def _yaml(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


@dataclass
class Ctk:
    """One scenario's state: the workflow, its input, and the result of running it."""

    workflow: Workflow | None = None
    input: Any = None
    result: RunResult | None = None

    def done(self) -> RunResult:
        """The result; the scenario must have executed the workflow."""
        if self.result is None:
            raise AssertionError("the workflow was not executed")
        return self.result


@pytest.fixture
def ctk() -> Ctk:
    """Fresh state per scenario; the default input is ``{}``."""
    return Ctk(input={})


# --- given / when -----------------------------------------------------------------------------


@given("a workflow with definition:")
def workflow_definition(ctk: Ctk, docstring: str) -> None:
    """Load the workflow from the step's YAML."""
    ctk.workflow = parse_workflow(docstring)


@given(parsers.re(r"(?:given )?the workflow input is:"))
def workflow_input(ctk: Ctk, docstring: str) -> None:
    """Set the input (``And given the workflow input is:`` in the features)."""
    ctk.input = _yaml(docstring)


@when("the workflow is executed")
def workflow_executed(ctk: Ctk, ctk_routes: Routes) -> None:
    """Run it to its end against the stand-ins."""
    workflow = ctk.workflow
    if workflow is None:
        raise AssertionError("no workflow was given")

    async def run() -> RunResult:
        async with make_client(ctk_routes) as client:
            return await execute(workflow, input=ctk.input, options=RunOptions(http=client))

    ctk.result = asyncio.run(run())


# --- the workflow's outcome -------------------------------------------------------------------


@then("the workflow should complete")
def should_complete(ctk: Ctk) -> None:
    """Completed."""
    _status(ctk.done(), "completed")


@then("the workflow should complete with output:")
def should_complete_with(ctk: Ctk, docstring: str) -> None:
    """Completed with exactly this output."""
    result = ctk.done()
    _status(result, "completed")
    assert result.output == _yaml(docstring)


@then("the workflow should fault")
def should_fault(ctk: Ctk) -> None:
    """Faulted."""
    _status(ctk.done(), "faulted")


@then("the workflow should fault with error:")
def should_fault_with(ctk: Ctk, docstring: str) -> None:
    """Faulted with an error having each listed field."""
    result = ctk.done()
    _status(result, "faulted")
    assert result.error is not None
    _error_has(result.error.to_dict(), _yaml(docstring))


@then("the workflow should cancel")
def should_cancel(ctk: Ctk) -> None:
    """Cancelled."""
    _status(ctk.done(), "cancelled")


@then(parsers.re(r"the workflow output should have properties (?P<props>'.+')"))
def output_properties(ctk: Ctk, props: str) -> None:
    """Each quoted dotted path resolves to a present property."""
    output = ctk.done().output
    for path in re.findall(r"'([^']+)'", props):
        _resolve(output, path)


@then(parsers.re(r"the workflow output should have a '(?P<path>[^']+)' property with value:"))
def output_property_value(ctk: Ctk, path: str, docstring: str) -> None:
    """The property at the path equals the YAML value."""
    assert _resolve(ctk.done().output, path) == _yaml(docstring)


@then(
    parsers.re(
        r"the workflow output should have a '(?P<path>[^']+)' property "
        r"containing (?P<count>\d+) items?"
    )
)
def output_property_count(ctk: Ctk, path: str, count: str) -> None:
    """The property at the path is a collection of that many items."""
    value = _resolve(ctk.done().output, path)
    assert isinstance(value, list | dict), f"{path!r} is {value!r}, not a collection"
    assert len(value) == int(count)


# --- tasks ------------------------------------------------------------------------------------


@then(parsers.re(r"(?P<task>\S+) should run (?P<position>first|last)"))
def task_runs_at(ctk: Ctk, task: str, position: str) -> None:
    """The task is the first (or last) top-level task executed."""
    names = _top_level(ctk.done())
    assert names, "no task ran"
    assert (names[0] if position == "first" else names[-1]) == task, names


@then(parsers.re(r"(?P<task>\S+) should run (?P<relation>after|before) (?P<other>\S+)"))
def task_runs_relative(ctk: Ctk, task: str, relation: str, other: str) -> None:
    """Order of two top-level tasks (their first runs)."""
    names = _top_level(ctk.done())
    assert task in names and other in names, names
    first, second = (other, task) if relation == "after" else (task, other)
    assert names.index(first) < names.index(second), names


@then(parsers.re(r"(?P<task>\S+) should (?P<status>complete|fault|cancel)"))
def task_status(ctk: Ctk, task: str, status: str) -> None:
    """The task ended that way."""
    record = _task(ctk.done(), task)
    expected = {"complete": "completed", "fault": "faulted", "cancel": "cancelled"}[status]
    assert record.status == expected, record


@then(parsers.re(r"(?P<task>\S+) should complete with output:"))
def task_output(ctk: Ctk, task: str, docstring: str) -> None:
    """The task completed with exactly this output."""
    record = _task(ctk.done(), task)
    assert record.status == "completed", record
    assert record.output == _yaml(docstring)


@then(parsers.re(r"(?P<task>\S+) should fault with error:"))
def task_error(ctk: Ctk, task: str, docstring: str) -> None:
    """The task faulted with an error having each listed field."""
    record = _task(ctk.done(), task)
    assert record.status == "faulted" and record.error is not None, record
    _error_has(record.error, _yaml(docstring))


# --- helpers ----------------------------------------------------------------------------------


def _status(result: RunResult, expected: str) -> None:
    assert result.status == expected, f"{result.status}: {result.error}"


def _error_has(error: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        assert error.get(key) == value, f"error {key}: {error.get(key)!r} != {value!r} in {error}"


def _resolve(value: Any, path: str) -> Any:
    for key in path.split("."):
        assert isinstance(value, dict) and key in value, f"no property {path!r} in {value!r}"
        value = value[key]
    return value


_TOP_LEVEL = re.compile(r"^/do/\d+/[^/]+$")


def _top_level(result: RunResult) -> list[str]:
    return [record.name for record in result.tasks if _TOP_LEVEL.match(record.reference)]


def _task(result: RunResult, name: str) -> TaskRecord:
    for record in result.tasks:
        if record.name == name:
            return record
    raise AssertionError(f"no task {name!r} ran: {[r.name for r in result.tasks]}")


# --- the step library itself ------------------------------------------------------------------

# Every phrase of ctk-notes.md: those the features use, and those the kit's README documents.
PHRASES = [
    ("given", "a workflow with definition:"),
    ("given", "given the workflow input is:"),
    ("when", "the workflow is executed"),
    ("then", "the workflow should complete"),
    ("then", "the workflow should complete with output:"),
    ("then", "the workflow should fault"),
    ("then", "the workflow should fault with error:"),
    ("then", "the workflow should cancel"),
    ("then", "the workflow output should have properties 'id', 'content.name'"),
    ("then", "the workflow output should have a 'error.instance' property with value:"),
    ("then", "the workflow output should have a 'colors' property containing 1 items"),
    ("then", "setRed should run first"),
    ("then", "setRed should run last"),
    ("then", "setGreen should run after setRed"),
    ("then", "setRed should run before setGreen"),
    ("then", "setRed should cancel"),
    ("then", "setRed should complete"),
    ("then", "setRed should complete with output:"),
    ("then", "setRed should fault"),
    ("then", "setRed should fault with error:"),
]


@pytest.mark.parametrize(("kind", "text"), PHRASES)
def test_each_phrase_has_exactly_one_step(kind: str, text: str) -> None:
    from pytest_bdd.steps import step_function_context_registry

    ours = [
        context
        for context in step_function_context_registry.values()
        if context.step_func.__module__ == __name__ and context.type == kind
    ]
    assert len([c for c in ours if c.parser.is_matching(text)]) == 1


def test_the_phrases_no_feature_uses_yet_check_what_they_say() -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)

    def record(index: int, name: str, status: Any, **extra: Any) -> TaskRecord:
        fields: dict[str, Any] = {"input": {}, "output": None, "error": None, **extra}
        reference = f"/do/{index}/{name}"
        return TaskRecord(
            reference=reference, name=name, status=status, started_at=now, ended_at=now, **fields
        )

    tasks = (
        record(0, "a", "completed", output={"x": 1}),
        record(1, "b", "faulted", error={"type": "https://e.com/x", "status": 500}),
        record(2, "c", "cancelled"),
    )
    state = Ctk(
        result=RunResult(
            run_id="r_1", status="cancelled", output=None, error=None, tasks=tasks, emitted=()
        )
    )
    should_cancel(state)
    task_runs_relative(state, "a", "before", "b")
    task_status(state, "a", "complete")
    task_status(state, "b", "fault")
    task_status(state, "c", "cancel")
    task_output(state, "a", "x: 1")
    task_error(state, "b", "status: 500")
    with pytest.raises(AssertionError):
        task_status(state, "a", "fault")
    with pytest.raises(AssertionError):
        task_runs_relative(state, "c", "before", "a")
