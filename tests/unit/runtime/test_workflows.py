"""Deploying: every kind of source, ids kept across versions, ids checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emitflow.dsl import parse_workflow
from emitflow.errors import ConfigurationError, DocumentError
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
