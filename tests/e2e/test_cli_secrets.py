"""``emitflow run`` with secrets: masking that does not corrupt data, a warning for short
secrets, and object-valued secrets read as objects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EMITTER = """
def handler(pd):
    pd.send.emit({"message": "message", "customer": "Alice Smith", "who": "Alice"})
    return {"message": "message"}
"""
DB_DOC = """
document: {dsl: '1.0.3', namespace: test, name: db-secret, version: '0.1.0'}
use:
  secrets: [db]
do:
  - look:
      set:
        kind: ${ $secrets.db | type }
        userLength: ${ $secrets.db.user | length }
"""


def _emitflow(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMITFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "emitflow", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_a_short_secret_does_not_corrupt_events_and_is_warned_about(tmp_path: Path) -> None:
    step = tmp_path / "emitter.py"
    step.write_text(EMITTER)
    done = _emitflow(
        "run", str(step), "--secret", "key=e", "--secret", "name=Alice", "--events", "-"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"message": "message"}
    (event,) = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert event["data"] == {"message": "message", "customer": "Alice Smith", "who": "***"}
    assert "key, name" in done.stderr and "shorter than 8 characters" in done.stderr


def test_an_object_secret_is_an_object_in_secrets(tmp_path: Path) -> None:
    doc = tmp_path / "db.yaml"
    doc.write_text(DB_DOC)
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"db": {"user": "orders-user", "password": "pa55word-long"}}))
    done = _emitflow("run", str(doc), "--secrets-file", str(secrets))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"kind": "object", "userLength": 11}
    assert "warning" not in done.stderr
