"""Requests and results: the values the engine exchanges with the pool."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emitflow.codesteps.limits import Limits
from emitflow.codesteps.pd import Recording
from emitflow.codesteps.step import StepFaultError, StepRequest, StepResult, parse_result
from emitflow.errors import ConfigurationError, FaultError, Problem

META = {"problem": None, "logs": "hi\n", "logs_truncated": False, "duration": 0.01}
BODY = {
    "output": {"ok": True},
    "emits": [{"data": 1, "channel": "c", "type": None, "subject": None, "source": None}],
    "exports": {"n": 2},
    "exited": False,
    "exit_reason": None,
    "respond": None,
    "problem": None,
}


def raw(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_a_request_is_sent_as_plain_json_in_a_head_and_a_body() -> None:
    request = StepRequest(code="c", step="s", steps={"trigger": {}}, secrets={"k": "v"})
    head, body = request.to_wire()
    # The worker reads the head; only the step's process reads the body.
    assert head == {
        "step": "s",
        "timeout": 30.0,
        "limits": Limits().to_wire(),
        "asynchronous": False,
    }
    assert body == {
        "code": "c",
        "steps": {"trigger": {}},
        "secrets": {"k": "v"},
        "environment": {},
    }
    # A step that may await gets a worker that has loaded asyncio.
    async_head, _ = StepRequest(code="async def handler(pd): ...", step="s").to_wire()
    assert async_head["asynchronous"] is True


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan")])
def test_a_request_needs_a_positive_finite_timeout(timeout: float) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        StepRequest(code="c", step="s", timeout=timeout)


def test_a_result_is_parsed_from_meta_and_body() -> None:
    result = parse_result("s", META, raw(BODY))
    assert result == StepResult(
        output={"ok": True},
        emits=({"data": 1, "channel": "c", "type": None, "subject": None, "source": None},),
        exports={"n": 2},
        logs="hi\n",
        duration=0.01,
    )


def test_a_step_problem_raises_a_fault_error_that_keeps_the_partial_result() -> None:
    problem = Problem.of("runtime", title="Code step raised ValueError", detail="tb")
    with pytest.raises(StepFaultError) as info:
        parse_result("s", META, raw({**BODY, "output": None, "problem": problem.to_dict()}))
    assert isinstance(info.value, FaultError)
    assert info.value.problem == problem
    assert info.value.result.emits[0]["data"] == 1
    assert info.value.result.logs == "hi\n"


def test_a_worker_problem_without_body_still_carries_the_logs() -> None:
    problem = Problem.of("timeout", title="Code step timed out")
    with pytest.raises(StepFaultError) as info:
        parse_result("s", {**META, "problem": problem.to_dict()}, None)
    assert info.value.problem.status == 408
    assert info.value.result.logs == "hi\n"


@pytest.mark.parametrize(
    "body",
    [
        raw([1]),
        raw({**BODY, "emits": {"a": 1}}),
        raw({**BODY, "emits": [{"x": 1}]}),
        raw({**BODY, "exports": []}),
        b'{"output": 1',
        b"\xff",
    ],
)
def test_a_malformed_result_is_a_clear_fault(body: bytes) -> None:
    with pytest.raises(StepFaultError) as info:
        parse_result("s", META, body)
    assert info.value.problem.title == "Code step result unreadable"
    assert "step 's'" in (info.value.problem.detail or "")


EMIT = {"data": 1, "channel": None, "type": None, "subject": None, "source": None}


def test_emits_past_max_emits_are_cut_by_the_engine() -> None:
    body = raw({**BODY, "emits": [EMIT] * 20})
    with pytest.raises(StepFaultError) as info:
        parse_result("s", META, body, Limits(max_emits=5))
    assert info.value.problem.title == "Code step exceeded its emit limit"
    assert "more than 5 emits (Limits.max_emits)" in (info.value.problem.detail or "")
    assert len(info.value.result.emits) == 5


def test_emits_past_max_emit_bytes_are_cut_where_pd_would_have_refused() -> None:
    recording = Recording("s", Limits())
    recording.emit(1, None, None, None, None)
    size = recording.emit_bytes  # what pd counts for one such emit
    body = raw({**BODY, "emits": [EMIT] * 10})
    with pytest.raises(StepFaultError) as info:
        parse_result("s", META, body, Limits(max_emit_bytes=3 * size + size // 2))
    assert "at emit #4 (Limits.max_emit_bytes)" in (info.value.problem.detail or "")
    assert len(info.value.result.emits) == 3
    assert parse_result("s", META, body, Limits(max_emit_bytes=10 * size)).emits == (EMIT,) * 10


def test_an_output_past_max_output_bytes_is_dropped_by_the_engine() -> None:
    body = raw({**BODY, "output": "x" * 100, "exports": {"a": "y" * 100}, "respond": {"b": 1}})
    with pytest.raises(StepFaultError) as info:
        parse_result("s", META, body, Limits(max_output_bytes=150))
    assert info.value.problem.title == "Code step result too large"
    assert "(Limits.max_output_bytes)" in (info.value.problem.detail or "")
    assert info.value.result.output is None
    assert info.value.result.exports == {}
    assert info.value.result.respond is None


def test_logs_past_max_log_bytes_are_cut_by_the_engine() -> None:
    result = parse_result("s", {**META, "logs": "z" * 5000}, raw(BODY), Limits(max_log_bytes=100))
    assert result.logs_truncated
    assert result.logs == "z" * 50 + "\n[truncated 4900 bytes]\n" + "z" * 50


def test_not_a_number_in_a_result_is_unreadable_and_nothing_is_kept() -> None:
    body = raw({**BODY, "emits": [EMIT, {**EMIT, "data": float("nan")}]})
    with pytest.raises(StepFaultError) as info:
        parse_result("s", META, body)
    assert info.value.problem.title == "Code step result unreadable"
    assert info.value.result.emits == ()
