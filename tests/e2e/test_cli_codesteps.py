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


LISTENER = """
def handler(pd):
    event = pd.steps["trigger"]["event"]
    print("heard", event["name"])
    return {"heard": event["name"].upper()}
"""


def test_each_emitted_event_feeds_the_python_listener(tmp_path: Path) -> None:
    emitter = tmp_path / "emitter.py"
    emitter.write_text(EMITTER)
    listener = tmp_path / "listener.py"
    listener.write_text(LISTENER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMITFLOW_")}

    def emitflow(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "emitflow", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )

    events_file = tmp_path / "events.jsonl"
    assert emitflow("run", str(emitter), "--events", str(events_file)).returncode == 0
    heard = []
    for line in events_file.read_text().splitlines():
        payload = tmp_path / "payload.json"
        payload.write_text(json.dumps(json.loads(line)["data"]))
        done = emitflow("run", str(listener), "--input", f"@{payload}")
        assert done.returncode == 0, done.stderr
        heard.append(json.loads(done.stdout)["heard"])
    assert heard == ["LUKE", "HAN", "LEIA", "OBI WAN"]
