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
module loads), an account value also by its kind's rule (:class:`cexfeed.wire.AmountKind`). An
item outside the rules (a value outside its kind, an item rule of its struct, a side other than
``buy``/``sell``) also takes the twin's path, which counts it: found while reading, or while the
events are built (then before any is handed on).
"""

from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdlib cimport free, realloc
from libc.string cimport memcmp, memcpy, memset

from cexfeed._amounts cimport _negative_zero, _numberish, _start, _strict
from cexfeed.exchanges.gateio._fastpush cimport NOT_ASCII, NOT_CLEAN, Cur, _bytes, _null, _take, _text, _ws
from cexfeed._account cimport AccountCore, _offset, _set_slot, _slot

from decimal import Decimal
from time import time_ns as _time_ns
from typing import Union

import msgspec

from cexfeed import wire
from cexfeed.exchanges.gateio.futures_table import FuturesOrderPush, FuturesPositionPush, FuturesUserTrade
from cexfeed.exchanges.gateio.spot_table import SpotOrderPush, SpotUserTrade
from cexfeed.handlers import HandlerStats
from cexfeed.models import DUAL_LONG, DUAL_SHORT, LONG, PERP, SHORT, SPOT, Fill, Order, OrderStatus, Position


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
):
    if _cls.__struct_fields__ != _HEAD + _fields:
        raise ImportError(f"cexfeed._fastprivate was built for another {_cls.__name__} field order; rebuild it")

# field slots of each wire struct, in its field order
cdef enum:
    SO_ID, SO_PAIR, SO_SIDE, SO_AMOUNT, SO_EVENT, SO_STATUS, SO_FINISH_AS, SO_TYPE, SO_ACCOUNT, SO_TEXT, SO_PRICE, SO_LEFT,
    SO_FILLED, SO_FILLED_TOTAL, SO_AVG, SO_FEE, SO_FEE_CURRENCY, SO_TIF, SO_CREATE_MS, SO_UPDATE_MS, SO_CREATE, SO_UPDATE
cdef enum:
    ST_ID, ST_ORDER_ID, ST_PAIR, ST_SIDE, ST_AMOUNT, ST_PRICE, ST_ROLE, ST_FEE, ST_FEE_CURRENCY, ST_TEXT, ST_CREATE_MS, ST_CREATE
cdef enum:
    FO_ID, FO_CONTRACT, FO_SIZE, FO_ID_STRING, FO_LEFT, FO_PRICE, FO_FILL_PRICE, FO_STATUS, FO_FINISH_AS, FO_TIF, FO_TEXT,
    FO_REDUCE_ONLY, FO_IS_CLOSE, FO_FEE, FO_UPDATE_ID, FO_UPDATE_TIME, FO_FINISH_MS, FO_FINISH, FO_CREATE_MS, FO_CREATE
cdef enum:
    FT_ID, FT_ORDER_ID, FT_CONTRACT, FT_SIZE, FT_PRICE, FT_ROLE, FT_TEXT, FT_FEE, FT_CREATE_MS, FT_CREATE
cdef enum:
    FP_CONTRACT, FP_SIZE, FP_MODE, FP_ENTRY, FP_MARK, FP_LIQ, FP_MARGIN, FP_LEVERAGE, FP_REALISED, FP_UNREALISED, FP_UPDATE_ID,
    FP_TIME_MS, FP_TIME, FP_UPDATE_TIME

_SLOTS = {
    SpotOrderPush: ("id currency_pair side amount event status finish_as type account text price left filled_amount filled_total "
                    "avg_deal_price fee fee_currency time_in_force create_time_ms update_time_ms create_time update_time"),
    SpotUserTrade: "id order_id currency_pair side amount price role fee fee_currency text create_time_ms create_time",
    FuturesOrderPush: ("id contract size id_string left price fill_price status finish_as tif text is_reduce_only is_close fee "
                       "update_id update_time finish_time_ms finish_time create_time_ms create_time"),
    FuturesUserTrade: "id order_id contract size price role text fee create_time_ms create_time",
    FuturesPositionPush: ("contract size mode entry_price mark_price liq_price margin leverage realised_pnl unrealised_pnl update_id "
                          "time_ms time update_time"),
}

# what a field holds, from its struct type
cdef enum:
    K_STR       # str (its default when absent)
    K_OPTSTR    # str | None
    K_NAME      # Name: a non-empty str
    K_ID        # str | int: text, or a bare integer (its text)
    K_AMOUNT    # an account value (Decimal) of any kind (wire.amount_kind), | None when nullable
    K_TIME      # Time | None
    K_SEQ       # SeqId | None
    K_BOOL      # bool | None

_KINDS = [
    (str, K_STR), (Union[str, None], K_OPTSTR), (wire.Name, K_NAME), (Union[str, int], K_ID), (Union[wire.Time, None], K_TIME),
    (Union[wire.SeqId, None], K_SEQ), (Union[bool, None], K_BOOL),
]
# the rule bits of an account value's kind (wire.AmountKind.code)
cdef int NO_NEGATIVE = wire.NO_NEGATIVE
cdef int NO_ZERO = wire.NO_ZERO


def _kind(field) -> int:
    if wire.amount_kind(field.type) is not None:
        return K_AMOUNT
    for typ, kind in _KINDS:
        if field.type == typ:
            return kind
    raise ImportError(f"cexfeed._fastprivate does not read {field.name}: {field.type!r}")


# the item rules beyond each value's kind: the structs' own __post_init__, mirrored here
# (SpotOrderPush: left at most the amount, in _spot_order; FuturesOrderPush: a size of 0 only on a
# close-position order, in _usual, else |left| at most |size|, in _futures_order)
for _struct in _SLOTS:
    if _struct.__post_init__ is not wire.AccountItem.__post_init__ and _struct not in (SpotOrderPush, FuturesOrderPush):
        raise ImportError(f"cexfeed._fastprivate does not know the item rule of {_struct.__name__}; rebuild it")


class _TwinReads(Exception):
    """An item rule failed while the events were built: the frame takes the twin's path."""


cdef enum:
    MAX_FIELDS = 24
    MAX_CHANNELS = 8
    HASH = 64
    # the keys of an object this reader remembers (see _item)
    MAX_KEYS = 48
    KEY_TEXT = 32
    ENVELOPE = 5
    # flags of a read value
    F_GIVEN = 1
    F_NULL = 2
    F_NEG = 4
    F_ZERO = 8

cdef struct Spec:
    int n
    const char* names[MAX_FIELDS]
    Py_ssize_t lens[MAX_FIELDS]
    int kinds[MAX_FIELDS]
    bint nullable[MAX_FIELDS]
    bint required[MAX_FIELDS]
    # K_AMOUNT: the rule bits of its kind (NO_NEGATIVE, NO_ZERO)
    int rules[MAX_FIELDS]
    # key hash -> slot + 1 (0: no field there, -1: more than one: search them all)
    int table[HASH]

cdef struct Key:
    Py_ssize_t n      # length of text ('"name":'); 0: none learnt
    int slot          # the field's slot, -1: a field the struct does not have
    char text[KEY_TEXT]

cdef struct Shape:
    Key keys[MAX_KEYS]

cdef struct Tok:
    const char* s
    Py_ssize_t n
    long long v     # K_TIME: ms (-1: none); K_SEQ: the id; K_BOOL: 0/1
    int flags


cdef long long _MAX_SECONDS = wire.MAX_SECONDS
cdef long long _MAX_MILLIS = wire.MAX_MILLIS
cdef double _SECONDS_F = wire.MAX_SECONDS
cdef double _MILLIS_F = wire.MAX_MILLIS
# what this module was built with, for the test that holds it to cexfeed.wire
BOUNDS = {"MAX_SECONDS": _MAX_SECONDS, "MAX_MILLIS": _MAX_MILLIS}


# -- tokens ---------------------------------------------------------------------------------------

cdef inline bint _plain_text(const char* s, Py_ssize_t n) noexcept nogil:
    """A string value the account-value screen lets through: not one ``Decimal()`` might read
    as a number outside the grammar (nor a zero with a minus sign)."""
    cdef const unsigned char* p = <const unsigned char*> s
    if n == 0:
        return True
    if p[0] >= 128:
        return False
    return not (_start(p[0]) and _numberish(p, n) and (not _strict(p, n) or _negative_zero(p, n)))


cdef inline Py_ssize_t _bare(const char* p, const char* end) noexcept nogil:
    """The length of a bare number token as the screen cuts it (``[-0-9][-+0-9.eE]*``)."""
    cdef const char* q = p + 1
    while q < end and ((c'0' <= q[0] <= c'9') or q[0] == c'.' or q[0] == c'e' or q[0] == c'E' or q[0] == c'+' or q[0] == c'-'):
        q += 1
    return q - p


cdef bint _number_text(Cur* c, Tok* t, bint* quoted) noexcept nogil:
    """A number, bare or in a string, by the one grammar (JSON number text below 1e300, not a
    zero with a minus sign): its text in t.s/t.n, F_NEG and F_ZERO in t.flags."""
    cdef const char* s
    cdef Py_ssize_t n, i
    cdef const unsigned char* p
    _ws(c)
    if c.p >= c.end:
        return False
    if c.p[0] == c'"':
        if not _text(c, &s, &n):
            return False
        quoted[0] = True
    elif c.p[0] == c'-' or (c'0' <= c.p[0] <= c'9'):
        s = c.p
        n = _bare(c.p, c.end)
        c.p += n
        quoted[0] = False
    else:
        return False
    p = <const unsigned char*> s
    if n == 0 or not _strict(p, n) or _negative_zero(p, n):
        return False
    t.s = s
    t.n = n
    t.flags = F_GIVEN | (F_NEG if s[0] == c'-' else 0)
    for i in range(1 if s[0] == c'-' else 0, n):
        if s[i] == c'e' or s[i] == c'E':
            break
        if c'1' <= s[i] <= c'9':
            return True
    t.flags |= F_ZERO
    return True


cdef inline bint _digits_only(const char* s, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        if not (c'0' <= s[i] <= c'9'):
            return False
    return True


cdef long long _int_text(const char* s, Py_ssize_t n) noexcept nogil:
    cdef long long v = 0
    cdef Py_ssize_t i
    for i in range(n):
        v = v * 10 + (s[i] - c'0')
    return v


cdef bint _time(Cur* c, Tok* t) except -1:
    """A venue time -> ms in t.v (-1: none), as :func:`cexfeed.wire.to_ms` reads the typed
    value: an integer (bare, or digits in a string) in any unit; a number with a fraction only in
    ms (other forms: the twin's path)."""
    cdef bint quoted
    cdef long long v
    cdef double x
    cdef char buf[40]
    cdef char* endp
    cdef Py_ssize_t i
    if not _number_text(c, t, &quoted) or t.flags & F_NEG:
        return False
    # the integer part, in one pass (the text is JSON number text: digits, then . or e)
    v = 0
    i = 0
    while i < t.n and c'0' <= t.s[i] <= c'9':
        v = v * 10 + (t.s[i] - c'0')
        i += 1
    if i > 18:
        return False
    if i == t.n:
        if v < _MAX_SECONDS:
            t.v = v * 1000 if v else -1
        elif v < _MAX_MILLIS:
            t.v = v
        elif v < _MAX_MILLIS * 1000:
            t.v = v // 1000
        else:
            t.v = v // 1000000
        return True
    if t.s[i] == c'.' and _digits_only(t.s + i + 1, t.n - i - 1):
        # integer.fraction: the float's integer part is the text's unless the fraction is so
        # close to 1 that the float rounds up (at most 0.008 below 1 in the ms range)
        if _MAX_SECONDS <= v < _MAX_MILLIS and not (t.n - i > 2 and t.s[i + 1] == c'9' and t.s[i + 2] == c'9'):
            t.v = v
            return True
    if t.n >= 40:
        return False
    memcpy(buf, t.s, t.n)
    buf[t.n] = 0
    x = PyOS_string_to_double(buf, &endp, NULL)
    if endp != buf + t.n or not (_SECONDS_F <= x < _MILLIS_F):
        return False
    t.v = <long long> x  # ms with a fraction: what int() of the float gives
    return True


cdef bint _value(Cur* c, int kind, bint nullable, int rule, Tok* t) except -1:
    """One field's value by its kind (see K_*; an account value also by its rule bits);
    False for anything else."""
    cdef const char* s
    cdef Py_ssize_t n
    cdef bint quoted
    _ws(c)
    if c.p < c.end and c.p[0] == c'n':
        if nullable and _null(c):
            t.flags = F_GIVEN | F_NULL
            t.v = -1
            return True
        return False
    if kind == K_STR or kind == K_OPTSTR or kind == K_NAME:
        if not _text(c, &s, &n) or not _plain_text(s, n) or (kind == K_NAME and n == 0):
            return False
        t.s = s
        t.n = n
        t.flags = F_GIVEN
        return True
    if kind == K_AMOUNT:
        # a value outside its kind's rule: the twin's path counts the item malformed
        return _number_text(c, t, &quoted) and not (rule & NO_NEGATIVE and t.flags & F_NEG) and not (rule & NO_ZERO and t.flags & F_ZERO)
    if kind == K_TIME:
        return _time(c, t)
    if kind == K_ID:
        if c.p < c.end and c.p[0] == c'"':
            if not _text(c, &s, &n) or not _plain_text(s, n):
                return False
            t.s = s
            t.n = n
            t.flags = F_GIVEN
            return True
        # a bare integer: its text is what str() of it gives
        return (_number_text(c, t, &quoted) and _digits_only(t.s + (1 if t.flags & F_NEG else 0), t.n - (1 if t.flags & F_NEG else 0))
                and t.n <= 18)
    if kind == K_SEQ:
        if not _number_text(c, t, &quoted) or quoted or t.flags & F_NEG or not _digits_only(t.s, t.n) or t.n > 18:
            return False
        t.v = _int_text(t.s, t.n)
        return True
    # K_BOOL
    if c.end - c.p >= 4 and memcmp(c.p, b"true", 4) == 0:
        c.p += 4
        t.v = 1
    elif c.end - c.p >= 5 and memcmp(c.p, b"false", 5) == 0:
        c.p += 5
        t.v = 0
    else:
        return False
    t.flags = F_GIVEN
    return True


cdef bint _skip_plain(Cur* c, int depth) except -1:
    """Skip one value of a field this reader does not use, by msgspec's JSON rules and the
    account-value screen (every string and number in it)."""
    cdef const char* s
    cdef Py_ssize_t n
    cdef char ch, close
    cdef Tok t
    cdef bint quoted
    _ws(c)
    if c.p >= c.end or depth > 32:
        return False
    ch = c.p[0]
    if ch == c'"':
        return _text(c, &s, &n) and _plain_text(s, n)
    if ch == c'{' or ch == c'[':
        close = c'}' if ch == c'{' else c']'
        c.p += 1
        if _take(c, close):
            return True
        while True:
            if ch == c'{' and not _read_key(c, &s, &n):
                return False
            if not _skip_plain(c, depth + 1):
                return False
            if _take(c, c','):
                continue
            return _take(c, close)
    if ch == c't' and c.end - c.p >= 4 and memcmp(c.p, b"true", 4) == 0:
        c.p += 4
        return True
    if ch == c'f' and c.end - c.p >= 5 and memcmp(c.p, b"false", 5) == 0:
        c.p += 5
        return True
    if ch == c'n':
        return _null(c)
    return _number_text(c, &t, &quoted) and not quoted


cdef inline bint _read_key(Cur* c, const char** s, Py_ssize_t* n) except -1:
    """An object key and its colon. A key with space before its colon is a value to the screen."""
    cdef const char* p = c.p
    cdef const char* q
    if c.clean and p < c.end and p[0] == c'"':  # the usual case: a short key, its colon next
        q = p + 1
        while q < c.end and q[0] != c'"':
            q += 1
        if q + 1 < c.end and q[1] == c':':
            s[0] = p + 1
            n[0] = q - p - 1
            c.p = q + 2
            return True
    if not _text(c, s, n):
        return False
    if c.p < c.end and c.p[0] == c':':
        c.p += 1
        return True
    return _plain_text(s[0], n[0]) and _take(c, c':')


# the envelope's fields
cdef enum:
    E_OTHER, E_CHANNEL, E_EVENT, E_TIME, E_TIME_MS, E_RESULT, E_NEVER


cdef int _envelope_field(const char* s, Py_ssize_t n) noexcept nogil:
    if n == 7 and memcmp(s, b"channel", 7) == 0:
        return E_CHANNEL
    if n == 5 and memcmp(s, b"event", 5) == 0:
        return E_EVENT
    if n == 4 and memcmp(s, b"time", 4) == 0:
        return E_TIME
    if n == 7 and memcmp(s, b"time_ms", 7) == 0:
        return E_TIME_MS
    if n == 6 and memcmp(s, b"result", 6) == 0:
        return E_RESULT
    if (n == 2 and memcmp(s, b"id", 2) == 0) or (n == 5 and memcmp(s, b"error", 5) == 0) or (n == 7 and memcmp(s, b"payload", 7) == 0):
        return E_NEVER  # never on a push
    return E_OTHER


cdef inline int _key_hash(const char* s, Py_ssize_t n) noexcept nogil:
    return <int> ((<unsigned int> n * 7u + <unsigned char> s[0] * 31u + <unsigned char> s[n - 1] * 3u) & (HASH - 1))


cdef int _find(const Spec* sp, const char* s, Py_ssize_t n) noexcept nogil:
    """The slot of key s/n (-1: a field the struct does not have)."""
    cdef int i, e
    if n == 0:
        return -1
    e = sp.table[_key_hash(s, n)]
    if e > 0:
        i = e - 1
        return i if sp.lens[i] == n and memcmp(sp.names[i], s, n) == 0 else -1
    if e == 0:
        return -1
    for i in range(sp.n):
        if sp.lens[i] == n and memcmp(sp.names[i], s, n) == 0:
            return i
    return -1


cdef bint _item(Cur* c, const Spec* sp, Tok* v, Shape* shape) except -1:
    """One result object into its slots; False when it does not read (required field missing,
    a field sent twice, a value of another kind). ``shape``: the keys of the last object of
    this kind, in their order: a key where the last object had it is taken at once (the venue
    sends its fields in one order), any other is looked up (and learnt)."""
    cdef const char* s
    cdef Py_ssize_t n
    cdef int i, f, k = 0
    cdef Key* key
    for i in range(sp.n):
        v[i].flags = 0
        v[i].v = -1
    if not _take(c, c'{'):
        return False
    if not _take(c, c'}'):
        while True:
            key = &shape.keys[k] if k < MAX_KEYS else NULL
            if (key != NULL and c.clean and key.n and c.end - c.p > key.n and c.p[0] == c'"'
                    and memcmp(c.p, key.text, key.n) == 0):
                c.p += key.n
                f = key.slot
            else:
                if not _read_key(c, &s, &n):
                    return False
                f = _find(sp, s, n)
                if key != NULL:
                    # learn it: the pattern '"name":' when the frame wrote it so
                    key.n = 0
                    if n + 3 <= KEY_TEXT and c.clean and s[n] == c'"' and s[n + 1] == c':':
                        memcpy(key.text, s - 1, n + 3)
                        key.n = n + 3
                        key.slot = f
            if f < 0:
                if not _skip_plain(c, 0):
                    return False
            else:
                if v[f].flags or not _value(c, sp.kinds[f], sp.nullable[f], sp.rules[f], &v[f]):
                    return False
            k += 1
            if _take(c, c','):
                continue
            if not _take(c, c'}'):
                return False
            break
    for i in range(sp.n):
        if sp.required[i] and not v[i].flags:
            return False
    return True


cdef inline bint _side(const Tok* t) noexcept nogil:
    return (t.n == 3 and memcmp(t.s, b"buy", 3) == 0) or (t.n == 4 and memcmp(t.s, b"sell", 4) == 0)


cdef bint _usual(int kind, const Tok* v) noexcept nogil:
    """An item whose event this reader builds: a spot side ``buy``/``sell`` (another one is
    kept as ``unknown`` and counted by the twin), a futures order of size 0 only when it is a
    close-position order (FuturesOrderPush's rule; else malformed, counted by the twin)."""
    if kind == 0:
        return _side(&v[SO_SIDE])
    if kind == 1:
        return _side(&v[ST_SIDE])
    if kind == 2 and v[FO_SIZE].flags & F_ZERO:
        return v[FO_IS_CLOSE].flags & F_GIVEN and not v[FO_IS_CLOSE].flags & F_NULL and v[FO_IS_CLOSE].v == 1
    return True


cdef int _spec(Spec* sp, object struct, list keep) except -1:
    """The slots of ``struct``: names, kinds from its field types, nullable, required."""
    fields = msgspec.structs.fields(struct)
    if tuple(f.name for f in fields) != tuple(_SLOTS[struct].split()) or len(fields) > MAX_FIELDS:
        raise ImportError(f"cexfeed._fastprivate was built for another {struct.__name__} field order; rebuild it")
    sp.n = len(fields)
    for i in range(HASH):
        sp.table[i] = 0
    for i, f in enumerate(fields):
        name = f.encode_name.encode()
        keep.append(name)
        sp.names[i] = name
        sp.lens[i] = len(name)
        sp.kinds[i] = _kind(f)
        sp.rules[i] = wire.amount_kind(f.type).code if sp.kinds[i] == K_AMOUNT else 0
        sp.nullable[i] = sp.kinds[i] == K_OPTSTR or (type(None) in getattr(f.type, "__args__", ()) and sp.kinds[i] in (K_AMOUNT, K_TIME, K_SEQ, K_BOOL))
        sp.required[i] = f.required
        h = _key_hash(sp.names[i], sp.lens[i])
        sp.table[h] = i + 1 if sp.table[h] == 0 else -1
    return 0


# -- interned values: a short text seen again gives the same object ------------------------------

cdef enum:
    CACHE = 128
    KEY = 40
    AS_STR = 0
    AS_UPPER = 1

cdef struct Entry:
    Py_ssize_t n
    PyObject* obj
    char key[KEY]


cdef inline unsigned int _hash(const char* s, Py_ssize_t n, int mode) noexcept nogil:
    """A slot for text s/n (n < KEY) from its length and its first and last 8 bytes (the
    distinct texts of a stream differ there: ids and amounts in their last digits)."""
    cdef unsigned long long a = 0, b = 0
    if n >= 8:
        memcpy(&a, s, 8)
        memcpy(&b, s + n - 8, 8)
    else:
        memcpy(&a, s, n)
    a = (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full) ^ (<unsigned long long> (n + KEY * mode) * 0x165667B19E3779F9ull)
    return <unsigned int> (a >> 40) & (CACHE - 1)


cdef extern from *:
    """
    /* a str of ASCII bytes (the reader reads only frames it found ASCII) */
    static PyObject* cexfeed_ascii(const char* s, Py_ssize_t n) {
        PyObject* text = PyUnicode_New(n, 127);
        if (text != NULL) memcpy(PyUnicode_DATA(text), s, n);
        return text;
    }
    """
    object _ascii "cexfeed_ascii"(const char* s, Py_ssize_t n)


cdef object _make(const char* s, Py_ssize_t n, int mode):
    cdef char buf[256]
    cdef Py_ssize_t i
    if mode == AS_UPPER and n <= 256:
        for i in range(n):
            buf[i] = s[i] - 32 if c'a' <= s[i] <= c'z' else s[i]
        return _ascii(buf, n)
    text = _ascii(s, n)
    if mode == AS_UPPER:
        return text.upper()
    return text


cdef extern from *:
    """
    /* Decimal(text) by the type's own constructor: what calling the type does (its tp_init is
       object's, a no-op), without the generic call protocol around it, and with one argument
       tuple kept for it (the constructor keeps no reference to it; a new one when it is held) */
    static PyObject* cexfeed_decimal_args = NULL;

    static PyObject* cexfeed_new_decimal(PyObject* type, PyObject* text) {
        PyObject* args = cexfeed_decimal_args;
        PyObject* made;
        if (args == NULL || Py_REFCNT(args) != 1) {
            args = PyTuple_Pack(1, text);
            if (args == NULL) return NULL;
            made = ((PyTypeObject*) type)->tp_new((PyTypeObject*) type, args, NULL);
            Py_DECREF(args);
            return made;
        }
        Py_INCREF(text);
        PyTuple_SET_ITEM(args, 0, text);
        made = ((PyTypeObject*) type)->tp_new((PyTypeObject*) type, args, NULL);
        PyTuple_SET_ITEM(args, 0, Py_None);
        Py_DECREF(text);
        return made;
    }

    static int cexfeed_decimal_setup(void) {
        cexfeed_decimal_args = PyTuple_New(1);
        if (cexfeed_decimal_args == NULL) return -1;
        Py_INCREF(Py_None);
        PyTuple_SET_ITEM(cexfeed_decimal_args, 0, Py_None);
        return 0;
    }
    """
    object cexfeed_new_decimal(object type, object text)
    int cexfeed_decimal_setup() except -1


cexfeed_decimal_setup()


cdef inline object _decimal(str text):
    return cexfeed_new_decimal(Decimal, text)


# the statuses and texts the normalizers return
cdef object _OPEN = OrderStatus.OPEN
cdef object _PARTIAL = OrderStatus.PARTIALLY_FILLED
cdef object _FILLED = OrderStatus.FILLED
cdef object _CANCELED = OrderStatus.CANCELED
cdef object _REJECTED = OrderStatus.REJECTED
cdef object _UNKNOWN = OrderStatus.UNKNOWN
# what handle() reads and counts at their slots: the handler's counters, each event's name and time
cdef Py_ssize_t _FRAMES = _offset(HandlerStats, "frames")
cdef Py_ssize_t _EVENTS = _offset(HandlerStats, "events")
cdef Py_ssize_t _ORDER_SYMBOL = _offset(Order, "venue_symbol")
cdef Py_ssize_t _ORDER_TS = _offset(Order, "recv_ts")
cdef Py_ssize_t _FILL_SYMBOL = _offset(Fill, "venue_symbol")
cdef Py_ssize_t _FILL_TS = _offset(Fill, "recv_ts")
cdef Py_ssize_t _POSITION_SYMBOL = _offset(Position, "venue_symbol")
cdef Py_ssize_t _POSITION_TS = _offset(Position, "recv_ts")
cdef object _MISSING = object()
cdef object _DECIMAL_ZERO = Decimal("0")


cdef class AccountReader:
    """Reads the account pushes of one Gate private handler.

    ``channels`` maps each venue channel this reader serves to the event it gives (``order``,
    ``fill``, ``position``), from the handler's table; ``market`` ``spot`` or ``perp``;
    ``handler`` and ``fallback`` (optional) the private handler whose ``_handle_message``
    :meth:`handle_message` is, and the handler's own one for the frames it does not take; ``unified``
    the handler's name lookup; ``multiplier`` (futures) the handler's exact
    contract multiplier (``None``: none) and ``multipliers`` the cache it keeps; ``settle`` the futures fee currency; ``statuses`` the
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
    cdef object unified, multiplier, settle, subtract, multiply
    cdef object names  # a dict (subclass): read with PyDict_GetItem, no __missing__
    # the handler whose pushes handle() applies and publishes, and its state when compiled
    cdef object handler, stats, fallback
    cdef dict seen_order, seen_fill, seen_position
    cdef dict hdict
    cdef AccountCore core
    cdef dict finish_as, rest_finished
    cdef object left_filled, none_rejected
    cdef dict mults
    cdef Spec specs[5]
    cdef Shape shapes[6]  # the keys of each kind's objects, and of the envelope (ENVELOPE)
    cdef list keep
    cdef list defaults
    cdef Tok* items
    cdef Py_ssize_t cap
    cdef Entry cache[CACHE]
    # the last Decimal of each field of each event kind (kind * MAX_FIELDS + slot)
    cdef Entry memo[5 * MAX_FIELDS]
    cdef int kind

    def __cinit__(self):
        cdef int i
        for i in range(CACHE):
            self.cache[i].n = -1
            self.cache[i].obj = NULL
        for i in range(5 * MAX_FIELDS):
            self.memo[i].n = -1
            self.memo[i].obj = NULL
        memset(self.shapes, 0, sizeof(self.shapes))
        self.items = NULL
        self.cap = 0

    def __init__(self, dict channels, str market, object unified, object multiplier, dict multipliers, object settle, tuple statuses,
                 object subtract, object multiply, object handler=None, object fallback=None):
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
            self.chan_kinds[self.nchannels] = kinds[kind] + (2 if market == PERP else 0)
            self.nchannels += 1
        self.perp = market == PERP
        self.unified = unified
        # the lookup of a SymbolMap is its cache dict's own __getitem__: that dict is read directly
        owner = getattr(unified, "__self__", None)
        self.names = owner if isinstance(owner, dict) and getattr(unified, "__name__", "") == "__getitem__" else None
        self.multiplier = multiplier
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
            self.core = handler.state if isinstance(handler.state, AccountCore) else None
        self.mults = multipliers
        self.defaults = []
        # 0 spot order, 1 spot fill, 2 futures order, 3 futures fill, 4 position
        for k, struct in enumerate((SpotOrderPush, SpotUserTrade, FuturesOrderPush, FuturesUserTrade, FuturesPositionPush)):
            _spec(&self.specs[k], struct, self.keep)
            self.defaults.append(tuple(None if f.required else f.default for f in msgspec.structs.fields(struct)))

    def __dealloc__(self):
        cdef int i
        for i in range(CACHE):
            Py_XDECREF(self.cache[i].obj)
        for i in range(5 * MAX_FIELDS):
            Py_XDECREF(self.memo[i].obj)
        free(self.items)

    # -- values ---------------------------------------------------------------------------------
    cdef object _cached(self, const char* s, Py_ssize_t n, int mode):
        cdef Entry* e
        if n >= KEY:
            return _make(s, n, mode)
        e = &self.cache[_hash(s, n, mode)]
        if e.n == n + KEY * mode and memcmp(e.key, s, n) == 0:
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
            text = _ascii(v[i].s, n)
            return _decimal(text) if decimal else text
        e = &self.memo[self.kind * MAX_FIELDS + i]
        if e.n == n and memcmp(e.key, v[i].s, n) == 0:
            return <object> e.obj
        text = _ascii(v[i].s, n)
        obj = _decimal(text) if decimal else text
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

    # -- normalizers: the twins of the handlers' order()/fill()/position() -------------------------
    cdef object _spot_order(self, Tok* v, object recv_ts):
        cdef tuple d = self.defaults[0]
        cdef int ev_slot
        pair = self._upper(v, SO_PAIR)
        side = self._str(v, SO_SIDE, d)
        otype = self._str(v, SO_TYPE, d)
        amount = self._dec(v, SO_AMOUNT)
        left = self._dec(v, SO_LEFT)
        if left is not None and left > amount:
            raise _TwinReads()
        filled_total = self._dec(v, SO_FILLED_TOTAL)
        if otype == "market" and side == "buy":  # amount and left in quote currency
            o_amount = o_left = None
            q_amount, q_left = amount, left
            filled = self._dec(v, SO_FILLED)
        else:
            o_amount, o_left = amount, left
            q_amount = q_left = None
            filled = self._dec(v, SO_FILLED)
            if filled is None and left is not None:
                filled = self.subtract(amount, left)
        filled_something = bool(filled) or bool(filled_total)
        event = self._str(v, SO_EVENT, d)
        if event:
            ev_slot = SO_EVENT
        else:
            ev_slot = SO_STATUS
            event = self._str(v, SO_STATUS, d)
        finish = self._str(v, SO_FINISH_AS, d)
        if event == "finish" or event in self.rest_finished:
            status = self._status(finish or self.rest_finished.get(event, ""), filled_something, left is not None and v[SO_LEFT].flags & F_ZERO)
        elif event == "put" or event == "update" or event == "open":
            status = _PARTIAL if filled_something else _OPEN
        else:
            status = _UNKNOWN
        updated = self._ms(v, SO_UPDATE_MS, SO_UPDATE)
        price = self._dec(v, SO_PRICE)
        avg = self._dec(v, SO_AVG)
        tif = self._str(v, SO_TIF, d)
        return Order(
            "gateio", SPOT, self._name(pair), pair, updated, recv_ts, self._new_text(v, SO_ID), side, otype, status,
            self._raw_status(v, ev_slot, SO_FINISH_AS, event, finish), price if price and otype != "market" else None,
            o_amount, filled, o_left, q_amount, q_left, filled_total, None, None, None, avg if avg else None, self._dec(v, SO_FEE),
            self._upper(v, SO_FEE_CURRENCY), self._client(v, SO_TEXT), tif or None, None,
            self._ms(v, SO_CREATE_MS, SO_CREATE), updated, None,
        )

    cdef object _spot_fill(self, Tok* v, object recv_ts):
        cdef tuple d = self.defaults[1]
        pair = self._upper(v, ST_PAIR)
        return Fill(
            "gateio", SPOT, self._name(pair), pair, self._ms(v, ST_CREATE_MS, ST_CREATE), recv_ts,
            self._new_text(v, ST_ID), self._new_text(v, ST_ORDER_ID), self._str(v, ST_SIDE, d),
            self._dec(v, ST_PRICE), self._dec(v, ST_AMOUNT), None, self._str(v, ST_ROLE, d) or None, self._dec(v, ST_FEE),
            self._upper(v, ST_FEE_CURRENCY), self._client(v, ST_TEXT),
        )

    cdef object _futures_order(self, Tok* v, object recv_ts):
        cdef tuple d = self.defaults[2]
        contract = self._str(v, FO_CONTRACT, d)
        size = self._dec(v, FO_SIZE)
        contracts = abs(size)
        left = self._dec(v, FO_LEFT)
        left_c = abs(left) if left is not None else None
        filled = self.subtract(contracts, left_c) if left_c is not None else None
        if filled is not None and filled < _DECIMAL_ZERO and not v[FO_SIZE].flags & F_ZERO:
            raise _TwinReads()
        side = "close" if v[FO_SIZE].flags & F_ZERO else "sell" if v[FO_SIZE].flags & F_NEG else "buy"
        state = self._str(v, FO_STATUS, d)
        finish = self._str(v, FO_FINISH_AS, d)
        filled_something = bool(filled)
        if state == "finished":
            status = self._status(finish, filled_something, left_c is not None and v[FO_LEFT].flags & F_ZERO)
        elif state == "open":
            status = _PARTIAL if filled_something else _OPEN
        else:
            status = _UNKNOWN
        updated = self._ms(v, FO_UPDATE_TIME, FO_FINISH_MS)
        if updated is None and v[FO_FINISH].v >= 0:
            updated = v[FO_FINISH].v
        created = self._ms(v, FO_CREATE_MS, FO_CREATE)
        mult = self._mult(contract)
        price = self._dec(v, FO_PRICE)
        avg = self._dec(v, FO_FILL_PRICE)
        fee = self._dec(v, FO_FEE)
        oid = (self._new_text(v, FO_ID_STRING) if v[FO_ID_STRING].flags and not v[FO_ID_STRING].flags & F_NULL else None) or self._new_text(v, FO_ID)
        multiply = self.multiply
        return Order(
            "gateio", PERP, self._name(contract), contract, updated if updated is not None else created, recv_ts, oid, side,
            "limit" if price else "market", status, self._raw_status(v, FO_STATUS, FO_FINISH_AS, state, finish), price if price else None,
            multiply(contracts, mult) if mult is not None else None,
            multiply(filled, mult) if mult is not None and filled is not None else None,
            multiply(left_c, mult) if mult is not None and left_c is not None else None,
            None, None, None, contracts, filled, left_c, avg if avg else None, fee, self.settle if fee is not None else None,
            self._client(v, FO_TEXT), self._str(v, FO_TIF, d) or None,
            None if not v[FO_REDUCE_ONLY].flags or v[FO_REDUCE_ONLY].flags & F_NULL else v[FO_REDUCE_ONLY].v == 1, created, updated,
            v[FO_UPDATE_ID].v if v[FO_UPDATE_ID].flags and not v[FO_UPDATE_ID].flags & F_NULL else None,
        )

    cdef object _futures_fill(self, Tok* v, object recv_ts):
        cdef tuple d = self.defaults[3]
        contract = self._str(v, FT_CONTRACT, d)
        size = self._dec(v, FT_SIZE)
        contracts = abs(size)
        fee = self._dec(v, FT_FEE)
        symbol = self._name(contract)
        mult = self._mult(contract)
        return Fill(
            "gateio", PERP, symbol, contract, self._ms(v, FT_CREATE_MS, FT_CREATE), recv_ts,
            self._new_text(v, FT_ID), self._new_text(v, FT_ORDER_ID),
            "sell" if v[FT_SIZE].flags & (F_NEG | F_ZERO) else "buy", self._dec(v, FT_PRICE),
            self.multiply(contracts, mult) if mult is not None else None, contracts, self._str(v, FT_ROLE, d) or None, fee,
            self.settle if fee is not None else None, self._client(v, FT_TEXT),
        )

    cdef object _position(self, Tok* v, object recv_ts):
        cdef tuple d = self.defaults[4]
        contract = self._str(v, FP_CONTRACT, d)
        mode = self._str(v, FP_MODE, d) or "single"
        size = self._dec(v, FP_SIZE)
        stamp = self._ms(v, FP_TIME_MS, FP_TIME)
        if stamp is None and v[FP_UPDATE_TIME].v >= 0:
            stamp = v[FP_UPDATE_TIME].v
        if mode == DUAL_LONG:
            side = LONG
        elif mode == DUAL_SHORT:
            side = SHORT
        elif v[FP_SIZE].flags & F_ZERO:
            side = None
        else:
            side = SHORT if v[FP_SIZE].flags & F_NEG else LONG
        symbol = self._name(contract)
        mult = self._mult(contract)
        entry = self._dec(v, FP_ENTRY)
        mark = self._dec(v, FP_MARK)
        liq = self._dec(v, FP_LIQ)
        return Position(
            "gateio", PERP, symbol, contract, stamp, recv_ts, mode, side, size, self.multiply(size, mult) if mult is not None else None,
            entry if entry else None, mark if mark else None, liq if liq else None, self._dec(v, FP_MARGIN), self._dec(v, FP_LEVERAGE),
            self._dec(v, FP_REALISED), self._dec(v, FP_UNREALISED),
            v[FP_UPDATE_ID].v if v[FP_UPDATE_ID].flags and not v[FP_UPDATE_ID].flags & F_NULL else None, bool(v[FP_SIZE].flags & F_ZERO),
        )

    cdef object _event(self, int kind, Tok* v, object recv_ts):
        self.kind = kind
        if kind == 0:
            return self._spot_order(v, recv_ts)
        if kind == 1:
            return self._spot_fill(v, recv_ts)
        if kind == 2:
            return self._futures_order(v, recv_ts)
        if kind == 3:
            return self._futures_fill(v, recv_ts)
        return self._position(v, recv_ts)

    cdef int _channel(self, const char* s, Py_ssize_t n) noexcept:
        """The event kind of channel s/n (-1: a channel this reader does not serve)."""
        cdef int i
        for i in range(self.nchannels):
            if self.chan_lens[i] == n and memcmp(self.chan_names[i], s, n) == 0:
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
        return self._read(raw, recv_ts)

    def handle_message(self, object raw, object recv_ts=None):
        """The handler's ``_handle_message`` (the handler binds this method as its own): the
        pushes this reader takes are counted, each event applied to the handler's state and
        what changed published (what :meth:`~cexfeed.handlers.PrivateWebSocketHandler._account_event`
        and ``_emit`` do, in C); every other frame (not bytes, the handler buffering, or
        :meth:`read` gives ``None``) goes to the handler's own path (``fallback``). Never
        raises: a failing frame is counted as the handler counts one."""
        if recv_ts is None:
            recv_ts = _time_ns()
        try:
            if self._handle(raw, recv_ts):
                return
        except Exception as exc:  # (from reading: the frame is not counted yet)
            stats = self.stats
            _set_slot(stats, _FRAMES, _slot(stats, _FRAMES) + 1)
            self.handler._failed(raw, recv_ts, exc)
            return
        self.fallback(raw, recv_ts)

    cdef bint _handle(self, object raw, object recv_ts) except -1:
        if type(raw) is not bytes or self.hdict.get("_syncing", True):
            return False
        out = self._read(raw, recv_ts)
        if out is None:
            return False
        stats = self.stats
        _set_slot(stats, _FRAMES, _slot(stats, _FRAMES) + 1)
        try:
            if type(out) is list:
                for event in out:
                    self._publish(event)
            else:
                self._publish(out)
        except Exception as exc:
            self.handler._failed(raw, recv_ts, exc)
        return True

    cdef int _publish(self, object event) except -1:
        cdef AccountCore core = self.core
        cls = type(event)
        if core is None:
            result = self.handler._appliers[cls](event)
        elif cls is Order:
            result = core.c_apply_order(event)
        elif cls is Fill:
            result = core.c_apply_fill(event)
        else:
            result = core.c_apply_position(event)
        if result is None:
            return 0
        stats = self.stats
        _set_slot(stats, _EVENTS, _slot(stats, _EVENTS) + 1)
        cls = type(result)
        if cls is Order:
            PyDict_SetItem(self.seen_order, _slot(result, _ORDER_SYMBOL), _slot(result, _ORDER_TS))
        elif cls is Fill:
            PyDict_SetItem(self.seen_fill, _slot(result, _FILL_SYMBOL), _slot(result, _FILL_TS))
        else:
            PyDict_SetItem(self.seen_position, _slot(result, _POSITION_SYMBOL), _slot(result, _POSITION_TS))
        callback = self.hdict.get("_on_event")
        if callback is not None:
            try:
                callback(result)
            except Exception as exc:
                self.handler._count_error("callback", b"", exc)
        return 0

    cdef object _read(self, bytes raw, object recv_ts):
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
            if key != NULL and c.clean and key.n and c.end - c.p > key.n and c.p[0] == c'"' and memcmp(c.p, key.text, key.n) == 0:
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
            if single:
                return self._event(kind, self.items, recv_ts)
            return [self._event(kind, self.items + i * MAX_FIELDS, recv_ts) for i in range(count)]
        except _TwinReads:
            return None
