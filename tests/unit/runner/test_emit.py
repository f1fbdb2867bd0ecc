"""emit: the event built, generated attributes, output, when it is published, run attributes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from emitflow.clock import VirtualClock
from emitflow.errors import ConfigurationError
from emitflow.events.cloudevent import CloudEvent
from emitflow.runner import CodeStep, CodeStepOutcome, MemorySink, RunOptions
from tests.unit.runner.workflows import run

EMIT = """
do:
  - greet:
      emit:
        event:
          with:
            type: com.example.greeted.v1
            subject: '${ .user }'
            partitionkey: '${ .user }'
            data:
              greeting: '${ "Hello \\(.user)!" }'
"""


async def test_generated_attributes_and_the_output_is_the_event() -> None:
    sink = MemorySink()
    clock = VirtualClock(datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC))
    result = await run(EMIT, {"user": "Ann"}, events=sink, clock=clock)
    assert result.status == "completed"
    event = result.output
    uuid.UUID(event["id"])
    assert event == {
        "specversion": "1.0",
        "id": event["id"],
        "source": "/test/unit/1.0.0",
        "type": "com.example.greeted.v1",
        "time": "2026-03-04T05:06:07.000Z",
        "subject": "Ann",
        "partitionkey": "Ann",
        "datacontenttype": "application/json",
        "data": {"greeting": "Hello Ann!"},
    }
    assert [e.to_dict() for e in sink.events] == [event]
    assert [e.to_dict() for e in result.emitted] == [event]
    assert result.tasks[0].emits == (event,)


async def test_given_attributes_win() -> None:
    result = await run(
        """
        do:
          - e:
              emit:
                event:
                  with:
                    type: t.v1
                    id: fixed
                    source: 'https://example.com'
                    time: '2020-01-01T00:00:00Z'
        """
    )
    assert result.output == {
        "specversion": "1.0",
        "id": "fixed",
        "source": "https://example.com",
        "type": "t.v1",
        "time": "2020-01-01T00:00:00Z",
    }


async def test_invalid_attributes_fault_clearly() -> None:
    result = await run(
        """
        do:
          - e:
              emit:
                event:
                  with: {type: '${ .t }', source: s}
        """,
        {"t": ""},
    )
    assert result.status == "faulted"
    assert result.error is not None
    assert result.error.status == 400
    assert result.error.detail is not None and "'type'" in result.error.detail
    assert result.error.instance == "/do/0/e"


async def test_an_event_leaves_only_when_its_task_commits() -> None:
    sink = MemorySink()
    result = await run(
        """
        do:
          - e:
              emit: {event: {with: {type: t.v1}}}
              output: {schema: {document: {type: string}}}
        """,
        events=sink,
    )
    assert result.status == "faulted"
    assert sink.events == []
    assert result.emitted == ()


async def test_events_leave_in_order_as_tasks_commit() -> None:
    sink = MemorySink()
    result = await run(
        """
        do:
          - loop:
              for: {in: '.items'}
              do:
                - e: {emit: {event: {with: {type: t.v1, data: '${ $item }'}}}}
        """,
        {"items": [1, 2, 3]},
        events=sink,
    )
    assert [e.data for e in sink.events] == [1, 2, 3]
    assert len(result.emitted) == 3


class HeldSteps:
    """A code-step runner whose step holds one event."""

    async def run(self, step: CodeStep) -> CodeStepOutcome:
        event = CloudEvent.create(type="com.example.held", source="/p", emitflowhops=9)
        return CodeStepOutcome(output=step.input, emits=(event,))


async def test_run_event_extensions_are_set_on_every_event_and_win() -> None:
    events, trace = MemorySink(), MemorySink()
    result = await run(
        """
        do:
          - e:
              emit: {event: {with: {type: t.v1, emitflowhops: 7, region: eu}}}
          - step:
              run:
                script:
                  language: python
                  code: |
                    def handler(pd):
                        return None
        """,
        events=events,
        trace=trace,
        code_steps=HeldSteps(),
        event_extensions={"emitflowhops": 2, "tenant": "acme"},
    )
    assert result.status == "completed", result.error
    emitted, held = events.events
    assert result.tasks[0].output == emitted.to_dict()  # the output is the event as sent
    assert {k: emitted.attributes[k] for k in ("emitflowhops", "tenant", "region")} == {
        "emitflowhops": 2,
        "tenant": "acme",
        "region": "eu",
    }
    assert (held.type, held.attributes["emitflowhops"], held.attributes["tenant"]) == (
        "com.example.held",
        2,
        "acme",
    )
    assert [e.attributes for e in result.emitted] == [emitted.attributes, held.attributes]
    assert trace.events and all(e.attributes["emitflowhops"] == 2 for e in trace.events)


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        ({"Hops": 1}, "not a CloudEvents attribute name"),
        ({"source": "/x"}, "context attribute"),
        ({"hops": 1.5}, "string, integer or boolean"),
    ],
)
def test_invalid_event_extensions_are_refused(extensions: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RunOptions(event_extensions=extensions)
