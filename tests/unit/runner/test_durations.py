"""Durations given at run time: ISO 8601, inline objects, numbers of seconds."""

from __future__ import annotations

from typing import Any

import pytest

from emitflow.runner.durations import parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("PT30S", 30),
        ("PT1H30M", 5400),
        ("P1D", 86400),
        ("PT0.5S", 0.5),
        ("P1W", 604800),
        ("P1M", 30 * 86400),
        ({"minutes": 1, "seconds": 30}, 90),
        ({"milliseconds": 250}, 0.25),
        (12, 12),
    ],
)
def test_durations(value: Any, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["30s", "", {"weeks": 1}, {}, True, None, -1, {"seconds": "1"}])
def test_invalid_durations(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)
