"""Record values refuse what the store could not keep."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from emitflow.errors import StoreError
from emitflow.events.cloudevent import CloudEvent
from emitflow.ids import check_triple, emitter_patterns, random_id
from emitflow.store import (
    EventQuery,
    NewEvent,
    NewRun,
    NewWorkflow,
    RetentionPolicy,
    RunRecord,
    StoredTask,
    Subscription,
    Transition,
    Wait,
    WorkflowVersion,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_statuses_are_checked() -> None:
    with pytest.raises(StoreError, match="run status 'done'"):
        RunRecord(id="r_1", workflow_id="p_1", workflow_revision=1, status="done", created_at=NOW)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="task status"):
        StoredTask(run_id="r_1", sequence=1, reference="/do/0/a", name="a", status="nope")  # type: ignore[arg-type]
    skipped = StoredTask(run_id="r_1", sequence=1, reference="/do/0/a", name="a", status="skipped")
    assert skipped.emits == ()


def test_new_runs_are_checked() -> None:
    with pytest.raises(StoreError, match="workflow_id"):
        NewRun(workflow_id="", workflow_revision=1)
    with pytest.raises(StoreError, match="dedupe_key"):
        NewRun(workflow_id="p_1", workflow_revision=1, dedupe_key=("/s", ""))


def test_a_transition_names_one_run() -> None:
    wait = Wait(run_id="r_2", reference="/do/0/l", workflow_id="p_1")
    with pytest.raises(StoreError, match="Wait of run 'r_2'"):
        Transition(run_id="r_1", wait=wait)
    assert Transition(run_id="r_2", wait=wait).wait == wait


def test_new_events_are_checked() -> None:
    event = CloudEvent.create(type="t", source="/s")
    with pytest.raises(StoreError, match="emitter_id"):
        NewEvent(emitter_id="", event=event)
    with pytest.raises(StoreError, match="channel"):
        NewEvent(emitter_id="p_1", event=event, channel=None)  # type: ignore[arg-type]


def test_sequences_become_tuples() -> None:
    emits: Any = [{"a": 1}]  # a list, as JSON gives it back
    task = StoredTask(
        run_id="r", sequence=1, reference="/a", name="a", status="running", emits=emits
    )
    assert task.emits == ({"a": 1},)
    filters: Any = [1]
    sub = Subscription(
        id="sub_1", emitter_id="p", listener_id="p2", event_name="", filters=filters, created_at=NOW
    )
    assert sub.filters == (1,)


def test_only_emitter_queries_are_counted() -> None:
    assert EventQuery(emitter_id="p_1").counted
    assert EventQuery(emitter_id="p_1", channel="x").counted
    assert not EventQuery().counted
    assert not EventQuery(emitter_id="p_1", type="t").counted
    assert not EventQuery(emitter_id="p_1", since=NOW).counted


def test_retention_counts_are_not_negative() -> None:
    with pytest.raises(StoreError, match="max_count"):
        RetentionPolicy(max_count=-1)


def test_same_document_compares_json_values() -> None:
    version = WorkflowVersion(
        id="p_1", revision=1, namespace="n", name="w", version="1", document="d",
        media_type="application/json", definition={"a": [1]}, created_at=NOW,
    )  # fmt: skip
    new = NewWorkflow(
        namespace="n", name="w", version="1", document="d", media_type="application/json"
    )
    assert version.same_document(replace(new, definition={"a": (1,)}))
    assert not version.same_document(new)


def test_random_ids_have_their_prefix() -> None:
    ids = {random_id("r") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("r_") and len(i) == 19 and i[2:].isalnum() for i in ids)


def test_emitter_patterns_add_the_glob() -> None:
    assert emitter_patterns("p_abc") == ("p_abc", "p_*")
    assert emitter_patterns("dc_x") == ("dc_x", "dc_*")
    assert emitter_patterns("p_*") == ("p_*",)
    assert emitter_patterns("plain") == ("plain",)


def test_subscription_triples_are_checked() -> None:
    check_triple("p_*", "wh_1", "$errors")
    with pytest.raises(StoreError, match="emitter_id"):
        check_triple("", "p_1", "")
    with pytest.raises(StoreError, match="glob"):
        check_triple("p_1", "dc_*", "")
    with pytest.raises(StoreError, match="event_name"):
        check_triple("p_1", "p_2", None)  # type: ignore[arg-type]
