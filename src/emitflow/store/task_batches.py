"""A compact encoding of many task records of one run: one JSON document per batch.

A run's end stores its whole task list at once (``Transition.tasks``), and a loop of pure
tasks makes that list long: 10,001 records for a 10,000-item ``for`` with one ``set``. One row
and five JSON texts per record cost more than running the tasks did, so a backend may store
them ``BATCH_SIZE`` to a row instead, as one document::

    {"v": 1,
     "names":  [[reference, name], ...],           # each distinct task once
     "values": [value, ...],                        # each distinct input/output once
     "tasks":  [sequence, name_index, status, input_index, output_index, error, emits,
                log, started_us, ended_us,  ...]}     # ten items per record, flat

Inputs and outputs are kept once per object (by identity, when the records are packed): in a
task list the input of one task is usually the very object that the task before it output, so
it is written once, not twice. Decoded records whose values were one object share one decoded
value, which store records allow (they are read-only). Times are microseconds since the epoch.
The records are one flat list, not a list per record: ten thousand small lists kept alive at
once cost a garbage collector pass every few hundred records, more than encoding them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from emitflow.errors import StoreError
from emitflow.store import codec
from emitflow.store.records import StoredTask

__all__ = ["BATCH_SIZE", "pack_tasks", "unpack_tasks"]

#: Records per stored batch: big enough to make a row cheap per record, small enough that
#: reading one run's records never decodes one huge document.
BATCH_SIZE = 1000
_VERSION = 1
_FIELDS = 10  # items per record in "tasks"
# One encoder for every batch: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def pack_tasks(tasks: Sequence[StoredTask]) -> list[tuple[int, str]]:
    """The records as ``(first sequence, JSON text)`` batches; ``StoreError`` if not JSON."""
    return [_pack(chunk) for chunk in _chunks(tasks)]


def _chunks(tasks: Sequence[StoredTask]) -> Iterator[Sequence[StoredTask]]:
    for start in range(0, len(tasks), BATCH_SIZE):
        yield tasks[start : start + BATCH_SIZE]


def _pack(tasks: Sequence[StoredTask]) -> tuple[int, str]:
    names: dict[tuple[str, str], int] = {}
    values: list[Any] = []
    seen: dict[int, int] = {}  # id(value) -> its index; the records keep the values alive
    to_micros = codec.to_micros
    rows: list[Any] = []
    # One loop, no helper calls: this runs once per task of a run, thousands of times.
    for task in tasks:
        key = (task.reference, task.name)
        name = names.get(key)
        if name is None:
            name = names[key] = len(names)
        value = task.input
        given = seen.get(id(value))
        if given is None:
            given = seen[id(value)] = len(values)
            values.append(value)
        value = task.output
        made = seen.get(id(value))
        if made is None:
            made = seen[id(value)] = len(values)
            values.append(value)
        started, ended = task.started_at, task.ended_at
        rows.extend(
            (
                task.sequence,
                name,
                task.status,
                given,
                made,
                task.error,
                task.emits or None,
                task.log,
                None if started is None else to_micros(started),
                None if ended is None else to_micros(ended),
            )
        )
    document = {"v": _VERSION, "names": list(names), "values": values, "tasks": rows}
    try:
        text = _ENCODER.encode(document)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"value cannot be stored as JSON: {exc}") from exc
    return tasks[0].sequence, text


def unpack_tasks(run_id: str, text: str) -> list[StoredTask]:
    """The records of one batch, in the order they were packed."""
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("v") != _VERSION:
        raise StoreError(f"run {run_id!r}: a stored task batch has an unknown format")
    names = document["names"]
    values = document["values"]
    from_micros = codec.from_micros
    flat = document["tasks"]
    records = []
    for at in range(0, len(flat), _FIELDS):
        sequence, name, status, given, made, error, emits, log, started, ended = flat[
            at : at + _FIELDS
        ]
        reference, task_name = names[name]
        records.append(
            StoredTask(
                run_id=run_id,
                sequence=sequence,
                reference=reference,
                name=task_name,
                status=status,
                input=values[given],
                output=values[made],
                error=error,
                emits=emits or (),
                log=log,
                started_at=None if started is None else from_micros(started),
                ended_at=None if ended is None else from_micros(ended),
            )
        )
    return records
