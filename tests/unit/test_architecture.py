"""The layout ARCHITECTURE.md describes is the tree's, and the seams it draws hold."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import emitflow

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(emitflow.__file__).parent


def _table_packages() -> set[str]:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Packages", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)/` \|", section, flags=re.MULTILINE))


def test_the_package_table_matches_the_tree() -> None:
    tree = {path.parent.name for path in SOURCE.glob("*/__init__.py")}
    listed = _table_packages()
    assert not tree - listed, f"add a row to ARCHITECTURE.md's package table for {tree - listed}"
    assert not listed - tree, f"ARCHITECTURE.md lists packages that do not exist: {listed - tree}"


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return {name for name in json.loads(output) if name.startswith("emitflow")}


def test_the_runner_imports_neither_the_runtime_nor_the_store() -> None:
    loaded = _loaded_after("import emitflow.runner")
    assert not {name for name in loaded if name.startswith(("emitflow.runtime", "emitflow.store"))}


def test_the_runtime_loads_the_runner_only_to_run() -> None:
    loaded = _loaded_after("import emitflow.runtime")
    assert "emitflow.ports" in loaded
    assert not {
        name for name in loaded if name.startswith(("emitflow.runner", "emitflow.codesteps"))
    }


def test_the_code_steps_do_not_import_the_runner() -> None:
    loaded = _loaded_after("import emitflow.codesteps, emitflow.codesteps.bridge")
    assert not {name for name in loaded if name.startswith("emitflow.runner")}


def test_the_api_goes_through_the_engine_facade() -> None:
    offenders = [
        f"{path.name}:{number}"
        for path in sorted((SOURCE / "api").glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bengine\.store\b|\b_engine\.store\b", line)
    ]
    assert offenders == [], "api/ must call Engine methods, not engine.store"
