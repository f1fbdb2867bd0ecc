"""Sealing values at rest: secrets and webhook URL credentials are stored encrypted.

A ``Sealer`` encrypts text with Fernet (AES-128-CBC with an HMAC-SHA256, from the maintained
``cryptography`` package) under a key kept in a file beside the store, created with mode 0600
on first use. The database alone therefore does not reveal a sealed value; the key file and the
database together do, so back them up apart. A store with no file (``memory://``,
``sqlite:///:memory:``) gets a key that lives as long as the process.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from emitflow.errors import ConfigurationError

__all__ = ["SEALED_PREFIX", "Sealer", "key_path_for"]

#: Marks a sealed value in a column that may also hold plain text (webhook URLs).
SEALED_PREFIX = "sealed:"
_KEY_NAME = "emitflow.key"


def key_path_for(store_path: str | None) -> Path | None:
    """Where the key of a store at ``store_path`` lives: ``emitflow.key`` in its folder
    (``EMITFLOW_KEY_FILE`` wins); ``None`` for a store without a file."""
    configured = os.environ.get("EMITFLOW_KEY_FILE")
    if configured:
        return Path(configured)
    if not store_path or store_path == ":memory:":
        return None
    return Path(store_path).resolve().parent / _KEY_NAME


class Sealer:
    """Encrypts and decrypts short texts with one key."""

    __slots__ = ("_fernet", "path")

    def __init__(self, key: bytes, path: Path | None = None) -> None:
        self._fernet = Fernet(key)
        #: The key file, or None for a key that lives in memory only.
        self.path = path

    @classmethod
    def ephemeral(cls) -> Sealer:
        """A sealer with a fresh key that is never written anywhere."""
        return cls(Fernet.generate_key())

    @classmethod
    def from_key_file(cls, path: Path) -> Sealer:
        """The sealer of the key in ``path``, creating the file (mode 0600) when absent."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                key = path.read_bytes().strip()
            else:
                key = Fernet.generate_key()
                with os.fdopen(fd, "wb") as file:
                    file.write(key + b"\n")
        except OSError as exc:
            raise ConfigurationError(
                f"key file {path}: cannot be read or created ({exc.strerror}); it holds the key "
                "that stored secrets are encrypted with (set EMITFLOW_KEY_FILE to move it)"
            ) from exc
        try:
            return cls(key, path)
        except ValueError as exc:
            raise ConfigurationError(
                f"key file {path}: not a key emitflow wrote (32 url-safe base64-encoded bytes)"
            ) from exc

    @classmethod
    def for_store(cls, store_path: str | None) -> Sealer:
        """The sealer of a store: its key file, or an in-memory key for a store without one."""
        path = key_path_for(store_path)
        return cls.ephemeral() if path is None else cls.from_key_file(path)

    def seal(self, text: str) -> str:
        """``text`` encrypted, as ``sealed:<token>``."""
        return SEALED_PREFIX + self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def unseal(self, sealed: str) -> str:
        """The text of a sealed value; plain text (no prefix) is returned as it is."""
        if not sealed.startswith(SEALED_PREFIX):
            return sealed
        try:
            return self._fernet.decrypt(sealed[len(SEALED_PREFIX) :].encode("ascii")).decode()
        except (InvalidToken, ValueError) as exc:
            where = self.path or "the in-memory key"
            raise ConfigurationError(
                f"a stored value cannot be decrypted with {where}: the key file is not the one "
                "it was sealed with (restore that key file, or store the value again)"
            ) from exc
