"""More fault switches of the simulator (the fault matrix, issue #13), beside the basic ones of
:class:`~cexfeed.sim.server.SimServer`; also ``POST /_sim/fault/<kind>``:

- ``mute`` (``seconds``): the open sessions push nothing but still answer every request (app
  pings get their pongs): a venue that went quiet while the connection looks alive;
- ``cross`` (``symbol``): one book delta that crosses the book (a bid at the best ask),
  continuing the update-id sequence; the simulator's own book does not take it;
- ``full`` (``symbol``): an in-band full book push in the middle of the stream (Gate
  ``order_book_update``/``obu`` with ``full: true``); venues without one are skipped;
- ``stale_snapshots`` (``count``): the next ``count`` REST book snapshots are the books as they
  are at the moment of the switch (later, older than the deltas the client buffered);
- ``slow_snapshots`` (``seconds``, ``count``): the next ``count`` REST snapshots are read at the
  request and answered ``seconds`` later;
- ``block`` (``channel``): subscriptions to a channel are refused (Gate: ``spot.trades`` or
  ``spot.trades:BTC_USDT``; MEXC: a channel prefix).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from .market import Step, SymbolBook


class SimFaults:
    """The switches above, mixed into :class:`~cexfeed.sim.server.SimServer` (which provides
    ``venues``, ``markets``, ``_targets`` and ``_step_lock``)."""

    venues: dict[str, Any]
    markets: dict[str, Any]
    _step_lock: asyncio.Lock

    def _targets(self, venue: str | None) -> list[Any]:  # pragma: no cover - SimServer's
        raise NotImplementedError

    def mute(self, seconds: float, venue: str | None = None) -> int:
        """Open sessions push nothing for ``seconds`` but keep answering requests (pings, subscribes).
        Returns how many sessions."""
        until = asyncio.get_running_loop().time() + seconds
        count = 0
        for target in self._targets(venue):
            for session in target.sessions:
                session.muted_until = until
                count += 1
        return count

    async def cross_book(self, symbol: str, venue: str | None = None) -> int:
        """Push one delta of ``symbol`` (unified) putting a bid at the best ask price, with the
        next update id; the simulator's book keeps its levels (a client that resyncs gets them
        back). Returns how many venues pushed it."""
        count = 0
        async with self._step_lock:
            for target in self._targets(venue):
                book: SymbolBook | None = self.markets[target.name].books.get(symbol)
                if book is None or not book.asks:
                    continue
                ask = book.best_ask()
                book.update_id += 1
                step = Step(symbol, book.update_id, book.update_id, bids=[ask], asks=[], trades=[], ts_ms=time.time_ns() // 1_000_000)
                await target.on_step(step)
                count += 1
        return count

    async def full_snapshot(self, symbol: str, venue: str | None = None) -> int:
        """Push an in-band full book of ``symbol`` (unified) to every book subscriber, on the
        venues that have such a push. Returns how many frames."""
        count = 0
        async with self._step_lock:
            for target in self._targets(venue):
                push = getattr(target, "push_full", None)
                if push is not None:
                    count += await push(symbol)
        return count

    def stale_snapshots(self, count: int, venue: str | None = None) -> None:
        """The next ``count`` REST snapshots (of any symbol) show the books as they are now."""
        for target in self._targets(venue):
            target.stale_books = {name: _copy(book) for name, book in self.markets[target.name].books.items()}
            target.stale_left = count

    def slow_snapshots(self, seconds: float, count: int = 1, venue: str | None = None) -> None:
        """The next ``count`` REST snapshots are read when asked and answered ``seconds`` later."""
        for target in self._targets(venue):
            target.slow_snapshot = (count, seconds)

    def block(self, channel: str, venue: str | None = None) -> int:
        """Refuse subscriptions to ``channel`` (see the module docstring) from now on; ``""``
        lifts every block. Returns how many venues."""
        targets = [t for t in self._targets(venue) if hasattr(t, "blocked")]
        for target in targets:
            if channel:
                target.blocked.add(channel)
            else:
                target.blocked.clear()
        return len(targets)

    async def _more_fault(self, kind: str, q: Any, venue: str | None) -> Any:
        """The HTTP switches of this module; ``None`` for a kind it does not know."""
        if kind == "mute":
            return self.mute(float(q.get("seconds", "5")), venue)
        if kind in ("cross", "full"):
            symbol = q.get("symbol")
            names = sorted({name for market in self.markets.values() for name in market.books})
            if symbol not in names:
                raise ValueError(f"{kind} needs ?symbol= one of {names}")
            if kind == "cross":
                return await self.cross_book(symbol, venue)
            return await self.full_snapshot(symbol, venue)
        if kind == "stale_snapshots":
            self.stale_snapshots(int(q.get("count", "1")), venue)
            return 1
        if kind == "slow_snapshots":
            self.slow_snapshots(float(q.get("seconds", "1")), int(q.get("count", "1")), venue)
            return 1
        if kind == "block":
            return self.block(q.get("channel", ""), venue)
        return None


def _copy(book: SymbolBook) -> SymbolBook:
    return dataclasses.replace(book, bids=dict(book.bids), asks=dict(book.asks))


async def snapshot_view(venue: Any, book: SymbolBook) -> SymbolBook:
    """The book a REST snapshot of ``venue`` shows for ``book`` under the stale/slow snapshot
    faults (the book itself when none is on)."""
    if venue.stale_left > 0 and book.spec.name in venue.stale_books:
        venue.stale_left -= 1
        book = venue.stale_books[book.spec.name]
    count, seconds = venue.slow_snapshot
    if count > 0:
        venue.slow_snapshot = (count - 1, seconds)
        book = _copy(book)
        await asyncio.sleep(seconds)
    return book
