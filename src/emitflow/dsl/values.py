"""Shared value shapes: durations, schemas, input/output/export, and timeouts."""

from __future__ import annotations

import re
from typing import Any

from emitflow.dsl.context import Context, child, describe
from emitflow.dsl.endpoints import external_resource
from emitflow.dsl.model import (
    Duration,
    ExportSpec,
    InputSpec,
    OutputSpec,
    SchemaSpec,
    TimeoutSpec,
)
from emitflow.expressions import is_expression, is_jq_word

__all__ = [
    "duration",
    "export_spec",
    "input_spec",
    "optional_duration",
    "output_spec",
    "schema_spec",
    "timeout_field",
    "timeout_spec",
]

# The schema's ISO 8601 duration pattern (decimals allowed, "T" needs a time part after it).
_ISO = re.compile(
    r"^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?"
    r"(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$"
)
_INLINE = {"days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0, "milliseconds": 0.001}
_SHORT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|m|min|mins|h|d)\s*$", re.IGNORECASE)
_SHORT_ISO = {
    "s": "PT{}S",
    "sec": "PT{}S",
    "secs": "PT{}S",
    "m": "PT{}M",
    "min": "PT{}M",
    "mins": "PT{}M",
    "h": "PT{}H",
    "d": "P{}D",
}
_DURATION_FORMS = (
    "an ISO 8601 string such as 'PT30S' or 'PT1H30M', an object such as {minutes: 1, "
    "seconds: 30}, or a ${ } expression yielding ISO 8601"
)
_BARE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def duration(ctx: Context, value: Any, pointer: str) -> Duration | None:
    """An ISO 8601 string, an inline ``{days, hours, …, milliseconds}``, or ``${ }``."""
    if isinstance(value, dict):
        return _inline_duration(ctx, value, pointer)
    if isinstance(value, str):
        if is_expression(value):
            ctx.expression(pointer, value)
            return Duration(expression=value)
        return _iso_duration(ctx, value, pointer)
    ctx.error(pointer, f"a duration is {_DURATION_FORMS}; found {describe(value)}")
    return None


def _inline_duration(ctx: Context, value: dict[str, Any], pointer: str) -> Duration | None:
    ctx.keys(value, pointer, "an inline duration", _INLINE)
    if not value:
        ctx.error(pointer, "an inline duration needs at least one of " + ", ".join(_INLINE))
        return None
    total = 0.0
    for key, unit in _INLINE.items():
        amount = ctx.integer(value, pointer, key)
        total += (amount or 0) * unit
    return Duration(seconds=total)


def _iso_duration(ctx: Context, value: str, pointer: str) -> Duration | None:
    if not _ISO.match(value):
        short = _SHORT.match(value)
        hint = ""
        if short:
            amount, unit = short.group(1), short.group(2).lower()
            iso = (
                f"PT{float(amount) / 1000:g}S" if unit == "ms" else _SHORT_ISO[unit].format(amount)
            )
            hint = f"; write '{iso}'"
        ctx.error(pointer, f"{value!r} is not a duration{hint} (a duration is {_DURATION_FORMS})")
        return None
    import isodate  # here: documents without ISO durations do not pay for its import

    parsed = isodate.parse_duration(value)
    if isinstance(parsed, isodate.Duration):
        ctx.warn(
            pointer,
            f"{value!r} has years or months, which have no fixed length; emitflow "
            "counts a year as 365 days and a month as 30 days",
        )
        days = float(parsed.years) * 365 + float(parsed.months) * 30
        return Duration(seconds=days * 86400 + parsed.tdelta.total_seconds())
    return Duration(seconds=parsed.total_seconds())


def schema_spec(ctx: Context, value: Any, pointer: str) -> SchemaSpec | None:
    """``{format?, document | resource}``."""
    obj = ctx.mapping(value, pointer, "a schema")
    if obj is None:
        return None
    ctx.keys(obj, pointer, "a schema", {"format", "document", "resource"})
    fmt = ctx.string(obj, pointer, "format") or "json"
    kind = ctx.exactly_one(obj, pointer, "a schema", ("document", "resource"))
    if kind == "document":
        ctx.opaque.add(child(pointer, "document"))  # a JSON Schema, not DSL: no expressions
        return SchemaSpec(format=fmt, document=obj["document"])
    if kind == "resource":
        resource = external_resource(ctx, obj["resource"], child(pointer, "resource"))
        return SchemaSpec(format=fmt, resource=resource) if resource else None
    return None


def _schema(ctx: Context, obj: dict[str, Any], pointer: str) -> SchemaSpec | None:
    if "schema" not in obj:
        return None
    return schema_spec(ctx, obj["schema"], child(pointer, "schema"))


def _transform(ctx: Context, obj: dict[str, Any], pointer: str, key: str) -> bool:
    """Check a ``from``/``as`` value: a string is a jq expression, an object embeds ``${}``."""
    value = obj.get(key)
    here = child(pointer, key)
    if isinstance(value, str):
        return ctx.expression(here, value)
    if isinstance(value, dict) or key not in obj:
        return True
    ctx.error(
        here,
        f"'{key}' must be a jq expression (a string) or an object whose values may "
        f"hold ${{ }} expressions; found {describe(value)}",
    )
    return False


def input_spec(ctx: Context, value: Any, pointer: str) -> InputSpec | None:
    """``input: {schema?, from?}``."""
    obj = ctx.mapping(value, pointer, "'input'")
    if obj is None:
        return None
    ctx.keys(obj, pointer, "'input'", {"schema", "from"})
    _transform(ctx, obj, pointer, "from")
    return InputSpec(schema=_schema(ctx, obj, pointer), from_=obj.get("from"))


def output_spec(
    ctx: Context, value: Any, pointer: str, *, shorthand: bool = False
) -> OutputSpec | None:
    """``output: {schema?, as?}``; on a task (``shorthand``) also the seed's ``as: <bare name>``."""
    obj = ctx.mapping(value, pointer, "'output'")
    if obj is None:
        return None
    ctx.keys(obj, pointer, "'output'", {"schema", "as"})
    schema = _schema(ctx, obj, pointer)
    text = obj.get("as")
    if shorthand and isinstance(text, str) and _is_bare_name(text):
        ctx.warn(
            child(pointer, "as"),
            f"'output.as: {text}' is an emitflow shorthand (seed dialect): the output is the "
            f"task's input with the raw result stored under '{text}'; the canonical form is "
            f"'output.as: ${{ $input + {{ {text}: . }} }}'",
        )
        return OutputSpec(schema=schema, store_as=text)
    _transform(ctx, obj, pointer, "as")
    return OutputSpec(schema=schema, as_=text)


def _is_bare_name(text: str) -> bool:
    """A lone identifier that jq does not know (``length`` is a jq builtin, so it is jq)."""
    return _BARE_NAME.match(text) is not None and not is_jq_word(text.strip())


def export_spec(ctx: Context, value: Any, pointer: str) -> ExportSpec | None:
    """``export: {schema?, as?}``."""
    obj = ctx.mapping(value, pointer, "'export'")
    if obj is None:
        return None
    ctx.keys(obj, pointer, "'export'", {"schema", "as"})
    _transform(ctx, obj, pointer, "as")
    return ExportSpec(schema=_schema(ctx, obj, pointer), as_=obj.get("as"))


def timeout_spec(ctx: Context, value: Any, pointer: str) -> TimeoutSpec | None:
    """``{after: duration}``."""
    obj = ctx.mapping(value, pointer, "a timeout")
    if obj is None:
        return None
    ctx.keys(obj, pointer, "a timeout", {"after"}, {"after": "how long, e.g. after: PT30S"})
    if "after" not in obj:
        return None
    after = duration(ctx, obj["after"], child(pointer, "after"))
    return TimeoutSpec(after=after) if after is not None else None


def timeout_field(ctx: Context, value: Any, pointer: str) -> TimeoutSpec | str | None:
    """A task's or workflow's ``timeout``: ``{after}`` or the name of a ``use.timeouts`` entry."""
    if isinstance(value, str):
        ctx.refer("timeouts", value, pointer)
        return value
    if isinstance(value, dict):
        return timeout_spec(ctx, value, pointer)
    ctx.error(
        pointer,
        "'timeout' is {after: <duration>} or the name of a use.timeouts entry, "
        f"found {describe(value)}",
    )
    return None


def optional_duration(ctx: Context, obj: dict[str, Any], pointer: str, key: str) -> Duration | None:
    """``obj[key]`` as a duration, when present."""
    return duration(ctx, obj[key], child(pointer, key)) if key in obj else None
