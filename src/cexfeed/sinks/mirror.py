"""Consumer side: rebuild venue books and check trade continuity from events read off the bus.

:class:`BookMirror` keeps one :class:`cexfeed.book.L2Book` per (venue, symbol) from
``BookUpdate`` events: a snapshot replaces the book; a delta applies only when it continues the
book (its ``first_update_id`` at most one past the book's id and its ``last_update_id`` beyond
it), otherwise the book is dropped until the next snapshot. A ``SinkGap`` for ``book`` events
and a ``BookStatus`` other than ``synced`` (the producer's book is resyncing or stale) drop it
too. The producer publishes only deltas its own sequencer applied, so a mirror that
sees every event holds the producer's book exactly.
"""

from __future__ import annotations

from typing import Iterable

from ..book import L2Book
from ..models import SYNCED, BookStatus, BookUpdate, Event
from .codec import SinkGap


class BookMirror:
    """Books rebuilt from events. ``depth`` must be the producer's book depth (the subscribed
    depth: Gate 100 by default) so levels leave the book the same way on both sides.
    ``synced(venue, symbol)`` says whether a book is usable; counters: ``snapshots``,
    ``deltas``, ``breaks`` (a delta that did not continue, or a gap notice)."""

    def __init__(self, depth: int = 100) -> None:
        self.depth = depth
        self.books: dict[tuple[str, str], L2Book] = {}
        self.live: dict[tuple[str, str], bool] = {}
        # (venue, symbol) -> the stream's registry name (``gateio-spot``), as sinks name streams
        self.sources: dict[tuple[str, str], str] = {}
        self.snapshots = 0
        self.deltas = 0
        self.breaks = 0

    def on_event(self, event: Event) -> None:
        if type(event) is BookUpdate:
            self._book(event)  # type: ignore[arg-type]
        elif type(event) is SinkGap and event.channel == "book":  # type: ignore[attr-defined]
            self._drop((event.venue, event.symbol))
        elif type(event) is BookStatus and event.status != SYNCED:  # type: ignore[attr-defined]
            self._drop((event.venue, event.symbol))

    def feed(self, events: Iterable[Event]) -> None:
        for event in events:
            self.on_event(event)

    def synced(self, venue: str, symbol: str) -> bool:
        return self.live.get((venue, symbol), False)

    def book(self, venue: str, symbol: str) -> L2Book | None:
        """The book of ``symbol`` (unified) on ``venue`` when synced, else ``None``."""
        key = (venue, symbol)
        return self.books.get(key) if self.live.get(key) else None

    def _book(self, event: BookUpdate) -> None:
        key = (event.venue, event.symbol)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = L2Book(self.depth)
            self.sources[key] = f"{event.venue}-{event.market}"
        if event.snapshot:
            book.replace(event.bids, event.asks, event.last_update_id)
            self.live[key] = True
            self.snapshots += 1
            return
        if not self.live.get(key):
            return
        current = book.last_update_id
        if event.first_update_id <= current + 1 <= event.last_update_id:
            book.apply(event.bids, event.asks)
            book.last_update_id = event.last_update_id
            self.deltas += 1
        elif event.last_update_id > current:
            self._drop(key)

    def _drop(self, key: tuple[str, str]) -> None:
        if self.live.get(key):
            self.breaks += 1
        self.live[key] = False
        book = self.books.get(key)
        if book is not None:
            book.clear()
