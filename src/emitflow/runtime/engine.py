"""``Engine``: the event runtime of one process, opened on a store.

```python
async with Engine.open("sqlite:///./.emitflow/emitflow.db") as engine:
    emitter = await engine.deploy(Path("emitter.yaml"))
    listener = await engine.deploy(Path("listener.yaml"))
    await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
    run = await engine.start(emitter.id, input={"name": "Yoda"})
```

While open it runs the dispatcher (outbox → event log → subscriptions and ``schedule.on``) and
the timers (``every``/``cron``/``after``) in the background, on the settings' clock.

On a store several processes share (``store.shared``: PostgreSQL) it also claims and renews run
leases (``RunClaims``), hands every process's logged events to its live readers
(``LogFollower``), is woken by the store's change reports, and re-reads the deployed workflows
and stored secrets every ``rescan_seconds``. With ``EngineSettings.worker`` false it is an
API-only process: it writes (workflows, runs, events) and runs none of those loops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from emitflow.errors import ConfigurationError, EventError
from emitflow.events.cloudevent import CloudEvent
from emitflow.lifecycle import AsyncLifecycle
from emitflow.runtime.claims import RunClaims
from emitflow.runtime.dispatcher import Dispatcher
from emitflow.runtime.feed import EventFeed
from emitflow.runtime.follower import LogFollower
from emitflow.runtime.inspection import Inspection
from emitflow.runtime.listens import ListenHub
from emitflow.runtime.resync import Resync
from emitflow.runtime.router import Router
from emitflow.runtime.runs import Runs
from emitflow.runtime.settings import EngineSettings, default_store_url
from emitflow.runtime.sources import Sources, SourceSpec
from emitflow.runtime.starts import EventStarts
from emitflow.runtime.subscriptions import Subscriptions, source_emitter_id
from emitflow.runtime.timers import Timers, schedule_specs
from emitflow.runtime.vault import SecretVault
from emitflow.runtime.webhooks import Webhooks
from emitflow.runtime.workflows import DeploySource, Workflows
from emitflow.store.base import Store
from emitflow.store.factory import open_store
from emitflow.store.records import (
    LIFECYCLE_CHANNEL,
    EventQuery,
    NewEvent,
    NewRun,
    OutboxItem,
    Page,
    RunRecord,
    StoredEvent,
    StoredTask,
    Subscription,
    TokenRecord,
    Webhook,
    WebhookDelivery,
    WorkflowVersion,
)

if TYPE_CHECKING:
    from emitflow.codesteps.bridge import PoolStepRunner

__all__ = ["Engine"]

logger = logging.getLogger(__name__)


class Engine(Inspection, AsyncLifecycle):
    """Deploys workflows, starts runs, and delivers their events while open (the inspector's
    reads and replays come from ``Inspection``)."""

    def __init__(self, store: Store, settings: EngineSettings | None = None) -> None:
        self._store = store
        self._settings = settings = settings or EngineSettings()
        if not settings.worker and not store.shared:
            raise ConfigurationError(
                "an API-only process (serve --no-worker, EngineSettings.worker=False) needs a "
                f"store several processes share, such as postgresql://…; {type(store).__name__} "
                "is used by one process, which must execute its runs itself"
            )
        self._workflows = Workflows(store)
        self._responses: dict[str, asyncio.Future[Any]] = {}
        # Code steps run in a sandbox pool the engine owns (started by the first step).
        self._code_steps = _step_runner(self._responded) if settings.code_steps is None else None
        #: The secrets runs read: ``settings.secrets`` and those stored (sealed) with ``put``.
        self.secrets = SecretVault(store, settings.secrets, key_for=_store_path(store))
        self._listens = ListenHub(store, changed=self._listening)
        self._runs = Runs(
            store,
            settings,
            self._workflows,
            committed=self._wake,
            room=self._wake,
            ended=self._run_ended,
            code_steps=self._code_steps,
            listen=self._listens,
            secrets=self.secrets.current,
        )
        self._starts = EventStarts(store, self._runs, self._workflows)
        self._webhooks = Webhooks(
            store,
            settings.clock,
            settings.webhooks,
            settings.http,
            # URL credentials are sealed with the same key as stored secrets.
            sealer=lambda: self.secrets.sealer,
        )
        self._router = Router(
            store,
            self._runs,
            self._workflows,
            self._starts,
            settings,
            webhooks_queued=self._webhooks.wake,
        )
        #: Every event appended to the log, for live readers (``GET /v1/events/stream``).
        self.feed = EventFeed()
        self._follower: LogFollower | None = None
        if store.shared:
            self._follower = LogFollower(
                store, self.feed, self._listens, rescan_seconds=settings.rescan_seconds
            )
            self._dispatcher = Dispatcher(store, self._router, settings)
            self._dispatcher.logged = self._follower.wake
        else:
            self._dispatcher = Dispatcher(
                store, self._router, settings, feed=self.feed, listens=self._listens
            )
        self._claims = RunClaims(store, self._runs, settings) if self._leased else None
        self._timers = Timers(store, self._runs, self._workflows, settings)
        self._sources = Sources(self._enqueue, settings.clock)
        self._subscriptions = Subscriptions(
            store,
            running=self._sources.running,
            known=self._workflows.known,
            absent=self._workflows.absent,
        )
        self._background: list[asyncio.Task[None]] = []
        # Stopped after the runs in flight: their leases are renewed while they finish.
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def _leased(self) -> bool:
        return self._store.shared and self._settings.worker

    @classmethod
    def open(
        cls, store: str | Store | None = None, *, settings: EngineSettings | None = None
    ) -> Engine:
        """An engine on a store URL (``sqlite:///…``, ``memory://``) or a store (default:
        ``sqlite:///$EMITFLOW_HOME/emitflow.db``); use ``async with Engine.open(url) as e:``."""
        settings = settings or EngineSettings()
        if store is None:
            store = default_store_url()
        if isinstance(store, str):
            store = open_store(store, clock=settings.clock, ids=settings.ids)
        return cls(store, settings)

    @property
    def store(self) -> Store:
        """The store the engine works on."""
        return self._store

    @property
    def settings(self) -> EngineSettings:
        """The engine's settings."""
        return self._settings

    async def _enter(self) -> None:
        if self._follower is not None:
            # Before open: a write committed once ``open`` returned is reported.
            self._store.on_change(self._changed)
        await self._store.open()
        await self.secrets.load()
        await self._starts.load()
        loop = asyncio.get_running_loop()
        if self._follower is not None:
            self._background.append(loop.create_task(self._follower.run()))
            resync = Resync(
                self._store,
                self._workflows,
                self._starts,
                self._runs,
                self.secrets,
                rescan_seconds=self._settings.rescan_seconds,
            )
            self._background.append(loop.create_task(resync.run()))
        if not self._settings.worker:
            return
        self._background.append(loop.create_task(self._dispatcher.run()))
        if self._settings.timers:
            self._background.append(loop.create_task(self._timers.run()))
        rescan = self._settings.rescan_seconds
        self._background.append(loop.create_task(self._webhooks.run(rescan)))
        if self._claims is not None:
            self._background.append(loop.create_task(self._claims.run()))
            self._heartbeat = loop.create_task(self._claims.heartbeat())
        else:
            await self._runs.recover()
        self._wake()

    async def close(self) -> None:
        """Stop the background tasks, let runs in flight end (for a grace period), close."""
        await self._sources.close()
        background, self._background = self._background, []
        for task in background:
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            try:
                await self._runs.close()
            finally:
                await _stop(self._heartbeat)
                self._heartbeat = None
        finally:
            try:
                if self._code_steps is not None:
                    await self._code_steps.close()
            finally:
                await self._store.close()

    # --- workflows -----------------------------------------------------------------------

    async def deploy(self, source: DeploySource, *, id: str | None = None) -> WorkflowVersion:
        """Store a workflow (a ``Path`` — a ``.py`` file with ``handler(pd)`` is a one-step
        workflow —, ``Workflow``, mapping or document text) and follow its schedules; the
        stored version (same ``id`` again = a new version)."""
        version, workflow = await self._workflows.deploy(source, id=id, check=schedule_specs)
        await self._timers.register(version.id, workflow, revision=version.revision)
        self._starts.register(version.id, version.revision, workflow)
        await self._runs.refresh(version.id)
        logger.info(
            "workflow deployed", extra={"workflow_id": version.id, "revision": version.revision}
        )
        return version

    async def workflows(self) -> list[WorkflowVersion]:
        """The latest version of every workflow."""
        return await self._store.list_workflows()

    async def get_workflow(self, workflow_id: str) -> WorkflowVersion:
        """A workflow's latest version (``NotFoundError`` when there is none)."""
        return await self._store.get_workflow(workflow_id)

    async def undeploy(self, workflow_id: str) -> bool:
        """Remove a workflow with its schedules and subscriptions (runs and events stay)."""
        removed = await self._store.delete_workflow(workflow_id)
        self._workflows.forget(workflow_id)
        self._starts.forget(workflow_id)
        await self._runs.refresh(workflow_id)
        return removed

    # --- subscriptions -------------------------------------------------------------------

    async def subscribe(
        self,
        *,
        emitter_id: str,
        listener_id: str,
        event_name: str = "",
        filters: Sequence[Any] | None = None,
    ) -> Subscription:
        """Subscribe a listener workflow to an emitter's channel (idempotent)."""
        subscription = await self._subscriptions.create(
            emitter_id, listener_id, event_name, filters
        )
        if event_name == LIFECYCLE_CHANNEL:
            self._runs.lifecycle_changed()
        return subscription

    async def unsubscribe(self, *, emitter_id: str, listener_id: str, event_name: str = "") -> bool:
        """Remove a subscription; ``False`` if there was none."""
        removed = await self._subscriptions.delete(emitter_id, listener_id, event_name)
        if event_name == LIFECYCLE_CHANNEL:
            self._runs.lifecycle_changed()
        return removed

    async def subscriptions(
        self, *, emitter_id: str | None = None, listener_id: str | None = None
    ) -> list[Subscription]:
        """Subscriptions in creation order, optionally of one emitter or listener."""
        return await self._subscriptions.list(emitter_id=emitter_id, listener_id=listener_id)

    # --- webhook listeners -----------------------------------------------------------------

    async def create_webhook(self, url: str, *, name: str = "", mode: str = "binary") -> Webhook:
        """A webhook listener ``wh_…`` that receives events as CloudEvents over HTTP POST
        (``mode`` ``binary`` or ``structured``); subscribe it like a workflow."""
        return await self._webhooks.create(url, name=name, mode=mode)

    async def webhooks(self) -> list[Webhook]:
        """Every webhook listener with its health, oldest first (URLs in clear: mask them
        before showing them, as ``runtime.webhooks.masked_url`` does)."""
        return [self._webhooks.reveal(w) for w in await self._store.list_webhooks()]

    async def get_webhook(self, webhook_id: str) -> Webhook:
        """A webhook listener with its health (its URL in clear)."""
        return self._webhooks.reveal(await self._store.get_webhook(webhook_id))

    async def delete_webhook(self, webhook_id: str) -> bool:
        """Remove a webhook listener, its subscriptions and deliveries."""
        return await self._store.delete_webhook(webhook_id)

    async def test_webhook(self, webhook_id: str) -> str | None:
        """Send a test event straight to a destination; ``None`` if accepted, else why not."""
        return await self._webhooks.test(webhook_id)

    async def enable_webhook(self, webhook_id: str) -> Webhook:
        """Make a disabled webhook healthy again (its dead letters stay)."""
        return self._webhooks.reveal(await self._webhooks.enable(webhook_id))

    async def webhook_deliveries(
        self, webhook_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[WebhookDelivery]:
        """A webhook's deliveries newest first; ``status="dead"`` lists its dead letters."""
        await self._store.get_webhook(webhook_id)
        return await self._store.list_deliveries(webhook_id, status=status, limit=limit)

    async def deliver_webhooks(self) -> int:
        """Attempt every webhook delivery due now on the engine's clock; how many."""
        return await self._webhooks.deliver_due()

    # --- runs ----------------------------------------------------------------------------

    async def start(
        self,
        workflow_id: str,
        *,
        input: Any = None,
        context: Any = None,
        wait: bool = True,
        trigger: Mapping[str, Any] | None = None,
        response: asyncio.Future[Any] | None = None,
    ) -> RunRecord:
        """Start a run of a workflow's latest version: the run once it has ended, or at once
        (status ``pending``) with ``wait=False``. ``trigger`` is what started it (code steps
        read ``trigger["event"]``/``["context"]`` as ``pd.steps["trigger"]``); ``response`` gets
        the first ``pd.respond(...)`` of the run's code steps."""
        version = await self._workflows.latest(workflow_id)
        run, _ = await self._runs.create(
            NewRun(
                workflow_id=workflow_id,
                workflow_revision=version.revision,
                input={} if input is None else input,
                context=context,
                trigger=dict(trigger) if trigger is not None else {"kind": "manual"},
            )
        )
        if response is not None:
            self._responses[run.id] = response
            response.add_done_callback(lambda _: self._responses.pop(run.id, None))
        if wait:
            return await self._runs.submit_and_wait(run)
        await self._runs.submit(run)
        return run

    async def start_hook(
        self,
        workflow_id: str,
        *,
        input: Any,
        trigger: Mapping[str, Any],
        response: asyncio.Future[Any] | None = None,
    ) -> RunRecord | None:
        """``start(wait=False)`` for a public hook; ``None`` (start nothing) while the workflow
        already has ``EngineSettings.hook_queue_limit`` runs waiting."""
        gate = await self._runs.gate(workflow_id)
        if not gate.reserve(self._settings.hook_queue_limit):
            return None
        try:
            return await self.start(
                workflow_id, input=input, trigger=trigger, wait=False, response=response
            )
        finally:
            gate.unreserve()

    async def load(self, workflow_id: str) -> dict[str, Any]:
        """A workflow's concurrency limit (``None``: none), its runs running and queued, and
        how many may wait before its hook answers 429."""
        gate = await self._runs.gate(workflow_id)
        return {
            "limit": gate.limit,
            "running": gate.running,
            "queued": gate.queued,
            "waiting": gate.backlog,
            "hook_queue_limit": self._settings.hook_queue_limit,
        }

    async def wait(self, run_id: str) -> RunRecord:
        """A run once it has ended."""
        return await self._runs.wait(run_id)

    async def get_run(self, run_id: str) -> RunRecord:
        """A run as last committed, or as ``running`` while it executes in this engine."""
        run = await self._store.get_run(run_id)
        if run.status == "pending":
            return self._runs.executing.get(run_id, run)
        return run

    async def tasks(self, run_id: str) -> list[StoredTask]:
        """A run's task records in order."""
        return await self._store.list_tasks(run_id)

    # --- events --------------------------------------------------------------------------

    async def ingest(
        self, event: CloudEvent | Mapping[str, Any], *, emitter_id: str | None = None
    ) -> OutboxItem:
        """Accept an external CloudEvent: stored and delivered from its source's emitter id
        (``dc_…``, the same for every event of one ``source``) unless ``emitter_id`` is given."""
        (item,) = await self.ingest_many([event], emitter_id=emitter_id)
        return item

    async def ingest_many(
        self, events: Sequence[CloudEvent | Mapping[str, Any]], *, emitter_id: str | None = None
    ) -> list[OutboxItem]:
        """Accept several external CloudEvents in one transaction: all of them or none."""
        new = [_ingested(event, emitter_id) for event in events]
        items = await self._store.enqueue_events(new)
        self._wake()
        return items

    async def events(
        self,
        emitter_id: str | None,
        *,
        event_name: str | None = "",
        limit: int = 10,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[StoredEvent]:
        """An emitter's stored events on one channel (``None``: every channel), newest first;
        ``before``/``after`` are positions (the page's cursors)."""
        query = EventQuery(emitter_id=emitter_id, channel=event_name)
        return await self.list_events(query, limit=limit, before=before, after=after)

    async def list_events(
        self,
        query: EventQuery | None = None,
        *,
        limit: int = 10,
        before: str | None = None,
        after: str | None = None,
    ) -> Page[StoredEvent]:
        """Stored events matching ``query`` (``None``: all), newest first."""
        return await self._store.list_events(query, limit=limit, before=before, after=after)

    async def start_source(self, name: str, url: str) -> SourceSpec:
        """Consume a broker (``nats://…?subject=&durable=``, ``amqp://…?queue=``,
        ``mqtt://…?topic=``, ``redis://…?stream=&group=``) as the source ``dc_<name>`` while
        the engine is open; a wrong URL or refused credentials raise ``BrokerError`` here."""
        self._need_worker(f"the source dc_{name}")
        spec = SourceSpec(name=name, url=url)
        await self._sources.start(spec)
        return spec

    async def _enqueue(self, events: Sequence[NewEvent]) -> None:
        await self._store.enqueue_events(events)
        self._wake()

    async def delete_events(
        self,
        emitter_id: str,
        *,
        start: str | None = None,
        end: str | None = None,
        channel: str | None = None,
    ) -> int:
        """Delete an emitter's stored events from position ``start`` to ``end`` (inclusive,
        open ends), on one channel or all (``None``); how many."""
        return await self._store.delete_events(emitter_id, start=start, end=end, channel=channel)

    # --- API tokens (the engine is a ``TokenStore``) ----------------------------------------

    async def put_token(self, token: TokenRecord) -> None:
        """Store a new API token (its digest only)."""
        await self._store.put_token(token)

    async def find_token(self, digest: str) -> TokenRecord | None:
        """The token with this SHA-256 digest, if any."""
        return await self._store.find_token(digest)

    async def list_tokens(self) -> list[TokenRecord]:
        """Every token, oldest first."""
        return await self._store.list_tokens()

    async def delete_token(self, token_id: str) -> bool:
        """Revoke a token; ``False`` if there was none."""
        return await self._store.delete_token(token_id)

    async def touch_token(self, token_id: str, at: datetime) -> None:
        """Record a token's use (its ``last_used_at``)."""
        await self._store.touch_token(token_id, at)

    # --- waiting -------------------------------------------------------------------------

    async def run_due(self) -> int:
        """Start the runs of every schedule due now on the engine's clock; how many."""
        return await self._timers.run_due()

    async def drain(self, *, within: float = 30.0) -> None:
        """Wait until the outbox is empty and no run is in flight (``TimeoutError`` past
        ``within`` seconds). Due schedules fire first; ``schedule.on`` collections that are
        still waiting for events, and runs blocked in ``listen``, do not count as in flight."""
        self._need_worker("drain()")
        async with asyncio.timeout(within):
            while True:
                if self._settings.timers:
                    await self._timers.run_due()
                self._wake()
                await self._dispatcher.wait_quiet()
                await self._runs.wait_idle()
                if self._dispatcher.quiet and self._runs.active <= self._listens.waiting:
                    return

    def _wake(self) -> None:
        self._dispatcher.wake()

    def _changed(self, topic: str) -> None:
        """Another process wrote something of ``topic`` (the store's change report)."""
        if topic == "events":
            if self._follower is not None:
                self._follower.wake()
        elif not self._settings.worker:
            return
        elif topic == "outbox":
            self._dispatcher.wake()
        elif topic == "runs":
            if self._claims is not None:
                self._claims.wake()
        elif topic in ("schedules", "waits"):
            self._timers.wake()
        elif topic == "deliveries":
            self._webhooks.wake()

    def _need_worker(self, what: str) -> None:
        if not self._settings.worker:
            raise ConfigurationError(
                f"{what}: this is an API-only process (EngineSettings.worker=False, serve "
                "--no-worker), which executes nothing; give it to a worker (emitflow worker)"
            )

    def _listening(self, waiting: int) -> None:
        self._runs.listening(waiting)

    async def _run_ended(self, run: RunRecord) -> None:
        await self._timers.on_run_end(run)

    def _responded(self, run_id: str, response: Any) -> None:
        future = self._responses.pop(run_id, None)
        if future is not None and not future.done():
            future.set_result(response)


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _ingested(event: CloudEvent | Mapping[str, Any], emitter_id: str | None) -> NewEvent:
    if not isinstance(event, CloudEvent):
        if not isinstance(event, Mapping):
            raise EventError(f"a CloudEvent must be a JSON object, not {type(event).__name__}")
        event = CloudEvent.from_dict(event)
    emitter = emitter_id or source_emitter_id(event.source)
    if not emitter.startswith("dc_") or emitter.endswith("_*") or len(emitter) < 4:
        raise ConfigurationError(
            f"emitter_id {emitter!r}: ingested events come from an event source 'dc_…'"
        )
    return NewEvent(emitter_id=emitter, event=event, metadata={"emit_id": event.id})


def _store_path(store: Store) -> str | None:
    """The file of a store kept in one (its key file goes beside it), or None. A database
    server has no file: the key of a shared store is ``$EMITFLOW_HOME/emitflow.key``
    (``EMITFLOW_KEY_FILE`` wins), and every process on the database needs the same key."""
    path = getattr(store, "path", None)
    if isinstance(path, str):
        return path
    if store.shared:
        home = os.environ.get("EMITFLOW_HOME") or "./.emitflow"
        return os.path.join(home, "emitflow.db")  # the key file is looked for beside it
    return None


def _step_runner(responder: Callable[[str, Any], None]) -> PoolStepRunner:
    # Imported here: the sandbox pool's modules load only for an engine that runs code.
    from emitflow.codesteps.bridge import PoolStepRunner

    return PoolStepRunner(responder=responder)
