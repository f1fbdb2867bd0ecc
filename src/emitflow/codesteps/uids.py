"""Unprivileged uids for workers, each held by one worker slot of one live pool.

When the engine runs as root, every worker drops to a uid of its own. RLIMIT_NPROC counts
processes per uid, and a worker outside bubblewrap ends its step's stray processes with
``kill(-1)``, which reaches every process of its uid: so two workers must never share one,
not even across pools or engine processes on the same machine. A uid is leased by holding an
``flock`` on a file named after it; the kernel releases the lock when its holder exits, so a
crashed engine leaks nothing.
"""

from __future__ import annotations

import fcntl
import os
import stat
import tempfile

from emitflow.errors import SandboxError

__all__ = ["UidLease"]

_SPAN = 1 << 16


def _lock_directory() -> str:
    """A directory only we can write to, for the lock files."""
    candidates = ["/run/emitflow-uids", os.path.join(tempfile.gettempdir(), "emitflow-uids")]
    for path in candidates:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError:
            continue
        info = os.lstat(path)
        # Anyone else able to write here could make us share (or give away) a uid.
        mine = stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
        if mine and not info.st_mode & 0o022:
            return path
    raise SandboxError(
        f"no private directory to lease worker uids in (tried {', '.join(candidates)}); "
        "remove a stale one or set PoolSettings.uid_base=None"
    )


class UidLease:
    """One uid at or above ``base`` that no other live worker holds, until ``release``."""

    def __init__(self, base: int) -> None:
        directory = _lock_directory()
        for uid in range(base, base + _SPAN):
            path = os.path.join(directory, str(uid))
            fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uid = uid
            self._fd: int | None = fd
            return
        raise SandboxError(f"all {_SPAN} worker uids from {base} are in use")

    def release(self) -> None:
        """Give the uid back (its worker must be gone)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
