"""``Workflows``: deploying documents to the store and reading them back, parsed once.

A workflow keeps its id ``p_…`` across versions. Deploying without an id adds a version to the
workflow of the same namespace and name if there is one, else makes a new workflow; deploying
the same document again stores nothing new.

Parsed documents are cached per (id, revision): the latest revision of every workflow this
process has seen stays parsed for as long as the workflow is deployed (a listener run must not
re-read and re-parse its YAML however many workflows there are), older revisions in a small
least-recently-used cache (runs started before a new version still finish on theirs).

Deploying by namespace and name looks the name up in an index of the store's workflows, read
once and kept up to date by every deploy here, when this process is the store's only user
(SQLite, memory). On a store several processes share, another one may have deployed the name
meanwhile: the store is asked for that name each time.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

from emitflow.dsl import Workflow, from_mapping, load_workflow, parse_workflow, python_workflow
from emitflow.errors import ConfigurationError, NotFoundError
from emitflow.store.base import ChangeFeed, WorkflowStore
from emitflow.store.records import NewWorkflow, WorkflowVersion

__all__ = ["WORKFLOW_ID", "DeploySource", "Workflows"]

#: What ``deploy`` takes: a file (a ``.py`` file is a one-step code workflow), a parsed
#: workflow, a mapping, or the document's text.
DeploySource = Path | Workflow | Mapping[str, Any] | str
#: A workflow id as users may choose it.
WORKFLOW_ID = re.compile(r"^p_[A-Za-z0-9_-]{1,64}$")
_JSON = "application/json"
_YAML = "application/yaml"
#: Document texts up to this long are parsed on the event loop (files and longer texts in a
#: thread).
_INLINE_PARSE_CHARS = 2_048
#: Parsed revisions older than a workflow's latest kept at once.
_OLDER_REVISIONS = 256


class _Store(WorkflowStore, ChangeFeed, Protocol):
    """What deploying needs of the store."""


class Workflows:
    """The deployed workflows of one store, with parsed documents cached."""

    def __init__(self, store: _Store) -> None:
        self._store = store
        #: Per workflow id, its newest revision seen and that revision parsed.
        self._current: dict[str, tuple[int, Workflow]] = {}
        self._older: OrderedDict[tuple[str, int], Workflow] = OrderedDict()
        self._latest: dict[str, WorkflowVersion] = {}
        #: (namespace, name) → the first workflow id (in id order) of that name, and each
        #: workflow's (namespace, name); ``None`` until first needed, or when out of date.
        self._names: dict[tuple[str, str], str] | None = None
        self._named: dict[str, tuple[str, str]] = {}

    async def deploy(
        self,
        source: DeploySource,
        *,
        id: str | None = None,
        check: Callable[[Workflow], object] | None = None,
    ) -> tuple[WorkflowVersion, Workflow]:
        """Validate (with ``check`` too) and store a document; its version and parsed form."""
        if id is not None and not WORKFLOW_ID.match(id):
            raise ConfigurationError(
                f"workflow id {id!r} is invalid: use 'p_' then letters, digits, '_' or '-'"
            )
        # Reading a file, or parsing a large text, takes long: off the event loop. A small text
        # takes about a millisecond, and a mapping (already parsed) or a workflow less, which
        # is less than the hand-off to a thread costs under load.
        if isinstance(source, Path) or (
            isinstance(source, str) and len(source) > _INLINE_PARSE_CHARS
        ):
            workflow, text, media_type = await asyncio.to_thread(_prepare, source)
        else:
            workflow, text, media_type = _prepare(source)
        if check is not None:
            check(workflow)
        document = workflow.document
        target = id or await self._same_name(document.namespace, document.name)
        version = await self._store.put_workflow(
            NewWorkflow(
                namespace=document.namespace,
                name=document.name,
                version=document.version,
                document=text,
                media_type=media_type,
                definition=_definition(workflow),
                id=target,
            )
        )
        self._latest[version.id] = version
        self._index(version)
        self._remember((version.id, version.revision), workflow)
        return version, workflow

    async def latest(self, workflow_id: str) -> WorkflowVersion:
        """The newest stored version (``NotFoundError`` if there is none)."""
        version = self._latest.get(workflow_id)
        if version is None:
            version = await self._store.get_workflow(workflow_id)
            self._latest[workflow_id] = version
        return version

    def known(self, workflow_id: str) -> bool:
        """Whether this process has seen the workflow deployed (and not removed) here; a
        store several processes share may have lost it since."""
        return workflow_id in self._latest and not self._store.shared

    def absent(self, workflow_id: str) -> bool:
        """Whether the workflow is known not to exist: this process holds the ids of every
        workflow of a store only it uses (read once for deploying by name, kept since)."""
        return self._names is not None and not self._store.shared and workflow_id not in self._named

    async def latest_workflow(
        self, workflow_id: str, *, missing_ok: bool = False
    ) -> Workflow | None:
        """The newest version, parsed; ``None`` for an unknown id when ``missing_ok``."""
        try:
            version = await self.latest(workflow_id)
        except NotFoundError:
            if missing_ok:
                return None
            raise
        return self.parsed(version)

    async def workflow(self, workflow_id: str, revision: int) -> Workflow:
        """One stored version, parsed."""
        cached = self._cached((workflow_id, revision))
        if cached is not None:
            return cached
        return self.parsed(await self._store.get_workflow(workflow_id, revision=revision))

    def parsed(self, version: WorkflowVersion) -> Workflow:
        """A stored version's document, parsed (once)."""
        key = (version.id, version.revision)
        workflow = self._cached(key)
        if workflow is None:
            kind: Literal["json", "yaml"] = "json" if version.media_type == _JSON else "yaml"
            workflow = parse_workflow(version.document, format=kind)
            self._remember(key, workflow)
        return workflow

    def forget(self, workflow_id: str) -> None:
        """Drop what is cached about a workflow (it was removed or changed elsewhere)."""
        self._latest.pop(workflow_id, None)
        # A workflow deployed again after its removal starts over at revision 1.
        self._current.pop(workflow_id, None)
        for key in [key for key in self._older if key[0] == workflow_id]:
            del self._older[key]
        self._names = None

    def _cached(self, key: tuple[str, int]) -> Workflow | None:
        current = self._current.get(key[0])
        if current is not None and current[0] == key[1]:
            return current[1]
        workflow = self._older.get(key)
        if workflow is not None:
            self._older.move_to_end(key)
        return workflow

    def _remember(self, key: tuple[str, int], workflow: Workflow) -> None:
        workflow_id, revision = key
        current = self._current.get(workflow_id)
        if current is not None and current[0] > revision:
            self._keep_older(key, workflow)
            return
        if current is not None and current[0] < revision:
            self._keep_older((workflow_id, current[0]), current[1])
        self._current[workflow_id] = (revision, workflow)

    def _keep_older(self, key: tuple[str, int], workflow: Workflow) -> None:
        self._older[key] = workflow
        self._older.move_to_end(key)
        while len(self._older) > _OLDER_REVISIONS:
            self._older.popitem(last=False)

    async def _same_name(self, namespace: str, name: str) -> str | None:
        if self._store.shared:
            # Another process may have deployed the name since: asked each time.
            return await self._store.workflow_named(namespace, name)
        if self._names is not None:
            return self._names.get((namespace, name))
        # Built aside: while the list is read, a change elsewhere may drop the index (forget).
        names: dict[tuple[str, str], str] = {}
        named: dict[str, tuple[str, str]] = {}
        for version in await self._store.list_workflows():  # by namespace, name, id
            names.setdefault((version.namespace, version.name), version.id)
            named[version.id] = (version.namespace, version.name)
        self._names, self._named = names, named
        return names.get((namespace, name))

    def _index(self, version: WorkflowVersion) -> None:
        if self._names is None:
            return
        key = (version.namespace, version.name)
        before = self._named.get(version.id)
        if before is not None and before != key:
            self._names = None  # renamed: which workflow holds the old name is read again
            return
        self._named[version.id] = key
        known = self._names.get(key)
        self._names[key] = version.id if known is None else min(known, version.id)


def _prepare(source: DeploySource) -> tuple[Workflow, str, str]:
    if isinstance(source, Path) and source.suffix.lower() == ".py":
        workflow = python_workflow(source)
        return workflow, _json_text(workflow.raw), _JSON
    if isinstance(source, Path):
        workflow = load_workflow(source)
        text = source.read_text(encoding="utf-8-sig")
        return workflow, text, _JSON if source.suffix.lower() == ".json" else _YAML
    if isinstance(source, Workflow):
        return source, _json_text(source.raw), _JSON
    if isinstance(source, str):
        return parse_workflow(source), source, _YAML
    if isinstance(source, Mapping):
        workflow = from_mapping(source)
        return workflow, _json_text(workflow.raw), _JSON
    raise ConfigurationError(
        "deploy takes a Path, a Workflow, a mapping or the document's text, "
        f"not {type(source).__name__}"
    )


def _json_text(raw: Mapping[str, Any]) -> str:
    try:
        return json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"the workflow document is not JSON-serialisable: {exc}") from exc


def _definition(workflow: Workflow) -> Any:
    # The document as JSON, for readers that do not parse YAML; None if it is not JSON.
    try:
        return json.loads(json.dumps(workflow.raw))
    except (TypeError, ValueError):
        return None
