"""Task lists and tasks: the kind key picks a builder; the common fields are read once for all.

Each task's reference is its JSON pointer in the document (``/do/0/tryGetPet/try/0/getPet``).
A task whose body has problems still takes its place in its list as a bare ``Task`` so that
``then`` jumps to it are not reported as unknown (the document is invalid anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from emitflow.dsl.checks import check_list
from emitflow.dsl.context import Context, child, describe, did_you_mean
from emitflow.dsl.flow import (
    Fields,
    Lists,
    build_do,
    build_for,
    build_fork,
    build_switch,
    build_try,
    catch,
    directive,
)
from emitflow.dsl.kinds import (
    build_call,
    build_emit,
    build_listen,
    build_raise,
    build_run,
    build_set,
    build_wait,
)
from emitflow.dsl.model import (
    CallTask,
    DoTask,
    EmitTask,
    ForkTask,
    ForTask,
    ListenTask,
    RaiseTask,
    RunTask,
    SetTask,
    SwitchTask,
    Task,
    TaskItem,
    TryTask,
    WaitTask,
)
from emitflow.dsl.values import export_spec, input_spec, output_spec, timeout_field

__all__ = ["KINDS", "build_task", "task_list"]

KINDS = (
    "call",
    "do",
    "emit",
    "for",
    "fork",
    "listen",
    "raise",
    "run",
    "set",
    "switch",
    "try",
    "wait",
)
_BASE = frozenset({"if", "input", "output", "export", "timeout", "then", "metadata"})
_KIND_KEYS: Mapping[str, frozenset[str]] = {
    "call": frozenset({"call", "with"}),
    "for": frozenset({"for", "while", "do"}),
    "listen": frozenset({"listen", "foreach"}),
    "try": frozenset({"try", "catch"}),
}
_ALL_KEYS = _BASE | {"with", "while", "foreach", "catch", *KINDS}


def task_list(ctx: Context, value: Any, pointer: str) -> tuple[TaskItem, ...]:
    """A list of single-key maps ``- name: {task}``, names unique within the list."""
    if not isinstance(value, list):
        hint = (
            ": write each task as a list item, '- taskName: {...}'"
            if isinstance(value, dict)
            else ""
        )
        ctx.error(pointer, f"expected a list of tasks, found {describe(value)}{hint}")
        return ()
    seen: dict[str, str] = {}
    items = []
    for index, entry in enumerate(value):
        item = _item(ctx, entry, child(pointer, index), seen)
        if item is not None:
            items.append(item)
    result = tuple(items)
    check_list(ctx, result)
    return result


def _item(ctx: Context, entry: Any, pointer: str, seen: dict[str, str]) -> TaskItem | None:
    if not isinstance(entry, dict) or len(entry) != 1:
        ctx.error(pointer, _item_shape(entry))
        return None
    ((name, body),) = entry.items()
    reference = child(pointer, name)
    if name in seen:
        ctx.error(
            reference,
            f"the task name '{name}' is already used at {seen[name]} in this list; names must be "
            "unique within a list because 'then' jumps to them by name",
        )
    seen.setdefault(name, reference)
    if name in ("continue", "exit", "end"):
        ctx.warn(
            reference,
            f"a task named '{name}' can never be the target of 'then' "
            f"('then: {name}' is a flow directive); rename it",
        )
    task = build_task(ctx, body, reference, name=name)
    line = ctx.positions.get(reference, (None, None))[0]
    return TaskItem(name=name, reference=reference, task=task or Task(), line=line)


def _item_shape(entry: Any) -> str:
    shape = "a task list item is a single-key mapping '- taskName: {task}'"
    if not isinstance(entry, dict):
        return f"{shape}, found {describe(entry)}"
    if not entry:
        return f"{shape}, found an empty mapping"
    keys = ", ".join(f"'{key}'" for key in entry)
    if any(key in _ALL_KEYS for key in entry):
        return (
            f"{shape}; this item has the keys {keys}: indent the task's fields under its name "
            "(two more spaces than the name)"
        )
    return f"{shape}; this item has the keys {keys}"


def build_task(ctx: Context, value: Any, pointer: str, *, name: str = "") -> Task | None:
    """One task; ``None`` (with problems recorded) when it cannot be built."""
    obj = ctx.mapping(value, pointer, f"the task '{name}'" if name else "a task")
    if obj is None:
        return None
    kind = _kind(ctx, obj, pointer)
    if kind is None:
        return None
    allowed = _BASE | _KIND_KEYS.get(kind, {kind}) | {"catch"}
    ctx.keys(obj, pointer, f"a '{kind}' task", allowed)
    common = _common(ctx, obj, pointer, kind, name)
    specific = _BUILDERS[kind](ctx, obj, pointer, task_list)
    if specific is None:
        return None
    return _CLASSES[kind](**common, **specific)


def _kind(ctx: Context, obj: dict[str, Any], pointer: str) -> str | None:
    present = [key for key in KINDS if key in obj]
    if "for" in present and "do" in present:
        present.remove("do")  # a for task's body
    if len(present) == 1:
        return present[0]
    if present:
        found = " and ".join(f"'{key}'" for key in present)
        ctx.error(pointer, f"a task has exactly one kind; found {found}: split them into tasks")
        return None
    guesses = "".join(did_you_mean(key, KINDS) for key in obj if key not in _ALL_KEYS)
    ctx.error(
        pointer,
        "a task needs one kind key: " + ", ".join(KINDS) + f"; found none{guesses}",
    )
    return None


_COMMON: Mapping[str, tuple[str, Callable[[Context, Any, str], object]]] = {
    "input": ("input", input_spec),
    "output": ("output", partial(output_spec, shorthand=True)),
    "export": ("export", export_spec),
    "timeout": ("timeout", timeout_field),
}


def _common(ctx: Context, obj: dict[str, Any], pointer: str, kind: str, name: str) -> Fields:
    fields: Fields = {}
    for key, (field, builder) in _COMMON.items():
        if key in obj:
            fields[field] = builder(ctx, obj[key], child(pointer, key))
    condition = ctx.string(obj, pointer, "if", "a jq expression deciding whether the task runs")
    if condition is not None and ctx.expression(child(pointer, "if"), condition):
        fields["if_"] = condition
    if "then" in obj:
        fields["then"] = directive(ctx, obj["then"], child(pointer, "then"))
    ctx.opaque.add(child(pointer, "metadata"))
    fields["metadata"] = ctx.mapping_field(obj, pointer, "metadata") or {}
    if "catch" in obj:
        fields["catch"] = catch(ctx, obj["catch"], child(pointer, "catch"), task_list)
        if kind != "try":
            ctx.warn(child(pointer, "catch"), _catch_shorthand(kind, name or "task"))
    return fields


_BUILDERS: Mapping[str, Callable[[Context, dict[str, Any], str, Lists], Fields | None]] = {
    "call": build_call,
    "do": build_do,
    "emit": build_emit,
    "for": build_for,
    "fork": build_fork,
    "listen": build_listen,
    "raise": build_raise,
    "run": build_run,
    "set": build_set,
    "switch": build_switch,
    "try": build_try,
    "wait": build_wait,
}
_CLASSES: Mapping[str, type[Task]] = {
    "call": CallTask,
    "do": DoTask,
    "emit": EmitTask,
    "for": ForTask,
    "fork": ForkTask,
    "listen": ListenTask,
    "raise": RaiseTask,
    "run": RunTask,
    "set": SetTask,
    "switch": SwitchTask,
    "try": TryTask,
    "wait": WaitTask,
}


def _catch_shorthand(kind: str, name: str) -> str:
    wrapper = "try" + name[:1].upper() + name[1:]
    return (
        f"'catch' on a '{kind}' task is an emitflow shorthand (seed dialect) for a 'try' task "
        f"around it; the canonical form is '- {wrapper}: {{try: [{{{name}: {{{kind}: …}}}}], "
        "catch: {…}}' with this 'catch' (and the task's 'then') on the try task"
    )
