"""The consumption strategies of ``listen``, offered events one by one."""

from __future__ import annotations

from typing import Any

from emitflow.dsl.model import ConsumptionStrategy, Correlation, EventFilter
from emitflow.events.reading import read_event
from emitflow.runner.listening import Consumption


def _filter(type: str, **correlate: Correlation) -> EventFilter:
    return EventFilter(with_={"type": type}, correlate=correlate)


def _event(n: int, type: str, **data: Any) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"e{n}", "source": "/t", "type": type, "data": data}


def test_one_consumes_the_first_match() -> None:
    c = Consumption(ConsumptionStrategy(mode="one", filters=(_filter("a"),)), {})
    assert c.offer(_event(1, "b")) is False
    assert c.offer(_event(2, "a")) is True
    assert c.done and c.offer(_event(3, "a")) is False


def test_any_without_filters_takes_every_event_until_the_expression_holds() -> None:
    c = Consumption(ConsumptionStrategy(mode="any", filters=(), until="${ length == 2 }"), {})
    assert c.offer(_event(1, "x")) and not c.done
    assert c.offer(_event(1, "x")) is False  # the same event again
    assert c.offer(_event(2, "y")) and c.done


def test_any_until_a_nested_strategy_stops_without_consuming_its_event() -> None:
    stop = ConsumptionStrategy(mode="one", filters=(_filter("stop"),))
    c = Consumption(ConsumptionStrategy(mode="any", filters=(_filter("a"),), until=stop), {})
    assert c.offer(_event(1, "a")) and c.offer(_event(2, "a"))
    assert c.offer(_event(3, "stop")) is False
    assert c.done and [e["id"] for e in c.events] == ["e1", "e2"]


def test_all_ties_events_together_by_correlation() -> None:
    order = Correlation(from_="${ .data.order }")
    strategy = ConsumptionStrategy(
        mode="all", filters=(_filter("placed", order=order), _filter("paid", order=order))
    )
    c = Consumption(strategy, {})
    assert c.offer(_event(1, "paid", order=7))
    assert c.offer(_event(2, "placed", order=8)) is False  # another order
    assert not c.done
    assert c.offer(_event(3, "placed", order=7)) and c.done
    assert c.keys == {"order": 7}


def test_progress_survives_state_and_restore() -> None:
    strategy = ConsumptionStrategy(mode="any", filters=(), until="${ length == 2 }")
    first = Consumption(strategy, {})
    first.offer(_event(1, "x"))
    second = Consumption(strategy, {})
    second.restore(first.state())
    assert second.offer(_event(1, "x")) is False
    assert second.offer(_event(2, "x")) and second.done


def test_read_forms() -> None:
    event = _event(1, "x", k=1)
    assert read_event(event, "data") == {"k": 1}
    assert read_event(event, "envelope") == event


async def test_without_a_port_a_run_hears_its_own_emits() -> None:
    from emitflow.dsl import from_mapping
    from emitflow.runner import RunOptions, execute

    def emit(type: str, n: int) -> dict[str, Any]:
        return {"emit": {"event": {"with": {"source": "/t", "type": type, "data": {"n": n}}}}}

    workflow = from_mapping(
        {
            "document": {"dsl": "1.0.0", "namespace": "t", "name": "own", "version": "1.0.0"},
            "do": [
                {
                    "both": {
                        "fork": {
                            "branches": [
                                {
                                    "hear": {
                                        "listen": {
                                            "to": {
                                                "all": [
                                                    {"with": {"type": "a"}},
                                                    {"with": {"type": "b"}},
                                                ]
                                            }
                                        }
                                    }
                                },
                                {
                                    "say": {
                                        "do": [
                                            {"pause": {"wait": {"milliseconds": 20}}},
                                            {"a": emit("a", 1)},
                                            {"b": emit("b", 2)},
                                        ]
                                    }
                                },
                            ]
                        }
                    }
                }
            ],
        }
    )
    result = await execute(workflow, input={}, options=RunOptions())
    assert result.status == "completed", result.error
    assert result.output[0] == [{"n": 1}, {"n": 2}]
