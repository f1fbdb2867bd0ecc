"""Four ``emitflow worker`` processes over one PostgreSQL, one of them killed with SIGKILL every
two seconds and started again, while 10,000 emitting chains run: at the end every emitter run
completed once, every emitted event is in the log once, and the subscribed listener ran once
per event. The database is polled until everything ended (with a deadline); only the kill
cadence is timed. (A worker that stalls past its lease, rather than dying, has its later
commits refused by the lease fence: see ``workload``; the event's id is generated, so a run
executed twice would show as a second event.)"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.scaleout.cluster import Cluster
from tests.scaleout.workload import Tally, create_runs, deploy_chain, tally

RUNS = 10_000
WORKERS = 4
KILL_EVERY = 2.0


@pytest.mark.timeout(300)
def test_killed_workers_lose_nothing_and_repeat_nothing(cluster: Cluster) -> None:
    chain = asyncio.run(deploy_chain(cluster.store))
    workers = cluster.workers([f"w{i}" for i in range(WORKERS)])
    asyncio.run(create_runs(cluster.store, chain, range(1, RUNS + 1)))

    kills = 0
    next_kill = time.monotonic() + KILL_EVERY
    deadline = time.monotonic() + 240
    while not (state := asyncio.run(tally(cluster.store, chain))).done(RUNS):
        assert time.monotonic() < deadline, f"not done in time: {state}\n{cluster.logs()}"
        if time.monotonic() >= next_kill:
            victim = workers[kills % WORKERS]
            cluster.kill(victim)
            workers[kills % WORKERS] = cluster.restart(victim)
            kills += 1
            next_kill = time.monotonic() + KILL_EVERY
        time.sleep(0.2)  # between two reads of the database (the deadline bounds the wait)

    assert kills >= 3, f"the load ended before the workers were killed a few times ({kills})"
    assert state == Tally.once_each(RUNS), (
        f"{state}\nlease lost {cluster.log_text().count('run lease lost')}\n{cluster.logs()}"
    )
    assert "Traceback" not in cluster.log_text(), cluster.logs(40)
