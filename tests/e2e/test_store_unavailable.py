"""A full disk or a read-only database under a running ``emitflow serve``: 503, not 500.

Both are real, not simulated: the disk is a 2 MiB tmpfs this test mounts (and unmounts) on
a folder of its own, filled with a file until it has no space left; the read-only database is
an existing store whose file is mode 0444, served by a server running as ``nobody`` (root
writes through any mode). Each needs root (mounting, switching user): without it they skip
with the reason, and under ``EMITFLOW_REQUIRE_SERVICES=1`` they fail instead.

A write then answers 503 with ``Retry-After`` and a message naming the store's path and the
cause; reads still answer; the server stays up (no SIGBUS: the database is not memory-mapped),
and once the disk has room again, writes succeed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from emitflow.api.credentials import make_token
from emitflow.runtime.engine import Engine
from tests.conftest import services_required

TOKEN = "store-unavailable-admin-token-0123456789"
_EVENT_HEADERS = {"content-type": "application/cloudevents+json"}


def _need_root(what: str) -> None:
    if os.geteuid() == 0 and shutil.which("mount") and shutil.which("setpriv"):
        return
    reason = f"{what} needs root with mount and setpriv"
    if services_required():
        pytest.fail(reason + "; EMITFLOW_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(reason)


@dataclass
class _Serving:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _serve(home: Path, store: Path, prefix: list[str], log: Path) -> _Serving:
    # Output goes to a file (not on the full disk): a server logging failures must never block
    # on a full pipe.
    env = {**os.environ, "EMITFLOW_HOME": str(home), "EMITFLOW_TOKEN": TOKEN}
    command = [*prefix, sys.executable, "-m", "emitflow", "serve", "--port", "0"]
    command += ["--store", f"sqlite:///{store}"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"serving on (http://\S+)", log.read_text(errors="replace"))
        if found:
            return _Serving(found.group(1), process, log)
        if process.poll() is not None:
            break
        time.sleep(0.05)  # polling the server's output for its URL, with a deadline
    process.kill()
    pytest.fail("emitflow serve did not start:\n" + log.read_text(errors="replace"))


def _stop(serving: _Serving) -> None:
    if serving.process.poll() is None:
        serving.process.send_signal(signal.SIGTERM)
        try:
            serving.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serving.process.kill()
            serving.process.wait(timeout=30)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted on a folder of this test, unmounted afterwards."""
    _need_root("mounting a small tmpfs")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        reason = f"cannot mount a tmpfs: {mounted.stderr.strip()}"
        if services_required():
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)
        if os.path.ismount(mount_point):
            subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(chunk)
            out.flush()
    return filler


def _event(index: int) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": f"e-{index}",
        "source": "/full",
        "type": "t",
        "data": {"blob": "x" * 60_000},
    }


def test_a_full_disk_is_a_503_and_the_server_recovers(small_disk: Path) -> None:
    home = small_disk / "home"
    store = home / "emitflow.db"
    serving = _serve(home, store, [], small_disk.parent / "serve.log")
    try:
        with httpx.Client(
            base_url=serving.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        ) as http:
            assert (
                http.post("/v1/events", json=_event(0), headers=_EVENT_HEADERS).status_code == 202
            )
            filler = _fill(small_disk)
            refused = None
            # The WAL reuses space it already has: write until a page needs a new block.
            for index in range(1, 60):
                answer = http.post("/v1/events", json=_event(index), headers=_EVENT_HEADERS)
                assert answer.status_code in (202, 503), answer.text
                if answer.status_code == 503:
                    refused = answer
                    break
            assert refused is not None, "the full disk never refused a write"
            assert refused.headers["retry-after"].isdigit()
            error = refused.json()["error"]
            assert error["code"] == "store_unavailable"
            assert str(store) in error["message"] and "full" in error["message"]
            assert http.get("/v1/events", params={"limit": 1}).status_code == 200
            assert serving.process.poll() is None, "the server died on a full disk"
            filler.unlink()
            again = http.post("/v1/events", json=_event(100), headers=_EVENT_HEADERS)
            assert again.status_code == 202, again.text
    finally:
        _stop(serving)
    assert serving.process.returncode == 0, serving.log.read_text(errors="replace")


async def _prepared_store(store: Path) -> None:
    async with Engine.open(f"sqlite:///{store}") as engine:
        # With a token in the store, serve makes none at start: it starts without writing.
        await make_token(
            engine.store, name="first", scopes=["admin"], now=engine.settings.clock.now()
        )


def test_a_read_only_database_is_a_503(tmp_path: Path) -> None:
    _need_root("serving as another user")
    # tmp_path is private to root: the server's user needs a folder it can reach.
    home = Path(tempfile.mkdtemp(prefix="emitflow-ro-", dir="/tmp"))
    try:
        store = home / "emitflow.db"
        asyncio.run(_prepared_store(store))
        shutil.chown(home, "nobody")
        home.chmod(0o755)
        shutil.chown(store, "nobody")
        store.chmod(0o444)
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        serving = _serve(home, store, as_nobody, tmp_path / "serve.log")
        try:
            with httpx.Client(
                base_url=serving.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
            ) as http:
                answer = http.post("/v1/events", json=_event(1), headers=_EVENT_HEADERS)
                assert answer.status_code == 503, answer.text
                assert answer.headers["retry-after"].isdigit()
                message = answer.json()["error"]["message"]
                assert str(store) in message and "read-only" in message
                assert http.get("/v1/events").status_code == 200
                assert serving.process.poll() is None
        finally:
            _stop(serving)
    finally:
        shutil.rmtree(home, ignore_errors=True)
