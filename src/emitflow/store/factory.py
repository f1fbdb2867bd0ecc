"""``open_store(url)``: the backend chosen by URL scheme from a lazy table.

A backend module is imported only when its scheme is used, so each driver stays an install
extra. The table maps a scheme to ``"module:Class"``; the class builds itself with ``from_url``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from emitflow.clock import Clock
from emitflow.errors import ConfigurationError
from emitflow.ids import IdFactory
from emitflow.store.base import Store, StoreClass

__all__ = ["BACKENDS", "open_store", "store_exists"]

BACKENDS: Mapping[str, str] = {
    "sqlite": "emitflow.store.sqlite:SqliteStore",
    "memory": "emitflow.store.memory:MemoryStore",
    "postgresql": "emitflow.store.postgres:PostgresStore",
    "postgres": "emitflow.store.postgres:PostgresStore",
}
_INSTALL_HINTS: Mapping[str, str] = {
    "sqlite": "use a Python built with its standard sqlite3 module",
    "postgresql": 'pip install "emitflow[postgres]"',
    "postgres": 'pip install "emitflow[postgres]"',
}


def open_store(
    url: str,
    *,
    clock: Clock | None = None,
    ids: IdFactory | None = None,
    backends: Mapping[str, str] = BACKENDS,
) -> Store:
    """The store for ``url``, not yet open: use ``async with open_store(url) as store:``."""
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    known = ", ".join(sorted(backends))
    target = backends.get(scheme)
    if target is None:
        raise ConfigurationError(
            f"store URL {url!r}: unknown scheme {scheme!r}; known schemes: {known}"
        )
    return _backend(scheme, target, known).from_url(url, clock=clock, ids=ids)


def store_exists(url: str) -> bool:
    """Whether there is a store at ``url`` to read: ``False`` only for a ``sqlite:`` URL whose
    file is not there (opening it would create an empty one). Raises ``ConfigurationError``
    for a malformed ``sqlite:`` URL."""
    if url.partition(":")[0].lower() != "sqlite":
        return True
    from emitflow.store.sqlite import path_from_url
    from emitflow.store.sqlite.database import MEMORY

    path = path_from_url(url)
    return path == MEMORY or Path(path).exists()


def _backend(scheme: str, target: str, known: str) -> StoreClass:
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise ConfigurationError(
                f"the {scheme!r} store is not available in this version of emitflow "
                f"({module_name} is missing); known schemes: {known}"
            ) from exc
        hint = _INSTALL_HINTS.get(scheme, f'pip install "emitflow[{scheme}]"')
        raise ConfigurationError(
            f"the {scheme!r} store needs the {exc.name!r} package, which is not installed: {hint}"
        ) from exc
    backend = getattr(module, class_name, None)
    if backend is None or not hasattr(backend, "from_url"):
        raise ConfigurationError(
            f"the {scheme!r} store {target!r} is not a store class; known schemes: {known}"
        )
    return cast(StoreClass, backend)
