"""``EngineSettings``: how an ``Engine`` runs, as one frozen value."""

from __future__ import annotations

import os
import secrets as _random
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emitflow.clock import Clock, SystemClock
from emitflow.errors import ConfigurationError
from emitflow.ids import IdFactory

if TYPE_CHECKING:
    import httpx

    from emitflow.ports import CodeStepRunner
    from emitflow.runtime.executor import Executor
    from emitflow.runtime.webhooks import WebhookSettings

__all__ = [
    "DEFAULT_HOOK_QUEUE_LIMIT",
    "DEFAULT_MAX_CHAIN_RUNS",
    "DEFAULT_MAX_HOPS",
    "DEFAULT_QUEUE_SIZE",
    "EngineSettings",
    "default_store_url",
    "default_worker_id",
]

DEFAULT_MAX_HOPS = 16
#: Runs one causal chain may start (``EngineSettings.max_chain_runs``).
DEFAULT_MAX_CHAIN_RUNS = 1_000
DEFAULT_QUEUE_SIZE = 100
#: Runs of one workflow waiting before its hook answers 429 (``EngineSettings.hook_queue_limit``).
DEFAULT_HOOK_QUEUE_LIMIT = 1_000


def _webhook_settings() -> WebhookSettings:
    from emitflow.runtime.webhooks import WebhookSettings

    return WebhookSettings()


def default_worker_id() -> str:
    """``host:pid:random``: a process's id in the run leases of a shared store."""
    return f"{socket.gethostname()}:{os.getpid()}:{_random.token_hex(3)}"


def default_store_url() -> str:
    """``sqlite:///$EMITFLOW_HOME/emitflow.db``, ``EMITFLOW_HOME`` defaulting to ``./.emitflow``."""
    home = os.environ.get("EMITFLOW_HOME") or "./.emitflow"
    return f"sqlite:///{home.rstrip('/')}/emitflow.db"


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineSettings:
    """Options of an ``Engine``; every field has a default that suits one embedded process.

    - ``clock``/``ids``: injected time and id factory (tests use ``VirtualClock``).
    - ``max_hops``: the loop guard (decision 9); an event that already went through this many
      event-started runs is stored and reported on ``$errors`` but not delivered.
    - ``max_chain_runs``: the loop guard's budget per causal chain: runs that the events
      descending from one root (a run started by hand, hook or timer, or an outside event)
      may start in all; past it they are stored and reported on ``$errors`` (``chains.py``).
    - ``default_concurrency``: runs of one workflow at a time (``None`` = unlimited);
      ``concurrency`` overrides it per workflow id. A document may also set
      ``document.metadata.emitflow.concurrency``; the settings win.
    - ``queue_size``: event-started runs that may wait for a slot per workflow; past it the
      event stays in the outbox until there is room (nothing is dropped; see ``Router``).
    - ``hook_queue_limit``: runs of one workflow that may wait (past its concurrency limit, or
      all those in flight when it has none) before its public hook answers 429.
    - ``claim_batch``/``lease_seconds``: how the dispatcher claims outbox rows (and timers
      claim schedules); after a crash, the rows a dead dispatcher had claimed are delivered
      once their lease has run out. On a store several processes share (PostgreSQL), a
      process also holds the runs it executes with a lease of ``lease_seconds``, renewed every
      third of it; a crashed process's runs are resumed by another once their leases expire.
    - ``rescan_seconds``: real seconds between re-scans for rows written by other processes,
      expired leases and due schedules when nothing signals sooner.
    - ``worker``: on a shared store, execute runs (dispatcher, timers, webhook lanes, sources,
      run claims). ``False``: an API-only process that only writes (its runs are created
      unleased, for a worker to claim). Without a shared store it must stay ``True``.
    - ``worker_id``: this process's id in run leases (default ``host:pid:random``).
    - ``run_capacity``: runs in flight this process holds on a shared store before it stops
      claiming other processes' runs (the runs it starts itself are never refused).
    - ``lifecycle_ttl_seconds``: how long "does anyone subscribe to ``$lifecycle``" is cached.
    - ``secrets``, ``http``, ``workflows_dir``, ``code_steps``: handed to every run; each run
      (and its code steps' ``pd.secrets``) reads only the secrets its ``use.secrets`` lists.
      ``code_steps`` ``None``: the engine runs code steps in a sandbox pool of its own,
      started by the first code step and closed with the engine.
    - ``secrets_hint``: how to provide a missing secret, in the fault of a run that lacks one
      (``{name}`` is the secret's name); ``emitflow serve`` names its options and the API.
    - ``executor``: what runs a workflow (``None`` = ``emitflow.runner.execute``).
    - ``timers``: run ``every``/``cron``/``after`` schedules while open.
    - ``close_grace_seconds``: how long closing waits for runs in flight before cancelling them.
    - ``webhooks``: retries, backoff and health of webhook deliveries (``WebhookSettings``).
    """

    clock: Clock = field(default_factory=SystemClock)
    ids: IdFactory | None = None
    max_hops: int = DEFAULT_MAX_HOPS
    max_chain_runs: int = DEFAULT_MAX_CHAIN_RUNS
    default_concurrency: int | None = None
    concurrency: Mapping[str, int] = field(default_factory=dict)
    queue_size: int = DEFAULT_QUEUE_SIZE
    hook_queue_limit: int = DEFAULT_HOOK_QUEUE_LIMIT
    claim_batch: int = 100
    lease_seconds: float = 10.0
    rescan_seconds: float = 1.0
    lifecycle_ttl_seconds: float = 1.0
    secrets: Mapping[str, Any] = field(default_factory=dict)
    secrets_hint: str = (
        "give it in EngineSettings.secrets, or store it with Engine.secrets.put({name!r}, …)"
    )
    http: httpx.AsyncClient | None = None
    workflows_dir: Path | None = None
    code_steps: CodeStepRunner | None = None
    executor: Executor | None = None
    timers: bool = True
    worker: bool = True
    worker_id: str = field(default_factory=default_worker_id)
    run_capacity: int = 100
    close_grace_seconds: float = 10.0
    webhooks: WebhookSettings = field(default_factory=lambda: _webhook_settings())

    def __post_init__(self) -> None:
        _positive_int("max_hops", self.max_hops)
        _positive_int("max_chain_runs", self.max_chain_runs)
        _positive_int("queue_size", self.queue_size)
        _positive_int("hook_queue_limit", self.hook_queue_limit)
        _positive_int("claim_batch", self.claim_batch)
        _positive_int("run_capacity", self.run_capacity)
        if not isinstance(self.worker_id, str) or not self.worker_id.strip():
            raise ConfigurationError(
                f"EngineSettings.worker_id must be a non-empty text, not {self.worker_id!r}"
            )
        if self.default_concurrency is not None:
            _positive_int("default_concurrency", self.default_concurrency)
        for workflow_id, limit in self.concurrency.items():
            _positive_int(f"concurrency[{workflow_id!r}]", limit)
        for name in ("lease_seconds", "rescan_seconds", "lifecycle_ttl_seconds"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value <= 0:
                raise ConfigurationError(f"EngineSettings.{name} must be > 0, not {value!r}")


def _positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"EngineSettings.{name} must be an integer >= 1, not {value!r}")
