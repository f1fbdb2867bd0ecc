"""``Inspection``: the reads and replays of the event inspector, as methods of ``Engine``.

Kept apart from ``engine.py`` so the inspector's needs (listing, finding what an event started,
replaying) do not crowd the engine's lifecycle; ``Engine`` inherits these methods. Everything
the UI and the replay routes do goes through here, never through the store directly.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from emitflow.errors import NotFoundError
from emitflow.runtime.replays import (
    RunScan,
    emit_key,
    replay_run,
)
from emitflow.runtime.runs import Runs
from emitflow.runtime.workflows import Workflows
from emitflow.store.base import Store
from emitflow.store.records import (
    EventQuery,
    NewRun,
    Page,
    RunRecord,
    RunStatus,
    Schedule,
    StoredEvent,
    WebhookDelivery,
    WorkflowVersion,
)

__all__ = ["EventReach", "Inspection"]

_SEEN_SCAN = 500


@dataclass(frozen=True, slots=True)
class EventReach:
    """Where events went: the runs they started, their webhook deliveries, and the listeners
    subscribed to their emitter and channel."""

    runs: list[RunRecord]
    deliveries: list[WebhookDelivery]
    listeners: list[str]


class Inspection:
    """The inspector's view of an engine (mixed into ``Engine``)."""

    _store: Store
    _workflows: Workflows
    _runs: Runs

    async def workflows(self) -> list[WorkflowVersion]:
        """The latest version of every workflow."""
        return await self._store.list_workflows()

    async def get_workflow(self, workflow_id: str) -> WorkflowVersion:
        """A workflow's latest version (``NotFoundError`` if unknown)."""
        return await self._workflows.latest(workflow_id)

    async def schedules(self, workflow_id: str) -> list[Schedule]:
        """A workflow's schedules (cron, every, after, on)."""
        return await self._store.list_schedules(workflow_id=workflow_id)

    async def runs(
        self,
        workflow_id: str | None = None,
        *,
        statuses: Collection[RunStatus] | None = None,
        limit: int = 20,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[RunRecord]:
        """Runs newest first (keyset pages; cursors are run ids)."""
        return await self._store.list_runs(
            workflow_id=workflow_id, statuses=statuses, limit=limit, before=before, after=after
        )

    async def scan_runs(self, scan: RunScan) -> list[RunRecord]:
        """The runs a scan selects (statuses and a time range), newest first."""
        return [run async for run in scan.runs(self._store)]

    async def replay(self, run_id: str) -> RunRecord:
        """Start a new run of the newest version of a run's workflow with the run's trigger
        event and input; the new run (pending: it runs in the background)."""
        run = await self._store.get_run(run_id)
        version = await self._workflows.latest(run.workflow_id)
        return await self._start_new(replay_run(run, version.revision))

    async def replay_runs(self, scan: RunScan) -> list[RunRecord]:
        """Replay every run a scan selects, oldest first; the new runs."""
        runs = await self.scan_runs(scan)
        version = await self._workflows.latest(scan.workflow_id)
        return [await self._start_new(replay_run(run, version.revision)) for run in runs[::-1]]

    async def send_test_event(self, listener_id: str, stored: StoredEvent) -> RunRecord:
        """Start a listener run with a logged event, as a subscription would (marked a test)."""
        version = await self._workflows.latest(listener_id)
        event = stored.event
        context = {
            "emitter_id": stored.emitter_id,
            "event_name": stored.channel,
            "id": event.get("id"),
            "source": event.get("source"),
            "type": event.get("type"),
            "position": stored.position,
            "test": True,
        }
        new = NewRun(
            workflow_id=listener_id,
            workflow_revision=version.revision,
            input=[dict(event)],
            trigger={"event": event.get("data"), "context": context, "kind": "test"},
        )
        return await self._start_new(new)

    async def _start_new(self, new: NewRun) -> RunRecord:
        run, _ = await self._runs.create(new)
        await self._runs.submit(run)
        return run

    # --- events --------------------------------------------------------------------------

    async def find_events(
        self,
        query: EventQuery | None = None,
        *,
        limit: int = 50,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[StoredEvent]:
        """Logged events newest first, filtered; keyset pages whose cursors are positions."""
        return await self._store.list_events(query, limit=limit, before=before, after=after)

    async def event_at(self, position: str) -> StoredEvent:
        """The logged event at a position (``NotFoundError`` if there is none)."""
        millis, _, seq = position.partition("-")
        page = await self._store.list_events(None, limit=1, before=f"{millis}-{int(seq) + 1}")
        if not page.items or page.items[0].position != position:
            raise NotFoundError(f"no event at position {position!r}")
        return page.items[0]

    async def find_emitted(self, emitter_id: str, source: str, event_id: str) -> StoredEvent:
        """The logged event an emitter emitted as CloudEvent ``(source, id)``."""
        page = await self._store.list_events(
            EventQuery(emitter_id=emitter_id, source=source), limit=_SEEN_SCAN
        )
        for stored in page.items:
            if stored.event.get("id") == event_id:
                return stored
        raise NotFoundError(f"{emitter_id} emitted no event {event_id!r} from {source!r}")

    async def channels_seen(self) -> list[tuple[str, str]]:
        """The (emitter, channel) pairs of the newest logged events, and every workflow's
        default channel: what a new subscription can pick from."""
        seen: dict[tuple[str, str], None] = {}
        page = await self._store.list_events(None, limit=_SEEN_SCAN)
        for stored in page.items:
            seen[(stored.emitter_id, stored.channel)] = None
        for version in await self._store.list_workflows():
            seen.setdefault((version.id, ""), None)
        return sorted(seen)

    async def reach(self, emitter_id: str, channel: str, emits: Iterable[Any]) -> EventReach:
        """Where emitted events went: the listener runs they started (a subscription's listener
        starts one run per event) and the webhook deliveries of the emitter's subscribed
        webhooks (among each webhook's newest 500)."""
        keys = {key for key in map(emit_key, emits) if key is not None}
        subscriptions = await self._store.match_subscriptions(emitter_id, channel)
        listeners = sorted({s.listener_id for s in subscriptions})
        workflows = [x for x in listeners if not x.startswith("wh_")]
        started = await self._store.runs_started(
            [(workflow, *key) for key in sorted(keys) for workflow in workflows]
        )
        runs = list(started.values())
        deliveries: list[WebhookDelivery] = []
        for webhook_id in (x for x in listeners if x.startswith("wh_")):
            for delivery in await self._store.list_deliveries(webhook_id, limit=_SEEN_SCAN):
                if emit_key(delivery.event) in keys:
                    deliveries.append(delivery)
        return EventReach(runs, deliveries, listeners)

    async def reach_of_run(self, run: RunRecord, emits: Iterable[Any]) -> EventReach:
        """Where a run's emits went (every channel its workflow emits on)."""
        emits = list(emits)
        channels = {_channel(emit) for emit in emits}
        runs: list[RunRecord] = []
        deliveries: list[WebhookDelivery] = []
        listeners: set[str] = set()
        for channel in sorted(channels):
            found = await self.reach(
                run.workflow_id, channel, [e for e in emits if _channel(e) == channel]
            )
            runs += found.runs
            deliveries += found.deliveries
            listeners.update(found.listeners)
        return EventReach(runs, deliveries, sorted(listeners))


def _channel(emit: Any) -> str:
    value = emit.get("emitflowchannel") if isinstance(emit, dict) else None
    return value if isinstance(value, str) else ""
