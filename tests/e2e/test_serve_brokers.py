"""``emitflow serve`` with an ``emitflow.toml``: a Redis destination receives every workflow's
emitted events and a Redis source feeds the log; a bad config or an unreachable broker stops
the start with a message naming the file or the broker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

import httpx

from tests.conftest import require_service
from tests.contract.brokers import StreamEntries, sdk_from_fields, unique
from tests.e2e.conftest import start_server
from tests.integration.brokers.producers import produce, sdk_event

EMITTER = """\
document: {dsl: '1.0.0', namespace: t, name: tell, version: '1.0.0'}
do:
  - tell:
      emit:
        event:
          with: {source: 'https://t.example', type: com.example.told, data: '${ . }'}
"""


def _read(stream: str, count: int) -> list[dict[str, object]]:
    import redis

    client = redis.Redis()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            entries = cast(StreamEntries, client.xrange(stream))
            if len(entries) >= count:
                return [
                    {k.decode(): (v if k == b"data" else v.decode()) for k, v in fields.items()}
                    for _, fields in entries
                ]
            time.sleep(0.01)  # polling the stream, with the deadline
        raise AssertionError(f"{stream}: fewer than {count} entries")
    finally:
        client.delete(stream)
        client.close()


def test_serve_publishes_and_consumes_as_the_config_says(tmp_path: Path) -> None:
    require_service("redis", port=6379)
    name = unique()
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "tell.yaml").write_text(EMITTER)
    (tmp_path / "emitflow.toml").write_text(
        f"""
[[destinations]]
url = "redis://127.0.0.1:6379/0?stream=out{name}"
types = ["com.example.*"]

[[sources]]
name = "in{name}"
url = "redis://127.0.0.1:6379/0?stream=in{name}&group=g{name}"
"""
    )
    server = start_server(tmp_path, tmp_path / "workflows")
    try:
        assert any("publishing to redis://127.0.0.1:6379" in line for line in server.lines)
        auth = {"Authorization": f"Bearer {server.token}"}
        started = httpx.post(
            f"{server.url}/v1/workflows/p_tell/runs?wait=true",
            json={"input": {"n": 1}},
            headers=auth,
            timeout=60,
        )
        assert started.status_code in (200, 201), started.text
        (entry,) = _read(f"out{name}", 1)
        event = sdk_from_fields(entry)
        assert (event.get_type(), event.get_data()) == ("com.example.told", {"n": 1})
        incoming = sdk_event(f"x{name}", "com.outside.hello", {"order": 3})
        asyncio.run(produce("redis", {"stream": f"in{name}"}, incoming))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = httpx.get(
                f"{server.url}/v1/sources/dc_in{name}/event_summaries?expand=event",
                headers=auth,
                timeout=30,
            ).json()["data"]
            if found:
                break
            time.sleep(0.01)  # polling the API, with the deadline
        assert found[0]["event"] == {"order": 3}
        assert found[0]["metadata"]["emit_id"] == f"x{name}"
    finally:
        server.stop()
        import redis

        redis.Redis().delete(f"in{name}")


def test_a_bad_config_or_unreachable_broker_stops_the_start(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "emitflow", "serve", "--port", "0"]
    env = {**os.environ, "EMITFLOW_HOME": str(tmp_path)}
    (tmp_path / "emitflow.toml").write_text('[[destinations]]\nurl = "nats://x"\nqueue = 1\n')
    bad = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "emitflow.toml: destinations[0]: unknown key(s) ['queue']" in bad.stderr
    (tmp_path / "emitflow.toml").unlink()
    down = subprocess.run(
        [*command, "--broker", "mqtt://127.0.0.1:9?topic=x"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 2
    assert "mqtt://127.0.0.1:9" in down.stderr
