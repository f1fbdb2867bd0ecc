"""Frames: a 4-byte big-endian length, then that many bytes of JSON."""

from __future__ import annotations

import asyncio
import struct

import pytest

from emitflow.codesteps.protocol import FrameBuffer, decode, encode, frame, read_frame
from emitflow.errors import SandboxError


def _reader(data: bytes, *, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


def test_a_frame_is_a_big_endian_length_then_the_body() -> None:
    assert frame(b"abc") == b"\x00\x00\x00\x03abc"
    assert encode({"a": [1, "é"]}) == struct.pack(">I", 14) + '{"a":[1,"é"]}'.encode()


def test_encode_refuses_nan_because_it_is_not_json() -> None:
    with pytest.raises(ValueError):
        encode(float("nan"))


def test_decode_names_bad_json() -> None:
    with pytest.raises(SandboxError, match="not valid JSON"):
        decode(b"{nope")


async def test_frames_round_trip_in_order() -> None:
    reader = _reader(encode({"n": 1}) + encode([2]) + encode("three"))
    bodies = [await read_frame(reader, 100) for _ in range(4)]
    assert [decode(b or b"") for b in bodies[:3]] == [{"n": 1}, [2], "three"]
    assert bodies[3] is None


async def test_a_clean_end_of_stream_is_none_and_a_cut_frame_an_error() -> None:
    assert await read_frame(_reader(b""), 100) is None
    with pytest.raises(SandboxError, match="after its first bytes"):
        await read_frame(_reader(b"\x00\x00"), 100)
    with pytest.raises(SandboxError, match="2 of 5 bytes"):
        await read_frame(_reader(b"\x00\x00\x00\x05ab"), 100)


async def test_a_frame_over_the_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(SandboxError, match="over the 10-byte limit"):
        await read_frame(_reader(frame(b"x" * 11), eof=False), 10)


def test_frame_buffer_collects_a_frame_from_chunks() -> None:
    buffer = FrameBuffer(100)
    data = encode({"ok": True})
    for i in range(len(data)):
        assert buffer.body() is None
        buffer.feed(data[i : i + 1])
    assert decode(buffer.body() or b"") == {"ok": True}


def test_frame_buffer_drops_an_oversized_frame() -> None:
    buffer = FrameBuffer(4)
    buffer.feed(frame(b"12345"))
    assert buffer.body() is None
    assert buffer.oversized
    big = FrameBuffer(4)
    big.feed(b"\x00\x00\x00\x02" + b"x" * 10)
    assert big.oversized
