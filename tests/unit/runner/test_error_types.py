"""Error types: both URI namespaces match in ``catch``; which one is raised is a setting."""

from __future__ import annotations

import pytest

from emitflow.errors import ConfigurationError, Problem, error_types
from emitflow.runner import RunOptions
from tests.unit.runner.workflows import run

OLD = "https://serverlessworkflow.io/spec/1.0.0/errors/"
NEW = "https://open-workflow-specification.org/spec/1.0.0/errors/"

CAUGHT = """
do:
  - guarded:
      try:
        - fail:
            raise:
              error: {{type: '{raised}validation', status: 400}}
      catch:
        errors: {{with: {{type: '{filtered}validation'}}}}
        as: failure
        do:
          - seen: {{set: {{type: '${{ $failure.type }}'}}}}
"""


@pytest.mark.parametrize("raised", [OLD, NEW])
@pytest.mark.parametrize("filtered", [OLD, NEW])
async def test_catch_matches_a_kind_in_both_namespaces(raised: str, filtered: str) -> None:
    result = await run(CAUGHT.format(raised=raised, filtered=filtered))
    assert result.status == "completed", result.error
    assert result.output == {"type": raised + "validation"}


TIMEOUT = "do:\n  - x: {set: {a: '${ 1 / 0 }'}}\n"


async def test_the_default_namespace_is_serverlessworkflow_io() -> None:
    result = await run(TIMEOUT)
    assert result.error is not None
    assert result.error.type == OLD + "expression"


async def test_the_run_option_chooses_the_namespace_raised() -> None:
    result = await run(TIMEOUT, error_types="open-workflow-specification.org")
    assert result.error is not None
    assert result.error.type == NEW + "expression"
    caught = await run(
        CAUGHT.format(raised=OLD, filtered=OLD)
        .replace(
            "raise:\n              error: {type: '" + OLD + "validation', status: 400}",
            "set: {a: '${ 1 / 0 }'}",
        )
        .replace("validation'}}", "expression'}}"),
        error_types="open-workflow-specification.org",
    )
    assert caught.output == {"type": NEW + "expression"}


async def test_the_environment_chooses_the_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMITFLOW_ERROR_TYPES", "open-workflow-specification.org")
    assert Problem.of("timeout").type == NEW + "timeout"
    with error_types("serverlessworkflow.io"):
        assert Problem.of("timeout").type == OLD + "timeout"


def test_an_unknown_namespace_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not a known namespace"):
        RunOptions(error_types="example.org")
