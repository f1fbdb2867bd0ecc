"""``emitflow migrate`` and ``emitflow worker`` on a store only one process uses: migrations
listed (then "up to date"), and a worker refused with the fix."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from emitflow.cli import app


def test_migrate_lists_what_it_applied_then_says_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/emitflow.db"
    first = CliRunner().invoke(app, ["migrate", "--store", url])
    assert first.exit_code == 0, first.output
    applied = first.stdout.splitlines()
    assert applied[0] == "applied 0001_init"
    assert all(line.startswith("applied 00") for line in applied)
    again = CliRunner().invoke(app, ["migrate", "--store", url])
    assert (again.exit_code, again.stdout) == (0, "up to date\n")


def test_a_worker_needs_a_store_several_processes_share(tmp_path: Path) -> None:
    answer = CliRunner().invoke(app, ["worker", "--store", f"sqlite:///{tmp_path}/e.db"])
    assert answer.exit_code == 2
    assert "postgresql://" in answer.stderr
    assert not (tmp_path / "e.db").exists()


def test_an_unknown_store_scheme_is_one_line(tmp_path: Path) -> None:
    answer = CliRunner().invoke(app, ["migrate", "--store", "bogus://x"])
    assert answer.exit_code == 2
    assert answer.stderr.strip().startswith("emitflow: store URL 'bogus://x'")
