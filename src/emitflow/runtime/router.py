"""``Router``: where one logged event goes, and starting the runs it triggers.

An event reaches the listeners of the subscriptions that match its emitter (globs included) and
channel and whose filters hold (compiled once per subscription and cached), and the workflows
whose ``schedule.on`` it matches. A listener run's input is an array holding the event
(structured JSON), its ``trigger`` the payload and the delivery context (what code steps read
as ``pd.steps["trigger"]``); it starts once per (CloudEvent ``source``, ``id``) however often
the event is delivered. Past the loop guard's hop limit the event is not delivered: a report
goes to the emitter's ``$errors`` channel instead.

Overflow policy: a workflow's gate may refuse a delivery (its queue is full, or an earlier event
for it is still waiting). The target is then kept, the outbox row stays un-done, and the
dispatcher offers it again when the gate has room; the other targets are not held up. Nothing
is dropped, and a workflow's events are let in in outbox order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from emitflow.errors import FilterError, NotFoundError
from emitflow.events.filters import Predicate, compile_filters
from emitflow.runtime.chains import ChainBudget
from emitflow.runtime.gates import Gate
from emitflow.runtime.reports import chain_of, delivery_context, hops_of, undelivered_report
from emitflow.runtime.runs import Runs
from emitflow.runtime.settings import EngineSettings
from emitflow.runtime.starts import EventStarts
from emitflow.runtime.workflows import Workflows
from emitflow.store.base import EventLog, SubscriptionStore, WebhookStore
from emitflow.store.records import (
    RESERVED_CHANNELS,
    NewRun,
    OutboxItem,
    StoredEvent,
    Subscription,
)

__all__ = ["Delivery", "Router", "Target"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A workflow an event goes to: through a subscription, or its ``schedule.on``."""

    workflow_id: str
    subscription: Subscription | None = None
    #: A webhook listener ``wh_…`` (``workflow_id`` holds its id): queued, not gated.
    webhook: bool = False


@dataclass(slots=True, kw_only=True)
class Delivery:
    """One claimed outbox row on its way: logged once, then delivered to each target."""

    item: OutboxItem
    stored: StoredEvent | None = None
    targets: list[Target] | None = None
    failures: int = field(default=0)


class _Store(EventLog, SubscriptionStore, WebhookStore, Protocol):
    """What routing needs of the store."""


class Router:
    """Routes logged events to listener runs and event-started runs."""

    def __init__(
        self,
        store: _Store,
        runs: Runs,
        workflows: Workflows,
        starts: EventStarts,
        settings: EngineSettings,
        *,
        webhooks_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._runs = runs
        self._workflows = workflows
        self._starts = starts
        self._settings = settings
        self._filters: dict[str, tuple[tuple[Any, ...], Predicate | None]] = {}
        self._matches: dict[tuple[str, str], list[Subscription]] = {}
        self._chains = ChainBudget(settings.max_chain_runs)
        #: Listener runs routed in this batch, created together by ``end_batch``.
        self._starting: list[tuple[Delivery, Target, Gate, NewRun]] = []
        #: Destination deliveries routed in this batch, queued together by ``end_batch``.
        self._queueing: list[tuple[Delivery, list[Target]]] = []
        #: Called when webhook deliveries were queued (the engine wakes its webhook worker).
        self._webhooks_queued = webhooks_queued

    def begin_batch(self) -> None:
        """A new batch: subscriptions are read again (they may have changed)."""
        self._matches.clear()
        self._starting = []
        self._queueing = []

    async def route(self, delivery: Delivery) -> bool:
        """Deliver to every target the gates let in now; ``True`` once none is left."""
        stored = delivery.stored
        if stored is None:
            raise RuntimeError("route() needs the delivery's logged event")
        if delivery.targets is None:
            delivery.targets = await self._targets(delivery.item)
            hops = hops_of(delivery.item.event.attributes)
            if delivery.targets and hops >= self._settings.max_hops:
                await self._stop(stored, hops, len(delivery.targets))
                delivery.targets = []
            delivery.targets = await self._within_budget(stored, delivery.targets)
            hooks = [t for t in delivery.targets if t.webhook]
            if hooks:
                # Queued with the batch's other deliveries by ``end_batch``, in one write.
                self._queueing.append((delivery, hooks))
                delivery.targets = [t for t in delivery.targets if not t.webhook]
        waiting: list[Target] = []
        for target in delivery.targets:
            gate = await self._runs.gate(target.workflow_id)
            if not gate.offer(delivery.item.id):
                waiting.append(target)
                continue
            if target.subscription is not None:
                try:
                    queued = await self._listener_run(delivery, target, gate)
                except BaseException:
                    gate.release()  # the store failed: the whole delivery is tried again
                    raise
                if not queued:
                    gate.release()
                continue
            try:
                await self._starts.deliver(target.workflow_id, stored)
            finally:
                gate.release()
        delivery.targets = waiting
        return not waiting

    async def end_batch(self) -> None:
        """Create the listener runs of the batch's deliveries, in one write, and submit them in
        event order. If that write fails, nothing was created: each target goes back on its
        delivery (whose outbox row is then not done) and the error is raised."""
        await self._queue_deliveries()
        starting, self._starting = self._starting, []
        if not starting:
            return
        try:
            results = await self._runs.create_many([new for _, _, _, new in starting])
        except BaseException:
            for delivery, target, gate, _ in starting:
                gate.release()
                delivery.targets = [*(delivery.targets or ()), target]
            raise
        for (_, _, gate, _), (run, created) in zip(starting, results, strict=True):
            try:
                if created:
                    await self._runs.submit(run)
            finally:
                gate.release()

    async def _queue_deliveries(self) -> None:
        queueing, self._queueing = self._queueing, []
        if not queueing:
            return
        batch = []
        for delivery, hooks in queueing:
            stored = delivery.stored
            assert stored is not None
            batch.append(([t.workflow_id for t in hooks], stored.position, dict(stored.event)))
        try:
            await self._store.add_deliveries_many(batch)
        except BaseException:
            for delivery, hooks in queueing:  # not queued: the rows stay in the outbox
                delivery.targets = [*(delivery.targets or ()), *hooks]
            raise
        self._webhooks_queued()

    async def give_up(self, delivery: Delivery, reason: str) -> None:
        """Stop trying a row that keeps failing: forget it in the gates, report it."""
        for target in delivery.targets or ():
            (await self._runs.gate(target.workflow_id)).forget(delivery.item.id)
        if delivery.stored is not None:
            now = self._settings.clock.now()
            report = undelivered_report(delivery.stored, "failed", reason, now)
            await self._store.append_events([report])

    async def _targets(self, item: OutboxItem) -> list[Target]:
        targets: list[Target] = []
        seen: set[str] = set()
        for sub in await self._subscriptions(item.emitter_id, item.channel):
            listener = sub.listener_id
            if listener in seen or not self._passes(sub, item.event.attributes):
                continue
            if listener.startswith("wh_"):
                seen.add(listener)
                targets.append(Target(workflow_id=listener, subscription=sub, webhook=True))
                continue
            if not listener.startswith("p_"):
                logger.warning(
                    "listener kind unknown; event not delivered to it",
                    extra={"subscription_id": sub.id, "listener_id": listener},
                )
                continue
            seen.add(listener)
            targets.append(Target(workflow_id=listener, subscription=sub))
        if self._starts.active and item.channel not in RESERVED_CHANNELS:
            for workflow_id in self._starts.candidates(item.event.to_dict()):
                targets.append(Target(workflow_id=workflow_id))
        return targets

    async def _subscriptions(self, emitter_id: str, channel: str) -> list[Subscription]:
        key = (emitter_id, channel)
        found = self._matches.get(key)
        if found is None:
            found = await self._store.match_subscriptions(emitter_id, channel)
            self._matches[key] = found
        return found

    def _passes(self, sub: Subscription, attributes: Mapping[str, Any]) -> bool:
        cached = self._filters.get(sub.id)
        if cached is None or cached[0] != sub.filters:
            predicate: Predicate | None
            try:
                predicate = compile_filters(list(sub.filters)) if sub.filters else None
            except FilterError as exc:
                # Refused at creation; one stored by other means never matches.
                logger.warning(
                    "subscription filter invalid; it matches nothing",
                    extra={"subscription_id": sub.id, "error": str(exc)},
                )
                predicate = _never
            cached = (sub.filters, predicate)
            self._filters[sub.id] = cached
        predicate = cached[1]
        return predicate is None or predicate(attributes)

    async def _listener_run(self, delivery: Delivery, target: Target, gate: Gate) -> bool:
        """Queue the listener run of one delivery for ``end_batch``; ``False`` if there is
        none to start (the listener workflow is gone)."""
        subscription, stored = target.subscription, delivery.stored
        if subscription is None or stored is None:
            return False
        try:
            version = await self._workflows.latest(target.workflow_id)
        except NotFoundError:
            logger.warning("listener workflow gone", extra={"listener_id": target.workflow_id})
            return False
        event = delivery.item.event
        new = NewRun(
            workflow_id=target.workflow_id,
            workflow_revision=version.revision,
            input=[dict(stored.event)],
            trigger={
                "event": event.data,
                "context": delivery_context(stored, subscription.id),
                "chain": chain_of(stored.event),
            },
            hops=hops_of(event.attributes) + 1,
            dedupe_key=(event.source, event.id),
        )
        self._starting.append((delivery, target, gate, new))
        return True

    async def _within_budget(self, stored: StoredEvent, targets: list[Target]) -> list[Target]:
        """The targets the event's chain may still start runs for; the rest are reported."""
        runs = [t for t in targets if not t.webhook]
        if not runs:
            return targets
        chain = chain_of(stored.event)
        granted = self._chains.take(chain, len(runs))
        if granted == len(runs):
            return targets
        refused = runs[granted:]
        detail = (
            f"the event's causal chain {chain!r} has started {self._chains.limit} runs (the "
            f"limit, EngineSettings.max_chain_runs); it is stored but was not delivered to "
            f"{len(refused)} workflow(s), to stop a loop that fans out"
        )
        report = undelivered_report(stored, "budget", detail, self._settings.clock.now())
        await self._store.append_events([report])
        logger.warning(
            "loop guard: chain budget spent",
            extra={"emitter_id": stored.emitter_id, "position": stored.position, "chain": chain},
        )
        left = {id(target) for target in refused}
        return [target for target in targets if id(target) not in left]

    async def _stop(self, stored: StoredEvent, hops: int, targets: int) -> None:
        detail = (
            f"the event went through {hops} event-started runs (the limit is "
            f"{self._settings.max_hops}); it is stored but was not delivered to its "
            f"{targets} target(s), to stop an emitter/listener loop"
        )
        report = undelivered_report(stored, "loop", detail, self._settings.clock.now())
        await self._store.append_events([report])
        logger.warning(
            "loop guard stopped an event",
            extra={"emitter_id": stored.emitter_id, "position": stored.position, "hops": hops},
        )


def _never(_attributes: Mapping[str, Any]) -> bool:
    return False
