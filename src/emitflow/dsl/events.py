"""Event shapes: emitted CloudEvent attributes, event filters, consumption strategies."""

from __future__ import annotations

import json
import re
from typing import Any, Literal, cast

from emitflow.dsl.context import Context, child, describe
from emitflow.dsl.endpoints import uri_literal
from emitflow.dsl.model import ConsumptionStrategy, Correlation, EventFilter
from emitflow.errors import ExpressionError
from emitflow.expressions import compile_expression, is_expression

__all__ = ["consumption_strategy", "emitted_event", "event_filter"]

_STRING_ATTRIBUTES = ("id", "type", "subject", "datacontenttype")
_URI_ATTRIBUTES = ("source", "dataschema")
_ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+$")
# RFC 3339 date-time, as CloudEvents 'time' requires.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_MODES = ("all", "any", "one")


def _attributes(ctx: Context, obj: dict[str, Any], pointer: str) -> None:
    """Type checks shared by emitted events and filters (the schema's eventProperties)."""
    for key in _STRING_ATTRIBUTES:
        ctx.string(obj, pointer, key)
    for key in _URI_ATTRIBUTES:
        value = ctx.string(obj, pointer, key)
        if value is not None and not is_expression(value):
            uri_literal(ctx, value, child(pointer, key), f"'{key}'")
    time = ctx.string(obj, pointer, "time")
    if time is not None and not is_expression(time) and not _RFC3339.match(time):
        ctx.error(
            child(pointer, "time"),
            f"'time' must be an RFC 3339 timestamp such as '2025-01-31T12:00:00Z' or a ${{ }} "
            f"expression, found {time!r}",
        )


def emitted_event(ctx: Context, value: Any, pointer: str) -> dict[str, Any] | None:
    """``emit.event.with``: the attributes and data of the CloudEvent to emit."""
    obj = ctx.mapping(value, pointer, "the event to emit")
    if obj is None:
        return None
    _attributes(ctx, obj, pointer)
    if "type" not in obj:
        ctx.error(
            pointer,
            "'type' is required: every emitted event needs a type such as "
            "'com.example.order.placed.v1'",
        )
    for name, attribute in obj.items():
        if name == "data":
            continue
        here = child(pointer, name)
        if not _ATTRIBUTE_NAME.match(name):
            ctx.error(
                here,
                f"'{name}' is not a valid CloudEvent attribute name: names are lower-case "
                f"letters and digits only, e.g. '{re.sub('[^a-z0-9]', '', name.lower()) or 'x'}'",
            )
        elif not isinstance(attribute, str | int | bool):
            ctx.error(
                here,
                f"CloudEvent attribute '{name}' must be a string, integer, boolean or a ${{ }} "
                f"expression, found {describe(attribute)}; put structured values in 'data'",
            )
    return obj


def event_filter(ctx: Context, value: Any, pointer: str) -> EventFilter | None:
    """``{with: {attributes}, correlate?: {key: {from, expect?}}}``."""
    obj = ctx.mapping(value, pointer, "an event filter")
    if obj is None:
        return None
    hint = {"with": "the attributes an event must have, e.g. with: {type: com.example.ping}"}
    ctx.keys(obj, pointer, "an event filter", {"with", "correlate"}, hint)
    here = child(pointer, "with")
    attributes = ctx.mapping(obj["with"], here, "'with'") if "with" in obj else None
    if attributes is not None:
        if not attributes:
            ctx.error(here, "'with' needs at least one attribute to match, e.g. type: com.x.y")
        _attributes(ctx, attributes, here)
    correlate = _correlations(ctx, obj, pointer)
    if attributes is None:
        return None
    return EventFilter(with_=attributes, correlate=correlate)


def _correlations(ctx: Context, obj: dict[str, Any], pointer: str) -> dict[str, Correlation]:
    table = ctx.mapping_field(obj, pointer, "correlate") or {}
    out: dict[str, Correlation] = {}
    for key, entry in table.items():
        here = child(child(pointer, "correlate"), key)
        item = ctx.mapping(entry, here, f"the correlation '{key}'")
        if item is None:
            continue
        hint = {"from": "a jq expression extracting the value from the event, e.g. .data.orderId"}
        ctx.keys(item, here, "a correlation", {"from", "expect"}, hint)
        source = ctx.string(item, here, "from")
        expect = ctx.string(item, here, "expect")
        if expect is not None:
            _expect(ctx, child(here, "expect"), expect)
        if source is not None and ctx.expression(child(here, "from"), source):
            out[key] = Correlation(from_=source, expect=expect)
    return out


def _expect(ctx: Context, pointer: str, text: str) -> None:
    """An expression on the task input; a text jq cannot read is compared as it is (warned)."""
    if is_expression(text):
        ctx.expression(pointer, text)
        return
    try:
        compile_expression(text)
    except ExpressionError:
        ctx.warn(
            pointer,
            f"'expect: {text}' is not a jq expression, so it is compared as this exact text; "
            f"write it as ${{ {json.dumps(text)} }} to say so",
        )
        return
    ctx.expression(pointer, text)


def consumption_strategy(
    ctx: Context, value: Any, pointer: str, *, nested: bool = False
) -> ConsumptionStrategy | None:
    """``all: [filters]`` | ``any: [filters]`` (+ ``until``) | ``one: filter``."""
    obj = ctx.mapping(value, pointer, "a consumption strategy")
    if obj is None:
        return None
    ctx.keys(obj, pointer, "a consumption strategy", (*_MODES, "until"))
    mode = ctx.exactly_one(obj, pointer, "a consumption strategy", _MODES)
    if mode is None:
        return None
    here = child(pointer, mode)
    if mode == "one":
        one = event_filter(ctx, obj["one"], here)
        filters: tuple[EventFilter, ...] | None = (one,) if one is not None else None
    else:
        filters = _filters(ctx, obj[mode], here)
    until = _until(ctx, obj, pointer, mode, nested=nested)
    if filters is None:
        return None
    return ConsumptionStrategy(
        mode=cast(Literal["all", "any", "one"], mode), filters=filters, until=until
    )


def _filters(ctx: Context, value: Any, pointer: str) -> tuple[EventFilter, ...] | None:
    if not isinstance(value, list):
        ctx.error(pointer, f"expected a list of event filters, found {describe(value)}")
        return None
    built = [event_filter(ctx, item, child(pointer, index)) for index, item in enumerate(value)]
    return tuple(f for f in built if f is not None) if None not in built else None


def _until(
    ctx: Context, obj: dict[str, Any], pointer: str, mode: str, *, nested: bool
) -> str | ConsumptionStrategy | None:
    if "until" not in obj:
        return None
    here = child(pointer, "until")
    if nested:
        ctx.error(here, "an 'until' strategy cannot have its own 'until'")
        return None
    if mode != "any":
        ctx.error(here, f"'until' only goes with 'any' (this strategy is '{mode}')")
        return None
    value = obj["until"]
    if isinstance(value, str):
        ctx.expression(here, value)
        return value
    if isinstance(value, dict):
        return consumption_strategy(ctx, value, here, nested=True)
    ctx.error(here, f"'until' is a jq expression or a strategy, found {describe(value)}")
    return None
