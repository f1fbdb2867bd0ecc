"""emit: the event built, generated attributes, output, and when it is published."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from emitflow.clock import VirtualClock
from emitflow.engine import MemorySink
from tests.unit.engine.workflows import run

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
