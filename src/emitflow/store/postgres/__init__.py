"""The PostgreSQL backend: several emitflow processes over one database.

``store.py`` is the ``PostgresStore`` facade; its methods live by concern in ``runs``,
``events``, ``webhooks``, ``tokens`` and ``secrets``; ``database`` owns the pool, transactions
and migrations, ``changes`` the LISTEN connection. Records become rows and back through the
codecs SQLite uses too (``store/rows.py``). The SQL is in ``store/sql/postgres/`` (numbered
migrations and the named queries of ``queries.sql``).
"""

from emitflow.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
