"""$secrets: only declared names, 403 otherwise; secret values never leave the engine."""

from __future__ import annotations

import json

from emitflow.runner import MemorySink
from tests.unit.runner.workflows import run

SECRET = "s3cr3t-value"


async def test_declared_secrets_are_readable() -> None:
    result = await run(
        """
        use: {secrets: [apiKey]}
        do:
          - t: {set: {length: '${ $secrets.apiKey | length }'}}
        """,
        secrets={"apiKey": SECRET},
    )
    assert result.output == {"length": len(SECRET)}


async def test_an_undeclared_secret_is_forbidden() -> None:
    result = await run(
        """
        use: {secrets: [apiKey]}
        do:
          - t: {set: {x: '${ $secrets["other"] }'}}
        """,
        secrets={"apiKey": SECRET, "other": "x"},
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.type.endswith("/errors/authorization")
    assert (result.error.status, result.error.instance) == (403, "/do/0/t")


async def test_a_declared_but_missing_secret_is_forbidden() -> None:
    result = await run(
        """
        use: {secrets: [apiKey]}
        do:
          - t: {set: {x: '${ $secrets.apiKey }'}}
        """
    )
    assert result.error is not None and result.error.status == 403


async def test_only_declared_secrets_are_in_the_map() -> None:
    result = await run(
        """
        use: {secrets: [apiKey]}
        do:
          - t: {set: {names: '${ $secrets | keys }'}}
        """,
        secrets={"apiKey": SECRET, "other": "x"},
    )
    assert result.output == {"names": ["apiKey"]}


async def test_secret_values_are_masked_in_errors_traces_and_events() -> None:
    trace, events = MemorySink(), MemorySink()
    result = await run(
        """
        use: {secrets: [apiKey]}
        do:
          - leak: {emit: {event: {with: {type: t.v1, data: {key: '${ $secrets.apiKey }'}}}}}
          - fail:
              raise:
                error:
                  type: https://example.com/e
                  status: 500
                  title: '${ "bad key " + $secrets.apiKey }'
                  detail: '${ "the key is \\($secrets.apiKey)" }'
        """,
        secrets={"apiKey": SECRET},
        trace=trace,
        events=events,
    )
    assert result.error is not None
    assert result.error.title == "bad key ***"
    assert result.error.detail == "the key is ***"
    shown = json.dumps(
        [
            [e.to_dict() for e in trace.events],
            [e.to_dict() for e in events.events],
            [(t.output, t.error) for t in result.tasks],
        ]
    )
    assert SECRET not in shown


async def test_a_jq_error_quoting_a_secret_is_masked() -> None:
    result = await run(
        """
        use: {secrets: [apiKey]}
        do:
          - t: {set: {x: '${ $secrets.apiKey + 1 }'}}
        """,
        secrets={"apiKey": SECRET},
    )
    assert result.error is not None
    assert SECRET not in json.dumps(result.error.to_dict())
    assert SECRET not in json.dumps([t.error for t in result.tasks])
