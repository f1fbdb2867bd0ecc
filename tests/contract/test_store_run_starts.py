"""``runs_started``: the runs that (workflow, CloudEvent source, id) dedupe keys started."""

from __future__ import annotations

from emitflow.store import Store
from emitflow.store.records import NewRun


async def test_runs_started_finds_each_key_that_started_a_run(store: Store) -> None:
    first, _ = await store.create_run(
        NewRun(workflow_id="p_l", workflow_revision=1, dedupe_key=("/src", "e1"))
    )
    other, _ = await store.create_run(
        NewRun(workflow_id="p_m", workflow_revision=1, dedupe_key=("/src", "e1"))
    )
    await store.create_run(NewRun(workflow_id="p_l", workflow_revision=1))  # no key
    found = await store.runs_started(
        [("p_l", "/src", "e1"), ("p_m", "/src", "e1"), ("p_l", "/src", "e2"), ("p_l", "/src", "e1")]
    )
    assert found == {("p_l", "/src", "e1"): first, ("p_m", "/src", "e1"): other}
    assert await store.runs_started([]) == {}
