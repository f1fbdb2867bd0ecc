"""``@frozen``: a frozen, keyword-only dataclass whose methods are generated on first use.

``dataclasses.dataclass`` writes and compiles an ``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, ``__setattr__`` and ``__delattr__`` for every class when the class is defined:
about 1 ms per class, so the ~45 classes of the DSL model cost tens of milliseconds at every
start of the ``emitflow`` command, most of them for task kinds a given document never uses.
``@frozen`` defers that work to the class's first instantiation, then applies the very same
``dataclass(frozen=True, kw_only=True)`` in place, base classes first.

What the deferral changes: ``dataclasses.fields(cls)`` on a class none of whose instances was
made yet needs ``materialize(cls)`` first, and instances carry a ``__dict__`` (a frozen
dataclass made in place cannot add ``__slots__``). Materialising takes a lock, so documents
loaded on several threads at once see each class made once, and never half made (``_make``).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, TypeVar, dataclass_transform

__all__ = ["frozen", "materialize"]

T = TypeVar("T", bound=type)

_LAZY = "__emitflow_lazy__"
_LOCK = threading.RLock()


@dataclass_transform(
    frozen_default=True, kw_only_default=True, field_specifiers=(dataclasses.field,)
)
def frozen(cls: T) -> T:
    """Make ``cls`` a frozen, keyword-only dataclass when it is first instantiated."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        materialize(cls)
        cls.__dict__["__init__"](self, *args, **kwargs)  # the generated one, from now on

    type.__setattr__(cls, "__init__", __init__)
    type.__setattr__(cls, _LAZY, True)
    return cls


def materialize(cls: type) -> None:
    """Generate the dataclass methods of ``cls`` and of its ``@frozen`` bases, once."""
    with _LOCK:
        for base in reversed(cls.__mro__):
            if base.__dict__.get(_LAZY):
                _make(base)


def _make(base: type) -> None:
    """Make ``base`` a dataclass in place, its stand-in ``__init__`` there until the generated
    one replaces it in one assignment.

    ``dataclass`` generates no ``__init__`` where the class has one, and removing the stand-in
    first would leave, for an instant, a class whose ``__init__`` is ``object``'s: another
    thread making an instance then gets "takes no arguments". So the class is made without
    an ``__init__`` (the stand-in stays, and sends other threads to wait for the lock), and
    the one ``dataclass`` writes is taken from a subclass with no fields of its own, which
    therefore gets exactly the ``__init__`` of ``base``'s fields.
    """
    dataclasses.dataclass(frozen=True, kw_only=True, init=False)(base)
    names = {"__module__": base.__module__, "__qualname__": base.__qualname__}
    probe: type = dataclasses.dataclass(frozen=True, kw_only=True)(
        type(base.__name__, (base,), names)
    )
    type.__setattr__(base, "__init__", probe.__dict__["__init__"])
    type.__delattr__(base, _LAZY)
