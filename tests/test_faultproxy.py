"""The fault-injecting TCP proxy of the fault matrix (cexfeed.sim.faultproxy) on its own, with an
echo server behind it: forwarding, latency, reset (also inside a WebSocket frame), half-open,
blackhole, refused connects; and where its frame cursor puts a cut."""

from __future__ import annotations

import asyncio
import copy
import struct

import pytest

from cexfeed.sim.faultproxy import FaultProxy, _FrameCursor


@pytest.fixture
async def echo():
    async def serve(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def _roundtrip(port: int, data: bytes = b"hello") -> tuple[bytes, float]:
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    t0 = loop.time()
    writer.write(data)
    got = await asyncio.wait_for(reader.readexactly(len(data)), 5.0)
    took = loop.time() - t0
    writer.close()
    return got, took


async def test_forwards_and_adds_latency_both_ways(echo):
    async with FaultProxy("127.0.0.1", echo) as proxy:
        assert (await _roundtrip(proxy.port))[0] == b"hello"
        proxy.latency = 0.1
        got, took = await _roundtrip(proxy.port, b"x" * 100_000)
        assert got == b"x" * 100_000
        assert took >= 0.19  # 0.1 s each way, at least
        assert proxy.accepted == 2 and proxy.bytes_up >= 100_005 and proxy.bytes_down >= 100_005
        assert proxy.url("ws://127.0.0.1:1/ws/v4/?a=1") == f"ws://127.0.0.1:{proxy.port}/ws/v4/?a=1"


async def test_reset_is_a_tcp_rst(echo):
    async with FaultProxy("127.0.0.1", echo) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        assert await proxy.reset() == 1
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(10), 2.0)
        writer.close()
        assert proxy.resets == 1


async def test_stall_keeps_the_socket_open_and_says_nothing(echo):
    async with FaultProxy("127.0.0.1", echo) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"a")
        assert await reader.readexactly(1) == b"a"
        assert proxy.stall() == 1
        writer.write(b"b")
        with pytest.raises(asyncio.TimeoutError):  # no data, and no EOF either
            await asyncio.wait_for(reader.read(10), 0.3)
        # a new connection works
        assert (await _roundtrip(proxy.port))[0] == b"hello"
        writer.close()


async def test_blackhole_accepts_and_never_answers(echo):
    async with FaultProxy("127.0.0.1", echo) as proxy:
        proxy.blackhole = True
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(reader.read(10), 0.3)
        writer.close()
        proxy.blackhole = False
        assert (await _roundtrip(proxy.port))[0] == b"hello"


async def test_refuse_and_accept_again_on_the_same_port(echo):
    async with FaultProxy("127.0.0.1", echo) as proxy:
        port = proxy.port
        proxy.refuse()
        assert proxy.refusing
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)
        await proxy.accept()
        assert proxy.port == port and (await _roundtrip(port))[0] == b"hello"


def _frame(payload: bytes, masked: bool = False) -> bytes:
    n = len(payload)
    head = bytes([0x81])
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack(">Q", n)
    return head + (b"\x00\x00\x00\x00" if masked else b"") + payload


def test_frame_cursor_cuts_inside_a_frame_at_any_chunking():
    handshake = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    frames = [_frame(b"a" * n) for n in (0, 1, 5, 125, 126, 300, 70_000)] + [_frame(b"m" * 10, masked=True)]
    stream = handshake + b"".join(frames)
    # where each frame starts and ends in the stream
    bounds, at = [], len(handshake)
    for f in frames:
        bounds.append((at, at + len(f)))
        at += len(f)
    for size in (1, 2, 3, 7, 64, 1000, 100_000):
        cursor = _FrameCursor()
        chunks = [stream[i:i + size] for i in range(0, len(stream), size)]
        offset = 0
        cuts = 0
        for i, chunk in enumerate(chunks):
            if i % 3 == 2:  # try a cut on a copy (a real cut ends the connection)
                cut = copy.copy(cursor).walk(chunk, cut=True)
                if cut is not None:
                    pos = offset + cut
                    # inside a frame: its header sent, at least one payload byte not
                    assert any(start < pos < end for start, end in bounds), (size, pos)
                    cuts += 1
            assert cursor.walk(chunk) is None
            offset += len(chunk)
        assert cursor.upgraded and cursor.left == 0 and cursor.header == b""
        assert cuts > 0 or size >= 100_000
