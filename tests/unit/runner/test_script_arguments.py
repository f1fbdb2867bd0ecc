"""``run.script`` arguments reach the script where the DSL's examples read them."""

from __future__ import annotations

import shutil

import pytest

from tests.unit.runner.workflows import run

NODE = """
do:
  - js:
      run:
        script:
          language: js
          arguments: ['${ .greeting }', world]
          code: |
            const first = process.argv[2];
            const second = process.argv[3];
            console.log(`${first} ${second} (${process.argv.length - 2} arguments)`);
"""

PYTHON = """
do:
  - py:
      run:
        script:
          language: python
          arguments: ['${ .greeting }', world]
          code: |
            import sys
            print(sys.argv[1], sys.argv[2], len(sys.argv) - 1)
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_javascript_reads_its_first_argument_at_process_argv_2() -> None:
    result = await run(NODE, {"greeting": "hello"})
    assert result.status == "completed", result.error
    assert result.output == "hello world (2 arguments)"


async def test_python_reads_its_first_argument_at_sys_argv_1() -> None:
    result = await run(PYTHON, {"greeting": "hello"})
    assert result.status == "completed", result.error
    assert result.output == "hello world 2"
