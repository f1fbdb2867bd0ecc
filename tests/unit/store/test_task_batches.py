"""The compact encoding of a run's task list: values once per object, batches of records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from emitflow.errors import StoreError
from emitflow.store.records import StoredTask
from emitflow.store.task_batches import BATCH_SIZE, pack_tasks, unpack_tasks

START = datetime(2026, 1, 1, tzinfo=UTC)


def chain(count: int) -> list[StoredTask]:
    """A ``do`` list's records: each task's input is the object the one before it output."""
    records: list[StoredTask] = []
    data: dict[str, Any] = {"big": list(range(100))}
    for n in range(1, count + 1):
        output = {"n": n}
        records.append(
            StoredTask(
                run_id="r_1",
                sequence=n,
                reference="/do/0/loop/do/0/acc",
                name="acc",
                status="completed",
                input=data,
                output=output,
                started_at=START,
                ended_at=START,
            )
        )
        data = output
    return records


def test_a_value_shared_by_two_records_is_written_once() -> None:
    records = chain(3)
    ((first, text),) = pack_tasks(records)
    document = json.loads(text)
    assert first == 1
    assert document["names"] == [["/do/0/loop/do/0/acc", "acc"]]
    assert document["values"] == [{"big": list(range(100))}, {"n": 1}, {"n": 2}, {"n": 3}]
    assert unpack_tasks("r_1", text) == records


def test_long_lists_are_cut_into_batches() -> None:
    records = chain(BATCH_SIZE * 2 + 1)
    batches = pack_tasks(records)
    assert [first for first, _ in batches] == [1, BATCH_SIZE + 1, 2 * BATCH_SIZE + 1]
    assert [r for _, text in batches for r in unpack_tasks("r_1", text)] == records


def test_an_unknown_format_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="unknown format"):
        unpack_tasks("r_1", '{"v": 99}')
