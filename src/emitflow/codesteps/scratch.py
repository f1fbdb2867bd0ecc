"""The worker's directory: a fresh directory per step, and wiping what a step left there.

Under bubblewrap the worker's directory is the sandbox's private ``/tmp``, and host paths that
live below ``/tmp`` (a virtualenv, or emitflow's sources in a clone under ``/tmp``) are bound
read-only inside it. Wiping the whole directory after every step would walk those trees each
time (10,000 files: a trivial step took 100–600 ms instead of 5). So ``Scratch`` notes what
was there when the worker started and, after each step, removes only what was not: the step's
own directory and whatever the step wrote beside it. It never enters a mount point (another
device), and looks inside a directory that was already there only when that directory changed
since (a step can write into the directories bubblewrap made as parents of its binds when the
sandbox's user owns them).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
import tempfile

__all__ = ["Scratch"]

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Names a directory found inside another is moved to, at the top, to be emptied there: that
# keeps the removal flat (no open directory per level, no path length limit) however deep a
# step nested its directories.
_PENDING = ".emitflow-wipe-"

#: A directory's identity, last change and mode: (inode, mtime ns, ctime ns, mode).
_Stamp = tuple[int, int, int, int]


def _stamp(status: os.stat_result) -> _Stamp:
    return (status.st_ino, status.st_mtime_ns, status.st_ctime_ns, stat.S_IMODE(status.st_mode))


class Scratch:
    """A worker's directory (``root``): step directories in it, wiped after each step."""

    def __init__(self, root: str) -> None:
        self.root = root
        status = os.lstat(root)
        self._device = status.st_dev
        self._mode = stat.S_IMODE(status.st_mode)
        #: What was below ``root`` at the start, relative to it: a directory of ``root``'s
        #: device maps to its stamp; anything else (a file, a link, a mount point) to None.
        self._known: dict[str, _Stamp | None] = {}
        self._record("")
        self._pending = itertools.count()

    def _record(self, relative: str) -> None:
        for entry in os.scandir(os.path.join(self.root, relative)):
            path = os.path.join(relative, entry.name)
            status = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(status.st_mode) and status.st_dev == self._device:
                self._known[path] = _stamp(status)
                self._record(path)
            else:
                self._known[path] = None

    def step_directory(self) -> str:
        """A new, empty directory for one step (only its owner can enter it)."""
        return tempfile.mkdtemp(prefix="step-", dir=self.root)

    def wipe(self) -> None:
        """Remove everything below ``root`` that was not there at the start."""
        if stat.S_IMODE(os.lstat(self.root).st_mode) != self._mode:
            os.chmod(self.root, self._mode)  # a step may have changed its rights
        root = os.open(self.root, _DIRECTORY_FLAGS)
        try:
            pending = self._sweep(root, "")
            for relative, stamp in self._known.items():
                if stamp is not None:
                    pending += self._changed(root, relative, stamp)
            self._empty(root, pending)
        finally:
            os.close(root)

    def _changed(self, root: int, relative: str, stamp: _Stamp) -> list[str]:
        """Sweep a directory that was there at the start if it changed since."""
        path = os.path.join(self.root, relative)
        try:
            status = os.lstat(path)
        except OSError:
            return []  # gone, or made unreachable: nothing of it to wipe from here
        if _stamp(status) == stamp or not stat.S_ISDIR(status.st_mode):
            return []
        with contextlib.suppress(OSError):
            os.chmod(path, stamp[3])  # a step may have changed its rights
        moved = self._sweep(root, relative)
        with contextlib.suppress(OSError):
            self._known[relative] = _stamp(os.lstat(path))
        return moved

    def _sweep(self, root: int, relative: str) -> list[str]:
        """Remove what is new in the directory ``relative`` (files at once, directories moved
        to the top); the top-level names of the directories left to ``_empty``."""
        try:
            folder = os.open(relative or ".", _DIRECTORY_FLAGS, dir_fd=root)
        except OSError:
            return []
        try:
            return [
                moved
                for name in _names(folder)
                if os.path.join(relative, name) not in self._known
                for moved in self._remove(root, folder, name, top=not relative)
            ]
        finally:
            os.close(folder)

    def _remove(self, root: int, folder: int, name: str, *, top: bool) -> list[str]:
        """Remove ``name`` of ``folder``: a file at once; a directory is moved to the top (unless
        it is there already) and its top-level name returned; a mount point is left alone."""
        try:
            status = os.lstat(name, dir_fd=folder)
        except OSError:
            return []
        if status.st_dev != self._device:
            return []
        if not stat.S_ISDIR(status.st_mode):
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=folder)
            return []
        if top:
            return [name]
        while True:
            target = f"{_PENDING}{next(self._pending)}"
            if target not in self._known and not _exists(root, target):
                break
        try:
            os.rename(name, target, src_dir_fd=folder, dst_dir_fd=root)
        except OSError:
            return []
        return [target]

    def _empty(self, root: int, pending: list[str]) -> None:
        """Empty and remove each top-level directory of ``pending`` (and those found in it)."""
        while pending:
            name = pending.pop()
            try:
                folder = os.open(name, _DIRECTORY_FLAGS, dir_fd=root)
            except PermissionError:
                # A step may have taken its own rights away; the worker is its owner.
                with contextlib.suppress(OSError):
                    os.chmod(name, 0o700, dir_fd=root)
                try:
                    folder = os.open(name, _DIRECTORY_FLAGS, dir_fd=root)
                except OSError:
                    continue
            except OSError:
                continue
            try:
                with contextlib.suppress(OSError):
                    os.fchmod(folder, 0o700)
                for entry in _names(folder):
                    pending += self._remove(root, folder, entry, top=False)
            finally:
                os.close(folder)
            with contextlib.suppress(OSError):
                os.rmdir(name, dir_fd=root)


def _names(folder: int) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [entry.name for entry in entries]
    except OSError:
        return []


def _exists(folder: int, name: str) -> bool:
    try:
        os.lstat(name, dir_fd=folder)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return True
