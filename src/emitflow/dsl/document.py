"""The whole document: ``document``, ``use``, ``schedule``, ``evaluate`` and the ``Workflow``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast

from emitflow.dsl.checks import check_references, check_secrets
from emitflow.dsl.context import Context, child, describe
from emitflow.dsl.endpoints import auth_policy, endpoint
from emitflow.dsl.events import consumption_strategy
from emitflow.dsl.faults import error_definition, retry_policy
from emitflow.dsl.model import Document, Endpoint, Extension, Schedule, Use, Workflow
from emitflow.dsl.tasks import build_task, task_list
from emitflow.dsl.values import duration, input_spec, output_spec, timeout_field, timeout_spec
from emitflow.dsl.variables import check_variables
from emitflow.dsl.versions import CURRENT, RELEASED, dialect
from emitflow.expressions import iter_expressions

__all__ = ["SUPPORTED_DSL", "build_workflow"]

#: The released ``document.dsl`` versions emitflow runs (1.0.0 drafts too, see ``versions``).
SUPPORTED_DSL = RELEASED

_TOP = ("document", "do", "input", "use", "timeout", "output", "schedule", "evaluate")
_DNS_LABEL = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_EXTENDS = (
    *("call", "composite", "emit", "for", "listen", "raise", "run", "set", "switch"),
    *("try", "wait", "all"),
)
T = TypeVar("T")


def build_workflow(ctx: Context, data: dict[str, Any]) -> Workflow | None:
    """The model of a whole document, or None when a required part is missing."""
    required = {
        "document": "the workflow's identity: {dsl: '1.0.3', namespace, name, version}",
        "do": "the list of tasks to run",
    }
    ctx.keys(data, "", "a workflow document", _TOP, required)
    ctx.opaque.add("/document")
    document = _document(ctx, data["document"]) if "document" in data else None
    use = _use(ctx, data["use"]) if "use" in data else Use()
    do = task_list(ctx, data["do"], "/do") if "do" in data else ()
    parts: dict[str, Any] = {
        "input": input_spec(ctx, data["input"], "/input") if "input" in data else None,
        "output": output_spec(ctx, data["output"], "/output") if "output" in data else None,
        "timeout": timeout_field(ctx, data["timeout"], "/timeout") if "timeout" in data else None,
        "schedule": _schedule(ctx, data["schedule"]) if "schedule" in data else None,
        "evaluate_mode": _evaluate(ctx, data["evaluate"]) if "evaluate" in data else "strict",
    }
    _scan_expressions(ctx, data)
    check_variables(ctx)
    raw_use = data.get("use") if isinstance(data.get("use"), dict) else {}
    check_references(ctx, cast(dict[str, Any], raw_use))
    check_secrets(ctx, use.secrets)
    if document is None:
        return None
    return Workflow(
        document=document,
        do=do,
        use=use,
        raw=data,
        source=ctx.source,
        warnings=ctx.warnings,
        **parts,
    )


def _scan_expressions(ctx: Context, data: dict[str, Any]) -> None:
    """Compile every ``${ }`` in value positions (the typed fields were compiled already)."""
    for pointer, text in iter_expressions(data):
        if not _inside_opaque(ctx, pointer):
            ctx.expression(pointer, text)


def _inside_opaque(ctx: Context, pointer: str) -> bool:
    probe = pointer
    while probe:
        if probe in ctx.opaque:
            return True
        probe = probe.rsplit("/", 1)[0]
    return False


# --- document --------------------------------------------------------------------------------


def _document(ctx: Context, value: Any) -> Document | None:
    pointer = "/document"
    obj = ctx.mapping(value, pointer, "'document'")
    if obj is None:
        return None
    required = {
        "dsl": "the DSL version the workflow is written in, e.g. dsl: '1.0.3'",
        "namespace": "a DNS-label such as 'examples'",
        "name": "a DNS-label such as 'place-order'",
        "version": "the workflow's own semantic version, e.g. version: '1.0.0'",
    }
    allowed = {*required, "title", "summary", "tags", "metadata"}
    ctx.keys(obj, pointer, "'document'", allowed, required)
    dsl = _semver(ctx, obj, pointer, "dsl")
    rules = dialect(dsl) if dsl is not None else None
    if dsl is not None and rules is None:
        ctx.error(
            child(pointer, "dsl"),
            f"DSL version {dsl!r} is not supported; emitflow runs documents written for "
            f"{', '.join(RELEASED)} and the 1.0.0 drafts (write dsl: '{CURRENT}')",
        )
    elif rules is not None:
        ctx.arguments_map = rules.arguments_map
        if rules.warning is not None:
            ctx.warn(child(pointer, "dsl"), rules.warning)
    namespace = _label(ctx, obj, pointer, "namespace")
    name = _label(ctx, obj, pointer, "name")
    version = _semver(ctx, obj, pointer, "version")
    title = ctx.string(obj, pointer, "title")
    summary = ctx.string(obj, pointer, "summary")
    tags = ctx.mapping_field(obj, pointer, "tags") or {}
    metadata = ctx.mapping_field(obj, pointer, "metadata") or {}
    if dsl is None or namespace is None or name is None or version is None:
        return None
    return Document(
        dsl=dsl,
        namespace=namespace,
        name=name,
        version=version,
        title=title,
        summary=summary,
        tags=tags,
        metadata=metadata,
    )


def _semver(ctx: Context, obj: dict[str, Any], pointer: str, key: str) -> str | None:
    value = obj.get(key)
    if key not in obj:
        return None
    if isinstance(value, str) and _SEMVER.match(value):
        return value
    hint = "quote it: " if isinstance(value, int | float) and not isinstance(value, bool) else ""
    ctx.error(
        child(pointer, key),
        f"'{key}' must be a semantic version string MAJOR.MINOR.PATCH; "
        f"{hint}'1.0.0', found {describe(value)}",
    )
    return None


def _label(ctx: Context, obj: dict[str, Any], pointer: str, key: str) -> str | None:
    value = ctx.string(obj, pointer, key)
    if value is None or _DNS_LABEL.match(value):
        return value
    fixed = re.sub(r"[^a-zA-Z0-9-]+", "-", value).strip("-")[:63].strip("-") or "my-workflow"
    ctx.error(
        child(pointer, key),
        f"{value!r} is not a valid workflow {key}: use letters, "
        f"digits and '-' (not first or last), at most 63 characters, e.g. {fixed!r}",
    )
    return None


# --- use -------------------------------------------------------------------------------------


def _named(
    ctx: Context, obj: dict[str, Any], key: str, build: Callable[[Context, Any, str], T | None]
) -> dict[str, T]:
    table = ctx.mapping_field(obj, "/use", key) or {}
    out: dict[str, T] = {}
    for name, value in table.items():
        built = build(ctx, value, child(child("/use", key), name))
        if built is not None:
            out[name] = built
    return out


def _function(ctx: Context, value: Any, pointer: str) -> Any:
    return build_task(ctx, value, pointer, name=pointer.rsplit("/", 1)[1])


def _catalog(ctx: Context, value: Any, pointer: str) -> Endpoint | None:
    obj = ctx.mapping(value, pointer, "a catalog")
    if obj is None:
        return None
    ctx.keys(obj, pointer, "a catalog", {"endpoint"}, {"endpoint": "the catalog's root URL"})
    return endpoint(ctx, obj["endpoint"], child(pointer, "endpoint")) if "endpoint" in obj else None


def _use(ctx: Context, value: Any) -> Use:
    obj = ctx.mapping(value, "/use", "'use'")
    if obj is None:
        return Use()
    sections = ("authentications", "errors", "extensions", "functions", "retries", "secrets")
    ctx.keys(obj, "/use", "'use'", {*sections, "timeouts", "catalogs"})
    return Use(
        authentications=_named(ctx, obj, "authentications", auth_policy),
        errors=_named(ctx, obj, "errors", error_definition),
        extensions=_extensions(ctx, obj),
        functions=_named(ctx, obj, "functions", _function),
        retries=_named(ctx, obj, "retries", retry_policy),
        secrets=tuple(ctx.strings(obj, "/use", "secrets") or ()),
        timeouts=_named(ctx, obj, "timeouts", timeout_spec),
        catalogs=_named(ctx, obj, "catalogs", _catalog),
    )


def _extensions(ctx: Context, obj: dict[str, Any]) -> tuple[Extension, ...]:
    pointer = "/use/extensions"
    value = obj.get("extensions", [])
    if not isinstance(value, list):
        ctx.error(
            pointer, f"'extensions' is a list of '- name: {{extend, …}}', found {describe(value)}"
        )
        return ()
    out = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or len(entry) != 1:
            ctx.error(
                child(pointer, index),
                "an extension is a single-key mapping "
                f"'- name: {{extend, when?, before?, after?}}', found {describe(entry)}",
            )
            continue
        ((name, body),) = entry.items()
        extension = _extension(ctx, name, body, child(child(pointer, index), name))
        if extension is not None:
            out.append(extension)
    return tuple(out)


def _extension(ctx: Context, name: str, value: Any, pointer: str) -> Extension | None:
    obj = ctx.mapping(value, pointer, f"the extension '{name}'")
    if obj is None:
        return None
    hint = {"extend": "the kind of task to extend: " + ", ".join(_EXTENDS)}
    ctx.keys(obj, pointer, "an extension", {"extend", "when", "before", "after"}, hint)
    extend = ctx.choice(obj, pointer, "extend", _EXTENDS, "all") if "extend" in obj else None
    when = ctx.string(obj, pointer, "when", "a jq expression")
    if when is not None:
        ctx.expression(child(pointer, "when"), when)
    before = task_list(ctx, obj["before"], child(pointer, "before")) if "before" in obj else ()
    after = task_list(ctx, obj["after"], child(pointer, "after")) if "after" in obj else ()
    if extend is None:
        return None
    return Extension(name=name, extend=extend, when=when, before=before, after=after)


# --- schedule and evaluate -------------------------------------------------------------------


def _schedule(ctx: Context, value: Any) -> Schedule | None:
    pointer = "/schedule"
    obj = ctx.mapping(value, pointer, "'schedule'")
    if obj is None:
        return None
    ctx.keys(obj, pointer, "'schedule'", {"every", "cron", "after", "on", "read"})
    if not any(key in obj for key in ("every", "cron", "after", "on")):
        ctx.warn(pointer, "this schedule never starts the workflow: give every, cron, after or on")
    every = duration(ctx, obj["every"], child(pointer, "every")) if "every" in obj else None
    after = duration(ctx, obj["after"], child(pointer, "after")) if "after" in obj else None
    cron = ctx.string(obj, pointer, "cron")
    if cron is not None and not _valid_cron(cron):
        ctx.error(
            child(pointer, "cron"),
            f"{cron!r} is not a CRON expression; write five fields "
            "'minute hour day-of-month month day-of-week', e.g. '0 0 * * *'",
        )
    on = consumption_strategy(ctx, obj["on"], child(pointer, "on")) if "on" in obj else None
    read = "envelope"  # 1.0.3 documents read $workflow.input[0].data: envelopes
    if "read" in obj:
        read = ctx.choice(obj, pointer, "read", ("data", "envelope", "raw"), "envelope")
        if "on" not in obj:
            ctx.error(child(pointer, "read"), "'read' only goes with 'on' (event-started runs)")
    read_as = cast(Literal["data", "envelope", "raw"], read)
    return Schedule(every=every, cron=cron, after=after, on=on, read=read_as)


def _evaluate(ctx: Context, value: Any) -> Literal["strict", "loose"]:
    pointer = "/evaluate"
    obj = ctx.mapping(value, pointer, "'evaluate'")
    if obj is None:
        return "strict"
    ctx.keys(obj, pointer, "'evaluate'", {"language", "mode"})
    language = ctx.string(obj, pointer, "language")
    if language is not None and language != "jq":
        ctx.error(
            child(pointer, "language"),
            f"emitflow evaluates jq expressions only, not "
            f"{language!r}; write language: jq or leave it out",
        )
    mode = ctx.choice(obj, pointer, "mode", ("strict", "loose"), "strict")
    return cast(Literal["strict", "loose"], mode)


def _valid_cron(expression: str) -> bool:
    from croniter import croniter  # here: few documents have a cron schedule

    return bool(croniter.is_valid(expression))
