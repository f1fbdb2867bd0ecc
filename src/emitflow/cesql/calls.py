"""Function invocations (spec §3.5): dispatched by name and arity once, at compile time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeAlias

from emitflow.cesql.failures import Errors, Failure, Value
from emitflow.cesql.functions import resolve
from emitflow.cesql.membership import CASTS
from emitflow.cesql.values import ZERO

__all__ = ["call_run"]

_Run: TypeAlias = Callable[[Mapping[str, object], Errors], Value]


def call_run(name: str, args: tuple[tuple[_Run, int], ...], position: int) -> _Run:
    """The closure invoking ``name`` on compiled arguments, or reporting that it cannot."""
    function = resolve(name, len(args))
    if isinstance(function, Failure):
        return _undefined(replace(function, position=position))
    body, zero = function.body, ZERO[function.returns]
    types = function.params + (function.variadic,) * (len(args) - len(function.params))
    plan = tuple(
        (run, target, CASTS[target] if target is not None else None, at)
        for (run, at), target in zip(args, types, strict=True)
    )

    def run(event: Mapping[str, object], errors: Errors) -> Value:
        values: list[Value] = []
        for argument, target, cast, at in plan:
            value = argument(event, errors)
            if errors:
                return zero
            if cast is not None and type(value) is not target:
                value = cast(value, errors, at)
                if errors:
                    return zero
            values.append(value)
        return body(values, errors, position)

    return run


def _undefined(failure: Failure) -> _Run:
    def run(event: Mapping[str, object], errors: Errors) -> Value:
        errors.append(failure)
        return False  # §3.5: an invocation that cannot be dispatched is false

    return run
