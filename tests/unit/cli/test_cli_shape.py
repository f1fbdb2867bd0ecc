"""The ``emitflow`` command's shape: what ``--help`` imports, the version, every option's
``EMITFLOW_*`` variable, tables within 80 columns, and local JSON in the API's shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
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


ROOT = Path(__file__).resolve().parents[3]
ONE_SET = """\
document: {dsl: '1.0.0', namespace: test, name: one-set, version: '1.0.0'}
do:
  - only:
      set: {done: true}
"""
#: What no command but its own loads: the other commands' modules.
OTHER_COMMANDS = tuple(f"emitflow.cli.{name}" for name in ("serve", "deploy", "events", "runs"))
#: What ``validate`` must not load: nothing that runs, stores or serves workflows.
NOT_FOR_VALIDATE = (
    *HEAVY[:3],
    *("emitflow.runner", "emitflow.codesteps", "emitflow.brokers", "emitflow.http"),
    *("emitflow.cli.run", "asyncio", "sqlite3"),
    "jq",  # examples/order.yaml's expressions are all in the fast path's subset
)
#: What a run of one ``set`` task must not load: the store, the sandbox, brokers, HTTP, the
#: other task kinds, and jq (its expressions, if any, are in the fast path's subset).
NOT_FOR_ONE_SET = (
    *HEAVY[:3],
    *("emitflow.codesteps", "emitflow.brokers", "emitflow.http", "httpx", "uvicorn"),
    *("emitflow.runner.tasks.call", "emitflow.runner.tasks.run", "emitflow.runner.tasks.listen"),
    *("emitflow.cli.validate", "sqlite3", "jq", "isodate"),
)


def _loaded_by(argv: list[str]) -> tuple[int, list[str]]:
    """The exit code of ``emitflow argv`` and the modules it loaded (in a fresh process)."""
    probe = (
        "import sys, json, runpy\n"
        f"sys.argv = ['emitflow', *{argv!r}]\n"
        "code = 0\n"
        "try:\n    runpy.run_module('emitflow', run_name='__main__')\n"
        "except SystemExit as exc:\n    code = exc.code or 0\n"
        "print(json.dumps([code, sorted(sys.modules)]), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    return code, modules


def _matching(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes)]


def test_validate_loads_nothing_that_runs_stores_or_serves() -> None:
    code, modules = _loaded_by(["validate", "examples/order.yaml"])
    assert code == 0
    assert "emitflow.dsl" in modules
    assert _matching(modules, NOT_FOR_VALIDATE + OTHER_COMMANDS) == []


def test_a_run_of_one_set_loads_only_the_runner_it_needs(tmp_path: Path) -> None:
    workflow = tmp_path / "one-set.yaml"
    workflow.write_text(ONE_SET, encoding="utf-8")
    code, modules = _loaded_by(["run", str(workflow)])
    assert code == 0
    assert "emitflow.runner.tasks.set" in modules
    assert _matching(modules, NOT_FOR_ONE_SET + OTHER_COMMANDS) == []


def test_a_command_is_built_when_it_is_looked_up() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    context = group.make_context("emitflow", ["runs", "list"])
    assert group.list_commands(context)[:3] == ["run", "validate", "serve"]
    runs = group.get_command(context, "runs")
    assert isinstance(runs, TyperGroup)
    assert runs.list_commands(context) == ["get", "list", "replay"]
    assert group.get_command(context, "nope") is None
    assert "nope" not in group.commands


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
    options = _options(typer.main.get_command(app), "emitflow")  # the tree, built once
    for path, option in options:
        if option.opts[0] == "--server":
            siblings = [o for p, o in options if p == path]
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
