"""Runtime expressions: jq, compiled once per text, evaluated with per-call variables."""

from emitflow.expressions.jq import (
    STANDARD_VARIABLES,
    Expression,
    compile_expression,
    evaluate_value,
    expression_text,
    is_expression,
    iter_expressions,
)

__all__ = [
    "STANDARD_VARIABLES",
    "Expression",
    "compile_expression",
    "evaluate_value",
    "expression_text",
    "is_expression",
    "iter_expressions",
]
