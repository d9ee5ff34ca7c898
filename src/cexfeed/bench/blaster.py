"""A loopback Gate.io spot endpoint that pushes book updates as fast as the client reads them.

The project's simulator (:mod:`cexfeed.sim`) builds every frame from a Python market model,
which caps it far below what a client can consume; for throughput the frames are built ahead
from templates and written in batches straight to the socket, so the client is the bottleneck.
It speaks just enough of the protocol (gateio-protocol.md §2, §3, §6.6, §6.8, §10):

- WebSocket upgrade on any path (RFC 6455 handshake, no extensions);
- ``spot.order_book_update`` subscribe -> ack, then 20x20 deltas ``U == u == previous + 1``
  starting right after the REST snapshot was served (``GET .../spot/order_book`` ->
  ``{"id": 1000000, ...}``), so the client's sequencer applies every one;
- ``spot.obu`` subscribe (what ccxt.pro uses for Gate spot books) -> ack, a ``full`` push at
  id 1000000, then the same deltas in obu form;
- ``spot.ping`` -> ``spot.pong``; ``GET .../spot/currency_pairs`` -> the one pair.

Run as ``python -m cexfeed.bench.blaster --seconds N``: prints ``PORT <n>`` then serves; every
connection pushes for ``N`` s after its stream starts, then prints ``SENT <frames>`` and stops
pushing. Standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import random
import struct
import sys
import time

SYMBOL = "BTC_USDT"
FIRST_ID = 1_000_000
MID_TICKS = 650_000  # 65000.0 with a 0.1 tick
VARIANTS = 512
BATCH = 256
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _p(ticks: int) -> str:
    return f"{ticks / 10:.1f}"


def _bodies(seed: int = 3) -> list[tuple[str, str]]:
    """``VARIANTS`` pairs of JSON level arrays (bids, asks), 20 levels each."""
    rng = random.Random(seed)
    out = []
    for _ in range(VARIANTS):
        bids = sorted(rng.sample(range(1, 61), 20))
        asks = sorted(rng.sample(range(1, 61), 20))
        size = lambda: "0" if rng.random() < 0.125 else f"{rng.uniform(0.0001, 3.0):.4f}"  # noqa: E731
        b = json.dumps([[_p(MID_TICKS - o), size()] for o in bids], separators=(",", ":"))
        a = json.dumps([[_p(MID_TICKS + o), size()] for o in asks], separators=(",", ":"))
        out.append((b, a))
    return out


def snapshot_body() -> bytes:
    rng = random.Random(5)
    bids = [[_p(MID_TICKS - o), f"{rng.uniform(0.0001, 3.0):.4f}"] for o in range(1, 101)]
    asks = [[_p(MID_TICKS + o), f"{rng.uniform(0.0001, 3.0):.4f}"] for o in range(1, 101)]
    now = time.time()
    return json.dumps({"id": FIRST_ID, "current": int(now * 1000), "update": int(now * 1000), "asks": asks, "bids": bids}).encode()


def _ws_frame(payload: bytes, opcode: int = 1) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return bytes((0x80 | opcode, 126)) + struct.pack("!H", n) + payload
    return bytes((0x80 | opcode, 127)) + struct.pack("!Q", n) + payload


class Stream:
    """Pre-built deltas of one mode (``update`` or ``obu``), rendered with consecutive ids.

    Ids stay 7 digits long for the whole run, so each of the ``VARIANTS`` frames has a fixed
    length and its WebSocket header and JSON text around the two ids are built once; the
    timestamps are those of the stream start."""

    def __init__(self, mode: str) -> None:
        ms = int(time.time() * 1000)
        self.parts: list[tuple[bytes, bytes, bytes]] = []
        for b, a in _bodies():
            if mode == "update":
                head = '{"time":%d,"time_ms":%d,"channel":"spot.order_book_update","event":"update","result":{"t":%d,"e":"depthUpdate","E":%d,"s":"BTC_USDT","U":' % (ms // 1000, ms, ms, ms // 1000)
            else:
                head = '{"time":%d,"time_ms":%d,"channel":"spot.obu","event":"update","result":{"t":%d,"s":"ob.BTC_USDT.50","U":' % (ms // 1000, ms, ms)
            mid = ',"u":'
            tail = f',"b":{b},"a":{a}}}}}'
            length = len(head) + len(mid) + len(tail) + 14
            header = _ws_frame(b"x" * length)[:-length]
            self.parts.append((header + head.encode(), mid.encode(), tail.encode()))
        self.next_id = FIRST_ID + 1

    def batch(self, count: int) -> bytes:
        out = []
        uid = self.next_id
        parts = self.parts
        for k in range(count):
            head, mid, tail = parts[(uid + k) % VARIANTS]
            idb = b"%d" % (uid + k)
            out += (head, idb, mid, idb, tail)
        self.next_id = uid + count
        return b"".join(out)


def full_obu_frame() -> bytes:
    snap = json.loads(snapshot_body())
    ms = int(time.time() * 1000)
    result = {"t": ms, "full": True, "s": "ob.BTC_USDT.50", "u": FIRST_ID, "b": snap["bids"][:50], "a": snap["asks"][:50]}
    return _ws_frame(json.dumps({"time": ms // 1000, "time_ms": ms, "channel": "spot.obu", "event": "update", "result": result}).encode())


class Connection(asyncio.Protocol):
    def __init__(self, server: "Blaster") -> None:
        self.server = server
        self.buffer = b""
        self.ws = False
        self.transport: asyncio.Transport | None = None
        self.writable = asyncio.Event()
        self.writable.set()
        self.task: asyncio.Task | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.set_write_buffer_limits(high=4 * 1024 * 1024, low=1024 * 1024)

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def connection_lost(self, exc) -> None:
        self.writable.set()
        if self.task is not None:
            self.task.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.ws:
            if b"\r\n\r\n" not in self.buffer:
                return
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            self._http(head.decode("latin-1"))
        if self.ws:
            self._frames()

    # -- HTTP ----------------------------------------------------------------------------------
    def _http(self, head: str) -> None:
        lines = head.split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if headers.get("upgrade", "").lower() == "websocket":
            accept = base64.b64encode(hashlib.sha1(headers["sec-websocket-key"].encode() + _GUID).digest()).decode()
            self.transport.write(
                ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode()
            )
            self.ws = True
            return
        if "/spot/order_book" in path:
            body = snapshot_body()
            self.server.snapshot_served.set()
        elif "/spot/currency_pairs" in path:
            body = json.dumps([{"id": SYMBOL, "base": "BTC", "quote": "USDT", "precision": 1, "amount_precision": 4, "trade_status": "tradable"}]).encode()
        else:
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    # -- WebSocket -----------------------------------------------------------------------------
    def _frames(self) -> None:
        buf = self.buffer
        while len(buf) >= 2:
            opcode = buf[0] & 0x0F
            masked = buf[1] & 0x80
            n = buf[1] & 0x7F
            pos = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n = struct.unpack("!H", buf[2:4])[0]
                pos = 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n = struct.unpack("!Q", buf[2:10])[0]
                pos = 10
            mask = b""
            if masked:
                mask = buf[pos : pos + 4]
                pos += 4
            if len(buf) < pos + n:
                break
            payload = buf[pos : pos + n]
            if masked:
                payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            buf = buf[pos + n :]
            if opcode == 1:
                self._request(payload)
            elif opcode == 9:  # ping -> pong
                self.transport.write(_ws_frame(payload, 10))
            elif opcode == 8:
                self.transport.write(_ws_frame(payload[:2], 8))
                self.transport.close()
        self.buffer = buf

    def _request(self, payload: bytes) -> None:
        req = json.loads(payload)
        channel = req.get("channel", "")
        now = int(time.time())
        if channel == "spot.ping":
            self.transport.write(_ws_frame(json.dumps({"time": now, "channel": "spot.pong", "event": "", "result": None}).encode()))
            return
        if req.get("event") != "subscribe":
            return
        ack = {"time": now, "time_ms": now * 1000, "id": req.get("id"), "channel": channel, "event": "subscribe", "result": {"status": "success"}}
        self.transport.write(_ws_frame(json.dumps(ack).encode()))
        if channel == "spot.order_book_update" and self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._push(Stream("update"), wait_snapshot=True))
        elif channel == "spot.obu" and self.task is None:
            self.transport.write(full_obu_frame())
            self.task = asyncio.get_running_loop().create_task(self._push(Stream("obu"), wait_snapshot=False))

    async def _push(self, stream: Stream, wait_snapshot: bool) -> None:
        if wait_snapshot:
            try:
                await asyncio.wait_for(self.server.snapshot_served.wait(), 10)
            except asyncio.TimeoutError:
                pass
            await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        end = loop.time() + self.server.seconds
        sent = 0
        transport = self.transport
        try:
            while loop.time() < end and not transport.is_closing():
                await self.writable.wait()
                transport.write(stream.batch(BATCH))
                sent += BATCH
                if sent % (BATCH * 16) == 0:
                    await asyncio.sleep(0)
        finally:
            print(f"SENT {sent}", flush=True)


class Blaster:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.snapshot_served = asyncio.Event()


async def main(seconds: float, port: int) -> None:
    blaster = Blaster(seconds)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(blaster), "127.0.0.1", port)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(main(args.seconds, args.port))
    except KeyboardInterrupt:
        sys.exit(0)
