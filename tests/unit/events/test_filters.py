"""Subscription filters: the six required dialects plus CESQL, compiled once, checked early."""

from __future__ import annotations

from typing import Any

import pytest

from emitflow.errors import FilterError
from emitflow.events.filters import compile_filters

EVENT = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/orders",
    "type": "com.petstore.order.placed.v1",
    "subject": "o-1",
    "partitionkey": "c-1",
}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (None, True),
        ([], True),
        ([{"exact": {"type": "com.petstore.order.placed.v1"}}], True),
        ([{"exact": {"type": "com.petstore.order.placed"}}], False),
        ([{"exact": {"TYPE": "com.petstore.order.placed.v1"}}], True),
        ([{"exact": {"type": "com.petstore.order.placed.v1", "subject": "o-2"}}], False),
        ([{"prefix": {"type": "com.petstore."}}], True),
        ([{"prefix": {"missing": ""}}], False),
        ([{"suffix": {"type": ".v1"}}], True),
        ([{"suffix": {"type": ".v2"}}], False),
        ([{"all": [{"prefix": {"type": "com."}}, {"exact": {"subject": "o-1"}}]}], True),
        ([{"all": [{"prefix": {"type": "com."}}, {"exact": {"subject": "x"}}]}], False),
        ([{"any": [{"exact": {"subject": "x"}}, {"exact": {"partitionkey": "c-1"}}]}], True),
        ([{"not": {"exact": {"subject": "o-1"}}}], False),
        ([{"prefix": {"type": "com."}}, {"suffix": {"source": "/orders"}}], True),
        ([{"prefix": {"type": "com."}}, {"suffix": {"source": "/other"}}], False),
        ([{"sql": "type LIKE 'com.petstore.%' AND EXISTS subject"}], True),
        ([{"cesql": "subject = 'o-2'"}], False),
        ([{"sql": "1 / 0 = 0"}], False),
    ],
)
def test_filters_decide_a_match(filters: Any, expected: bool) -> None:
    assert compile_filters(filters)(EVENT) is expected


@pytest.mark.parametrize(
    ("filters", "place"),
    [
        ({"exact": {}}, "filters: expected a list"),
        ([{"regex": {"type": "x"}}], "filters[0]: unknown filter dialect 'regex'"),
        ([{"exact": {"type": "x"}, "prefix": {"type": "y"}}], "filters[0]: a filter is an object"),
        ([{"exact": {}}], "filters[0].exact: expected a non-empty map"),
        ([{"prefix": {"type": 3}}], "filters[0].prefix.type: expected a string"),
        ([{"any": []}], "filters[0].any: expected a non-empty list"),
        ([{"all": [{"not": {"bogus": 1}}]}], "filters[0].all[0].not: unknown filter dialect"),
        ([{"sql": "type LIKE"}], "filters[0].sql"),
        ([{"sql": 42}], "filters[0].sql: expected a CloudEvents SQL expression"),
    ],
)
def test_malformed_filters_are_refused_with_their_place(filters: Any, place: str) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filters(filters)
    assert place in str(caught.value)
