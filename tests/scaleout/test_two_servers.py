"""Two ``emitflow serve`` processes over one PostgreSQL, one client alternating its requests
between them: the seed's walkthrough still holds (deploy on one, subscribe on the other, the
hook on either, and the events and runs read back from both)."""

from __future__ import annotations

from tests.e2e.test_seed_walkthrough import walk_the_seed
from tests.scaleout.cluster import TOKEN, Cluster


def test_the_seed_walkthrough_through_two_servers(cluster: Cluster) -> None:
    first, second = cluster.serve("api1"), cluster.serve("api2")
    try:
        walk_the_seed([first.url, second.url], TOKEN)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{cluster.logs()}") from exc
    assert (cluster.stop(first), cluster.stop(second)) == (0, 0), cluster.logs()
