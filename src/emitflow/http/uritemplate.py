"""URI templates as the DSL uses them: RFC 6570 simple expansion ``{var}`` and nothing more.

``var`` names a top-level key of the (transformed) task input: ``{a.b}`` is the key "a.b", not a
path. A missing or null variable expands to "", a scalar to its percent-encoded text; objects and
arrays are refused, and so are the richer RFC 6570 forms (``{+x}``, ``{?x}``, ``{x*}``, ``{x:3}``):
the DSL points to ``${ "…\\(.x)" }`` for anything beyond ``{var}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from emitflow.errors import FaultError, Problem

__all__ = ["expand", "variables"]

_EXPRESSION = re.compile(r"\{([^{}]*)\}")
# RFC 6570 varname: ALPHA / DIGIT / "_" / pct-encoded, with "." between them.
_VARNAME = re.compile(r"(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*")


def variables(template: str) -> tuple[str, ...]:
    """The variable names a template uses, in order, each once."""
    seen: dict[str, None] = {}
    for match in _EXPRESSION.finditer(template):
        for name in _names(template, match.group(1)):
            seen.setdefault(name)
    return tuple(seen)


def expand(template: str, values: Any) -> str:
    """Fill each ``{var}`` from the top-level keys of ``values`` (a non-map gives only "")."""
    scope: Mapping[str, Any] = values if isinstance(values, Mapping) else {}

    def replace(match: re.Match[str]) -> str:
        parts = []
        for name in _names(template, match.group(1)):
            value = scope.get(name)
            if value is not None:
                parts.append(quote(_text(template, name, value), safe=""))
        # RFC 6570 §3.2.2: undefined variables are skipped, the rest joined by commas.
        return ",".join(parts)

    return _EXPRESSION.sub(replace, template)


def _names(template: str, body: str) -> list[str]:
    names = body.split(",")
    for name in names:
        if not _VARNAME.fullmatch(name):
            raise FaultError(
                Problem.of(
                    "expression",
                    title="Unsupported URI template",
                    detail=(
                        f"URI template {template!r}: {{{body}}} is not a simple {{name}} "
                        "expansion; only {var} with a top-level input key is supported, "
                        'use a ${ "…\\(.x)…" } expression for anything else'
                    ),
                )
            )
    return names


def _text(template: str, name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    # bool before int: True is an int in Python but "true" in JSON and in URIs.
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    kind = "an object" if isinstance(value, Mapping) else f"a {type(value).__name__}"
    if isinstance(value, list | tuple):
        kind = "an array"
    raise FaultError(
        Problem.of(
            "expression",
            title="Invalid URI template value",
            detail=(
                f"URI template {template!r}: {{{name}}} is {kind}; only strings, numbers and "
                "booleans can be put into a URI"
            ),
        )
    )
