"""Subscription filters in the CloudEvents Subscriptions API dialects.

``exact``, ``prefix`` and ``suffix`` take a map of attribute names to strings (several entries
must all hold); ``all`` and ``any`` take a non-empty list of filters; ``not`` takes one filter;
``sql`` (also spelled ``cesql``, as Knative does) takes a CloudEvents SQL expression. A list of
filters given to a subscription must all hold. Filters are compiled when the subscription is
created, so a malformed one is refused then, with its place named (``filters[1].any[0]``).
Attribute names compare case-insensitively (they are lower-case by definition); values exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from emitflow.errors import CesqlParseError, FilterError

__all__ = ["DIALECTS", "Predicate", "compile_filters"]

#: A compiled filter: the event's context attributes (extensions included) → match or not.
Predicate = Callable[[Mapping[str, Any]], bool]

DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "sql", "cesql")


def compile_filters(filters: Sequence[Any] | None, where: str = "filters") -> Predicate:
    """One predicate for a list of filters that must all hold (an empty list matches all)."""
    if filters is None:
        return _always
    if not isinstance(filters, list | tuple):
        raise FilterError(f"{where}: expected a list of filters, got {type(filters).__name__}")
    compiled = [_compile(f, f"{where}[{i}]") for i, f in enumerate(filters)]
    if not compiled:
        return _always
    if len(compiled) == 1:
        return compiled[0]
    return lambda attrs: all(p(attrs) for p in compiled)


def _always(_attrs: Mapping[str, Any]) -> bool:
    return True


def _compile(spec: Any, where: str) -> Predicate:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise FilterError(
            f"{where}: a filter is an object with exactly one dialect key, one of "
            f'{", ".join(DIALECTS)}; e.g. {{"prefix": {{"type": "com.example."}}}}'
        )
    ((dialect, value),) = spec.items()
    builder = _BUILDERS.get(str(dialect).lower())
    if builder is None:
        raise FilterError(
            f"{where}: unknown filter dialect {dialect!r}; supported: {', '.join(DIALECTS)}"
        )
    return builder(value, f"{where}.{dialect}")


def _attribute_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise FilterError(f"{where}: expected a non-empty map of attribute names to strings")
    out: dict[str, str] = {}
    for name, expected in value.items():
        if not isinstance(expected, str):
            raise FilterError(f"{where}.{name}: expected a string, got {type(expected).__name__}")
        out[str(name).lower()] = expected
    return out


def _text(attrs: Mapping[str, Any], name: str) -> str | None:
    value = attrs.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _exact(value: Any, where: str) -> Predicate:
    wanted = _attribute_map(value, where)
    return lambda attrs: all(_text(attrs, k) == v for k, v in wanted.items())


def _prefix(value: Any, where: str) -> Predicate:
    wanted = _attribute_map(value, where)

    def check(attrs: Mapping[str, Any]) -> bool:
        for name, prefix in wanted.items():
            text = _text(attrs, name)
            if text is None or not text.startswith(prefix):
                return False
        return True

    return check


def _suffix(value: Any, where: str) -> Predicate:
    wanted = _attribute_map(value, where)

    def check(attrs: Mapping[str, Any]) -> bool:
        for name, suffix in wanted.items():
            text = _text(attrs, name)
            if text is None or not text.endswith(suffix):
                return False
        return True

    return check


def _nested(value: Any, where: str) -> list[Predicate]:
    if not isinstance(value, list | tuple) or not value:
        raise FilterError(f"{where}: expected a non-empty list of filters")
    return [_compile(f, f"{where}[{i}]") for i, f in enumerate(value)]


def _all(value: Any, where: str) -> Predicate:
    parts = _nested(value, where)
    return lambda attrs: all(p(attrs) for p in parts)


def _any(value: Any, where: str) -> Predicate:
    parts = _nested(value, where)
    return lambda attrs: any(p(attrs) for p in parts)


def _not(value: Any, where: str) -> Predicate:
    inner = _compile(value, where)
    return lambda attrs: not inner(attrs)


def _sql(value: Any, where: str) -> Predicate:
    import emitflow.cesql as cesql

    if not isinstance(value, str):
        raise FilterError(f"{where}: expected a CloudEvents SQL expression (a string)")
    try:
        expression = cesql.compile(value)
    except CesqlParseError as exc:
        raise FilterError(f"{where}: {exc}") from exc
    return lambda attrs: cesql.matches(expression, attrs)


_BUILDERS: dict[str, Callable[[Any, str], Predicate]] = {
    "exact": _exact,
    "prefix": _prefix,
    "suffix": _suffix,
    "all": _all,
    "any": _any,
    "not": _not,
    "sql": _sql,
    "cesql": _sql,
}
