"""API figures against real servers on loopback (each in a process of its own).

- ``POST /v1/events``: structured mode, one event per request, keep-alive, 2 connections, driven
  by ``wrk`` (one thread; a Lua script gives every request its own event id); requests/s beside
  a bare Starlette route answering 202 on the same stack (uvicorn with the settings ``emitflow
  serve`` uses, one process) in the same run, rounds interleaved; the ratio (target ≥ 0.4).
  Beside them, wrk's own ceiling on this machine: the same script against a few lines of
  asyncio answering with fixed bytes. Every 2xx answer's event is checked to be in the store.
  Skipped, saying so, when ``wrk`` is not installed (Debian: ``apt-get install wrk``).
- Hook → run started: ``POST /hooks/p_bench`` answered 202 once the run is created and handed
  to the runner; p50/p99 over 500 sequential requests (target p50 ≤ 10 ms).
- SSE: 50 clients on ``GET /v1/events/stream`` while events are ingested at 1,000/s (batches of
  50 every 50 ms) for 5 s; how many each client got, and the lag from ingest to receipt.

``EMITFLOW_BENCH_API=ingest`` runs the first part only. With ``EMITFLOW_BENCH_POSTGRES`` set to a
server URL, the ingest part serves the API on a PostgreSQL database of its own (created on that
server, dropped after) instead of SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

CONNECTIONS = 2
ROUNDS = 3
SECONDS = 5
HOOKS = 500
SSE_CLIENTS = 50
SSE_RATE = 1_000
SSE_SECONDS = 5
TOKEN = "efk_bench_" + secrets.token_urlsafe(8)

#: Each request a structured CloudEvent with an id of its own (``PREFIX`` set per wrk run).
WRK_SCRIPT = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/cloudevents+json"
wrk.headers["Authorization"] = "Bearer TOKEN"
local n = 0
request = function()
  n = n + 1
  local body = '{"specversion":"1.0","id":"PREFIX-' .. n .. '","source":"/bench",' ..
    '"type":"bench.event","data":{"n":' .. n .. '}}'
  return wrk.format(nil, "/v1/events", nil, body)
end
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class WrkResult:
    """What one wrk run measured."""

    rate: float
    answered: int
    failed: int
    p50_ms: float
    p99_ms: float


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


def _duration_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(wrk_path: str, url: str, folder: Path, prefix: str, seconds: int) -> WrkResult:
    """Run wrk with the event script against ``url`` for ``seconds``."""
    script = folder / f"{prefix}.lua"
    script.write_text(WRK_SCRIPT.replace("TOKEN", TOKEN).replace("PREFIX", prefix))
    command = [wrk_path, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    out = subprocess.run(
        [*command, "-s", str(script), url], capture_output=True, text=True, check=True
    ).stdout
    answered = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if errors is not None:
        raise RuntimeError(f"wrk: socket errors against {url}: {errors.group(1)}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.MULTILINE))
    return WrkResult(
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        answered=answered,
        failed=int(failed.group(1)) if failed else 0,
        p50_ms=_duration_ms(latency["50"]),
        p99_ms=_duration_ms(latency["99"]),
    )


def _stored(database: Path | str, prefix: str) -> int:
    """Events of one wrk run in the store (a SQLite file, or a PostgreSQL URL): in the log, or
    still in the outbox."""
    if isinstance(database, str):
        return asyncio.run(_stored_postgres(database, prefix))
    sql = (
        "SELECT count(*) FROM (SELECT event_id FROM events WHERE event_id LIKE ?1"
        " UNION SELECT json_extract(event, '$.id') FROM outbox"
        " WHERE json_extract(event, '$.id') LIKE ?1)"
    )
    with contextlib.closing(sqlite3.connect(database)) as conn:
        count: int = conn.execute(sql, (f"{prefix}-%",)).fetchone()[0]
    return count


async def _stored_postgres(url: str, prefix: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM (SELECT event_id FROM events WHERE event_id LIKE $1"
            " UNION SELECT (event::json)->>'id' FROM outbox WHERE (event::json)->>'id' LIKE $1) s",
            f"{prefix}-%",
        )
    finally:
        await conn.close()
    return count


def ingest_rates(
    wrk_path: str, home: Path, store: str | None = None
) -> tuple[list[WrkResult], list[WrkResult], WrkResult]:
    """wrk against the API (on ``store``, or SQLite in ``home``) and the bare route, ``ROUNDS``
    interleaved rounds; wrk's ceiling."""
    api_runs: list[WrkResult] = []
    bare_runs: list[WrkResult] = []
    prefixes: list[str] = []
    with _server("static") as url:
        wrk(wrk_path, url, home, "warm-static", 1)
        ceiling = wrk(wrk_path, url, home, "static", SECONDS)
    api_args = ("api", str(home / "ingest"), *([store] if store else []))
    with _server("bare") as bare_url, _server(*api_args) as api_url:
        wrk(wrk_path, bare_url, home, "warm-bare", 1)
        wrk(wrk_path, api_url, home, "warm-api", 1)
        for n in range(ROUNDS):
            bare_runs.append(wrk(wrk_path, bare_url, home, f"bare-{n}", SECONDS))
            prefixes.append(f"api-{n}")
            api_runs.append(wrk(wrk_path, api_url, home, prefixes[-1], SECONDS))
    for prefix, result in zip(prefixes, api_runs, strict=True):
        stored = _stored(store or home / "ingest" / "emitflow.db", prefix)
        accepted = result.answered - result.failed
        if result.failed or stored < accepted:
            raise RuntimeError(
                f"{prefix}: {result.failed} answers not 2xx; {accepted} accepted, {stored} stored"
            )
    return api_runs, bare_runs, ceiling


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


def _ingest_figures(home: Path) -> None:
    if "ingest" not in os.environ.get("EMITFLOW_BENCH_API", "ingest"):
        return
    wrk_path = shutil.which("wrk")
    if wrk_path is None:
        print("POST /v1/events: skipped, wrk is not installed (Debian: apt-get install wrk)")
        return
    server = os.environ.get("EMITFLOW_BENCH_POSTGRES")
    if server:
        from benchmarks.bench_emit_path import create_database, drop_database

        url = asyncio.run(create_database(server))
        try:
            api_runs, bare_runs, ceiling = ingest_rates(wrk_path, home, url)
        finally:
            asyncio.run(drop_database(server, url))
    else:
        api_runs, bare_runs, ceiling = ingest_rates(wrk_path, home)
    store = "postgresql" if server else "sqlite"
    ratios = [a.rate / b.rate for a, b in zip(api_runs, bare_runs, strict=True)]
    rounds = ", ".join(
        f"{a.rate:,.0f} vs {b.rate:,.0f} ({a.rate / b.rate:.2f})"
        for a, b in zip(api_runs, bare_runs, strict=True)
    )
    print(
        f"POST /v1/events [{store}] (structured, 1 per request, wrk -t1 -c{CONNECTIONS}, "
        f"{SECONDS} s rounds), API vs bare Starlette 202 route on the same stack: {rounds}; "
        f"median ratio {statistics.median(ratios):.2f} (≥ 0.4)"
    )
    middle = sorted(api_runs, key=lambda r: r.rate)[len(api_runs) // 2]
    print(
        f"  API latency (median round): p50 {middle.p50_ms:.2f} ms, p99 {middle.p99_ms:.2f} ms; "
        f"every 2xx answer's event found in the store"
    )
    print(
        f"  load generator's ceiling (wrk, same script, against fixed bytes from asyncio): "
        f"{ceiling.rate:,.0f} req/s"
    )


def main() -> None:
    """Print the API figures."""
    print("## bench_api")
    parts = os.environ.get("EMITFLOW_BENCH_API", "ingest,hooks,sse").split(",")
    with tempfile.TemporaryDirectory() as home:
        _ingest_figures(Path(home))
        if parts == ["ingest"]:
            return
        with _server("api", str(Path(home) / "a")) as api_url:
            hooks = asyncio.run(_hook_latency(api_url))
        with _server("api", str(Path(home) / "b")) as api_url:
            counts, lags = asyncio.run(_sse(api_url))
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
