"""Worker uids: leased one per worker slot, never shared by two live workers."""

from __future__ import annotations

import os

import pytest

from emitflow.codesteps.uids import UidLease

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="workers drop to own uids only as root")

BASE = 2_100_000_000


def test_two_leases_get_different_uids_and_a_released_one_is_reused() -> None:
    first, second = UidLease(BASE), UidLease(BASE)
    try:
        assert first.uid == BASE
        assert second.uid == BASE + 1
        first.release()
        again = UidLease(BASE)
        assert again.uid == BASE
        again.release()
    finally:
        first.release()
        second.release()
