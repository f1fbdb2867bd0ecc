"""Brokers this test owns, to take down and bring back: a NATS or Redis server of its own on a
free port (the shared ones are never touched), and a TCP proxy in front of a shared RabbitMQ or
Mosquitto that can cut every connection and refuse new ones, then accept again."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import services_required


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _listening(port: int, within: float = 15.0) -> None:
    async with asyncio.timeout(within):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            return


class OwnServer:
    """``nats-server -js`` or ``redis-server`` (append-only file) on a free port, in ``home``."""

    def __init__(self, kind: str, home: Path) -> None:
        binary = "nats-server" if kind == "nats" else "redis-server"
        if shutil.which(binary) is None:
            reason = f"{binary} is not installed (the outage test starts its own)"
            if services_required():
                pytest.fail(reason)
            pytest.skip(reason)
        self.kind = kind
        self.home = home
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"{self.kind}://127.0.0.1:{self.port}"

    async def start(self) -> None:
        if self.kind == "nats":
            command = [
                "nats-server",
                "-js",
                "-sd",
                str(self.home),
                "-p",
                str(self.port),
                "-a",
                "127.0.0.1",
            ]
        else:
            command = [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.home),
                "--appendonly",
                "yes",
                "--save",
                "",
            ]
        self.process = await asyncio.create_subprocess_exec(
            *command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        await _listening(self.port)

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            async with asyncio.timeout(30):
                await self.process.wait()
            self.process = None


class TcpProxy:
    """Forwards a free port to ``target``; ``cut()`` drops every connection and stops
    listening (the broker looks down), ``restore()`` listens again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()
