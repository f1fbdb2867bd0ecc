"""``make demo``: ``emitflow serve`` with the example workflows, and the seed's walkthrough to try.

Starts the server on 127.0.0.1 (port ``EMITFLOW_PORT``, default 8080) with a store in
``.emitflow-demo/``, an admin token made for this start, and the workflows of
``examples/workflows`` (``p_emitter``, ``p_listener``, ``p_greet``); prints the URL, the token,
the inspector's URL with the seed's walkthrough in the browser, and the same as curl lines; stops
(committing what runs) on Ctrl-C.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _walkthrough(url: str, token: str) -> str:
    auth = f'-H "Authorization: Bearer {token}"'
    return f"""
emitflow is serving the examples on {url}
  token: {token}

In the shell where you try it (the README's blocks read $URL and $T):
export URL={url} T={token}
source .venv/bin/activate

Open the event inspector: {url}/ui  (sign in with the token above), then:
  1. Subscriptions: pick emitter p_emitter, channel default, listener p_listener; Subscribe.
  2. Workflows > p_emitter: Run now. The run shows its four emits under the step,
     each linked to the p_listener run it started; Events shows them arrive live.

Or the same with curl (emitter p_emitter emits four names from a Python step):
  curl -X POST "{url}/v1/subscriptions?emitter_id=p_emitter&listener_id=p_listener" {auth}
  curl -X POST "{url}/hooks/p_emitter" -H 'Content-Type: application/json' -d '{{"go": true}}'
  curl "{url}/v1/workflows/p_emitter/event_summaries?expand=event" {auth}
  curl "{url}/v1/workflows/p_listener/runs" {auth}
  curl -N "{url}/v1/events/stream" {auth}

Ctrl-C stops the server.
"""


def main() -> int:
    """Run the demo server until Ctrl-C."""
    token = os.environ.get("EMITFLOW_TOKEN") or "efk_demo_" + secrets.token_urlsafe(16)
    port = os.environ.get("EMITFLOW_PORT", "8080")
    env = {
        **os.environ,
        "EMITFLOW_TOKEN": token,
        "EMITFLOW_HOME": os.environ.get("EMITFLOW_HOME", str(ROOT / ".emitflow-demo")),
    }
    command = [sys.executable, "-m", "emitflow", "serve", "--port", port]
    command += ["--workflows", str(HERE / "workflows")]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    try:
        for line in server.stdout:
            if line.startswith("admin token"):
                continue  # the demo uses its own token, printed below
            print(line, end="", flush=True)
            if line.startswith("emitflow serving on "):
                print(_walkthrough(line.split()[-1], token), flush=True)
        return server.wait()
    except KeyboardInterrupt:
        server.send_signal(signal.SIGTERM)
        return server.wait()


if __name__ == "__main__":
    sys.exit(main())
