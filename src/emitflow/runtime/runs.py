"""``Runs``: creating runs, letting them through their workflow's gate, running and recording them.

A run is a row first (``create``, status ``pending``), then a job in its workflow's ``Gate``;
when the gate lets it go it is executed by the ``Executor`` with a ``RunJournal`` as its event
sink and journal (each completed effectful task is committed), and its end is committed. In the
store a run turns ``running`` with its first commit (its first effectful task, or its end), not
before: that saves a write per run, and makes ``pending`` mean
exactly "nothing committed yet", so a pending run found when the engine opens is simply run
(again). A run found ``running`` was cut off after committing effects: it is resumed from its
committed task records (see ``recover``). While
a run executes here, ``executing`` has it as ``running``, for readers in this process.

On a store several processes share (``store.shared``), a worker creates its runs leased to
itself and ``held`` lists the runs it holds (executing or queued); ``RunClaims`` renews those
leases and adopts (``adopt``) the runs of other processes whose lease is free or expired. A run
whose lease was lost (``lose``) stops here: another process resumes it. An API-only process
(``EngineSettings.worker`` false) creates its runs unleased and executes none; ``wait`` then
reads the run's record until it has ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import replace
from typing import Any, Final

from emitflow.dsl.model import Workflow
from emitflow.errors import (
    EmitflowError,
    LeaseLostError,
    NotFoundError,
    Problem,
    StoreUnavailableError,
)
from emitflow.ports import CodeStepRunner, ListenPort, RunOptions, TaskRecord
from emitflow.runtime.executor import engine_executor
from emitflow.runtime.gates import Gate
from emitflow.runtime.journal import RunJournal, run_moved, task_record
from emitflow.runtime.reports import CHAIN_EXTENSION, HOPS_EXTENSION, run_chain
from emitflow.runtime.settings import EngineSettings
from emitflow.runtime.workflows import Workflows
from emitflow.store.base import Store
from emitflow.store.records import (
    LIFECYCLE_CHANNEL,
    TERMINAL_STATUSES,
    NewRun,
    RunLease,
    RunRecord,
)

__all__ = ["Runs"]

logger = logging.getLogger(__name__)

#: Called with every run that ended (timers re-arm ``after`` schedules with it).
EndHook = Callable[[RunRecord], Awaitable[None]]

#: How often ``wait`` reads the record of a run executing in another process: first after
#: ``_POLL_FIRST`` seconds, then twice as long each time, at most ``_POLL_MOST``.
_POLL_FIRST: Final = 0.01
_POLL_MOST: Final = 1.0


class _LeaseLost(Exception):
    """Told to this process's waiters of a run that another process now executes."""


class Runs:
    """Runs of every workflow of one engine, from row to recorded end."""

    def __init__(
        self,
        store: Store,
        settings: EngineSettings,
        workflows: Workflows,
        *,
        committed: Callable[[], None],
        room: Callable[[], None],
        ended: EndHook | None = None,
        code_steps: CodeStepRunner | None = None,
        listen: ListenPort | None = None,
        secrets: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._clock = settings.clock
        self._workflows = workflows
        self._executor = settings.executor or engine_executor
        self._code_steps = code_steps if code_steps is not None else settings.code_steps
        self._committed = committed
        self._room = room
        self._gates: dict[str, Gate] = {}
        self._waiters: dict[str, list[asyncio.Future[RunRecord]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._lifecycle: dict[str, tuple[float, bool]] = {}
        self.executing: dict[str, RunRecord] = {}
        self._listen = listen
        self._listening = 0
        #: Where a run gets its secrets (the engine's vault); ``None``: ``settings.secrets``.
        self._secrets = secrets
        self._resume: dict[str, list[TaskRecord]] = {}
        self._end_hook = ended
        self._shared = store.shared
        self._executes = settings.worker or not store.shared
        self._lease = (
            RunLease(owner=settings.worker_id, seconds=settings.lease_seconds)
            if store.shared and settings.worker
            else None
        )
        #: Shared store: the runs this process holds a lease on (executing or queued).
        self.held: set[str] = set()
        self._leased: set[str] = set()  # created leased here, not submitted yet
        self._run_tasks: dict[str, asyncio.Task[Any]] = {}
        self._skip: set[str] = set()
        self._stopped: set[asyncio.Task[Any]] = set()
        #: Told when there may be runs to claim: one held here ended with ``held`` full, or
        #: one was submitted that this process does not hold (``RunClaims.wake``).
        self.claim_soon: Callable[[], None] | None = None

    @property
    def active(self) -> int:
        """Runs admitted and not yet recorded as ended."""
        return self._active

    async def wait_idle(self) -> None:
        """Return once no run is executing or queued (runs blocked in ``listen`` do not count:
        they wait for events, which may never come)."""
        await self._idle.wait()

    def listening(self, waiting: int) -> None:
        """``waiting`` runs are now blocked in ``listen``: idle is when all others ended."""
        self._listening = waiting
        self._recheck_idle()

    def _recheck_idle(self) -> None:
        if self._active - self._listening <= 0:
            self._idle.set()
        else:
            self._idle.clear()

    # --- gates ---------------------------------------------------------------------------

    async def gate(self, workflow_id: str) -> Gate:
        """The gate of a workflow, its limit taken from the settings or the document."""
        gate = self._gates.get(workflow_id)
        if gate is None:
            limit = await self._limit(workflow_id)
            gate = self._gates.get(workflow_id)  # another caller may have made it meanwhile
            if gate is None:
                gate = Gate(
                    workflow_id,
                    limit,
                    self._settings.queue_size,
                    room=self._room,
                    spawn=self._spawn,
                )
                self._gates[workflow_id] = gate
        return gate

    async def refresh(self, workflow_id: str) -> None:
        """A workflow was deployed or removed: re-read its limit; forget cached answers."""
        self._lifecycle.pop(workflow_id, None)
        gate = self._gates.get(workflow_id)
        if gate is not None:
            gate.limit = await self._limit(workflow_id)

    def lifecycle_changed(self) -> None:
        """Someone (un)subscribed to ``$lifecycle``: ask the store again at the next run."""
        self._lifecycle.clear()

    async def _limit(self, workflow_id: str) -> int | None:
        configured = self._settings.concurrency.get(workflow_id)
        if configured is not None:
            return configured
        workflow = await self._workflows.latest_workflow(workflow_id, missing_ok=True)
        declared = None if workflow is None else _declared_limit(workflow)
        return declared if declared is not None else self._settings.default_concurrency

    # --- starting --------------------------------------------------------------------------

    async def create(self, new: NewRun) -> tuple[RunRecord, bool]:
        """Create a run row (``False``: this workflow already started one for the event)."""
        if self._lease is None or new.status != "pending":
            return await self._store.create_run(new)
        made = await self._store.create_run(replace(new, lease=self._lease))
        self._hold([made])
        return made

    async def create_many(self, news: list[NewRun]) -> list[tuple[RunRecord, bool]]:
        """``create`` for each, in one write."""
        if self._lease is None:
            return await self._store.create_runs(news)
        made = await self._store.create_runs([self._with_lease(new) for new in news])
        self._hold(made)
        return made

    def _with_lease(self, new: NewRun) -> NewRun:
        # A ``waiting`` run (a ``schedule.on`` collection) is not executed until an event
        # completes it, maybe in another process: it is left free, to be claimed then.
        return replace(new, lease=self._lease) if new.status == "pending" else new

    def _hold(self, made: list[tuple[RunRecord, bool]]) -> None:
        # Held (renewed) from ``submit`` on: a run created but never submitted (its starter
        # failed in between) keeps only its first lease, and another worker claims it after.
        self._leased.update(run.id for run, created in made if created and run.status == "pending")

    @property
    def free(self) -> int:
        """Runs this process may still claim on a shared store (``run_capacity`` less held)."""
        return max(self._settings.run_capacity - len(self.held), 0)

    async def adopt(self, run: RunRecord) -> bool:
        """Execute a run claimed from the shared store: a ``running`` one resumes from its
        task records, as ``recover`` does; ``False`` if it was held here already."""
        if run.id in self.held:
            return False
        # Created here but not submitted a whole lease later: its starter failed (or stalled;
        # then its late ``submit`` finds it held and leaves it).
        self._leased.discard(run.id)
        self.held.add(run.id)
        if run.id in self._skip:  # still queued here from before its lease was lost
            self._skip.discard(run.id)
            return False
        if run.status == "running":
            stored = await self._store.list_tasks(run.id)
            self._resume[run.id] = [task_record(task) for task in stored]
            logger.info("resuming a run another process left", extra={"run_id": run.id})
        await self._admit(run)
        return True

    async def lose(self, run_ids: list[str]) -> None:
        """These runs' leases were lost (this process stalled past them): stop them here,
        another process resumes them; those that ended meanwhile are left alone."""
        for run_id in run_ids:
            if run_id not in self.held:
                continue
            try:
                ended = (await self._store.get_run(run_id)).status in TERMINAL_STATUSES
            except NotFoundError:
                ended = False
            if ended or run_id not in self.held:
                continue
            self.held.discard(run_id)
            self._log_lost(run_id)
            task = self._run_tasks.get(run_id)
            if task is None:
                self._skip.add(run_id)
            else:
                self._stopped.add(task)
                task.cancel()

    def _log_lost(self, run_id: str) -> None:
        logger.warning(
            "run lease lost; the run is stopped here and resumed by another process",
            extra={"run_id": run_id, "worker_id": self._settings.worker_id},
        )

    async def submit(self, run: RunRecord) -> None:
        """Queue a created run in its workflow's gate; it runs when the gate lets it (an
        API-only process on a shared store executes nothing: a worker claims the run)."""
        if not self._executes:
            return
        if self._shared:
            if run.id not in self._leased:
                # Not leased here (a completed collection), or already claimed back and
                # executing: whoever claims it runs it.
                if run.id not in self.held and self.claim_soon is not None:
                    self.claim_soon()
                return
            self._leased.discard(run.id)
            self.held.add(run.id)
        await self._admit(run)

    async def _admit(self, run: RunRecord) -> None:
        gate = await self.gate(run.workflow_id)
        self._active += 1
        self._idle.clear()
        gate.admit(lambda: self._execute(run))

    async def wait(self, run_id: str) -> RunRecord:
        """The run once it has ended."""
        if self._shared:
            return await self._wait_shared(run_id)
        future: asyncio.Future[RunRecord] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(run_id, []).append(future)
        try:
            run = await self._store.get_run(run_id)
        except BaseException:
            self._waiters.pop(run_id, None)
            raise
        if run.status in TERMINAL_STATUSES:
            self._resolve(run_id, run)
        return await future

    async def submit_and_wait(self, run: RunRecord) -> RunRecord:
        """``submit`` then ``wait``, without reading the run back when it executes here: its
        waiter is registered before it can end (a run just created cannot have ended yet)."""
        if not self._executes:
            await self.submit(run)
            return await self.wait(run.id)
        future: asyncio.Future[RunRecord] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(run.id, []).append(future)
        try:
            await self.submit(run)
        except BaseException:
            self._drop_waiter(run.id, future)
            raise
        if self._shared and run.id not in self.held:
            self._drop_waiter(run.id, future)  # another process may run it: read its record
            return await self._wait_shared(run.id)
        try:
            return await future
        except (_LeaseLost, StoreUnavailableError):
            if not self._shared:
                raise
            return await self._wait_shared(run.id)  # resumed by whoever claims it next

    async def _wait_shared(self, run_id: str) -> RunRecord:
        # The run may execute in another process: while it is not held here, its record is
        # read again after a delay that doubles (bounded); a run held here is awaited.
        delay = _POLL_FIRST
        loop = asyncio.get_running_loop()
        while True:
            future: asyncio.Future[RunRecord] = loop.create_future()
            self._waiters.setdefault(run_id, []).append(future)
            try:
                run = await self._store.get_run(run_id)
            except BaseException:
                self._drop_waiter(run_id, future)
                raise
            if run.status in TERMINAL_STATUSES:
                self._drop_waiter(run_id, future)
                return run
            if run_id in self.held:
                try:
                    return await future
                except (_LeaseLost, StoreUnavailableError):
                    # Lost, or its end could not be committed (the store was down): it is
                    # resumed by whoever claims it next; its record says when it has ended.
                    continue
            self._drop_waiter(run_id, future)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MOST, self._settings.rescan_seconds)

    def _drop_waiter(self, run_id: str, future: asyncio.Future[RunRecord]) -> None:
        waiters = self._waiters.get(run_id)
        if waiters is not None and future in waiters:
            waiters.remove(future)
            if not waiters:
                del self._waiters[run_id]

    async def recover(self) -> None:
        """Start the runs a previous process left pending; resume those it left running.

        A ``running`` run was cut off mid-way: it runs again from the start with its committed
        task records, so each effectful task that completed takes its recorded output instead
        of running again (the task that was interrupted runs again).
        """
        for run in await self._store.list_runs_in_flight():
            if run.status == "running":
                stored = await self._store.list_tasks(run.id)
                self._resume[run.id] = [task_record(task) for task in stored]
                logger.info("resuming an interrupted run", extra={"run_id": run.id})
            await self.submit(run)

    # --- running ---------------------------------------------------------------------------

    async def _execute(self, run: RunRecord) -> None:
        if self._shared and run.id in self._skip:  # its lease was lost while it was queued
            self._skip.discard(run.id)
            self._active -= 1
            self._recheck_idle()
            self._resolve(run.id, _LeaseLost())
            return
        if self._shared:
            self._track(run.id)
        outcome: RunRecord | BaseException
        try:
            outcome = await self._run_to_end(run)
        except asyncio.CancelledError as exc:
            if asyncio.current_task() in self._stopped:
                # ``lose`` cancelled it: another process resumes it.
                self._resolve(run.id, _LeaseLost())
                return
            self._resolve(run.id, exc)
            raise
        except LeaseLostError:
            # This process stalled past the lease and another claimed the run: its commits
            # were refused, and the other process resumes it from what was committed.
            self._log_lost(run.id)
            outcome = _LeaseLost()
        except Exception as exc:
            # The store failed: the run stays as last committed and is recovered at next open,
            # or, on a shared store, claimed again once its lease (no longer renewed) runs out.
            logger.exception("run could not be recorded", extra={"run_id": run.id})
            outcome = exc
        finally:
            self._active -= 1
            self._recheck_idle()
            if self._shared:
                self._untrack(run.id)
        self._resolve(run.id, outcome)
        if isinstance(outcome, RunRecord):
            await self._ended(outcome)

    async def _run_to_end(self, run: RunRecord) -> RunRecord:
        extra = {"run_id": run.id, "workflow_id": run.workflow_id}
        try:
            workflow = await self._workflows.workflow(run.workflow_id, run.workflow_revision)
        except StoreUnavailableError:
            raise  # not the workflow's fault: the run is resumed later (see ``_execute``)
        except EmitflowError as exc:
            problem = Problem.of("configuration", title="Workflow Unavailable", detail=str(exc))
            return await self._journal(run, lifecycle=False).fail(problem.to_dict())
        secrets = self._settings.secrets if self._secrets is None else self._secrets()
        missing = [name for name in workflow.use.secrets if name not in secrets]
        if missing:
            problem = self._missing_secrets(missing)
            return await self._journal(run, lifecycle=False).fail(problem.to_dict())
        started = run_moved(
            run,
            "running",
            output=run.output,
            error=run.error,
            started_at=run.started_at or self._clock.now(),
            ended_at=run.ended_at,
        )
        journal = self._journal(started, lifecycle=await self._lifecycle_wanted(run.workflow_id))
        journal.start_pending = True
        journal.durable = True
        self.executing[run.id] = started
        plan = RunOptions(
            context=run.context,
            secrets=secrets,
            clock=self._clock,
            http=self._settings.http,
            events=journal,
            trace=journal.trace,
            workflows_dir=self._settings.workflows_dir,
            code_steps=self._code_steps,
            run_id=run.id,
            trigger=_code_step_trigger(run.trigger),
            journal=journal,
            resume=self._resume.pop(run.id, ()),
            listen=self._listen,
            # The runner stamps the loop guard's hop count and chain on every event the run
            # emits, so emit outputs show them too; the journal stamps any event that lacks them.
            event_extensions={HOPS_EXTENSION: run.hops, CHAIN_EXTENSION: run_chain(run)},
        )
        logger.debug("run started", extra=extra)
        try:
            try:
                outcome = await self._executor(workflow, input=run.input, options=plan)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.exception("the runner failed", extra=extra)
                problem = Problem.of("runtime", title="Runner Failed", detail=f"{exc!r}")
                return await journal.fail(problem.to_dict())
            ended = await journal.finish(outcome)
        finally:
            self.executing.pop(run.id, None)
        _log_end(ended)
        return ended

    def _track(self, run_id: str) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._run_tasks[run_id] = task

    def _untrack(self, run_id: str) -> None:
        current = asyncio.current_task()
        mine = self._run_tasks.get(run_id) is current
        if mine:
            del self._run_tasks[run_id]
        if current is not None and current in self._stopped:
            # Lost: ``lose`` let go of it already (it may be held again, by a newer claim).
            self._stopped.discard(current)
            return
        full = not self.free
        self.held.discard(run_id)
        if full and self.claim_soon is not None:
            self.claim_soon()

    def _missing_secrets(self, missing: list[str]) -> Problem:
        names = ", ".join(repr(name) for name in missing)
        return Problem.of(
            "authorization",
            title="Secret Not Available",
            detail=f"the workflow lists {names} in use.secrets, and this engine was not given "
            f"{'it' if len(missing) == 1 else 'them'}: "
            + self._settings.secrets_hint.format(name=missing[0]),
            instance="/use/secrets",
        )

    def _journal(self, run: RunRecord, *, lifecycle: bool) -> RunJournal:
        return RunJournal(
            self._store,
            run,
            clock=self._clock,
            committed=self._committed,
            lifecycle=lifecycle,
            owner=None if self._lease is None else self._lease.owner,
        )

    async def _lifecycle_wanted(self, workflow_id: str) -> bool:
        # Lifecycle events cost a trace per task: only when someone subscribes to them.
        now = self._clock.monotonic()
        cached = self._lifecycle.get(workflow_id)
        if cached is not None and now - cached[0] < self._settings.lifecycle_ttl_seconds:
            return cached[1]
        wanted = bool(await self._store.match_subscriptions(workflow_id, LIFECYCLE_CHANNEL))
        self._lifecycle[workflow_id] = (now, wanted)
        return wanted

    async def _ended(self, run: RunRecord) -> None:
        if self._end_hook is None:
            return
        try:
            await self._end_hook(run)
        except Exception:
            logger.exception("run end hook failed", extra={"run_id": run.id})

    def _resolve(self, run_id: str, outcome: RunRecord | BaseException) -> None:
        for future in self._waiters.pop(run_id, []):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Let runs in flight finish for a grace period, then cancel them."""
        for gate in self._gates.values():
            gate.closed = True
        if self._tasks:
            _, pending = await asyncio.wait(
                set(self._tasks), timeout=self._settings.close_grace_seconds
            )
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        for run_id in list(self._waiters):
            self._resolve(run_id, asyncio.CancelledError("the engine closed"))


def _code_step_trigger(trigger: Any) -> Mapping[str, Any] | None:
    """An event-started run's ``pd.steps["trigger"]``: the emitted payload and its context."""
    if isinstance(trigger, Mapping) and "event" in trigger and "context" in trigger:
        return {"event": trigger["event"], "context": trigger["context"]}
    return None


def _declared_limit(workflow: Workflow) -> int | None:
    """``document.metadata.emitflow.concurrency``, when it is a positive integer."""
    options = workflow.document.metadata.get("emitflow")
    if not isinstance(options, Mapping):
        return None
    value: Any = options.get("concurrency")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


def _log_end(run: RunRecord) -> None:
    """One info line per run end: id, workflow, status and how long it ran."""
    ms = 0.0
    if run.started_at is not None and run.ended_at is not None:
        ms = (run.ended_at - run.started_at).total_seconds() * 1000
    logger.info(
        "run %s of %s %s in %.0f ms",
        run.id,
        run.workflow_id,
        run.status,
        ms,
        extra={"run_id": run.id, "workflow_id": run.workflow_id, "status": run.status},
    )
