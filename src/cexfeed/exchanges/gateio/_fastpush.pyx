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

One module in four files: this one (the reader), and the included ``_fastpush_scan.pxi`` (the
token readers), ``_fastpush_book.pxi`` (book updates) and ``_fastpush_tickers.pxi`` (futures
tickers).
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


# the token readers, the book channel and the futures tickers, each in a file of its own
include "_fastpush_scan.pxi"
include "_fastpush_book.pxi"
include "_fastpush_tickers.pxi"


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
        cdef int mode = OTHER, field
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
