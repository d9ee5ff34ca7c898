"""The base of market-data handlers: :class:`PublicWebSocketHandler` (one
:class:`~cexfeed.book.BookSequencer` per symbol, deltas, full and periodic pushes, REST
snapshots, book status events and resyncs)."""

from __future__ import annotations

import time
from typing import Any

from .book import APPLIED, CROSSED, GAP, SNAPSHOT_CROSSED, SNAPSHOT_IGNORED, SNAPSHOT_TOO_OLD, SYNCED, BookSequencer
from .handler_base import EventCallback, WebSocketHandler, log, unfollowed
from .models import RESYNCING, STALE, BookStatus, BookUpdate
from .models import SYNCED as STATUS_SYNCED


class PublicWebSocketHandler(WebSocketHandler):
    """Base of market-data handlers; owns one :class:`BookSequencer` per subscribed symbol.

    Subclasses call :meth:`_book_delta` / :meth:`_book_full` with already-normalized levels
    (price quote currency, size base currency); REST snapshots come back through
    :meth:`apply_snapshot`. ``unified(venue_symbol)`` maps names for events.
    """

    def __init__(self, on_event: EventCallback | None = None, depth: int = 100) -> None:
        super().__init__(on_event)
        self.depth = depth
        self.books: dict[str, BookSequencer] = {}
        # books unsubscribed: pushes still in flight for them are dropped until open_book
        self.closed_books: set[str] = set()

    # -- symbols -------------------------------------------------------------------------
    def unified(self, venue_symbol: str) -> str:
        raise NotImplementedError

    def set_symbols(self, symbols: Any) -> None:
        """Replace the :class:`~cexfeed.symbols.SymbolMap` (the instrument list arrived after
        the stream started). Books keep the names they were opened with."""
        self.symbols = symbols

    # -- books ---------------------------------------------------------------------------
    def book(self, venue_symbol: str) -> BookSequencer:
        """The sequencer (and its ``.book``) of one symbol, created on first use."""
        seq = self.books.get(venue_symbol)
        if seq is None:
            seq = self.books[venue_symbol] = BookSequencer(self.depth, self.unified(venue_symbol))
        return seq

    def close_book(self, venue_symbol: str, recv_ts: int | None = None) -> None:
        """The book of ``venue_symbol`` was unsubscribed: forget it now (a synced one gets
        ``BookStatus`` ``stale``/``unsubscribed``) and drop its pushes still in flight until
        :meth:`open_book`."""
        self.closed_books.add(venue_symbol)
        seq = self.books.pop(venue_symbol, None)
        if seq is not None and seq.synced:
            self._status(venue_symbol, STALE, "unsubscribed", None, None, time.time_ns() if recv_ts is None else recv_ts)

    def open_book(self, venue_symbol: str) -> None:
        """The book of ``venue_symbol`` is subscribed (again): it starts empty and unsynced."""
        if venue_symbol in self.closed_books:
            self.closed_books.discard(venue_symbol)
            self.books.pop(venue_symbol, None)

    def _book_closed(self, venue_symbol: str) -> bool:
        """Whether a push for ``venue_symbol``'s book arrived after its unsubscribe (counted)."""
        if venue_symbol in self.closed_books:
            self.stats.errors["book_after_unsubscribe"] += 1
            return True
        return False

    def connection_lost(self, reason: str, recv_ts: int | None = None) -> None:
        self.reset_books(reason, recv_ts)

    def reset_books(self, reason: str = "reconnect", recv_ts: int | None = None) -> None:
        """Forget every book: after a dropped connection each symbol resyncs from scratch
        (``resyncing``); after a deliberate close (``reason="closed"``) the books are ``stale``.
        ``recv_ts`` (ns, default now) stamps the ``BookStatus`` events."""
        status = STALE if reason == "closed" else RESYNCING
        now = time.time_ns() if recv_ts is None else recv_ts
        for venue_symbol, seq in self.books.items():
            was_synced = seq.synced
            seq.reset()
            if was_synced:
                self._status(venue_symbol, status, reason, None, None, now)

    def _pushed_book(self, venue_symbol: str) -> BookSequencer | None:
        """The sequencer a push of ``venue_symbol``'s book goes to; ``None`` (counted
        ``unknown_symbol``) for a symbol this handler does not follow: no book is made for it."""
        seq = self.books.get(venue_symbol)
        if seq is None:
            only = self._only
            if only is not None and venue_symbol not in only:
                self._count_error("unknown_symbol", b"", f"a book push of {venue_symbol!r}, {unfollowed(only)}")
                return None
            seq = self.book(venue_symbol)
        return seq

    def _book_delta(self, venue_symbol, first, last, bids, asks, exchange_ts, recv_ts) -> None:
        if self.closed_books and self._book_closed(venue_symbol):
            return
        seq = self.books.get(venue_symbol) or self._pushed_book(venue_symbol)
        if seq is None:
            return
        code = seq.on_delta(first, last, bids, asks)
        if code == APPLIED:
            # BookUpdate's fields in order: the event head, bids, asks, snapshot, first and last id
            self._emit(BookUpdate(self.venue, self.market, seq.symbol, venue_symbol, exchange_ts, recv_ts, bids, asks, False, first, last))
            seq.book.exchange_ts = exchange_ts
        elif code == GAP or code == CROSSED:
            self._broken(venue_symbol, seq, code, exchange_ts, recv_ts, first)

    def _book_full(self, venue_symbol, last, bids, asks, exchange_ts, recv_ts) -> None:
        if self.closed_books and self._book_closed(venue_symbol):
            return
        seq = self._pushed_book(venue_symbol)
        if seq is None:
            return
        code = seq.on_full(last, bids, asks)
        if code == CROSSED:
            self._broken(venue_symbol, seq, code, exchange_ts, recv_ts, last)
            return
        seq.book.exchange_ts = exchange_ts
        self._synced(venue_symbol, seq, "full", exchange_ts, recv_ts)

    def _book_periodic(self, venue_symbol, update_id, bids, asks, exchange_ts, recv_ts) -> None:
        """A push that is a whole top-N book every time (Gate legacy ``futures.order_book``): the
        first syncs the book (``BookStatus``), later ones replace and publish it as a snapshot
        ``BookUpdate`` without a status event each time; a crossed one resyncs the symbol."""
        if self.closed_books and self._book_closed(venue_symbol):
            return
        seq = self._pushed_book(venue_symbol)
        if seq is None:
            return
        if not seq.synced:
            self._book_full(venue_symbol, update_id, bids, asks, exchange_ts, recv_ts)
            return
        if seq.on_full(update_id, bids, asks) == CROSSED:
            self._broken(venue_symbol, seq, CROSSED, exchange_ts, recv_ts, None)
            return
        book = seq.book
        book.exchange_ts = exchange_ts
        self._emit(
            BookUpdate(
                venue=self.venue,
                market=self.market,
                symbol=seq.symbol,
                venue_symbol=venue_symbol,
                exchange_ts=exchange_ts,
                recv_ts=recv_ts,
                bids=book.top_bids(),
                asks=book.top_asks(),
                snapshot=True,
                first_update_id=update_id,
                last_update_id=update_id,
            )
        )

    def apply_snapshot(self, venue_symbol: str, update_id: int, bids, asks, exchange_ts: int | None = None, recv_ts: int | None = None) -> int:
        """Install a REST snapshot (levels already normalized) and replay the buffer.

        Returns the sequencer code; on ``SNAPSHOT_TOO_OLD`` the hooks are asked for another
        snapshot; a crossed snapshot (best bid >= best ask) is refused, counted
        (``book_crossed_snapshot``), reported as ``resyncing`` and fetched again. Never raises
        for venue data (ids and levels come through the bounded REST decoders).
        """
        if recv_ts is None:
            recv_ts = time.time_ns()
        if self.closed_books and self._book_closed(venue_symbol):
            return SNAPSHOT_IGNORED
        seq = self.book(venue_symbol)
        applied_before = seq.deltas_applied
        code = seq.on_snapshot(update_id, bids, asks)
        if code == SNAPSHOT_TOO_OLD:
            self.stats.errors["snapshot_too_old"] += 1
            self.hooks.request_snapshot(venue_symbol)
        elif code == GAP or code == CROSSED:
            self._broken(venue_symbol, seq, code, exchange_ts, recv_ts, None)
        elif code == SNAPSHOT_CROSSED:
            self._report_broken(venue_symbol, "crossed_snapshot", exchange_ts, recv_ts, f"REST snapshot at {update_id}: best bid >= best ask")
        elif code == SNAPSHOT_IGNORED:
            self.stats.errors["snapshot_ignored"] += 1
        elif code == SYNCED:
            seq.book.exchange_ts = exchange_ts
            self._synced(venue_symbol, seq, "snapshot", exchange_ts, recv_ts, replayed=seq.deltas_applied - applied_before)
        return code

    def _synced(self, venue_symbol, seq, reason, exchange_ts, recv_ts, replayed: int = 0) -> None:
        book = seq.book
        self._emit(
            BookUpdate(
                venue=self.venue,
                market=self.market,
                symbol=self.unified(venue_symbol),
                venue_symbol=venue_symbol,
                exchange_ts=exchange_ts,
                recv_ts=recv_ts,
                bids=book.top_bids(),
                asks=book.top_asks(),
                snapshot=True,
                first_update_id=book.last_update_id,
                last_update_id=book.last_update_id,
            )
        )
        detail = f"{replayed} buffered deltas replayed" if replayed else ""
        self._status(venue_symbol, STATUS_SYNCED, reason, book.last_update_id, exchange_ts, recv_ts, detail)

    def _broken(self, venue_symbol, seq, code, exchange_ts, recv_ts, first) -> None:
        reason = "gap" if code == GAP else "crossed"
        self._report_broken(venue_symbol, reason, exchange_ts, recv_ts, f"delta starting at {first}" if first is not None else "")

    def _check_ids(self, venue_symbol: str, full: bool, first: int | None, last: int, recv_ts: int) -> None:
        """A delta must say where it starts (``first``) and start no later than it ends; a full
        push replaces the book whatever ``first`` says. Impossible ids make the push malformed
        (``ValueError``) and drop the book."""
        if not full and (first is None or first > last):
            self._book_lost(venue_symbol, recv_ts)
            raise ValueError(f"impossible book ids {first}-{last}")

    def _book_lost(self, venue_symbol: str, recv_ts: int) -> None:
        """A book push of ``venue_symbol`` could not be applied (malformed): rather than wait
        for the next delta to show the gap, drop the book and resync now."""
        self.resync_book(venue_symbol, "malformed", "a book push could not be decoded", recv_ts)

    def resync_book(self, venue_symbol: str, reason: str, detail: str = "", recv_ts: int | None = None) -> bool:
        """Drop the synced book of ``venue_symbol`` and fetch it again (a ``resyncing``
        ``BookStatus`` with ``reason`` now, a snapshot ``BookUpdate`` when it is back), e.g.
        because a push was lost or a downstream sink dropped some of its events. Returns False
        when that book is not synced (a resync is already under way)."""
        seq = self.books.get(venue_symbol)
        if seq is None or not seq.synced:
            return False
        seq.invalidate()
        self._report_broken(venue_symbol, reason, None, time.time_ns() if recv_ts is None else recv_ts, detail)
        return True

    def _report_broken(self, venue_symbol: str, reason: str, exchange_ts: int | None, recv_ts: int, detail: str) -> None:
        self.stats.errors[f"book_{reason}"] += 1
        log.info("%s %s %s: book resyncing (%s)%s", self.venue, self.market, venue_symbol, reason, f": {detail}" if detail else "")
        self._status(venue_symbol, RESYNCING, reason, None, exchange_ts, recv_ts, detail)
        self._resync(venue_symbol)

    def _resync(self, venue_symbol: str) -> None:
        """How this stream recovers a broken book; REST snapshot by default."""
        self.hooks.request_snapshot(venue_symbol)

    def _status(self, venue_symbol, status, reason, last_update_id, exchange_ts, recv_ts, detail: str = "") -> None:
        self._emit(
            BookStatus(
                venue=self.venue,
                market=self.market,
                symbol=self.unified(venue_symbol),
                venue_symbol=venue_symbol,
                exchange_ts=exchange_ts,
                recv_ts=recv_ts,
                status=status,
                reason=reason,
                last_update_id=last_update_id,
                detail=detail,
            )
        )
