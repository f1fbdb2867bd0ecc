"""The listening socket ``serve`` binds."""

from __future__ import annotations

import asyncio
import socket

from emitflow.api.server import bind


async def test_answers_are_not_held_back_by_nagle() -> None:
    # asyncio turns TCP_NODELAY on only for connections of a socket made with IPPROTO_TCP;
    # without it each answer's body waited for the client's delayed ACK (~40 ms a request).
    sock = bind("127.0.0.1", 0)
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def connected(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = writer.get_extra_info("socket")
        accepted.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(connected, sock=sock)
    async with server:
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        assert await accepted
        writer.close()
        await writer.wait_closed()
