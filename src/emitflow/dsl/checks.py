"""Cross-checks: ``then`` targets, names used from ``use``, secrets, and flow warnings."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any

from emitflow.dsl.context import Context, child, did_you_mean
from emitflow.dsl.model import RaiseTask, SwitchTask, TaskItem

__all__ = ["DIRECTIVES", "check_list", "check_references", "check_secrets"]

DIRECTIVES = frozenset({"continue", "exit", "end"})

_SECRET = re.compile(r"\$secrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*\"([^\"]+)\"\s*\])")
_SECTIONS = {
    "authentications": "an authentication",
    "errors": "an error",
    "retries": "a retry policy",
    "timeouts": "a timeout",
    "functions": "a function",
    "catalogs": "a catalog",
}


def _jumps(item: TaskItem) -> Iterator[tuple[str, str, bool]]:
    """(target, pointer, is_error_path) for every directive the task carries."""
    task = item.task
    if task.then is not None:
        yield task.then, child(item.reference, "then"), False
    if task.catch is not None and task.catch.then is not None:
        yield task.catch.then, child(child(item.reference, "catch"), "then"), True
    if isinstance(task, SwitchTask):
        for index, case in enumerate(task.cases):
            at = child(child(child(item.reference, "switch"), index), case.name)
            yield case.then, child(at, "then"), False


def check_list(ctx: Context, items: Sequence[TaskItem]) -> None:
    """Every jump targets a task of this same list; warn where an error path is fallen into."""
    names = [item.name for item in items]
    error_paths: dict[str, str] = {}
    for item in items:
        for target, pointer, is_error_path in _jumps(item):
            if target in DIRECTIVES:
                continue
            if target not in names:
                known = ", ".join(f"'{name}'" for name in dict.fromkeys(names))
                ctx.error(
                    pointer,
                    f"'then: {target}' names no task in this list; a jump must target a task of "
                    f"the same list (here: {known}) or be 'continue', 'exit' or 'end'"
                    + did_you_mean(target, names),
                )
            elif is_error_path:
                error_paths.setdefault(target, item.name)
    for previous, item in pairwise(items):
        if item.name in error_paths and _falls_through(previous):
            ctx.warn(
                item.reference,
                f"'{item.name}' is the error path of '{error_paths[item.name]}' (catch.then), but "
                f"'{previous.name}' just before it has no 'then', so a run that succeeds falls "
                f"through into it too; if that is not wanted, add 'then: end' (or another "
                f"directive) to '{previous.name}'",
            )


def _falls_through(item: TaskItem) -> bool:
    task = item.task
    if task.then not in (None, "continue"):
        return False
    if isinstance(task, RaiseTask) and task.if_ is None:
        return False  # it always raises
    # A switch with a default case always jumps by one of its cases.
    return not (isinstance(task, SwitchTask) and any(c.when is None for c in task.cases))


def check_references(ctx: Context, use: Mapping[str, Any]) -> None:
    """Each name used from ``use.<section>`` is defined there."""
    for ref in ctx.references:
        if ref.kind == "secrets":
            continue
        defined = use.get(ref.kind)
        names = list(defined) if isinstance(defined, dict) else []
        if ref.name in names:
            continue
        known = ", ".join(f"'{name}'" for name in names) or "none"
        ctx.error(
            ref.pointer,
            f"'{ref.name}' is not defined in use.{ref.kind}{did_you_mean(ref.name, names)}; "
            f"define {_SECTIONS[ref.kind]} named '{ref.name}' there (defined: {known})",
        )


def check_secrets(ctx: Context, declared: Sequence[str]) -> None:
    """Warn for each secret read (``$secrets.x``, ``{use: x}``) but not listed in use.secrets."""
    used: list[tuple[str, str]] = []
    for pointer, text in ctx.expressions:
        for match in _SECRET.finditer(text):
            used.append((match.group(1) or match.group(2), pointer))
    used.extend((ref.name, ref.pointer) for ref in ctx.references if ref.kind == "secrets")
    for name, pointer in used:
        if name not in declared:
            ctx.warn(
                pointer,
                f"the secret '{name}' is used here but not listed in use.secrets; add it "
                f"(use: {{secrets: [{name}]}}) so that the runtime provides it",
            )
