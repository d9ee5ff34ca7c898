# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled ``_handle_message`` of the Gate public handlers: the hot pushes read straight from
the raw bytes and published in C, everything else handed to the handler's own path.

It reads the short pushes of the ``items`` rows itself (gateio-protocol.md §6.1 ``spot.tickers``,
§6.2 ``spot.trades``, §6.5 ``spot.book_ticker``, §7.3 ``futures.trades``, §7.4
``futures.book_ticker``) and takes the REST-synced book channel and ``futures.tickers`` from the
compiled :class:`~cexfeed.exchanges.gateio._fastpush.PushReader`; then it does what the handler's
``_emit`` / ``_emit_all`` and ``_apply_book_update`` do (count the frame and the events, note
``seen``, call the consumer, count a failing callback; a delta to a synced book goes to its
sequencer as ``_book_delta`` sends it).

One module in two files: this one (the handle, its publishing), and the included
``_fastitems_rows.pxi`` (the item rows' field table and reading).

Its pure-Python twin is the handler's own path (typed msgspec decode, the ``_on_*`` item methods,
``_emit``): ``tests/test_gateio_fastitems.py``, ``tests/test_gateio_fastpush.py`` and
``tests/test_differential_fuzz.py`` hold the two to each other. Whatever needs a counter or a
rule this reader does not apply makes it hand the frame over before it has changed anything: a
frame that is not ASCII, another channel or event, a key or value in a form it does not read
(an escape, a number outside the grammar or the field's bounds, a time not in ms unless it is a
bare integer), a trade of size 0 or of another side, a crossed best bid/offer, an event of a
symbol the handler does not follow, a contract whose multiplier is not known.
"""

from libc.math cimport fabs
from libc.string cimport memcmp, memcpy

from cexfeed._account cimport _offset, _set_slot, _slot
from cexfeed.exchanges.gateio._fastpush cimport (NOT_ASCII, NOT_CLEAN, Cur, _base, _bytes, _int, _key, _null, _number, _push_field, _skip,
                                                 _take, _text, _time, _ws)

from time import time_ns as _time_ns

from cexfeed import wire
from cexfeed import book
from cexfeed.exchanges.gateio.book_push import BookPush
from cexfeed.handlers import HandlerStats
from cexfeed.models import BUY, PERP, SELL, SPOT, BestBidOffer, BookUpdate, Event, Ticker, Trade


# The events are built positionally: check the field order they are built with.
_HEAD = ("venue", "market", "symbol", "venue_symbol", "exchange_ts", "recv_ts")
for _cls, _fields in (
    (BestBidOffer, ("bid_price", "bid_size", "ask_price", "ask_size", "update_id")),
    (Trade, ("price", "size", "side", "trade_id", "contracts", "raw_side")),
    (Ticker, ("last", "best_bid", "best_ask", "high_24h", "low_24h", "base_volume", "quote_volume", "change_pct")),
    (BookUpdate, ("bids", "asks", "snapshot", "first_update_id", "last_update_id")),
):
    if _cls.__struct_fields__ != _HEAD + _fields:
        raise ImportError(f"cexfeed._fastitems was built for another {_cls.__name__} field order; rebuild it")

# the bounds of cexfeed.wire (a time with a fraction is read here only in the ms range)
cdef double _FINITE = wire.MAX_VALUE
cdef double _MS_LOW = wire.MAX_SECONDS
cdef double _MS_HIGH = wire.MAX_MILLIS
cdef long long _MAX_SEQ = wire.MAX_SEQ
# the handler's counters and each event's venue symbol, at their slots
cdef Py_ssize_t _FRAMES = _offset(HandlerStats, "frames")
cdef Py_ssize_t _EVENTS = _offset(HandlerStats, "events")
cdef Py_ssize_t _VENUE_SYMBOL = _offset(Event, "venue_symbol")
# BookSequencer.on_delta's answers
cdef int _APPLIED = book.APPLIED
cdef int _GAP = book.GAP
cdef int _CROSSED = book.CROSSED


include "_fastitems_rows.pxi"


cdef class PushHandler:
    """The compiled ``_handle_message`` of one Gate public handler (the handler binds
    :meth:`handle_message` as its own).

    ``reader`` the handler's :class:`~cexfeed.exchanges.gateio._fastpush.PushReader`, ``items``
    ``{venue channel: kind}``: the item rows read here (``bbo``, ``trade``, ``perp_trade``,
    ``ticker``) and the channels of ``reader`` (``reader``: its book channel, ``futures.tickers``), ``contracts`` the handler's dict
    contract -> ``(num, den, one, unified name)``, ``handler`` the handler, ``fallback`` its own
    ``_handle_message``. A frame is read here only while the handler's ``_reader`` is ``reader``.
    """

    cdef object reader, handler, fallback, stats, seen, market, context, apply_book, failed, count_error, emit, broken
    cdef dict hdict, contracts, books
    cdef set closed_books
    cdef int nchannels
    cdef const char* names[MAX_CHANNELS]
    cdef Py_ssize_t lens[MAX_CHANNELS]
    cdef int kinds[MAX_CHANNELS]
    cdef list keep
    # the last symbol read, so that its str (and hash) is made once
    cdef char last[64]
    cdef Py_ssize_t last_n
    cdef object last_name
    cdef Item items[MAX_ITEMS]

    def __init__(self, object reader, dict items, dict contracts, object handler, object fallback):
        kinds = {"bbo": BBO, "trade": TRADE, "perp_trade": PERP_TRADE, "ticker": TICKER, "reader": DELEGATE}
        channels = [(channel.encode(), kinds[kind]) for channel, kind in items.items()]
        if len(channels) > MAX_CHANNELS or type(handler.stats) is not HandlerStats:
            raise ValueError("PushHandler: too many channels, or not a cexfeed handler")
        self.nchannels = 0
        self.keep = []
        for name, kind in channels:
            self.keep.append(name)
            self.names[self.nchannels] = name
            self.lens[self.nchannels] = len(name)
            self.kinds[self.nchannels] = kind
            self.nchannels += 1
        self.reader = reader
        self.contracts = contracts
        self.handler = handler
        self.fallback = fallback
        self.hdict = handler.__dict__
        self.stats = handler.stats
        self.seen = handler.seen
        self.market = handler.market
        self.context = handler._contract_context
        self.apply_book = handler._apply_book_update
        self.emit = handler._emit
        self.broken = handler._broken
        self.books = handler.books
        self.closed_books = handler.closed_books
        self.failed = handler._failed
        self.count_error = handler._count_error
        self.last_n = -1
        self.last_name = None

    def handle_message(self, object raw, object recv_ts=None):
        """One raw frame (see the class docstring). Never raises: a failing frame is counted
        as the handler counts one."""
        if recv_ts is None:
            recv_ts = _time_ns()
        if type(raw) is bytes and self.hdict.get("_reader") is self.reader:
            try:
                if self._handle(raw, recv_ts):
                    return
            except Exception as exc:  # after the frame was counted (publishing, a book push)
                self.failed(raw, recv_ts, exc)
                return
        self.fallback(raw, recv_ts)

    cdef object _name(self, const char* s, Py_ssize_t n):
        if n == self.last_n and memcmp(s, self.last, n) == 0:
            return self.last_name
        name = s[:n].decode("ascii")
        if n <= 64:
            memcpy(self.last, s, n)
            self.last_n = n
            self.last_name = name
        return name

    cdef object _context(self, object name):
        """``(num, den, one, unified)`` of a symbol, learnt from the handler on its first push;
        ``None`` when the handler cannot give it (its own path then says why)."""
        ctx = self.contracts.get(name)
        if ctx is None:
            try:
                ctx = self.context(name)
            except Exception:
                return None
            self.contracts[name] = ctx
        return ctx

    cdef bint _handle(self, bytes raw, object recv_ts) except -1:
        """Publish (or apply) what one frame gives; False, before anything was changed, when the
        handler's path must take it."""
        try:
            r = self._read(raw, recv_ts)
        except (ValueError, UnicodeDecodeError):  # a number PyOS_string_to_double refused
            return False
        if r is None:
            return False
        stats = self.stats
        if type(r) is list:
            only = self.hdict.get("_only")
            if only is not None:
                for event in r:
                    if _slot(event, _VENUE_SYMBOL) not in only:
                        return False
            _set_slot(stats, _FRAMES, _slot(stats, _FRAMES) + 1)
            self._emit_all(r, recv_ts)
        elif type(r) is BookPush:
            _set_slot(stats, _FRAMES, _slot(stats, _FRAMES) + 1)
            self._book(r, recv_ts)
        else:
            if not self._admitted(r):
                return False
            _set_slot(stats, _FRAMES, _slot(stats, _FRAMES) + 1)
            self._emit_one(r, recv_ts)
        return True

    cdef object _read(self, bytes raw, object recv_ts):
        """The event of a push (a list of them for an array), the PushReader's answer on its
        channels (a BookPush or ticker events), ``None`` for anything the handler must take."""
        cdef Cur c
        cdef const char* s
        cdef Py_ssize_t n, count = 0
        cdef long long sec = 0, ms = 0
        cdef int kind = OTHER, i, found, field
        cdef bint single = False, event_ok = False, have_result = False
        cdef Item* it
        found = _bytes(<const char*> raw, len(raw))
        if found & NOT_ASCII:
            return None  # UTF-8 text: the handler's path checks it
        c.p = <const char*> raw
        c.end = c.p + len(raw)
        c.clean = not found & NOT_CLEAN
        if not _take(&c, c'{'):
            return None
        while True:
            if not _text(&c, &s, &n) or not _take(&c, c':'):
                return None
            if _key(s, n, b"channel", 7):
                if kind != OTHER or not _text(&c, &s, &n):
                    return None
                for i in range(self.nchannels):
                    if _key(s, n, self.names[i], self.lens[i]):
                        kind = self.kinds[i]
                        break
                if kind == OTHER:
                    return None
                if kind == DELEGATE:
                    return self._delegate(raw, recv_ts, c.clean)
            elif _key(s, n, b"result", 6):
                # the channel comes first on every Gate push
                if have_result or kind == OTHER:
                    return None
                have_result = True
                _ws(&c)
                if c.p < c.end and c.p[0] == c'{':
                    single = True
                    if not _item(&c, &_SPECS[kind], &self.items[0]):
                        return None
                    count = 1
                else:
                    if not _take(&c, c'['):
                        return None
                    if not _take(&c, c']'):
                        while True:
                            if count == MAX_ITEMS or not _item(&c, &_SPECS[kind], &self.items[count]):
                                return None
                            count += 1
                            if _take(&c, c','):
                                continue
                            if not _take(&c, c']'):
                                return None
                            break
            else:
                # event, time, time_ms; never error, id, payload; any other key skipped
                field = _push_field(&c, s, n, &event_ok, &sec, &ms)
                if field < 0 or field == 0 and not _skip(&c, 0):
                    return None
            if _take(&c, c','):
                continue
            if not _take(&c, c'}'):
                return None
            break
        _ws(&c)
        if c.p != c.end or not (event_ok and have_result):
            return None
        if single:
            return self._event(kind, &self.items[0], ms, sec, recv_ts)
        events = []
        for i in range(count):
            event = self._event(kind, &self.items[i], ms, sec, recv_ts)
            if event is None:
                return None
            events.append(event)
        return events

    cdef object _event(self, int kind, Item* it, long long ms, long long sec, object recv_ts):
        """The event of one item, ``None`` when the handler's path must take the frame."""
        cdef double num, den, bid_p, bid_s, ask_p, ask_s, size
        cdef bint one, bid, ask
        name = self._name(it.sym, it.sym_n)
        ctx = self._context(name)
        if ctx is None:
            return None
        num, den, one, symbol = ctx
        if kind == BBO:
            bid_p, bid_s, ask_p, ask_s = it.v[2], it.v[3], it.v[4], it.v[5]
            # wire.quotes: a side needs a price and a size above 0 (a field not given is "")
            bid = it.has & 4 and it.has & 8 and bid_p != 0.0 and bid_s != 0.0
            ask = it.has & 16 and it.has & 32 and ask_p != 0.0 and ask_s != 0.0
            if bid and ask and bid_p >= ask_p:
                return None  # crossed: counted by the handler
            return BestBidOffer("gateio", self.market, symbol, name, _stamp(_given(it, 1), ms, sec, 0), recv_ts,
                                bid_p if bid else None, _base(bid_s, num, den, one) if bid else None,
                                ask_p if ask else None, _base(ask_s, num, den, one) if ask else None,
                                it.k[6] if it.has & 64 else None)
        if kind == TRADE:
            if it.v[3] == 0.0:
                return None  # zero_size_trade
            return Trade("gateio", SPOT, symbol, name, _stamp(_given(it, 6), _given(it, 5), ms, sec), recv_ts, it.v[4], it.v[3],
                         BUY if it.k[2] == 1 else SELL, str(it.k[0]), None, None)
        if kind == PERP_TRADE:
            if it.v[2] == 0.0:
                return None  # zero_size_trade
            size = fabs(it.v[2])
            return Trade("gateio", PERP, symbol, name, _stamp(_given(it, 5), _given(it, 4), ms, sec), recv_ts, it.v[3],
                         _base(size, num, den, one), BUY if it.v[2] > 0.0 else SELL, str(it.k[0]), size, None)
        # TICKER: spot.tickers, stamped with the push
        return Ticker("gateio", SPOT, symbol, name, _stamp(ms, sec, 0, 0), recv_ts, _opt(it, 1), _opt(it, 3), _opt(it, 2), _opt(it, 7),
                      _opt(it, 8), _opt(it, 5), _opt(it, 6), _opt(it, 4))

    cdef object _delegate(self, bytes raw, object recv_ts, bint clean):
        """What the PushReader gives for a push of its channels (a BookPush, ticker events),
        the contract's multiplier and name learnt first; ``None``: the handler's path."""
        r = self.reader.read(raw, recv_ts, clean)
        while type(r) is str:  # first push of this contract
            if self._context(r) is None:
                return None
            r = self.reader.read(raw, recv_ts, clean)
        return r

    cdef int _book(self, object push, object recv_ts) except -1:
        """A book push: a delta to a book that exists goes as the handler's ``_book_delta`` takes
        it, a full push or anything else through the handler's ``_apply_book_update``."""
        cdef int code
        cdef tuple fields = <tuple> push  # a BookPush: its fields by index, as a tuple's
        symbol = fields[0]
        seq = self.books.get(symbol)
        if fields[4] or seq is None or self.closed_books:
            self.apply_book(push, recv_ts)
            return 0
        exchange_ts, first, last, bids, asks = fields[1], fields[2], fields[3], fields[5], fields[6]
        code = seq.on_delta(first, last, bids, asks)
        if code == _APPLIED:
            event = BookUpdate("gateio", self.market, seq.symbol, symbol, exchange_ts, recv_ts, bids, asks, False, first, last)
            if self._admitted(event):
                self._emit_one(event, recv_ts)
            else:
                self.emit(event)  # counted by the handler
            seq.book.exchange_ts = exchange_ts
        elif code == _GAP or code == _CROSSED:
            self.broken(symbol, seq, code, exchange_ts, recv_ts, first)
        return 0

    cdef bint _admitted(self, object event) except -1:
        """Whether the handler's ``_emit`` publishes ``event`` without counting anything (the
        quotes of a best bid/offer made here are never crossed)."""
        only = self.hdict.get("_only")
        return only is None or _slot(event, _VENUE_SYMBOL) in only

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
                self.count_error("callback", b"", exc)
        return 0

    cdef int _emit_all(self, list events, object recv_ts) except -1:
        """The handler's ``_emit_all`` of admitted events."""
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
                    self.count_error("callback", b"", exc)
        return 0
