"""What the store contract suites share: the backends' names, a settable clock, counting ids."""

from __future__ import annotations

from datetime import UTC, datetime

from emitflow.clock import VirtualClock

__all__ = ["BACKENDS", "START", "CountingIds", "ManualClock"]

START = datetime(2026, 1, 1, tzinfo=UTC)
BACKENDS = ["memory", "sqlite"]


class ManualClock(VirtualClock):
    """A virtual clock that can also be set back, as a wall clock sometimes is."""

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``, backwards or forwards."""
        self.advance((moment - self.now()).total_seconds())


class CountingIds:
    """Ids ``<prefix>_0001``, ``<prefix>_0002``… in call order."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}_{self.count:04d}"
