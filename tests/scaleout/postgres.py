"""``PrivatePostgres``: a PostgreSQL server of the tests' own, which they may restart or stop.

The shared server on 5432 is never restarted: a fault test starts its own (``initdb`` and
``pg_ctl`` run as the ``postgres`` user) in a temporary folder, on a free loopback port, with
trust authentication and its unix socket in that folder, and removes it all at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PrivatePostgres", "postgres_binaries"]

#: What a fault test needs over the defaults: room for every process's pool.
TEST_SETTINGS = {"max_connections": "200"}


def postgres_binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb`` and ``pg_ctl``."""
    found = [
        Path(folder)
        for folder in glob.glob("/usr/lib/postgresql/*/bin")
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file()
    ]
    found.sort(key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0)
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PrivatePostgres:
    """One PostgreSQL server in a temporary folder: ``start``, ``restart``, ``stop``."""

    def __init__(self, binaries: Path, settings: dict[str, str] | None = None) -> None:
        self._bin = binaries
        self._settings = {**TEST_SETTINGS, **(settings or {})}
        self.root = Path(tempfile.mkdtemp(prefix="emitflow-pg-"))
        self.root.chmod(0o755)  # the postgres user walks into it
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = _free_port()

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        # Output to a file, not a pipe: the server pg_ctl starts inherits it and never ends.
        output = self.root / "pg_ctl.out"
        with output.open("ab") as out:
            done = subprocess.run(
                [*prefix, *command], stdout=out, stderr=out, timeout=120, check=False
            )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}):\n"
                f"{output.read_text(errors='replace')[-2000:]}\n{self.tail()}"
            )

    def _pg_ctl(self, *args: str) -> None:
        self._as_postgres(str(self._bin / "pg_ctl"), "-D", str(self.data), "-w", *args)

    def start(self) -> None:
        """``initdb`` (the first time) and start the server; returns once it accepts."""
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        if not self.data.exists():
            self._as_postgres(
                str(self._bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                "--no-sync", "-E", "UTF8",
            )  # fmt: skip
        options = [f"-p {self.port}", f"-k {self.root}", "-c listen_addresses=127.0.0.1"]
        options += [f"-c {name}={value}" for name, value in self._settings.items()]
        self._pg_ctl("-l", str(self.log), "-o", " ".join(options), "start")

    def restart(self) -> None:
        """Stop (fast: sessions are ended, transactions rolled back) and start again."""
        self._pg_ctl("-l", str(self.log), "-m", "fast", "restart")

    def stop(self) -> None:
        """Stop the server (fast)."""
        self._pg_ctl("-m", "fast", "stop")

    def remove(self) -> None:
        """Stop the server if it runs, and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):  # its log is gone with the folder anyway
                self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A store URL for ``database`` on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its store URL."""
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def execute(self, sql: str, database: str = "postgres") -> None:
        """Run one statement."""
        self.fetch(sql, database)

    def fetch(self, sql: str, database: str = "postgres") -> list[tuple[object, ...]]:
        """The rows of one query, as tuples."""
        import asyncpg

        async def run() -> list[tuple[object, ...]]:
            conn = await asyncpg.connect(self.url(database))
            try:
                return [tuple(row) for row in await conn.fetch(sql)]
            finally:
                await conn.close()

        return asyncio.run(run())

    def tail(self, lines: int = 30) -> str:
        """The end of the server's log, for a failure message."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no postgres log)"
        return "postgres log:\n" + "\n".join(text.splitlines()[-lines:])
