"""Run an ASGI app with uvicorn on loopback in a background thread, for tests over real HTTP.

The socket is bound before the server starts (port 0, so the OS picks a free port), which
gives the URL at once; readiness is awaited on an event set after uvicorn's startup, with a
deadline, and a server that dies while starting is reported instead of waited for.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

__all__ = ["serve"]

_STARTUP_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class _Server(uvicorn.Server):
    """A uvicorn server that says when it accepts connections."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@contextmanager
def serve(app: ASGIApp, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` on ``host`` at a free port; yield its base URL; stop it on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = _Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"standin-{port}", daemon=True
    )
    thread.start()
    try:
        _await_ready(server, thread)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(_STOP_TIMEOUT)
        sock.close()


def _await_ready(server: _Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    # Short event waits, so a thread that died during startup is noticed before the deadline.
    while not server.ready.wait(0.05):
        if not thread.is_alive():
            raise RuntimeError("the stand-in server stopped while starting; see its log above")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the stand-in server did not start within {_STARTUP_TIMEOUT}s")
