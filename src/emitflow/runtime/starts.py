"""``EventStarts``: ``schedule.on``, the workflows an event starts (DSL §9).

``one`` and ``any`` start a run per matching event (``any: []`` matches every event). ``all``
collects one event per filter, tied together by their correlation keys, and starts the run when
the last one arrives; until then the partial collection is a run in status ``waiting`` with a
wait at ``/schedule/on`` holding the events so far, so it survives a restart. The run's input is
the array of triggering events (in filter order for ``all``), each read as ``schedule.read``
says (``envelope``, the default: the structured CloudEvent; ``data``: its data; ``raw``: the
data as it travelled, see ``events.reading``). Events on the reserved channels (``$errors``,
``$lifecycle``) start nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from emitflow.dsl.model import ConsumptionStrategy, Workflow
from emitflow.errors import EmitflowError, NotFoundError
from emitflow.events.matching import correlation_keys, event_matches
from emitflow.events.reading import read_event
from emitflow.runtime.reports import chain_of, delivery_context, hops_of
from emitflow.runtime.runs import Runs
from emitflow.runtime.workflows import Workflows
from emitflow.store.base import RunStore, ScheduleStore, WaitStore
from emitflow.store.records import NewRun, RunRecord, StoredEvent, Transition, Wait

__all__ = ["ON_REFERENCE", "EventStarts"]

logger = logging.getLogger(__name__)

#: Where a partial ``all`` collection waits (never a task's pointer, which starts with /do).
ON_REFERENCE = "/schedule/on"


class _Store(RunStore, WaitStore, ScheduleStore, Protocol):
    """What event starts need of the store."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Start:
    workflow_id: str
    revision: int
    strategy: ConsumptionStrategy
    read: str


class EventStarts:
    """The ``schedule.on`` strategies of the deployed workflows, and the runs they start."""

    def __init__(self, store: _Store, runs: Runs, workflows: Workflows) -> None:
        self._store = store
        self._runs = runs
        self._workflows = workflows
        self._starts: dict[str, _Start] = {}

    async def load(self) -> None:
        """Read every ``on`` schedule from the store (at open)."""
        for schedule in await self._store.list_schedules():
            if schedule.kind != "on":
                continue
            try:
                version = await self._workflows.latest(schedule.workflow_id)
                self.register(
                    schedule.workflow_id, version.revision, self._workflows.parsed(version)
                )
            except EmitflowError as exc:
                logger.warning(
                    "schedule.on not loaded",
                    extra={"workflow_id": schedule.workflow_id, "error": str(exc)},
                )

    def register(self, workflow_id: str, revision: int, workflow: Workflow) -> None:
        """Follow a deployed version's ``schedule.on`` (or stop, if it has none)."""
        schedule = workflow.schedule
        if schedule is None or schedule.on is None:
            self._starts.pop(workflow_id, None)
            return
        self._starts[workflow_id] = _Start(
            workflow_id=workflow_id, revision=revision, strategy=schedule.on, read=schedule.read
        )

    def forget(self, workflow_id: str) -> None:
        """The workflow was removed."""
        self._starts.pop(workflow_id, None)

    @property
    def active(self) -> bool:
        """Some workflow starts on events (``schedule.on``)."""
        return bool(self._starts)

    def candidates(self, event: Mapping[str, Any]) -> list[str]:
        """The workflows whose ``schedule.on`` this event (structured JSON) may feed."""
        found = []
        for workflow_id, start in self._starts.items():
            filters = start.strategy.filters
            if (start.strategy.mode == "any" and not filters) or any(
                event_matches(flt, event) for flt in filters
            ):
                found.append(workflow_id)
        return found

    async def deliver(self, workflow_id: str, stored: StoredEvent) -> None:
        """Feed a logged event to a workflow's ``schedule.on``."""
        start = self._starts.get(workflow_id)
        if start is None:
            return
        event = stored.event
        if start.strategy.mode == "all" and len(start.strategy.filters) > 1:
            await self._collect(start, stored)
            return
        run, created = await self._runs.create(
            NewRun(
                workflow_id=workflow_id,
                workflow_revision=start.revision,
                input=[_read(event, start.read)],
                trigger=_trigger(stored),
                hops=hops_of(event) + 1,
                dedupe_key=(str(event["source"]), str(event["id"])),
            )
        )
        if created:
            await self._runs.submit(run)

    async def _collect(self, start: _Start, stored: StoredEvent) -> None:
        event = stored.event
        filters = start.strategy.filters
        matching = [i for i, flt in enumerate(filters) if event_matches(flt, event)]
        waits = [
            wait
            for wait in await self._store.list_waits(workflow_id=start.workflow_id)
            if wait.reference == ON_REFERENCE
        ]
        key = [event.get("source"), event.get("id")]
        if any(key in _Group.of(wait.state).ids for wait in waits):
            return  # delivered again: it is already collected
        for wait in waits:
            group = _Group.of(wait.state)
            for index in matching:
                if str(index) in group.events:
                    continue
                keys = correlation_keys(filters[index], event, group.keys)
                if keys is None:
                    continue
                group = group.with_event(index, stored, keys)
                if len(group.events) == len(filters):
                    await self._complete(start, wait, group)
                else:
                    await self._store.put_wait(replace(wait, state=group.dump()))
                return
        await self._begin(start, stored, matching)

    async def _begin(self, start: _Start, stored: StoredEvent, matching: list[int]) -> None:
        event = stored.event
        for index in matching:
            keys = correlation_keys(start.strategy.filters[index], event, {})
            if keys is None:
                continue
            group = _Group(events={}, keys={}, ids=[], hops=0).with_event(index, stored, keys)
            run, created = await self._runs.create(
                NewRun(
                    workflow_id=start.workflow_id,
                    workflow_revision=start.revision,
                    status="waiting",
                    trigger={"schedule": {"kind": "on", "collecting": True}},
                    dedupe_key=(str(event["source"]), str(event["id"])),
                )
            )
            if created:
                wait = Wait(
                    run_id=run.id,
                    reference=ON_REFERENCE,
                    workflow_id=start.workflow_id,
                    state=group.dump(),
                )
                await self._store.put_wait(wait)
            return

    async def _complete(self, start: _Start, wait: Wait, group: _Group) -> None:
        run = await self._store.get_run(wait.run_id)
        ordered = [group.events[str(i)] for i in range(len(start.strategy.filters))]
        last = ordered[-1]
        ready: RunRecord = replace(
            run,
            status="pending",
            input=[_read(item["event"], start.read) for item in ordered],
            trigger={**last["trigger"], "correlation": group.keys},
            hops=group.hops + 1,
        )
        try:
            await self._store.commit_transition(
                Transition(run_id=run.id, run=ready, clear_wait=ON_REFERENCE)
            )
        except NotFoundError:
            return  # another dispatcher completed it first
        await self._runs.submit(ready)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Group:
    """A partial ``all`` collection: events by filter index, resolved keys, ids seen."""

    events: dict[str, dict[str, Any]]
    keys: dict[str, Any]
    ids: list[list[Any]]
    hops: int

    @classmethod
    def of(cls, state: Any) -> _Group:
        state = state if isinstance(state, Mapping) else {}
        return cls(
            events=dict(state.get("events", {})),
            keys=dict(state.get("keys", {})),
            ids=list(state.get("ids", [])),
            hops=int(state.get("hops", 0)),
        )

    def with_event(self, index: int, stored: StoredEvent, keys: Mapping[str, Any]) -> _Group:
        event = stored.event
        entry = {"event": dict(event), "trigger": _trigger(stored)}
        return _Group(
            events={**self.events, str(index): entry},
            keys={**self.keys, **keys},
            ids=[*self.ids, [event.get("source"), event.get("id")]],
            hops=max(self.hops, hops_of(event)),
        )

    def dump(self) -> dict[str, Any]:
        return {"events": self.events, "keys": self.keys, "ids": self.ids, "hops": self.hops}


def _read(event: Mapping[str, Any], read: str) -> Any:
    return read_event(event, read)


def _trigger(stored: StoredEvent) -> dict[str, Any]:
    return {
        "event": stored.event.get("data"),
        "context": delivery_context(stored, None),
        "schedule": {"kind": "on"},
        "chain": chain_of(stored.event),
    }
