"""Documents written for older DSL versions and drafts are judged by the version they declare.

The published 1.0.3 schema (read in place from ``../shared/spec/schema``) is the reference for
1.0.3's rules; the loader encodes what earlier versions allowed (``emitflow.dsl.versions``).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

from emitflow.dsl import parse_workflow
from emitflow.dsl.yaml import read_text
from emitflow.errors import DocumentError
from emitflow.runner import RunOptions, execute
from tests.conftest import require_spec

MAP_ARGUMENTS = """\
document: {{dsl: '{dsl}', namespace: test, name: versions, version: '1.0.0'}}
do:
  - greet:
      run:
        shell:
          command: 'echo "$@"'
          arguments:
            --name: ${{ .name }}
            --loud: ''
"""


@cache
def _release_schema() -> Any:
    path = require_spec("schema") / "workflow-v1.0.3-release.yaml"
    return read_text(path.read_text(encoding="utf-8"), source=str(path), format="yaml").data


def _arguments_schemas(node: Any) -> list[Any]:
    """Every ``arguments`` property schema under a ``shell`` or ``script`` in the schema."""
    found: list[Any] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("shell", "script") and isinstance(value, dict):
                found.extend(_arguments_in(value))
            found.extend(_arguments_schemas(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_arguments_schemas(value))
    return found


def _arguments_in(node: Any) -> list[Any]:
    if not isinstance(node, dict):
        return []
    here = [node["properties"]["arguments"]] if "arguments" in node.get("properties", {}) else []
    for branch in node.get("oneOf", []) + node.get("allOf", []):
        here.extend(_arguments_in(branch))
    return here


def test_the_release_schema_takes_arguments_as_a_list_only() -> None:
    schemas = _arguments_schemas(_release_schema())
    assert schemas, "no run.shell/run.script arguments in the 1.0.3 schema"
    assert all(schema["type"] == "array" for schema in schemas)


def test_a_1_0_3_document_with_map_arguments_is_refused() -> None:
    with pytest.raises(DocumentError, match=r"since DSL 1\.0\.3 'arguments' is a list"):
        parse_workflow(MAP_ARGUMENTS.format(dsl="1.0.3"))


@pytest.mark.parametrize("dsl", ["1.0.0", "1.0.1", "1.0.2"])
async def test_older_releases_load_with_a_warning_and_map_arguments_run(dsl: str) -> None:
    workflow = parse_workflow(MAP_ARGUMENTS.format(dsl=dsl))
    (warning,) = workflow.warnings
    assert f"written for DSL {dsl}; emitflow runs 1.0.3" in warning
    result = await execute(workflow, input={"name": "Ann"}, options=RunOptions())
    assert result.status == "completed", result.error
    assert result.output == "--name Ann --loud"


@pytest.mark.parametrize("dsl", ["1.0.0-alpha5", "1.0.0-alpha1", "1.0.0-rc1", "1.0.0-rc.2"])
def test_1_0_0_drafts_load_with_a_warning(dsl: str) -> None:
    workflow = parse_workflow(MAP_ARGUMENTS.format(dsl=dsl))
    assert workflow.document.dsl == dsl
    assert any("pre-release draft of 1.0.0" in warning for warning in workflow.warnings)


@pytest.mark.parametrize("dsl", ["0.8.0", "1.1.0", "2.0.0", "1.0.4", "1.0.3-alpha1"])
def test_other_versions_are_refused(dsl: str) -> None:
    with pytest.raises(DocumentError, match=re.escape(f"DSL version {dsl!r} is not supported")):
        parse_workflow(MAP_ARGUMENTS.format(dsl=dsl))


def test_a_1_0_3_document_has_no_version_warning() -> None:
    workflow = parse_workflow(
        MAP_ARGUMENTS.format(dsl="1.0.3").replace(
            "          arguments:\n            --name: ${ .name }\n            --loud: ''\n", ""
        )
    )
    assert workflow.warnings == ()
