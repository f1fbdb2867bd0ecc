"""Requests to a server (``--server``/``EMITFLOW_SERVER`` with ``--token``/``EMITFLOW_TOKEN``).

A server's error is printed as one line naming the status and the message (exit 1; 2 when the
request itself is invalid); never a traceback. httpx is imported when a request is made.
"""

from __future__ import annotations

from typing import Any

from emitflow.cli.options import EXIT_FAILED, EXIT_INVALID, fail

__all__ = ["ServerClient", "need_server"]


def need_server(server: str | None, command: str) -> str:
    """The server URL, or exit 2 saying how to give one."""
    if not server:
        raise fail(f"{command} needs a server: --server URL or EMITFLOW_SERVER")
    return server


class ServerClient:
    """Requests to one server with a bearer token; errors become one readable line."""

    def __init__(self, server: str, token: str | None) -> None:
        self.base = server.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer of a request, or exit with the server's message."""
        import httpx

        kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}
        try:
            answer = httpx.request(method, self.base + path, timeout=60, **kwargs)
        except httpx.HTTPError as exc:
            raise fail(f"{self.base}: cannot reach the server ({exc})", EXIT_FAILED) from None
        if answer.status_code >= 400:
            self.refuse(answer.status_code, answer.text)
        return answer.json()

    def refuse(self, status: int, text: str) -> None:
        """Exit with a server's error answer as one line."""
        import json

        try:
            message = json.loads(text)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = text[:200]
        code = EXIT_INVALID if status in (400, 413, 415, 422) else EXIT_FAILED
        raise fail(f"{self.base}: {status}: {message}", code)
