"""``Bare``: the runs this process created that have no task, task batch or wait row yet.

A fresh run's end writes its task list as batches, which replaces whatever records the run
had, and its terminal status drops its waits: three DELETEs that find nothing for a run that
never stored a task or a wait, a quarter of a short run's statements (on PostgreSQL, three of
its round trips). The SQLite and PostgreSQL stores skip them for the runs named here.
"""

from __future__ import annotations

__all__ = ["Bare"]


class Bare:
    """The runs this process created that have no task, task batch or wait row yet.

    Only ever an under-statement: a run goes in when its row is inserted, and out before
    anything is written to those tables for it (so a rolled-back or retried write leaves it
    out, and the DELETEs run), and when it ends. A run this process did not create (one resumed
    after a restart) is never in it. On SQLite the writes that use it are run by one writer at
    a time (the writer thread, or inline under its lock). On PostgreSQL only a run created
    leased to this process goes in, and it goes out when this process claims it (another one
    may have held it and written rows meanwhile); a process that lost the lease of a run it
    created cannot commit for it again without such a claim (the lease fence).
    """

    __slots__ = ("runs",)

    def __init__(self) -> None:
        self.runs: set[str] = set()

    def take(self, run_id: str) -> bool:
        """Whether the run had no rows in those tables; it is no longer counted as bare."""
        try:
            self.runs.remove(run_id)
        except KeyError:
            return False
        return True
