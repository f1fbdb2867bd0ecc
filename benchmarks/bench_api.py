"""API figures against real servers on loopback (each in a process of its own).

- ``POST /v1/events``: structured mode, one event per request, keep-alive, 2 client
  connections; events/s, beside a bare Starlette route answering 202 on the same stack
  (uvicorn + Starlette) in the same run; the ratio (target ≥ 0.4).
- Hook → run started: ``POST /hooks/p_bench`` answered 202 once the run is created and handed
  to the runner; p50/p99 over 500 sequential requests (target p50 ≤ 10 ms).
- SSE: 50 clients on ``GET /v1/events/stream`` while events are ingested at 1,000/s (batches of
  50 every 50 ms) for 5 s; how many each client got, and the lag from ingest to receipt.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REQUESTS = 4_000
CONNECTIONS = 2
HOOKS = 500
SSE_CLIENTS = 50
SSE_RATE = 1_000
SSE_SECONDS = 5
TOKEN = "efk_bench_" + secrets.token_urlsafe(8)


@contextmanager
def _server(*args: str) -> Iterator[str]:
    env = {**os.environ, "EMITFLOW_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.api_servers", *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    url = ""
    for line in process.stdout:
        if "serving on " in line:
            url = line.split("serving on ", 1)[1].strip()
            break
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


def _event(n: int) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": f"bench-{n}",
            "source": "/bench",
            "type": "bench.event",
            "data": {"n": n, "sent_at": time.time()},
        }
    ).encode()


async def _post_rate(url: str) -> float:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/cloudevents+json"}
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=url, limits=limits, headers=headers) as http:
        counter = iter(range(REQUESTS))

        async def worker() -> None:
            for n in counter:
                answer = await http.post("/v1/events", content=_event(n))
                assert answer.status_code == 202, answer.text

        for n in range(50):  # warm up
            await http.post("/v1/events", content=_event(-n - 1))
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        return REQUESTS / (time.perf_counter() - started)


async def _hook_latency(url: str) -> list[float]:
    times = []
    async with httpx.AsyncClient(base_url=url) as http:
        for n in range(HOOKS + 20):
            started = time.perf_counter()
            answer = await http.post("/hooks/p_bench", json={"n": n})
            elapsed = time.perf_counter() - started
            assert answer.status_code == 202, answer.text
            if n >= 20:
                times.append(elapsed * 1000)
    return sorted(times)


async def _sse(url: str) -> tuple[list[int], list[float]]:
    counts = [0] * SSE_CLIENTS
    lags: list[float] = []
    total = SSE_RATE * SSE_SECONDS
    auth = {"Authorization": f"Bearer {TOKEN}"}
    connected = asyncio.Event()
    ready = 0

    async def client(index: int) -> None:
        nonlocal ready
        async with (
            httpx.AsyncClient(timeout=None) as http,
            http.stream("GET", f"{url}/v1/events/stream", headers=auth) as answer,
        ):
            ready += 1
            if ready == SSE_CLIENTS:
                connected.set()
            async for line in answer.aiter_lines():
                if line.startswith("data:"):
                    counts[index] += 1
                    if index == 0:
                        sent = json.loads(line[5:])["event"]["data"]["sent_at"]
                        lags.append((time.time() - sent) * 1000)
                    if counts[index] == total:
                        return

    tasks = [asyncio.ensure_future(client(i)) for i in range(SSE_CLIENTS)]
    await asyncio.wait_for(connected.wait(), 60)
    await asyncio.sleep(0.5)  # let the streams attach to the feed
    headers = {**auth, "Content-Type": "application/cloudevents-batch+json"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as http:
        batch = SSE_RATE // 20
        start = time.perf_counter()
        for tick in range(SSE_SECONDS * 20):
            body = b"[" + b",".join(_event(10**6 + tick * batch + k) for k in range(batch)) + b"]"
            await http.post("/v1/events", content=body)
            delay = start + (tick + 1) / 20 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
    await asyncio.wait(tasks, timeout=30)
    for task in tasks:
        task.cancel()
    return counts, sorted(lags)


def main() -> None:
    """Print the API figures."""
    with tempfile.TemporaryDirectory() as home:
        with _server("bare") as bare_url:
            bare = asyncio.run(_post_rate(bare_url))
        with _server("api", str(Path(home) / "a")) as api_url:
            api = asyncio.run(_post_rate(api_url))
            hooks = asyncio.run(_hook_latency(api_url))
        with _server("api", str(Path(home) / "b")) as api_url:
            counts, lags = asyncio.run(_sse(api_url))
    print("## bench_api")
    print(f"POST /v1/events (structured, 1 per request, {CONNECTIONS} connections): {api:,.0f}/s")
    print(f"bare Starlette 202 route, same stack: {bare:,.0f}/s; ratio {api / bare:.2f} (≥ 0.4)")
    p50 = statistics.median(hooks)
    p99 = hooks[int(len(hooks) * 0.99) - 1]
    print(f"hook → run started: p50 {p50:.2f} ms, p99 {p99:.2f} ms (p50 ≤ 10)")
    total = SSE_RATE * SSE_SECONDS
    full = sum(1 for c in counts if c == total)
    print(
        f"SSE: {SSE_CLIENTS} clients, {SSE_RATE}/s for {SSE_SECONDS} s: {full} got all {total}; "
        f"fewest {min(counts)}; lag p50 {statistics.median(lags):.0f} ms, "
        f"p99 {lags[int(len(lags) * 0.99) - 1]:.0f} ms (client 0)"
    )


if __name__ == "__main__":
    main()
