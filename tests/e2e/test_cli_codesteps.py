"""``emitflow run`` on the seed's emitter written as a Python file: its four events come out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EMITTER = """
def handler(pd):
    for name in ["Luke", "Han", "Leia", "Obi Wan"]:
        pd.send.emit({"name": name})
    return {"emitted": 4}
"""


def test_emitflow_run_prints_the_python_steps_events(tmp_path: Path) -> None:
    path = tmp_path / "emitter.py"
    path.write_text(EMITTER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMITFLOW_")}
    done = subprocess.run(
        [sys.executable, "-m", "emitflow", "run", str(path), "--events", "-"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"emitted": 4}
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert [event["data"] for event in events] == [
        {"name": "Luke"},
        {"name": "Han"},
        {"name": "Leia"},
        {"name": "Obi Wan"},
    ]
    assert all(event["specversion"] == "1.0" and event["id"] for event in events)
