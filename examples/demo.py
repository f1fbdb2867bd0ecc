"""``make demo``: the seed example end to end, against a local orders service it starts.

1. starts ``examples/orders_service.py`` on a free loopback port;
2. runs ``emitflow run examples/order.yaml`` for a customer whose order is placed, and for one
   whose order fails, routing ``http://orders-service`` to the local service and printing
   the emitted CloudEvents (``--events -``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
API_KEY = "demo-orders-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(port: int, deadline_s: float = 10.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling a port we just started, with a deadline
    raise SystemExit(f"the orders service did not start on port {port}")


def _run(port: int, customer: str) -> None:
    argv = [
        sys.executable, "-m", "emitflow", "run", str(HERE / "order.yaml"),
        "--input", json.dumps({"customerId": customer, "items": [{"sku": "fish-food", "qty": 2}]}),
        "--context", json.dumps({"customer": {"first": "Ada", "last": "Lovelace"}}),
        "--secret", f"orderServiceApiKey={API_KEY}",
        "--route", f"http://orders-service=http://127.0.0.1:{port}",
        "--events", "-",
    ]  # fmt: skip
    print(f'\n$ emitflow run examples/order.yaml --input \'{{"customerId": "{customer}", …}}\' …')
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    print("events emitted (stderr):")
    for line in done.stderr.splitlines():
        print("  " + line)
    print(f"exit {done.returncode}; output: {done.stdout.strip()}")


def main() -> None:
    """Start the service, run both cases, stop the service."""
    port = _free_port()
    env = {**os.environ, "ORDERS_API_KEY": API_KEY}
    service = subprocess.Popen(
        [sys.executable, str(HERE / "orders_service.py"), "--port", str(port)], env=env
    )
    try:
        _wait_until_listening(port)
        print(f"orders service on http://127.0.0.1:{port}")
        _run(port, "c-42")
        _run(port, "fail")
    finally:
        service.terminate()
        service.wait(timeout=10)


if __name__ == "__main__":
    main()
