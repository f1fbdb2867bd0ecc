"""Composite tasks and what they share: flow directives, ``catch``, and nested task lists.

Builders here receive ``lists``, the task-list builder, so this module does not import the one
that dispatches on task kinds (which imports it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from emitflow.dsl.context import Context, child, describe
from emitflow.dsl.faults import error_filter, retry_policy
from emitflow.dsl.model import (
    Catch,
    ErrorFilter,
    RetryPolicy,
    SubscriptionIterator,
    SwitchCase,
    TaskItem,
)
from emitflow.dsl.values import export_spec, output_spec

__all__ = [
    "Fields",
    "Lists",
    "build_do",
    "build_for",
    "build_fork",
    "build_switch",
    "build_try",
    "catch",
    "directive",
    "subscription_iterator",
    "variable",
]

#: The keyword arguments a kind builder adds to the common task fields.
Fields = dict[str, Any]
#: Builds a task list at a pointer (``tasks.task_list``).
Lists = Callable[[Context, Any, str], tuple[TaskItem, ...]]


def directive(ctx: Context, value: Any, pointer: str) -> str | None:
    """A flow directive: continue, exit, end, or a task name (checked against its list later)."""
    if isinstance(value, str) and value:
        return value
    ctx.error(
        pointer,
        "'then' is a flow directive: 'continue', 'exit', 'end' or the name of a task in the "
        f"same list; found {describe(value)}",
    )
    return None


def variable(
    ctx: Context,
    obj: Mapping[str, Any],
    pointer: str,
    key: str,
    default: str,
    scopes: tuple[str, ...] = (),
) -> str:
    """A variable name (``each``, ``at``, ``as``…); warn when jq could not read it as ``$name``.

    The name is bound for the expressions under each of ``scopes`` (``pointer`` by default).
    """
    name = ctx.string(obj, pointer, key) or default
    ctx.bindings.extend((scope, name) for scope in scopes or (pointer,))
    if not name.isidentifier() or not name.isascii():
        ctx.warn(
            child(pointer, key),
            f"'{name}' cannot be read in jq as ${name}; use letters, digits and '_' (not first)",
        )
    return name


def catch(ctx: Context, value: Any, pointer: str, lists: Lists) -> Catch | None:
    """``catch``: which errors, named how, retried how, handled by which tasks, then where."""
    obj = ctx.mapping(value, pointer, "'catch'")
    if obj is None:
        return None
    allowed = {"errors", "as", "when", "exceptWhen", "retry", "do", "then"}
    ctx.keys(obj, pointer, "'catch'", allowed)
    conditions: dict[str, str | None] = {}
    for key in ("when", "exceptWhen"):
        conditions[key] = ctx.string(obj, pointer, key, "a jq expression")
        if conditions[key] is not None:
            ctx.expression(child(pointer, key), cast(str, conditions[key]))
    return Catch(
        errors=_errors(ctx, obj, pointer),
        as_=variable(ctx, obj, pointer, "as", "error"),
        when=conditions["when"],
        except_when=conditions["exceptWhen"],
        retry=_retry(ctx, obj, pointer),
        do=lists(ctx, obj["do"], child(pointer, "do")) if "do" in obj else None,
        then=directive(ctx, obj["then"], child(pointer, "then")) if "then" in obj else None,
    )


def _errors(ctx: Context, obj: dict[str, Any], pointer: str) -> ErrorFilter | None:
    errors = ctx.mapping_field(obj, pointer, "errors")
    if errors is None:
        return None
    here = child(pointer, "errors")
    ctx.keys(errors, here, "'catch.errors'", {"with"})
    return error_filter(ctx, errors["with"], child(here, "with")) if "with" in errors else None


def _retry(ctx: Context, obj: dict[str, Any], pointer: str) -> RetryPolicy | str | None:
    if "retry" not in obj:
        return None
    value, here = obj["retry"], child(pointer, "retry")
    if isinstance(value, str):
        ctx.refer("retries", value, here)
        return value
    return retry_policy(ctx, value, here)


def subscription_iterator(
    ctx: Context, value: Any, pointer: str, lists: Lists
) -> SubscriptionIterator | None:
    """``foreach``: handle each consumed event (or message) with ``do``."""
    obj = ctx.mapping(value, pointer, "'foreach'")
    if obj is None:
        return None
    ctx.keys(obj, pointer, "'foreach'", {"item", "at", "do", "output", "export"})
    output = export = None
    if "output" in obj:
        output = output_spec(ctx, obj["output"], child(pointer, "output"))
    if "export" in obj:
        export = export_spec(ctx, obj["export"], child(pointer, "export"))
    return SubscriptionIterator(
        item=variable(ctx, obj, pointer, "item", "item"),
        at=variable(ctx, obj, pointer, "at", "index"),
        do=lists(ctx, obj["do"], child(pointer, "do")) if "do" in obj else (),
        output=output,
        export=export,
    )


def build_do(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``do`` task's own fields."""
    return {"do": lists(ctx, obj["do"], child(pointer, "do"))}


def build_for(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``for`` task's own fields."""
    here = child(pointer, "for")
    loop = ctx.mapping(obj["for"], here, "'for'")
    if "do" not in obj:
        ctx.error(pointer, "'do' is required in a 'for' task: the tasks to run for each item")
    if loop is None:
        return None
    ctx.keys(loop, here, "'for'", {"each", "in", "at"}, {"in": "the collection, e.g. in: .items"})
    collection = loop.get("in")
    if isinstance(collection, str):
        ctx.expression(child(here, "in"), collection)
    elif isinstance(collection, list):
        for index, item in enumerate(collection):
            if not isinstance(item, dict):
                ctx.error(
                    child(child(here, "in"), index),
                    f"an inline 'in' list holds objects, found {describe(item)}",
                )
    elif "in" in loop:
        ctx.error(
            child(here, "in"),
            f"'in' is a jq expression or an inline list of objects, found {describe(collection)}",
        )
    condition = ctx.string(obj, pointer, "while", "a jq expression")
    if condition is not None:
        ctx.expression(child(pointer, "while"), condition)
    body = lists(ctx, obj["do"], child(pointer, "do")) if "do" in obj else ()
    inside = (child(pointer, "do"), child(pointer, "while"))
    return {
        "each": variable(ctx, loop, here, "each", "item", inside),
        "in_": collection,
        "at": variable(ctx, loop, here, "at", "index", inside),
        "while_": condition,
        "do": body,
    }


def build_fork(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``fork`` task's own fields."""
    here = child(pointer, "fork")
    fork = ctx.mapping(obj["fork"], here, "'fork'")
    if fork is None:
        return None
    ctx.keys(fork, here, "'fork'", {"branches", "compete"}, {"branches": "the tasks to run"})
    compete = ctx.boolean(fork, here, "compete", False)
    if "branches" not in fork:
        return None
    return {
        "branches": lists(ctx, fork["branches"], child(here, "branches")),
        "compete": compete,
    }


def build_switch(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``switch`` task's own fields."""
    here = child(pointer, "switch")
    cases = obj["switch"]
    if not isinstance(cases, list) or not cases:
        ctx.error(
            here,
            "'switch' is a non-empty list of cases '- caseName: {when, then}', "
            f"found {describe(cases)}",
        )
        return None
    built = [_case(ctx, case, child(here, index)) for index, case in enumerate(cases)]
    defaults = [case for case in built if case is not None and case.when is None]
    if len(defaults) > 1:
        names = ", ".join(f"'{case.name}'" for case in defaults)
        ctx.error(here, f"a switch has at most one default case (without 'when'); found {names}")
    if None in built:
        return None
    return {"cases": tuple(case for case in built if case is not None)}


def _case(ctx: Context, value: Any, pointer: str) -> SwitchCase | None:
    if not isinstance(value, dict) or len(value) != 1:
        ctx.error(
            pointer,
            f"a switch case is a single-key mapping '- caseName: {{when, then}}', "
            f"found {describe(value)}",
        )
        return None
    ((name, body),) = value.items()
    here = child(pointer, name)
    case = ctx.mapping(body, here, f"the case '{name}'")
    if case is None:
        return None
    hint = {"then": "where to go when the case matches: a task name, continue, exit or end"}
    ctx.keys(case, here, "a switch case", {"when", "then"}, hint)
    when = ctx.string(case, here, "when", "a jq expression")
    if when is not None:
        ctx.expression(child(here, "when"), when)
    then = directive(ctx, case["then"], child(here, "then")) if "then" in case else None
    if then is None:
        return None
    return SwitchCase(name=name, when=when, then=then)


def build_try(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``try`` task's own fields."""
    if "catch" not in obj:
        ctx.error(
            pointer,
            "'catch' is required in a 'try' task: which errors to catch and how "
            "to handle them, e.g. catch: {errors: {with: {status: 404}}}",
        )
    return {"try_": lists(ctx, obj["try"], child(pointer, "try"))}
