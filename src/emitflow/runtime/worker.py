"""``run_worker``: a process that executes runs and delivers events on a shared store, no API.

``emitflow worker --store postgresql://…`` opens an engine (dispatcher, timers, delivery lanes,
run claims and lease heartbeat), connects the ``--broker`` destinations and ``--source``
consumers, prints one line with its id, and works until SIGINT or SIGTERM; then it stops
claiming, lets the runs in flight end (``EngineSettings.close_grace_seconds``) and closes. Any
number of workers and ``emitflow serve`` processes may share one database.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from emitflow.errors import ConfigurationError
from emitflow.http.routes import Routes, make_client
from emitflow.runtime.broker_setup import BrokerSetup, attach
from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings, default_store_url
from emitflow.runtime.webhooks import masked_url
from emitflow.secrets import weak_secrets_warning
from emitflow.store.factory import open_store

__all__ = ["WORKER_SECRET_HINT", "WorkerOptions", "run_worker"]

WORKER_SECRET_HINT = (
    "give it to every worker: restart them with --secret {name}=<value> (or --secrets-file "
    "PATH, EMITFLOW_SECRETS_FILE), or store it with PUT /v1/secrets/{name} on a server"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerOptions:
    """Which store, the secrets and routes runs get, the brokers to connect."""

    store: str | None = None
    secrets: Mapping[str, Any] = field(default_factory=dict, repr=False)
    routes: tuple[str, ...] = ()
    brokers: BrokerSetup = field(default_factory=BrokerSetup)
    #: ``EngineSettings.lease_seconds`` and ``rescan_seconds``.
    lease_seconds: float = 10.0
    rescan_seconds: float = 1.0


async def run_worker(
    options: WorkerOptions,
    *,
    out: TextIO = sys.stdout,
    stop: asyncio.Event | None = None,
    settings: EngineSettings | None = None,
) -> None:
    """Work until SIGTERM/SIGINT (or until ``stop`` is set), then close gracefully."""
    store = open_store(options.store or default_store_url())
    if not store.shared:
        raise ConfigurationError(
            f"--store {options.store or default_store_url()}: a worker shares its "
            "store with other processes, and this store is used by one process only; use "
            "postgresql://… (or run emitflow serve alone on this store)"
        )
    routes = Routes.from_env().merged(Routes.parse(options.routes))
    weak = weak_secrets_warning(options.secrets)
    if weak is not None:
        print(f"emitflow: {weak}", file=sys.stderr)
    stop = stop or asyncio.Event()
    async with make_client(routes) as client:
        settings = settings or EngineSettings(
            secrets=options.secrets,
            secrets_hint=WORKER_SECRET_HINT,
            http=client,
            lease_seconds=options.lease_seconds,
            rescan_seconds=options.rescan_seconds,
        )
        async with Engine(store, settings) as engine:
            for destination in await attach(engine, options.brokers):
                print(f"publishing to {masked_url(destination.url)} as {destination.id}", file=out)
            where = getattr(store, "url", None) or masked_url(options.store or "")
            print(f"emitflow worker {settings.worker_id} working on {where}", file=out, flush=True)
            await _until_signalled(stop)


async def _until_signalled(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
