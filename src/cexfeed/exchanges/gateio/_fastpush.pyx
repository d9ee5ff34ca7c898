# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled reader of the hot Gate push shapes, straight from the raw bytes:

- a ``spot.order_book_update`` / ``futures.order_book_update`` push (gateio-protocol.md §6.6,
  §7.6) -> ``[(price, base size)]`` level lists; levels may be ``{"p": .., "s": ..}`` objects
  (futures) or ``[price, size]`` arrays (spot);
- a ``futures.tickers`` push (§7.2) -> the ``Ticker``, ``FundingRate``, ``MarkPrice`` and
  ``OpenInterest`` events the msgspec path emits for it.

Anything it does not expect (another channel or event, an escaped string, a number outside the
JSON grammar or outside the field's bounds, a negative zero, a missing field, JSON the msgspec
decoder would refuse) makes it return ``None`` and the frame takes the msgspec path, which is the
reference this reader is tested against (same floats, same events, same counters). Sizes are
converted with the rule of :meth:`cexfeed.exchanges.gateio.contracts.ContractSize.base`; times
in any unit become ms as :func:`cexfeed.wire.to_ms` reads them (a time that is not a bare
integer of at most 18 digits takes the msgspec path). The bounds are those of
:mod:`cexfeed.wire`, read from it when the module loads.

Its JSON scanning (the cursor, strings, integers, numbers, times, skipping a value, the
contract-size rule) is declared in ``_fastpush.pxd`` for the account-push reader
(``_fastprivate.pyx``) and the compiled ``_handle_message`` of the public handlers
(``_fastitems.pyx``, which calls :meth:`PushReader.read` for this reader's channels) to share.
"""

from libc.math cimport isfinite
from libc.stdio cimport snprintf
from libc.stdlib cimport free, realloc
from libc.string cimport memcmp, memcpy, strlen

from cexfeed import wire
from cexfeed.exchanges.gateio.book_push import BookPush
from cexfeed.models import FundingRate, MarkPrice, OpenInterest, Ticker


cdef extern from "Python.h":
    ctypedef struct PyObject
    # overflow_exception NULL: an out-of-range value gives +-HUGE_VAL instead of raising
    double PyOS_string_to_double(const char* s, char** endptr, PyObject* overflow_exception) except? -1.0
    void PyObject_GC_UnTrack(void* op)


# The ticker events are built positionally: check the field order they are built with.
_HEAD = ("venue", "market", "symbol", "venue_symbol", "exchange_ts", "recv_ts")
for _cls, _fields in (
    (Ticker, ("last", "best_bid", "best_ask", "high_24h", "low_24h", "base_volume", "quote_volume", "change_pct")),
    (FundingRate, ("rate", "predicted_rate", "next_funding_ts")),
    (MarkPrice, ("mark_price", "index_price")),
    (OpenInterest, ("open_interest", "contracts", "open_interest_usd")),
):
    if _cls.__struct_fields__ != _HEAD + _fields:
        raise ImportError(f"cexfeed._fastpush was built for another {_cls.__name__} field order; rebuild it")


# the bounds of cexfeed.wire: a price is in (0, MAX_VALUE), a size in [0, MAX_VALUE), ids in
# [0, MAX_SEQ]; a time below MAX_SECONDS is in s, below MAX_MILLIS in ms, then µs, then ns
cdef double _FINITE = wire.MAX_VALUE
cdef long long _MAX_SECONDS = wire.MAX_SECONDS
cdef long long _MAX_MILLIS = wire.MAX_MILLIS
cdef long long _MAX_SEQ = wire.MAX_SEQ
# what this module was built with, for the test that holds it to cexfeed.wire
BOUNDS = {"MAX_VALUE": _FINITE, "MAX_SECONDS": _MAX_SECONDS, "MAX_MILLIS": _MAX_MILLIS, "MAX_SEQ": _MAX_SEQ}


cdef struct Levels:
    double* v       # price, size pairs
    Py_ssize_t n    # pairs
    Py_ssize_t cap


cdef bint _string(Cur* c, const char** s, Py_ssize_t* n) noexcept nogil:
    """A string without escapes or control characters; its bytes in s/n."""
    cdef const char* p
    cdef const char* end = c.end
    cdef const char* start
    cdef unsigned char ch
    _ws(c)
    p = c.p
    if p >= end or p[0] != c'"':
        return False
    p += 1
    start = p
    while True:
        if p >= end:
            return False
        ch = <unsigned char> p[0]
        if ch == c'"':
            break
        if ch == c'\\' or ch < 0x20:
            return False
        p += 1
    s[0] = start
    n[0] = p - start
    c.p = p + 1
    return True


cdef inline bint _digit(const char* p, const char* end) noexcept nogil:
    return p < end and c'0' <= p[0] <= c'9'


cdef bint _int(Cur* c, long long* out) noexcept nogil:
    """A bare JSON integer of at most 18 digits (a string, fraction or exponent: not here)."""
    cdef const char* p
    cdef const char* end = c.end
    cdef const char* start
    cdef long long v = 0
    cdef bint neg
    _ws(c)
    p = c.p
    neg = p < end and p[0] == c'-'
    if neg:
        p += 1
    start = p
    if not _digit(p, end):
        return False
    if p[0] == c'0':
        p += 1
    else:
        while _digit(p, end):
            v = v * 10 + (p[0] - c'0')
            p += 1
            if p - start > 18:
                return False
    if p < end and (p[0] == c'.' or p[0] == c'e' or p[0] == c'E' or c'0' <= p[0] <= c'9'):
        return False
    if neg and v == 0:
        return False  # msgspec reads -0 as 0 for ints but -0.0 for floats: leave it to msgspec
    out[0] = -v if neg else v
    c.p = p
    return True


cdef bint _time(Cur* c, long long* out) noexcept nogil:
    """A venue time -> ms, its unit told by its magnitude as wire.to_ms tells it (s, ms, µs,
    ns; 0: not given): a bare JSON integer of at most 18 digits (other forms: msgspec path)."""
    cdef long long v
    if not _int(c, &v) or v < 0:
        return False
    if v < _MAX_SECONDS:
        out[0] = v * 1000
    elif v < _MAX_MILLIS:
        out[0] = v
    elif v < _MAX_MILLIS * 1000:
        out[0] = v // 1000
    else:
        out[0] = v // 1000000
    return True


cdef bint _seq(Cur* c, long long* out) noexcept nogil:
    """A book id: a bare JSON integer in [0, MAX_SEQ], like wire.SeqId (longer ones: msgspec)."""
    return _int(c, out) and 0 <= out[0] <= _MAX_SEQ


cdef double _POW10[23]
_POW10[0] = 1.0
for _i in range(1, 23):
    _POW10[_i] = _POW10[_i - 1] * 10.0


cdef bint _slow_double(const char* s, Py_ssize_t n, double* out) except -1:
    cdef char buf[64]
    cdef char* endp
    if n <= 0 or n >= 64:
        return False
    memcpy(buf, s, n)
    buf[n] = 0
    out[0] = PyOS_string_to_double(buf, &endp, NULL)
    return endp == buf + n and isfinite(out[0])


cdef bint _number(Cur* c, double* out) except -1:
    """A JSON number or a numeric string (the venue's decimal strings) -> the correctly rounded
    double, in one pass that also checks the JSON number grammar. A mantissa of at most 19
    digits whose value is at most 2**53, with a power of ten up to 22, takes the exact path (one
    correctly rounded multiplication or division by an exact power of ten); anything else goes
    to Python's own parser. Zero with a minus sign is refused (msgspec's sign of it depends on
    the form)."""
    cdef const char* p
    cdef const char* end = c.end
    cdef const char* tok
    cdef const char* start
    cdef unsigned long long mant = 0
    cdef unsigned int d
    cdef Py_ssize_t ndigits
    cdef int scale = 0, exp = 0
    cdef bint quoted, neg = False, exp_neg = False
    _ws(c)
    p = c.p
    quoted = p < end and p[0] == c'"'
    if quoted:
        p += 1
    tok = p
    if p < end and p[0] == c'-':
        neg = True
        p += 1
    # integer part: 0 or [1-9][0-9]* (the digits past the 19th may wrap mant: then ndigits says so)
    if not _digit(p, end):
        return False
    start = p
    if p[0] == c'0':
        p += 1
    else:
        while p < end:
            d = <unsigned char> p[0] - 48
            if d > 9:
                break
            mant = mant * 10 + d
            p += 1
    ndigits = p - start
    # fraction
    if p < end and p[0] == c'.':
        p += 1
        start = p
        while p < end:
            d = <unsigned char> p[0] - 48
            if d > 9:
                break
            mant = mant * 10 + d
            p += 1
        if p == start:
            return False
        ndigits += p - start
        scale = -<int> (p - start) if p - start < 100000 else -100000
    # exponent
    if p < end and (p[0] == c'e' or p[0] == c'E'):
        p += 1
        if p < end and (p[0] == c'-' or p[0] == c'+'):
            exp_neg = p[0] == c'-'
            p += 1
        if not _digit(p, end):
            return False
        while _digit(p, end):
            if exp < 10000:
                exp = exp * 10 + (p[0] - c'0')
            p += 1
        scale += -exp if exp_neg else exp
    if quoted:
        if p >= end or p[0] != c'"':
            return False
        c.p = p + 1
    else:
        c.p = p
    if ndigits <= 19 and mant <= 9007199254740992ULL and -22 <= scale <= 22:
        if scale >= 0:
            out[0] = <double> mant * _POW10[scale]
        else:
            out[0] = <double> mant / _POW10[-scale]
        if neg:
            out[0] = -out[0]
    elif not _slow_double(tok, p - tok, out):
        return False
    return isfinite(out[0]) and not (neg and out[0] == 0.0)


cdef bint _skip(Cur* c, int depth) except -1:
    """Skip one JSON value, as strictly as msgspec reads it (an escaped string, a negative
    zero or an out-of-range number: not here)."""
    cdef const char* s
    cdef Py_ssize_t n
    cdef double x
    _ws(c)
    if c.p >= c.end or depth > 32:
        return False
    cdef char ch = c.p[0]
    if ch == c'"':
        return _text(c, &s, &n)
    if ch == c'{' or ch == c'[':
        c.p += 1
        if _take(c, c'}' if ch == c'{' else c']'):
            return True
        while True:
            if ch == c'{':
                if not _text(c, &s, &n) or not _take(c, c':'):
                    return False
            if not _skip(c, depth + 1):
                return False
            if _take(c, c','):
                continue
            return _take(c, c'}' if ch == c'{' else c']')
    if ch == c't' and c.end - c.p >= 4 and memcmp(c.p, b"true", 4) == 0:
        c.p += 4
        return True
    if ch == c'f' and c.end - c.p >= 5 and memcmp(c.p, b"false", 5) == 0:
        c.p += 5
        return True
    if ch == c'n' and c.end - c.p >= 4 and memcmp(c.p, b"null", 4) == 0:
        c.p += 4
        return True
    return _number(c, &x)


cdef double _round15(double x) except? -1.0:
    cdef char buf[40]
    snprintf(buf, sizeof(buf), "%.15g", x)
    return PyOS_string_to_double(buf, NULL, NULL)


# -- book updates -----------------------------------------------------------------------------


cdef struct Book:
    bint arrays     # levels as [price, size] arrays (spot), else {"p", "s"} objects
    const char* sym
    Py_ssize_t sym_n
    long long t, first, last
    bint has_first, has_last
    bint full
    Levels bids, asks


cdef int _push(Levels* lv, double price, double size) except -1:
    cdef double* v
    cdef Py_ssize_t cap
    if lv.n == lv.cap:
        cap = lv.cap * 2 if lv.cap else 32
        v = <double*> realloc(lv.v, cap * 2 * sizeof(double))
        if v == NULL:
            raise MemoryError()
        lv.v = v
        lv.cap = cap
    lv.v[2 * lv.n] = price
    lv.v[2 * lv.n + 1] = size
    lv.n += 1
    return 0


cdef bint _levels(Cur* c, Levels* lv, bint arrays) except -1:
    """``[[price, size], ...]`` when ``arrays`` (spot), else ``[{"p": price, "s": size}, ...]``
    (futures; keys in any order, other keys skipped)."""
    cdef const char* s
    cdef Py_ssize_t n
    cdef double price, size
    cdef bint have_p, have_s
    cdef const char* start
    if not _take(c, c'['):
        return False
    if _take(c, c']'):
        return True
    while True:
        _ws(c)
        start = c.p
        if arrays:  # [price, size]
            if not _take(c, c'['):
                return False
            if not (_number(c, &price) and 0 < price < _FINITE and _take(c, c',') and _number(c, &size) and 0 <= size < _FINITE and _take(c, c']')):
                return False
            _push(lv, price, size)
            if _take(c, c','):
                continue
            return _take(c, c']')
        # the shape every Gate frame has: {"p":<price>,"s":<size>} with no spaces
        if c.end - c.p > 10 and memcmp(c.p, b'{"p":', 5) == 0:
            c.p += 5
            if (_number(c, &price) and 0 < price < _FINITE and c.end - c.p > 5 and memcmp(c.p, b',"s":', 5) == 0):
                c.p += 5
                if _number(c, &size) and 0 <= size < _FINITE and c.p < c.end and c.p[0] == c'}':
                    c.p += 1
                    _push(lv, price, size)
                    if _take(c, c','):
                        continue
                    return _take(c, c']')
            c.p = start
        if not _take(c, c'{'):
            return False
        have_p = have_s = False
        if not _take(c, c'}'):
            while True:
                if not _text(c, &s, &n) or not _take(c, c':'):
                    return False
                if _key(s, n, b"p", 1):
                    if not _number(c, &price) or not 0 < price < _FINITE:
                        return False
                    have_p = True
                elif _key(s, n, b"s", 1):
                    if not _number(c, &size) or not 0 <= size < _FINITE:
                        return False
                    have_s = True
                elif not _skip(c, 0):
                    return False
                if _take(c, c','):
                    continue
                if not _take(c, c'}'):
                    return False
                break
        if not (have_p and have_s):
            return False
        _push(lv, price, size)
        if _take(c, c','):
            continue
        return _take(c, c']')


cdef bint _book_result(Cur* c, Book* b) except -1:
    cdef const char* s
    cdef Py_ssize_t n
    if not _take(c, c'{'):
        return False
    if _take(c, c'}'):
        return True
    while True:
        if not _text(c, &s, &n) or not _take(c, c':'):
            return False
        if _key(s, n, b"s", 1):
            if not _text(c, &b.sym, &b.sym_n):
                return False
        elif _key(s, n, b"t", 1):
            if not _time(c, &b.t):
                return False
        elif _key(s, n, b"U", 1):
            if not _seq(c, &b.first):
                return False
            b.has_first = True
        elif _key(s, n, b"u", 1):
            if not _seq(c, &b.last):
                return False
            b.has_last = True
        elif _key(s, n, b"b", 1):
            b.bids.n = 0
            if not _levels(c, &b.bids, b.arrays):
                return False
        elif _key(s, n, b"a", 1):
            b.asks.n = 0
            if not _levels(c, &b.asks, b.arrays):
                return False
        elif _key(s, n, b"full", 4):
            _ws(c)
            if c.end - c.p >= 4 and memcmp(c.p, b"true", 4) == 0:
                b.full = True
                c.p += 4
            elif c.end - c.p >= 5 and memcmp(c.p, b"false", 5) == 0:
                b.full = False
                c.p += 5
            else:
                return False
        elif not _skip(c, 0):
            return False
        if _take(c, c','):
            continue
        return _take(c, c'}')


cdef list _pairs(Levels* lv, double num, double den, bint one):
    cdef Py_ssize_t i
    cdef list out = [None] * lv.n
    cdef tuple pair
    for i in range(lv.n):
        pair = (lv.v[2 * i], _base(lv.v[2 * i + 1], num, den, one))
        # two floats can never be part of a reference cycle: the collector need not visit the
        # pair (what a queued BookUpdate costs each collection while the consumer catches up)
        PyObject_GC_UnTrack(<void*>pair)
        out[i] = pair
    return out


# -- futures tickers --------------------------------------------------------------------------

# number fields of a ticker item, by index into Tick.v
cdef enum:
    LAST, CHANGE, RATE, RATE_NEXT, MARK, INDEX, TOTAL, VOLUME, VOLUME_BASE, VOLUME_QUOTE, LOW, HIGH, N_NUM

# what a key holds: a number with its bound, or one of the other fields
cdef enum:
    PRICE       # > 0
    SIGNED      # any finite
    SIZE        # >= 0
    CONTRACT
    STAMP       # t
    NEXT_APPLY  # funding_next_apply

cdef struct Field:
    const char* name
    Py_ssize_t n
    int kind
    int slot    # index into Tick.v for numbers

cdef Field _FIELDS[15]


cdef void _field(int i, const char* name, int kind, int slot) noexcept:
    _FIELDS[i].name = name
    _FIELDS[i].n = strlen(name)
    _FIELDS[i].kind = kind
    _FIELDS[i].slot = slot


# in the order Gate sends them, so that the search from the previous key usually hits at once
_field(0, b"contract", CONTRACT, 0)
_field(1, b"last", PRICE, LAST)
_field(2, b"change_percentage", SIGNED, CHANGE)
_field(3, b"funding_rate", SIGNED, RATE)
_field(4, b"funding_rate_indicative", SIGNED, RATE_NEXT)
_field(5, b"mark_price", PRICE, MARK)
_field(6, b"index_price", PRICE, INDEX)
_field(7, b"total_size", SIZE, TOTAL)
_field(8, b"volume_24h", SIZE, VOLUME)
_field(9, b"volume_24h_base", SIZE, VOLUME_BASE)
_field(10, b"volume_24h_quote", SIZE, VOLUME_QUOTE)
_field(11, b"low_24h", PRICE, LOW)
_field(12, b"high_24h", PRICE, HIGH)
_field(13, b"funding_next_apply", NEXT_APPLY, 0)
_field(14, b"t", STAMP, 0)

cdef struct Tick:
    const char* contract
    Py_ssize_t contract_n
    long long t
    long long next_apply
    bint has_next
    unsigned int has      # bit i: v[i] given (not null)
    double v[N_NUM]


cdef struct Ticks:
    Tick* items
    Py_ssize_t n
    Py_ssize_t cap


cdef Tick* _new_tick(Ticks* ts) except NULL:
    cdef Tick* items
    cdef Py_ssize_t cap
    if ts.n == ts.cap:
        cap = ts.cap * 2 if ts.cap else 4
        items = <Tick*> realloc(ts.items, cap * sizeof(Tick))
        if items == NULL:
            raise MemoryError()
        ts.items = items
        ts.cap = cap
    cdef Tick* r = &ts.items[ts.n]
    ts.n += 1
    r.contract = NULL
    r.contract_n = 0
    r.t = 0
    r.has_next = False
    r.has = 0
    return r


cdef bint _ticker_value(Cur* c, const Field* f, Tick* r) except -1:
    """The value of field f of one ticker item."""
    cdef double x
    cdef long long k
    cdef int kind = f.kind
    if kind == CONTRACT:
        return _text(c, &r.contract, &r.contract_n) and r.contract_n > 0
    if kind == STAMP:
        return _time(c, &r.t)
    if _null(c):
        if kind == NEXT_APPLY:
            r.has_next = False
        else:
            r.has &= ~(1u << f.slot)
        return True
    if kind == NEXT_APPLY:
        if not _time(c, &k):
            return False
        r.next_apply = k
        r.has_next = True
        return True
    if not _number(c, &x):
        return False
    if kind == PRICE:
        if not (0.0 < x < _FINITE):
            return False
    elif kind == SIZE:
        if not (0.0 <= x < _FINITE):
            return False
    elif not (-_FINITE < x < _FINITE):
        return False
    r.v[f.slot] = x
    r.has |= 1u << f.slot
    return True


cdef bint _ticker(Cur* c, Ticks* ts) except -1:
    cdef const char* s
    cdef Py_ssize_t n
    cdef int i, j, hint = 0
    cdef const Field* f
    cdef Tick* r = _new_tick(ts)
    if not _take(c, c'{'):
        return False
    if not _take(c, c'}'):
        while True:
            if not _text(c, &s, &n) or not _take(c, c':'):
                return False
            f = NULL
            for j in range(15):
                i = hint + j
                if i >= 15:
                    i -= 15
                if _FIELDS[i].n == n and memcmp(s, _FIELDS[i].name, n) == 0:
                    f = &_FIELDS[i]
                    hint = i + 1 if i < 14 else 0
                    break
            if f == NULL:
                if not _skip(c, 0):
                    return False
            elif not _ticker_value(c, f, r):
                return False
            if _take(c, c','):
                continue
            if not _take(c, c'}'):
                return False
            break
    return r.contract != NULL


cdef bint _tickers_result(Cur* c, Ticks* ts) except -1:
    """An array of ticker objects, or one object."""
    _ws(c)
    if c.p < c.end and c.p[0] == c'{':
        return _ticker(c, ts)
    if not _take(c, c'['):
        return False
    if _take(c, c']'):
        return True
    while True:
        if not _ticker(c, ts):
            return False
        if _take(c, c','):
            continue
        return _take(c, c']')


cdef object _stamp(long long t, long long ms, long long sec):
    """The first time given (each already in ms), ``None`` when none is."""
    if t:
        return t
    if ms:
        return ms
    if sec:
        return sec
    return None


cdef inline object _opt(Tick* r, int i):
    return r.v[i] if r.has & (1u << i) else None


# -- the push ---------------------------------------------------------------------------------

cdef enum:
    OTHER, BOOK, TICKERS


cdef class PushReader:
    """Reads the pushes of one handler: its REST-synced book channel ``book_channel``
    (``b""``: none; levels as ``[price, size]`` arrays when ``array_levels``, else
    ``{"p", "s"}`` objects) and, when ``tickers``, ``futures.tickers``.

    ``contracts`` (the handler's own dict, read on every call) maps contract ->
    ``(num, den, one, unified symbol)``: its size multiplier as ``num / den``, ``one`` when it
    is 1. :meth:`read` returns, for a book update, a
    :class:`~cexfeed.exchanges.gateio.book_push.BookPush` (``U`` ``None`` when absent) with
    ``[(price, base size)]`` lists; for tickers, the list of events; the
    contract name alone when it is not in ``contracts`` yet (add it and call again); ``None``
    when the frame is anything else or not understood (use the msgspec path).
    """

    cdef bytes book_channel
    cdef bint array_levels
    cdef bint tickers
    cdef dict contracts
    # the last contract name seen, so that its str (and hash) is made once
    cdef char last[64]
    cdef Py_ssize_t last_n
    cdef object last_name

    def __init__(self, bytes book_channel, bint array_levels, bint tickers, dict contracts):
        self.book_channel = book_channel
        self.array_levels = array_levels
        self.tickers = tickers
        self.contracts = contracts
        self.last_n = -1
        self.last_name = None

    cdef object _name(self, const char* s, Py_ssize_t n):
        """The contract name s/n as str; raises ``UnicodeDecodeError``."""
        if n == self.last_n and memcmp(s, self.last, n) == 0:
            return self.last_name
        name = s[:n].decode("utf-8")
        if n <= 64:
            memcpy(self.last, s, n)
            self.last_n = n
            self.last_name = name
        return name

    cdef object _ticker_events(self, Ticks* ts, long long env_ts, object recv_ts):
        """The events of every item, or the first contract missing from ``contracts``."""
        cdef Py_ssize_t i
        cdef Tick* r
        cdef unsigned int has
        cdef double num, den
        cdef bint one
        cdef list out = []
        cdef object ctx, symbol, contract, exchange_ts, base_volume
        if ts.n > 1:
            # every name must be UTF-8 before one is handed back to be learnt (the msgspec path
            # refuses the whole frame, and learns nothing, when one is not)
            for i in range(ts.n):
                ts.items[i].contract[:ts.items[i].contract_n].decode("utf-8")
        for i in range(ts.n):
            r = &ts.items[i]
            contract = self._name(r.contract, r.contract_n)
            ctx = self.contracts.get(contract)
            if ctx is None:
                return contract
            num, den, one, symbol = ctx
            exchange_ts = _stamp(r.t, env_ts, 0)
            has = r.has
            if has & ((1u << LAST) | (1u << CHANGE) | (1u << HIGH) | (1u << LOW) | (1u << VOLUME) | (1u << VOLUME_BASE) | (1u << VOLUME_QUOTE)):
                if has & (1u << VOLUME_BASE):
                    base_volume = r.v[VOLUME_BASE]
                elif has & (1u << VOLUME):
                    base_volume = _base(r.v[VOLUME], num, den, one)
                else:
                    base_volume = None
                out.append(
                    Ticker("gateio", "perp", symbol, contract, exchange_ts, recv_ts, _opt(r, LAST), None, None, _opt(r, HIGH), _opt(r, LOW), base_volume, _opt(r, VOLUME_QUOTE), _opt(r, CHANGE))
                )
            if has & ((1u << RATE) | (1u << RATE_NEXT)) or r.has_next:
                out.append(
                    FundingRate("gateio", "perp", symbol, contract, exchange_ts, recv_ts, _opt(r, RATE), _opt(r, RATE_NEXT), r.next_apply if r.has_next and r.next_apply else None)
                )
            if has & ((1u << MARK) | (1u << INDEX)):
                out.append(MarkPrice("gateio", "perp", symbol, contract, exchange_ts, recv_ts, _opt(r, MARK), _opt(r, INDEX)))
            if has & (1u << TOTAL):
                out.append(OpenInterest("gateio", "perp", symbol, contract, exchange_ts, recv_ts, _base(r.v[TOTAL], num, den, one), r.v[TOTAL], None))
        return out

    def read(self, bytes raw, object recv_ts, bint clean=False):
        """One raw frame -> see the class docstring. ``recv_ts`` goes on the events as it is;
        ``clean``: the caller checked the frame has no backslash and no control byte (its strings
        end at their closing quote)."""
        cdef Cur c
        cdef const char* s
        cdef Py_ssize_t n
        cdef long long sec = 0, ms = 0  # the envelope's times, in ms
        cdef int mode = OTHER
        cdef bint event_ok = False, have_result = False
        cdef Book b
        cdef Ticks ts
        if raw is None or len(raw) == 0:
            return None
        c.p = <const char*> raw
        c.end = c.p + len(raw)
        c.clean = clean
        b.arrays = self.array_levels
        b.sym = NULL
        b.sym_n = 0
        b.t = b.first = b.last = 0
        b.has_first = b.has_last = False
        b.full = False
        b.bids.v = b.asks.v = NULL
        b.bids.n = b.bids.cap = b.asks.n = b.asks.cap = 0
        ts.items = NULL
        ts.n = ts.cap = 0
        try:
            if not _take(&c, c'{'):
                return None
            while True:
                if not _text(&c, &s, &n) or not _take(&c, c':'):
                    return None
                if _key(s, n, b"channel", 7):
                    if not _text(&c, &s, &n):
                        return None
                    if n and _key(s, n, self.book_channel, len(self.book_channel)):
                        mode = BOOK
                    elif self.tickers and _key(s, n, b"futures.tickers", 15):
                        mode = TICKERS
                    else:
                        return None
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
                    return None  # never on a push: the msgspec path checks them
                elif _key(s, n, b"result", 6):
                    # the channel comes first on every Gate push
                    if have_result or mode == OTHER:
                        return None
                    have_result = True
                    if mode == BOOK:
                        if not _book_result(&c, &b):
                            return None
                    elif not _tickers_result(&c, &ts):
                        return None
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
            if mode == TICKERS:
                return self._ticker_events(&ts, ms or sec, recv_ts)
            # ids checked before a contract's multiplier is asked for: a delta needs U <= u
            if b.sym == NULL or b.sym_n == 0 or not b.has_last or (not b.full and (not b.has_first or b.first > b.last)):
                return None
            contract = self._name(b.sym, b.sym_n)
            ctx = self.contracts.get(contract)
            if ctx is None:
                return contract
            num, den, one, _ = ctx
            stamp = _stamp(b.t, ms, sec)
            return tuple.__new__(BookPush, (contract, stamp, b.first if b.has_first else None, b.last, b.full, _pairs(&b.bids, num, den, one), _pairs(&b.asks, num, den, one)))
        except (ValueError, UnicodeDecodeError):  # a number PyOS_string_to_double refused, a name not UTF-8
            return None
        finally:
            free(b.bids.v)
            free(b.asks.v)
            free(ts.items)
