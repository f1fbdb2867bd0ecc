"""Several processes on one PostgreSQL database as a user starts them: ``emitflow migrate``,
then ``emitflow worker`` and ``emitflow serve --no-worker``; a newer schema is refused in one
line. Each test works in a fresh schema; without PostgreSQL they skip (and fail under
``EMITFLOW_REQUIRE_SERVICES=1``)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.contract.stores import postgres_schema
from tests.e2e.conftest import start_server

HELLO = """document: {dsl: '1.0.0', namespace: t, name: hello, version: '1.0.0'}
do:
  - greet:
      set:
        hello: ${ .name }
"""


@dataclass
class Database:
    """A fresh schema: its store URL, and a way to run SQL in it."""

    url: str
    name: str
    loop: asyncio.AbstractEventLoop

    def execute(self, sql: str) -> None:
        import asyncpg

        async def run() -> None:
            conn = await asyncpg.connect(self.url.split("?")[0])
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        self.loop.run_until_complete(run())


@pytest.fixture
def database() -> Iterator[Database]:
    loop = asyncio.new_event_loop()
    made = postgres_schema()
    try:
        schema = loop.run_until_complete(made.__aenter__())
        try:
            yield Database(url=schema.url, name=schema.name, loop=loop)
        finally:
            loop.run_until_complete(made.__aexit__(None, None, None))
    finally:
        loop.close()


def _emitflow(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EMITFLOW_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "emitflow", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=home,
    )


def test_migrate_then_a_worker_runs_what_an_api_only_server_starts(
    database: Database, tmp_path: Path
) -> None:
    first = _emitflow("migrate", "--store", database.url, home=tmp_path)
    assert (first.returncode, first.stdout) == (0, "applied 0001_init\n"), first.stderr
    again = _emitflow("migrate", "--store", database.url, home=tmp_path)
    assert (again.returncode, again.stdout) == (0, "up to date\n"), again.stderr

    env = {**os.environ, "EMITFLOW_HOME": str(tmp_path)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "emitflow", "worker", "--store", database.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert worker.stdout is not None
    try:
        line = worker.stdout.readline()
        assert re.match(r"emitflow worker \S+:\d+:[0-9a-f]+ working on postgresql://", line), line
        server = start_server(tmp_path, args=["--store", database.url, "--no-worker"])
        try:
            assert any("API only" in line for line in server.lines)
            with httpx.Client(
                base_url=server.url,
                headers={"Authorization": f"Bearer {server.token}"},
                timeout=60,
            ) as http:
                deployed = http.post(
                    "/v1/workflows?id=p_hello",
                    content=HELLO,
                    headers={"Content-Type": "application/yaml"},
                )
                assert deployed.status_code == 201, deployed.text
                answer = http.post(
                    "/v1/workflows/p_hello/runs?wait=true", json={"input": {"name": "Yoda"}}
                )
                assert answer.status_code == 200, answer.text
                assert (answer.json()["status"], answer.json()["output"]) == (
                    "completed",
                    {"hello": "Yoda"},
                )
        finally:
            assert server.stop() == 0
    finally:
        worker.terminate()
        rest = worker.communicate(timeout=60)[0]
    assert worker.returncode == 0, rest
    assert "completed" in rest  # the worker ran it: its run-end log line


def test_a_newer_schema_is_refused_in_one_line(database: Database, tmp_path: Path) -> None:
    assert _emitflow("migrate", "--store", database.url, home=tmp_path).returncode == 0
    database.execute(
        f"INSERT INTO {database.name}.schema_migrations VALUES (999, 'from_the_future', 0)"
    )
    for command in (["migrate"], ["worker"], ["serve", "--port", "0"]):
        done = _emitflow(*command, "--store", database.url, home=tmp_path)
        assert done.returncode != 0, command
        assert "Traceback" not in done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert "newer than this emitflow knows" in line, line
