"""CloudEvents SQL (CESQL v1.0.0): compile an expression once, evaluate it on many events.

The parser is hand-written recursive descent, not ``lark``: the grammar is a dozen rules, and
its awkward corners (a sign that belongs to an integer literal, ``NOT`` as a prefix or inside
``NOT LIKE``, a LIKE pattern that must be a literal) and position-exact error messages are
simpler in code (see :mod:`emitflow.cesql.parser`). A compiled expression is a tree of
closures, so evaluating it does no parsing and no dispatch on names.
"""

from emitflow.cesql.expression import Expression, compile, evaluate, matches
from emitflow.cesql.failures import Failure, Kind, Result, Value

__all__ = ["Expression", "Failure", "Kind", "Result", "Value", "compile", "evaluate", "matches"]
