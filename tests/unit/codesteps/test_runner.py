"""``run_step`` in process: the handler's outcome as the result JSON the worker sends back."""

from __future__ import annotations

import json
from typing import Any

from emitflow.codesteps.limits import Limits
from emitflow.codesteps.runner import run_step


def run(code: str, **limits: int) -> dict[str, Any]:
    message = {
        "step": "greet",
        "code": code,
        "steps": {"trigger": {"event": {"name": "Ada"}, "context": {}}},
        "secrets": {"apiKey": "k"},
        "timeout": 5.0,
        "limits": Limits(**limits).to_wire(),
    }
    result: dict[str, Any] = json.loads(run_step(message))
    return result


def test_a_plain_handler_returns_its_value_and_sees_the_trigger() -> None:
    result = run("def handler(pd):\n    return {'hi': pd.steps['trigger']['event']['name']}\n")
    assert result["output"] == {"hi": "Ada"}
    assert result["problem"] is None
    assert result["exited"] is False


def test_an_async_handler_is_awaited() -> None:
    code = (
        "import asyncio\n"
        "async def handler(pd):\n"
        "    await asyncio.sleep(0)\n"
        "    pd.send.emit({'n': 1}, 'c')\n"
        "    return pd.secrets['apiKey']\n"
    )
    result = run(code)
    assert result["output"] == "k"
    assert result["emits"][0]["data"] == {"n": 1}


def test_flow_exit_ends_the_handler_in_sync_and_async_code() -> None:
    for prefix in ("", "async "):
        code = f"{prefix}def handler(pd):\n    pd.export('a', 1)\n    return pd.flow.exit('bye')\n"
        result = run(code)
        assert result["exited"] is True
        assert result["exit_reason"] == "bye"
        assert result["output"] is None
        assert result["exports"] == {"a": 1}
        assert result["problem"] is None


def test_an_exception_shows_only_the_users_frames() -> None:
    code = "def helper():\n    raise ValueError('boom')\n\ndef handler(pd):\n    helper()\n"
    problem = run(code)["problem"]
    assert problem["title"] == "Code step raised ValueError"
    assert problem["type"].endswith("/errors/runtime")
    detail = problem["detail"]
    assert detail.startswith("Traceback (most recent call last):")
    assert 'File "<code step greet>", line 5, in handler' in detail
    assert "line 2, in helper" in detail
    assert "raise ValueError('boom')" in detail
    assert detail.rstrip().endswith("ValueError: boom")
    assert "emitflow" not in detail
    assert "runner.py" not in detail


def test_frames_of_pd_itself_are_left_out() -> None:
    problem = run("def handler(pd):\n    pd.export('s', {1})\n")["problem"]
    assert problem["title"] == "Code step raised NotJsonError"
    assert "pd.py" not in problem["detail"]
    assert "line 2, in handler" in problem["detail"]
    assert "exported 's' as a set" in problem["detail"]


def test_an_async_handlers_traceback_has_no_asyncio_frames() -> None:
    problem = run("async def handler(pd):\n    1 / 0\n")["problem"]
    assert "asyncio" not in problem["detail"]
    assert "ZeroDivisionError" in problem["detail"]


def test_a_syntax_error_points_at_the_line() -> None:
    problem = run("def handler(pd)\n    return 1\n")["problem"]
    assert problem["title"] == "Code step raised SyntaxError"
    assert '"<code step greet>", line 1' in problem["detail"]


def test_code_without_a_handler_says_how_to_write_one() -> None:
    problem = run("x = 1\n")["problem"]
    assert problem["title"] == "Code step has no handler"
    assert "def handler(pd)" in problem["detail"]


def test_returning_a_non_json_value_names_the_step_and_type() -> None:
    problem = run("import threading\ndef handler(pd):\n    return threading.Lock()\n")["problem"]
    assert problem["title"] == "Code step produced a value that is not JSON"
    assert problem["detail"].startswith("step 'greet' returned a lock (_thread.lock), which")
    assert problem["detail"].endswith("return dicts, lists, strings, numbers, booleans or None")


def test_a_caught_emit_limit_still_faults_the_step_and_keeps_the_first_emits() -> None:
    code = (
        "def handler(pd):\n"
        "    try:\n"
        "        for i in range(10):\n"
        "            pd.send.emit(i)\n"
        "    except Exception:\n"
        "        pass\n"
        "    return 'done'\n"
    )
    result = run(code, max_emits=4)
    assert result["problem"]["title"] == "Code step exceeded its emit limit"
    assert "Limits.max_emits" in result["problem"]["detail"]
    assert [e["data"] for e in result["emits"]] == [0, 1, 2, 3]


def test_output_over_its_limit_is_dropped_and_faults() -> None:
    result = run("def handler(pd):\n    return 'x' * 100\n", max_output_bytes=50)
    assert result["problem"]["title"] == "Code step result too large"
    assert "Limits.max_output_bytes" in result["problem"]["detail"]
    assert result["output"] is None


def test_memory_error_names_the_memory_limit() -> None:
    problem = run("def handler(pd):\n    raise MemoryError\n")["problem"]
    assert problem["title"] == "Code step exceeded its memory limit"
    assert "256 MiB address-space limit (Limits.memory_bytes)" in problem["detail"]


def test_eagain_mentions_the_process_limit() -> None:
    code = "import errno\ndef handler(pd):\n    raise BlockingIOError(errno.EAGAIN, 'no')\n"
    problem = run(code, max_processes=7)["problem"]
    assert "limit of 7 processes and threads (Limits.max_processes)" in problem["detail"]


def test_sys_exit_is_reported_with_the_right_way_to_end() -> None:
    problem = run("import sys\ndef handler(pd):\n    sys.exit(3)\n")["problem"]
    assert problem["title"] == "Code step raised SystemExit"
    assert "pd.flow.exit(reason)" in problem["detail"]


def test_respond_travels_in_the_result() -> None:
    result = run("def handler(pd):\n    pd.respond({'status': 202, 'body': 'ok'})\n")
    assert result["respond"] == {"status": 202, "body": "ok"}
