"""``MemorySecrets``: the sealed secrets of a ``MemoryStore``."""

from __future__ import annotations

from datetime import datetime

__all__ = ["MemorySecrets"]


class MemorySecrets:
    """Sealed secrets kept in a dict by name (the store checks it is open)."""

    _secrets: dict[str, str]

    def _check_open(self) -> None: ...

    async def put_secret(self, name: str, sealed: str, at: datetime) -> None:
        """Store a sealed secret, or replace it."""
        self._check_open()
        self._secrets[name] = sealed

    async def list_secrets(self) -> dict[str, str]:
        """Every stored secret's sealed value by name."""
        self._check_open()
        return dict(sorted(self._secrets.items()))

    async def delete_secret(self, name: str) -> bool:
        """Remove a secret; ``False`` if there was none."""
        self._check_open()
        return self._secrets.pop(name, None) is not None
