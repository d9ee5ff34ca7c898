"""L2 order book and the snapshot + delta sequencer, shared by every venue.

The sequencing rule is the same for Gate.io (``U``/``u``, gateio-protocol.md §10.1) and MEXC
(``fromVersion``/``toVersion``, mexc-protocol.md §4): with a snapshot at id ``S``,

- deltas with ``last <= S`` are stale and dropped;
- the first applied delta must bridge the snapshot: ``first <= S + 1 <= last``;
- every later delta must continue exactly: ``first == previous last + 1``;
- an empty delta still advances the id;
- a full push replaces the book (in-band snapshot);
- anything else is a gap: the book is cleared and the symbol resyncs, others are untouched.

After each applied delta a crossed book (best bid >= best ask) is also treated as broken.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Sequence

from sortedcontainers import SortedDict

Level = tuple[float, float]


class L2Book:
    """Price-level book of one symbol, kept at exactly ``depth`` levels per side.

    Prices in quote currency, sizes in base currency (both float). ``bids``/``asks`` are
    ``SortedDict`` price -> size in ascending price order (best bid is the last bid, best ask
    the first ask). ``last_update_id`` is the venue sequence id of the last change applied.
    """

    __slots__ = ("depth", "bids", "asks", "last_update_id", "exchange_ts")

    def __init__(self, depth: int = 100) -> None:
        self.depth = depth
        self.bids: SortedDict = SortedDict()
        self.asks: SortedDict = SortedDict()
        self.last_update_id = 0
        self.exchange_ts = 0

    def clear(self) -> None:
        self.bids.clear()
        self.asks.clear()
        self.last_update_id = 0

    def replace(self, bids: Iterable[Level], asks: Iterable[Level], update_id: int) -> None:
        """Replace the whole book (snapshot). Zero-size levels are ignored."""
        self.bids = SortedDict((p, s) for p, s in bids if s)
        self.asks = SortedDict((p, s) for p, s in asks if s)
        self.last_update_id = update_id
        self._truncate()

    def apply(self, bids: Sequence[Level], asks: Sequence[Level]) -> None:
        """Apply absolute level sizes; size 0 removes the level, then truncate to ``depth``."""
        book = self.bids
        for price, size in bids:
            if size:
                book[price] = size
            else:
                book.pop(price, None)
        book = self.asks
        for price, size in asks:
            if size:
                book[price] = size
            else:
                book.pop(price, None)
        self._truncate()

    def _truncate(self) -> None:
        depth = self.depth
        bids = self.bids
        while len(bids) > depth:
            bids.popitem(0)
        asks = self.asks
        while len(asks) > depth:
            asks.popitem(-1)

    def best_bid(self) -> Level | None:
        return self.bids.peekitem(-1) if self.bids else None

    def best_ask(self) -> Level | None:
        return self.asks.peekitem(0) if self.asks else None

    def crossed(self) -> bool:
        return bool(self.bids) and bool(self.asks) and self.bids.peekitem(-1)[0] >= self.asks.peekitem(0)[0]

    def top_bids(self, n: int | None = None) -> list[Level]:
        """Bids best first, at most ``n`` (all when ``None``)."""
        items = self.bids.items()
        count = len(items) if n is None else min(n, len(items))
        return [items[-1 - i] for i in range(count)]

    def top_asks(self, n: int | None = None) -> list[Level]:
        """Asks best first, at most ``n`` (all when ``None``)."""
        items = self.asks.items()
        count = len(items) if n is None else min(n, len(items))
        return [items[i] for i in range(count)]


# Results of BookSequencer.on_delta / on_snapshot
APPLIED = 0
BUFFERED = 1
STALE = 2
GAP = 3
CROSSED = 4
SNAPSHOT_TOO_OLD = 5
SYNCED = 6

_MAX_BUFFER = 5000


class BookSequencer:
    """Per-symbol state machine: INIT/RESYNCING (buffer deltas) -> snapshot -> SYNCED.

    The caller feeds deltas with :meth:`on_delta`, REST snapshots with :meth:`on_snapshot` and
    in-band full pushes with :meth:`on_full`, and acts on the returned code: on ``GAP`` or
    ``CROSSED`` the book is already cleared and the caller must fetch a new snapshot (or
    resubscribe); on ``SNAPSHOT_TOO_OLD`` it must fetch again. Counters are public for metrics.
    """

    __slots__ = (
        "book",
        "synced",
        "bridged",
        "buffer",
        "deltas_applied",
        "deltas_dropped_stale",
        "resyncs",
        "snapshots",
        "gaps",
        "crossed",
    )

    def __init__(self, depth: int = 100) -> None:
        self.book = L2Book(depth)
        self.synced = False
        # False until the first delta after a REST snapshot has bridged it.
        self.bridged = False
        self.buffer: deque = deque(maxlen=_MAX_BUFFER)
        self.deltas_applied = 0
        self.deltas_dropped_stale = 0
        self.resyncs = 0
        self.snapshots = 0
        self.gaps = 0
        self.crossed = 0

    def on_delta(self, first: int, last: int, bids: Sequence[Level], asks: Sequence[Level]) -> int:
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
        fetch again, the buffer is kept), or ``GAP``/``CROSSED`` if the buffer itself is broken.
        """
        buffered = self.buffer
        while buffered and buffered[0][1] <= update_id:
            buffered.popleft()
            self.deltas_dropped_stale += 1
        if buffered and buffered[0][0] > update_id + 1:
            return SNAPSHOT_TOO_OLD
        self.book.replace(bids, asks, update_id)
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
        self.buffer.clear()
        self.book.replace(bids, asks, update_id)
        self.snapshots += 1
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

    def _break(self, first, last, bids, asks) -> None:
        self.synced = False
        self.bridged = False
        self.resyncs += 1
        self.book.clear()
        self.buffer.clear()
        if first is not None:
            self.buffer.append((first, last, bids, asks))
