# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled ``_handle_message`` of the MEXC public handler (mexc-protocol.md §2): the pushes of
its hot bodies (314 ``aggre.deals``, 315 ``aggre.bookTicker``, 313 ``aggre.depth``), decoded by
the compiled decoder (``_fastpb``), turned into events and published here; a push of another
body of the channel table goes, decoded, to the handler's method of that body (as ``_dispatch``
calls it), every other frame to the handler's own path.

Its pure-Python twin is the handler's own path (``_dispatch``, the ``_on_*`` body methods,
``_emit``/``_emit_all``); ``tests/test_mexc_fasthandle.py`` and
``tests/test_differential_fuzz.py`` hold the two to each other. Whatever needs a counter or a
rule this module does not apply makes it hand the frame over before it has changed anything: a
text frame, a connection due for its age check, a frame the decoder refuses or leaves to upb, a
body or channel it does not take, a push without a symbol, a symbol whose name is not cached yet,
a deal left out or of size 0, of another side or without an id, a crossed best bid/offer, an
event of a symbol the handler does not follow. A depth push to a book that is not synced (or
with impossible versions) goes to the handler's ``_on_aggre_depth`` once counted here.
"""

from cexfeed._account cimport _offset, _set_slot, _slot

from time import time_ns as _time_ns

from cexfeed import book
from cexfeed.handlers import HandlerStats
from cexfeed.models import BUY, SELL, SPOT, BestBidOffer, BookUpdate, Event, Trade

# The events are built positionally: check the field order they are built with.
_HEAD = ("venue", "market", "symbol", "venue_symbol", "exchange_ts", "recv_ts")
for _cls, _fields in (
    (BestBidOffer, ("bid_price", "bid_size", "ask_price", "ask_size", "update_id")),
    (Trade, ("price", "size", "side", "trade_id", "contracts", "raw_side")),
    (BookUpdate, ("bids", "asks", "snapshot", "first_update_id", "last_update_id")),
):
    if _cls.__struct_fields__ != _HEAD + _fields:
        raise ImportError(f"cexfeed._fasthandle was built for another {_cls.__name__} field order; rebuild it")

# the handler's counters and each event's venue symbol, at their slots
cdef Py_ssize_t _FRAMES = _offset(HandlerStats, "frames")
cdef Py_ssize_t _EVENTS = _offset(HandlerStats, "events")
cdef Py_ssize_t _VENUE_SYMBOL = _offset(Event, "venue_symbol")
# BookSequencer.on_delta's answers
cdef int _APPLIED = book.APPLIED
cdef int _GAP = book.GAP
cdef int _CROSSED = book.CROSSED
# trade type codes (mexc-protocol.md §2.2)
cdef object _TYPE_BUY = 1
cdef object _TYPE_SELL = 2

cdef enum:
    OTHER, DEALS, BBO, DEPTH


cdef class MexcHandle:
    """The compiled ``_handle_message`` of one MEXC public handler (the handler binds
    :meth:`handle_message` as its own): ``bodies`` ``{body number: kind}`` of the bodies read
    here (``deals``, ``bbo``, ``depth``), ``decoder`` the compiled decoder (a frame is read here
    only while it is the handler's ``_decode``), ``fallback`` the handler's own
    ``_handle_message``."""

    cdef object handler, decoder, fallback, stats, seen, names, channel_bodies, failed, emit, broken, on_depth, depth_applied
    cdef dict hdict, bodies, books, table
    cdef set closed_books

    def __init__(self, object handler, dict bodies, object decoder, object fallback):
        kinds = {"deals": DEALS, "bbo": BBO, "depth": DEPTH}
        if type(handler.stats) is not HandlerStats:
            raise ValueError("MexcHandle: not a cexfeed handler")
        self.handler = handler
        self.bodies = {number: kinds[kind] for number, kind in bodies.items()}
        self.decoder = decoder
        self.fallback = fallback
        self.hdict = handler.__dict__
        self.stats = handler.stats
        self.seen = handler.seen
        self.names = handler._names
        self.channel_bodies = handler._channel_bodies
        self.table = handler._table
        self.books = handler.books
        self.closed_books = handler.closed_books
        self.failed = handler._failed
        self.emit = handler._emit
        self.broken = handler._broken
        self.on_depth = handler._on_aggre_depth
        self.depth_applied = handler._depth_applied

    def handle_message(self, object raw, object recv_ts=None):
        """One raw frame (see the class docstring). Never raises: a failing frame is counted
        as the handler counts one."""
        if recv_ts is None:
            recv_ts = _time_ns()
        if type(raw) is bytes and self.hdict.get("_decode") is self.decoder:
            try:
                if self._handle(raw, recv_ts):
                    return
            except Exception as exc:  # after the frame was counted (a depth push, publishing)
                self.failed(raw, recv_ts, exc)
                return
        self.fallback(raw, recv_ts)

    cdef bint _handle(self, bytes raw, object recv_ts) except -1:
        """Publish (or apply) what one frame gives; False, before anything was changed, when the
        handler's path must take it."""
        cdef int kind
        cdef tuple push, body, deal
        if len(raw) == 0 or raw[0] == 123 or recv_ts > self.hdict.get("_age_deadline", 0):
            return False  # a text reply (``{``), or the connection's age is due a check
        try:
            push = <tuple> self.decoder(raw)
        except Exception:
            return False  # the handler's path counts it by kind
        number, symbol, ts, raw_body, channel = push[0], push[1], push[2], push[3], push[4]
        if raw_body is None or not symbol or self.channel_bodies.get(channel) != number:
            return False
        found = self.bodies.get(number)
        if found is None:
            # another body of the table: its method, as the handler's _dispatch calls it (the
            # frame is not decoded twice)
            route = self.table.get(number)
            if route is None:
                return False
            self._count_frame()
            route(symbol, ts, raw_body, raw, recv_ts)
            return True
        unified = self.names.get(symbol)
        if unified is None:
            return False
        kind = found
        body = <tuple> raw_body
        if kind == DEALS:
            if body[1]:
                return False  # deals left out: counted by the handler
            events = []
            for item in <list> body[0]:
                deal = <tuple> item
                price, qty, trade_type, time_ms, trade_id = deal[0], deal[1], deal[2], deal[3], deal[4]
                if qty == 0.0 or not trade_id:
                    return False  # zero_size_trade, or an id to number: the handler's
                if trade_type == _TYPE_BUY:
                    side = BUY
                elif trade_type == _TYPE_SELL:
                    side = SELL
                else:
                    return False  # unknown_side
                events.append(Trade("mexc", SPOT, unified, symbol, time_ms or ts, recv_ts, price, qty, side, trade_id, None, None))
            return self._publish(events, recv_ts)
        if kind == BBO:
            bid_price, ask_price = body[0], body[2]
            if bid_price is not None and ask_price is not None and bid_price >= ask_price:
                return False  # crossed: counted by the handler
            event = BestBidOffer("mexc", SPOT, unified, symbol, ts, recv_ts, bid_price, body[1], ask_price, body[3], body[4] or None)
            if not self._admitted(event):
                return False
            self._count_frame()
            self._emit_one(event, recv_ts)
            return True
        self._count_frame()
        self._depth(symbol, ts, raw_body, raw, recv_ts)
        return True

    cdef int _count_frame(self) except -1:
        stats = self.stats
        _set_slot(stats, _FRAMES, _slot(stats, _FRAMES) + 1)
        return 0

    cdef int _depth(self, object symbol, object ts, object raw_body, bytes raw, object recv_ts) except -1:
        """An ``aggre.depth`` push: a delta to a synced book goes as the handler's
        ``_on_aggre_depth`` takes it, anything else through that method."""
        cdef int code
        cdef tuple body = <tuple> raw_body
        asks, bids, first, last = body[0], body[1], body[2], body[3]
        seq = self.books.get(symbol)
        if last <= 0 or first > last or self.closed_books or seq is None or not seq.synced:
            self.on_depth(symbol, ts, raw_body, raw, recv_ts)
            return 0
        code = seq.on_delta(first, last, bids, asks)
        if code == _APPLIED:
            event = BookUpdate("mexc", SPOT, seq.symbol, symbol, ts, recv_ts, bids, asks, False, first, last)
            if self._admitted(event):
                self._emit_one(event, recv_ts)
            else:
                self.emit(event)  # counted by the handler
            seq.book.exchange_ts = ts
        elif code == _GAP or code == _CROSSED:
            self.broken(symbol, seq, code, ts, recv_ts, first)
        seq = self.books.get(symbol)
        if seq is not None and not seq.synced:
            self.depth_applied(symbol)
        return 0

    cdef bint _admitted(self, object event) except -1:
        """Whether the handler's ``_emit`` publishes ``event`` without counting anything."""
        only = self.hdict.get("_only")
        return only is None or _slot(event, _VENUE_SYMBOL) in only

    cdef bint _publish(self, list events, object recv_ts) except -1:
        """The handler's ``_emit_all`` (False, before anything: an event it would not publish)."""
        only = self.hdict.get("_only")
        if only is not None:
            for event in events:
                if _slot(event, _VENUE_SYMBOL) not in only:
                    return False
        self._count_frame()
        stats = self.stats
        _set_slot(stats, _EVENTS, _slot(stats, _EVENTS) + len(events))
        seen = self.seen
        for event in events:
            seen[type(event)][_slot(event, _VENUE_SYMBOL)] = recv_ts
        callback = self.hdict.get("_on_event")
        if callback is not None:
            for event in events:
                try:
                    callback(event)
                except Exception as exc:
                    self.handler._count_error("callback", b"", exc)
        return True

    cdef int _emit_one(self, object event, object recv_ts) except -1:
        """The handler's ``_emit`` of an admitted event."""
        stats = self.stats
        _set_slot(stats, _EVENTS, _slot(stats, _EVENTS) + 1)
        self.seen[type(event)][_slot(event, _VENUE_SYMBOL)] = recv_ts
        callback = self.hdict.get("_on_event")
        if callback is not None:
            try:
                callback(event)
            except Exception as exc:
                self.handler._count_error("callback", b"", exc)
        return 0
