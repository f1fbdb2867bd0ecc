"""Sealing: Fernet under a key file created with mode 0600; a wrong key is a clear error."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from emitflow.errors import ConfigurationError
from emitflow.sealing import Sealer, key_path_for


def test_a_key_file_is_made_once_with_mode_0600_and_seals_round_trip(tmp_path: Path) -> None:
    path = key_path_for(str(tmp_path / "emitflow.db"))
    assert path == tmp_path / "emitflow.key"
    sealer = Sealer.from_key_file(path)
    sealed = sealer.seal("hunter2-is-long")
    assert sealed.startswith("sealed:") and "hunter2" not in sealed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Sealer.from_key_file(path)
    assert again.unseal(sealed) == "hunter2-is-long"
    assert again.unseal("plain text") == "plain text"


def test_another_key_cannot_unseal_and_says_which_key_file(tmp_path: Path) -> None:
    sealed = Sealer.from_key_file(tmp_path / "one.key").seal("value-1234")
    other = Sealer.from_key_file(tmp_path / "two.key")
    with pytest.raises(ConfigurationError, match=r"two\.key"):
        other.unseal(sealed)


def test_a_store_without_a_file_gets_a_key_in_memory() -> None:
    assert key_path_for(":memory:") is None
    sealer = Sealer.for_store(None)
    assert sealer.path is None
    assert sealer.unseal(sealer.seal("x")) == "x"
