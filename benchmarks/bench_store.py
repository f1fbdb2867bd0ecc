"""Store figures on the embedded SQLite store (a temporary file), or on PostgreSQL.

``python -m benchmarks.bench_store --store postgresql://user@host/db`` measures the emitter
pages on PostgreSQL instead: the million events are bulk-loaded with ``COPY`` into a schema of
their own (``bench_<random>``, dropped after), numbered as the store numbers them, and the same
pages are read through ``PostgresStore``.

- Build: a log of 1,000,000 events from 1,000 emitters (10 hot ones get half of them), appended
  in batches of 1,000 events, a few batches in flight at once; events/s.
- Emitter pages (what an ``event_summaries`` page reads): ``list_events`` of one emitter, newest
  first, limit 10 and 100, without and with a ``before`` cursor somewhere in its history;
  p50/p99 over 1,000 queries each, hot and cold emitters mixed.
- Peak RSS of the process (``resource.getrusage``), after the build and after the pages.
- Single-event appends: one ``append_events([event])`` awaited at a time, and 50 appenders at
  once (group commit), beside a plain ``sqlite3`` loop inserting one row per transaction (WAL,
  synchronous=NORMAL) in the same run; the ratio.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import secrets
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks.bench_events import plain_sqlite_rate
from emitflow.events.cloudevent import CloudEvent
from emitflow.store import EventQuery, NewEvent, Store
from emitflow.store.codec import SEQ_BITS, position_text
from emitflow.store.sqlite import SqliteStore

EVENTS = 1_000_000
EMITTERS = 1_000
HOT_EMITTERS = 10
HOT_SHARE = 0.5
BATCH = 1_000
IN_FLIGHT = 4
QUERIES = 1_000
CURSOR_SAMPLE = 50  # keep every 50th position of each emitter as a cursor to page from
SINGLE_APPENDS = 5_000
APPENDERS = 50


def _emitter(rng: random.Random) -> str:
    if rng.random() < HOT_SHARE:
        return f"p_hot{rng.randrange(HOT_EMITTERS):02d}"
    return f"p_e{rng.randrange(EMITTERS - HOT_EMITTERS):04d}"


def _new_event(emitter_id: str, n: int) -> NewEvent:
    event = CloudEvent(
        attributes={
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": f"/bench/{emitter_id}",
            "type": "com.example.tick",
            "time": "2026-01-01T00:00:00.000Z",
            "datacontenttype": "application/json",
        },
        data={"n": n, "note": "a small payload, like most events"},
    )
    return NewEvent(emitter_id=emitter_id, event=event, metadata={"run_id": "r_bench"})


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def build(store: SqliteStore, total: int) -> tuple[float, dict[str, list[str]]]:
    """Append ``total`` events in batches; events/s, and sample cursors per emitter."""
    rng = random.Random(7)
    cursors: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    queue: asyncio.Queue[list[NewEvent] | None] = asyncio.Queue(maxsize=IN_FLIGHT)

    async def append() -> None:
        while (batch := await queue.get()) is not None:
            for stored in await store.append_events(batch):
                seen = counts[stored.emitter_id] = counts.get(stored.emitter_id, 0) + 1
                if seen % CURSOR_SAMPLE == 0:
                    cursors.setdefault(stored.emitter_id, []).append(stored.position)

    start = time.perf_counter()
    workers = [asyncio.create_task(append()) for _ in range(IN_FLIGHT)]
    for offset in range(0, total, BATCH):
        size = min(BATCH, total - offset)
        await queue.put([_new_event(_emitter(rng), offset + k) for k in range(size)])
    for _ in workers:
        await queue.put(None)
    await asyncio.gather(*workers)
    return total / (time.perf_counter() - start), cursors


async def pages(
    store: Store, cursors: dict[str, list[str]], limit: int, *, with_cursor: bool
) -> list[float]:
    """Milliseconds per emitter page, ``QUERIES`` of them."""
    rng = random.Random(limit * 2 + with_cursor)
    emitters = sorted(cursors)
    hot = [e for e in emitters if e.startswith("p_hot")]
    spans = []
    for _ in range(QUERIES):
        emitter_id = rng.choice(hot if rng.random() < HOT_SHARE else emitters)
        before = rng.choice(cursors[emitter_id]) if with_cursor else None
        started = time.perf_counter()
        page = await store.list_events(
            EventQuery(emitter_id=emitter_id), limit=limit, before=before
        )
        spans.append((time.perf_counter() - started) * 1000)
        if not page.items:
            raise RuntimeError(f"empty page of {emitter_id}")
    return spans


async def single_appends(folder: Path, n: int, parallel: int) -> tuple[float, int]:
    """Events/s of one-event appends, ``parallel`` appenders at once; and the commits made."""
    events = [_new_event("p_single", k) for k in range(n)]
    async with SqliteStore(folder / f"single-{parallel}.db") as store:
        start = time.perf_counter()

        async def appender(share: list[NewEvent]) -> None:
            for new in share:
                await store.append_events([new])

        await asyncio.gather(*(appender(events[k::parallel]) for k in range(parallel)))
        rate = n / (time.perf_counter() - start)
        # A figure for the report, not an API (and absent before group commit).
        commits = getattr(store._db, "commits", 0) or n
    return rate, commits


async def run(folder: Path) -> None:
    """Build the log, read pages, and print every figure."""
    path = folder / "log.db"
    async with SqliteStore(path) as store:
        rate, cursors = await build(store, EVENTS)
        built_rss = _rss_mb()
        size = path.stat().st_size + (path.with_name(path.name + "-wal")).stat().st_size
        print(
            f"store build, sqlite: {EVENTS:,} events from {len(cursors):,} emitters "
            f"({HOT_EMITTERS} hot with {HOT_SHARE:.0%}), batches of {BATCH:,}, {IN_FLIGHT} in "
            f"flight: {rate:,.0f} events/s; file {size / 2**20:,.0f} MB; "
            f"peak RSS {built_rss:,.0f} MB"
        )
        for limit in (10, 100):
            for with_cursor in (False, True):
                spans = await pages(store, cursors, limit, with_cursor=with_cursor)
                how = "before a cursor" if with_cursor else "newest"
                print(
                    f"emitter page, {EVENTS:,} events, limit {limit}, {how}: "
                    f"p50 {_percentile(spans, 0.5):.2f} ms, p99 {_percentile(spans, 0.99):.2f} ms"
                    f" over {QUERIES:,} queries (target p99 ≤ 10 ms)"
                )
    print(f"peak RSS after building and reading: {_rss_mb():,.0f} MB (target < 300 MB)")
    plain = plain_sqlite_rate(folder, SINGLE_APPENDS)
    for parallel in (1, APPENDERS):
        appended, commits = await single_appends(folder, SINGLE_APPENDS, parallel)
        who = "one at a time" if parallel == 1 else f"{parallel} appenders at once"
        print(
            f"single-event appends, sqlite, {SINGLE_APPENDS:,} {who}: {appended:,.0f} events/s "
            f"({SINGLE_APPENDS / max(commits, 1):.1f} per commit); plain sqlite3 one-row "
            f"transactions {plain:,.0f} rows/s; ratio {appended / plain:.2f}"
        )


COPY_CHUNK = 50_000
EVENTS_PER_MS = 100  # positions of the loaded log: 100 events per millisecond
_COLUMNS = ("pos", "emitter_id", "channel", "source", "event_id", "type", "subject", "event")


def _rows(total: int, start_ms: int, cursors: dict[str, list[str]]) -> Iterator[tuple[object, ...]]:
    """The ``events`` rows of the loaded log, as the store would have numbered them (the
    same events as ``_new_event``'s, written as JSON directly: a million ``CloudEvent``
    objects would take longer to make than to load)."""
    rng = random.Random(7)
    counts: dict[str, int] = {}
    encode = json.JSONEncoder(separators=(",", ":")).encode
    for n in range(total):
        emitter_id = _emitter(rng)
        event_id = str(uuid.uuid4())
        source = f"/bench/{emitter_id}"
        body = encode(
            {
                "specversion": "1.0",
                "id": event_id,
                "source": source,
                "type": "com.example.tick",
                "time": "2026-01-01T00:00:00.000Z",
                "datacontenttype": "application/json",
                "data": {"n": n, "note": "a small payload, like most events"},
            }
        )
        pos = (start_ms + n // EVENTS_PER_MS) << SEQ_BITS | n % EVENTS_PER_MS
        seen = counts[emitter_id] = counts.get(emitter_id, 0) + 1
        if seen % CURSOR_SAMPLE == 0:
            cursors.setdefault(emitter_id, []).append(position_text(pos))
        yield (pos, emitter_id, "", source, event_id, "com.example.tick", None, body)


JSON_ROWS = 20_000
JSON_BATCH = 500


async def text_or_jsonb(conn: Any, rows: list[tuple[object, ...]]) -> dict[str, float]:
    """Best of 3 (alternating) seconds to write ``rows``' event JSON into a TEXT and a JSONB
    column, in batches of ``JSON_BATCH`` as the store writes, and to read it back and decode."""
    bodies = [str(row[7]) for row in rows]
    spans: dict[str, float] = {}
    for kind in ("text", "jsonb"):
        await conn.execute(f"CREATE TEMP TABLE json_{kind} (n bigint PRIMARY KEY, body {kind})")
    for _ in range(3):
        for kind in ("text", "jsonb"):
            await conn.execute(f"TRUNCATE json_{kind}")
            started = time.perf_counter()
            for at in range(0, len(bodies), JSON_BATCH):
                chunk = bodies[at : at + JSON_BATCH]
                await conn.execute(
                    f"INSERT INTO json_{kind} SELECT n, body::{kind}"
                    " FROM unnest($1::bigint[], $2::text[]) AS r (n, body)",
                    list(range(at, at + len(chunk))),
                    chunk,
                )
            wrote = time.perf_counter() - started
            started = time.perf_counter()
            for at in range(0, len(bodies), JSON_BATCH):
                found = await conn.fetch(
                    f"SELECT body::text AS body FROM json_{kind} WHERE n >= $1 AND n < $2",
                    at,
                    at + JSON_BATCH,
                )
                for record in found:
                    json.loads(record["body"])
            read = time.perf_counter() - started
            for name, seconds in ((f"write {kind}", wrote), (f"read {kind}", read)):
                spans[name] = min(seconds, spans.get(name, seconds))
    return spans


async def json_columns(url: str) -> None:
    """Only the TEXT vs JSONB figure (``--store URL --json``), on temporary tables."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        spans = await text_or_jsonb(conn, list(_rows(JSON_ROWS, 0, {})))
    finally:
        await conn.close()
    print(_json_figure(spans) + f"; {_load()}")


def _json_figure(spans: dict[str, float]) -> str:
    return f"event JSON as TEXT vs JSONB, {JSON_ROWS:,} events in batches of {JSON_BATCH}: " + (
        ", ".join(f"{name} {seconds * 1000:,.0f} ms" for name, seconds in spans.items())
    )


async def sqlite_pages_of_the_same_log(folder: Path, start_ms: int) -> None:
    """The same million rows in a SQLite store (inserted directly), read the same way: the
    same-run baseline of the PostgreSQL pages."""
    path = folder / "same-log.db"
    async with SqliteStore(path):
        pass  # the schema
    cursors: dict[str, list[str]] = {}
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO events (pos, emitter_id, channel, source, event_id, type, subject,"
            ' event, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, \'{"run_id":"r_bench"}\')',
            _rows(EVENTS, start_ms, cursors),
        )
    conn.close()
    async with SqliteStore(path) as store:
        for limit in (10, 100):
            for with_cursor in (False, True):
                spans = await pages(store, cursors, limit, with_cursor=with_cursor)
                how = "before a cursor" if with_cursor else "newest"
                print(
                    f"emitter page, sqlite (same log, same run), limit {limit}, {how}: "
                    f"p50 {_percentile(spans, 0.5):.2f} ms, "
                    f"p99 {_percentile(spans, 0.99):.2f} ms over {QUERIES:,} queries"
                )


async def run_postgres(url: str) -> None:
    """Bulk-load the log into a schema of its own, read pages through the store, drop it."""
    import asyncpg

    from emitflow.store.postgres import PostgresStore

    schema = f"bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(url)
    try:
        version = admin.get_server_version()
        print(f"postgresql {version.major}.{version.minor}; schema {schema}; {_load()}")
        await admin.execute(f"CREATE SCHEMA {schema}")
        joiner = "&" if "?" in url else "?"
        store_url = f"{url}{joiner}search_path={schema}"
        try:
            async with PostgresStore(store_url) as store:
                cursors: dict[str, list[str]] = {}
                started = time.perf_counter()
                start_ms = int(time.time() * 1000) - EVENTS // EVENTS_PER_MS
                rows = _rows(EVENTS, start_ms, cursors)
                loader = await asyncpg.connect(store_url)
                try:
                    while chunk := [row for _, row in zip(range(COPY_CHUNK), rows, strict=False)]:
                        await loader.copy_records_to_table(
                            "events",
                            records=[(*row, '{"run_id":"r_bench"}') for row in chunk],
                            columns=[*_COLUMNS, "metadata"],
                            schema_name=schema,
                        )
                    last = (start_ms + EVENTS // EVENTS_PER_MS) << SEQ_BITS
                    await loader.execute(
                        "UPDATE store_meta SET value = $1 WHERE key = 'last_position'", last
                    )
                    await loader.execute("ANALYZE events")
                    size = await loader.fetchval(
                        "SELECT pg_total_relation_size('events') + "
                        "pg_total_relation_size('event_counts')"
                    )
                finally:
                    await loader.close()
                rate = EVENTS / (time.perf_counter() - started)
                sample = list(_rows(JSON_ROWS, start_ms, {}))
                print(
                    f"store build, postgresql: {EVENTS:,} events from {len(cursors):,} emitters "
                    f"bulk-loaded with COPY in chunks of {COPY_CHUNK:,}: {rate:,.0f} events/s; "
                    f"tables and indexes {size / 2**20:,.0f} MB"
                )
                for limit in (10, 100):
                    for with_cursor in (False, True):
                        spans = await pages(store, cursors, limit, with_cursor=with_cursor)
                        how = "before a cursor" if with_cursor else "newest"
                        print(
                            f"emitter page, postgresql, {EVENTS:,} events, limit {limit}, {how}: "
                            f"p50 {_percentile(spans, 0.5):.2f} ms, "
                            f"p99 {_percentile(spans, 0.99):.2f} ms over {QUERIES:,} queries "
                            "(target p99 ≤ 10 ms)"
                        )
            json_spans = await text_or_jsonb(admin, sample)
            print(_json_figure(json_spans))
        finally:
            await admin.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await admin.close()
    with tempfile.TemporaryDirectory(prefix="emitflow-bench-") as name:
        await sqlite_pages_of_the_same_log(Path(name), start_ms)
    print(f"done; {_load()}")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def main(args: Sequence[str] = ()) -> None:
    """Print the figures with their targets (``--store postgresql://…``: on PostgreSQL)."""
    args = list(args)
    if args[:1] == ["--store"] and len(args) == 3 and args[2] == "--json":
        asyncio.run(json_columns(args[1]))
        return
    if args[:1] == ["--store"] and len(args) == 2:
        asyncio.run(run_postgres(args[1]))
        return
    if args:
        raise SystemExit(
            "usage: python -m benchmarks.bench_store [--store postgresql://… [--json]]"
        )
    print(f"sqlite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory(prefix="emitflow-bench-") as name:
        asyncio.run(run(Path(name)))


if __name__ == "__main__":
    main(sys.argv[1:])
