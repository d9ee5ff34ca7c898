"""picows' read buffer stays small when megabytes wait in the kernel (``cexfeed.net.readcap``):
over a real loopback socket, a server writes a backlog of frames at once; through the network
core's listener every frame arrives, in order, and picows never offers more than about
``READ_LIMIT`` for one read; with the cap lifted the same backlog grows its buffer to megabytes
(what kept RSS up after every CPU stall of a soak)."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import pytest
from picows import ws_connect

from cexfeed.net import listener as L
from cexfeed.net import readcap

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
FRAMES = 40_000
PAYLOAD = b'{"channel":"spot.trades","event":"update","result":{"id":%08d,"price":"65000.1","amount":"0.0125","side":"buy"}}'


def _frame(i: int) -> bytes:
    payload = PAYLOAD % i
    return bytes((0x81, len(payload))) + payload


class _Server(asyncio.Protocol):
    """Answers the upgrade, then writes every frame in one call (the backlog a stall leaves)."""

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if b"\r\n\r\n" not in self.buf:
            return
        key = next(line.split(b":", 1)[1].strip() for line in self.buf.split(b"\r\n") if line.lower().startswith(b"sec-websocket-key"))
        accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        self.buf = b""
        self.transport.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        self.transport.write(b"".join(_frame(i) for i in range(FRAMES)))


class _Handler:
    def __init__(self) -> None:
        self.got: list[bytes] = []

    def _handle_message(self, payload: bytes, recv_ts: int) -> None:
        self.got.append(payload)


class _Conn:
    def __init__(self) -> None:
        self.handler = _Handler()
        self.tap = None
        self.tap_id = 0
        self._last_rx_ns = 0
        self._closing = False


async def _backlog(limit: int | None) -> tuple[list[bytes], int]:
    """Frames received through the core's listener and the largest free buffer picows offered."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn = _Conn()
    saved = readcap.READ_LIMIT
    readcap.READ_LIMIT = limit
    try:
        transport, listener = await ws_connect(lambda: L._Listener(conn), f"ws://127.0.0.1:{port}/")
        deadline = loop.time() + 30
        while len(conn.handler.got) < FRAMES and loop.time() < deadline:
            await asyncio.sleep(0.01)
        assert listener.readcap is not None
        largest = listener.readcap.largest
        transport.disconnect()
        await transport.wait_disconnected()
    finally:
        readcap.READ_LIMIT = saved
        server.close()
        await server.wait_closed()
    return conn.handler.got, largest


async def test_a_backlog_is_read_in_capped_reads_and_every_frame_arrives_in_order():
    got, largest = await _backlog(readcap.READ_LIMIT)
    assert got == [PAYLOAD % i for i in range(FRAMES)]
    # picows doubles its buffer when a read fills 90 % of it: capped reads stop that near the cap
    assert largest <= 2 * readcap.READ_LIMIT + 4096, largest


async def test_without_the_cap_the_same_backlog_grows_picows_buffer_to_megabytes():
    got, largest = await _backlog(None)
    assert len(got) == FRAMES
    if largest <= 2 * readcap.READ_LIMIT:
        pytest.skip(f"the kernel never held more than {largest} bytes for the socket: no backlog to show the growth with")
    assert largest > 4 * readcap.READ_LIMIT, largest


def test_the_cap_forwards_every_protocol_callback():
    calls = []

    class Inner:
        def get_buffer(self, hint):
            return memoryview(bytearray(1 << 20))

        def __getattr__(self, name):
            return lambda *a: calls.append((name, a)) or (name == "eof_received")

    cap = readcap.ReadCap(Inner(), limit=1000)
    assert len(cap.get_buffer(-1)) == 1000 and cap.largest == 1 << 20
    cap.buffer_updated(10)
    assert cap.eof_received() is True
    cap.pause_writing()
    cap.resume_writing()
    cap.connection_lost(None)
    assert [c[0] for c in calls] == ["buffer_updated", "eof_received", "pause_writing", "resume_writing", "connection_lost"]
    assert readcap.install(object()) is None


class _WeakCap(readcap.ReadCap):
    """The read cap, weakly referable (the real one has slots only)."""


async def test_a_closed_connection_is_freed_without_waiting_for_the_garbage_collector(monkeypatch):
    """Once disconnected, the listener lets go of picows' transport and the read cap: nothing
    of the closed connection (its read buffer included) waits in a reference cycle for a full
    collection, which a reconnect every minute turned into a heap growing for the whole run."""
    import gc
    import weakref

    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn = _Conn()
    monkeypatch.setattr(readcap, "ReadCap", _WeakCap)
    gc.collect()
    gc.disable()
    try:
        transport, listener = await ws_connect(lambda: L._Listener(conn), f"ws://127.0.0.1:{port}/")
        deadline = loop.time() + 30
        while len(conn.handler.got) < 100 and loop.time() < deadline:
            await asyncio.sleep(0.01)
        assert type(listener.readcap) is _WeakCap
        cap = weakref.ref(listener.readcap)
        transport.disconnect()
        await transport.wait_disconnected()
        assert listener.readcap is None and listener._transport is None
        del transport, listener
        for _ in range(20):
            await asyncio.sleep(0)
        assert cap() is None, gc.get_referrers(cap())
    finally:
        gc.enable()
        server.close()
        await server.wait_closed()
