"""The handler contract's base: :class:`ConnectionHooks` (what a handler tells its
connection), :class:`HandlerStats` (its counters) and :class:`WebSocketHandler` (one frame in,
events out, never raising). The public and private bases build on it
(:mod:`cexfeed.book_handler`, :mod:`cexfeed.account_handler`); :mod:`cexfeed.handlers` names all
of them (see its docstring for the contract).
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from typing import Any, Callable, Iterable

from .models import BestBidOffer, Event, VenueError, local_event

log = logging.getLogger("cexfeed")

EventCallback = Callable[[Event], None]


class ReadableNames(set):
    """The venue symbols a handler publishes when it follows no list (:meth:`WebSocketHandler.follow_readable`):
    ``""`` (events of no symbol) and every name ``readable`` accepts, each remembered once read.
    A set, so every path's ``name in followed`` asks it."""

    def __init__(self, readable: Callable[[str], bool]) -> None:
        super().__init__(("",))
        self._readable = readable

    def __contains__(self, name: object) -> bool:
        if set.__contains__(self, name):
            return True
        if name.__class__ is str and self._readable(name):  # type: ignore[arg-type]
            self.add(name)
            return True
        return False


def unfollowed(only: set[str]) -> str:
    """Why a name is not in ``only`` (a handler's followed names), for the log line."""
    return "not a symbol name the venue's rule reads" if only.__class__ is ReadableNames else "not subscribed or not listed"


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
        if self._only is None or self._only.__class__ is ReadableNames:
            self._only = {""}
        self._only.update(venue_symbols)

    def follow_readable(self, readable: Callable[[str], bool]) -> None:
        """Publish the events of every venue symbol ``readable`` accepts (the venue's symbol
        rule, :meth:`cexfeed.symbols.SymbolMap.readable`), where no list says which to follow
        (a replay without the instrument list): a push of a name it does not read is counted
        ``unknown_symbol``, logged once and skipped, on every path, as one not followed is. A
        later :meth:`follow` follows its names only."""
        if self._only is None:
            self._only = ReadableNames(readable)

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
            self._count_error("unknown_symbol", b"", f"a {cls.__name__} of {event.venue_symbol!r}, {unfollowed(only)}")
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

