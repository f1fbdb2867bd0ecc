"""The ``service(name)`` marker checks its service before the test runs."""

from __future__ import annotations

import socket

import pytest


@pytest.mark.service("redis")
def test_a_marked_test_runs_only_with_its_service_up() -> None:
    # Reached only when the marker found Redis listening (else skipped, or failed under CI).
    with socket.create_connection(("127.0.0.1", 6379), timeout=1.0):
        pass
