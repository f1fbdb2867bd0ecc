"""Task kinds that act rather than compose: call, emit, listen, raise, run, set, wait."""

from __future__ import annotations

from functools import partial
from typing import Any, Literal, cast

from emitflow.dsl.calls import call_fields
from emitflow.dsl.context import Context, child, describe
from emitflow.dsl.events import consumption_strategy, emitted_event
from emitflow.dsl.faults import error_definition
from emitflow.dsl.flow import Fields, Lists, subscription_iterator
from emitflow.dsl.processes import run_fields
from emitflow.dsl.values import duration
from emitflow.expressions import is_expression

__all__ = [
    "build_call",
    "build_emit",
    "build_listen",
    "build_raise",
    "build_run",
    "build_set",
    "build_wait",
]


def build_call(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``call`` task's own fields."""
    return call_fields(ctx, obj, pointer, partial(subscription_iterator, lists=lists))


def build_emit(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``emit`` task's own fields."""
    here = child(pointer, "emit")
    emit = ctx.mapping(obj["emit"], here, "'emit'")
    if emit is None:
        return None
    ctx.keys(emit, here, "'emit'", {"event"}, {"event": "the event to emit: event: {with: {...}}"})
    event = (
        ctx.mapping(emit["event"], child(here, "event"), "'emit.event'")
        if "event" in emit
        else None
    )
    if event is None:
        return None
    here = child(here, "event")
    for key in event:
        if key != "with":
            ctx.warn(child(here, key), f"'{key}' is ignored: the event is described by 'with'")
    if "with" not in event:
        ctx.error(
            here,
            "'with' is required in 'emit.event': the event's attributes, at least "
            "a 'type' such as 'com.example.order.placed.v1'",
        )
        return None
    attributes = emitted_event(ctx, event["with"], child(here, "with"))
    return {"event": attributes} if attributes is not None else None


def build_listen(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``listen`` task's own fields."""
    here = child(pointer, "listen")
    listen = ctx.mapping(obj["listen"], here, "'listen'")
    foreach = None
    if "foreach" in obj:
        foreach = subscription_iterator(ctx, obj["foreach"], child(pointer, "foreach"), lists)
    if listen is None:
        return None
    hint = {"to": "the events to wait for, e.g. to: {one: {with: {type: com.example.ping}}}"}
    ctx.keys(listen, here, "'listen'", {"to", "read"}, hint)
    read = ctx.choice(listen, here, "read", ("data", "envelope", "raw"), "data")
    to = consumption_strategy(ctx, listen["to"], child(here, "to")) if "to" in listen else None
    if to is None:
        return None
    return {"to": to, "read": cast(Literal["data", "envelope", "raw"], read), "foreach": foreach}


def build_raise(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``raise`` task's own fields."""
    here = child(pointer, "raise")
    body = ctx.mapping(obj["raise"], here, "'raise'")
    if body is None:
        return None
    hint = {"error": "an error {type, status, …} or the name of a use.errors entry"}
    ctx.keys(body, here, "'raise'", {"error"}, hint)
    if "error" not in body:
        return None
    error, at = body["error"], child(here, "error")
    if isinstance(error, str):
        ctx.refer("errors", error, at)
        return {"error": error}
    definition = error_definition(ctx, error, at)
    return {"error": definition} if definition is not None else None


def build_run(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``run`` task's own fields."""
    return run_fields(ctx, obj["run"], child(pointer, "run"))


def build_set(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``set`` task's own fields."""
    value, here = obj["set"], child(pointer, "set")
    if isinstance(value, str):
        if not is_expression(value):
            ctx.warn(
                here,
                "this 'set' is a literal string, so the output is that text; "
                "to compute a value write a ${ } expression",
            )
        return {"set": value}
    if isinstance(value, dict) and value:
        return {"set": value}
    ctx.error(
        here,
        "'set' is a non-empty object (values may hold ${ } expressions) or one "
        f"${{ }} expression; found {describe(value)}",
    )
    return None


def build_wait(ctx: Context, obj: dict[str, Any], pointer: str, lists: Lists) -> Fields | None:
    """The ``wait`` task's own fields."""
    wait = duration(ctx, obj["wait"], child(pointer, "wait"))
    return {"duration": wait} if wait is not None else None
