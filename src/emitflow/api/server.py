"""``serve``: the API, the dispatcher, the schedules and the code-step pool in one process.

At start it opens the engine on the store, deploys every document of ``--workflows DIR``
(``.yaml``, ``.yml``, ``.json``, ``.py``; each file keeps the id ``p_<file stem>`` so a restart
adds a version instead of a new workflow), makes an admin token if the store has none (printed
once), and prints the URL. The port is bound before anything else: a port in use is one
error naming it, and nothing has been written by then. SIGTERM or SIGINT stops taking
requests, lets requests in flight finish (event streams are cut after ``STREAM_GRACE``
seconds), then closes the engine, which lets runs in flight end and commits before the
process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import re
import signal
import socket
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import uvicorn

from emitflow.api.access import AccessLog
from emitflow.api.app import create_app
from emitflow.api.credentials import make_token
from emitflow.api.settings import ApiSettings
from emitflow.errors import ConfigurationError
from emitflow.http.routes import Routes, make_client
from emitflow.runtime.broker_setup import BrokerSetup, attach
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings
from emitflow.runtime.webhooks import masked_url
from emitflow.secrets import weak_secrets_warning

__all__ = [
    "DOCUMENT_SUFFIXES",
    "STREAM_GRACE",
    "ServeOptions",
    "bind",
    "serve",
    "uvicorn_config",
    "workflow_id_for",
]

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
    #: ``$secrets`` for every served workflow (``--secret``, ``--secrets-file``), never stored.
    secrets: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: ``ORIGIN=TARGET`` routes for every outgoing request (``--route``, ``EMITFLOW_ROUTES``).
    routes: tuple[str, ...] = ()
    brokers: BrokerSetup = field(default_factory=BrokerSetup)
    #: ``False`` (``--no-worker``): API only, on a shared store; workers execute the runs.
    worker: bool = True
    #: ``EngineSettings.lease_seconds`` and ``rescan_seconds``.
    lease_seconds: float = 10.0
    rescan_seconds: float = 1.0


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


SERVE_SECRET_HINT = (
    "give it to the server: restart it with --secret {name}=<value> (or --secrets-file PATH, "
    "EMITFLOW_SECRETS_FILE), or store it with PUT /v1/secrets/{name} and an admin token"
)


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``; ``ConfigurationError`` naming the port and the fix when
    it cannot be (in use, or not an address of this machine)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on connections of such a socket; without
    # it Nagle's algorithm held each answer's body until the client's delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigurationError(
                f"port {port} on {host} is in use: stop what listens there, or pick another "
                "with --port (EMITFLOW_PORT; 0 = any free port)"
            ) from None
        raise ConfigurationError(
            f"cannot listen on {host}:{port} ({exc.strerror}); check --host and --port"
        ) from None
    return sock


async def serve(options: ServeOptions, *, out: TextIO = sys.stdout) -> None:
    """Run the server until SIGTERM/SIGINT."""
    sock = bind(options.host, options.port)
    routes = Routes.from_env().merged(Routes.parse(options.routes))
    weak = weak_secrets_warning(options.secrets)
    if weak is not None:
        print(f"emitflow: {weak}", file=sys.stderr)
    with sock:
        async with make_client(routes) as client:
            settings = EngineSettings(
                secrets=options.secrets,
                secrets_hint=SERVE_SECRET_HINT,
                http=client,
                worker=options.worker,
                lease_seconds=options.lease_seconds,
                rescan_seconds=options.rescan_seconds,
            )
            await _serve_on(sock, options, settings, out)


async def _serve_on(
    sock: socket.socket, options: ServeOptions, settings: EngineSettings, out: TextIO
) -> None:
    async with Engine.open(options.store, settings=settings) as engine:
        if options.workflows is not None:
            await _deploy_folder(engine, options.workflows, out)
        for destination in await attach(engine, options.brokers):
            print(f"publishing to {masked_url(destination.url)} as {destination.id}", file=out)
        await _first_admin_token(engine, out)
        if not options.worker:
            print("API only: runs are executed by emitflow worker processes", file=out)
        server = _Server(uvicorn_config(AccessLog(create_app(engine, options.api))))
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        ready = asyncio.ensure_future(server.ready.wait())
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if server.started:
            port = server.servers[0].sockets[0].getsockname()[1]
            print(f"emitflow serving on http://{options.host}:{port}", file=out, flush=True)
        await task


def uvicorn_config(app: Any) -> uvicorn.Config:
    """How ``serve`` runs an ASGI app on uvicorn (the benchmarks serve their baseline alike)."""
    return uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        log_level="warning",  # requests are logged by AccessLog, runs by the runtime
        access_log=False,
        timeout_graceful_shutdown=STREAM_GRACE,
    )


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
