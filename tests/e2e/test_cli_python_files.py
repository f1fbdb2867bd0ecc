"""``validate``, ``run`` and ``deploy`` check a Python code-step file: it compiles and defines
``handler(pd)``; otherwise exit 2 (422 over the API) with ``file:line:col``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.conftest import Server


def _emitflow(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EMITFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "emitflow", *args],
        capture_output=True,
        text=True,
        env={**environment, **env},
        timeout=60,
        check=False,
    )


def test_validate_checks_a_python_file(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text("def handler(pd):\n    return 1\n")
    broken = tmp_path / "broken.py"
    broken.write_text("def handler(pd):\n    return (\n")
    plain = tmp_path / "plain.py"
    plain.write_text("print('hi')\n")
    assert _emitflow("validate", str(good)).returncode == 0
    done = _emitflow("validate", str(good), str(broken), str(plain))
    assert done.returncode == 2
    assert f"{broken}:2:" in done.stderr and "does not compile" in done.stderr
    assert f"{plain}:1:1" in done.stderr and "defines no handler" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_of_a_file_without_handler_exits_2(tmp_path: Path) -> None:
    plain = tmp_path / "plain.py"
    plain.write_text("print('hi')\n")
    done = _emitflow("run", str(plain))
    assert done.returncode == 2
    assert "defines no handler" in done.stderr and done.stdout == ""


def test_deploy_of_a_broken_python_file_is_422(server: Server, tmp_path: Path) -> None:
    auth = {"Authorization": f"Bearer {server.token}"}
    for code, expected in (
        ("def handler(pd):\n    return (\n", "does not compile"),
        ("print('hi')\n", "defines no handler"),
    ):
        answer = httpx.post(
            f"{server.url}/v1/workflows?name=bad",
            content=code,
            headers={**auth, "Content-Type": "text/x-python"},
            timeout=30,
        )
        assert answer.status_code == 422, answer.text
        assert expected in answer.text
    plain = tmp_path / "plain.py"
    plain.write_text("print('hi')\n")
    done = _emitflow("deploy", str(plain), EMITFLOW_SERVER=server.url, EMITFLOW_TOKEN=server.token)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "defines no handler" in done.stderr
