"""The SQLite backend (the default store): one file in WAL mode with a single writer.

``store.py`` is the ``SqliteStore`` facade; its methods live by concern in ``runs``, ``events``,
``webhooks``, ``tokens`` and ``secrets``; ``database`` owns the connections and migrations,
``connection`` the writer and reader threads (group commit).
"""

from emitflow.store.sqlite.store import SqliteStore, path_from_url

__all__ = ["SqliteStore", "path_from_url"]
