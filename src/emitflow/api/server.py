"""``serve``: the API, the dispatcher, the schedules and the code-step pool in one process.

At start it opens the engine on the store, deploys every document of ``--workflows DIR``
(``.yaml``, ``.yml``, ``.json``, ``.py``; each file keeps the id ``p_<file stem>`` so a restart
adds a version instead of a new workflow), makes an admin token if the store has none (printed
once), and prints the URL. SIGTERM or SIGINT stops taking requests, lets requests in flight
finish (event streams are cut after ``STREAM_GRACE`` seconds), then closes the engine, which
lets runs in flight end and commits before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import uvicorn

from emitflow.api.app import create_app
from emitflow.api.credentials import make_token
from emitflow.api.settings import ApiSettings
from emitflow.errors import ConfigurationError
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings

__all__ = ["DOCUMENT_SUFFIXES", "STREAM_GRACE", "ServeOptions", "serve", "workflow_id_for"]

DOCUMENT_SUFFIXES = (".yaml", ".yml", ".json", ".py")
STREAM_GRACE = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeOptions:
    """Where to listen, which store, which workflows to deploy at start."""

    host: str = "127.0.0.1"
    port: int = 8080
    store: str | None = None
    workflows: Path | None = None
    api: ApiSettings = field(default_factory=ApiSettings)


def workflow_id_for(path: Path) -> str:
    """The id a file of ``--workflows`` is deployed under: ``p_`` and its stem."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", path.stem).strip("_") or "workflow"
    return f"p_{stem[:64]}"


def _documents(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ConfigurationError(f"--workflows {folder}: not a folder")
    return [
        path
        for path in sorted(folder.iterdir())
        if path.suffix.lower() in DOCUMENT_SUFFIXES and path.is_file()
    ]


async def _deploy_folder(engine: Engine, folder: Path, out: TextIO) -> None:
    for path in await asyncio.to_thread(_documents, folder):
        version = await engine.deploy(path, id=workflow_id_for(path))
        print(f"deployed {path.name} as {version.id} (revision {version.revision})", file=out)


async def _first_admin_token(engine: Engine, out: TextIO) -> None:
    if await engine.list_tokens():
        return
    _, secret = await make_token(
        engine, name="admin", scopes=["admin"], now=engine.settings.clock.now()
    )
    print(f"admin token (shown once, keep it): {secret}", file=out)


async def serve(options: ServeOptions, *, out: TextIO = sys.stdout) -> None:
    """Run the server until SIGTERM/SIGINT."""
    async with Engine.open(options.store, settings=EngineSettings()) as engine:
        if options.workflows is not None:
            await _deploy_folder(engine, options.workflows, out)
        await _first_admin_token(engine, out)
        app = create_app(engine, options.api)
        config = uvicorn.Config(
            app,
            host=options.host,
            port=options.port,
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=STREAM_GRACE,
        )
        server = _Server(config)
        task = asyncio.ensure_future(server.serve())
        ready = asyncio.ensure_future(server.ready.wait())
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if server.started:
            port = server.servers[0].sockets[0].getsockname()[1]
            print(f"emitflow serving on http://{options.host}:{port}", file=out, flush=True)
        await task


class _Server(uvicorn.Server):
    """A uvicorn server that says when it listens (so ``--port 0`` can print its port)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn's own handling raises the signal again once it has stopped, which would end
        # the process before the engine commits: stop serving, then return normally.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()
