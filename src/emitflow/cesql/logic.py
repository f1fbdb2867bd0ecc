"""AND, OR and XOR over compiled operands: runs of them fold left to right, short-circuiting.

The spec gives the three one precedence level, evaluated left to right, so ``a OR b AND c`` is
``(a OR b) AND c``. ``false AND x`` and ``true OR x`` never evaluate ``x`` (§3.4.2). An operand
that fails, or whose cast to Boolean fails, ends the run with false (see :mod:`compiler`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeAlias

from emitflow.cesql.failures import Errors, Value
from emitflow.cesql.nodes import LogicOp
from emitflow.cesql.values import to_bool

__all__ = ["logic_run"]

_Run: TypeAlias = Callable[[Mapping[str, object], Errors], Value]
_Operands: TypeAlias = tuple[tuple[_Run, int], ...]


def logic_run(first: tuple[_Run, int], steps: tuple[tuple[LogicOp, _Run, int], ...]) -> _Run:
    """The closure evaluating ``first op1 x1 op2 x2 ...``."""
    operands: _Operands = (first, *((run, at) for _, run, at in steps))
    ops = {op for op, _, _ in steps}
    if ops == {"AND"}:
        return _all(operands)
    if ops == {"OR"}:
        return _any(operands)
    return _mixed(operands, tuple(op for op, _, _ in steps))


def _all(operands: _Operands) -> _Run:
    """``a AND b AND ...``: the first false operand decides; the rest are not evaluated."""

    def run(event: Mapping[str, object], errors: Errors) -> Value:
        for operand, position in operands:
            value = operand(event, errors)
            if errors or not (value if type(value) is bool else to_bool(value, errors, position)):
                return False
        return True

    return run


def _any(operands: _Operands) -> _Run:
    """``a OR b OR ...``: the first true operand decides; the rest are not evaluated."""

    def run(event: Mapping[str, object], errors: Errors) -> Value:
        for operand, position in operands:
            value = operand(event, errors)
            if errors:
                return False
            if value if type(value) is bool else to_bool(value, errors, position):
                return True
            if errors:
                return False
        return False

    return run


def _mixed(operands: _Operands, ops: tuple[LogicOp, ...]) -> _Run:
    """A run mixing AND, OR and XOR, folded one step at a time."""
    (start, start_at), rest = operands[0], operands[1:]
    # Per step, the left value that decides it alone: false for AND, true for OR, none for XOR.
    steps = tuple(
        ({"AND": False, "OR": True}.get(op), op == "XOR", run, at)
        for op, (run, at) in zip(ops, rest, strict=True)
    )

    def run(event: Mapping[str, object], errors: Errors) -> Value:
        first = start(event, errors)
        result = not errors and _truth(first, errors, start_at)
        for decisive, exclusive, operand, position in steps:
            if errors:
                return False
            if result is not decisive:
                value = operand(event, errors)
                if errors:
                    return False
                # true AND v and false OR v are v.
                truth = _truth(value, errors, position)
                result = result != truth if exclusive else truth
        return not errors and result

    return run


def _truth(value: Value, errors: Errors, position: int) -> bool:
    return value if type(value) is bool else to_bool(value, errors, position)
