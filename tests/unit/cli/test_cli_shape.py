"""The ``emitflow`` command's shape: what ``--help`` imports, the version, every option's
``EMITFLOW_*`` variable, tables within 80 columns, and local JSON in the API's shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import typer.main
from typer.core import TyperGroup, TyperOption
from typer.testing import CliRunner

from emitflow import __version__
from emitflow.cli import app
from emitflow.cli.tables import WIDTH, Column, render, short_id

if TYPE_CHECKING:
    # typer builds its commands on its own copy of click, not on the ``click`` package.
    from typer._click import Command

HEAVY = ("emitflow.runtime", "emitflow.store", "emitflow.api", "emitflow.dsl", "httpx", "uvicorn")


def test_importing_the_cli_loads_nothing_of_the_runtime_store_api_or_httpx() -> None:
    probe = (
        "import sys, json, emitflow.cli\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}"
        f" or m.startswith({HEAVY!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == []


def test_help_runs_without_loading_them_either() -> None:
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['emitflow', '--help']\n"
        "try:\n    runpy.run_module('emitflow', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print('LOADED', sorted(m for m in sys.modules if m.startswith({HEAVY!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "LOADED []"
    assert "Commands" in done.stdout


def test_version() -> None:
    answer = CliRunner().invoke(app, ["--version"])
    assert answer.exit_code == 0
    assert answer.stdout.strip() == f"emitflow {__version__}"


def _options(command: Command, path: str) -> list[tuple[str, TyperOption]]:
    found = []
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            found += _options(sub, f"{path} {name}")
    for param in command.params:
        if isinstance(param, TyperOption) and param.name not in {"help", "version"}:
            found.append((path, param))
    return found


# Read by the library under another name, as documented in the option's help.
_DOCUMENTED_ELSEWHERE = {"--route": "EMITFLOW_ROUTES"}


def test_every_option_has_its_emitflow_variable() -> None:
    missing = []
    for path, option in _options(typer.main.get_command(app), "emitflow"):
        flag = option.opts[0]
        if flag in _DOCUMENTED_ELSEWHERE:
            assert _DOCUMENTED_ELSEWHERE[flag] in (option.help or "")
            continue
        if not (isinstance(option.envvar, str) and option.envvar.startswith("EMITFLOW_")):
            missing.append(f"{path} {flag}")
    assert missing == []


def test_the_token_option_reads_emitflow_token_wherever_a_server_is_asked() -> None:
    for path, option in _options(typer.main.get_command(app), "emitflow"):
        if option.opts[0] == "--server":
            siblings = [
                o for p, o in _options(typer.main.get_command(app), "emitflow") if p == path
            ]
            tokens = [o for o in siblings if o.opts[0] == "--token"]
            assert tokens and tokens[0].envvar == "EMITFLOW_TOKEN", path


def test_tables_fit_80_columns_unless_wide() -> None:
    long_id = "p_" + "A" * 17
    columns = [
        Column(title="id", kind="id"),
        Column(title="type"),
        Column(title="data", kind="text"),
    ]
    rows = [[long_id, "com.example.something.happened.v1", json.dumps({"x": "y" * 200})]]
    narrow = render(columns, rows, wide=False)
    assert all(len(line) <= WIDTH for line in narrow)
    assert short_id(long_id) in narrow[1] and long_id not in narrow[1]
    wide = render(columns, rows, wide=True)
    assert long_id in wide[1] and "y" * 200 in wide[1]
