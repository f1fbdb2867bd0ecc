"""The loop guard's second half: a budget of runs per causal chain.

The hop limit stops a chain that goes deep; it does not stop one that goes wide: a workflow
subscribed to itself that emits 4 events per run starts 4, 16, 64, … runs per hop, about 4^16
before the hop limit. So the router also counts the runs each chain (see ``reports.py``) has
started, and past ``EngineSettings.max_chain_runs`` it stores the chain's events without
delivering them to workflows, reporting each on ``$errors`` like the hop limit.

The counts live in the engine process: a restart starts them afresh, and only the most recent
``remembered`` chains are kept (the oldest is forgotten first).
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["ChainBudget"]

_REMEMBERED = 100_000


class ChainBudget:
    """How many runs each causal chain started, against a limit per chain."""

    def __init__(self, limit: int, *, remembered: int = _REMEMBERED) -> None:
        self.limit = limit
        self._remembered = remembered
        self._started: OrderedDict[str, int] = OrderedDict()

    def started(self, chain: str) -> int:
        """Runs the chain started so far (as far as this process knows)."""
        return self._started.get(chain, 0)

    def take(self, chain: str, wanted: int) -> int:
        """Count up to ``wanted`` more runs for ``chain``; how many the budget allows."""
        count = self._started.get(chain, 0)
        granted = max(0, min(wanted, self.limit - count))
        self._started[chain] = count + granted
        self._started.move_to_end(chain)
        while len(self._started) > self._remembered:
            self._started.popitem(last=False)
        return granted
