"""What a sqlite3 error means for the caller: a fault to fix, or the store unavailable for now.

SQLite's result codes tell them apart. A full disk, a read-only file or filesystem, an I/O
error or a lock another process holds past ``busy_timeout`` are conditions of the machine,
not of the request: they become ``StoreUnavailableError`` naming the store's path and the
cause (the API answers 503 with ``Retry-After``), and the operation can be tried again once
they pass. Everything else stays a plain ``StoreError``.
"""

from __future__ import annotations

import os
import sqlite3

from emitflow.errors import StoreError, StoreUnavailableError

__all__ = ["store_error"]

# Primary result codes (the low byte of an extended code) and what they mean to an operator.
_CAUSES = {
    5: "another process holds the database's lock (SQLITE_BUSY)",
    6: "the database is locked (SQLITE_LOCKED)",
    8: "the database file or its folder is read-only (SQLITE_READONLY)",
    10: "an I/O error reading or writing the database (SQLITE_IOERR)",
    13: "the disk holding the database is full (SQLITE_FULL)",
    14: "the database file cannot be opened (SQLITE_CANTOPEN)",
    15: "the database's lock protocol failed (SQLITE_PROTOCOL)",
}
_ADVICE = {
    5: "retry shortly",
    6: "retry shortly",
    8: "make the file, its -wal and -shm files and their folder writable",
    10: "check the disk and the filesystem",
    13: "free space on that disk",
    14: "check the path and its permissions",
    15: "retry shortly",
}


def _read_only_filesystem(path: str) -> bool:
    try:
        return bool(os.statvfs(os.path.dirname(os.path.abspath(path))).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def store_error(exc: sqlite3.Error, path: str) -> StoreError:
    """The emitflow error for a sqlite3 error on the store at ``path``."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _CAUSES:
        cause = _CAUSES[primary]
        if primary in (8, 10, 14) and _read_only_filesystem(path):
            cause = "the filesystem holding the database is mounted read-only"
        return StoreUnavailableError(
            f"the store at {path!r} cannot serve now: {cause}: {exc}; {_ADVICE[primary]}, "
            "then try again",
            path=path,
            cause=cause,
        )
    return StoreError(f"sqlite store {path!r}: {exc}")
