"""Deploying: every kind of source, ids kept across versions, ids checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emitflow.dsl import parse_workflow
from emitflow.errors import ConfigurationError, DocumentError, NotFoundError
from emitflow.runtime import Engine, EngineSettings
from emitflow.runtime.subscriptions import source_emitter_id
from emitflow.runtime.workflows import Workflows
from emitflow.store import MemoryStore
from tests.unit.runtime.fakes import EMITTER, LISTENER


@pytest.fixture
async def workflows() -> Workflows:
    store = MemoryStore()
    await store.open()
    return Workflows(store)


async def test_text_then_same_name_is_a_new_version(workflows: Workflows) -> None:
    first, _ = await workflows.deploy(EMITTER)
    again, _ = await workflows.deploy(EMITTER)
    assert again.id == first.id and again.revision == 1  # the same document: nothing new
    changed, _ = await workflows.deploy(EMITTER.replace("/test/emitter", "/test/other"))
    assert changed.id == first.id and changed.revision == 2
    other, _ = await workflows.deploy(LISTENER)
    assert other.id != first.id


async def test_path_mapping_and_workflow_sources(workflows: Workflows, tmp_path: Path) -> None:
    file = tmp_path / "flow.yaml"
    file.write_text(EMITTER)
    from_file, _ = await workflows.deploy(file, id="p_mine")
    assert from_file.id == "p_mine" and from_file.media_type == "application/yaml"
    from_object, _ = await workflows.deploy(parse_workflow(LISTENER))
    assert from_object.media_type == "application/json"
    assert json.loads(from_object.document)["document"]["name"] == "listener"
    mapping = dict(parse_workflow(LISTENER).raw)
    mapping["document"] = {**mapping["document"], "name": "mapped"}
    from_mapping, _ = await workflows.deploy(mapping)
    reread = await workflows.workflow(from_mapping.id, from_mapping.revision)
    assert reread.document.name == "mapped"
    assert (await workflows.latest_workflow("p_nope", missing_ok=True)) is None


async def test_bad_input_is_refused(workflows: Workflows) -> None:
    with pytest.raises(ConfigurationError, match="workflow id"):
        await workflows.deploy(EMITTER, id="orders")
    with pytest.raises(DocumentError):
        await workflows.deploy("document: {}\n")
    with pytest.raises(ConfigurationError, match="deploy takes"):
        await workflows.deploy(42)  # type: ignore[arg-type]


class _Counting(MemoryStore):
    """A memory store counting the reads that deploying and running may make."""

    def __init__(self, *, shared: bool = False) -> None:
        super().__init__()
        self.reads = {"get_workflow": 0, "list_workflows": 0}
        self.named = 0
        self.schedule_reads = 0
        self.shared = shared  # type: ignore[misc]

    async def workflow_named(self, namespace: str, name: str) -> Any:
        self.named += 1
        return await super().workflow_named(namespace, name)

    async def list_schedules(self, *, workflow_id: str | None = None) -> Any:
        self.schedule_reads += 1
        return await super().list_schedules(workflow_id=workflow_id)

    async def get_workflow(self, workflow_id: str, *, revision: int | None = None) -> Any:
        self.reads["get_workflow"] += 1
        return await super().get_workflow(workflow_id, revision=revision)

    async def list_workflows(self) -> Any:
        self.reads["list_workflows"] += 1
        return await super().list_workflows()


def _named(name: str, target: str = "/test/emitter") -> str:
    return EMITTER.replace("name: emitter", f"name: {name}").replace("/test/emitter", target)


async def test_every_latest_revision_stays_parsed() -> None:
    # More workflows than the old fixed cache held: none is read or parsed again.
    store = _Counting()
    await store.open()
    workflows = Workflows(store)
    deployed = [(await workflows.deploy(_named(f"w{k}")))[0] for k in range(300)]
    before = dict(store.reads)
    for version in deployed:
        parsed = await workflows.workflow(version.id, version.revision)
        assert parsed.document.name == version.name
    assert store.reads == before


async def test_older_revisions_stay_readable_and_forget_drops_them() -> None:
    store = _Counting()
    await store.open()
    workflows = Workflows(store)
    await workflows.deploy(_named("w"), id="p_w")
    second, _ = await workflows.deploy(_named("w", "/test/other"), id="p_w")
    assert second.revision == 2
    old = await workflows.workflow("p_w", 1)
    assert old.raw["do"] != (await workflows.workflow("p_w", 2)).raw["do"]
    workflows.forget("p_w")
    await store.delete_workflow("p_w")
    again, parsed = await workflows.deploy(_named("w", "/test/third"), id="p_w")
    assert again.revision == 1
    assert await workflows.workflow("p_w", 1) is parsed


async def test_same_name_is_looked_up_once_on_a_store_of_one_process() -> None:
    store = _Counting()
    await store.open()
    workflows = Workflows(store)
    ids = [(await workflows.deploy(_named(f"w{k}")))[0].id for k in range(20)]
    again, _ = await workflows.deploy(_named("w3", "/test/changed"))
    assert again.id == ids[3] and again.revision == 2
    assert store.reads["list_workflows"] == 1
    # A workflow given an id, then renamed: the name index follows.
    mine, _ = await workflows.deploy(_named("w5"), id="p_0000first")
    assert (await workflows.deploy(_named("w5", "/test/x")))[0].id == "p_0000first"
    await workflows.deploy(_named("renamed"), id="p_0000first")
    assert (await workflows.deploy(_named("w5", "/test/y")))[0].id == ids[5]
    assert mine.id == "p_0000first"


async def test_a_shared_store_is_asked_each_time() -> None:
    # Another process may have deployed the name since: the store is asked for it again.
    store = _Counting(shared=True)
    await store.open()
    workflows = Workflows(store)
    first, _ = await workflows.deploy(_named("w"))
    elsewhere, _ = await Workflows(store).deploy(_named("v"))
    again, _ = await workflows.deploy(_named("v", "/test/changed"))
    assert again.id == elsewhere.id and first.id != elsewhere.id
    assert store.named == 3 and store.reads["list_workflows"] == 0


async def test_subscribing_a_workflow_just_deployed_asks_the_store_nothing_more() -> None:
    store = _Counting()
    async with Engine(store, EngineSettings(code_steps=None, timers=False)) as engine:
        emitter = await engine.deploy(_named("emitter"))
        listener = await engine.deploy(_named("listener"))
        before = dict(store.reads)
        await engine.subscribe(emitter_id=emitter.id, listener_id=listener.id)
        assert store.reads == before
        with pytest.raises(NotFoundError, match="deploy it first"):
            await engine.subscribe(emitter_id=emitter.id, listener_id="p_nowhere")


async def test_deploy_and_subscribe_to_a_source_make_no_read_on_a_store_of_one_process() -> None:
    # A listener deployed by its text and subscribed to an event source: the name index is read
    # once, a first revision without schedules has none stored, and no workflow p_<x> of the
    # source's dc_<x> exists (this process holds every workflow id).
    store = _Counting()
    source = source_emitter_id("/test/source")
    async with Engine(store, EngineSettings(code_steps=None, timers=False)) as engine:
        store.schedule_reads = 0  # what opening the engine read
        for k in range(5):
            listener = await engine.deploy(_named(f"l{k}"))
            made = await engine.subscribe(emitter_id=source, listener_id=listener.id)
            assert made.emitter_id == source
        again = await engine.deploy(_named("l1", "/test/changed"))  # revision 2, no schedule
        assert again.revision == 2
        assert store.reads == {"get_workflow": 0, "list_workflows": 1}
        assert store.schedule_reads == 0
        # dc_<x> still names a workflow p_<x> deployed here, whatever its id.
        mine = await engine.deploy(_named("mine"), id="p_" + source[3:])
        made = await engine.subscribe(emitter_id=source, listener_id=listener.id)
        assert made.emitter_id == mine.id
        assert store.reads["get_workflow"] == 0


async def test_a_version_without_schedules_still_removes_the_schedules_before_it() -> None:
    store = _Counting()
    async with Engine(store, EngineSettings(code_steps=None, timers=False)) as engine:
        timed = _named("timed").replace("do:", "schedule:\n  every: PT1M\ndo:", 1)
        flow = await engine.deploy(timed)
        assert len(await store.list_schedules(workflow_id=flow.id)) == 1
        store.schedule_reads = 0
        await engine.deploy(_named("timed", "/test/plain"))
        assert await store.list_schedules(workflow_id=flow.id) == []
        assert store.schedule_reads == 2  # the deploy's, then this test's
        store.schedule_reads = 0
        await engine.deploy(_named("timed", "/test/again"))  # known to have none now
        assert store.schedule_reads == 0


async def test_a_shared_store_is_asked_whether_the_workflow_of_a_source_exists() -> None:
    # Another process may have deployed p_<x> since: the store is asked.
    store = _Counting(shared=True)
    async with Engine(store, EngineSettings(code_steps=None, timers=False)) as engine:
        listener = await engine.deploy(_named("l"))
        source = source_emitter_id("/test/source")
        await engine.subscribe(emitter_id=source, listener_id=listener.id)
        assert store.reads["get_workflow"] == 2  # the listener, and p_<x>


async def test_the_name_index_survives_being_dropped_while_it_is_read() -> None:
    # An undeploy (forget) while a deploy awaits the list of workflows: that deploy used to
    # fail with an AttributeError (seen on PostgreSQL, where a change elsewhere forgets).
    store = _Counting()
    await store.open()
    workflows = Workflows(store)
    listed = store.list_workflows

    async def dropping() -> Any:
        found = await listed()
        workflows.forget("p_elsewhere")
        return found

    store.list_workflows = dropping  # type: ignore[method-assign]
    first, _ = await workflows.deploy(_named("w"))
    again, _ = await workflows.deploy(_named("w", "/test/changed"))
    assert again.id == first.id and again.revision == 2
