# Part of _fastprivate.pyx (included there): the fields of the wire structs and the scanning of
# one push's JSON into them, every number by the rules of _amounts.pxd, the JSON by _fastpush.pxd;
# one value by its kind in _fastprivate_tokens.pxi (included here).

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
cdef enum:
    SB_CURRENCY, SB_TOTAL, SB_AVAILABLE, SB_FREEZE, SB_CHANGE, SB_CHANGE_TYPE, SB_TIME_MS, SB_TIME

_SLOTS = {
    SpotOrderPush: ("id currency_pair side amount event status finish_as type account text price left filled_amount filled_total "
                    "avg_deal_price fee fee_currency time_in_force create_time_ms update_time_ms create_time update_time"),
    SpotUserTrade: "id order_id currency_pair side amount price role fee fee_currency text create_time_ms create_time",
    FuturesOrderPush: ("id contract size id_string left price fill_price status finish_as tif text is_reduce_only is_close fee "
                       "update_id update_time finish_time_ms finish_time create_time_ms create_time"),
    FuturesUserTrade: "id order_id contract size price role text fee create_time_ms create_time",
    FuturesPositionPush: ("contract size mode entry_price mark_price liq_price margin leverage realised_pnl unrealised_pnl update_id "
                          "time_ms time update_time"),
    SpotBalancePush: "currency total available freeze change change_type timestamp_ms timestamp",
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
    K_CURRENCY  # Currency: a currency code (wire.currency)
    K_OPTCUR    # CurrencyOrEmpty | None: a currency code, "" or null

_KINDS = [
    (str, K_STR), (Union[str, None], K_OPTSTR), (wire.Name, K_NAME), (Union[str, int], K_ID), (Union[wire.Time, None], K_TIME),
    (Union[wire.SeqId, None], K_SEQ), (Union[bool, None], K_BOOL), (wire.Currency, K_CURRENCY),
    (Union[wire.CurrencyOrEmpty, None], K_OPTCUR),
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
# (SpotOrderPush: left at most the amount, not finished filled with nothing filled and something
# left, in _spot_order; FuturesOrderPush: a size of 0 only on a
# close-position order, in _usual, else |left| at most |size| and of its sign, in _futures_order;
# contract counts within wire.MAX_CONTRACTS in _futures_order, _futures_fill, _position; a known
# position mode, in _position)
for _struct in _SLOTS:
    if _struct.__post_init__ is not wire.AccountItem.__post_init__ and _struct not in (SpotOrderPush, FuturesOrderPush, FuturesUserTrade,
                                                                                       FuturesPositionPush):
        raise ImportError(f"cexfeed._fastprivate does not know the item rule of {_struct.__name__}; rebuild it")


class _TwinReads(Exception):
    """An item rule failed while the events were built: the frame takes the twin's path."""


cdef enum:
    MAX_FIELDS = 24
    MAX_CHANNELS = 8
    HASH = 64
    # the event kinds (0 spot order, 1 spot fill, 2 futures order, 3 futures fill, 4 position,
    # 5 spot balance)
    KINDS = 6
    # the keys of an object this reader remembers (see _item)
    MAX_KEYS = 48
    KEY_TEXT = 32
    ENVELOPE = KINDS
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
cdef Py_ssize_t _MAX_CURRENCY = wire.MAX_CURRENCY
# what this module was built with, for the test that holds it to cexfeed.wire
BOUNDS = {"MAX_SECONDS": _MAX_SECONDS, "MAX_MILLIS": _MAX_MILLIS, "MAX_CURRENCY": _MAX_CURRENCY}


include "_fastprivate_tokens.pxi"


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
        return i if sp.lens[i] == n and _same(sp.names[i], s, n) else -1
    if e == 0:
        return -1
    for i in range(sp.n):
        if sp.lens[i] == n and _same(sp.names[i], s, n):
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
                    and _same(c.p, key.text, key.n)):
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
        sp.nullable[i] = sp.kinds[i] == K_OPTSTR or sp.kinds[i] == K_OPTCUR or (type(None) in getattr(f.type, "__args__", ()) and sp.kinds[i] in (K_AMOUNT, K_TIME, K_SEQ, K_BOOL))
        sp.required[i] = f.required
        h = _key_hash(sp.names[i], sp.lens[i])
        sp.table[h] = i + 1 if sp.table[h] == 0 else -1
    return 0
