"""The checks of the capture fuzz (:mod:`cexfeed.soak.fuzz`), independent of the handlers:

- :func:`book_faults`: what is wrong with a published book (sides not strictly sorted best
  first, crossed, more levels than the subscription's depth, a price or size not a finite
  positive number);
- :class:`Mirror`: the book a consumer rebuilds from the ``BookUpdate`` events alone (a snapshot
  replaces it, a delta sets absolute sizes, 0 removes; cut to the depth like the handler's);
- :class:`Reference`: the book rebuilt straight from the frames and REST snapshots with the
  sequencing rule of gateio-protocol.md §10.1 / mexc-protocol.md §4 (snapshot at ``S``: deltas
  with ``last <= S`` stale, the first applied one bridges ``first <= S + 1 <= last``, then each
  continues exactly; a gap or a crossed book drops the book until the next snapshot; a
  ``full`` push replaces it), parsed with the standard ``json`` module and the official
  protobuf classes, not with cexfeed's readers.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

Level = tuple[float, float]


def _bad_number(x: Any) -> bool:
    return not isinstance(x, float) or not math.isfinite(x) or x <= 0


def book_faults(bids: list[Level], asks: list[Level], depth: int) -> list[str]:
    """The ways ``bids``/``asks`` (best first) are not a valid published book."""
    out = []
    if len(bids) > depth or len(asks) > depth:
        out.append(f"depth {len(bids)}/{len(asks)} > {depth}")
    if any(_bad_number(p) or _bad_number(s) for p, s in bids) or any(_bad_number(p) or _bad_number(s) for p, s in asks):
        out.append("a price or size that is not a finite positive float")
    if any(bids[i][0] <= bids[i + 1][0] for i in range(len(bids) - 1)):
        out.append("bids not strictly descending")
    if any(asks[i][0] >= asks[i + 1][0] for i in range(len(asks) - 1)):
        out.append("asks not strictly ascending")
    if bids and asks and bids[0][0] >= asks[0][0]:
        out.append(f"crossed: bid {bids[0][0]} >= ask {asks[0][0]}")
    return out


def _cut(side: dict[float, float], depth: int, best_high: bool) -> None:
    if len(side) > depth:
        keep = sorted(side, reverse=best_high)[:depth]
        for price in set(side) - set(keep):
            del side[price]


class _Book:
    def __init__(self) -> None:
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.last = 0
        # False until the first delta after a REST snapshot bridged it
        self.bridged = False

    def set(self, bids, asks, depth: int) -> None:
        for side, levels, high in ((self.bids, bids, True), (self.asks, asks, False)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
            _cut(side, depth, high)

    def levels(self) -> tuple[list[Level], list[Level]]:
        return (sorted(self.bids.items(), reverse=True), sorted(self.asks.items()))

    def crossed(self) -> bool:
        return bool(self.bids) and bool(self.asks) and max(self.bids) >= min(self.asks)


class Mirror:
    """Books rebuilt from published ``BookUpdate`` events (consumer side); a ``BookStatus`` that
    is not ``synced`` drops the book."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.books: dict[str, _Book] = {}

    def on_event(self, event: Any) -> str | None:
        """Apply ``event``; the venue symbol of a book it changed, else ``None``."""
        name = type(event).__name__
        if name == "BookUpdate":
            book = self.books.get(event.venue_symbol)
            if event.snapshot or book is None:
                book = self.books[event.venue_symbol] = _Book()
            book.set(event.bids, event.asks, self.depth)
            return event.venue_symbol
        if name == "BookStatus" and event.status != "synced":
            self.books.pop(event.venue_symbol, None)
        return None

    def levels(self, venue_symbol: str) -> tuple[list[Level], list[Level]]:
        book = self.books.get(venue_symbol)
        return book.levels() if book is not None else ([], [])


def _num(x: Any) -> float:
    return float(x) if not isinstance(x, bool) else float("nan")


class Reference:
    """Books of one stream (``gateio-spot``, ``gateio-perp``, ``mexc-spot``) from frames and
    snapshots; ``multipliers`` (Gate perpetuals: contract -> base units per contract) turn
    contracts into base sizes. Only meant for frames as the venue sent them: a frame it cannot
    read is skipped."""

    def __init__(self, stream: str, depth: int = 100, multipliers: dict[str, str] | None = None) -> None:
        self.stream = stream
        self.depth = depth
        self.multipliers = multipliers or {}
        self.books: dict[str, _Book] = {}
        self.synced: dict[str, bool] = {}
        self.buffer: dict[str, list] = {}

    def reset(self) -> None:
        """A new connection: every book waits for a snapshot again."""
        self.books.clear()
        self.synced.clear()
        self.buffer.clear()

    def _size(self, symbol: str, size: Any) -> float:
        if self.stream != "gateio-perp":
            return _num(size)
        multiplier = self.multipliers.get(symbol)
        return float(Decimal(str(size)) * Decimal(multiplier)) if multiplier else float("nan")

    def _levels(self, symbol: str, levels: list) -> list[Level]:
        out = []
        for level in levels:
            price, size = (level["p"], level["s"]) if isinstance(level, dict) else (level[0], level[1])
            out.append((_num(price), abs(self._size(symbol, size))))
        return out

    # -- input -------------------------------------------------------------------------------
    def snapshot(self, symbol: str, body: bytes) -> None:
        data = json.loads(body)
        update_id = int(data["lastUpdateId"] if self.stream == "mexc-spot" else data["id"])
        if self.synced.get(symbol) and update_id <= self.books[symbol].last:
            return  # the book is already past it
        book = _Book()
        book.set(self._levels(symbol, data["bids"]), self._levels(symbol, data["asks"]), self.depth)
        book.last = update_id
        if book.crossed():
            self.synced[symbol] = False
            self.books.pop(symbol, None)
            return
        pending = [d for d in self.buffer.pop(symbol, []) if d[1] > update_id]
        if pending and pending[0][0] > update_id + 1:
            self.synced[symbol] = False  # too old: wait for another one, the deltas kept
            self.books.pop(symbol, None)
            self.buffer[symbol] = pending
            return
        self.books[symbol] = book
        self.synced[symbol] = True
        for first, last, bids, asks in pending:
            self.delta(symbol, first, last, bids, asks)

    def frame(self, raw: bytes) -> None:
        if self.stream == "mexc-spot":
            return self._mexc(raw)
        try:
            data = json.loads(raw)
        except ValueError:
            return
        if not isinstance(data, dict) or data.get("event") != "update" or not str(data.get("channel", "")).endswith(".order_book_update"):
            return
        r = data["result"]
        symbol = r["s"]
        bids, asks = self._levels(symbol, r.get("b") or []), self._levels(symbol, r.get("a") or [])
        if r.get("full"):
            self._full(symbol, int(r["u"]), bids, asks)
            return
        self.delta(symbol, int(r["U"]), int(r["u"]), bids, asks)

    def _mexc(self, raw: bytes) -> None:
        from ..exchanges.mexc.proto.push_pb2 import PushDataV3ApiWrapper

        if raw[:1] == b"{":
            return
        try:
            w = PushDataV3ApiWrapper.FromString(raw)
        except Exception:
            return
        which = w.WhichOneof("body")
        if which == "publicLimitDepths":
            # a whole top-N book: it replaces the symbol's book (one book per symbol), the
            # next aggre delta continues its version exactly
            body = w.publicLimitDepths
            self._full(w.symbol, int(body.version), [(float(x.price), float(x.quantity)) for x in body.bids],
                       [(float(x.price), float(x.quantity)) for x in body.asks])
            return
        if which != "publicAggreDepths":
            return
        body = w.publicAggreDepths
        symbol = w.symbol
        self.delta(symbol, int(body.fromVersion), int(body.toVersion), [(float(x.price), float(x.quantity)) for x in body.bids],
                   [(float(x.price), float(x.quantity)) for x in body.asks])

    def _full(self, symbol: str, last: int, bids: list[Level], asks: list[Level]) -> None:
        """An in-band whole book: replaces the symbol's book (synced unless crossed)."""
        book = _Book()
        book.set(bids, asks, self.depth)
        book.last = last
        book.bridged = True
        self.books[symbol], self.synced[symbol] = book, not book.crossed()
        self.buffer.pop(symbol, None)

    def delta(self, symbol: str, first: int, last: int, bids: list[Level], asks: list[Level]) -> None:
        if not self.synced.get(symbol):
            self.buffer.setdefault(symbol, []).append((first, last, bids, asks))
            return
        book = self.books[symbol]
        if last <= book.last:
            return
        if first != book.last + 1 and (book.bridged or first > book.last + 1):
            self.synced[symbol] = False
            self.books.pop(symbol, None)
            self.buffer[symbol] = [(first, last, bids, asks)]
            return
        self._apply(symbol, first, last, bids, asks)

    def _apply(self, symbol: str, first: int, last: int, bids, asks) -> None:
        book = self.books[symbol]
        book.bridged = True
        book.set(bids, asks, self.depth)
        book.last = last
        if book.crossed():
            self.synced[symbol] = False
            self.books.pop(symbol, None)
            self.buffer[symbol] = []

    def levels(self, symbol: str) -> tuple[list[Level], list[Level]] | None:
        """Best-first levels of a synced book, ``None`` while it waits for a snapshot."""
        if not self.synced.get(symbol):
            return None
        return self.books[symbol].levels()
