"""Servers for ``bench_api``, each in a process of its own, printing its URL when it listens.

``python -m benchmarks.api_servers bare`` — a Starlette app whose one route answers 202, on
uvicorn with the settings ``emitflow serve`` uses (``uvicorn_config``), on a socket bound the
same way: the same server stack as the API, doing nothing.
``python -m benchmarks.api_servers api HOME [STORE_URL]`` — ``emitflow serve`` on a store in
``HOME`` (or at ``STORE_URL``, e.g. ``postgresql://…``), with ``EMITFLOW_TOKEN`` as its admin
token and a one-task workflow ``p_bench`` deployed.
``python -m benchmarks.api_servers static`` — a few lines of asyncio answering every request
with the same bytes, no HTTP framework: what the load generator reaches against a server
that costs almost nothing (its own ceiling on this machine).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BENCH_WORKFLOW = """\
document: {dsl: '1.0.0', namespace: bench, name: bench, version: '1.0.0'}
do:
  - keep:
      set:
        got: ${ . }
"""

_STATIC_ANSWER = (
    b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n"
    b'{"data":[]}'
)


async def _accept(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"data": []}, status_code=202)


async def _bare() -> None:
    from emitflow.api.server import bind, uvicorn_config

    app = Starlette(routes=[Route("/v1/events", _accept, methods=["POST"])])
    server = uvicorn.Server(uvicorn_config(app))
    with bind("127.0.0.1", 0) as sock:
        task = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started:  # noqa: ASYNC110 - uvicorn has no started event
            await asyncio.sleep(0.01)
        print(f"serving on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
        await task


class _Static(asyncio.Protocol):
    """Answers each request (headers, then ``content-length`` bytes of body) at once."""

    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self._buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self._buffer) < end + 4 + length:
                return
            self._buffer = self._buffer[end + 4 + length :]
            assert self._transport is not None
            self._transport.write(_STATIC_ANSWER)


async def _static() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Static, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"serving on http://127.0.0.1:{port}", flush=True)
    await server.serve_forever()


async def _api(home: Path, store: str | None = None) -> None:
    from emitflow.api.server import ServeOptions, serve
    from emitflow.api.settings import ApiSettings

    folder = home / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.yaml").write_text(BENCH_WORKFLOW)
    os.environ["EMITFLOW_HOME"] = str(home)
    options = ServeOptions(
        port=0,
        store=store,
        workflows=folder,
        api=ApiSettings(admin_token=os.environ["EMITFLOW_TOKEN"]),
    )
    await serve(options)


if __name__ == "__main__":
    if sys.argv[1] == "bare":
        asyncio.run(_bare())
    elif sys.argv[1] == "static":
        asyncio.run(_static())
    else:
        asyncio.run(_api(Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
