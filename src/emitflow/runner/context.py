"""Run state, and the variables a task's expressions see (``$context``, ``$input``, …).

``Run`` is the mutable state of one run; ``Frame`` is one task's view of it. A frame is the
mapping handed to jq as the expression variables: it builds ``$task`` and ``$workflow`` only when
an expression reads them, so a task whose expressions never mention them pays nothing.
Date-times are exposed as ``{iso8601, epoch: {seconds, milliseconds}}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emitflow import __version__
from emitflow.dsl.model import TaskItem, Workflow
from emitflow.errors import FaultError, Problem
from emitflow.events.cloudevent import CloudEvent
from emitflow.expressions import STANDARD_VARIABLES
from emitflow.secrets import Redactor

if TYPE_CHECKING:
    import httpx  # a type only: runs that make no call never import it

    from emitflow.http.auth import Authenticator
    from emitflow.ports import RunOptions
    from emitflow.runner.durable import Replay
    from emitflow.runner.evaluation import Renderer
    from emitflow.runner.extensions import Plan
    from emitflow.runner.kinds import Kinds
    from emitflow.runner.lifecycle import Lifecycle

__all__ = [
    "NO_EXTENSIONS",
    "NO_VARIABLES",
    "RUNTIME",
    "Entry",
    "Frame",
    "Run",
    "datetime_value",
    "rfc3339",
]

logger = logging.getLogger(__name__)

#: ``$runtime``.
RUNTIME: Mapping[str, Any] = {"name": "emitflow", "version": __version__, "metadata": {}}
#: The scope of a task list that adds no loop or catch variables.
NO_VARIABLES: Mapping[str, Any] = {}
#: The extension plan of a workflow without ``use.extensions``.
NO_EXTENSIONS: Mapping[int, Any] = {}


def datetime_value(moment: datetime) -> dict[str, Any]:
    """A date-time as expressions see it: ``{iso8601, epoch: {seconds, milliseconds}}``."""
    stamp = moment.timestamp()
    return {
        "iso8601": rfc3339(moment),
        "epoch": {"seconds": int(stamp), "milliseconds": int(stamp * 1000)},
    }


def rfc3339(moment: datetime) -> str:
    """``2026-01-01T00:00:00.000Z``."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Entry:
    """One task's record while the run goes on (turned into a ``TaskRecord`` at the end)."""

    __slots__ = (
        "emits",
        "ended_at",
        "error",
        "input",
        "logs",
        "name",
        "output",
        "reference",
        "started_at",
        "status",
    )

    def __init__(self, item: TaskItem, raw: Any, started_at: datetime) -> None:
        self.reference = item.reference
        self.name = item.name
        self.status = "pending"
        self.input = raw
        self.output: Any = None
        self.error: dict[str, Any] | None = None
        self.started_at = started_at
        self.ended_at: datetime | None = None
        self.emits: list[dict[str, Any]] | None = None
        self.logs = ""


class Run:
    """The mutable state of one run: context, records, emitted events, shared clients."""

    def __init__(self, workflow: Workflow, options: RunOptions, run_id: str, kinds: Kinds) -> None:
        self.workflow = workflow
        self.options = options
        self.run_id = run_id
        self.kinds = kinds
        # Chosen once per run, so the hot paths test neither the mode nor the extensions.
        self.renderer: Callable[[Any], Renderer] = kinds.renderers[workflow.evaluate_mode]
        self.extended: Plan = (
            kinds.plan(workflow, kinds.handlers) if workflow.use.extensions else NO_EXTENSIONS
        )
        self.clock = options.clock
        self.context: Any = {} if options.context is None else options.context
        self.declared = frozenset(workflow.use.secrets)
        self.secrets = _exposed_secrets(workflow, options.secrets)
        self.redactor = Redactor(options.secrets)
        self.redacting = bool(options.secrets)
        self.records: list[Entry] = []
        self.emitted: list[CloudEvent] = []
        self.held: list[CloudEvent] = []
        #: Queues of this run's ``listen`` tasks when no ``RunOptions.listen`` port is given:
        #: they hear the events the run itself emits.
        self.inboxes: list[asyncio.Queue[dict[str, Any]]] = []
        self.lifecycle: Lifecycle | None = None
        self.started_at = self.clock.now()
        self.input: Any = None
        self.background: set[asyncio.Task[Any]] = set()
        self.exports: dict[str, dict[str, Any]] = {}
        # Durable runs only (see ``durable``): one test per task on the hot path otherwise.
        self.replay: Replay | None = _replay(options) if options.resume else None
        self.durable = self.replay is not None or options.journal is not None
        self.subflows: dict[Path, list[Workflow]] | None = None
        self._workflow_var: dict[str, Any] | None = None
        self._client: httpx.AsyncClient | None = options.http
        self._own_client = False
        self._authenticator: Authenticator | None = None

    @property
    def log_extra(self) -> dict[str, Any]:
        """The ``extra=`` of this run's log records."""
        return {"run_id": self.run_id, "workflow": self.workflow.qualified_name}

    def workflow_var(self) -> dict[str, Any]:
        """``$workflow``: ``{id, definition, input, startedAt}``."""
        if self._workflow_var is None:
            self._workflow_var = {
                "id": self.run_id,
                "definition": self.workflow.raw,
                "input": self.input,
                "startedAt": datetime_value(self.started_at),
            }
        return self._workflow_var

    def check_secrets(self, names: tuple[str, ...], where: str) -> None:
        """Refuse (authorization, 403) a secret not declared in ``use.secrets`` or not given."""
        for name in names:
            if name not in self.declared:
                raise FaultError(
                    Problem.of(
                        "authorization",
                        title="Secret Not Declared",
                        detail=f"the secret {name!r} is not listed in use.secrets; declare it "
                        f"there to read $secrets.{name}",
                        instance=where,
                    )
                )
            if name not in self.secrets:
                raise FaultError(
                    Problem.of(
                        "authorization",
                        title="Secret Not Available",
                        detail=f"the secret {name!r} was not given to this run; pass it "
                        f"with --secret {name}=…",
                        instance=where,
                    )
                )

    def redact(self, problem: Problem) -> Problem:
        """The problem with every secret value masked in its texts."""
        if not self.redacting:
            return problem
        text = self.redactor.text
        return Problem(
            type=problem.type,
            status=problem.status,
            instance=problem.instance,
            title=text(problem.title) if problem.title else problem.title,
            detail=text(problem.detail) if problem.detail else problem.detail,
        )

    def base_dir(self) -> Path:
        """Where relative files are found: ``workflows_dir``, else the workflow file's folder."""
        if self.options.workflows_dir is not None:
            return self.options.workflows_dir
        if self.workflow.source:
            return Path(self.workflow.source).resolve().parent
        return Path.cwd()

    def client(self) -> httpx.AsyncClient:
        """The HTTP client; a default one is made on first use (and closed by ``close``)."""
        if self._client is None:
            from emitflow.http.routes import make_client

            self._client = make_client()
            self._own_client = True
        return self._client

    def authenticator(self) -> Authenticator:
        """Resolves authentication policies (caching OAuth2 tokens for the run)."""
        if self._authenticator is None:
            from emitflow.http.auth import Authenticator

            self._authenticator = Authenticator(self.client(), clock=self.clock)
        return self._authenticator

    def policy_secrets(self) -> dict[str, Any]:
        """The declared secrets, a JSON text holding an object decoded (for ``{use: s}``)."""
        out: dict[str, Any] = {}
        for name, value in self.secrets.items():
            if not isinstance(value, str):  # an object from a secrets file
                out[name] = value
                continue
            try:
                decoded = json.loads(value)
            except ValueError:
                decoded = value
            out[name] = decoded if isinstance(decoded, dict) else value
        return out

    async def close(self) -> None:
        """Close what the run opened."""
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None


def _replay(options: RunOptions) -> Replay:
    from emitflow.runner.durable import Replay  # it needs the data flow, which needs this

    return Replay(options.resume)


def _exposed_secrets(workflow: Workflow, given: Mapping[str, Any]) -> dict[str, Any]:
    return {name: given[name] for name in workflow.use.secrets if name in given}


class Frame(Mapping[str, Any]):
    """One task's evaluation context; also the variables mapping handed to expressions."""

    __slots__ = (
        "authorization",
        "emits",
        "entry",
        "input",
        "item",
        "output",
        "raw",
        "raw_output",
        "run",
        "scope",
        "then",
    )

    def __init__(self, run: Run, item: TaskItem, raw: Any, scope: Mapping[str, Any]) -> None:
        self.run = run
        self.item = item
        self.scope = scope
        self.raw = raw
        self.input: Any = None
        self.raw_output: Any = None
        self.output: Any = None
        self.authorization: Any = None
        self.then: str | None = None
        self.entry: Entry | None = None
        self.emits: list[CloudEvent] | None = None

    @property
    def where(self) -> str:
        """The task's JSON pointer."""
        return self.item.reference

    def get(self, name: str, default: Any = None) -> Any:
        """The value of ``$name`` (jq asks only for the names an expression mentions)."""
        scope = self.scope
        if scope and name in scope:
            return scope[name]
        if name == "input":
            return self.input
        if name == "context":
            return self.run.context
        if name == "output":
            return self.output
        if name == "secrets":
            return self.run.secrets
        if name == "task":
            return self.task_var()
        if name == "workflow":
            return self.run.workflow_var()
        if name == "runtime":
            return RUNTIME
        if name == "authorization":
            return self.authorization
        return default

    def __getitem__(self, name: str) -> Any:
        value = self.get(name, _MISSING)
        if value is _MISSING:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        yield from (*self.scope, *STANDARD_VARIABLES)

    def __len__(self) -> int:
        return len(self.scope) + len(STANDARD_VARIABLES)

    def with_scope(self, extra: Mapping[str, Any]) -> Mapping[str, Any]:
        """This task's scope plus ``extra`` (loop or catch variables) for the tasks it runs."""
        return {**self.scope, **extra} if self.scope else dict(extra)

    def derive(self, scope: Mapping[str, Any]) -> Frame:
        """The same task seen with another scope (to evaluate ``while`` or ``catch.when``)."""
        other = Frame(self.run, self.item, self.raw, scope)
        other.input = self.input
        other.output = self.output
        other.raw_output = self.raw_output
        other.authorization = self.authorization
        other.entry = self.entry
        return other

    def task_var(self) -> dict[str, Any]:
        """``$task``: ``{name, reference, definition, input, output, startedAt}``."""
        started = self.entry.started_at if self.entry is not None else self.run.clock.now()
        return {
            "name": self.item.name,
            "reference": self.item.reference,
            "definition": definition_at(self.run.workflow.raw, self.item.reference),
            "input": self.raw,
            "output": self.raw_output,
            "startedAt": datetime_value(started),
        }


_MISSING = object()


def definition_at(document: Any, pointer: str) -> Any:
    """The raw definition at a JSON pointer (``None`` when it is not there)."""
    node = document
    for token in pointer.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, Mapping) and key in node:
            node = node[key]
        else:
            return None
    return node
