"""L2 order book and the snapshot + delta sequencer, shared by every venue.

The sequencing rule is the same for Gate.io (``U``/``u``, gateio-protocol.md §10.1) and MEXC
(``fromVersion``/``toVersion``, mexc-protocol.md §4): with a snapshot at id ``S``,

- deltas with ``last <= S`` are stale and dropped;
- the first applied delta must bridge the snapshot: ``first <= S + 1 <= last``;
- every later delta must continue exactly: ``first == previous last + 1``;
- an empty delta still advances the id;
- a full push replaces the book (in-band snapshot);
- anything else is a gap: the book is cleared and the symbol resyncs, others are untouched.

After each applied delta a crossed book (best bid >= best ask) is also treated as broken, and a
crossed snapshot is never installed. Ids are integers in [0, 2**63 - 1] (:data:`cexfeed.wire.MAX_SEQ`,
what the compiled book stores); the sequencer refuses others before touching any state, so both
book twins behave the same.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from typing import Iterable, Sequence

from .wire import MAX_SEQ

Level = tuple[float, float]


class PyL2Book:
    """Price-level book of one symbol, kept at exactly ``depth`` levels per side (pure Python;
    :data:`L2Book` is the compiled twin from ``cexfeed._book`` when it is built).

    Prices in quote currency, sizes in base currency (both float). ``bids``/``asks`` map
    price -> size; the sorted price ladders are kept beside them (ascending, so the best bid is
    the last bid price and the best ask the first ask price). ``last_update_id`` is the venue
    sequence id of the last change applied.
    """

    __slots__ = ("depth", "bids", "asks", "_bid_prices", "_ask_prices", "last_update_id", "exchange_ts")

    def __init__(self, depth: int = 100) -> None:
        self.depth = depth
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self._bid_prices: list[float] = []
        self._ask_prices: list[float] = []
        self.last_update_id = 0
        self.exchange_ts: int | None = None  # ms of the last change, None when not given

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self._bid_prices.clear()
        self._ask_prices.clear()
        self.last_update_id = 0

    def replace(self, bids: Iterable[Level], asks: Iterable[Level], update_id: int) -> None:
        """Replace the whole book (snapshot): levels applied in order onto an empty book."""
        self.clear()
        _apply_side(self.bids, self._bid_prices, bids)
        _apply_side(self.asks, self._ask_prices, asks)
        self.last_update_id = update_id
        self._truncate()

    def apply(self, bids: Sequence[Level], asks: Sequence[Level]) -> None:
        """Apply absolute level sizes; size 0 removes the level, then truncate to ``depth``."""
        if bids:
            _apply_side(self.bids, self._bid_prices, bids)
        if asks:
            _apply_side(self.asks, self._ask_prices, asks)
        if len(self._bid_prices) > self.depth or len(self._ask_prices) > self.depth:
            self._truncate()

    def _truncate(self) -> None:
        depth = self.depth
        prices = self._bid_prices
        if len(prices) > depth:
            cut = len(prices) - depth
            for price in prices[:cut]:
                del self.bids[price]
            del prices[:cut]
        prices = self._ask_prices
        if len(prices) > depth:
            for price in prices[depth:]:
                del self.asks[price]
            del prices[depth:]

    @property
    def bid_count(self) -> int:
        return len(self._bid_prices)

    @property
    def ask_count(self) -> int:
        return len(self._ask_prices)

    def best_bid(self) -> Level | None:
        if not self._bid_prices:
            return None
        price = self._bid_prices[-1]
        return price, self.bids[price]

    def best_ask(self) -> Level | None:
        if not self._ask_prices:
            return None
        price = self._ask_prices[0]
        return price, self.asks[price]

    def crossed(self) -> bool:
        return bool(self._bid_prices) and bool(self._ask_prices) and self._bid_prices[-1] >= self._ask_prices[0]

    def top_bids(self, n: int | None = None) -> list[Level]:
        """Bids best first, at most ``n`` (all when ``None``)."""
        prices = self._bid_prices[::-1] if n is None else self._bid_prices[: -n - 1 : -1]
        sizes = self.bids
        return [(p, sizes[p]) for p in prices]

    def top_asks(self, n: int | None = None) -> list[Level]:
        """Asks best first, at most ``n`` (all when ``None``)."""
        prices = self._ask_prices if n is None else self._ask_prices[:n]
        sizes = self.asks
        return [(p, sizes[p]) for p in prices]


try:
    from ._book import L2Book
except ImportError:  # not compiled: same behaviour, slower
    L2Book = PyL2Book


def _apply_side(sizes: dict[float, float], prices: list[float], levels: Sequence[Level]) -> None:
    for price, size in levels:
        if size:
            if price not in sizes:
                insort(prices, price)
            sizes[price] = size
        elif sizes.pop(price, None) is not None:
            del prices[bisect_left(prices, price)]


# Results of BookSequencer.on_delta / on_snapshot
APPLIED = 0
BUFFERED = 1
STALE = 2
GAP = 3
CROSSED = 4
SNAPSHOT_TOO_OLD = 5
SYNCED = 6
SNAPSHOT_IGNORED = 7
SNAPSHOT_CROSSED = 8

_MAX_BUFFER = 5000


class BookSequencer:
    """Per-symbol state machine: INIT/RESYNCING (buffer deltas) -> snapshot -> SYNCED.

    The caller feeds deltas with :meth:`on_delta`, REST snapshots with :meth:`on_snapshot` and
    in-band full pushes with :meth:`on_full`, and acts on the returned code: on ``GAP`` or
    ``CROSSED`` the book is already cleared and the caller must fetch a new snapshot (or
    resubscribe); on ``SNAPSHOT_TOO_OLD`` or ``SNAPSHOT_CROSSED`` it must fetch again. Counters
    are public for metrics. Every method taking ids raises ``ValueError`` for an id outside
    [0, 2**63 - 1], before any change.
    """

    __slots__ = (
        "book",
        "symbol",
        "synced",
        "bridged",
        "buffer",
        "deltas_applied",
        "deltas_dropped_stale",
        "resyncs",
        "snapshots",
        "full_pushes",
        "gaps",
        "crossed",
    )

    def __init__(self, depth: int = 100, symbol: str = "") -> None:
        self.book = L2Book(depth)
        # the unified name the events carry, fixed for the life of the book
        self.symbol = symbol
        self.synced = False
        # False until the first delta after a REST snapshot has bridged it.
        self.bridged = False
        self.buffer: deque = deque(maxlen=_MAX_BUFFER)
        self.deltas_applied = 0
        self.deltas_dropped_stale = 0
        self.resyncs = 0
        self.snapshots = 0
        self.full_pushes = 0  # of the snapshots, the whole books pushed in-band (on_full)
        self.gaps = 0
        self.crossed = 0

    def on_delta(self, first: int, last: int, bids: Sequence[Level], asks: Sequence[Level]) -> int:
        if not 0 <= last <= MAX_SEQ:
            raise ValueError(f"book id {last} outside [0, 2**63 - 1]")
        if not self.synced:
            self.buffer.append((first, last, bids, asks))
            return BUFFERED
        book = self.book
        current = book.last_update_id
        if last <= current:
            self.deltas_dropped_stale += 1
            return STALE
        if first != current + 1 and (self.bridged or first > current + 1):
            self._break(first, last, bids, asks)
            self.gaps += 1
            return GAP
        self.bridged = True
        book.apply(bids, asks)
        book.last_update_id = last
        self.deltas_applied += 1
        if book.crossed():
            self._break(None, None, None, None)
            self.crossed += 1
            return CROSSED
        return APPLIED

    def on_snapshot(self, update_id: int, bids: Iterable[Level], asks: Iterable[Level]) -> int:
        """Install a REST snapshot taken at ``update_id`` and replay buffered deltas onto it.

        Returns ``SYNCED``, ``SNAPSHOT_TOO_OLD`` (the buffer starts after ``update_id + 1``:
        fetch again, the buffer is kept), ``SNAPSHOT_IGNORED`` (the book is already in sync at
        or past ``update_id``, e.g. an in-band full push overtook the REST call),
        ``SNAPSHOT_CROSSED`` (best bid >= best ask: refused, the book is left empty and not
        synced, the buffer is kept; fetch again), or ``GAP``/``CROSSED`` if the buffer itself
        is broken.
        """
        if not 0 <= update_id <= MAX_SEQ:
            raise ValueError(f"snapshot id {update_id} outside [0, 2**63 - 1]")
        if self.synced and update_id <= self.book.last_update_id:
            return SNAPSHOT_IGNORED
        book = self.book
        book.replace(bids, asks, update_id)
        if book.crossed():
            book.clear()
            self.synced = False
            self.bridged = False
            self.crossed += 1
            return SNAPSHOT_CROSSED
        buffered = self.buffer
        while buffered and buffered[0][1] <= update_id:
            buffered.popleft()
            self.deltas_dropped_stale += 1
        if buffered and buffered[0][0] > update_id + 1:
            book.clear()
            self.synced = False
            return SNAPSHOT_TOO_OLD
        self.snapshots += 1
        self.synced = True
        self.bridged = False
        pending = list(buffered)
        buffered.clear()
        for index, (first, last, b, a) in enumerate(pending):
            code = self.on_delta(first, last, b, a)
            if code == GAP or code == CROSSED:
                # keep what came after the break: a fresh snapshot may bridge it
                self.buffer.extend(pending[index + 1 :])
                return code
        return SYNCED

    def on_full(self, update_id: int, bids: Iterable[Level], asks: Iterable[Level]) -> int:
        """Replace the book with an in-band full push; the next delta must continue it exactly."""
        if not 0 <= update_id <= MAX_SEQ:
            raise ValueError(f"book id {update_id} outside [0, 2**63 - 1]")
        self.buffer.clear()
        self.book.replace(bids, asks, update_id)
        self.snapshots += 1
        self.full_pushes += 1
        self.synced = True
        self.bridged = True
        if self.book.crossed():
            self._break(None, None, None, None)
            self.crossed += 1
            return CROSSED
        return SYNCED

    def reset(self) -> None:
        """Forget the book (reconnect/resubscribe): buffer from scratch until the next snapshot."""
        self.synced = False
        self.bridged = False
        self.buffer.clear()
        self.book.clear()

    def invalidate(self) -> None:
        """A push for this book was lost (e.g. malformed and skipped): the book misses an
        update, so it is dropped and the symbol resyncs."""
        if self.synced:
            self._break(None, None, None, None)

    def _break(self, first, last, bids, asks) -> None:
        self.synced = False
        self.bridged = False
        self.resyncs += 1
        self.book.clear()
        self.buffer.clear()
        if first is not None:
            self.buffer.append((first, last, bids, asks))
