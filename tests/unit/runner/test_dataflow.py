"""The data flow of tasks and workflows: transforms, schemas, context, variables."""

from __future__ import annotations

from datetime import UTC, datetime

from emitflow.clock import VirtualClock
from tests.unit.runner.workflows import run


async def test_input_from_output_as_and_input_variable() -> None:
    result = await run(
        """
        do:
          - pick:
              input: {from: .user}
              set: {id: '${ .id }'}
              output:
                as: '{ ids: [ $input.id, .id ], raw: $task.output }'
        """,
        {"user": {"id": 7}},
    )
    assert result.output == {"ids": [7, 7], "raw": {"id": 7}}
    assert result.tasks[0].input == {"user": {"id": 7}}


async def test_object_transforms_evaluate_embedded_expressions() -> None:
    result = await run(
        """
        do:
          - t:
              input: {from: {a: '${ .x }', fixed: 1}}
              set: '${ . }'
              output: {as: {b: '${ .a }', c: '${ $input.fixed }'}}
        """,
        {"x": 5},
    )
    assert result.output == {"b": 5, "c": 1}


async def test_scalar_outputs_flow_on() -> None:
    result = await run(
        """
        do:
          - one: {set: {id: 1}, output: {as: .id}}
          - two: {set: {id: 2}, output: {as: '{ ids: [ $input, .id ] }'}}
        """
    )
    assert result.output == {"ids": [1, 2]}


async def test_store_as_shorthand_keeps_the_input_and_stores_the_result() -> None:
    result = await run(
        """
        do:
          - call: {set: {orderId: o-1}, output: {as: orderResult}}
          - scalar: {input: {from: .orderResult.orderId}, set: {x: 1}, output: {as: kept}}
        """,
        {"customerId": "c1"},
    )
    assert result.tasks[0].output == {"customerId": "c1", "orderResult": {"orderId": "o-1"}}
    assert result.output == {"kept": {"x": 1}}


async def test_export_replaces_the_context_and_sees_output() -> None:
    result = await run(
        """
        do:
          - first:
              set: {n: 1}
              export: {as: '$context + {seen: [$output.n]}'}
          - second:
              set: {ctx: '${ $context }'}
              export: {as: '{only: true}'}
          - third: {set: {ctx: '${ $context }', prev: '${ .ctx }'}}
        """,
        context={"initial": True},
    )
    assert result.output == {
        "ctx": {"only": True},
        "prev": {"initial": True, "seen": [1]},
    }


async def test_context_starts_empty() -> None:
    result = await run("do:\n  - c: {set: {ctx: '${ $context }'}}")
    assert result.output == {"ctx": {}}


async def test_input_schema_failure_is_a_validation_fault() -> None:
    result = await run(
        """
        do:
          - typed:
              input:
                schema:
                  document: {type: object, required: [n], properties: {n: {type: integer}}}
              set: {ok: true}
        """,
        {"n": "one"},
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.type.endswith("/errors/validation")
    assert result.error.status == 400
    assert result.error.instance == "/do/0/typed"
    assert result.error.detail is not None and "/n" in result.error.detail


async def test_output_and_export_schemas() -> None:
    output_bad = await run(
        """
        do:
          - t:
              set: {n: 1}
              output: {schema: {document: {type: object, required: [m]}}}
        """
    )
    assert output_bad.status == "faulted"
    export_bad = await run(
        """
        do:
          - t:
              set: {n: 1}
              export: {as: '{n: .n}', schema: {document: {properties: {n: {type: string}}}}}
        """
    )
    assert export_bad.status == "faulted"
    assert export_bad.error is not None and export_bad.error.status == 400


async def test_schema_from_a_file_next_to_the_workflow(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "schema.json").write_text('{"type": "object", "required": ["id"]}')
    text = """
        do:
          - t:
              input: {schema: {resource: {endpoint: schema.json}}}
              set: {ok: true}
        """
    assert (await run(text, {"id": 1}, workflows_dir=folder)).status == "completed"
    assert (await run(text, {}, workflows_dir=folder)).status == "faulted"


async def test_workflow_input_and_output() -> None:
    result = await run(
        """
        input:
          schema: {document: {type: object, required: [order]}}
          from: .order
        do:
          - t: {set: {total: '${ .price * .qty }'}}
        output:
          as: .total
        """,
        {"order": {"price": 2, "qty": 3}},
    )
    assert result.output == 6
    invalid = await run("input: {schema: {document: {type: object, required: [x]}}}\n"
                        "do:\n  - t: {set: {a: 1}}", {})  # fmt: skip
    assert invalid.status == "faulted"
    assert invalid.error is not None and invalid.error.instance == "/"


async def test_runtime_variables() -> None:
    clock = VirtualClock(datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    result = await run(
        """
        do:
          - t:
              set:
                task: '${ $task.name + " " + $task.reference }'
                definition: '${ $task.definition.set.task }'
                started: '${ $task.startedAt }'
                workflow: '${ $workflow.id }'
                winput: '${ $workflow.input }'
                doc: '${ $workflow.definition.document.name }'
                runtime: '${ $runtime.name }'
        """,
        {"a": 1},
        clock=clock,
        run_id="r_test",
    )
    assert result.output == {
        "task": "t /do/0/t",
        "definition": '${ $task.name + " " + $task.reference }',
        "started": {
            "iso8601": "2026-05-01T12:00:00.000Z",
            "epoch": {"seconds": 1777636800, "milliseconds": 1777636800000},
        },
        "workflow": "r_test",
        "winput": {"a": 1},
        "doc": "unit",
        "runtime": "emitflow",
    }


async def test_expression_failure_is_an_expression_fault_with_instance() -> None:
    result = await run(
        """
        do:
          - ok: {set: {a: text}}
          - bad: {set: {b: '${ .a + 1 }'}}
        """
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.type.endswith("/errors/expression")
    assert result.error.status == 400
    assert result.error.instance == "/do/1/bad"
    assert result.tasks[1].status == "faulted"
    assert result.tasks[1].error == result.error.to_dict()


async def test_if_sees_the_raw_input_and_context() -> None:
    result = await run(
        """
        do:
          - t:
              if: '$context.on and .go'
              input: {from: .inner}
              set: {ran: '${ . }'}
        """,
        {"go": True, "inner": 1},
        context={"on": True},
    )
    assert result.output == {"ran": 1}
