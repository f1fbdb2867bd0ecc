"""The CloudEvents SQL v1 TCK, read in place: one test per case, value and error kind exact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor

from emitflow.cesql import compile, evaluate, matches
from emitflow.errors import CesqlParseError
from tests.conftest import require_spec

# The v1.0.0 kit: 18 files. A different count means the kit changed or was misread.
KIT_CASES = 275

# Where a case gives no event, any valid one will do (the kit's README). This one has no optional
# attribute, as the cases expecting `missingAttribute` on `subject`, `myext`... require.
DEFAULT_EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "tck-event",
    "source": "/cesql/tck",
    "type": "io.cloudevents.cesql.tck",
}


class _JsonConstructor(SafeConstructor):
    """YAML 1.2 as JSON reads it: the kit's events are JSON events, so a time stays text."""


_JsonConstructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)


def _kit() -> Path:
    try:
        return require_spec("cesql-tck")
    except pytest.skip.Exception as exc:
        pytest.skip(str(exc), allow_module_level=True)


def _cases(kit: Path) -> Iterator[Any]:
    typed = YAML(typ="safe", pure=True)
    typed.Constructor = _JsonConstructor
    # Names and expressions are text, but the kit writes some as bare scalars (`TRUE`, `0`,
    # `-10`) that a typed loader turns into values; the base loader keeps every scalar as text.
    text = YAML(typ="base", pure=True)
    for path in sorted(kit.glob("*.yaml")):
        source = path.read_text(encoding="utf-8")
        pairs = zip(typed.load(source)["tests"], text.load(source)["tests"], strict=True)
        for case, raw in pairs:
            case = {**case, "name": raw["name"], "expression": raw["expression"]}
            yield pytest.param(case, id=f"{path.stem}::{case['name']}")


CASES = list(_cases(_kit()))
if len({case.id for case in CASES}) != KIT_CASES or len(CASES) != KIT_CASES:
    # Checked at collection, so the run has exactly one test per case.
    raise RuntimeError(f"read {len(CASES)} CESQL TCK cases, expected {KIT_CASES} distinct ones")


@pytest.mark.parametrize("case", CASES)
def test_case(case: dict[str, Any]) -> None:
    expression: str = case["expression"]
    event = dict(case.get("event") or DEFAULT_EVENT)
    event.update(case.get("eventOverrides") or {})

    result = evaluate(expression, event)

    assert (result.error.kind if result.error else None) == case.get("error"), result.errors
    if "result" in case:
        expected = case["result"]
        assert (type(result.value), result.value) == (type(expected), expected)
    if case.get("error") == "parse":
        with pytest.raises(CesqlParseError):
            compile(expression)
    # As a filter: only a clean `true` passes (spec §1.2).
    assert matches(expression, event) is (result.value is True and not result.errors)
