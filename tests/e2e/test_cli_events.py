"""``emitflow events list`` and ``emitflow subscriptions …`` as a user runs them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emitflow.runtime import Engine
from tests.integration.runtime.documents import EMITTER, LISTENER

NAMES = ["Luke", "Han", "Leia"]


def emitflow(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with ``EMITFLOW_HOME=home``."""
    environment = {**os.environ, "EMITFLOW_HOME": str(home), "COLUMNS": "200", **env}
    environment.pop("EMITFLOW_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "emitflow", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A store with an emitter that emitted three events and a listener."""
    folder = tmp_path_factory.mktemp("home")

    async def prepare() -> tuple[str, str]:
        async with Engine.open(f"sqlite:///{folder}/emitflow.db") as engine:
            emitter = await engine.deploy(EMITTER)
            listener = await engine.deploy(LISTENER)
            await engine.start(emitter.id, input={"names": NAMES})
            await engine.drain()
            return emitter.id, listener.id

    emitter_id, listener_id = asyncio.run(prepare())
    return folder, emitter_id, listener_id


def test_events_list_as_json_pages_newest_first(home: tuple[Path, str, str]) -> None:
    folder, emitter_id, _ = home
    first = emitflow(folder, "events", "list", "--emitter", emitter_id, "--limit", "2", "--json")
    assert first.returncode == 0, first.stderr
    page = json.loads(first.stdout)
    assert page["page_info"]["total_count"] == 3 and page["page_info"]["count"] == 2
    assert [item["event"]["data"]["name"] for item in page["data"]] == ["Leia", "Han"]
    # The shape of GET /v1/events, as with --server.
    assert page["data"][0]["emitter_id"] == emitter_id
    assert page["data"][0]["event_name"] == ""
    cursor = page["page_info"]["end_cursor"]
    rest = emitflow(folder, "events", "list", "--emitter", emitter_id, "--before", cursor, "--json")
    assert [item["event"]["data"]["name"] for item in json.loads(rest.stdout)["data"]] == ["Luke"]


def test_events_list_as_a_table(home: tuple[Path, str, str]) -> None:
    folder, emitter_id, _ = home
    shown = emitflow(folder, "events", "list", EMITFLOW_EMITTER=emitter_id, EMITFLOW_LIMIT="2")
    assert shown.returncode == 0, shown.stderr
    assert "com.example.greeting" in shown.stdout
    assert "Leia" in shown.stdout and "Luke" not in shown.stdout
    assert "more: --before" in shown.stdout
    assert all(len(line) <= 80 for line in shown.stdout.splitlines())
    assert emitter_id not in shown.stdout  # shortened; --wide shows it
    assert emitter_id in emitflow(folder, "events", "list", "--wide").stdout


def test_subscriptions_create_list_delete(home: tuple[Path, str, str]) -> None:
    folder, emitter_id, listener_id = home
    triple = ["--emitter-id", emitter_id, "--listener-id", listener_id]
    made = emitflow(
        folder,
        "subscriptions",
        "create",
        *triple,
        "--filter",
        '{"sql": "subject = \'Leia\'"}',
        "--json",
    )
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)["data"]
    assert created["id"].startswith("sub_") and created["filters"] == [{"sql": "subject = 'Leia'"}]
    again = emitflow(folder, "subscriptions", "create", *triple, "--json")
    assert json.loads(again.stdout)["data"]["id"] == created["id"]  # idempotent
    listed = emitflow(folder, "subscriptions", "list", "--json")
    assert [s["id"] for s in json.loads(listed.stdout)["data"]] == [created["id"]]
    table = emitflow(folder, "subscriptions", "list")
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    assert created["id"][:12] + "…" in table.stdout  # ids shortened to fit 80 columns
    wide = emitflow(folder, "subscriptions", "list", "--wide")
    assert created["id"] in wide.stdout and listener_id in wide.stdout
    gone = emitflow(folder, "subscriptions", "delete", *triple, "--json")
    assert json.loads(gone.stdout) == {"data": {"deleted": True}}
    twice = emitflow(folder, "subscriptions", "delete", *triple)
    assert twice.returncode == 0 and "nothing deleted" in twice.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listener-id", "p_nope"], "does not exist"),
        (["--listener-id", "wh_123"], "webhook"),
        (["--filter", '{"sql": "type ="}'], "filters[0].sql"),
        (["--filter", "{not json"], "is not JSON"),
        (["--filter", '{"regex": {}}'], "unknown filter dialect"),
    ],
)
def test_subscription_errors_exit_2(
    home: tuple[Path, str, str], args: list[str], message: str
) -> None:
    folder, emitter_id, listener_id = home
    base = {"--emitter-id": emitter_id, "--listener-id": listener_id}
    for name, value in zip(args[::2], args[1::2], strict=True):
        base[name] = value
    flat = [part for pair in base.items() for part in pair]
    failed = emitflow(folder, "subscriptions", "create", *flat)
    assert failed.returncode == 2
    assert message in failed.stderr
    assert failed.stderr.startswith("emitflow: ")


def test_a_missing_store_is_said_and_never_created(tmp_path: Path) -> None:
    listed = emitflow(tmp_path, "events", "list", "--json")
    assert listed.returncode == 1 and listed.stdout == ""
    assert listed.stderr.startswith("emitflow: there is no store at sqlite:///")
    refused = emitflow(
        tmp_path, "subscriptions", "create", "--emitter-id", "p_*", "--listener-id", "p_x"
    )
    assert refused.returncode == 1 and "there is no store" in refused.stderr
    assert not (tmp_path / "emitflow.db").exists()


def test_an_unknown_emitter_is_said(home: tuple[Path, str, str]) -> None:
    folder, emitter_id, _ = home
    for unknown in ("p_nosuchworkflow", "dc_nosuchsource"):
        listed = emitflow(folder, "events", "list", "--emitter", unknown)
        assert listed.returncode == 1, listed.stdout
        assert f"no emitter '{unknown}'" in listed.stderr
    # A known emitter with nothing on the asked channel is an empty page, not an error.
    quiet = emitflow(folder, "events", "list", "--emitter", emitter_id, "--event-name", "x")
    assert quiet.returncode == 0, quiet.stderr


def test_bad_store_url_and_cursor_exit_2(home: tuple[Path, str, str]) -> None:
    folder, _, _ = home
    bad_url = emitflow(folder, "events", "list", "--store", "nosuch://x")
    assert bad_url.returncode == 2 and "unknown scheme" in bad_url.stderr
    bad_cursor = emitflow(folder, "events", "list", "--before", "yesterday")
    assert bad_cursor.returncode == 2 and "invalid event position" in bad_cursor.stderr
    store = f"sqlite:///{folder}/emitflow.db"
    via_env = emitflow(folder, "subscriptions", "list", "--json", EMITFLOW_STORE=store)
    assert via_env.returncode == 0
