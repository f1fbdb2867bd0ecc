"""``Scratch``: after a step, what it wrote goes; what was there before stays and is not walked."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emitflow.codesteps.scratch import Scratch


def _tree(root: Path, files: int) -> None:
    """A stand-in for a virtualenv or a source tree bound below /tmp: ``files`` files."""
    for index in range(files):
        folder = root / f"d{index // 50}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{index}.py").write_text("x = 1\n")
    (root / "SENTINEL").write_text("keep me")


def _step_writes(directory: str, root: Path) -> None:
    """What a step does: files and nested directories in its own directory and beside it."""
    step = Path(directory)
    (step / "out.txt").write_text("x")
    deep = step.joinpath(*(f"n{level}" for level in range(40)))
    deep.mkdir(parents=True)
    (deep / "leaf").write_text("x")
    locked = step / "locked"
    locked.mkdir()
    (locked / "secret").write_text("x")
    locked.chmod(0)  # a step may take its own rights away
    (root / "beside.txt").write_text("x")
    (root / "beside-dir").mkdir()
    (root / "beside-dir" / "f").write_text("x")


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every directory ``os.scandir`` is asked to list while the test runs."""
    listed: list[Any] = []
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        listed.append(os.readlink(f"/proc/self/fd/{path}") if isinstance(path, int) else path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    yield listed


def test_what_a_step_wrote_goes_and_its_directory_is_fresh(tmp_path: Path) -> None:
    scratch = Scratch(str(tmp_path))
    first = scratch.step_directory()
    _step_writes(first, tmp_path)
    scratch.wipe()
    assert list(tmp_path.iterdir()) == []
    second = scratch.step_directory()
    assert second != first
    assert os.listdir(second) == []
    assert os.stat(second).st_mode & 0o777 == 0o700


def test_a_symlink_is_removed_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "SENTINEL").write_text("keep me")
    root = tmp_path / "root"
    root.mkdir()
    scratch = Scratch(str(root))
    step = Path(scratch.step_directory())
    (step / "link").symlink_to(outside)
    (root / "link-beside").symlink_to(outside)
    scratch.wipe()
    assert list(root.iterdir()) == []
    assert (outside / "SENTINEL").read_text() == "keep me"


@pytest.mark.parametrize("files", [10, 2_000])
def test_what_was_there_at_the_start_stays_and_is_not_walked(
    tmp_path: Path, scans: list[Any], files: int
) -> None:
    bound = tmp_path / "clone" / "venv"
    _tree(bound, files)
    scratch = Scratch(str(tmp_path))  # the worker starts: the tree is already there
    for _ in range(3):
        _step_writes(scratch.step_directory(), tmp_path)
        scans.clear()
        scratch.wipe()
        # The step's own directories are listed; the tree, however big, never is.
        assert not [path for path in scans if str(path).startswith(str(tmp_path / "clone"))]
        assert sorted(os.listdir(tmp_path)) == ["clone"]
    assert (bound / "SENTINEL").read_text() == "keep me"
    assert sum(len(names) for _, _, names in os.walk(bound)) == files + 1


def test_a_directory_there_at_the_start_loses_only_what_a_step_added(tmp_path: Path) -> None:
    parent = tmp_path / "clone"
    parent.mkdir(mode=0o755)
    (parent / "old.txt").write_text("old")
    scratch = Scratch(str(tmp_path))
    (parent / "new.txt").write_text("new")
    (parent / "new-dir").mkdir()
    (parent / "new-dir" / "f").write_text("x")
    parent.chmod(0o500)  # and took the rights away
    scratch.wipe()
    assert sorted(os.listdir(parent)) == ["old.txt"]
    assert parent.stat().st_mode & 0o777 == 0o755  # put back as it was
