# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled reader of the hot Gate account pushes, straight from the raw bytes to the normalized
events (gateio-protocol.md §8.1-§8.3, §9.1-§9.3): ``spot.orders``/``_v2`` -> ``Order``,
``spot.usertrades``/``_v2`` -> ``Fill``, ``futures.orders`` -> ``Order``, ``futures.usertrades``
-> ``Fill``, ``futures.positions`` -> ``Position``.

Its pure-Python twin is the handler's own path (typed msgspec decode, then the normalizers of
``private_spot.py``/``private_futures.py``); ``tests/test_differential_fuzz.py`` holds the two to
each other (events, counters, account state). Anything this reader does not expect (another
channel or event, a key sent twice, an escaped string, a value the account-value screen of
:func:`cexfeed.wire.amounts_plain` stops, a number or time in a form it does not read, JSON
msgspec would refuse) makes it return ``None`` before it has called anything, and the frame takes
the twin's path. Values keep the one grammar: every number token is checked by the rules of
``_amounts.pxd`` (the screen's), JSON is scanned by ``_fastpush.pxd``; each field is read by the
kind its struct type gives (the structs of ``spot_table``/``futures_table``, checked when the
module loads), an account value also by its kind's rule (:class:`cexfeed.wire.AmountKind`), a
currency by :func:`cexfeed.wire.currency`. An item outside the rules (a value outside its kind,
an item rule of its struct, a side other than ``buy``/``sell``, a currency that is no code)
also takes the twin's path, which counts it: found while reading, or while the events are built
(then before any is handed on).

One module in six files: this one (the reader), and the included ``_fastprivate_scan.pxi`` (the
structs' fields, the JSON of one push into them) with ``_fastprivate_tokens.pxi`` (one value by
its kind), ``_fastprivate_values.pxi`` (texts and Decimals made once for a text seen again),
``_fastprivate_events.pxi`` (the normalizers) and ``_fastprivate_lane.pxi`` (the reader's lane
into the handler: count, apply to the account state, publish).
"""

from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdlib cimport free, realloc
from libc.string cimport memcmp, memcpy, memset

from cexfeed._amounts cimport MAX_DIGITS, _negative_zero, _numberish, _start, _strict
from cexfeed.exchanges.gateio._fastpush cimport NOT_ASCII, NOT_CLEAN, Cur, _bytes, _null, _take, _text, _ws
from cexfeed._account cimport AccountCore, _offset, _set_slot, _slot

from decimal import Decimal
from time import time_ns as _time_ns
from typing import Union

import msgspec

from cexfeed import wire
from cexfeed.exchanges.gateio.futures_table import POSITION_MODES, FuturesOrderPush, FuturesPositionPush, FuturesUserTrade
from cexfeed.exchanges.gateio.spot_table import SpotBalancePush, SpotOrderPush, SpotUserTrade
from cexfeed.handlers import HandlerStats
from cexfeed.models import DUAL_LONG, DUAL_SHORT, LONG, PERP, SHORT, SPOT, Balance, Fill, Order, OrderStatus, Position


cdef extern from "Python.h":
    # overflow_exception NULL: an out-of-range value gives +-HUGE_VAL instead of raising
    double PyOS_string_to_double(const char* s, char** endptr, PyObject* overflow_exception) except? -1.0


# -- the shapes this reader is built for: checked against the structs and events at import ---------

_HEAD = ("venue", "market", "symbol", "venue_symbol", "exchange_ts", "recv_ts")
for _cls, _fields in (
    (Order, ("order_id", "side", "order_type", "status", "raw_status", "price", "amount", "filled", "left", "quote_amount", "quote_left",
             "filled_quote", "contracts", "filled_contracts", "left_contracts", "avg_price", "fee", "fee_currency", "client_order_id",
             "time_in_force", "reduce_only", "created_ts", "updated_ts", "update_id", "raw_side")),
    (Fill, ("trade_id", "order_id", "side", "price", "amount", "contracts", "role", "fee", "fee_currency", "client_order_id", "raw_side")),
    (Position, ("mode", "side", "contracts", "size", "entry_price", "mark_price", "liq_price", "margin", "leverage", "realised_pnl",
                "unrealised_pnl", "update_id", "closed")),
    (Balance, ("currency", "total", "available", "frozen", "change", "change_type", "frozen_change")),
):
    if _cls.__struct_fields__ != _HEAD + _fields:
        raise ImportError(f"cexfeed._fastprivate was built for another {_cls.__name__} field order; rebuild it")

include "_fastprivate_scan.pxi"
include "_fastprivate_values.pxi"


# the statuses and texts the normalizers return
cdef object _OPEN = OrderStatus.OPEN
cdef object _PARTIAL = OrderStatus.PARTIALLY_FILLED
cdef object _FILLED = OrderStatus.FILLED
cdef object _CANCELED = OrderStatus.CANCELED
cdef object _REJECTED = OrderStatus.REJECTED
cdef object _UNKNOWN = OrderStatus.UNKNOWN
cdef object _MISSING = object()
cdef object _DECIMAL_ZERO = Decimal("0")
cdef object _MAX_CONTRACTS = wire.MAX_CONTRACTS
cdef object _MODES = POSITION_MODES


cdef class AccountReader:
    """Reads the account pushes of one Gate private handler.

    ``channels`` maps each venue channel this reader serves to the event it gives (``order``,
    ``fill``, ``position``, spot ``balance``), from the handler's table; ``market`` ``spot`` or ``perp``;
    ``handler`` and ``fallback`` (optional) the private handler whose ``_handle_message``
    :meth:`handle_message` is, and the handler's own one for the frames it does not take; ``unified``
    the handler's name lookup; ``multiplier`` (futures) the handler's exact
    contract multiplier (``None``: none) and ``multipliers`` the cache it keeps; ``whole`` (futures) the
    handler's ``whole_contracts`` (whether a contract trades whole contracts only: a count of it
    with a fraction takes the twin's path, which refuses it); ``settle`` the futures fee currency; ``statuses`` the
    handler's finish rules (``FINISH_AS``, the finish_as values that fill when nothing is left,
    those that reject when nothing filled, REST status -> finish_as); ``subtract``/``multiply``
    the exact arithmetic (:data:`cexfeed.wire.EXACT`). :meth:`read` returns the event of a
    push whose result is one object, the list of events of an array, ``None`` for anything
    else (the handler's own path then reads it).
    """

    cdef int nchannels
    cdef const char* chan_names[MAX_CHANNELS]
    cdef Py_ssize_t chan_lens[MAX_CHANNELS]
    cdef int chan_kinds[MAX_CHANNELS]
    cdef bint perp
    cdef object unified, multiplier, settle, subtract, multiply, whole
    cdef object names  # a dict (subclass): read with PyDict_GetItem, no __missing__
    # the handler whose pushes handle() applies and publishes, and its state when compiled
    cdef object handler, stats, fallback
    cdef dict seen_order, seen_fill, seen_position, seen_balance
    cdef dict hdict
    cdef AccountCore core
    cdef dict finish_as, rest_finished
    cdef object left_filled, none_rejected
    cdef dict mults
    cdef Spec specs[KINDS]
    cdef Shape shapes[KINDS + 1]  # the keys of each kind's objects, and of the envelope (ENVELOPE)
    cdef list keep
    cdef list defaults
    cdef Tok* items
    cdef Py_ssize_t cap
    cdef Entry cache[CACHE]
    # the last Decimal of each field of each event kind (kind * MAX_FIELDS + slot)
    cdef Entry memo[KINDS * MAX_FIELDS]
    cdef int kind

    def __cinit__(self):
        cdef int i
        for i in range(CACHE):
            self.cache[i].n = -1
            self.cache[i].obj = NULL
        for i in range(KINDS * MAX_FIELDS):
            self.memo[i].n = -1
            self.memo[i].obj = NULL
        memset(self.shapes, 0, sizeof(self.shapes))
        self.items = NULL
        self.cap = 0

    def __init__(self, dict channels, str market, object unified, object multiplier, dict multipliers, object settle, tuple statuses,
                 object subtract, object multiply, object handler=None, object fallback=None, object whole=None):
        cdef int k
        kinds = {"order": 0, "fill": 1, "position": 2}
        self.keep = []
        self.nchannels = 0
        for channel, kind in channels.items():
            if self.nchannels == MAX_CHANNELS:
                raise ValueError("too many channels")
            name = channel.encode()
            self.keep.append(name)
            self.chan_names[self.nchannels] = name
            self.chan_lens[self.nchannels] = len(name)
            if kind == "balance":  # (spot balances only: futures ones take the handler's path)
                if market == PERP:
                    raise ValueError("no compiled futures balances")
                self.chan_kinds[self.nchannels] = 5
            else:
                self.chan_kinds[self.nchannels] = kinds[kind] + (2 if market == PERP else 0)
            self.nchannels += 1
        self.perp = market == PERP
        self.unified = unified
        # the lookup of a SymbolMap is its cache dict's own __getitem__: that dict is read directly
        owner = getattr(unified, "__self__", None)
        self.names = owner if isinstance(owner, dict) and getattr(unified, "__name__", "") == "__getitem__" else None
        self.multiplier = multiplier
        self.whole = whole
        self.settle = settle
        self.finish_as, self.left_filled, self.none_rejected, self.rest_finished = statuses
        self.subtract = subtract
        self.multiply = multiply
        self.handler = None
        self.fallback = fallback
        if handler is not None and fallback is not None and type(handler.stats) is HandlerStats:
            # what handle() reads on every push: the handler's attributes (_syncing, _on_event),
            # counters and last-seen times, and its state when compiled
            self.handler = handler
            self.hdict = handler.__dict__
            self.stats = handler.stats
            # (the per-class dicts of handler.seen, made now rather than on the first event)
            self.seen_order, self.seen_fill, self.seen_position = handler.seen[Order], handler.seen[Fill], handler.seen[Position]
            self.seen_balance = handler.seen[Balance]
            self.core = handler.state if isinstance(handler.state, AccountCore) else None
        self.mults = multipliers
        self.defaults = []
        for k, struct in enumerate((SpotOrderPush, SpotUserTrade, FuturesOrderPush, FuturesUserTrade, FuturesPositionPush, SpotBalancePush)):
            _spec(&self.specs[k], struct, self.keep)
            self.defaults.append(tuple(None if f.required else f.default for f in msgspec.structs.fields(struct)))

    def __dealloc__(self):
        cdef int i
        for i in range(CACHE):
            Py_XDECREF(self.cache[i].obj)
        for i in range(KINDS * MAX_FIELDS):
            Py_XDECREF(self.memo[i].obj)
        free(self.items)

    # -- values ---------------------------------------------------------------------------------
    cdef object _cached(self, const char* s, Py_ssize_t n, int mode):
        cdef Entry* e
        if n >= KEY:
            return _make(s, n, mode)
        e = &self.cache[_hash(s, n, mode)]
        if e.n == n + KEY * mode and _same(e.key, s, n):
            return <object> e.obj
        obj = _make(s, n, mode)
        Py_INCREF(obj)
        Py_XDECREF(e.obj)
        e.obj = <PyObject*> obj
        e.n = n + KEY * mode
        memcpy(e.key, s, n)
        return obj

    cdef inline object _str(self, Tok* v, int i, tuple defaults):
        """A text field: its text, else its default (``None`` for a null)."""
        if not v[i].flags:
            return defaults[i]
        if v[i].flags & F_NULL:
            return None
        return self._cached(v[i].s, v[i].n, AS_STR)

    cdef object _memo(self, Tok* v, int i, bint decimal):
        """The text (or Decimal) of field ``i``: the one made for the last event of this kind
        when its text is the same (an order's id, amount and price come again on each of its
        updates), else a new one."""
        cdef Entry* e
        cdef Py_ssize_t n = v[i].n
        if n >= KEY:
            return _decimal(v[i].s, n) if decimal else _ascii(v[i].s, n)
        e = &self.memo[self.kind * MAX_FIELDS + i]
        if e.n == n and _same(e.key, v[i].s, n):
            return <object> e.obj
        obj = _decimal(v[i].s, n) if decimal else _ascii(v[i].s, n)
        Py_INCREF(obj)
        Py_XDECREF(e.obj)
        e.obj = <PyObject*> obj
        e.n = n
        memcpy(e.key, v[i].s, n)
        return obj

    cdef inline object _dec(self, Tok* v, int i):
        """An account value: the Decimal of its text; ``None`` absent or null."""
        if not v[i].flags or v[i].flags & F_NULL:
            return None
        if v[i].n == 1 and v[i].s[0] == c'0':
            return _DECIMAL_ZERO
        return self._memo(v, i, True)

    cdef inline object _new_text(self, Tok* v, int i):
        """An id or user text."""
        return self._memo(v, i, False)

    cdef inline object _name(self, object venue_symbol):
        """The unified name: from the symbol map's own cache (a dict) when there, else by its
        lookup (which fills the cache)."""
        cdef PyObject* found
        if self.names is not None:
            found = PyDict_GetItem(self.names, venue_symbol)
            if found != NULL:
                return <object> found
        return self.unified(venue_symbol)

    cdef object _mult(self, object contract):
        """The handler's multiplier of ``contract``, from its own cache when there."""
        value = self.mults.get(contract, _MISSING)
        if value is _MISSING:
            return self.multiplier(contract)
        return value

    cdef object _status(self, object finish, bint filled_something, bint nothing_left):
        """``finished_status`` of private_common: the finish rules of the handler."""
        status = self.finish_as.get(finish)
        if status is None:
            return _UNKNOWN
        if finish in self.left_filled:
            if nothing_left:
                return _FILLED
            return _CANCELED if status is _FILLED else status
        if finish in self.none_rejected and not filled_something:
            return _REJECTED
        return status

    cdef object _raw_status(self, Tok* v, int ev, int fin, object event, object finish):
        """``event/finish_as`` (``event`` alone without a finish_as)."""
        cdef char buf[KEY]
        if not finish:
            return event
        if v[ev].flags and v[fin].flags and v[ev].n + v[fin].n + 1 < KEY:
            memcpy(buf, v[ev].s, v[ev].n)
            buf[v[ev].n] = c'/'
            memcpy(buf + v[ev].n + 1, v[fin].s, v[fin].n)
            return self._cached(buf, v[ev].n + 1 + v[fin].n, AS_STR)
        return f"{event}/{finish}"

    cdef inline object _ms(self, Tok* v, int a, int b):
        """The first of two times given (``ms2`` of private_common), ms or ``None``."""
        if v[a].v >= 0:
            return v[a].v
        if v[b].v >= 0:
            return v[b].v
        return None

    cdef inline object _client(self, Tok* v, int i):
        """A user text that is a client order id (``t-...``), else ``None``."""
        if v[i].flags and v[i].n >= 2 and v[i].s[0] == c't' and v[i].s[1] == c'-':
            return self._new_text(v, i)
        return None

    cdef inline object _upper(self, Tok* v, int i):
        """A pair or currency in upper case; ``None`` for an absent, null or empty one."""
        if not v[i].flags or v[i].flags & F_NULL or v[i].n == 0:
            return None
        return self._cached(v[i].s, v[i].n, AS_UPPER)

    cdef object _event(self, int kind, Tok* v, object recv_ts):
        self.kind = kind
        if kind == 0:
            return _spot_order(self, v, recv_ts)
        if kind == 1:
            return _spot_fill(self, v, recv_ts)
        if kind == 2:
            return _futures_order(self, v, recv_ts)
        if kind == 3:
            return _futures_fill(self, v, recv_ts)
        if kind == 5:
            return _spot_balance(self, v, recv_ts)
        return _position(self, v, recv_ts)

    cdef int _channel(self, const char* s, Py_ssize_t n) noexcept:
        """The event kind of channel s/n (-1: a channel this reader does not serve)."""
        cdef int i
        for i in range(self.nchannels):
            if self.chan_lens[i] == n and _same(self.chan_names[i], s, n):
                return self.chan_kinds[i]
        return -1

    cdef Tok* _slots(self, Py_ssize_t k) except NULL:
        """Room for the slots of item ``k`` (grown as a push holds more items)."""
        cdef Tok* items
        cdef Py_ssize_t cap
        if k >= self.cap:
            cap = max(4, 2 * self.cap, k + 1)
            items = <Tok*> realloc(self.items, cap * MAX_FIELDS * sizeof(Tok))
            if items == NULL:
                raise MemoryError()
            self.items = items
            self.cap = cap
        return self.items + k * MAX_FIELDS

    # -- the push -------------------------------------------------------------------------------
    def read(self, bytes raw, object recv_ts):
        """One raw frame -> see the class docstring."""
        return self._read(raw, recv_ts, True)

    def handle_message(self, object raw, object recv_ts=None, /):
        """The handler's ``_handle_message`` (the handler binds this method as its own): the
        pushes this reader takes are counted, each event applied to the handler's state and
        what changed published (what :meth:`~cexfeed.handlers.PrivateWebSocketHandler._account_event`
        and ``_emit`` do, in C); every other frame (not bytes, the handler buffering, or
        :meth:`read` gives ``None``) goes to the handler's own path (``fallback``). Never
        raises: a failing frame is counted as the handler counts one."""
        if recv_ts is None:
            recv_ts = _time_ns()
        try:
            if _handle(self, raw, recv_ts):
                return
        except Exception as exc:  # (from reading: the frame is not counted yet)
            stats = self.stats
            _set_slot(stats, _FRAMES, _slot(stats, _FRAMES) + 1)
            self.handler._failed(raw, recv_ts, exc)
            return
        self.fallback(raw, recv_ts)

    cdef object _read(self, bytes raw, object recv_ts, bint listed):
        """See :meth:`read`; ``listed`` False: the one item of an array as its event, not a list."""
        cdef Cur c
        cdef const char* s
        cdef Py_ssize_t n, i, count = 0
        cdef int kind = -1, seen = 0, k = 0, field
        cdef Key* key
        cdef bint single = False
        cdef Tok t
        cdef Tok* v
        cdef const Spec* sp
        cdef int found
        c.p = <const char*> raw
        c.end = c.p + len(raw)
        found = _bytes(c.p, len(raw))
        if found & NOT_ASCII:
            return None  # UTF-8 text: the handler's path checks it
        c.clean = not found & NOT_CLEAN
        if not _take(&c, c'{') or _take(&c, c'}'):
            return None
        while True:
            # the envelope's keys, as _item reads an object's: where the last push had them
            key = &self.shapes[ENVELOPE].keys[k] if k < MAX_KEYS else NULL
            if key != NULL and c.clean and key.n and c.end - c.p > key.n and c.p[0] == c'"' and _same(c.p, key.text, key.n):
                c.p += key.n
                field = key.slot
            else:
                if not _read_key(&c, &s, &n):
                    return None
                field = _envelope_field(s, n)
                if key != NULL:
                    key.n = 0
                    if n + 3 <= KEY_TEXT and c.clean and s[n] == c'"' and s[n + 1] == c':':
                        memcpy(key.text, s - 1, n + 3)
                        key.n = n + 3
                        key.slot = field
            k += 1
            if field == E_CHANNEL:
                if seen & 1 or not _text(&c, &s, &n):
                    return None
                kind = self._channel(s, n)
                if kind < 0:
                    return None
                seen |= 1
            elif field == E_EVENT:
                if seen & 2 or not _text(&c, &s, &n) or n != 6 or memcmp(s, b"update", 6) != 0:
                    return None
                seen |= 2
            elif field == E_TIME or field == E_TIME_MS:
                if seen & (4 if field == E_TIME else 8) or not _value(&c, K_TIME, False, 0, &t):
                    return None
                seen |= 4 if field == E_TIME else 8
            elif field == E_RESULT:
                # the channel comes first on every Gate push
                if seen & 16 or kind < 0:
                    return None
                seen |= 16
                sp = &self.specs[kind]
                _ws(&c)
                if c.p < c.end and c.p[0] == c'{':
                    single = True
                    if not _item(&c, sp, self._slots(0), &self.shapes[kind]):
                        return None
                    count = 1
                else:
                    if not _take(&c, c'['):
                        return None
                    if not _take(&c, c']'):
                        while True:
                            _ws(&c)
                            if c.p >= c.end or c.p[0] != c'{' or not _item(&c, sp, self._slots(count), &self.shapes[kind]):
                                return None  # an array of arrays, or an item that does not read
                            count += 1
                            if _take(&c, c','):
                                continue
                            if not _take(&c, c']'):
                                return None
                            break
            elif field == E_NEVER:
                return None  # never on a push: the twin's path checks them
            elif not _skip_plain(&c, 0):
                return None
            if _take(&c, c','):
                continue
            if not _take(&c, c'}'):
                return None
            break
        _ws(&c)
        if c.p != c.end or not (seen & 2 and seen & 16):
            return None
        for i in range(count):
            if not _usual(kind, self.items + i * MAX_FIELDS):
                return None  # an unknown side, an order of size 0: the twin's path reads it
        # the whole frame reads: now the events (all built before any is handed on)
        try:
            if single or (count == 1 and not listed):
                return self._event(kind, self.items, recv_ts)
            return [self._event(kind, self.items + i * MAX_FIELDS, recv_ts) for i in range(count)]
        except _TwinReads:
            return None


include "_fastprivate_events.pxi"
include "_fastprivate_lane.pxi"
