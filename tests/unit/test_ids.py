"""Random ids and UUIDs: their form, and bits no other id gets (threads and forks included)."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from emitflow import ids


def test_random_uuids_are_version_4_uuids_in_their_text_form() -> None:
    made = [ids.random_uuid() for _ in range(5000)]
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_random_bytes_never_repeat_across_read_ahead_blocks() -> None:
    chunks = [ids.random_bytes(size) for size in (7, 4090, 16, 9000, 1) * 20]
    assert [len(chunk) for chunk in chunks] == [7, 4090, 16, 9000, 1] * 20
    longer = [chunk for chunk in chunks if len(chunk) >= 16]
    assert len(set(longer)) == len(longer)


def test_threads_get_distinct_ids() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def take(into: list[str]) -> None:
        into.extend(ids.random_uuid() for _ in range(3000))

    workers = [threading.Thread(target=take, args=(into,)) for into in made]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    every = [text for into in made for text in into]
    assert len(set(every)) == len(every) == 12000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_reuse_its_parents_read_ahead() -> None:
    ids.random_uuid()  # the parent has bytes read ahead now
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(writer, ids.random_uuid().encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    theirs = os.read(reader, 100).decode()
    os.close(reader)
    assert theirs and theirs != ids.random_uuid()


class _Fixed:
    def __init__(self, number: int) -> None:
        self.number = number

    def take(self, size: int) -> bytes:
        return self.number.to_bytes(size)


def test_random_ids_are_96_bits_in_base_62(monkeypatch: pytest.MonkeyPatch) -> None:
    for number in (0, 1, 61, 62, 3843, 3844, 62**16, 2**96 - 1, 0x0123456789ABCDEF01234567):
        monkeypatch.setattr(ids, "_URANDOM", _Fixed(number))
        digits, rest = [], number
        for _ in range(17):
            rest, digit = divmod(rest, 62)
            digits.append(ids._ALPHABET[digit])
        assert ids.random_id("r") == "r_" + "".join(digits)
