"""The typed, immutable model of a DSL 1.0 workflow document.

Every class is a frozen dataclass built by ``emitflow.dsl.loader`` from a validated document.
Fields that hold JSON values which may embed ``${ }`` expressions (``set``, ``with``, ``body``,
``emit`` attributes, error fields, …) are typed ``Json``: plain JSON values as loaded, which
emitflow never mutates. Fields whose type *is* an expression (``if``, ``for.in``, ``switch.when``,
``output.as`` when a string, …) hold the expression text as written; the loader has already
compiled each one, so a bad expression never reaches a run.

Every class is ``@frozen``: a frozen, keyword-only dataclass whose methods are generated when
the class is first instantiated (``emitflow.frozen``), so that importing the model is cheap.

Field names follow the DSL's keys; a trailing underscore marks a Python keyword
(``if_``, ``in_``, ``as_``, ``from_``, ``with_``, ``try_``, ``await_``, ``return_``, ``while_``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any, Literal

from emitflow.frozen import frozen

__all__ = [
    "AuthPolicy",
    "AuthenticationRef",
    "CallTask",
    "Catch",
    "ConsumptionStrategy",
    "Correlation",
    "DoTask",
    "Document",
    "Duration",
    "EmitTask",
    "Endpoint",
    "ErrorDefinition",
    "ErrorFilter",
    "EventFilter",
    "ExportSpec",
    "Extension",
    "ExternalResource",
    "ForTask",
    "ForkTask",
    "HttpArguments",
    "InputSpec",
    "Json",
    "ListenTask",
    "OpenApiArguments",
    "OutputSpec",
    "RaiseTask",
    "RetryPolicy",
    "RunTask",
    "Schedule",
    "SchemaSpec",
    "ScriptProcess",
    "SetTask",
    "ShellProcess",
    "SubflowProcess",
    "SubscriptionIterator",
    "SwitchCase",
    "SwitchTask",
    "Task",
    "TaskItem",
    "TimeoutSpec",
    "TryTask",
    "Use",
    "WaitTask",
    "Workflow",
]

#: A JSON value as loaded from the document (never mutated).
Json = Any

FlowDirective = str  # "continue" | "exit" | "end" | a task name


# --- small shared values ---------------------------------------------------------------------


@frozen
class Duration:
    """A duration: a fixed number of seconds, or a ``${ }`` expression yielding ISO 8601."""

    seconds: float | None = None
    expression: str | None = None


@frozen
class AuthPolicy:
    """One authentication scheme with its properties (values may hold ``${ }``).

    ``scheme`` is basic, bearer, digest, oauth2, oidc or certificate; ``secret`` names a secret
    holding the properties instead (``oauth2: {use: mySecret}``).
    """

    scheme: str
    properties: Mapping[str, Json] = field(default_factory=dict)
    secret: str | None = None


@frozen
class AuthenticationRef:
    """An endpoint's authentication: a ``use.authentications`` name, or an inline policy."""

    use: str | None = None
    policy: AuthPolicy | None = None


@frozen
class Endpoint:
    """A URI (literal, RFC 6570 template, or ``${ }``) with its optional authentication."""

    uri: str
    authentication: AuthenticationRef | None = None


@frozen
class ExternalResource:
    """A document fetched from an endpoint (an OpenAPI document, a script source, a schema)."""

    endpoint: Endpoint
    name: str | None = None


@frozen
class SchemaSpec:
    """A JSON Schema given inline (``document``) or by reference (``resource``)."""

    format: str = "json"
    document: Json = None
    resource: ExternalResource | None = None


@frozen
class InputSpec:
    """``input``: validate the raw input against ``schema``, then transform it with ``from``."""

    schema: SchemaSpec | None = None
    from_: Json = None


@frozen
class OutputSpec:
    """``output``: transform the raw output with ``as``, then validate against ``schema``.

    ``store_as`` is set by the seed shorthand ``output.as: <bare name>``: the task's output is
    its transformed input with the raw result stored under that name.
    """

    schema: SchemaSpec | None = None
    as_: Json = None
    store_as: str | None = None


@frozen
class ExportSpec:
    """``export``: the new ``$context``, computed from the transformed output."""

    schema: SchemaSpec | None = None
    as_: Json = None


@frozen
class TimeoutSpec:
    """``timeout.after``."""

    after: Duration


# --- errors, retries, catch ------------------------------------------------------------------


@frozen
class ErrorDefinition:
    """An error to raise; fields may be ``${ }`` expressions."""

    type: Json
    status: Json
    title: Json = None
    detail: Json = None
    instance: Json = None


@frozen
class ErrorFilter:
    """``catch.errors.with``: every given field must match (AND). ``type: "*"`` matches any."""

    type: str | None = None
    status: int | None = None
    instance: str | None = None
    title: str | None = None
    detail: str | None = None


@frozen
class RetryPolicy:
    """A retry policy. Backoff: constant = delay, linear = delay×n, exponential = delay×2^(n-1)."""

    when: str | None = None
    except_when: str | None = None
    delay: Duration | None = None
    backoff: Literal["constant", "linear", "exponential"] = "constant"
    attempt_count: int | None = None
    attempt_duration: Duration | None = None
    total_duration: Duration | None = None
    jitter_from: Duration | None = None
    jitter_to: Duration | None = None


@frozen
class Catch:
    """``catch``: which errors, under which name, retried how, handled by which tasks."""

    errors: ErrorFilter | None = None
    as_: str = "error"
    when: str | None = None
    except_when: str | None = None
    retry: RetryPolicy | str | None = None
    do: tuple[TaskItem, ...] | None = None
    then: FlowDirective | None = None


# --- events ----------------------------------------------------------------------------------


@frozen
class Correlation:
    """One correlation key: extracted ``from`` the event, optionally ``expect``-ed."""

    from_: str
    expect: Json = None


@frozen
class EventFilter:
    """Attributes an event must match (regex, ``${ }`` predicate or equality) and correlations."""

    with_: Mapping[str, Json]
    correlate: Mapping[str, Correlation] = field(default_factory=dict)


@frozen
class ConsumptionStrategy:
    """``all``, ``any`` or ``one`` of some filters; ``until`` an expression or a strategy."""

    mode: Literal["all", "any", "one"]
    filters: tuple[EventFilter, ...]
    until: str | ConsumptionStrategy | None = None


@frozen
class SubscriptionIterator:
    """``listen.foreach``: process each consumed event with ``do``."""

    item: str = "item"
    at: str = "index"
    do: tuple[TaskItem, ...] = ()
    output: OutputSpec | None = None
    export: ExportSpec | None = None


@frozen
class Schedule:
    """``schedule``: ``every``, ``cron``, ``after`` and/or ``on``."""

    every: Duration | None = None
    cron: str | None = None
    after: Duration | None = None
    on: ConsumptionStrategy | None = None
    read: Literal["data", "envelope", "raw"] = "envelope"


# --- tasks -----------------------------------------------------------------------------------


@frozen
class Task:
    """What every task has. ``catch`` is the seed shorthand of a catch on a non-``try`` task."""

    if_: str | None = None
    input: InputSpec | None = None
    output: OutputSpec | None = None
    export: ExportSpec | None = None
    timeout: TimeoutSpec | str | None = None
    then: FlowDirective | None = None
    metadata: Mapping[str, Json] = field(default_factory=dict)
    catch: Catch | None = None


@frozen
class TaskItem:
    """A named task in a task list, with its JSON pointer (``/do/0/tryGetPet/try/0/getPet``)."""

    name: str
    reference: str
    task: Task
    line: int | None = None


@frozen
class HttpArguments:
    """``call: http`` arguments."""

    method: str
    endpoint: Endpoint
    headers: Json = None
    query: Json = None
    body: Json = None
    output: Literal["content", "response", "raw"] = "content"
    redirect: bool = False


@frozen
class OpenApiArguments:
    """``call: openapi`` arguments."""

    document: ExternalResource
    operation_id: str
    parameters: Mapping[str, Json] = field(default_factory=dict)
    authentication: AuthenticationRef | None = None
    output: Literal["content", "response", "raw"] = "content"
    redirect: bool = False


@frozen
class CallTask(Task):
    """``call``: a built-in (http, openapi, grpc, asyncapi, a2a, mcp) or a custom function."""

    call: str
    with_: Mapping[str, Json] = field(default_factory=dict)
    http: HttpArguments | None = None
    openapi: OpenApiArguments | None = None


@frozen
class DoTask(Task):
    """``do``: tasks in sequence."""

    do: tuple[TaskItem, ...]


@frozen
class EmitTask(Task):
    """``emit``: publish a CloudEvent whose attributes (and data) may hold ``${ }``."""

    event: Mapping[str, Json]


@frozen
class ForTask(Task):
    """``for``: iterate ``in`` (an expression, or an inline array) with ``each``/``at``."""

    each: str = "item"
    in_: Json = None
    at: str = "index"
    while_: str | None = None
    do: tuple[TaskItem, ...] = ()


@frozen
class ForkTask(Task):
    """``fork``: branches run concurrently; ``compete`` keeps only the first to finish."""

    branches: tuple[TaskItem, ...]
    compete: bool = False


@frozen
class ListenTask(Task):
    """``listen``: wait for events."""

    to: ConsumptionStrategy
    read: Literal["data", "envelope", "raw"] = "data"
    foreach: SubscriptionIterator | None = None


@frozen
class RaiseTask(Task):
    """``raise``: an inline error, or the name of a ``use.errors`` entry."""

    error: ErrorDefinition | str


@frozen
class ScriptProcess:
    """``run.script``: ``code`` or ``source`` in a language (python, js)."""

    language: str
    code: str | None = None
    source: ExternalResource | None = None
    arguments: Json = None
    environment: Mapping[str, Json] = field(default_factory=dict)
    stdin: Json = None


@frozen
class ShellProcess:
    """``run.shell``."""

    command: str
    arguments: Json = None
    environment: Mapping[str, Json] = field(default_factory=dict)
    stdin: Json = None


@frozen
class SubflowProcess:
    """``run.workflow``: another workflow by namespace, name and version."""

    namespace: str
    name: str
    version: str = "latest"
    input: Json = None


@frozen
class RunTask(Task):
    """``run``: exactly one of container, script, shell or workflow."""

    await_: bool = True
    return_: Literal["stdout", "stderr", "code", "all", "none"] = "stdout"
    container: Mapping[str, Json] | None = None
    script: ScriptProcess | None = None
    shell: ShellProcess | None = None
    workflow: SubflowProcess | None = None


@frozen
class SetTask(Task):
    """``set``: a map (values may hold ``${ }``) or one expression; it replaces the input."""

    set: Json


@frozen
class SwitchCase:
    """One ``switch`` case; no ``when`` makes it the default."""

    name: str
    when: str | None = None
    then: FlowDirective = "continue"


@frozen
class SwitchTask(Task):
    """``switch``: the first case whose ``when`` holds decides where to go."""

    cases: tuple[SwitchCase, ...]


@frozen
class TryTask(Task):
    """``try`` with its ``catch``."""

    try_: tuple[TaskItem, ...]


@frozen
class WaitTask(Task):
    """``wait``: pause for a duration."""

    duration: Duration


@frozen
class Extension:
    """``use.extensions`` entry: tasks run ``before``/``after`` each task of kind ``extend``."""

    name: str
    extend: str
    when: str | None = None
    before: tuple[TaskItem, ...] = ()
    after: tuple[TaskItem, ...] = ()


# --- the document ----------------------------------------------------------------------------


@frozen
class Document:
    """``document``: identity and description."""

    dsl: str
    namespace: str
    name: str
    version: str
    title: str | None = None
    summary: str | None = None
    tags: Mapping[str, Json] = field(default_factory=dict)
    metadata: Mapping[str, Json] = field(default_factory=dict)


@frozen
class Use:
    """``use``: reusable components, by name."""

    authentications: Mapping[str, AuthPolicy] = field(default_factory=dict)
    errors: Mapping[str, ErrorDefinition] = field(default_factory=dict)
    extensions: tuple[Extension, ...] = ()
    functions: Mapping[str, Task] = field(default_factory=dict)
    retries: Mapping[str, RetryPolicy] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    timeouts: Mapping[str, TimeoutSpec] = field(default_factory=dict)
    catalogs: Mapping[str, Endpoint] = field(default_factory=dict)


@frozen
class Workflow:
    """A whole workflow document.

    ``raw`` is the document as loaded (``$workflow.definition``); ``source`` is the file it came
    from, if any (subflows and script sources are resolved relative to its folder).
    """

    document: Document
    do: tuple[TaskItem, ...]
    use: Use = field(default_factory=Use)
    input: InputSpec | None = None
    output: OutputSpec | None = None
    timeout: TimeoutSpec | str | None = None
    schedule: Schedule | None = None
    evaluate_mode: Literal["strict", "loose"] = "strict"
    raw: Mapping[str, Json] = field(default_factory=dict)
    source: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def qualified_name(self) -> str:
        """``namespace/name:version``."""
        d = self.document
        return f"{d.namespace}/{d.name}:{d.version}"
