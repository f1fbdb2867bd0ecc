"""Runtime expressions: jq, compiled once per text, evaluated with per-call variables; and
value templates (values whose strings are ``${ }`` expressions), compiled once per value."""

from emitflow.expressions.jq import (
    STANDARD_VARIABLES,
    Expression,
    compile_expression,
    evaluate_value,
    expression_text,
    is_expression,
    iter_expressions,
)
from emitflow.expressions.jqwords import is_jq_word
from emitflow.expressions.templates import (
    Templates,
    compile_template,
    lenient,
    loose_expression,
    render_template,
)

__all__ = [
    "STANDARD_VARIABLES",
    "Expression",
    "Templates",
    "compile_expression",
    "compile_template",
    "evaluate_value",
    "expression_text",
    "is_expression",
    "is_jq_word",
    "iter_expressions",
    "lenient",
    "loose_expression",
    "render_template",
]
