"""A Python code-step file must compile and define ``handler`` taking one argument."""

from __future__ import annotations

from pathlib import Path

import pytest

from emitflow.dsl import python_workflow
from emitflow.errors import DocumentError


@pytest.mark.parametrize(
    "code",
    [
        "def handler(pd):\n    return 1\n",
        "async def handler(pd):\n    return 1\n",
        "def handler(pd, extra=None):\n    return 1\n",
        "def handler(*args):\n    return 1\n",
        "from steps import handler\n",
        "handler = lambda pd: 1\n",
    ],
)
def test_a_handler_taking_one_argument_is_accepted(code: str) -> None:
    assert python_workflow(code).do[0].name == "step"


def test_a_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("def handler(pd):\n    return {'a': }\n")
    with pytest.raises(DocumentError) as caught:
        python_workflow(path)
    assert str(caught.value).startswith(f"{path}:2:")
    assert "does not compile" in str(caught.value)


def test_a_file_without_handler_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "script.py"
    path.write_text("print('hello')\n")
    with pytest.raises(DocumentError, match=r"script\.py:1:1 .*defines no handler"):
        python_workflow(path)


def test_a_handler_with_the_wrong_arguments_is_refused() -> None:
    for code in ("def handler():\n    pass\n", "def handler(a, b):\n    pass\n"):
        with pytest.raises(DocumentError, match=r"<code>:1:1 .*exactly one argument"):
            python_workflow(code)
    with pytest.raises(DocumentError, match=r"<code>:3:1"):
        python_workflow("import os\n\ndef handler(pd, *, key):\n    pass\n")
