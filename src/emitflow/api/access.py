"""``AccessLog``: one info line per HTTP request — method, path, status, milliseconds.

The query string is left out: it may carry a webhook URL with its credentials.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLog"]

logger = logging.getLogger("emitflow.api.access")


class AccessLog:
    """Pure ASGI middleware: logs each HTTP request when its answer is complete."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            logger.info(
                "%s %s %s %.0f ms",
                scope["method"],
                scope["path"],
                status or "-",
                elapsed,
                extra={"method": scope["method"], "path": scope["path"], "status": status},
            )
