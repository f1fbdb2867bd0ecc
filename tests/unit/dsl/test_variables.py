"""``$variables`` that do not exist where an expression runs are problems at load."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from emitflow.dsl import parse_workflow
from emitflow.dsl.variables import named_variables
from emitflow.errors import DocumentError

HEAD = "document: {dsl: '1.0.3', namespace: test, name: vars, version: '1.0.0'}\n"


def problems(body: str) -> list[str]:
    with pytest.raises(DocumentError) as info:
        parse_workflow(HEAD + textwrap.dedent(body))
    return [f"{loc}: {msg}" for loc, msg in info.value.problems]


@pytest.mark.parametrize(
    ("expression", "name", "hint"),
    [("${ $secret.key }", "secret", "$secrets"), ("${ $contxt.user }", "contxt", "$context")],
)
def test_a_misspelt_variable_is_named_with_the_known_ones(
    expression: str, name: str, hint: str
) -> None:
    (message,) = problems(f"do:\n  - a:\n      set: {{v: '{expression}'}}\n")
    assert f"at /do/0/a/set/v: the expression names ${name}, which is not defined here" in message
    assert f"(did you mean {hint}?)" in message
    assert "$authorization, $context, $input, $output, $runtime, $secrets, $task" in message


def test_variables_in_scope_are_known() -> None:
    parse_workflow(
        HEAD
        + textwrap.dedent(
            """\
            use: {secrets: [key]}
            do:
              - loop:
                  for: {in: .items, each: order, at: n}
                  while: ${ $n < 10 }
                  do:
                    - guarded:
                        try:
                          - s: {set: {o: '${ $order }', i: '${ $n }', k: '${ $secrets.key }'}}
                        catch:
                          as: failure
                          when: ${ $failure.status == 500 }
                          do:
                            - h: {set: {e: '${ $failure.title + ($order | tostring) }'}}
              - plain:
                  for: {in: .items}
                  do:
                    - s: {set: {i: '${ $item }', x: '${ $index }'}}
              - local:
                  set:
                    a: '${ .xs as [$first, {b: $second}] | $first + $second }'
                    b: '${ reduce .[] as $x (0; . + $x) }'
                    c: '${ def f($v): $v + 1; f(2) }'
                    d: '${ label $out | 1 }'
                    e: '${ "costs $5 for \\($workflow.id)" }'
                    f: '${ $ENV | length }'
                    g: '${ $authorization.token }'
            """
        )
    )


def test_loop_variables_do_not_leak_out_of_their_loop() -> None:
    (message,) = problems(
        """\
        do:
          - loop:
              for: {in: .items, each: order}
              do:
                - s: {set: {o: '${ $order }'}}
          - after: {set: {o: '${ $order }'}}
        """
    )
    assert "at /do/1/after/set/o: the expression names $order" in message


def test_names_inside_strings_are_not_variables() -> None:
    used, _ = named_variables('${ "pay $5 to $bob" + "\\($input.x)" }')
    assert used == ["input"]


def test_validate_exits_2_naming_the_variable(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(HEAD + "do:\n  - a: {set: {v: '${ $contxt.user }'}}\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "emitflow", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "$contxt" in done.stderr and "$context" in done.stderr
