"""schemathesis against ``/openapi.json`` of a real server: no 5xx, answers that fit the schema.

The server runs in a thread with its own event loop (schemathesis drives it synchronously), on a
fresh SQLite store with a few workflows deployed so that ids in generated paths sometimes exist.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from emitflow.api import ApiSettings, create_app
from emitflow.runtime.engine import Engine

#: Fuzzing and schemathesis take their time: left out of ``make test-fast``.
pytestmark = pytest.mark.slow

TOKEN = "schemathesis-admin-token-0123456789"


class _ServerThread(threading.Thread):
    def __init__(self, home: Path) -> None:
        super().__init__(daemon=True)
        self._home = home
        self.ready = threading.Event()
        self.url = ""
        self.failure: BaseException | None = None
        self._server: uvicorn.Server | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported by the fixture, not lost in the thread
            self.failure = exc
            self.ready.set()

    async def _serve(self) -> None:
        async with Engine.open(f"sqlite:///{self._home}/emitflow.db") as engine:
            doc = {
                "document": {"dsl": "1.0.0", "namespace": "t", "name": "a", "version": "1.0.0"},
                "do": [{"k": {"set": {"ok": True}}}],
            }
            await engine.deploy(doc, id="p_a")
            app = create_app(engine, ApiSettings(admin_token=TOKEN, heartbeat_seconds=0.1))
            config = uvicorn.Config(
                app, host="127.0.0.1", port=0, lifespan="off", log_level="error"
            )
            self._server = server = uvicorn.Server(config)
            task = asyncio.ensure_future(server.serve())
            async with asyncio.timeout(30):
                while not server.started:  # noqa: ASYNC110 - uvicorn has no started event
                    await asyncio.sleep(0.001)
            self.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
            self.ready.set()
            await task

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self.join(timeout=30)


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    thread = _ServerThread(tmp_path_factory.mktemp("schemathesis"))
    thread.start()
    assert thread.ready.wait(60), "the server did not start"
    if thread.failure is not None:
        raise thread.failure
    try:
        yield thread.url
    finally:
        thread.stop()


@pytest.fixture(scope="module")
def api_schema(api_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{api_url}/openapi.json")


def test_the_api_answers_within_its_schema(api_schema: schemathesis.BaseSchema) -> None:
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        if operation.path == "/v1/events/stream":
            continue  # an endless answer; tests/integration/api/test_stream.py covers it

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {TOKEN}"},
                # A schema cannot say which documents and events are valid (the DSL's and the
                # CloudEvents' rules), so a schema-valid body may rightly get a 4xx.
                excluded_checks=[positive_data_acceptance],
            )

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_the_schemathesis_run_passes_its_conformance_checks(api_url: str, tmp_path: Path) -> None:
    """``st run`` as a user runs it: every check but positive data acceptance (a schema cannot
    say which documents and events are valid), in the coverage phase too, where unsupported
    methods (405 with ``Allow``), missing and wrong parameters and content types are probed."""
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "run", f"{api_url}/openapi.json"),
        *("-H", f"Authorization: Bearer {TOKEN}"),
        *("--exclude-path", "/v1/events/stream"),
        *("--phases", "examples,coverage", "--workers", "1"),
        *("--checks", "all", "--exclude-checks", "positive_data_acceptance"),
        *("--seed", "20261202", "--no-color"),
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=540)
    summary = done.stdout[-6000:]
    assert done.returncode == 0, summary + done.stderr[-2000:]
    assert "0 failures" in summary or "failures" not in summary.split("SUMMARY")[-1], summary
