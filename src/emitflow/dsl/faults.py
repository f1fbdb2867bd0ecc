"""Errors to raise, error filters to catch by, and retry policies."""

from __future__ import annotations

from typing import Any, Literal, cast

from emitflow.dsl.context import Context, child
from emitflow.dsl.endpoints import uri_literal
from emitflow.dsl.model import Duration, ErrorDefinition, ErrorFilter, RetryPolicy
from emitflow.dsl.values import optional_duration
from emitflow.expressions import is_expression

__all__ = ["error_definition", "error_filter", "retry_policy"]

_ERROR_FIELDS = ("type", "status", "instance", "title", "detail")


def error_definition(ctx: Context, value: Any, pointer: str) -> ErrorDefinition | None:
    """An error to raise: ``type`` and ``status`` required; fields may be ``${}``."""
    obj = ctx.mapping(value, pointer, "an error")
    if obj is None:
        return None
    required = {
        "type": "a URI naming the kind of error, e.g. https://example.com/errors/out-of-stock",
        "status": "an HTTP-like status code such as 400",
    }
    ctx.keys(obj, pointer, "an error", _ERROR_FIELDS, required)
    type_ = ctx.string(obj, pointer, "type")
    if type_ is not None and not is_expression(type_):
        uri_literal(ctx, type_, child(pointer, "type"), "the error 'type'")
    ctx.integer(obj, pointer, "status")
    instance = ctx.string(obj, pointer, "instance")
    if instance and not is_expression(instance) and not instance.startswith("/"):
        ctx.error(
            child(pointer, "instance"),
            f"'instance' is a JSON pointer such as "
            f"'/do/0/myTask' or a ${{ }} expression, found {instance!r}",
        )
    ctx.string(obj, pointer, "title")
    ctx.string(obj, pointer, "detail")
    if "type" not in obj or "status" not in obj:
        return None
    return ErrorDefinition(**{key: obj.get(key) for key in _ERROR_FIELDS})


def error_filter(ctx: Context, value: Any, pointer: str) -> ErrorFilter | None:
    """``catch.errors.with``: static fields an error must match (AND)."""
    obj = ctx.mapping(value, pointer, "an error filter")
    if obj is None:
        return None
    obj = dict(obj)
    if "details" in obj and "detail" not in obj:
        # DSL 1.0.3's schema spells it 'details'; main fixed the typo.
        ctx.warn(child(pointer, "details"), "'details' is the DSL 1.0.3 spelling; write 'detail'")
        obj["detail"] = obj.pop("details")
    ctx.keys(obj, pointer, "an error filter", _ERROR_FIELDS)
    if not obj:
        ctx.error(
            pointer,
            "an error filter needs at least one of type, status, instance, title, "
            "detail; to catch every error leave out 'errors'",
        )
        return None
    fields: dict[str, Any] = {
        key: ctx.integer(obj, pointer, key) if key == "status" else ctx.string(obj, pointer, key)
        for key in _ERROR_FIELDS
    }
    if fields["type"] == "*":
        ctx.warn(
            child(pointer, "type"),
            "the error filter 'type: \"*\"' is an emitflow "
            "shorthand (seed dialect) for any error type; the canonical form leaves "
            "'type' out",
        )
    return ErrorFilter(**fields)


_BACKOFFS = ("constant", "linear", "exponential")


def retry_policy(ctx: Context, value: Any, pointer: str) -> RetryPolicy | None:
    """A retry policy: conditions, delay, backoff, limits and jitter."""
    obj = ctx.mapping(value, pointer, "a retry policy")
    if obj is None:
        return None
    allowed = {"when", "exceptWhen", "delay", "backoff", "limit", "jitter"}
    ctx.keys(obj, pointer, "a retry policy", allowed)
    conditions = {key: _condition(ctx, obj, pointer, key) for key in ("when", "exceptWhen")}
    limit = _limit(ctx, obj, pointer)
    jitter = _jitter(ctx, obj, pointer)
    return RetryPolicy(
        when=conditions["when"],
        except_when=conditions["exceptWhen"],
        delay=optional_duration(ctx, obj, pointer, "delay"),
        backoff=_backoff(ctx, obj, pointer),
        attempt_count=limit[0],
        attempt_duration=limit[1],
        total_duration=limit[2],
        jitter_from=jitter[0],
        jitter_to=jitter[1],
    )


def _condition(ctx: Context, obj: dict[str, Any], pointer: str, key: str) -> str | None:
    text = ctx.string(obj, pointer, key, "a jq expression")
    if text is not None:
        ctx.expression(child(pointer, key), text)
    return text


def _backoff(
    ctx: Context, obj: dict[str, Any], pointer: str
) -> Literal["constant", "linear", "exponential"]:
    backoff = ctx.mapping_field(obj, pointer, "backoff")
    if backoff is None:
        return "constant"
    here = child(pointer, "backoff")
    ctx.keys(backoff, here, "a backoff", _BACKOFFS)
    kind = ctx.exactly_one(backoff, here, "a backoff", _BACKOFFS)
    if kind is None:
        return "constant"
    ctx.mapping(backoff[kind], child(here, kind), f"the '{kind}' backoff")
    return cast(Literal["constant", "linear", "exponential"], kind)


def _limit(
    ctx: Context, obj: dict[str, Any], pointer: str
) -> tuple[int | None, Duration | None, Duration | None]:
    limit = ctx.mapping_field(obj, pointer, "limit")
    if limit is None:
        return None, None, None
    here = child(pointer, "limit")
    ctx.keys(limit, here, "a retry limit", {"attempt", "duration"})
    attempt = ctx.mapping_field(limit, here, "attempt") or {}
    at = child(here, "attempt")
    ctx.keys(attempt, at, "a retry attempt limit", {"count", "duration"})
    count = ctx.integer(attempt, at, "count", minimum=0)
    return (
        count,
        optional_duration(ctx, attempt, at, "duration"),
        optional_duration(ctx, limit, here, "duration"),
    )


def _jitter(
    ctx: Context, obj: dict[str, Any], pointer: str
) -> tuple[Duration | None, Duration | None]:
    jitter = ctx.mapping_field(obj, pointer, "jitter")
    if jitter is None:
        return None, None
    here = child(pointer, "jitter")
    ctx.keys(jitter, here, "a jitter", {"from", "to"}, ("from", "to"))
    return optional_duration(ctx, jitter, here, "from"), optional_duration(ctx, jitter, here, "to")
