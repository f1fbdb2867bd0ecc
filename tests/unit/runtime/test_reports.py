"""Hop counts, ``$errors`` reports and the delivery context."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emitflow.events.cloudevent import CloudEvent
from emitflow.runtime.reports import (
    HOPS_EXTENSION,
    fault_report,
    hops_of,
    stamp_hops,
    undelivered_report,
)
from emitflow.store import RunRecord, StoredEvent

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "hops"), [(None, 0), (3, 3), ("4", 4), ("x", 0), (True, 0), (-2, 0)]
)
def test_hops_of(value: object, hops: int) -> None:
    attributes = {} if value is None else {HOPS_EXTENSION: value}
    assert hops_of(attributes) == hops


def test_stamp_hops_adds_the_extension() -> None:
    event = CloudEvent.create(type="t", source="/s", data={"a": 1})
    stamped = stamp_hops(event, 2)
    assert stamped.attributes[HOPS_EXTENSION] == 2 and stamped.data == {"a": 1}
    assert HOPS_EXTENSION not in event.attributes
    assert stamp_hops(stamped, 2) is stamped


def test_fault_report_has_pipedreams_shape() -> None:
    run = RunRecord(
        id="r_1",
        workflow_id="p_1",
        workflow_revision=2,
        status="faulted",
        input={"x": 1},
        trigger={"event": {"name": "Yoda"}, "context": {"emitter_id": "p_0"}},
        hops=3,
        created_at=NOW,
    )
    new = fault_report(run, {"type": "t", "status": 500}, NOW)
    assert new.channel == "$errors" and new.emitter_id == "p_1"
    data = new.event.data
    assert data["original_event"] == {"name": "Yoda"}
    assert data["original_context"]["emitter_id"] == "p_0"
    assert data["original_context"]["run_id"] == "r_1"
    assert data["error"] == {"type": "t", "status": 500}
    assert new.event.attributes[HOPS_EXTENSION] == 3


def test_undelivered_report() -> None:
    stored = StoredEvent(
        position="1-0",
        emitter_id="p_1",
        channel="",
        indexed_at_ms=1,
        event={"specversion": "1.0", "id": "e", "source": "/s", "type": "t", HOPS_EXTENSION: 16},
        metadata={},
    )
    new = undelivered_report(stored, "loop", "too many hops", NOW)
    assert new.channel == "$errors"
    assert new.event.data["reason"] == "loop"
    assert new.event.data["original_context"]["position"] == "1-0"
