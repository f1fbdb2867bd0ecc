"""The public surface: ``__all__`` of ``emitflow`` and of each package says exactly what it has.

As httpx's ``test_exported_members``: a package's ``__init__`` holds only imports and
``__all__``, so every public name it binds is exported and every exported name exists. A role's
protocols (``<role>/base.py``) and its records are exported with it.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import types
from typing import Protocol

import pytest

import emitflow

PACKAGES = sorted(
    f"emitflow.{module.name}" for module in pkgutil.iter_modules(emitflow.__path__) if module.ispkg
)
#: The role packages: those with a ``base.py`` of protocols.
ROLES = [name for name in PACKAGES if importlib.util.find_spec(f"{name}.base") is not None]


def _public(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"  # from __future__ import annotations
    }


def test_the_top_level_exports_the_engine_lazily() -> None:
    assert set(emitflow.__all__) == {"Engine", "__version__"}
    assert _public(emitflow) == set()  # the Engine is imported on first use
    from emitflow.runtime import Engine

    assert emitflow.Engine is Engine


@pytest.mark.parametrize("name", PACKAGES)
def test_a_package_exports_what_it_imports(name: str) -> None:
    package = importlib.import_module(name)
    exported = package.__all__
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    for member in exported:
        getattr(package, member)  # a package that imports lazily (codesteps) binds it now
    assert set(exported) == _public(package)


@pytest.mark.parametrize("name", ROLES)
def test_a_role_exports_its_protocols(name: str) -> None:
    base = importlib.import_module(f"{name}.base")
    package = importlib.import_module(name)
    protocols = {
        member
        for member, value in vars(base).items()
        if inspect.isclass(value)
        and value.__module__ == base.__name__
        and Protocol in value.__mro__
        and not member.startswith("_")
    }
    assert protocols <= set(package.__all__)


def test_the_store_exports_its_records() -> None:
    from emitflow import store
    from emitflow.store import records

    classes = {
        member
        for member, value in vars(records).items()
        if inspect.isclass(value) and value.__module__ == records.__name__
    }
    assert {"Webhook", "WebhookDelivery", "StoredTask"} <= classes <= set(store.__all__)
    assert "WebhookStore" in store.__all__
