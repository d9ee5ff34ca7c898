"""Handler contract: one raw WebSocket frame in, typed events out.

A handler owns the per-connection parsing state (books, symbol maps) of one venue stream. The
network core calls :meth:`WebSocketHandler._handle_message` for every data frame in arrival
order; the handler decodes it once, applies it to its state and hands events to the consumer's
sync callback inline. ``_handle_message`` never raises: a malformed, unknown or failing frame is
counted by kind in :attr:`WebSocketHandler.stats`, logged once per kind with a short prefix, and
skipped. So is every event of a symbol the handler does not follow (:meth:`WebSocketHandler.follow`:
the connection's subscriptions, or a replay's instrument list), counted ``unknown_symbol``, and a
crossed best bid/offer (bid >= ask: pitfalls D.1 #1, #31), counted ``crossed_bbo``: never published
as a quote.

Control-plane results (acks, pongs, resync requests) go to :class:`ConnectionHooks`, which the
network core implements; a handler used on its own (replay, tests) gets the no-op default.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from typing import Any, Callable, Iterable

from .account import AccountSnapshot, AccountState
from .book import APPLIED, CROSSED, GAP, SNAPSHOT_CROSSED, SNAPSHOT_IGNORED, SNAPSHOT_TOO_OLD, SYNCED, BookSequencer
from .models import (
    AUTH_FAILED,
    LIVE,
    RECONCILING,
    REFUSED,
    RESYNCING,
    SEEDING,
    STALE,
    AccountEvent,
    AccountStatus,
    Balance,
    BestBidOffer,
    BookStatus,
    BookUpdate,
    Event,
    Fill,
    Order,
    Position,
    VenueError,
    local_event,
)
from .models import SYNCED as STATUS_SYNCED

log = logging.getLogger("cexfeed")

EventCallback = Callable[[Event], None]


class ConnectionHooks:
    """What a handler tells the connection that feeds it. The defaults do nothing."""

    def on_ack(self, request_id: int | None, channel: str, ok: bool, message: str) -> None:
        """A subscribe/unsubscribe request was acknowledged (``ok``) or refused."""

    def on_pong(self) -> None:
        """An application-level pong arrived."""

    def request_symbol(self, request_id: int | str | None, channel: str) -> str:
        """The venue symbol of the pending request an ack or error with ``request_id`` (else
        ``channel``) answers, ``""`` when none is known. Ask before :meth:`on_ack`, which
        settles the request."""
        return ""

    def request_snapshot(self, venue_symbol: str) -> None:
        """The book of ``venue_symbol`` needs a fresh REST snapshot (fetch off the read loop,
        then call the handler's ``apply_snapshot``)."""

    def request_resubscribe(self, venue_symbol: str) -> None:
        """The stream of ``venue_symbol`` must be unsubscribed and subscribed again
        (in-band snapshot channels such as Gate ``obu``)."""

    def on_reconnect_requested(self, reason: str) -> None:
        """The venue announced it will close the connection (upgrade notice)."""


class HandlerStats:
    """Counters of one handler: frames seen, events emitted, errors and other notable
    conditions by kind (``malformed``, ``unknown_channel``, ``venue_error``, ``callback`` ...)."""

    __slots__ = ("frames", "events", "errors")

    def __init__(self) -> None:
        self.frames = 0
        self.events = 0
        self.errors: Counter[str] = Counter()

    def as_dict(self) -> dict[str, Any]:
        return {"frames": self.frames, "events": self.events, "errors": dict(self.errors)}


def _prefix(raw: bytes | str, limit: int = 48) -> str:
    """The start of a frame for a log line: text as text, binary as hex."""
    if isinstance(raw, str):
        return repr(raw[:limit])
    head = raw[:limit]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return head.hex()
    return repr(text) if text.isprintable() else head.hex()


class WebSocketHandler:
    """Base of every venue handler (see the module docstring for the contract).

    ``on_event`` is called synchronously with each event; it must not block. An exception it
    raises is counted (``callback``) and does not stop the stream.

    ``seen`` records, per event class and venue symbol, the ``recv_ts`` of the last event
    emitted: the connection's per-subscription silence check reads it.
    """

    venue: str = ""
    market: str = ""

    def __init__(self, on_event: EventCallback | None = None) -> None:
        self.stats = HandlerStats()
        self.hooks: ConnectionHooks = ConnectionHooks()
        self._on_event = on_event
        self._logged: set[str] = set()
        self.seen: defaultdict[type, dict[str, int]] = defaultdict(dict)
        # venue symbols whose events are published (None: every one; "" = no symbol, always)
        self._only: set[str] | None = None

    def set_callback(self, on_event: EventCallback | None) -> None:
        self._on_event = on_event

    def follow(self, venue_symbols: Iterable[str]) -> None:
        """Publish the events of ``venue_symbols`` (a subscription, or a replay's instrument
        list); once anything is followed, a push of any other symbol (one not subscribed, or not
        listed) is counted ``unknown_symbol``, logged once and skipped, on every path."""
        if self._only is None:
            self._only = {""}
        self._only.update(venue_symbols)

    def unfollow(self, venue_symbol: str) -> None:
        """No subscription of ``venue_symbol`` is left: its pushes are no longer published."""
        if self._only is not None and venue_symbol:
            self._only.discard(venue_symbol)

    def _admit(self, event: Event) -> bool:
        """Whether ``event`` is published: not for a symbol this handler does not follow (but
        a ``VenueError`` always is), and not a crossed best bid/offer. What is refused is
        counted and logged once."""
        cls = event.__class__
        only = self._only
        if only is not None and event.venue_symbol not in only and cls is not VenueError:
            self._count_error("unknown_symbol", b"", f"a {cls.__name__} of {event.venue_symbol!r}, not subscribed or not listed")
            return False
        if cls is BestBidOffer:
            bid, ask = event.bid_price, event.ask_price
            if bid is not None and ask is not None and bid >= ask:
                self._count_error("crossed_bbo", b"", f"{event.venue_symbol}: bid {bid!r} >= ask {ask!r}")
                return False
        return True

    def _handle_message(self, raw: bytes | str, recv_ts: int | None = None) -> None:
        """Decode one frame and emit its events. Never raises."""
        self.stats.frames += 1
        if recv_ts is None:
            recv_ts = time.time_ns()
        try:
            self._dispatch(raw, recv_ts)
        except Exception as exc:  # the contract: count, log once, skip
            self._failed(raw, recv_ts, exc)

    def _failed(self, raw: bytes | str, recv_ts: int, exc: Exception) -> None:
        """A frame ``_dispatch`` could not handle: counted as ``malformed`` (a subclass may
        keep it for later, e.g. futures pushes waiting for a contract multiplier)."""
        self._count_error("malformed", raw, exc)

    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        raise NotImplementedError

    def connection_lost(self, reason: str, recv_ts: int | None = None) -> None:
        """The network core lost (``reason="reconnect"``) or closed (``"closed"``) the
        connection feeding this handler at ``recv_ts`` (ns, default now); what the handler
        built from it is no longer current."""

    def _emit(self, event: Event) -> None:
        # the checks of _admit, inline: this runs for every event
        if event.__class__ is BestBidOffer:
            bid = event.bid_price
            if bid is not None:
                ask = event.ask_price
                if ask is not None and bid >= ask and not self._admit(event):
                    return
        only = self._only
        if only is not None and event.venue_symbol not in only and not self._admit(event):
            return
        self.stats.events += 1
        self.seen[event.__class__][event.venue_symbol] = event.recv_ts
        callback = self._on_event
        if callback is not None:
            try:
                callback(event)
            except Exception as exc:
                self._count_error("callback", b"", exc)

    def _emit_all(self, events: list[Event]) -> None:
        """:meth:`_emit` for the several events of one frame."""
        only = self._only
        seen = self.seen
        for event in events:
            cls = event.__class__
            if cls is BestBidOffer or only is not None and event.venue_symbol not in only:
                # one is refused: the others again, after the check (their times are the same)
                events = [e for e in events if self._admit(e)]
                for e in events:
                    seen[e.__class__][e.venue_symbol] = e.recv_ts
                break
            seen[cls][event.venue_symbol] = event.recv_ts
        self.stats.events += len(events)
        callback = self._on_event
        if callback is not None:
            for event in events:
                try:
                    callback(event)
                except Exception as exc:
                    self._count_error("callback", b"", exc)

    def _count_error(self, kind: str, raw: bytes | str, exc: BaseException | str | None = None) -> None:
        """Count one skipped frame or notable condition; log the first of each kind with a short
        prefix of the frame (never the whole frame, never credentials)."""
        self.stats.errors[kind] += 1
        if kind not in self._logged:
            self._logged.add(kind)
            log.warning(
                "%s %s: %s (%s)%s; later ones are only counted in stats",
                self.venue,
                self.market,
                kind,
                exc if exc is not None else "",
                f" prefix={_prefix(raw)}" if raw else "",
            )

    def _local(self, cls: type, venue_symbol: str = "", recv_ts: int | None = None, **fields: Any) -> Event:
        """A status or error event of this stream raised locally (see
        :func:`cexfeed.models.local_event`), about ``venue_symbol`` when given."""
        symbol = self.unified(venue_symbol) if venue_symbol else ""  # type: ignore[attr-defined]
        return local_event(cls, self.venue, self.market, symbol, venue_symbol, recv_ts, **fields)

    def _venue_error(self, code: int, message: str, channel: str, recv_ts: int, exchange_ts: int | None, venue_symbol: str = "") -> None:
        """A ``VenueError`` event, about ``venue_symbol`` when the frame or request named it."""
        self.stats.errors["venue_error"] += 1
        self._emit(
            VenueError(
                venue=self.venue,
                market=self.market,
                symbol=self.unified(venue_symbol) if venue_symbol else "",  # type: ignore[attr-defined]
                venue_symbol=venue_symbol,
                exchange_ts=exchange_ts,
                recv_ts=recv_ts,
                code=code,
                message=message,
                channel=channel,
            )
        )


class PrivateWebSocketHandler(WebSocketHandler):
    """Base of authenticated account-stream handlers (orders, fills, balances, positions); the
    contract every venue's private handler keeps (Gate spot and futures, MEXC spot):

    - ``_handle_message(raw, recv_ts)`` as for public handlers: decode, never raise; malformed
      and unknown input counted in ``stats``, logged once, skipped;
    - a subclass turns each push into normalized :mod:`cexfeed.models` account events
      (``Order``, ``Fill``, ``Balance``, ``Position``, ``AccountNotice``) and hands each to
      :meth:`_account_event`; the handler applies it to :attr:`state` (an
      :class:`~cexfeed.account.AccountState`) and publishes what changed;
    - seeding and reconciling without a gap (driven by :class:`cexfeed.private_feed.Account`):
      :meth:`begin_sync` (before subscribing, or when the connection is lost) makes pushes wait
      in a buffer; :meth:`finish_sync` applies a REST :class:`~cexfeed.account.AccountSnapshot`,
      then the buffered pushes (the state drops the ones the snapshot already holds), and
      declares the account ``live``;
    - status changes are :class:`~cexfeed.models.AccountStatus` events (``seeding``,
      ``reconciling``, ``live``, ``stale``, ``auth_failed``, ``refused``); :attr:`status` is the
      current one.

    Used alone (replay, tests) nothing is buffered: every push is applied as it comes.
    ``max_buffer`` bounds the buffer; past it pushes are dropped, counted
    (``buffer_overflow``), and :meth:`finish_sync` returns False so the caller loads a new
    snapshot.
    """

    def __init__(self, on_event: EventCallback | None = None, state: AccountState | None = None, max_buffer: int = 100_000) -> None:
        super().__init__(on_event)
        self.state = state if state is not None else AccountState(self.venue, self.market)
        self.status = ""
        # run by an Account, which reports refusals itself: it waits for every subscription's
        # answer and publishes the one auth_failed naming the refused channels, and a refused
        # session key as a key change (Account._on_replayed); alone the first refusal publishes
        self.managed = False
        self._auth_refused = False
        self.max_buffer = max_buffer
        self._syncing = False
        self._buffer: list[AccountEvent] = []
        self._overflow = False
        self._seeded = False
        state = self.state
        self._appliers = {Order: state.apply_order, Fill: state.apply_fill, Balance: state.apply_balance, Position: state.apply_position}

    def unified(self, venue_symbol: str) -> str:
        raise NotImplementedError

    @property
    def syncing(self) -> bool:
        """True while pushes are buffered (between :meth:`begin_sync` and :meth:`finish_sync`)."""
        return self._syncing

    def _account_event(self, event: AccountEvent) -> None:
        """Apply one normalized account event now, or buffer it while syncing."""
        if self._syncing:
            if len(self._buffer) < self.max_buffer:
                self._buffer.append(event)
            else:
                self._overflow = True
                self.stats.errors["buffer_overflow"] += 1
            return
        apply = self._appliers.get(event.__class__)
        result = apply(event) if apply is not None else event
        if result is not None:
            self._emit(result)

    def begin_sync(self, reason: str = "") -> None:
        """Buffer pushes until the next :meth:`finish_sync` (a buffer already filling since
        :meth:`connection_lost` is kept: it holds the new connection's pushes); publishes
        ``seeding`` (first time) or ``reconciling``."""
        if not self._syncing:
            self._syncing = True
            self._buffer = []
            self._overflow = False
        self._set_status(RECONCILING if self._seeded else SEEDING, reason)

    def finish_sync(self, snapshot: AccountSnapshot, recv_ts: int | None = None) -> bool:
        """Apply ``snapshot``, then the buffered pushes, publish each change once, and go
        ``live``. Returns False when pushes were lost to a full buffer (load another snapshot)."""
        if recv_ts is None:
            recv_ts = time.time_ns()
        self._emit_all(self.state.reconcile(snapshot, recv_ts))
        buffered, self._buffer = self._buffer, []
        self._syncing = False
        apply = self.state.apply
        for event in buffered:
            result = apply(event)
            if result is not None:
                self._emit(result)
        complete = not self._overflow
        self._overflow = False
        self._seeded = True
        self._set_status(LIVE, "snapshot" if complete else "buffer_overflow")
        return complete

    def connection_lost(self, reason: str, recv_ts: int | None = None, code: str = "", message: str = "") -> None:
        """The account is ``stale`` until reconciled. Pushes of the lost connection still
        buffered are dropped: only the next connection's pushes, which all come after its
        subscription, are applied on top of its snapshot (they arrive in order, so the last one
        of each balance or order is the newest). A ``code`` (the venue's, e.g. a refused session
        token) publishes the status again even when already ``stale``, with ``reason``."""
        self._syncing = True
        self._buffer = []
        self._overflow = False
        if self.status in _TERMINAL:
            return  # refused by the venue: that stays the account's status until the user acts
        self._set_status(STALE, reason, code, message, recv_ts=recv_ts)

    def auth_failed(self, code: str, message: str) -> None:
        """The venue refused the credentials: publish ``auth_failed`` with its code and text
        (once: the status is terminal)."""
        if self.status == AUTH_FAILED:
            return
        self._set_status(AUTH_FAILED, "auth", code, message)

    def auth_refused(self, code: str, message: str) -> None:
        """A subscription answer refusing the credentials (one per channel; the caller
        publishes the ``VenueError`` of the first only, while ``_auth_refused`` is false): the
        status comes from :meth:`auth_failed`, at once unless ``managed`` (by an Account)."""
        self._auth_refused = True
        if not self.managed:
            self.auth_failed(code, message)

    def subscription_refused(self, code: str, message: str) -> None:
        """The venue refused a private subscription for another reason than the credentials or
        the clock (a wrong user id, a channel the key may not use): the account cannot be kept
        right, so it is not ``live``: publish ``refused`` with the venue's code and text."""
        self._set_status(REFUSED, "subscription", code, message)

    def _set_status(self, status: str, reason: str, code: str = "", message: str = "", recv_ts: int | None = None) -> None:
        if status == self.status and not code:
            return
        self.status = status
        self._emit(self._local(AccountStatus, "", recv_ts, status=status, reason=reason, code=code, message=message))


_TERMINAL = frozenset({AUTH_FAILED, REFUSED})


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
                self._count_error("unknown_symbol", b"", f"a book push of {venue_symbol!r}, not subscribed or not listed")
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
