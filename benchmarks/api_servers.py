"""Servers for ``bench_api``, each in a process of its own, printing its URL when it listens.

``python -m benchmarks.api_servers bare`` — a Starlette app on uvicorn whose one route answers
202: the same server stack as the API, doing nothing.
``python -m benchmarks.api_servers api HOME`` — ``emitflow serve`` on a store in ``HOME``, with
``EMITFLOW_TOKEN`` as its admin token and a one-task workflow ``p_bench`` deployed.
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


async def _accept(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"data": []}, status_code=202)


async def _bare() -> None:
    app = Starlette(routes=[Route("/v1/events", _accept, methods=["POST"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn has no started event
        await asyncio.sleep(0.01)
    print(f"serving on http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}")
    sys.stdout.flush()
    await task


async def _api(home: Path) -> None:
    from emitflow.api.server import ServeOptions, serve
    from emitflow.api.settings import ApiSettings

    folder = home / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench.yaml").write_text(BENCH_WORKFLOW)
    os.environ["EMITFLOW_HOME"] = str(home)
    options = ServeOptions(
        port=0,
        workflows=folder,
        api=ApiSettings(admin_token=os.environ["EMITFLOW_TOKEN"]),
    )
    await serve(options)


if __name__ == "__main__":
    if sys.argv[1] == "bare":
        asyncio.run(_bare())
    else:
        asyncio.run(_api(Path(sys.argv[2])))
