"""Encoding of positions, timestamps and JSON, shared by every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from emitflow.errors import StoreError
from emitflow.store import codec

MS = 1606511826306


def test_a_position_round_trips() -> None:
    for text in (f"{MS}-0", f"{MS}-7", "0-0", f"{MS}-{(1 << codec.SEQ_BITS) - 1}"):
        assert codec.position_text(codec.position_key(text)) == text
    assert codec.position_ms(codec.position_key(f"{MS}-3")) == MS


def test_position_keys_sort_like_the_pair() -> None:
    texts = [f"{MS}-9", f"{MS}-10", f"{MS + 1}-0", f"{MS - 1}-99"]
    ordered = sorted(texts, key=codec.position_key)
    assert ordered == [f"{MS - 1}-99", f"{MS}-9", f"{MS}-10", f"{MS + 1}-0"]


@pytest.mark.parametrize(
    "text",
    ["", "abc", "12-", "-3", "1-2-3", "1.5-0", f"{MS}-{1 << 20}", "99999999999999-0", " 1-0"],
)
def test_a_malformed_position_is_refused(text: str) -> None:
    with pytest.raises(StoreError, match="position"):
        codec.position_key(text)


def test_next_position_counts_within_a_millisecond() -> None:
    first = codec.next_position(0, MS)
    second = codec.next_position(first, MS)
    assert [codec.position_text(p) for p in (first, second)] == [f"{MS}-0", f"{MS}-1"]
    assert codec.position_text(codec.next_position(second, MS + 2)) == f"{MS + 2}-0"


def test_next_position_never_goes_back() -> None:
    last = codec.position_key(f"{MS}-4")
    assert codec.position_text(codec.next_position(last, MS - 1000)) == f"{MS}-5"


def test_a_full_millisecond_moves_on_to_the_next() -> None:
    last = codec.position_key(f"{MS}-{(1 << codec.SEQ_BITS) - 1}")
    assert codec.position_text(codec.next_position(last, MS)) == f"{MS + 1}-0"


def test_position_bounds_of_a_time_range() -> None:
    since = datetime.fromtimestamp(MS / 1000, UTC)
    lower, upper = codec.position_bounds(since, since + timedelta(milliseconds=1))
    assert lower is not None and upper is not None
    assert lower < codec.position_key(f"{MS}-0") < upper
    assert codec.position_key(f"{MS + 1}-0") == upper
    assert codec.position_bounds(None, None) == (None, None)


def test_timestamps_are_exact_microseconds() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    assert codec.from_micros(codec.to_micros(moment)) == moment
    east = moment.astimezone(timezone(timedelta(hours=5)))
    assert codec.to_micros(east) == codec.to_micros(moment)
    assert codec.utc(east).tzinfo is UTC
    assert codec.epoch_ms(moment) == codec.to_micros(moment) // 1000
    assert codec.utc_or_none(None) is None


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(StoreError, match="timezone"):
        codec.to_micros(datetime(2026, 1, 1))  # no tzinfo on purpose


def test_json_is_compact_and_strict() -> None:
    assert codec.dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert codec.loads(None) is None
    value = {"a": [1, {"b": None}]}
    copy = codec.json_copy(value)
    assert copy == value and copy is not value and copy["a"] is not value["a"]
    assert codec.json_copy((1, 2)) == [1, 2]
    for bad in ({1, 2}, float("nan"), object()):
        with pytest.raises(StoreError, match="JSON"):
            codec.dumps(bad)
