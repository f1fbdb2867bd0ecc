"""Cursor windows shared by every backend."""

from __future__ import annotations

import pytest

from emitflow.errors import StoreError
from emitflow.store.paging import MAX_LIMIT, Window, make_page, scan
from emitflow.store.records import Page

KEYS = list(range(10, 20))


def test_a_window_without_cursors_reads_the_newest_first() -> None:
    window = Window.of(3, None, None)
    assert not window.ascending
    assert scan(KEYS, window, lambda _: True) == [19, 18, 17, 16]


def test_before_reads_down_and_after_reads_up() -> None:
    assert scan(KEYS, Window.of(2, 15, None), lambda _: True) == [14, 13, 12]
    after = Window.of(2, None, 15)
    assert after.ascending
    assert scan(KEYS, after, lambda _: True) == [16, 17, 18]
    assert scan(KEYS, Window.of(5, 15, 12), lambda _: True) == [14, 13]


def test_scan_filters_and_stops_past_the_limit() -> None:
    assert scan(KEYS, Window.of(2, None, None), lambda k: k % 2 == 0) == [18, 16, 14]
    assert scan([], Window.of(2, None, None), lambda _: True) == []


def test_narrowing_keeps_the_reading_direction() -> None:
    window = Window.of(2, None, 12).narrowed(None, 15)
    assert window.ascending and (window.lower, window.upper) == (12, 15)
    assert scan(KEYS, window, lambda _: True) == [13, 14]
    tighter = Window.of(2, 18, 11).narrowed(13, 20)
    assert (tighter.lower, tighter.upper, tighter.ascending) == (13, 18, False)


def test_make_page_turns_an_upward_read_newest_first() -> None:
    page = make_page([13, 14, 15], Window.of(2, None, 12), str, 9)
    assert page.items == (14, 13) and page.has_more
    assert (page.start_cursor, page.end_cursor, page.total_count, page.count) == ("14", "13", 9, 2)
    empty: Page[int] = make_page([], Window.of(2, None, None), str, None)
    assert (empty.items, empty.start_cursor, empty.end_cursor, empty.has_more) == (
        (),
        None,
        None,
        False,
    )


@pytest.mark.parametrize("limit", [0, -1, MAX_LIMIT + 1])
def test_a_bad_limit_is_refused(limit: int) -> None:
    with pytest.raises(StoreError, match="limit"):
        Window.of(limit, None, None)
