"""Shared test plumbing: where the spec kits are, and how a missing service skips or fails."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def spec_dir() -> Path | None:
    """The third-party kits: ``$EMITFLOW_SPEC_DIR`` or ``../shared/spec`` beside the checkout."""
    env = os.environ.get("EMITFLOW_SPEC_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "spec")
    for path in candidates:
        if path.is_dir():
            return path
    return None


def require_spec(sub: str) -> Path:
    """The kit folder ``sub`` under the spec dir, or skip saying why."""
    base = spec_dir()
    if base is None or not (base / sub).exists():
        pytest.skip(f"spec kit {sub!r} not found: set EMITFLOW_SPEC_DIR or put shared/spec beside")
    return base / sub


def services_required() -> bool:
    """True when a missing service must fail the run instead of skipping (CI)."""
    return os.environ.get("EMITFLOW_REQUIRE_SERVICES") == "1"


def require_service(name: str, host: str = "127.0.0.1", port: int | None = None) -> None:
    """Skip (or, under EMITFLOW_REQUIRE_SERVICES=1, fail) when a loopback service is down."""
    if port is None:
        return
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return
    except OSError as exc:
        reason = f"{name} is not reachable on {host}:{port} ({exc})"
        if services_required():
            pytest.fail(reason + "; EMITFLOW_REQUIRE_SERVICES=1 makes this a failure")
        pytest.skip(reason)


#: Where each service named by the ``service(name)`` marker listens on loopback.
SERVICE_PORTS = {"postgres": 5432, "nats": 4222, "rabbitmq": 5672, "mosquitto": 1883, "redis": 6379}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.service("nats")``: skip (or fail under CI) when that service is down."""
    for mark in item.iter_markers("service"):
        (name,) = mark.args
        require_service(name, port=SERVICE_PORTS.get(name))
