"""The emitting chain the fault tests and the scale-out benchmark run on a cluster.

An emitter workflow emits one event (its ``n``) and a listener workflow, subscribed to it,
keeps that ``n``: one chain is an emitter run, its event in the log, and one listener run.

The event's id is generated, so that a run executed twice would log two events: a run may be
taken over when its worker stalls past its lease, and the stalled worker's commits are then
refused (each is fenced on the run's lease, ``Transition.owner``), so the log still holds one
event per chain and the listener runs once per chain. (Before the fence, 133 of 10,000 chains
logged a second event with two CPU hogs beside four workers holding 2 s leases.) The
workflows are deployed and subscribed by an API-less engine in this process; the emitter runs
are created free (unleased), for the workers to claim, as an API-only process creates them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from emitflow.ids import RUN_PREFIX, random_id
from emitflow.runtime import Engine
from emitflow.runtime.settings import EngineSettings
from emitflow.store.postgres import PostgresStore

__all__ = ["EMITTER", "LISTENER", "Chain", "Tally", "create_runs", "deploy_chain", "tally"]

EMITTER = """
document: {dsl: '1.0.3', namespace: scaleout, name: emitter, version: '1.0.0'}
do:
  - tell:
      emit:
        event:
          with:
            source: /scaleout
            type: scaleout.tick
            data:
              n: ${ .n }
"""
LISTENER = """
document: {dsl: '1.0.3', namespace: scaleout, name: listener, version: '1.0.0'}
do:
  - keep:
      set:
        n: ${ .[0].data.n }
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Chain:
    """The deployed emitter and listener."""

    emitter: str
    revision: int
    listener: str


async def deploy_chain(store_url: str) -> Chain:
    """Deploy the emitter and the listener and subscribe one to the other."""
    async with Engine(PostgresStore.from_url(store_url), EngineSettings(worker=False)) as engine:
        emitter = await engine.deploy(EMITTER)
        listener = await engine.deploy(LISTENER)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
    return Chain(emitter=emitter.id, revision=emitter.revision, listener=listener.id)


async def create_runs(store_url: str, chain: Chain, numbers: range) -> None:
    """Emitter runs for ``numbers``, created free for any worker to claim.

    The rows are those ``PostgresStore.create_runs`` writes, inserted in one pipelined batch:
    ``create_runs`` sends a statement per run, and 10,000 of them took 23 s against busy
    workers, most of the time such a test may take."""
    import asyncpg

    now_us = int(time.time() * 1_000_000)
    rows = [
        (random_id(RUN_PREFIX), chain.emitter, chain.revision, json.dumps({"n": n}), now_us)
        for n in numbers
    ]
    conn = await asyncpg.connect(store_url)
    try:
        async with conn.transaction():
            await conn.executemany(_INSERT_RUN, rows)
    finally:
        await conn.close()


_INSERT_RUN = """
INSERT INTO runs (id, workflow_id, workflow_revision, status, input, hops, created_at)
VALUES ($1, $2, $3, 'pending', $4, 0, $5)
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """Where the chains stand in the database."""

    emitter_runs: dict[str, int]
    listener_runs: dict[str, int]
    #: Events the emitter logged; distinct ``n`` among them; distinct (source, id).
    events: int
    event_numbers: int
    event_ids: int
    #: Listener runs; distinct ``n`` among them; run starts (unique per source, id).
    listener_numbers: int
    run_starts: int
    outbox: int
    errors: int

    def done(self, total: int) -> bool:
        """Every emitter run has ended, so has the listener run of every event logged, and the
        outbox is empty."""
        ended = ("completed", "faulted", "cancelled")
        emitters = sum(self.emitter_runs.get(status, 0) for status in ended)
        listeners = sum(self.listener_runs.get(status, 0) for status in ended)
        # A faulted emitter run emits nothing: the listener runs to wait for are the events'.
        return emitters >= total and listeners >= self.events and self.outbox == 0

    @classmethod
    def once_each(cls, total: int) -> Tally:
        """What ``total`` chains leave when each ran once: every run completed, every event
        logged once, one listener run per event, nothing left in the outbox, no errors."""
        return cls(
            emitter_runs={"completed": total},
            listener_runs={"completed": total},
            events=total,
            event_numbers=total,
            event_ids=total,
            listener_numbers=total,
            run_starts=total,
            outbox=0,
            errors=0,
        )


_TALLY = """
SELECT
  (SELECT coalesce(json_object_agg(status, n), '{}') FROM
     (SELECT status, count(*) AS n FROM runs WHERE workflow_id = $1 GROUP BY status) s),
  (SELECT coalesce(json_object_agg(status, n), '{}') FROM
     (SELECT status, count(*) AS n FROM runs WHERE workflow_id = $2 GROUP BY status) s),
  (SELECT count(*) FROM events WHERE emitter_id = $1 AND channel NOT LIKE '$%'),
  (SELECT count(DISTINCT (event::json #>> '{data,n}')) FROM events
     WHERE emitter_id = $1 AND channel NOT LIKE '$%'),
  (SELECT count(DISTINCT (source, event_id)) FROM events
     WHERE emitter_id = $1 AND channel NOT LIKE '$%'),
  (SELECT count(DISTINCT (output::json ->> 'n')) FROM runs
     WHERE workflow_id = $2 AND status = 'completed'),
  (SELECT count(*) FROM run_starts WHERE workflow_id = $2),
  (SELECT count(*) FROM outbox),
  (SELECT count(*) FROM events WHERE channel = '$errors')
"""


async def tally(store_url: str, chain: Chain) -> Tally:
    """Count, in one snapshot, what the chains left in the database."""
    import asyncpg

    conn = await asyncpg.connect(store_url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            row = await conn.fetchrow(_TALLY, chain.emitter, chain.listener)
    finally:
        await conn.close()
    assert row is not None
    return Tally(
        emitter_runs=json.loads(row[0]),
        listener_runs=json.loads(row[1]),
        events=row[2],
        event_numbers=row[3],
        event_ids=row[4],
        listener_numbers=row[5],
        run_starts=row[6],
        outbox=row[7],
        errors=row[8],
    )
