"""Replays and the inspector's reads: runs again from their trigger, and what an event started.

A replay starts a new run of the *newest* version of the run's workflow with the run's input and
trigger (so a listener run gets the same event again), marked ``trigger["replay_of"]``; it has
no dedupe key, so the event's first run does not stop it. ``RunScan`` walks a workflow's runs
newest first, a page at a time, for a time range (runs are kept in creation order, so a scan
stops at the first run older than ``since``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from emitflow.errors import ConfigurationError
from emitflow.store.base import Store
from emitflow.store.records import RUN_STATUSES, NewRun, RunRecord, RunStatus

__all__ = [
    "RunScan",
    "emit_key",
    "replay_run",
    "run_statuses",
    "started_by",
]

#: ``failed`` (Pipedream's word) is emitflow's ``faulted``.
_ALIASES = {"failed": "faulted", "error": "faulted", "success": "completed"}
_SCAN_PAGE = 100


def run_statuses(text: str | None) -> tuple[RunStatus, ...] | None:
    """Statuses from ``failed,completed`` (aliases allowed), or a ``ConfigurationError``."""
    if not text:
        return None
    statuses: list[RunStatus] = []
    for part in (p.strip() for p in text.split(",")):
        name = _ALIASES.get(part, part)
        if name not in RUN_STATUSES:
            known = ", ".join(sorted(RUN_STATUSES | set(_ALIASES)))
            raise ConfigurationError(f"status {part!r} is not a run status; use one of {known}")
        statuses.append(name)  # type: ignore[arg-type]  # checked against RUN_STATUSES
    return tuple(statuses)


def replay_run(run: RunRecord, revision: int) -> NewRun:
    """The new run replaying ``run`` on ``revision`` of its workflow."""
    trigger = dict(run.trigger) if isinstance(run.trigger, Mapping) else {"kind": "manual"}
    trigger["replay_of"] = run.id
    return NewRun(
        workflow_id=run.workflow_id,
        workflow_revision=revision,
        input={} if run.input is None else run.input,
        trigger=trigger,
        hops=run.hops,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunScan:
    """Which runs of a workflow to walk: statuses and a creation-time range [since, until)."""

    workflow_id: str
    statuses: Collection[RunStatus] | None = None
    since: datetime | None = None
    until: datetime | None = None
    most: int = 10_000

    async def runs(self, store: Store) -> AsyncIterator[RunRecord]:
        """The matching runs, newest first, at most ``most``."""
        cursor: str | None = None
        found = 0
        while found < self.most:
            page = await store.list_runs(
                workflow_id=self.workflow_id,
                statuses=self.statuses,
                limit=_SCAN_PAGE,
                before=cursor,
            )
            for run in page.items:
                if self.since is not None and run.created_at < self.since:
                    return
                if self.until is not None and run.created_at >= self.until:
                    continue
                yield run
                found += 1
                if found >= self.most:
                    return
            if not page.has_more or not page.items:
                return
            cursor = page.items[-1].id


def started_by(run: RunRecord) -> tuple[str, str] | None:
    """The CloudEvent ``(source, id)`` that started a listener run, if an event did."""
    trigger = run.trigger
    if not isinstance(trigger, Mapping):
        return None
    context = trigger.get("context")
    if isinstance(context, Mapping) and context.get("source") and context.get("id"):
        return str(context["source"]), str(context["id"])
    return None


def emit_key(emit: Any) -> tuple[str, str] | None:
    """An emitted CloudEvent's ``(source, id)`` as a task record lists it."""
    if isinstance(emit, Mapping) and emit.get("source") and emit.get("id"):
        return str(emit["source"]), str(emit["id"])
    return None
