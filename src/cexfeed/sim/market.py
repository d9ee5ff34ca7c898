"""Synthetic market for the simulator: per symbol a random-walk mid price, an L2 book that is
never crossed, trades against the best levels, and one consistent update-id sequence.

Venue-neutral: prices are kept as integer ticks and sizes as integer lots; venue modules format
them (``price_str``/``size_str``) and wrap :class:`Step` results in their wire format.
Deterministic for a given ``seed``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field


@dataclass
class SymbolSpec:
    """``name`` unified (``BTC/USDT``); ``tick`` price step (quote currency) with
    ``price_decimals`` digits; ``lot`` size step (base currency) with ``size_decimals``;
    ``start`` the initial mid price."""

    name: str
    start: float
    tick: float
    price_decimals: int
    lot: float = 0.0001
    size_decimals: int = 4

    @property
    def base(self) -> str:
        return self.name.split("/")[0]

    @property
    def quote(self) -> str:
        return self.name.split("/")[1]


DEFAULT_SYMBOLS = (
    SymbolSpec("BTC/USDT", 65000.0, 0.1, 1, 0.0001, 4),
    SymbolSpec("ETH/USDT", 3200.0, 0.01, 2, 0.001, 3),
    SymbolSpec("SOL/USDT", 150.0, 0.01, 2, 0.01, 2),
    SymbolSpec("DOGE/USDT", 0.15, 0.00001, 5, 1.0, 0),
)


@dataclass
class TradeTick:
    """One synthetic trade: ``side`` is the taker side; ``price`` ticks, ``size`` lots."""

    trade_id: int
    side: str
    price: int
    size: int
    ts_ms: int


@dataclass
class Step:
    """What one market step changed for one symbol: update ids ``first..last`` (inclusive),
    changed levels as ``(price_ticks, size_lots)`` with 0 = removed, and trades."""

    symbol: str
    first: int
    last: int
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]
    trades: list[TradeTick]
    ts_ms: int


@dataclass
class SymbolBook:
    spec: SymbolSpec
    mid: int  # ticks; bids are < mid, asks > mid
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    update_id: int = 1_000_000
    trade_id: int = 0
    open_: int = 0
    high: int = 0
    low: int = 0
    last: int = 0
    base_volume: int = 0
    quote_volume: float = 0.0
    # open interest in lots (perpetual venues report it): trades open or close positions
    open_interest: int = 0

    def best_bid(self) -> tuple[int, int] | None:
        if not self.bids:
            return None
        price = max(self.bids)
        return price, self.bids[price]

    def best_ask(self) -> tuple[int, int] | None:
        if not self.asks:
            return None
        price = min(self.asks)
        return price, self.asks[price]

    def top_bids(self, n: int) -> list[tuple[int, int]]:
        return [(p, self.bids[p]) for p in sorted(self.bids, reverse=True)[:n]]

    def top_asks(self, n: int) -> list[tuple[int, int]]:
        return [(p, self.asks[p]) for p in sorted(self.asks)[:n]]

    def price_str(self, ticks: int) -> str:
        return f"{ticks * self.spec.tick:.{self.spec.price_decimals}f}"

    def size_str(self, lots: int) -> str:
        return f"{lots * self.spec.lot:.{self.spec.size_decimals}f}"


class SyntheticMarket:
    """A few symbols moving independently. ``levels`` is the most levels kept per side (keep it
    at or below the depth clients subscribe to, so their truncated books match exactly);
    ``seed`` makes the sequence reproducible.

    :meth:`step` advances one symbol and returns a :class:`Step`; the books are public.
    """

    def __init__(self, symbols: tuple[SymbolSpec, ...] = DEFAULT_SYMBOLS, seed: int = 7, levels: int = 20) -> None:
        self.rng = random.Random(seed)
        self.levels = levels
        self.books: dict[str, SymbolBook] = {}
        for spec in symbols:
            mid = round(spec.start / spec.tick)
            book = SymbolBook(spec=spec, mid=mid, open_=mid, high=mid, low=mid, last=mid)
            for i in range(1, levels + 1):
                book.bids[mid - i] = self._size()
                book.asks[mid + i] = self._size()
            book.open_interest = 50 * sum(book.bids.values())
            self.books[spec.name] = book

    def _size(self) -> int:
        return self.rng.randint(1, 5000)

    def step(self, symbol: str, now_ms: int | None = None) -> Step:
        """Advance ``symbol`` once: maybe move the mid one tick, change 1-4 levels, maybe
        trade. The book stays uncrossed and within ``levels`` per side."""
        rng = self.rng
        book = self.books[symbol]
        ts = now_ms if now_ms is not None else time.time_ns() // 1_000_000
        changes_b: dict[int, int] = {}
        changes_a: dict[int, int] = {}
        trades: list[TradeTick] = []

        roll = rng.random()
        if roll < 0.15:
            book.mid += 1
            for price in [p for p in book.asks if p <= book.mid]:
                del book.asks[price]
                changes_a[price] = 0
        elif roll < 0.30:
            book.mid -= 1
            for price in [p for p in book.bids if p >= book.mid]:
                del book.bids[price]
                changes_b[price] = 0

        for _ in range(rng.randint(1, 4)):
            side_bid = rng.random() < 0.5
            offset = rng.randint(1, self.levels + 2)
            side = book.bids if side_bid else book.asks
            changes = changes_b if side_bid else changes_a
            price = book.mid - offset if side_bid else book.mid + offset
            if price <= 0:
                continue
            if price in side and rng.random() < 0.3:
                del side[price]
                changes[price] = 0
            else:
                side[price] = self._size()
                changes[price] = side[price]

        if rng.random() < 0.35:
            taker_buy = rng.random() < 0.5
            level = book.best_ask() if taker_buy else book.best_bid()
            if level is not None:
                price, size = level
                qty = rng.randint(1, size)
                side = book.asks if taker_buy else book.bids
                changes = changes_a if taker_buy else changes_b
                if qty >= size:
                    del side[price]
                    changes[price] = 0
                else:
                    side[price] = size - qty
                    changes[price] = size - qty
                book.trade_id += 1
                trades.append(TradeTick(book.trade_id, "buy" if taker_buy else "sell", price, qty, ts))
                book.last = price
                book.high = max(book.high, price)
                book.low = min(book.low, price)
                book.base_volume += qty
                book.quote_volume += qty * book.spec.lot * price * book.spec.tick
                # one trade in three closes positions, the others open them
                if book.trade_id % 3 == 0:
                    book.open_interest = max(0, book.open_interest - qty)
                else:
                    book.open_interest += qty

        # keep each side within `levels`: the worst levels leave the window as deletes
        for side, changes, worst in ((book.bids, changes_b, min), (book.asks, changes_a, max)):
            while len(side) > self.levels:
                price = worst(side)
                del side[price]
                changes[price] = 0
        # one step may stand for several venue-side updates: ids advance by 1-3
        first = book.update_id + 1
        book.update_id += rng.randint(1, 3)
        return Step(
            symbol=symbol,
            first=first,
            last=book.update_id,
            bids=sorted(changes_b.items(), reverse=True),
            asks=sorted(changes_a.items()),
            trades=trades,
            ts_ms=ts,
        )
