"""The seed dialect (ARCHITECTURE decision 8) on the project's example, ``examples/order.yaml``."""

from __future__ import annotations

import re

import pytest

from emitflow.dsl import load_workflow, parse_workflow
from emitflow.dsl.model import CallTask, EmitTask, ErrorFilter, OutputSpec, SetTask
from emitflow.errors import DocumentError
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "order.yaml"
HEAD = "document: {dsl: '1.0.3', namespace: test, name: case, version: '1.0.0'}\n"


def test_the_example_is_the_seed_documents_own() -> None:
    seed = ROOT.parent / "shared" / "seeds" / "001_94b81dd12c025230.txt"
    if not seed.exists():
        pytest.skip(f"the seed document is not beside the checkout ({seed})")
    # The seed's fence is left open at the end of the file.
    block = re.search(r"```yaml\n(.*?)(?:```|\Z)", seed.read_text(encoding="utf-8"), re.S)
    assert block is not None
    assert EXAMPLE.read_text(encoding="utf-8").rstrip("\n") == block.group(1).rstrip("\n")


def test_the_seed_loads_into_the_model() -> None:
    workflow = load_workflow(EXAMPLE)
    assert workflow.qualified_name == "test/emit-example:0.1.0"
    assert workflow.document.dsl == "1.0.0"
    place, placed, failed = (item.task for item in workflow.do)
    assert isinstance(place, CallTask) and place.http is not None
    assert place.http.endpoint.authentication is not None
    assert place.http.endpoint.authentication.use == "orderServiceAuth"
    assert place.then == "emitOrderPlacedEvent"
    assert place.output == OutputSpec(store_as="orderResult")
    assert place.catch is not None and place.catch.then == "handleOrderError"
    assert place.catch.errors == ErrorFilter(type="*")
    assert isinstance(placed, EmitTask) and placed.event["type"] == "com.petstore.order.placed.v1"
    assert placed.output == OutputSpec(store_as="eventResult")
    assert isinstance(failed, EmitTask) and failed.then is None
    assert workflow.use.authentications["orderServiceAuth"].scheme == "bearer"
    assert workflow.use.secrets == ("orderServiceApiKey",)
    assert [item.reference for item in workflow.do] == [
        "/do/0/placeOrder",
        "/do/1/emitOrderPlacedEvent",
        "/do/2/handleOrderError",
    ]


def test_each_shorthand_is_warned_about_with_its_canonical_form() -> None:
    warnings = load_workflow(EXAMPLE).warnings
    source = str(EXAMPLE)
    assert [w.split(": ", 1)[0] for w in warnings] == [
        f"{source}:2:3 at /document/dsl",
        f"{source}:28:9 at /do/0/placeOrder/output/as",
        f"{source}:30:7 at /do/0/placeOrder/catch",
        f"{source}:33:13 at /do/0/placeOrder/catch/errors/with/type",
        f"{source}:49:9 at /do/1/emitOrderPlacedEvent/output/as",
        f"{source}:50:5 at /do/2/handleOrderError",
    ]
    assert "written for DSL 1.0.0; emitflow runs 1.0.3" in warnings[0]
    assert "output.as: ${ $input + { orderResult: . } }" in warnings[1]
    assert "- tryPlaceOrder: {try: [{placeOrder: {call: …}}], catch: {…}}" in warnings[2]
    assert "canonical form leaves 'type' out" in warnings[3]
    assert "add 'then: end' (or another directive) to 'emitOrderPlacedEvent'" in warnings[5]
    assert "'handleOrderError' is the error path of 'placeOrder'" in warnings[5]


def test_then_end_before_the_error_path_silences_the_fall_through_warning() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "      output:\n        as: eventResult\n",
        "      output:\n        as: eventResult\n      then: end\n",
    )
    warnings = parse_workflow(text).warnings
    assert len(warnings) == 5  # the four shorthands and the 1.0.0 declaration
    assert not any("falls through" in w for w in warnings)


@pytest.mark.parametrize(
    ("before", "warned"),
    [
        ("{set: {x: 1}}", True),
        ("{set: {x: 1}, then: continue}", True),
        ("{set: {x: 1}, then: exit}", False),
        ("{raise: {error: {type: 'https://x/e', status: 400}}}", False),
        ("{switch: [{a: {when: .a, then: end}}, {b: {then: exit}}]}", False),
        ("{switch: [{a: {when: .a, then: end}}]}", True),
    ],
)
def test_fall_through_into_an_error_path(before: str, warned: bool) -> None:
    text = HEAD + (
        "do:\n"
        "  - t: {try: [{a: {wait: PT1S}}], catch: {then: onError}, then: next}\n"
        f"  - next: {before}\n"
        "  - onError: {set: {failed: true}}\n"
    )
    warnings = parse_workflow(text).warnings
    assert any("falls through" in w for w in warnings) is warned


def test_a_jq_builtin_stays_an_expression() -> None:
    text = (
        HEAD
        + "do: [{a: {set: {x: [1]}, output: {as: length}}}, {b: {set: {}, output: {as: .x}}}]\n"
    )
    workflow = parse_workflow(text.replace("set: {}", "set: {y: 1}"))
    first = workflow.do[0].task
    assert isinstance(first, SetTask) and first.output == OutputSpec(as_="length")
    assert workflow.warnings == ()


def test_seed_shorthands_on_other_kinds() -> None:
    text = HEAD + (
        "do:\n  - a:\n      set: {x: 1}\n      catch: {errors: {with: {type: '*'}}, do: []}\n"
    )
    workflow = parse_workflow(text)
    task = workflow.do[0].task
    assert isinstance(task, SetTask) and task.catch is not None and task.catch.do == ()
    assert "'catch' on a 'set' task is an emitflow shorthand" in workflow.warnings[0]


def test_the_bare_name_shorthand_is_for_task_outputs_only() -> None:
    text = HEAD + "output: {as: result}\ndo: [{a: {set: {x: 1}}}]\n"
    with pytest.raises(DocumentError, match="at /output/as: invalid jq expression 'result'"):
        parse_workflow(text)
