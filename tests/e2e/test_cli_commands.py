"""The ``emitflow`` commands a server user needs: runs, tokens, webhooks, deploy by name,
``--token``, ``events tail``'s first line, and ``serve``'s port check and log lines."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import EXAMPLE_WORKFLOWS, Server


def _cli(server: Server | None, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "200", **env}
    for name in ("EMITFLOW_SERVER", "EMITFLOW_TOKEN", "EMITFLOW_STORE"):
        environment.pop(name, None)
    if server is not None:
        environment["EMITFLOW_SERVER"] = server.url
        environment.setdefault("EMITFLOW_TOKEN", server.token)
        environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "emitflow", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


class _Log:
    """The rest of a server's output, read as it comes."""

    def __init__(self, server: Server) -> None:
        self.lines = list(server.lines)
        self._thread = threading.Thread(target=self._read, args=(server,), daemon=True)
        self._thread.start()

    def _read(self, server: Server) -> None:
        assert server.process.stdout is not None
        for line in server.process.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: str, deadline_s: float = 30) -> str:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            time.sleep(0.05)
        pytest.fail(f"no line matching {pattern!r} in:\n" + "".join(self.lines))


def test_runs_get_and_list_show_a_run_and_its_tasks(server: Server) -> None:
    log = _Log(server)
    started = httpx.post(f"{server.url}/hooks/p_emitter", json={"go": True})
    run_id = started.json()["run_id"]
    log.wait_for(rf"run {run_id} of p_emitter completed in \d+ ms")
    shown = _cli(server, "runs", "get", run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    run = json.loads(shown.stdout)
    assert run["status"] == "completed" and len(run["tasks"][0]["emits"]) == 4
    table = _cli(server, "runs", "get", run_id)
    assert ": status completed" in table.stdout and "emitter" in table.stdout
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    listed = _cli(server, "runs", "list", "p_emitter")
    assert listed.returncode == 0 and run_id[:10] in listed.stdout
    assert run_id in _cli(server, "runs", "list", "p_emitter", "--wide").stdout
    unknown = _cli(server, "events", "list", "--emitter", "p_nosuchworkflow")
    assert unknown.returncode == 1 and "no emitter 'p_nosuchworkflow'" in unknown.stderr
    missing = _cli(server, "runs", "get", "r_nosuchrun")
    assert missing.returncode == 1 and "404" in missing.stderr
    # One info line per request, without its query string.
    assert log.wait_for(r"POST /hooks/p_emitter 202 \d+ ms")


def test_tokens_list_and_revoke_with_the_token_option(server: Server) -> None:
    made = _cli(server, "tokens", "create", "--name", "reader", "--json")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["data"]
    listed = _cli(server, "tokens", "list", "--json")
    assert token["id"] in [t["id"] for t in json.loads(listed.stdout)["data"]]
    assert token["token"] not in listed.stdout
    # --token wins over EMITFLOW_TOKEN.
    as_reader = _cli(server, "subscriptions", "list", "--token", token["token"])
    assert as_reader.returncode == 0, as_reader.stderr
    revoked = _cli(server, "tokens", "revoke", token["id"])
    assert revoked.returncode == 0 and token["id"] in revoked.stdout
    refused = _cli(server, "subscriptions", "list", "--token", token["token"])
    assert refused.returncode == 1 and "401" in refused.stderr


def test_tokens_list_and_revoke_on_the_local_store(tmp_path: Path) -> None:
    home = {"EMITFLOW_HOME": str(tmp_path)}
    made = _cli(None, "tokens", "create", "--scope", "admin", "--json", **home)
    assert made.returncode == 0, made.stderr
    token_id = json.loads(made.stdout)["data"]["id"]
    assert token_id in _cli(None, "tokens", "list", "--wide", **home).stdout
    assert _cli(None, "tokens", "revoke", token_id, **home).returncode == 0
    again = _cli(None, "tokens", "revoke", token_id, **home)
    assert again.returncode == 1 and "no token" in again.stderr


def test_webhooks_create_list_enable_delete(server: Server) -> None:
    made = _cli(
        server, "webhooks", "create", "http://127.0.0.1:9/hook?key=s3cret", "--name", "n", "--json"
    )
    assert made.returncode == 0, made.stderr
    webhook = json.loads(made.stdout)["data"]
    assert webhook["id"].startswith("wh_") and "s3cret" not in made.stdout
    table = _cli(server, "webhooks", "list")
    assert webhook["id"][:10] in table.stdout and "healthy" in table.stdout
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    assert _cli(server, "webhooks", "enable", webhook["id"]).returncode == 0
    deliveries = _cli(server, "webhooks", "deliveries", webhook["id"], "--json")
    assert json.loads(deliveries.stdout)["data"] == []
    assert _cli(server, "webhooks", "delete", webhook["id"]).returncode == 0
    gone = _cli(server, "webhooks", "delete", webhook["id"])
    assert gone.returncode == 1 and "404" in gone.stderr


def test_webhook_failures_name_the_webhook_and_the_status(server: Server) -> None:
    log = _Log(server)
    auth = {"Authorization": f"Bearer {server.token}"}
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bad = httpx.post(
        f"{server.url}/v1/webhooks",
        params={"url": f"{server.url}/v1/nosuchroute?port={port}", "name": "audit"},
        headers=auth,
    ).json()["data"]
    subscribe = {"emitter_id": "p_emitter", "listener_id": bad["id"]}
    httpx.post(f"{server.url}/v1/subscriptions", params=subscribe, headers=auth)
    httpx.post(f"{server.url}/hooks/p_emitter", json={})
    line = log.wait_for(rf"webhook {bad['id']} \(audit\): delivery \d+ failed")
    assert "HTTP 40" in line and "port=" not in line


def test_deploy_updates_the_workflow_of_the_same_name_unless_new(server: Server) -> None:
    greet = EXAMPLE_WORKFLOWS / "greet.yaml"  # deployed at start as p_greet
    again = _cli(server, "deploy", str(greet))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("p_greet (revision")
    assert "updated p_greet, already deployed as examples/greet" in again.stderr
    fresh = _cli(server, "deploy", str(greet), "--new", "--json")
    assert json.loads(fresh.stdout)["data"]["id"] != "p_greet"
    assert "updated" not in fresh.stderr


def test_events_tail_says_what_it_follows_at_once(server: Server) -> None:
    env = {**os.environ, "EMITFLOW_SERVER": server.url, "EMITFLOW_TOKEN": server.token}
    follower = subprocess.Popen(
        [sys.executable, "-m", "emitflow", "events", "tail", "--emitter", "p_emitter"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert follower.stderr is not None
        first = follower.stderr.readline()  # before any event arrives
        assert first.startswith(f"following {server.url}/v1/events/stream (emitter_id=p_emitter")
    finally:
        follower.kill()
        follower.wait(timeout=30)
        if follower.stderr is not None:
            follower.stderr.close()


def test_serve_on_a_port_in_use_says_so_and_writes_nothing(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "EMITFLOW_HOME": str(tmp_path)}
        done = subprocess.run(
            [sys.executable, "-m", "emitflow", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"emitflow: port {port} on 127.0.0.1 is in use: stop what listens there, or pick "
        "another with --port (EMITFLOW_PORT; 0 = any free port)"
    ]
    assert list(tmp_path.iterdir()) == []  # no store, no token
