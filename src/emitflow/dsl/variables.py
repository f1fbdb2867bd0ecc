"""``$variables`` an expression names must exist where it is evaluated, checked at load.

jq itself would reject an unbound ``$name``, but the runtime binds every name a text mentions
(see ``expressions.jq``), so a typo such as ``$secret`` or ``$contxt`` would read ``null`` at run
time. The loader knows which names exist at each place: the runtime arguments (``$context``,
``$input``, …), the loop and catch variables of the tasks around it (a ``for`` task's ``each``/
``at`` inside its ``do`` and ``while``, a ``catch``'s ``as`` inside the catch, a ``foreach``'s
``item``/``at``), jq's own (``$ENV``, ``$__loc__``) and those the text binds itself (``as $x``,
destructuring, ``def f($a)``, ``label $out``). Any other name is a problem naming the variable
and the names that are known there.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from emitflow.dsl.context import Context
from emitflow.expressions import STANDARD_VARIABLES, expression_text

__all__ = ["check_variables", "named_variables"]

_JQ_OWN = ("ENV", "__loc__")
_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_AS = re.compile(r"\bas\s*")
_PARAMS = re.compile(r"\bdef\s+[A-Za-z_][A-Za-z0-9_]*\s*\(([^)]*)\)")
_LABEL = re.compile(r"\blabel\s*\$([A-Za-z_][A-Za-z0-9_]*)")
_FUNCTIONS = "/use/functions/"


def check_variables(ctx: Context) -> None:
    """A problem for each expression that names a variable not bound where it is evaluated."""
    anywhere = {name for _, name in ctx.bindings}
    for pointer, text in ctx.expressions:
        used, bound = named_variables(text)
        known = {*STANDARD_VARIABLES, *_JQ_OWN, *bound, *_scoped(ctx, pointer)}
        if pointer.startswith(_FUNCTIONS):
            known |= anywhere  # a function runs inside its caller's scope
        for name in used:
            if name in known:
                continue
            listed = ", ".join(f"${n}" for n in sorted(known - {*_JQ_OWN, *bound}))
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f" (did you mean ${close[0]}?)" if close else ""
            ctx.error(
                pointer,
                f"the expression names ${name}, which is not defined here{hint}; "
                f"the variables known here are {listed}",
            )


def _scoped(ctx: Context, pointer: str) -> Iterator[str]:
    for prefix, name in ctx.bindings:
        if pointer == prefix or pointer.startswith(prefix + "/"):
            yield name


def named_variables(text: str) -> tuple[list[str], set[str]]:
    """The ``$names`` a jq text reads (in order, once each), and those it binds itself."""
    code = _code(expression_text(text))
    bound = {"__loc__"}
    for match in _AS.finditer(code):
        bound.update(_pattern_names(code, match.end()))
    for match in _PARAMS.finditer(code):
        bound.update(_NAME.findall(match.group(1)))
    bound.update(_LABEL.findall(code))
    used = list(dict.fromkeys(_NAME.findall(code)))
    return [name for name in used if name not in bound], bound


def _pattern_names(code: str, start: int) -> set[str]:
    """The names bound by the destructuring pattern(s) at ``start`` (``$x``, ``[$a]``, ``{$b}``)."""
    names: set[str] = set()
    index = start
    while index < len(code):
        if code[index] == "$":
            match = _NAME.match(code, index)
            if match is None:
                return names
            names.add(match.group(1))
            index = match.end()
        elif code[index] in "[{":
            end = _closing(code, index)
            names.update(_NAME.findall(code, index, end))
            index = end
        else:
            return names
        rest = code[index:].lstrip()
        if not rest.startswith("?//"):
            return names
        index = len(code) - len(rest) + 3
        while index < len(code) and code[index].isspace():
            index += 1
    return names


def _closing(code: str, start: int) -> int:
    depth = 0
    for index in range(start, len(code)):
        if code[index] in "[{(":
            depth += 1
        elif code[index] in "]})":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(code)


def _code(text: str) -> str:
    """``text`` with string literals and comments blanked, interpolations ``\\( … )`` kept."""
    out: list[str] = []
    stack: list[int] = []  # open parentheses of each interpolation being read as code
    in_string = False
    index = 0
    while index < len(text):
        char = text[index]
        if in_string:
            if char == "\\" and text[index + 1 : index + 2] == "(":
                in_string = False
                stack.append(0)
                out.append(" (")
                index += 2
                continue
            out.append(" ")
            if char == "\\":
                out.append(" ")
                index += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(" ")
        elif char == "#":
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
            continue
        else:
            if stack and char == "(":
                stack[-1] += 1
            elif stack and char == ")":
                if stack[-1] == 0:
                    stack.pop()
                    in_string = True
                else:
                    stack[-1] -= 1
            out.append(char)
        index += 1
    return "".join(out)
