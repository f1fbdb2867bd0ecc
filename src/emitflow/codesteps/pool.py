"""A pool of warm, sandboxed worker processes that run Python code steps.

    async with CodeStepPool(PoolSettings(size=4)) as pool:
        result = await pool.run(StepRequest(step="greet", code=source, steps=steps))

``run`` answers a ``StepResult``, or raises ``StepFaultError`` (a ``FaultError`` carrying the
RFC 7807 problem and what the step did before it faulted). A worker that dies, hangs past the
step's timeout plus a grace period, or is abandoned by a cancelled ``run`` is killed and
replaced in the background; the pool keeps serving. ``protections`` says what holds here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass

from emitflow.codesteps import faults
from emitflow.codesteps.connection import WorkerConnection, WorkerLostError
from emitflow.codesteps.limits import MIB
from emitflow.codesteps.protocol import encode
from emitflow.codesteps.sandbox import (
    BWRAP_TMP,
    Protections,
    bwrap_command,
    bwrap_executable,
    package_root,
    protections,
    scrubbed_environment,
    worker_command,
)
from emitflow.codesteps.step import StepFaultError, StepRequest, StepResult, parse_result
from emitflow.codesteps.turns import FairQueue
from emitflow.codesteps.uids import UidLease
from emitflow.errors import ConfigurationError, SandboxError
from emitflow.lifecycle import AsyncLifecycle

__all__ = ["CodeStepPool", "PoolSettings"]

log = logging.getLogger(__name__)

_ISOLATIONS = ("auto", "bwrap", "rlimits")
# Results up to this size are read on the event loop (well under a millisecond); larger ones
# in a thread.
_PARSE_INLINE_BYTES = 64 * 1024
# The logs travel as JSON text, where a control character takes six bytes (\u0001).
_META_BYTES_PER_LOG_BYTE = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolSettings:
    """How many workers, and how they are isolated."""

    #: Workers started up front; also how many steps run at once.
    size: int = 2
    #: "auto" (bwrap when it works here, else rlimits with a warning), "bwrap" (or fail),
    #: or "rlimits".
    isolation: str = "auto"
    #: Let steps use the network (bwrap only; without bwrap they always can).
    network: bool = False
    #: When the engine is root, worker ``n`` runs as uid ``uid_base + n``; None keeps root.
    uid_base: int | None = 2_000_000_000
    #: Size of a bwrap worker's private /tmp, where its steps' directories live.
    tmpfs_bytes: int = 64 * MIB
    #: The interpreter workers run (it must be able to import emitflow).
    python: str = sys.executable
    #: More host paths steps may read (bwrap binds them read-only).
    extra_paths: tuple[str, ...] = ()
    #: Seconds a worker may take to start.
    startup_timeout: float = 30.0
    #: Seconds past a step's timeout before its worker is presumed hung and killed.
    grace: float = 5.0

    def __post_init__(self) -> None:
        if self.isolation not in _ISOLATIONS:
            raise ConfigurationError(
                f"code-step isolation {self.isolation!r} is unknown; use one of {_ISOLATIONS}"
            )
        if self.size < 1:
            raise ConfigurationError(f"code-step pool size {self.size} must be at least 1")


class CodeStepPool(AsyncLifecycle):
    """Warm sandboxed workers; an async context manager."""

    def __init__(self, settings: PoolSettings | None = None) -> None:
        self.settings = settings or PoolSettings()
        # Taken in turn by workflow, so one workflow's flood of steps cannot hold every worker.
        self._idle: FairQueue[WorkerConnection | int] = FairQueue()
        self._live: set[WorkerConnection] = set()
        self._retired: set[WorkerConnection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._mode: str | None = None
        self._protections: Protections | None = None
        self._home: str | None = None
        self._uids: dict[int, UidLease] = {}
        self._closed = False

    async def _enter(self) -> None:
        await self.start()

    @property
    def protections(self) -> Protections:
        """Which protections hold for this pool's steps (known once started)."""
        if self._protections is None:
            raise SandboxError("the code-step pool has not started")
        return self._protections

    async def start(self) -> None:
        """Choose the isolation mode and start every worker."""
        if self._mode is not None:
            raise SandboxError("the code-step pool has already started")
        try:
            first, mode = await self._first_worker()
            self._mode = mode
            self._idle.put_nowait(first)
            others = await asyncio.gather(
                *(self._spawn(slot, mode) for slot in range(1, self.settings.size))
            )
        except BaseException:
            await self.close()
            raise
        for worker in others:
            self._idle.put_nowait(worker)
        self._protections = protections(mode, first.hello, network=self.settings.network)
        log.info(
            "code-step pool: %s",
            self._protections.describe().replace("\n", ", "),
            extra={"isolation": mode, "size": self.settings.size},
        )
        if not self._protections.namespaces_denied:
            log.warning("code-step pool: no seccomp filter: %s", first.hello.get("seccomp"))

    async def _first_worker(self) -> tuple[WorkerConnection, str]:
        wanted = self.settings.isolation
        if wanted != "rlimits":
            if bwrap_executable() is None:
                reason = "bubblewrap (bwrap) is not installed"
            else:
                try:
                    return await self._spawn(0, "bwrap"), "bwrap"
                except SandboxError as exc:
                    reason = f"bubblewrap does not work here: {exc}"
            if wanted == "bwrap":
                raise SandboxError(f"code-step isolation 'bwrap' was asked for, but {reason}")
            log.warning(
                "code steps run WITHOUT a filesystem sandbox (rlimits only): %s",
                reason,
                extra={"isolation": "rlimits"},
            )
        return await self._spawn(0, "rlimits"), "rlimits"

    def _uid(self, slot: int) -> int | None:
        """The uid slot ``slot``'s workers drop to: leased once, kept across replacements."""
        base = self.settings.uid_base
        if base is None or os.geteuid() != 0:
            return None
        if slot not in self._uids:
            self._uids[slot] = UidLease(base)
        return self._uids[slot].uid

    def _workdir(self, slot: int, uid: int | None) -> str:
        if self._home is None:
            self._home = tempfile.mkdtemp(prefix="emitflow-steps-")
            # Workers under their own uid must reach their own directory, and only that.
            os.chmod(self._home, 0o711)
        path = os.path.join(self._home, f"worker-{slot}")
        shutil.rmtree(path, ignore_errors=True)
        os.mkdir(path, 0o700)
        if uid is not None:
            os.chown(path, uid, uid)
        return path

    async def _spawn(self, slot: int, mode: str) -> WorkerConnection:
        settings = self.settings
        uid = self._uid(slot)
        if mode == "bwrap":
            workdir, cwd = BWRAP_TMP, "/"
            inner = worker_command(settings.python, workdir=workdir, user=uid, sandboxed=True)
            argv = bwrap_command(
                bwrap_executable() or "bwrap",
                inner,
                network=settings.network,
                tmpfs_bytes=settings.tmpfs_bytes,
                extra_paths=settings.extra_paths,
            )
        else:
            workdir = cwd = self._workdir(slot, uid)
            argv = worker_command(settings.python, workdir=workdir, user=uid, sandboxed=False)
        env = scrubbed_environment(
            {
                "PATH": os.path.dirname(settings.python) + ":/usr/local/bin:/usr/bin:/bin",
                "PYTHONPATH": str(package_root()),
                "HOME": workdir,
                "USER": "step",
                "LOGNAME": "step",
            }
        )
        worker = await WorkerConnection.start(
            argv, env=env, cwd=cwd, slot=slot, startup=settings.startup_timeout
        )
        self._live.add(worker)
        return worker

    async def _acquire(self, share: str) -> WorkerConnection:
        item = await self._idle.get(share)
        if isinstance(item, WorkerConnection):
            return item
        # A slot whose worker could not be restarted in the background: try again, here.
        try:
            return await self._spawn(item, self._mode or "rlimits")
        except BaseException:
            self._idle.put_nowait(item)
            raise

    def _retire(self, worker: WorkerConnection) -> None:
        worker.kill_now()
        self._live.discard(worker)
        self._retired.add(worker)
        if not self._closed:
            task = asyncio.get_running_loop().create_task(self._replace(worker))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _replace(self, old: WorkerConnection) -> None:
        await old.kill()
        self._retired.discard(old)
        try:
            new = await self._spawn(old.slot, self._mode or "rlimits")
        except SandboxError as exc:
            log.warning(
                "code-step worker could not be restarted: %s", exc, extra={"slot": old.slot}
            )
            self._idle.put_nowait(old.slot)
            return
        if self._closed:
            self._live.discard(new)
            await new.close()
            return
        log.info("code-step worker replaced", extra={"slot": old.slot, "worker": new.pid})
        self._idle.put_nowait(new)

    async def run(self, request: StepRequest, *, share: str = "") -> StepResult:
        """Run one step in a warm worker; ``StepFaultError`` if it faults.

        ``share`` names who the step runs for (its workflow): when steps wait for a worker,
        each share gets its turn (see ``turns.py``)."""
        if self._mode is None or self._closed:
            raise SandboxError(
                "the code-step pool is not running; use `async with CodeStepPool() as pool`"
            )
        try:
            head, payload = request.to_wire()
            message = encode(head) + encode(payload)
        except (TypeError, ValueError) as exc:
            raise SandboxError(
                f"step {request.step!r}: its steps or secrets are not JSON ({exc})"
            ) from exc
        worker = await self._acquire(share)
        try:
            meta, body = await worker.call(
                message,
                within=request.timeout + self.settings.grace,
                max_meta=_META_BYTES_PER_LOG_BYTE * request.limits.max_log_bytes + MIB,
                max_result=request.limits.frame_bytes,
            )
        except WorkerLostError as exc:
            self._retire(worker)
            log.warning(
                "code-step worker lost: %s", exc, extra={"step": request.step, "worker": worker.pid}
            )
            raise StepFaultError(faults.worker_lost(request.step, str(exc)), StepResult()) from exc
        except BaseException:
            # Cancelled mid-step: what the worker is doing now is unknown, so it goes.
            self._retire(worker)
            raise
        self._idle.put_nowait(worker)
        if body is not None and len(body) > _PARSE_INLINE_BYTES:
            # Parsing and measuring megabytes of JSON would hold the event loop.
            return await asyncio.to_thread(parse_result, request.step, meta, body, request.limits)
        return parse_result(request.step, meta, body, request.limits)

    async def close(self) -> None:
        """Stop every worker and remove the pool's directories."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        workers, self._live = list(self._live), set()
        await asyncio.gather(*(worker.close() for worker in workers), return_exceptions=True)
        # Workers retired (a cancelled step's) whose replacement was cancelled above: reap them
        # here, or their pipes would be closed by the garbage collector after the loop.
        retired, self._retired = list(self._retired), set()
        await asyncio.gather(*(worker.kill() for worker in retired), return_exceptions=True)
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None
        for lease in self._uids.values():
            lease.release()
        self._uids.clear()
