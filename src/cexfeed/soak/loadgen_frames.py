"""The frames of the load endpoint (:mod:`cexfeed.soak.loadgen`): deterministic books, frame
templates and the push mix of Gate.io spot, Gate.io USDT perpetuals and MEXC spot.

The simulator (:mod:`cexfeed.sim`) builds every frame from a Python market model, which caps it
far below what a client parses on one core; here frames are rendered from templates (the ids
spliced into fixed-width slots), so the client is what is measured. Each venue serves
``BTC`` and ``ETH`` against ``USDT``; its push mix is 12 book deltas, 5 trades and 3 best
bid/offer frames in 20, round robin over the symbols:

- Gate spot ``spot.order_book_update`` (``U == u``, gateio-protocol.md §6.6), ``spot.trades``,
  ``spot.book_ticker``;
- Gate perpetuals ``futures.order_book_update`` (sizes as integer contracts, multiplier 1, §7),
  ``futures.trades``, ``futures.book_ticker``;
- MEXC ``aggre.depth`` (``fromVersion == toVersion``, mexc-protocol.md §2, §4), ``aggre.deals``,
  ``aggre.bookTicker`` as protobuf.

Deltas change 1-10 levels a side among the 60 nearest the mid; the book after any id is a pure
function of that id (:func:`expected_book`), so a client's book can be checked at any time the
stream is paused.
"""

from __future__ import annotations

import json
import random
import struct
import time


VENUES = ("gateio-spot", "gateio-perp", "mexc-spot")
BASES = (("BTC", 650_000), ("ETH", 32_000))  # base currency, mid price in ticks of 0.1
FIRST_ID = 10_000_000  # 8 digits: every id of a run has the same width
VARIANTS = 256
NEAR = 60  # deltas touch the 60 levels on each side nearest the mid
SNAPSHOT_LEVELS = 100
PATTERN = ("book",) * 12 + ("trades",) * 5 + ("bbo",) * 3
PATTERN = tuple(PATTERN[i * 7 % 20] for i in range(20))  # interleaved
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
