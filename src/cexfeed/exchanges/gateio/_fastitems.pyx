# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled ``_handle_message`` of the Gate public handlers: the hot pushes read straight from
the raw bytes and published in C, everything else handed to the handler's own path.

It reads the short pushes of the ``items`` rows itself (gateio-protocol.md §6.1 ``spot.tickers``,
§6.2 ``spot.trades``, §6.5 ``spot.book_ticker``, §7.3 ``futures.trades``, §7.4
``futures.book_ticker``) and takes the REST-synced book channel and ``futures.tickers`` from the
compiled :class:`~cexfeed.exchanges.gateio._fastpush.PushReader`; then it does what the handler's
``_emit`` / ``_emit_all`` and ``_apply_book_update`` do (count the frame and the events, note
``seen``, call the consumer, count a failing callback).

Its pure-Python twin is the handler's own path (typed msgspec decode, the ``_on_*`` item methods,
``_emit``): ``tests/test_gateio_fastpush.py`` and ``tests/test_differential_fuzz.py`` hold the
two to each other. Whatever needs a counter or a rule this reader does not apply makes it hand
the frame over before it has changed anything: a frame that is not ASCII, another channel or
event, a key or value in a form it does not read (an escape, a number outside the grammar or the
field's bounds, a time not in ms unless it is a bare integer), a trade of size 0 or of another
side, a crossed best bid/offer, an event of a symbol the handler does not follow, a contract
whose multiplier is not known.
"""

from libc.math cimport fabs
from libc.string cimport memcmp, memcpy

from cexfeed._account cimport _offset, _set_slot, _slot
from cexfeed.exchanges.gateio._fastpush cimport NOT_ASCII, NOT_CLEAN, Cur, _base, _bytes, _int, _key, _null, _number, _skip, _take, _text, _time, _ws

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


# -- item rows: what each field of a wire struct holds --------------------------------------------

# row kinds (DELEGATE: the PushReader's channels)
cdef enum:
    OTHER, BBO, TRADE, PERP_TRADE, TICKER, DELEGATE, N_KINDS

# field kinds, each read by the rule of its cexfeed.wire type
cdef enum:
    F_NAME      # Name: a string, not empty
    F_PRICE     # Price: > 0
    F_SIZE      # Size: >= 0
    F_SIGNED    # Signed
    F_QUOTE     # QuoteValue: >= 0, or "" (0: no quote)
    F_SEQ       # SeqId: a bare integer in [0, MAX_SEQ]
    F_TIME      # Time -> ms: a bare integer in any unit, or a number in the ms range
    F_SIDE      # a trade side: "buy" or "sell" (another one is counted by the handler)
    F_FLAG      # bool: true / false

cdef enum:
    MAX_FIELDS = 9
    MAX_ITEMS = 8
    MAX_CHANNELS = 6

cdef struct Field:
    const char* name
    Py_ssize_t n
    int kind
    bint required
    bint nullable   # X | None: null is None

cdef struct Spec:
    int n
    Field f[MAX_FIELDS]

cdef struct Item:
    const char* sym
    Py_ssize_t sym_n
    unsigned int has            # bit i: field i given (null: not given)
    double v[MAX_FIELDS]        # numbers
    long long k[MAX_FIELDS]     # ids, times (ms), sides (1 buy, 2 sell), flags

cdef Spec _SPECS[N_KINDS]


cdef void _def(int kind, int i, const char* name, int fkind, bint required, bint nullable) noexcept:
    cdef Field* f = &_SPECS[kind].f[i]
    f.name = name
    f.n = len(name)
    f.kind = fkind
    f.required = required
    f.nullable = nullable
    if i >= _SPECS[kind].n:
        _SPECS[kind].n = i + 1


# the structs of spot_table / futures_table, field by field in their order (tests check them)
# BookTicker, FuturesBookTicker: s t b B a A u
_def(BBO, 0, b"s", F_NAME, True, False)
_def(BBO, 1, b"t", F_TIME, False, False)
_def(BBO, 2, b"b", F_QUOTE, False, False)
_def(BBO, 3, b"B", F_QUOTE, False, False)
_def(BBO, 4, b"a", F_QUOTE, False, False)
_def(BBO, 5, b"A", F_QUOTE, False, False)
_def(BBO, 6, b"u", F_SEQ, False, True)
# SpotTrade
_def(TRADE, 0, b"id", F_SEQ, True, False)
_def(TRADE, 1, b"currency_pair", F_NAME, True, False)
_def(TRADE, 2, b"side", F_SIDE, True, False)
_def(TRADE, 3, b"amount", F_SIZE, True, False)
_def(TRADE, 4, b"price", F_PRICE, True, False)
_def(TRADE, 5, b"create_time", F_TIME, False, False)
_def(TRADE, 6, b"create_time_ms", F_TIME, False, False)
# FuturesTrade
_def(PERP_TRADE, 0, b"id", F_SEQ, True, False)
_def(PERP_TRADE, 1, b"contract", F_NAME, True, False)
_def(PERP_TRADE, 2, b"size", F_SIGNED, True, False)
_def(PERP_TRADE, 3, b"price", F_PRICE, True, False)
_def(PERP_TRADE, 4, b"create_time", F_TIME, False, False)
_def(PERP_TRADE, 5, b"create_time_ms", F_TIME, False, False)
_def(PERP_TRADE, 6, b"is_internal", F_FLAG, False, False)
# SpotTicker
_def(TICKER, 0, b"currency_pair", F_NAME, True, False)
_def(TICKER, 1, b"last", F_PRICE, False, True)
_def(TICKER, 2, b"lowest_ask", F_PRICE, False, True)
_def(TICKER, 3, b"highest_bid", F_PRICE, False, True)
_def(TICKER, 4, b"change_percentage", F_SIGNED, False, True)
_def(TICKER, 5, b"base_volume", F_SIZE, False, True)
_def(TICKER, 6, b"quote_volume", F_SIZE, False, True)
_def(TICKER, 7, b"high_24h", F_PRICE, False, True)
_def(TICKER, 8, b"low_24h", F_PRICE, False, True)


def specs():
    """``{row kind: ((field, kind, required, nullable), ...)}`` of this build (for the test that
    holds it to the wire structs)."""
    names = {F_NAME: "name", F_PRICE: "price", F_SIZE: "size", F_SIGNED: "signed", F_QUOTE: "quote", F_SEQ: "seq", F_TIME: "time",
             F_SIDE: "side", F_FLAG: "flag"}
    out = {}
    for kind, label in ((BBO, "bbo"), (TRADE, "trade"), (PERP_TRADE, "perp_trade"), (TICKER, "ticker")):
        out[label] = tuple((_SPECS[kind].f[i].name.decode(), names[_SPECS[kind].f[i].kind], bool(_SPECS[kind].f[i].required),
                            bool(_SPECS[kind].f[i].nullable)) for i in range(_SPECS[kind].n))
    return out


cdef bint _when(Cur* c, long long* out) except -1:
    """A ``Time`` -> ms: a bare integer in any unit (``_time``), or a number (text, a fraction,
    an exponent) in the ms range, truncated as ``wire.to_ms`` truncates it; else False."""
    cdef const char* start
    cdef double x
    _ws(c)
    start = c.p
    if _time(c, out):
        return True
    c.p = start
    if not _number(c, &x) or not (_MS_LOW <= x < _MS_HIGH):
        return False
    out[0] = <long long> x
    return True


cdef bint _field(Cur* c, const Field* f, int i, Item* it) except -1:
    cdef unsigned int bit = 1u << i
    cdef int kind = f.kind
    cdef const char* s
    cdef Py_ssize_t n
    cdef double x
    cdef long long k = 0
    if f.nullable and _null(c):
        it.has &= ~bit
        return True
    if kind == F_NAME:
        if not _text(c, &it.sym, &it.sym_n) or it.sym_n == 0:
            return False
    elif kind == F_SIDE:
        if not _text(c, &s, &n):
            return False
        if n == 3 and memcmp(s, b"buy", 3) == 0:
            k = 1
        elif n == 4 and memcmp(s, b"sell", 4) == 0:
            k = 2
        else:
            return False
    elif kind == F_FLAG:
        _ws(c)
        if c.end - c.p >= 4 and memcmp(c.p, b"true", 4) == 0:
            c.p += 4
            k = 1
        elif c.end - c.p >= 5 and memcmp(c.p, b"false", 5) == 0:
            c.p += 5
        else:
            return False
    elif kind == F_SEQ:
        if not _int(c, &k) or not 0 <= k <= _MAX_SEQ:
            return False
    elif kind == F_TIME:
        if not _when(c, &k):
            return False
    elif kind == F_QUOTE:
        _ws(c)
        if c.end - c.p >= 2 and c.p[0] == c'"' and c.p[1] == c'"':
            c.p += 2
            x = 0.0
        elif not _number(c, &x) or not 0.0 <= x < _FINITE:
            return False
    else:
        if not _number(c, &x):
            return False
        if kind == F_PRICE:
            if not 0.0 < x < _FINITE:
                return False
        elif kind == F_SIZE:
            if not 0.0 <= x < _FINITE:
                return False
        elif not -_FINITE < x < _FINITE:
            return False
    it.v[i] = x
    it.k[i] = k
    it.has |= bit
    return True


cdef bint _item(Cur* c, const Spec* sp, Item* it) except -1:
    """One item object of a row's struct (unknown keys skipped; a key sent twice: the last)."""
    cdef const char* s
    cdef Py_ssize_t n
    cdef int i, j, hint = 0
    cdef int nf = sp.n
    it.has = 0
    it.sym = NULL
    it.sym_n = 0
    if not _take(c, c'{'):
        return False
    if not _take(c, c'}'):
        while True:
            if not _text(c, &s, &n) or not _take(c, c':'):
                return False
            i = -1
            for j in range(nf):  # from the field after the last one found: keys come in order
                i = hint + j
                if i >= nf:
                    i -= nf
                if sp.f[i].n == n and memcmp(s, sp.f[i].name, n) == 0:
                    hint = i + 1
                    break
                i = -1
            if i < 0:
                if not _skip(c, 0):
                    return False
            elif not _field(c, &sp.f[i], i, it):
                return False
            if _take(c, c','):
                continue
            if not _take(c, c'}'):
                return False
            break
    for i in range(nf):
        if sp.f[i].required and not it.has & (1u << i):
            return False
    return True


cdef inline object _opt(Item* it, int i):
    return it.v[i] if it.has & (1u << i) else None


cdef inline long long _given(Item* it, int i):
    """Field i's ms, 0 when not given."""
    return it.k[i] if it.has & (1u << i) else 0


cdef object _stamp(long long a, long long b, long long c, long long d):
    """The first time given (each in ms), ``None`` when none is: what ``stamp`` / ``env_ms`` give."""
    if a:
        return a
    if b:
        return b
    if c:
        return c
    if d:
        return d
    return None


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
        cdef int kind = OTHER, i, found
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
            elif _key(s, n, b"event", 5):
                if not _text(&c, &s, &n) or not _key(s, n, b"update", 6):
                    return None
                event_ok = True
            elif _key(s, n, b"time", 4):
                if not _time(&c, &sec):
                    return None
            elif _key(s, n, b"time_ms", 7):
                if not _time(&c, &ms):
                    return None
            elif _key(s, n, b"error", 5) or _key(s, n, b"id", 2) or _key(s, n, b"payload", 7):
                return None  # never on a push: the handler's path checks them
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
            elif not _skip(&c, 0):
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
