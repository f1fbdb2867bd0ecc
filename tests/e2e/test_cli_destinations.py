"""``emitflow destinations …`` on a local store: create a Redis destination (connected first),
list it, test it, delete it; a wrong broker is exit 2 naming it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import require_service
from tests.contract.brokers import unique
from tests.e2e.test_cli_run import emitflow


def test_destinations_on_the_local_store(tmp_path: Path) -> None:
    require_service("redis", port=6379)
    store = f"sqlite:///{tmp_path}/d.db"
    url = f"redis://127.0.0.1:6379/0?stream=cli{unique()}"
    made = emitflow("destinations", "create", url, "--name", "r", "--store", store, "--json")
    assert made.code == 0, made.stderr
    destination = json.loads(made.stdout)["data"]
    listed = emitflow("destinations", "list", "--store", store, "--json")
    assert [d["id"] for d in json.loads(listed.stdout)["data"]] == [destination["id"]]
    tested = emitflow("destinations", "test", destination["id"], "--store", store)
    assert tested.code == 0 and "ok" in tested.stdout
    deleted = emitflow("destinations", "delete", destination["id"], "--store", store)
    assert deleted.code == 0
    wrong = emitflow("destinations", "create", "amqp://guest:guest@127.0.0.1:9/", "--store", store)
    assert wrong.code == 2 and "amqp://127.0.0.1:9" in wrong.stderr
