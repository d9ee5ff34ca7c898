"""A loopback endpoint for load and soak runs: Gate.io spot, Gate.io USDT perpetuals and MEXC spot
on one port, pushing pre-built frames at a set rate (or as fast as the client reads).

The simulator (:mod:`cexfeed.sim`) builds every frame from a Python market model, which caps it
far below what a client parses on one core; here frames are rendered from templates (the ids
spliced into fixed-width slots), so the client is what is measured. Each venue serves
``BTC`` and ``ETH`` against ``USDT``; its push mix is 12 book deltas, 5 trades and 3 best
bid/offer frames in 20, round robin over the symbols:

- Gate spot ``spot.order_book_update`` (``U == u``, gateio-protocol.md §6.6), ``spot.trades``,
  ``spot.book_ticker``; REST ``/api/v4/spot/order_book`` (``with_id``) and
  ``/spot/currency_pairs``;
- Gate perpetuals ``futures.order_book_update`` (sizes as integer contracts, multiplier 1, §7),
  ``futures.trades``, ``futures.book_ticker``; REST ``/api/v4/futures/usdt/order_book`` and
  ``/futures/usdt/contracts``;
- MEXC ``aggre.depth`` (``fromVersion == toVersion``, mexc-protocol.md §2, §4), ``aggre.deals``,
  ``aggre.bookTicker`` as protobuf; REST ``/api/v3/depth`` and ``/api/v3/exchangeInfo``.

A book's ids continue across connections (a client that reconnects misses the ids in
between and resyncs from a new REST snapshot, as on a venue). Deltas change 1-10 levels a side
among the 60 nearest the mid; the book after any id is a pure function of that id
(:func:`expected_book`), so a client's book can be checked at any time the stream is paused.

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
import random
import struct
import sys
import time
from urllib.parse import parse_qs, urlsplit

VENUES = ("gateio-spot", "gateio-perp", "mexc-spot")
BASES = (("BTC", 650_000), ("ETH", 32_000))  # base currency, mid price in ticks of 0.1
FIRST_ID = 10_000_000  # 8 digits: every id of a run has the same width
VARIANTS = 256
NEAR = 60  # deltas touch the 60 levels on each side nearest the mid
SNAPSHOT_LEVELS = 100
PATTERN = ("book",) * 12 + ("trades",) * 5 + ("bbo",) * 3
PATTERN = tuple(PATTERN[i * 7 % 20] for i in range(20))  # interleaved
MAX_UNSENT = 16 * 1024 * 1024
WS_PATHS = {"/ws/v4/": "gateio-spot", "/ws/v4": "gateio-spot", "/v4/ws/usdt": "gateio-perp", "/ws": "mexc-spot"}
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_ID_SLOTS = (b"11111111", b"22222222")


def venue_symbol(venue: str, base: str) -> str:
    return f"{base}USDT" if venue == "mexc-spot" else f"{base}_USDT"


def price_text(ticks: int) -> str:
    return f"{ticks // 10}.{ticks % 10}"


def size_text(venue: str, lots: int) -> str | int:
    """Gate perpetual sizes are integer contracts (multiplier 1), the others base units of 0.0001."""
    return lots if venue == "gateio-perp" else f"{lots // 10000}.{lots % 10000:04d}"


def ws_frame(payload: bytes, opcode: int = 1) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return bytes((0x80 | opcode, 126)) + struct.pack("!H", n) + payload
    return bytes((0x80 | opcode, 127)) + struct.pack("!Q", n) + payload


class Book:
    """The deterministic book of one (venue, symbol): initial sizes of ``SNAPSHOT_LEVELS``
    levels a side, and ``VARIANTS`` deltas of (offset from the mid, lots) changes, lots 0 =
    removed; the delta with id ``i`` is variant ``i % VARIANTS``."""

    def __init__(self, venue: str, base: str, mid: int, seed: int) -> None:
        rng = random.Random(seed)
        self.venue, self.base, self.mid = venue, base, mid
        self.symbol = venue_symbol(venue, base)
        self.initial = ({o: rng.randint(1, 50_000) for o in range(1, SNAPSHOT_LEVELS + 1)},
                        {o: rng.randint(1, 50_000) for o in range(1, SNAPSHOT_LEVELS + 1)})
        self.variants: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]] = []
        for _ in range(VARIANTS):
            sides = []
            for _side in range(2):
                offsets = sorted(rng.sample(range(1, NEAR + 1), rng.randint(1, 10)))
                sides.append([(o, 0 if rng.random() < 0.15 else rng.randint(1, 50_000)) for o in offsets])
            self.variants.append((sides[0], sides[1]))
        self.last_id = FIRST_ID

    def levels(self, last_id: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """``(bids, asks)`` as (price ticks, lots), best first, after the delta ``last_id``."""
        found: tuple[dict[int, int], dict[int, int]] = ({}, {})
        i = last_id
        while i > FIRST_ID and (len(found[0]) < NEAR or len(found[1]) < NEAR):
            variant = self.variants[i % VARIANTS]
            for side in (0, 1):
                for offset, lots in variant[side]:
                    found[side].setdefault(offset, lots)
            i -= 1
        out = []
        for side in (0, 1):
            merged = dict(self.initial[side])
            merged.update(found[side])
            sign = -1 if side == 0 else 1
            out.append([(self.mid + sign * o, lots) for o, lots in sorted(merged.items()) if lots])
        return out[0], out[1]


def expected_book(venue: str, base: str, last_id: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The book a client must hold after applying the delta ``last_id`` of ``base``/USDT on
    ``venue``: ``(bids, asks)`` as float (price, size) in base currency, best first, parsed from
    the texts the endpoint sends."""
    book = make_books()[(venue, base)]
    bids, asks = book.levels(last_id)
    to = (lambda lots: float(lots)) if venue == "gateio-perp" else (lambda lots: float(size_text(venue, lots)))
    return [(float(price_text(p)), to(s)) for p, s in bids], [(float(price_text(p)), to(s)) for p, s in asks]


_BOOKS: dict[tuple[str, str], Book] = {}


def make_books() -> dict[tuple[str, str], Book]:
    if not _BOOKS:
        for v, venue in enumerate(VENUES):
            for b, (base, mid) in enumerate(BASES):
                _BOOKS[(venue, base)] = Book(venue, base, mid + 7 * v, seed=1000 * v + b)
    return _BOOKS


def _split(frame: bytes, slots: int) -> list[bytes]:
    """``frame`` cut around its id slots (placeholders of :data:`_ID_SLOTS`)."""
    parts = []
    rest = frame
    for slot in _ID_SLOTS[:slots]:
        head, found, rest = rest.partition(slot)
        assert found, slot
        parts.append(head)
    parts.append(rest)
    return parts


class Templates:
    """Pre-rendered frames of one venue: ``book[symbol][variant]`` with two id slots,
    ``trades[symbol]`` with one (the trade id), ``bbo[symbol]`` with none; every frame
    already wrapped in its WebSocket header."""

    def __init__(self, venue: str) -> None:
        ms = int(time.time() * 1000)
        self.venue = venue
        self.book: dict[str, list[list[bytes]]] = {}
        self.trades: dict[str, list[bytes]] = {}
        self.bbo: dict[str, bytes] = {}
        for (v, base), book in make_books().items():
            if v != venue:
                continue
            self.book[book.symbol] = [self._framed(self._book(book, variant, ms), 2) for variant in book.variants]
            self.trades[book.symbol] = self._framed(self._trade(book, ms), 1)
            self.bbo[book.symbol] = self._framed(self._bbo(book, ms), 0)

    def _framed(self, payload: bytes, slots: int) -> list[bytes] | bytes:
        header = ws_frame(payload, 2 if self.venue == "mexc-spot" else 1)[: -len(payload)]
        parts = _split(payload, slots)
        parts[0] = header + parts[0]
        return parts if slots else parts[0]

    def _book(self, book: Book, variant, ms: int) -> bytes:
        venue, mid = self.venue, book.mid
        bids = [(price_text(mid - o), size_text(venue, lots)) for o, lots in variant[0]]
        asks = [(price_text(mid + o), size_text(venue, lots)) for o, lots in variant[1]]
        if venue == "mexc-spot":
            from ..exchanges.mexc import encode

            return encode.aggre_depth_frame(book.symbol, int(_ID_SLOTS[0]), int(_ID_SLOTS[1]), bids, asks, send_time=ms)
        if venue == "gateio-spot":
            result = {"t": ms, "e": "depthUpdate", "E": ms // 1000, "s": book.symbol, "U": "@0", "u": "@1",
                      "b": [list(x) for x in bids], "a": [list(x) for x in asks], "l": "100"}
            channel = "spot.order_book_update"
        else:
            result = {"t": ms, "s": book.symbol, "U": "@0", "u": "@1", "b": [{"p": p, "s": s} for p, s in bids],
                      "a": [{"p": p, "s": s} for p, s in asks], "l": "100"}
            channel = "futures.order_book_update"
        return _gate(channel, result, ms)

    def _trade(self, book: Book, ms: int) -> bytes:
        price = price_text(book.mid + 1)
        if self.venue == "mexc-spot":
            from ..exchanges.mexc import encode

            return encode.aggre_deals_frame(book.symbol, [(price, "0.0125", 1, ms, _ID_SLOTS[0].decode())], send_time=ms)
        if self.venue == "gateio-spot":
            result = {"id": "@0", "create_time": ms // 1000, "create_time_ms": f"{ms}.000", "side": "buy", "currency_pair": book.symbol,
                      "amount": "0.0125", "price": price}
            return _gate("spot.trades", result, ms)
        return _gate("futures.trades", [{"id": "@0", "size": -3, "create_time": ms // 1000, "create_time_ms": ms, "price": price,
                                          "contract": book.symbol}], ms)

    def _bbo(self, book: Book, ms: int) -> bytes:
        bid, ask = price_text(book.mid - 1), price_text(book.mid + 1)
        if self.venue == "mexc-spot":
            from ..exchanges.mexc import encode

            return encode.aggre_book_ticker_frame(book.symbol, bid, "1.5", ask, "2.25", send_time=ms)
        if self.venue == "gateio-spot":
            return _gate("spot.book_ticker", {"t": ms, "u": 1, "s": book.symbol, "b": bid, "B": "1.5", "a": ask, "A": "2.25"}, ms)
        return _gate("futures.book_ticker", {"t": ms, "u": 1, "s": book.symbol, "b": bid, "B": 15, "a": ask, "A": 22}, ms)


def _gate(channel: str, result, ms: int) -> bytes:
    text = json.dumps({"time": ms // 1000, "time_ms": ms, "channel": channel, "event": "update", "result": result}, separators=(",", ":"))
    # the id slots: "@0" / "@1" as JSON strings become bare 8-digit numbers
    return text.replace('"@0"', _ID_SLOTS[0].decode()).replace('"@1"', _ID_SLOTS[1].decode()).encode()


class Venue:
    """One venue's pushes: templates, the books' ids, the trade ids, its sessions."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.templates = Templates(name)
        self.books = {book.symbol: book for (v, _), book in make_books().items() if v == name}
        self.symbols = list(self.books)
        self.trade_id = FIRST_ID
        self.sessions: set[Connection] = set()
        self.at = 0
        self.frames = 0

    def render(self, count: int) -> bytes:
        """The next ``count`` frames of the mix."""
        out: list[bytes] = []
        add = out.extend
        t = self.templates
        symbols = self.symbols
        books = self.books
        at = self.at
        nsym = len(symbols)
        for k in range(at, at + count):
            kind = PATTERN[k % 20]
            symbol = symbols[(k // 20 + k) % nsym]
            if kind == "book":
                book = books[symbol]
                book.last_id += 1
                uid = b"%d" % book.last_id
                head, mid, tail = t.book[symbol][book.last_id % VARIANTS]
                add((head, uid, mid, uid, tail))
            elif kind == "trades":
                self.trade_id += 1
                head, tail = t.trades[symbol]
                add((head, b"%d" % self.trade_id, tail))
            else:
                out.append(t.bbo[symbol])
        self.at = at + count
        self.frames += count
        return b"".join(out)


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
        as each client's socket takes."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.002 if self.rate else 0)
            now = loop.time()
            elapsed, last = now - last, now
            if self.paused:
                continue
            active = [v for v in self.venues.values() if any(c.streaming for c in v.sessions)]
            for v in active:
                if self.rate:
                    self._debt[v.name] += self.rate / len(active) * min(elapsed, 0.1)
                    count = int(self._debt[v.name])
                    self._debt[v.name] -= count
                else:
                    count = 256 if all(c.writable() for c in v.sessions if c.streaming) else 0
                if count:
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
