"""``run_process`` with real commands: output, stdin, argv, environment, limits, timeout."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path

import pytest

from emitflow.codesteps import Limits
from emitflow.errors import FaultError
from emitflow.runner.processes import run_process, script_argv, shell_argv


async def test_stdout_stderr_and_the_exit_code() -> None:
    result = await run_process(shell_argv('echo "$1|$2"; echo oops >&2; exit 3', ["a b", "-c"]))
    assert result.code == 3
    assert result.stdout == "a b|-c\n"
    assert result.stderr == "oops\n"
    assert result.returned("all") == {"code": 3, "stdout": "a b|-c\n", "stderr": "oops\n"}


async def test_stdin_reaches_the_command() -> None:
    result = await run_process(shell_argv("tr a-z A-Z"), stdin="hello\n")
    assert result.stdout == "HELLO\n"


async def test_a_command_that_ignores_its_stdin_is_fine() -> None:
    result = await run_process(shell_argv("true"), stdin="x" * 1_000_000)
    assert result.code == 0


async def test_the_environment_is_scrubbed_plus_the_tasks_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EMITFLOW_TOKEN", "secret-xyz")
    result = await run_process(shell_argv("env"), env={"GREETING": "hi"})
    assert "secret-xyz" not in result.stdout
    assert "EMITFLOW_" not in result.stdout
    assert "GREETING=hi\n" in result.stdout


async def test_a_private_directory_unless_one_is_given(tmp_path: Path) -> None:
    own = await run_process(shell_argv("pwd"))
    assert own.stdout.strip() != str(tmp_path)
    assert not await asyncio.to_thread(Path(own.stdout.strip()).exists)  # removed afterwards
    given = await run_process(shell_argv("pwd"), cwd=tmp_path)
    assert given.stdout.strip() == str(tmp_path)


async def test_output_is_capped_per_stream() -> None:
    command = "head -c 5000000 /dev/zero | tr '\\0' x; echo done >&2"
    result = await run_process(shell_argv(command), limits=Limits(max_log_bytes=1000))
    assert result.stdout_truncated and not result.stderr_truncated
    assert result.stdout == "x" * 500 + "\n[truncated 4999000 bytes]\n" + "x" * 500
    assert result.stderr == "done\n"


async def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(FaultError) as info:
        await run_process(shell_argv(f"sleep 30 & echo $! > {pidfile}; sleep 30"), timeout=0.5)
    assert time.monotonic() - started < 5
    assert info.value.problem.status == 408
    assert "did not finish within 0.5 s" in (info.value.problem.detail or "")
    background = int(pidfile.read_text())
    assert await asyncio.to_thread(_gone_within, background, 5.0)


def _gone_within(pid: int, seconds: float) -> bool:
    """Poll, up to a deadline, for the kernel to finish killing ``pid``."""
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


async def test_a_python_script_gets_its_arguments() -> None:
    code = "import sys; print(sys.argv[1:])"
    result = await run_process(script_argv("python", code, ["a", "-b"], python=sys.executable))
    assert result.stdout == "['a', '-b']\n"


async def test_a_javascript_script_runs_with_node() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed; script_argv then raises a configuration error")
    code = "console.log(JSON.stringify(process.argv.slice(2)))"
    result = await run_process(script_argv("js", code, ["a", "-b"]))
    assert result.stdout == '["a","-b"]\n'


async def test_memory_is_limited() -> None:
    code = "bytearray(2 * 1024 ** 3)"
    result = await run_process([sys.executable, "-c", code], limits=Limits(memory_bytes=128 << 20))
    assert result.code == 1
    assert "MemoryError" in result.stderr


async def test_a_missing_program_is_a_clear_fault() -> None:
    with pytest.raises(FaultError) as info:
        await run_process(["/nonexistent/tool"])
    assert info.value.problem.title == "Process could not start"
    assert "/nonexistent/tool" in (info.value.problem.detail or "")


async def test_the_loop_keeps_running_while_a_command_runs() -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await run_process(shell_argv("head -c 1000000 /dev/zero > /dev/null"))
    ticker.cancel()
    assert ticks > 1
