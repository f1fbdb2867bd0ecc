"""Steps that misbehave: each ends with a clear outcome, and the pool serves the next step."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from emitflow.codesteps import CodeStepPool, Limits, StepFaultError
from emitflow.codesteps.limits import MIB
from tests.conftest import ROOT
from tests.integration.codesteps.conftest import assert_still_serving, run, start_pool


async def fault(pool: CodeStepPool, code: str, **fields: object) -> StepFaultError:
    with pytest.raises(StepFaultError) as info:
        await run(pool, code, **fields)
    return info.value


async def test_the_environment_holds_no_engine_tokens(
    isolation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMITFLOW_TOKEN", "secret-xyz")
    monkeypatch.setenv("API_TOKEN", "secret-abc")
    pool = await start_pool(isolation)
    try:
        env = (await run(pool, "import os\ndef handler(pd):\n    return dict(os.environ)\n")).output
        assert not [name for name in env if name.startswith("EMITFLOW_")]
        assert "secret-xyz" not in env.values()
        assert "API_TOKEN" not in env
        await assert_still_serving(pool)
    finally:
        await pool.close()


async def test_files_outside_the_steps_directory_are_hidden(
    pool: CodeStepPool, tmp_path: Path
) -> None:
    database = tmp_path / "emitflow.db"
    with sqlite3.connect(database) as db:
        db.execute("create table runs (secret text)")
    code = (
        "import os, sqlite3\n"
        "def handler(pd):\n"
        "    found = {}\n"
        "    for path in pd.steps['paths']:\n"
        "        try:\n"
        "            with open(path, 'rb') as f:\n"
        "                found[path] = f.read(16).decode('latin-1')\n"
        "        except OSError as exc:\n"
        "            found[path] = type(exc).__name__\n"
        "    return found\n"
    )
    paths = [str(database), str(ROOT / "pyproject.toml")]
    found = (await run(pool, code, steps={"paths": paths})).output
    await assert_still_serving(pool)
    if not pool.protections.filesystem_hidden:
        pytest.skip("rlimits isolation does not hide the host's files (only bwrap does)")
    assert found == {paths[0]: "FileNotFoundError", paths[1]: "FileNotFoundError"}


async def test_an_endless_loop_times_out(pool: CodeStepPool) -> None:
    error = await fault(pool, "def handler(pd):\n    while True:\n        pass\n", timeout=1)
    assert error.problem.status == 408
    assert error.problem.type.endswith("/errors/timeout")
    assert (
        error.problem.detail == "step 'greet' did not finish within its 1 s timeout and was stopped"
    )
    await assert_still_serving(pool)


async def test_cpu_time_is_limited(pool: CodeStepPool) -> None:
    code = "def handler(pd):\n    while True:\n        pass\n"
    error = await fault(pool, code, timeout=10, limits=Limits(cpu_seconds=1))
    assert error.problem.title == "Code step exceeded its CPU-time limit"
    assert "1 s of CPU time (Limits.cpu_seconds)" in (error.problem.detail or "")
    await assert_still_serving(pool)


async def test_allocating_two_gib_hits_the_memory_limit(pool: CodeStepPool) -> None:
    code = "def handler(pd):\n    data = bytearray(2 * 1024 ** 3)\n    return len(data)\n"
    error = await fault(pool, code)
    assert error.problem.title == "Code step exceeded its memory limit"
    assert "256 MiB address-space limit (Limits.memory_bytes)" in (error.problem.detail or "")
    assert "bytearray(2 * 1024 ** 3)" in (error.problem.detail or "")
    await assert_still_serving(pool)


FORK = """
import os, time
def handler(pd):
    for _ in range(1000):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
"""


async def test_forking_a_thousand_processes_hits_the_process_limit(pool: CodeStepPool) -> None:
    if pool.protections.process_limit != "per worker":
        # Unbounded forking would harm the machine: only run it where the limit holds.
        pytest.skip(f"the process limit is {pool.protections.process_limit} in this mode")
    error = await fault(pool, FORK, limits=Limits(max_processes=16))
    assert error.problem.title == "Code step raised BlockingIOError"
    assert "limit of 16 processes and threads (Limits.max_processes)" in (
        error.problem.detail or ""
    )
    await assert_still_serving(pool)
    if pool.protections.isolation == "bwrap":
        # Every sleeper was killed: the namespace holds bwrap's init, the worker and the step.
        code = (
            "import os\n"
            "def handler(pd):\n"
            "    return [name for name in os.listdir('/proc') if name.isdigit()]\n"
        )
        assert len((await run(pool, code)).output) <= 3


async def test_printing_100_mb_is_capped_and_the_step_completes(pool: CodeStepPool) -> None:
    code = (
        "import sys\n"
        "def handler(pd):\n"
        "    chunk = 'x' * 1_000_000\n"
        "    for _ in range(100):\n"
        "        sys.stdout.write(chunk)\n"
        "    return 'done'\n"
    )
    result = await run(pool, code, limits=Limits(max_log_bytes=64 * 1024))
    assert result.output == "done"
    assert result.logs_truncated
    half = 32 * 1024
    assert (
        result.logs == "x" * half + f"\n[truncated {100_000_000 - 2 * half} bytes]\n" + "x" * half
    )
    await assert_still_serving(pool)


async def test_returning_a_socket_is_a_clear_error(pool: CodeStepPool) -> None:
    error = await fault(pool, "import socket\ndef handler(pd):\n    return socket.socket()\n")
    assert error.problem.detail == (
        "step 'greet' returned a socket (socket.socket), which is not JSON; "
        "return dicts, lists, strings, numbers, booleans or None"
    )
    await assert_still_serving(pool)


async def test_emitting_100000_events_hits_the_emit_cap(pool: CodeStepPool) -> None:
    code = "def handler(pd):\n    for i in range(100_000):\n        pd.send.emit({'i': i})\n"
    error = await fault(pool, code)
    assert error.problem.title == "Code step raised EmitLimitError"
    assert "called pd.send.emit more than 10000 times (Limits.max_emits)" in (
        error.problem.detail or ""
    )
    assert len(error.result.emits) == 10_000
    await assert_still_serving(pool)


async def test_os_exit_is_a_crash(pool: CodeStepPool) -> None:
    error = await fault(pool, "import os\ndef handler(pd):\n    os._exit(3)\n")
    assert error.problem.title == "Code step crashed"
    assert "exited with status 3" in (error.problem.detail or "")
    await assert_still_serving(pool)


async def test_a_segfault_is_a_crash(pool: CodeStepPool) -> None:
    error = await fault(pool, "import ctypes\ndef handler(pd):\n    ctypes.string_at(0)\n")
    assert "killed by SIGSEGV" in (error.problem.detail or "")
    await assert_still_serving(pool)


async def test_big_files_hit_the_file_size_limit(pool: CodeStepPool) -> None:
    code = "def handler(pd):\n    open('big', 'wb').write(b'x' * 2_000_000)\n"
    error = await fault(pool, code, limits=Limits(max_file_bytes=1 * MIB))
    assert "File too large" in (error.problem.detail or "")
    assert "Limits.max_file_bytes" in (error.problem.detail or "")
    await assert_still_serving(pool)


async def test_killing_its_own_worker_gets_it_replaced(pool: CodeStepPool) -> None:
    error = await fault(pool, "import os\ndef handler(pd):\n    os.kill(os.getppid(), 9)\n")
    assert error.problem.title == "Code-step worker failed"
    assert "the worker was replaced" in (error.problem.detail or "")
    await assert_still_serving(pool)


async def test_a_worker_that_stops_answering_is_replaced(isolation: str) -> None:
    pool = await start_pool(isolation, grace=0.5)
    try:
        code = "import os, signal\ndef handler(pd):\n    os.kill(os.getppid(), signal.SIGSTOP)\n"
        error = await fault(pool, code, timeout=0.5)
        assert "did not answer within 1 s" in (error.problem.detail or "")
        await assert_still_serving(pool)
    finally:
        await pool.close()


async def test_a_cancelled_step_does_not_wedge_the_pool(pool: CodeStepPool) -> None:
    endless = run(pool, "def handler(pd):\n    while True:\n        pass\n", timeout=30)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(endless, 0.3)
    await assert_still_serving(pool)


async def test_writing_on_the_result_pipe_is_a_fault_of_the_step(pool: CodeStepPool) -> None:
    code = (
        "import os, stat\n"
        "def handler(pd):\n"
        "    fds = [int(fd) for fd in os.listdir('/proc/self/fd') if int(fd) > 2]\n"
        "    pipes = [fd for fd in fds if os.path.exists(f'/proc/self/fd/{fd}')\n"
        "             and stat.S_ISFIFO(os.fstat(fd).st_mode)]\n"
        "    os.write(pipes[0], b'\\x00\\x00\\x00\\x03abc')\n"
        "    while True:\n"
        "        pass\n"
    )
    error = await fault(pool, code, timeout=10)
    assert error.problem.title == "Code step result unreadable"
    await assert_still_serving(pool)


ESCAPES = """
import ctypes, errno, os, threading
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, SIGCHLD = 0x10000000, 0x20000, 0x40000000, 17
CALLS = {  # x86-64 numbers
    "unshare(CLONE_NEWUSER)": (272, CLONE_NEWUSER),
    "unshare(CLONE_NEWNS)": (272, CLONE_NEWNS),
    "clone(CLONE_NEWUSER)": (56, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0),
    "clone(CLONE_NEWNET)": (56, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0),
    "setns": (308, 0, 0),
    "mount tmpfs on /tmp": (165, b"none", b"/tmp", b"tmpfs", 0, None),
    "pivot_root": (155, b"/tmp", b"/tmp"),
    "ptrace(PTRACE_ATTACH, parent)": (101, 16, os.getppid(), 0, 0),
    "bpf": (321, 0, 0, 0),
    "keyctl": (250, 0, 0, 0, 0, 0),
    "perf_event_open": (298, 0, 0, -1, -1, 0),
}
def attempt(args):
    result = libc.syscall(*args)
    if result == 0 and args[0] == 56:
        os._exit(0)  # a clone that went through: the child leaves at once
    return "allowed" if result >= 0 else errno.errorcode[ctypes.get_errno()]
def handler(pd):
    found = {name: attempt(args) for name, args in CALLS.items()}
    box = []
    worker = threading.Thread(target=lambda: box.append("thread ran"))
    worker.start()
    worker.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    found["ordinary threads and forks"] = box + [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])]
    return found
"""


async def test_namespaces_mounts_tracing_and_kernel_interfaces_are_refused(
    pool: CodeStepPool,
) -> None:
    # A user namespace would give the step every capability inside it: with those it could
    # mount over its view of the filesystem and pivot_root out of the sandbox.
    if os.uname().machine != "x86_64":
        pytest.skip("the attack uses x86-64 syscall numbers")
    found = (await run(pool, ESCAPES)).output
    ordinary = found.pop("ordinary threads and forks")
    assert found == {name: "EPERM" for name in found}
    assert ordinary == ["thread ran", 7]
    assert pool.protections.namespaces_denied
    await assert_still_serving(pool)


async def test_emits_written_into_the_recording_directly_are_cut_by_the_engine(
    pool: CodeStepPool,
) -> None:
    code = (
        "def handler(pd):\n"
        "    pd.recording.emits.extend(['{\"data\":1}'] * 200_000)\n"
        "    return 'done'\n"
    )
    error = await fault(pool, code)
    assert error.problem.title == "Code step exceeded its emit limit"
    assert "more than 10000 emits (Limits.max_emits), bypassing pd.send.emit" in (
        error.problem.detail or ""
    )
    assert len(error.result.emits) == 10_000
    await assert_still_serving(pool)


async def test_emit_bytes_written_into_the_recording_directly_are_cut_by_the_engine(
    pool: CodeStepPool,
) -> None:
    code = (
        "def handler(pd):\n"
        "    big = '{\"data\":\"' + 'x' * 300_000 + '\"}'\n"
        "    pd.recording.emits.extend([big] * 8)\n"
    )
    error = await fault(pool, code, limits=Limits(max_emit_bytes=1 * MIB))
    assert "at emit #4 (Limits.max_emit_bytes)" in (error.problem.detail or "")
    assert len(error.result.emits) == 3
    await assert_still_serving(pool)
