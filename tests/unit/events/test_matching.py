"""DSL event filters: regex, predicates, nested objects and correlation."""

from __future__ import annotations

from typing import Any

from emitflow.dsl.model import Correlation, EventFilter
from emitflow.events.matching import correlation_keys, event_matches

EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "1",
    "source": "https://petstore.com/orders",
    "type": "com.petstore.order.placed.v1",
    "subject": "o-1",
    "data": {"temperature": 40, "kind": "order", "customer": {"id": "c-1"}},
}


def test_strings_are_regular_expressions_with_search_semantics() -> None:
    assert event_matches(EventFilter(with_={"type": r"order\.placed"}), EVENT)
    assert not event_matches(EventFilter(with_={"type": r"^order"}), EVENT)
    assert event_matches(EventFilter(with_={"type": r"^com\.petstore\..*\.v1$"}), EVENT)


def test_an_invalid_regex_falls_back_to_equality() -> None:
    assert not event_matches(EventFilter(with_={"subject": "o-1("}), EVENT)
    assert event_matches(EventFilter(with_={"subject": "o-1"}), EVENT)


def test_a_missing_attribute_never_matches() -> None:
    assert not event_matches(EventFilter(with_={"partitionkey": ".*"}), EVENT)


def test_expressions_are_predicates_on_the_attribute_value() -> None:
    assert event_matches(EventFilter(with_={"data": "${ .temperature > 38 }"}), EVENT)
    assert not event_matches(EventFilter(with_={"data": "${ .temperature > 50 }"}), EVENT)


def test_objects_match_key_by_key() -> None:
    assert event_matches(EventFilter(with_={"data": {"kind": "^order$"}}), EVENT)
    assert event_matches(EventFilter(with_={"data": {"customer": {"id": "c-1"}}}), EVENT)
    assert not event_matches(EventFilter(with_={"data": {"kind": "refund"}}), EVENT)


def test_correlation_without_expect_ties_later_events_to_the_first_value() -> None:
    flt = EventFilter(
        with_={"type": "order"}, correlate={"customer": Correlation(from_=".data.customer.id")}
    )
    first = correlation_keys(flt, EVENT, {})
    assert first == {"customer": "c-1"}
    other = {**EVENT, "data": {"customer": {"id": "c-2"}}}
    assert correlation_keys(flt, other, first) is None
    assert correlation_keys(flt, EVENT, first) == first


def test_correlation_with_expect() -> None:
    flt = EventFilter(
        with_={"type": "order"},
        correlate={"customer": Correlation(from_=".data.customer.id", expect="c-2")},
    )
    assert correlation_keys(flt, EVENT, {}) is None
    flt = EventFilter(
        with_={"type": "order"},
        correlate={"customer": Correlation(from_=".data.customer.id", expect="${ $context.c }")},
    )
    assert correlation_keys(flt, EVENT, {}, {"context": {"c": "c-1"}}) == {"customer": "c-1"}


def test_correlation_reads_the_event_on_the_fast_path() -> None:
    # The Python fast path answers ``.data.customer`` with the event's own
    # object (jq would hand back a decoded copy): matching shares one evaluator with the runner.
    flt = EventFilter(with_={}, correlate={"customer": Correlation(from_=".data.customer")})
    keys = correlation_keys(flt, EVENT, {})
    assert keys is not None and keys["customer"] is EVENT["data"]["customer"]
