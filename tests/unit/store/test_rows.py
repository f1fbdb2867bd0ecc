"""The row codecs both SQL backends share: a record written as a row reads back equal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from emitflow.errors import StoreError
from emitflow.store import codec
from emitflow.store.records import (
    RunRecord,
    StoredTask,
    TokenRecord,
    Wait,
    WorkflowVersion,
)
from emitflow.store.rows import RUN, RUN_CHANGES, TASK, TOKEN, WAIT, WORKFLOW, RowCodec

AT = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

CASES: list[tuple[RowCodec[Any], Any]] = [
    (
        RUN,
        RunRecord(
            id="run_1",
            workflow_id="wf_1",
            workflow_revision=2,
            status="completed",
            input={"a": [1, 2]},
            output={"b": None},
            error=None,
            context={},
            trigger={"type": "manual"},
            hops=3,
            created_at=AT,
            started_at=AT,
            ended_at=None,
        ),
    ),
    (
        TASK,
        StoredTask(
            run_id="run_1",
            sequence=4,
            reference="/do/0/set",
            name="set",
            status="completed",
            input={"x": 1},
            output={"x": 2},
            emits=({"type": "t"},),
            started_at=AT,
            ended_at=AT,
        ),
    ),
    (WAIT, Wait(run_id="run_1", reference="/do/1", workflow_id="wf_1", state=[1], expires_at=AT)),
    (
        TOKEN,
        TokenRecord(id="tok_1", name="ci", scopes=("runs:read",), digest="d" * 64, created_at=AT),
    ),
    (
        WORKFLOW,
        WorkflowVersion(
            id="wf_1",
            revision=1,
            namespace="ns",
            name="n",
            version="1.0.0",
            document="document: {}",
            media_type="application/yaml",
            definition={"do": []},
            created_at=AT,
        ),
    ),
]


@pytest.mark.parametrize(("codec_", "record"), CASES, ids=lambda case: type(case).__name__)
def test_a_record_written_as_a_row_reads_back_equal(codec_: RowCodec[Any], record: Any) -> None:
    row = dict(zip(codec_.names, codec_.to_row(record), strict=True))
    assert all(value is None or isinstance(value, str | int) for value in row.values())
    assert codec_.from_row(row) == record


def test_times_are_microseconds_and_json_is_text() -> None:
    record = CASES[0][1]
    row = dict(zip(RUN.names, RUN.to_row(record), strict=True))
    assert row["created_at"] == codec.to_micros(AT)
    assert row["input"] == '{"a":[1,2]}'
    assert row["ended_at"] is None


def test_an_encoder_gives_the_columns_asked_for_in_their_order() -> None:
    values = RUN_CHANGES(CASES[0][1])
    assert values[0] == "completed"
    assert values[-1] == "run_1"
    with pytest.raises(StoreError, match="no written column"):
        RUN.encoder("status", "nope")
