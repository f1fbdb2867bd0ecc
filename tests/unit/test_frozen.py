"""``@frozen``: the DSL model's classes become dataclasses when first used, not at import."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import field

import pytest

from emitflow.frozen import frozen, materialize


def test_importing_the_model_generates_no_dataclass_code() -> None:
    probe = (
        "import dataclasses, emitflow.dsl.model as m\n"
        "print(sum(dataclasses.is_dataclass(getattr(m, n)) for n in m.__all__ if n != 'Json'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "0"


@frozen
class Base:
    name: str
    tags: tuple[str, ...] = ()


@frozen
class Child(Base):
    extra: list[int] = field(default_factory=list)


def test_a_frozen_class_behaves_as_a_frozen_keyword_only_dataclass() -> None:
    child = Child(name="a", extra=[1])
    assert child == Child(name="a", extra=[1]) and child != Child(name="b")
    assert repr(child) == "Child(name='a', tags=(), extra=[1])"
    assert Child(name="x").extra == [] and Child(name="x").extra is not Child(name="y").extra
    with pytest.raises(dataclasses.FrozenInstanceError):
        child.name = "b"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Child("a")  # type: ignore[call-arg]  # keyword-only
    assert hash(Base(name="a")) == hash(Base(name="a"))
    assert [f.name for f in dataclasses.fields(Child)] == ["name", "tags", "extra"]
    assert dataclasses.replace(child, name="c").name == "c"


def _make_one(cls: Callable[..., object], made: list[object]) -> None:
    made.append(cls(n=1))


def test_materialize_is_once_under_threads() -> None:
    # The interpreter switches threads every microsecond here, so a class seen half made by
    # another thread (its stand-in __init__ gone, the generated one not there yet) shows.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(50):

            @frozen
            class Late:
                n: int = 0

            made: list[object] = []
            threads = [threading.Thread(target=_make_one, args=(Late, made)) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert made == [Late(n=1)] * 8
    finally:
        sys.setswitchinterval(interval)
    materialize(Late)  # a second time is a no-op
    assert dataclasses.is_dataclass(Late)
