"""Limits: validated values that travel to the worker as JSON."""

from __future__ import annotations

import pytest

from emitflow.codesteps.capture import OutputCapture
from emitflow.codesteps.limits import MIB, Limits
from emitflow.errors import ConfigurationError


def test_defaults_are_the_documented_ones() -> None:
    limits = Limits()
    assert limits.memory_bytes == 256 * MIB
    assert limits.cpu_seconds == 30
    assert limits.max_emits == 10_000


def test_limits_round_trip_through_the_wire() -> None:
    limits = Limits(memory_bytes=64 * MIB, max_emits=3)
    assert Limits.from_wire(limits.to_wire()) == limits


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "10"])
def test_a_limit_must_be_a_positive_integer(value: object) -> None:
    with pytest.raises(ConfigurationError, match="max_emits"):
        Limits(max_emits=value)  # type: ignore[arg-type]


def test_unknown_limits_are_named() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown code-step limit.*bogus"):
        Limits.from_wire({"bogus": 1})
    with pytest.raises(ConfigurationError, match="must be an object"):
        Limits.from_wire([1])


def test_a_result_frame_has_room_for_outputs_and_emits() -> None:
    limits = Limits()
    assert limits.frame_bytes > limits.max_output_bytes + limits.max_emit_bytes


def test_capture_keeps_the_head_and_the_tail_and_marks_what_it_dropped() -> None:
    capture = OutputCapture(6)
    capture.feed(b"hel")
    capture.feed(b"lo wor")
    capture.feed(b"ld!")
    assert capture.truncated
    assert capture.total == 12
    # The last lines (before a fault, a traceback) are kept as well as the first.
    assert capture.text() == "hel\n[truncated 6 bytes]\nld!"


def test_capture_under_the_cap_is_unchanged_and_replaces_bad_utf8() -> None:
    capture = OutputCapture(100)
    capture.feed(b"ok \xff\n")
    assert not capture.truncated
    assert capture.text() == "ok \ufffd\n"
