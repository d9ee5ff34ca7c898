"""A loopback endpoint for load and soak runs: Gate.io spot, Gate.io USDT perpetuals and MEXC spot
on one port, pushing pre-built frames (:mod:`cexfeed.soak.loadgen_frames`) at a set rate (or as
fast as the client reads).

REST per venue: Gate spot ``/api/v4/spot/order_book`` (``with_id``) and ``/spot/currency_pairs``;
Gate perpetuals ``/api/v4/futures/usdt/order_book`` and ``/futures/usdt/contracts``; MEXC
``/api/v3/depth`` and ``/api/v3/exchangeInfo``. A book's ids continue across connections (a
client that reconnects misses the ids in between and resyncs from a new REST snapshot, as on a
venue).

Control (HTTP, same port): ``POST /_load/drop?venue=`` aborts that venue's sockets (TCP reset),
``POST /_load/pause`` / ``/_load/resume``, ``POST /_load/rate?value=`` (frames/s summed over
the venues, 0 = as fast as each client reads), ``GET /_load/state`` (last id per book, frames
sent, slow clients dropped). A client whose unsent data passes 16 MB is aborted (counted), as a
venue drops a client that does not read.

Run: ``python -m cexfeed.soak.loadgen --rate 100000`` prints ``PORT <n>`` and serves until
killed. Standard library plus the MEXC encoder (protobuf).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import struct
import sys
import time
from urllib.parse import parse_qs, urlsplit

from .loadgen_frames import (BASES, FIRST_ID, PATTERN, VARIANTS, VENUES, Book, Templates, Venue, expected_book, make_books,  # noqa: F401
                             price_text, size_text, venue_symbol, ws_frame)

MAX_UNSENT = 16 * 1024 * 1024
WS_PATHS = {"/ws/v4/": "gateio-spot", "/ws/v4": "gateio-spot", "/v4/ws/usdt": "gateio-perp", "/ws": "mexc-spot"}
CATCH_UP = 1.0  # s of frames owed that are still sent after a stall
BURST = 4096  # frames per venue and turn at most
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class LoadServer:
    """The endpoint: ``rate`` frames/s summed over the venues with a subscribed client (0: as
    fast as each client reads)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.venues = {name: Venue(name) for name in VENUES}
        self.paused = False
        self.slow_drops = 0
        self.drops = 0
        self._debt: dict[str, float] = {name: 0.0 for name in VENUES}
        self._idle = 0.0  # rate 0: the pause between turns when no socket took data

    def state(self) -> dict:
        return {
            "rate": self.rate, "paused": self.paused, "slow_drops": self.slow_drops, "drops": self.drops,
            "venues": {name: {"frames": v.frames, "sessions": len(v.sessions), "last_ids": {s: b.last_id for s, b in v.books.items()}}
                       for name, v in self.venues.items()},
        }

    def drop(self, venue: str | None) -> int:
        n = 0
        for name, v in self.venues.items():
            if venue in (None, "", name):
                for conn in list(v.sessions):
                    conn.transport.abort()
                    n += 1
        self.drops += n
        return n

    async def pump(self) -> None:
        """Push the mix: every 2 ms each active venue's share of the rate, or (rate 0) as much
        as each client's socket takes. Frames owed after the process was kept off the CPU are
        sent over the next turns (at most :data:`CATCH_UP` s of them, :data:`BURST` a turn), so
        a busy machine delays frames rather than losing them from the rate."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.002 if self.rate else self._idle)
            now = loop.time()
            elapsed, last = now - last, now
            if self.paused:
                continue
            active = [v for v in self.venues.values() if any(c.streaming for c in v.sessions)]
            self._idle = 0.001
            for v in active:
                if self.rate:
                    share = self.rate / len(active)
                    debt = min(self._debt[v.name] + share * elapsed, share * CATCH_UP)
                    count = min(int(debt), BURST)
                    self._debt[v.name] = debt - count
                else:
                    count = 256 if all(c.writable() for c in v.sessions if c.streaming) else 0
                if count:
                    self._idle = 0
                    self._send(v, v.render(count))

    def _send(self, venue: Venue, data: bytes) -> None:
        for conn in list(venue.sessions):
            if not conn.streaming:
                continue
            transport = conn.transport
            if transport.get_write_buffer_size() > MAX_UNSENT:
                self.slow_drops += 1
                transport.abort()
                continue
            transport.write(data)


class Connection(asyncio.Protocol):
    """One client socket: HTTP requests (keep-alive) until a WebSocket upgrade, then frames."""

    def __init__(self, server: LoadServer) -> None:
        self.server = server
        self.buffer = b""
        self.venue: Venue | None = None
        self.subscribed_at = 0.0
        self.transport: asyncio.Transport

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.set_write_buffer_limits(high=4 * 1024 * 1024)

    @property
    def streaming(self) -> bool:
        # pushes start once the client's subscribe requests are answered (0.3 s after the last)
        return self.subscribed_at > 0 and time.monotonic() - self.subscribed_at > 0.3

    def writable(self) -> bool:
        return self.transport.get_write_buffer_size() < 1024 * 1024

    def connection_lost(self, exc) -> None:
        if self.venue is not None:
            self.venue.sessions.discard(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.venue is None and b"\r\n\r\n" in self.buffer:
            head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
            self._http(head.decode("latin-1"))
        if self.venue is not None:
            self._frames()

    # -- HTTP ----------------------------------------------------------------------------------
    def _reply(self, body, status: str = "200 OK") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        self.transport.write(b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (status.encode(), len(data)) + data)

    def _http(self, head: str) -> None:
        lines = head.split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        url = urlsplit(target)
        path, query = url.path, {k: v[0] for k, v in parse_qs(url.query).items()}
        if headers.get("upgrade", "").lower() == "websocket" and path in WS_PATHS:
            accept = base64.b64encode(hashlib.sha1(headers["sec-websocket-key"].encode() + _GUID).digest()).decode()
            self.transport.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            self.venue = self.server.venues[WS_PATHS[path]]
            self.venue.sessions.add(self)
            return
        server = self.server
        if path == "/_load/state":
            return self._reply(server.state())
        if path == "/_load/drop":
            return self._reply({"dropped": server.drop(query.get("venue"))})
        if path in ("/_load/pause", "/_load/resume"):
            server.paused = path.endswith("pause")
            return self._reply(server.state())
        if path == "/_load/rate":
            server.rate = float(query.get("value", server.rate))
            return self._reply(server.state())
        body = self._rest(path, query)
        if body is None:
            return self._reply({"label": "NOT_FOUND", "message": path}, "404 Not Found")
        self._reply(body)

    def _rest(self, path: str, query: dict):
        if path == "/api/v4/spot/currency_pairs":
            return [{"id": f"{b}_USDT", "base": b, "quote": "USDT", "precision": 1, "amount_precision": 4, "trade_status": "tradable"} for b, _ in BASES]
        if path == "/api/v4/futures/usdt/contracts":
            return [{"name": f"{b}_USDT", "type": "direct", "quanto_multiplier": "1", "order_price_round": "0.1", "order_size_min": 1,
                     "in_delisting": False} for b, _ in BASES]
        if path == "/api/v3/exchangeInfo":
            return {"timezone": "CST", "serverTime": int(time.time() * 1000), "symbols": [
                {"symbol": f"{b}USDT", "status": "1", "baseAsset": b, "quoteAsset": "USDT", "baseAssetPrecision": 4, "quotePrecision": 1,
                 "quoteAssetPrecision": 1, "baseSizePrecision": "0.0001", "isSpotTradingAllowed": True, "permissions": ["SPOT"]} for b, _ in BASES]}
        for venue, route, key in (("gateio-spot", "/api/v4/spot/order_book", "currency_pair"),
                                  ("gateio-perp", "/api/v4/futures/usdt/order_book", "contract"), ("mexc-spot", "/api/v3/depth", "symbol")):
            if path != route:
                continue
            book = self.server.venues[venue].books.get(query.get(key, ""))
            if book is None:
                return None
            bids, asks = book.levels(book.last_id)
            if venue == "gateio-perp":
                return {"id": book.last_id, "current": time.time(), "update": time.time(),
                        "bids": [{"p": price_text(p), "s": s} for p, s in bids], "asks": [{"p": price_text(p), "s": s} for p, s in asks]}
            levels = {"bids": [[price_text(p), size_text(venue, s)] for p, s in bids], "asks": [[price_text(p), size_text(venue, s)] for p, s in asks]}
            if venue == "mexc-spot":
                return {"lastUpdateId": book.last_id, **levels, "timestamp": int(time.time() * 1000)}
            return {"id": book.last_id, "current": int(time.time() * 1000), "update": int(time.time() * 1000), **levels}
        return None

    # -- WebSocket -----------------------------------------------------------------------------
    def _frames(self) -> None:
        buf = self.buffer
        while len(buf) >= 2:
            opcode, masked, n = buf[0] & 0x0F, buf[1] & 0x80, buf[1] & 0x7F
            pos = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, pos = struct.unpack("!H", buf[2:4])[0], 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, pos = struct.unpack("!Q", buf[2:10])[0], 10
            mask = buf[pos: pos + 4] if masked else b""
            pos += 4 if masked else 0
            if len(buf) < pos + n:
                break
            payload = buf[pos: pos + n]
            if masked:
                payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            buf = buf[pos + n:]
            if opcode in (1, 2):
                self._request(payload)
            elif opcode == 9:
                self.transport.write(ws_frame(payload, 10))
            elif opcode == 8:
                self.transport.write(ws_frame(payload[:2], 8))
                self.transport.close()
        self.buffer = buf

    def _request(self, payload: bytes) -> None:
        req = json.loads(payload)
        now = int(time.time())
        if self.venue.name == "mexc-spot":
            method = str(req.get("method", "")).upper()
            if method == "PING":
                self.transport.write(ws_frame(b'{"id":0,"code":0,"msg":"PONG"}'))
            elif method in ("SUBSCRIPTION", "UNSUBSCRIPTION"):
                self.transport.write(ws_frame(json.dumps({"id": req.get("id", 0), "code": 0, "msg": ",".join(req.get("params", []))}).encode()))
                self.subscribed_at = time.monotonic()
            return
        channel = req.get("channel", "")
        if channel.endswith(".ping"):
            pong = {"time": now, "channel": channel.replace("ping", "pong"), "event": "", "result": None}
            self.transport.write(ws_frame(json.dumps(pong).encode()))
            return
        if req.get("event") in ("subscribe", "unsubscribe"):
            ack = {"time": now, "time_ms": now * 1000, "id": req.get("id"), "channel": channel, "event": req["event"],
                   "payload": req.get("payload") or [], "result": {"status": "success"}}
            self.transport.write(ws_frame(json.dumps(ack).encode()))
            self.subscribed_at = time.monotonic()


async def main(rate: float, port: int) -> None:
    server = LoadServer(rate)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(lambda: Connection(server), "127.0.0.1", port)
    print(f"PORT {listener.sockets[0].getsockname()[1]}", flush=True)
    pump = loop.create_task(server.pump())
    async with listener:
        try:
            await listener.serve_forever()
        finally:
            pump.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=0.0, help="frames/s summed over the venues (0: as fast as clients read)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(main(args.rate, args.port))
    except KeyboardInterrupt:
        sys.exit(0)
