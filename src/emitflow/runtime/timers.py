"""``Timers``: the timed schedules (``every``, ``cron``, ``after``) run while the engine is open.

Deploying a workflow writes one store schedule per kind it declares (``on`` included, with no
due time; ``EventStarts`` serves it). Due times live in the store, so they survive a restart,
and are read on the injected clock:

- ``every``: the first run one interval after deployment, then every interval, whether or not
  the previous run is still going; ticks missed while the engine was closed make one run.
- ``cron``: five-field cron (croniter), in UTC; missed ticks make one run.
- ``after``: the first run ``after`` the deployment, then ``after`` the previous such run ends.

A due schedule is claimed (leased), its run is created with a dedupe key of (kind, due time),
so a crash between the two cannot start it twice, and the next due time is written. The loop
sleeps until the next due time or ``rescan_seconds``, whichever is sooner, or until woken;
``run_due`` fires whatever is due now (tests advance a ``VirtualClock`` and call it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import isodate
from croniter import croniter

from emitflow.dsl.model import Duration, Workflow
from emitflow.errors import ConfigurationError, NotFoundError
from emitflow.expressions import evaluate_value
from emitflow.runtime.reports import rfc3339
from emitflow.runtime.runs import Runs
from emitflow.runtime.settings import EngineSettings
from emitflow.runtime.workflows import Workflows
from emitflow.store.base import ChangeFeed, ScheduleStore
from emitflow.store.records import NewRun, RunRecord, Schedule

__all__ = ["TIMED_KINDS", "Timers", "schedule_specs"]

logger = logging.getLogger(__name__)

TIMED_KINDS = ("every", "cron", "after")


def schedule_specs(workflow: Workflow) -> dict[str, dict[str, Any]]:
    """The store schedules a workflow declares, by kind (``ConfigurationError`` if invalid)."""
    schedule = workflow.schedule
    if schedule is None:
        return {}
    specs: dict[str, dict[str, Any]] = {}
    if schedule.every is not None:
        specs["every"] = {"seconds": _seconds(schedule.every, "every")}
    if schedule.cron is not None:
        if not croniter.is_valid(schedule.cron):
            raise ConfigurationError(
                f"schedule.cron {schedule.cron!r} is not a cron expression; use five fields "
                "such as '*/5 * * * *' (minute hour day-of-month month day-of-week, UTC)"
            )
        specs["cron"] = {"cron": schedule.cron}
    if schedule.after is not None:
        specs["after"] = {"seconds": _seconds(schedule.after, "after")}
    if schedule.on is not None:
        specs["on"] = {"mode": schedule.on.mode}
    return specs


class _Store(ScheduleStore, ChangeFeed, Protocol):
    """What timers need of the store."""


class Timers:
    """Fires the timed schedules of every deployed workflow."""

    def __init__(
        self, store: _Store, runs: Runs, workflows: Workflows, settings: EngineSettings
    ) -> None:
        self._store = store
        #: Workflows whose schedules this process last wrote as none (on a store only it uses,
        #: nobody else writes them: deploying another version without one need not read them).
        self._unscheduled: set[str] = set()
        self._runs = runs
        self._workflows = workflows
        self._settings = settings
        self._clock = settings.clock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Schedules changed (here or in another process): look at the due times again."""
        self._wake.set()

    async def register(self, workflow_id: str, workflow: Workflow, *, revision: int) -> None:
        """Write a deployed version's schedules; an unchanged one keeps its due time."""
        wanted = schedule_specs(workflow)
        if not wanted and self._none_stored(workflow_id, revision):
            self._unscheduled.add(workflow_id)
            return
        existing = {s.kind: s for s in await self._store.list_schedules(workflow_id=workflow_id)}
        changed = False
        for kind in existing.keys() - wanted.keys():
            await self._store.delete_schedules(workflow_id, kind=kind)
            changed = True
        now = self._clock.now()
        for kind, spec in wanted.items():
            old = existing.get(kind)
            if old is not None and old.spec == spec:
                continue
            due = None if kind == "on" else _next_due(kind, spec, now, now)
            await self._store.put_schedule(
                Schedule(workflow_id=workflow_id, kind=kind, spec=spec, next_due_at=due)
            )
            changed = True
        if changed:  # the timer loop looks again only when a due time may have moved
            self._wake.set()
        if wanted:
            self._unscheduled.discard(workflow_id)
        else:
            self._unscheduled.add(workflow_id)

    def _none_stored(self, workflow_id: str, revision: int) -> bool:
        """Whether the store holds no schedule of the workflow, known without reading it."""
        if revision == 1:
            # Its only version (a removed workflow's schedules were removed with it, and one
            # deployed again starts over at revision 1), and that version has no schedule.
            return True
        return not self._store.shared and workflow_id in self._unscheduled

    async def run_due(self) -> int:
        """Start the runs of every schedule due now; how many started."""
        started = 0
        while True:
            claimed = await self._store.claim_due_schedules(
                limit=100, lease_seconds=self._settings.lease_seconds
            )
            if not claimed:
                return started
            for schedule in claimed:
                started += await self._fire(schedule)

    async def run(self) -> None:
        """Fire due schedules, then sleep until the next is due; until cancelled."""
        while True:
            self._wake.clear()
            delay = self._settings.rescan_seconds
            try:
                if await self._next_delay() <= 0:
                    await self.run_due()
                following = await self._next_delay()
                # Still due means another process holds the lease: look again after a re-scan.
                if following > 0:
                    delay = min(delay, following)
            except Exception:
                # As the dispatcher: the timer loop outlives a failure, which is logged.
                logger.exception("schedules could not be fired; retrying")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):  # not wait_for: see Dispatcher.run
                    await self._wake.wait()

    async def on_run_end(self, run: RunRecord) -> None:
        """Re-arm an ``after`` schedule once the run it started has ended."""
        trigger = run.trigger if isinstance(run.trigger, dict) else {}
        schedule = trigger.get("schedule")
        if not isinstance(schedule, dict) or schedule.get("kind") != "after":
            return
        for row in await self._store.list_schedules(workflow_id=run.workflow_id):
            if row.kind == "after":
                ended = run.ended_at or self._clock.now()
                due = ended + timedelta(seconds=float(row.spec["seconds"]))
                await self._store.put_schedule(replace(row, next_due_at=due))
                self._wake.set()

    async def _fire(self, schedule: Schedule) -> int:
        due = schedule.next_due_at or self._clock.now()
        extra = {"workflow_id": schedule.workflow_id, "kind": schedule.kind}
        try:
            version = await self._workflows.latest(schedule.workflow_id)
        except NotFoundError:
            await self._store.delete_schedules(schedule.workflow_id)
            return 0
        run, created = await self._runs.create(
            NewRun(
                workflow_id=schedule.workflow_id,
                workflow_revision=version.revision,
                input={},
                trigger={"schedule": {"kind": schedule.kind, "due_at": rfc3339(due)}},
                dedupe_key=(f"emitflow:schedule:{schedule.kind}", rfc3339(due)),
            )
        )
        following = None
        if schedule.kind != "after":
            following = _next_due(schedule.kind, schedule.spec, due, self._clock.now())
        await self._store.put_schedule(replace(schedule, next_due_at=following))
        if not created:
            return 0
        logger.info("schedule fired", extra={**extra, "run_id": run.id})
        await self._runs.submit(run)
        return 1

    async def _next_delay(self) -> float:
        dues = [
            s.next_due_at
            for s in await self._store.list_schedules()
            if s.next_due_at is not None and s.kind in TIMED_KINDS
        ]
        if not dues:
            return math.inf
        return (min(dues) - self._clock.now()).total_seconds()


def _next_due(kind: str, spec: Any, last: datetime, now: datetime) -> datetime:
    """The due time after ``last`` (the deployment, or the tick that just fired)."""
    if kind == "cron":
        moment = max(last, now)
        following: datetime = croniter(spec["cron"], moment).get_next(datetime)
        return following
    interval = timedelta(seconds=max(float(spec["seconds"]), 0.001))
    if kind == "every" and last + interval <= now:
        skipped = math.floor((now - last) / interval)
        return last + interval * (skipped + 1)
    return last + interval


def _seconds(duration: Duration, field: str) -> float:
    if duration.seconds is not None:
        return duration.seconds
    value = evaluate_value(duration.expression, {}, {})
    try:
        parsed = isodate.parse_duration(str(value))
    except (isodate.ISO8601Error, ValueError) as exc:
        raise ConfigurationError(
            f"schedule.{field}: {duration.expression} gave {value!r}, not an ISO 8601 "
            "duration such as 'PT5M'"
        ) from exc
    if isinstance(parsed, isodate.Duration):
        days = float(parsed.years) * 365 + float(parsed.months) * 30
        return days * 86400 + float(parsed.tdelta.total_seconds())
    return float(parsed.total_seconds())
