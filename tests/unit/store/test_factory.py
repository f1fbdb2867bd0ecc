"""``open_store``: backends by URL scheme, and the errors for what is not there."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from emitflow.errors import ConfigurationError
from emitflow.store import MemoryStore, NewRun, open_store
from emitflow.store.factory import BACKENDS
from emitflow.store.sqlite import SqliteStore, path_from_url


def test_memory_by_url() -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    assert isinstance(open_store("MEMORY:"), MemoryStore)
    with pytest.raises(ConfigurationError, match="takes no path"):
        open_store("memory://somewhere")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///relative/store.db", "relative/store.db"),
        ("sqlite:////abs/store.db", "/abs/store.db"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite:///with%20space.db", "with space.db"),
    ],
)
def test_sqlite_url_forms(url: str, path: str) -> None:
    assert path_from_url(url) == path
    store = open_store(url)
    assert isinstance(store, SqliteStore) and store.path == path


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///", "sqlite://host/x.db", "sqlite:///x.db?mode=ro", "sqlite:x"]
)
def test_bad_sqlite_urls_say_what_is_right(url: str) -> None:
    with pytest.raises(ConfigurationError, match="sqlite"):
        open_store(url)


def test_an_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"known schemes: memory, postgres, postgresql"):
        open_store("redis://localhost")
    with pytest.raises(ConfigurationError, match="unknown scheme ''"):
        open_store("no-scheme-at-all")


def test_a_backend_not_written_yet_is_unavailable() -> None:
    table = {**BACKENDS, "future": "emitflow.store.future:FutureStore"}
    with pytest.raises(ConfigurationError, match=r"not available.*known schemes"):
        open_store("future://localhost/emitflow", backends=table)


@pytest.mark.parametrize("url", ["postgresql://localhost/emitflow", "postgres://u:pw@h/db"])
def test_a_postgresql_url_gives_a_postgres_store_not_yet_open(url: str) -> None:
    from emitflow.store.postgres import PostgresStore

    store = open_store(url)
    assert isinstance(store, PostgresStore) and store.shared
    assert "pw" not in store.url  # the password never reaches messages


@pytest.fixture
def fake_backends(tmp_path: Path) -> Iterator[dict[str, str]]:
    (tmp_path / "emitflow_test_needs_driver.py").write_text(
        "import emitflow_test_no_such_driver\n", encoding="utf-8"
    )
    (tmp_path / "emitflow_test_no_class.py").write_text("X = 1\n", encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        yield {
            **BACKENDS,
            "fancy": "emitflow_test_needs_driver:FancyStore",
            "broken": "emitflow_test_no_class:BrokenStore",
        }
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("emitflow_test_needs_driver", "emitflow_test_no_class"):
            sys.modules.pop(name, None)


def test_a_missing_driver_gives_an_install_hint(fake_backends: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match=r"emitflow_test_no_such_driver.*pip install"):
        open_store("fancy://x", backends=fake_backends)


def test_a_table_entry_that_is_not_a_store(fake_backends: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="not a store class"):
        open_store("broken://x", backends=fake_backends)


async def test_parent_folders_are_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with open_store(f"sqlite:///{tmp_path}/a/b/store.db") as store:
        assert await store.list_workflows() == []
    assert (tmp_path / "a" / "b" / "store.db").is_file()
    monkeypatch.chdir(tmp_path)
    async with open_store("sqlite:///rel/dir/store.db"):
        pass
    assert (tmp_path / "rel" / "dir" / "store.db").is_file()


async def test_an_in_memory_sqlite_store_works() -> None:
    async with open_store("sqlite:///:memory:") as store:
        run, _ = await store.create_run(NewRun(workflow_id="p_1", workflow_revision=1))
        assert (await store.get_run(run.id)).id == run.id
