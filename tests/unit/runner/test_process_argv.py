"""Command lines for ``run: shell`` and ``run: script``, and ``run.return``."""

from __future__ import annotations

import pytest

from emitflow.errors import FaultError
from emitflow.runner.processes import ProcessResult, script_argv, shell_argv


def test_shell_passes_arguments_as_positional_parameters() -> None:
    assert shell_argv("echo $1", ["a b", "-c"]) == ["/bin/sh", "-c", "echo $1", "sh", "a b", "-c"]


def test_python_scripts_run_inline() -> None:
    assert script_argv("Python", "print(1)", ["x"], python="/py") == ["/py", "-c", "print(1)", "x"]


def test_javascript_needs_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: "/opt/node" if name == "node" else None)
    assert script_argv("js", "1", ["-a"]) == ["/opt/node", "-e", "1", "--", "[eval]", "-a"]
    assert script_argv("js", "1", ["-a"], file="/t/s.js") == ["/opt/node", "/t/s.js", "-a"]
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(FaultError) as info:
        script_argv("javascript", "1")
    assert info.value.problem.type.endswith("/errors/configuration")
    assert "node" in (info.value.problem.detail or "")
    assert "not installed" in (info.value.problem.detail or "")


def test_an_unknown_language_is_a_configuration_error() -> None:
    with pytest.raises(FaultError) as info:
        script_argv("ruby", "puts 1")
    assert info.value.problem.status == 400
    assert "'ruby'" in (info.value.problem.detail or "")


def test_return_modes() -> None:
    result = ProcessResult(code=3, stdout="out", stderr="err")
    assert result.returned() == "out"
    assert result.returned("stderr") == "err"
    assert result.returned("code") == 3
    assert result.returned("all") == {"code": 3, "stdout": "out", "stderr": "err"}
    assert result.returned("none") is None
    with pytest.raises(FaultError, match="not one of"):
        result.returned("both")
