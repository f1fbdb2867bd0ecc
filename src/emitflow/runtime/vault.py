"""``SecretVault``: the secrets an engine's runs read, given at start or set through the API.

Secrets given when the engine is made (``EngineSettings.secrets``: ``emitflow serve --secret``
and ``--secrets-file``) live in memory only. Secrets set with ``put`` (``PUT /v1/secrets/{name}``)
are stored sealed (``emitflow.sealing``: Fernet under the key file beside the store) and win over
given ones of the same name; they are read back when the engine opens. Values are never shown:
``names`` lists names and where each comes from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from emitflow.errors import ConfigurationError
from emitflow.sealing import Sealer
from emitflow.secrets import Redactor
from emitflow.store.base import SecretStore

__all__ = ["SECRET_NAME", "SecretVault"]

#: A secret's name: what ``$secrets.<name>`` can read.
SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class SecretVault:
    """Given and stored secrets, merged; stored ones are sealed at rest."""

    def __init__(
        self, store: SecretStore, given: Mapping[str, Any], *, key_for: Any = None
    ) -> None:
        self._store = store
        self._given = dict(given)
        self._stored: dict[str, Any] = {}
        self._key_for = key_for
        self._sealer: Sealer | None = None
        self._current: dict[str, Any] = dict(given)
        self._redactor: Redactor | None = None

    @property
    def sealer(self) -> Sealer:
        """The store's sealer (its key file is created on first use)."""
        if self._sealer is None:
            self._sealer = Sealer.for_store(self._key_for)
        return self._sealer

    async def load(self) -> None:
        """Read the stored secrets (unsealed in memory)."""
        sealed = await self._store.list_secrets()
        self._stored = {name: json.loads(self.sealer.unseal(v)) for name, v in sealed.items()}
        self._refresh()

    def current(self) -> Mapping[str, Any]:
        """Every secret by name (stored over given); a run reads the ones it declares."""
        return self._current

    def redactor(self) -> Redactor:
        """Masks every current secret value (what a run's records hold is computed from them,
        so views of runs go through this); made again when the secrets change."""
        if self._redactor is None:
            self._redactor = Redactor(self._current)
        return self._redactor

    def names(self) -> list[dict[str, str]]:
        """Each secret's name and where it comes from (``api`` or ``server``), no values."""
        names = sorted({*self._given, *self._stored})
        return [{"name": n, "source": "api" if n in self._stored else "server"} for n in names]

    async def put(self, name: str, value: Any, at: datetime) -> None:
        """Store (sealed) or replace a secret."""
        check_name(name)
        if not isinstance(value, str | dict) or value == "" or value == {}:
            raise ConfigurationError(
                f"secret {name!r}: the value must be a non-empty string or JSON object"
            )
        await self._store.put_secret(name, self.sealer.seal(json.dumps(value)), at)
        self._stored[name] = value
        self._refresh()

    async def delete(self, name: str) -> bool:
        """Remove a stored secret (a given one stays until the server restarts without it)."""
        removed = await self._store.delete_secret(name)
        self._stored.pop(name, None)
        self._refresh()
        return removed

    def masked(self, view: Mapping[str, Any]) -> dict[str, Any]:
        """A JSON view (of a run, a task) with every current secret value masked."""
        return dict(self.redactor().value(view))

    def _refresh(self) -> None:
        self._current = {**self._given, **self._stored}
        self._redactor = None


def check_name(name: str) -> None:
    """Refuse a name ``$secrets.<name>`` could not read."""
    if not SECRET_NAME.match(name):
        raise ConfigurationError(
            f"secret name {name!r}: use letters, digits and '_' (not first a digit), at most "
            "128 characters, e.g. orderServiceApiKey"
        )
