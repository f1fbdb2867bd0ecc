"""run: shell, script (Python, JavaScript, code steps), subflows, container; and listen."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from emitflow.events.cloudevent import CloudEvent
from emitflow.runner import CodeStep, CodeStepOutcome, MemorySink
from tests.unit.runner.workflows import run


async def test_shell_stdout_with_arguments_environment_and_stdin() -> None:
    result = await run(
        """
        do:
          - sh:
              run:
                shell:
                  command: 'printf "%s|%s|" "$GREETING" "$(cat)"; echo'
                  arguments: ['${ .name }', two]
                  environment: {GREETING: hello}
                  stdin: '${ .name }'
        """,
        {"name": "Ann"},
    )
    assert result.output == "hello|Ann|Ann two"


@pytest.mark.parametrize(
    ("mode", "output"),
    [
        ("stderr", "err"),
        ("code", 3),
        ("all", {"code": 3, "stdout": "out", "stderr": "err"}),
        ("none", None),
    ],
)
async def test_return_modes(mode: str, output: Any) -> None:
    command = "echo out; echo err >&2" + ("; exit 3" if mode in ("code", "all") else "")
    result = await run(f"do:\n  - sh: {{run: {{shell: {{command: '{command}'}}, return: {mode}}}}}")
    assert result.status == "completed", result.error
    assert result.output == output


async def test_a_failing_command_faults_with_its_stderr() -> None:
    result = await run("do:\n  - sh: {run: {shell: {command: 'echo nope >&2; exit 2'}}}")
    assert result.error is not None
    assert result.error.type.endswith("/errors/runtime")
    assert result.error.detail == "the process exited with code 2: nope"


async def test_python_script_inline_and_from_a_source_file(tmp_path: Path) -> None:
    (tmp_path / "hello.py").write_text("import sys\nprint('hi', sys.argv[1])\n")
    inline = await run(
        "do:\n  - py: {run: {script: {language: python, code: 'print(6 * 7)'}}}",
    )
    assert inline.output == "42"
    source = await run(
        """
        do:
          - py:
              run:
                script: {language: python, source: {endpoint: hello.py}, arguments: [there]}
        """,
        workflows_dir=tmp_path,
    )
    assert source.output == "hi there"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_javascript_script() -> None:
    code = "console.log(6 * 7, process.argv.slice(2).join(','))"
    result = await run(
        f'do:\n  - js: {{run: {{script: {{language: js, code: "{code}", arguments: [a, b]}}}}}}'
    )
    assert result.output == "42 a,b"


async def test_await_false_outputs_the_input_at_once(tmp_path: Path) -> None:
    marker = tmp_path / "done"
    result = await run(
        f"do:\n  - bg: {{run: {{shell: {{command: 'touch {marker}'}}, await: false}}}}",
        {"a": 1},
    )
    assert result.output == {"a": 1}
    assert marker.exists()  # the run waited for it before finishing


HANDLER = """
do:
  - step:
      run:
        script:
          language: python
          code: |
            def handler(pd):
                return {"ok": True}
"""


async def test_a_code_step_without_a_runner_is_a_configuration_fault() -> None:
    result = await run(HANDLER)
    assert result.error is not None
    assert result.error.type.endswith("/errors/configuration")
    assert result.error.detail is not None and "code-step runner" in result.error.detail


class FakeSteps:
    """A code-step runner that records what it was asked."""

    def __init__(self) -> None:
        self.steps: list[CodeStep] = []

    async def run(self, step: CodeStep) -> CodeStepOutcome:
        self.steps.append(step)
        event = CloudEvent.create(type="com.example.held", source="/p", data={"n": 1})
        return CodeStepOutcome(output={"ok": True}, emits=(event,), exit_reason="done")


async def test_a_code_step_through_the_port() -> None:
    steps, sink = FakeSteps(), MemorySink()
    result = await run(
        HANDLER.replace("do:\n", "do:\n  - first: {set: {n: 1}}\n", 1) + "  - never: {set: {x: 1}}",
        {"in": 1},
        code_steps=steps,
        events=sink,
    )
    assert result.output == {"ok": True}
    assert [t.name for t in result.tasks] == ["first", "step"]  # pd.flow.exit ended the run
    assert steps.steps[0].steps == {
        "trigger": {"event": {"in": 1}, "context": {}},
        "first": {"n": 1},
    }
    assert sink.types == ["com.example.held"]


CHILD = """
document: {{dsl: '1.0.3', namespace: lib, name: double, version: '{version}'}}
do:
  - twice: {{set: {{n: '${{ .n * {factor} }}', version: '{version}'}}}}
"""


async def test_a_subflow_by_name_and_latest_version(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(CHILD.format(version="1.2.0", factor=2))
    (tmp_path / "b.yaml").write_text(CHILD.format(version="1.10.0", factor=10))
    (tmp_path / "c.yml").write_text(CHILD.format(version="2.0.0-rc.1", factor=100))
    (tmp_path / "notes.json").write_text("{}")
    text = """
        do:
          - call:
              run:
                workflow: {namespace: lib, name: double, version: VERSION, input: {n: '${ .x }'}}
        """
    latest = await run(text.replace("VERSION", "latest"), {"x": 3}, workflows_dir=tmp_path)
    assert latest.output == {"n": 300, "version": "2.0.0-rc.1"}
    pinned = await run(text.replace("VERSION", "'1.2.0'"), {"x": 3}, workflows_dir=tmp_path)
    assert pinned.output == {"n": 6, "version": "1.2.0"}
    missing = await run(text.replace("VERSION", "'9.9.9'"), {"x": 3}, workflows_dir=tmp_path)
    assert missing.error is not None and missing.error.instance == "/do/0/call"


async def test_a_subflow_fault_faults_the_task(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text(
        "document: {dsl: '1.0.3', namespace: lib, name: bad, version: '1.0.0'}\n"
        "do:\n  - boom: {raise: {error: {type: https://example.com/x, status: 409, title: T}}}\n"
    )
    result = await run(
        "do:\n  - c: {run: {workflow: {namespace: lib, name: bad, version: '1.0.0'}}}",
        workflows_dir=tmp_path,
    )
    assert result.error is not None
    assert (result.error.status, result.error.title, result.error.instance) == (409, "T", "/do/0/c")
    assert result.error.detail is not None and "/do/0/boom" in result.error.detail


async def test_container_without_a_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = await run("do:\n  - c: {run: {container: {image: alpine:3.20}}}")
    assert result.error is not None
    assert result.error.type.endswith("/errors/configuration")
    assert result.error.detail is not None and "docker or podman" in result.error.detail


async def test_a_listen_nothing_satisfies_ends_at_its_timeout() -> None:
    result = await run(
        "do:\n  - l:\n      timeout: {after: {milliseconds: 50}}\n"
        "      listen: {to: {one: {with: {type: x}}}}"
    )
    assert result.error is not None
    assert result.error.type.endswith("/errors/timeout")
    assert result.error.instance == "/do/0/l"
