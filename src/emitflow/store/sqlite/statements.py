"""The SQLite statements whose shape depends on the call, composed from the same columns.

Every fixed query is a named one in ``store/sql/sqlite/queries_*.sql``; what stays here are the
parts that cannot be one text: pages with optional filters and a cursor on either side, and
``IN`` lists of as many placeholders as the caller gave values. Each builder gives the SQL and
its parameters, so callers never paste values into SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emitflow.store.paging import Window
from emitflow.store.records import EventQuery

__all__ = [
    "delete_events",
    "events_page",
    "filtered",
    "mark_outbox_done",
    "match_subscriptions",
    "renew_runs",
    "runs_page",
]

Statement = tuple[str, list[Any]]

_EVENT_FILTERS = ("emitter_id", "channel", "type", "source", "subject")


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _window(clauses: list[str], params: list[Any], column: str, window: Window) -> None:
    for bound, op in ((window.lower, ">"), (window.upper, "<")):
        if bound is not None:
            clauses.append(f"{column} {op} ?")
            params.append(bound)


def events_page(query: EventQuery, window: Window) -> Statement:
    """The SELECT of one page of events and its parameters (``limit + 1`` rows)."""
    clauses: list[str] = []
    params: list[Any] = []
    values = (query.emitter_id, query.channel, query.type, query.source, query.subject)
    for column, value in zip(_EVENT_FILTERS, values, strict=True):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    _window(clauses, params, "pos", window)
    where = " AND ".join(clauses) or "1"
    order = "ASC" if window.ascending else "DESC"
    params.append(window.limit + 1)
    return f"SELECT * FROM events WHERE {where} ORDER BY pos {order} LIMIT ?", params


def delete_events(
    emitter_id: str, start: int | None, end: int | None, channel: str | None
) -> Statement:
    """The DELETE of an emitter's events between two positions (both kept when given)."""
    clauses: list[str] = ["emitter_id = ?"]
    params: list[Any] = [emitter_id]
    for bound, op in ((start, ">="), (end, "<=")):
        if bound is not None:
            clauses.append(f"pos {op} ?")
            params.append(bound)
    if channel is not None:
        clauses.append("channel = ?")
        params.append(channel)
    return f"DELETE FROM events WHERE {' AND '.join(clauses)}", params


def mark_outbox_done(ids: Sequence[int]) -> Statement:
    """The DELETE of these outbox rows (at most a few hundred ids per statement)."""
    return f"DELETE FROM outbox WHERE id IN ({_marks(len(ids))})", list(ids)


def runs_page(workflow_id: str | None, statuses: Sequence[str] | None, window: Window) -> Statement:
    """The SELECT of one page of runs and its parameters (``limit + 1`` rows)."""
    clauses: list[str] = []
    params: list[Any] = []
    if workflow_id is not None:
        clauses.append("workflow_id = ?")
        params.append(workflow_id)
    if statuses is not None:
        clauses.append(f"status IN ({_marks(len(statuses))})")
        params += statuses
    _window(clauses, params, "seq", window)
    order = "ASC" if window.ascending else "DESC"
    where = " AND ".join(clauses) or "1"
    params.append(window.limit + 1)
    return f"SELECT * FROM runs WHERE {where} ORDER BY seq {order} LIMIT ?", params


def renew_runs(owner: str, run_ids: Sequence[str], until: int) -> Statement:
    """The UPDATE extending ``owner``'s leases on these in-flight runs, returning their ids."""
    sql = (
        f"UPDATE runs SET lease_until = ? WHERE id IN ({_marks(len(run_ids))})"
        " AND lease_owner = ? AND status IN ('pending', 'running') RETURNING id"
    )
    return sql, [until, *run_ids, owner]


def filtered(table: str, order: str, filters: dict[str, str | None]) -> Statement:
    """``SELECT * FROM table`` with an equality per filter given (``None`` means any)."""
    clauses, params = ["1"], []
    for column, value in filters.items():
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    return f"SELECT * FROM {table} WHERE {' AND '.join(clauses)} ORDER BY {order}", params


def match_subscriptions(patterns: Sequence[str], channel: str) -> Statement:
    """The subscriptions of any of these emitter patterns on this channel."""
    sql = (
        f"SELECT * FROM subscriptions WHERE emitter_id IN ({_marks(len(patterns))})"
        " AND event_name = ? ORDER BY seq"
    )
    return sql, [*patterns, channel]
