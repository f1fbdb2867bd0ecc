"""PostgreSQL restarted under load (``pg_ctl restart -m fast``: every session is ended, the
transactions in flight are rolled back): the workers meet the outage, reconnect and carry on,
and nothing is lost or done twice. Runs whose commit met the restart stay in flight and are
resumed once their lease runs out, never faulted."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.scaleout.cluster import Cluster
from tests.scaleout.postgres import PrivatePostgres
from tests.scaleout.workload import Tally, create_runs, deploy_chain, tally

RUNS = 2_000
RESTARTS = 2


@pytest.mark.timeout(180)
def test_workers_carry_on_after_postgres_restarts(
    cluster: Cluster, private_postgres: PrivatePostgres
) -> None:
    chain = asyncio.run(deploy_chain(cluster.store))
    workers = cluster.workers(["w1", "w2"])
    asyncio.run(create_runs(cluster.store, chain, range(1, RUNS + 1)))

    deadline = time.monotonic() + 150
    for restart in range(1, RESTARTS + 1):
        # Restart while runs are being executed and events dispatched: after a share of the
        # emitter runs completed and before all of them did.
        wanted = RUNS * restart // (RESTARTS + 2)
        while (state := asyncio.run(tally(cluster.store, chain))).emitter_runs.get(
            "completed", 0
        ) < wanted:
            assert time.monotonic() < deadline, f"no progress: {state}\n{cluster.logs()}"
            time.sleep(0.05)  # between two reads of the database
        assert not state.done(RUNS), "the load ended before the restart"
        private_postgres.restart()

    while not (state := asyncio.run(tally(cluster.store, chain))).done(RUNS):
        assert time.monotonic() < deadline, f"not done in time: {state}\n{cluster.logs()}"
        time.sleep(0.2)  # between two reads of the database

    assert all(worker.alive for worker in workers), cluster.logs()
    assert state == Tally.once_each(RUNS), cluster.logs()
    # The outage was met (not slept through): the workers said so, and went on.
    assert "cannot serve now" in cluster.log_text(), cluster.logs()
