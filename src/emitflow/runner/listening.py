"""The consumption strategies of ``listen`` (DSL §9), as a state machine over offered events.

``Consumption.offer(event)`` takes one event (structured JSON) and says whether it was
consumed; ``done`` says whether the strategy is satisfied. ``one`` consumes the first event
matching its filter; ``any`` consumes every event matching one of its filters (``any: []``:
every event) and is done after the first unless ``until`` says otherwise — an expression,
evaluated on the array of consumed events after each one (``${ false }``: listen forever), or a
nested strategy whose own events end the listen without being consumed; ``all`` consumes one
event per filter, in arrival order. Correlation keys resolved by one event (``correlate`` without
``expect``) bind the events that follow. ``state()``/``restore()`` carry the progress across a
restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emitflow.dsl.model import ConsumptionStrategy
from emitflow.events.matching import correlation_keys, event_matches
from emitflow.events.reading import read_event
from emitflow.expressions import compile_expression

__all__ = ["Consumption"]


def _same(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    return one.get("id") == other.get("id") and one.get("source") == other.get("source")


class Consumption:
    """Progress of one strategy: the events consumed and the correlation keys resolved."""

    def __init__(
        self,
        strategy: ConsumptionStrategy,
        variables: Mapping[str, Any],
        read: str = "data",
        data: Any = None,
    ) -> None:
        self._strategy = strategy
        self._variables = variables
        self._read = read
        self._data = data  # the listening task's input: '.' of correlate.expect
        self.events: list[dict[str, Any]] = []
        self.keys: dict[str, Any] = {}
        self._matched: dict[int, int] = {}  # filter index -> position in events (for ``all``)
        self._ended = False
        until = strategy.until
        self._until = (
            Consumption(until, variables, read, data)
            if isinstance(until, ConsumptionStrategy)
            else None
        )

    @property
    def done(self) -> bool:
        """Whether the strategy is satisfied."""
        if self._ended:
            return True
        mode = self._strategy.mode
        if mode == "all":
            return len(self._matched) == len(self._strategy.filters)
        if mode == "one" or self._strategy.until is None:
            return bool(self.events)
        return False

    def offer(self, event: Mapping[str, Any]) -> bool:
        """Consume ``event`` if it matches what is still wanted; whether it did."""
        if self.done:
            return False
        if self._until is not None and self.events:
            self._until.offer(event)
            if self._until.done:
                self._ended = True
                return False
        if any(_same(event, seen) for seen in self.events):
            return False  # delivered again: consumed already
        index = self._wanted(event)
        if index is None:
            return False
        self.events.append(dict(event))
        if self._strategy.mode == "all":
            self._matched[index] = len(self.events) - 1
        until = self._strategy.until
        if isinstance(until, str) and self._truthy(until):
            self._ended = True
        return True

    def state(self) -> dict[str, Any]:
        """The progress, as JSON."""
        return {
            "events": self.events,
            "keys": self.keys,
            "matched": {str(k): v for k, v in self._matched.items()},
            "ended": self._ended,
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Take back the progress saved by ``state()``."""
        self.events = [dict(e) for e in state.get("events", [])]
        self.keys = dict(state.get("keys", {}))
        self._matched = {int(k): int(v) for k, v in dict(state.get("matched", {})).items()}
        self._ended = bool(state.get("ended", False))

    def _wanted(self, event: Mapping[str, Any]) -> int | None:
        filters = self._strategy.filters
        if self._strategy.mode == "any" and not filters:
            return 0
        for index, flt in enumerate(filters):
            if self._strategy.mode == "all" and index in self._matched:
                continue
            if not event_matches(flt, event, self._variables):
                continue
            keys = correlation_keys(flt, event, self.keys, self._variables, self._data)
            if keys is None:
                continue
            self.keys.update(keys)
            return index
        return None

    def _truthy(self, expression: str) -> bool:
        consumed = [read_event(e, self._read) for e in self.events]
        value = compile_expression(expression).evaluate(consumed, self._variables)
        return value is not False and value is not None
