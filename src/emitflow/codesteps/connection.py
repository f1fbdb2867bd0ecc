"""The engine's end of one worker process: start it, send a step, read the answer, kill it."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from emitflow.codesteps.protocol import decode, read_frame
from emitflow.errors import SandboxError

__all__ = ["WorkerConnection", "WorkerLostError"]

log = logging.getLogger(__name__)

_MAX_HELLO = 64 * 1024
_STDERR_LINES = 40


class WorkerLostError(SandboxError):
    """The worker died, hung, or broke the protocol while serving a step."""


class WorkerConnection:
    """One running worker: ``start`` it, ``call`` it once at a time, ``kill`` it."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        slot: int,
        hello: Mapping[str, Any],
        stderr: collections.deque[str],
        drain: asyncio.Task[None],
    ) -> None:
        self._process = process
        self.slot = slot
        self.hello = hello
        self._stderr = stderr
        self._drain = drain

    @property
    def pid(self) -> int:
        """The worker's process id (bwrap's, when sandboxed)."""
        return self._process.pid

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | None,
        slot: int,
        startup: float,
    ) -> WorkerConnection:
        """Start a worker and wait for its hello; ``SandboxError`` with its stderr if it fails."""
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
        stderr: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
        drain = asyncio.create_task(_drain_stderr(process, stderr, slot))
        worker = cls(process, slot, {}, stderr, drain)
        message: Any = None
        try:
            async with asyncio.timeout(startup):
                if process.stdout is None:
                    raise SandboxError("no pipe to the worker")
                body = await read_frame(process.stdout, _MAX_HELLO)
            message = decode(body) if body is not None else None
        except (TimeoutError, SandboxError) as exc:
            await worker._fail(str(exc) or f"no hello within {startup:g} s")
        except BaseException:
            worker.kill_now()
            # Reaped even when cancelled (a pool closing), or the garbage collector would close
            # its pipes after the event loop is gone.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(process.wait())
            worker._drain.cancel()
            raise
        if not isinstance(message, dict) or not isinstance(message.get("hello"), dict):
            error = message.get("error") if isinstance(message, dict) else None
            await worker._fail(str(error) if error else "")
        worker.hello = message["hello"]
        log.debug("code-step worker started", extra={"worker": process.pid, "slot": slot})
        return worker

    async def _fail(self, why: str) -> NoReturn:
        await self.kill()
        # Once the process is gone its stderr ends; what it said there is the best reason.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self._drain
        reason = "; ".join(part for part in (why, self.stderr_tail()) if part)
        raise SandboxError(f"the code-step worker did not start: {reason or 'no reason given'}")

    def stderr_tail(self) -> str:
        """The last lines the worker wrote on its stderr."""
        return " | ".join(self._stderr)

    async def call(
        self, request: bytes, *, within: float, max_meta: int, max_result: int
    ) -> tuple[dict[str, Any], bytes | None]:
        """Send one framed request; the answer's meta (decoded) and result (raw JSON), if any.

        The result is left undecoded: it is the step's own writing, and a malformed one is
        the step's fault, not the worker's.
        """
        process = self._process
        if process.stdin is None or process.stdout is None or process.returncode is not None:
            raise WorkerLostError("the worker is not running")
        try:
            async with asyncio.timeout(within):
                process.stdin.write(request)
                await process.stdin.drain()
                meta = await read_frame(process.stdout, max_meta)
                if meta is None:
                    raise WorkerLostError(await self._ended())
                answer = decode(meta)
                if not isinstance(answer, dict):
                    raise WorkerLostError("the worker sent an answer that is not an object")
                body = None
                if answer.get("has_result"):
                    body = await read_frame(process.stdout, max_result)
                    if body is None:
                        raise WorkerLostError(await self._ended())
        except TimeoutError as exc:
            raise WorkerLostError(f"the worker did not answer within {within:g} s") from exc
        except (ConnectionError, BrokenPipeError) as exc:
            raise WorkerLostError(await self._ended()) from exc
        except WorkerLostError:
            raise
        except SandboxError as exc:
            raise WorkerLostError(f"the worker broke the protocol: {exc}") from exc
        return answer, body

    async def _ended(self) -> str:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self._process.wait()
        code = self._process.returncode
        tail = self.stderr_tail()
        return f"the worker process ended (status {code})" + (f": {tail}" if tail else "")

    def kill_now(self) -> None:
        """SIGKILL the worker's whole process group (bwrap takes its namespace down with it)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()

    async def kill(self) -> None:
        """Kill the worker and wait for it to be gone."""
        self.kill_now()
        await self._process.wait()

    async def close(self, grace: float = 2.0) -> None:
        """Ask the worker to stop (stdin closed), then kill it if it lingers."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            async with asyncio.timeout(grace):
                await self._process.wait()
        except TimeoutError:
            await self.kill()
        self._drain.cancel()


async def _drain_stderr(
    process: asyncio.subprocess.Process, lines: collections.deque[str], slot: int
) -> None:
    """Log what the worker itself writes on stderr (a step's own output is captured apart)."""
    if process.stderr is None:
        return
    while line := await process.stderr.readline():
        text = line.decode("utf-8", errors="replace").rstrip()
        lines.append(text)
        log.warning("code-step worker: %s", text, extra={"worker": process.pid, "slot": slot})
