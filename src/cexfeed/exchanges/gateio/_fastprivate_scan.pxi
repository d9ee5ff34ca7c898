# Part of _fastprivate.pyx (included there): the fields of the wire structs and the scanning of
# one push's JSON into them, every number by the rules of _amounts.pxd, the JSON by _fastpush.pxd.

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

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* a[:n] == b[:n] for the short texts compared here (keys, cached values): word loads
       instead of a call */
    static inline int cexfeed_same(const char* a, const char* b, Py_ssize_t n) {
        uint64_t x, y;
        uint32_t p, q, r, t;
        while (n >= 8) {
            memcpy(&x, a, 8);
            memcpy(&y, b, 8);
            if (x != y) return 0;
            a += 8;
            b += 8;
            n -= 8;
        }
        if (n >= 4) {
            memcpy(&p, a, 4);
            memcpy(&q, b, 4);
            memcpy(&r, a + n - 4, 4);
            memcpy(&t, b + n - 4, 4);
            return p == q && r == t;
        }
        while (n-- > 0) {
            if (*a++ != *b++) return 0;
        }
        return 1;
    }
    """
    bint _same "cexfeed_same"(const char* a, const char* b, Py_ssize_t n) noexcept nogil


cdef inline bint _plain_text(const char* s, Py_ssize_t n) noexcept nogil:
    """A string value the account-value screen lets through: not one ``Decimal()`` might read
    as a number outside the grammar (nor a zero with a minus sign)."""
    cdef const unsigned char* p = <const unsigned char*> s
    if n == 0:
        return True
    if p[0] >= 128:
        return False
    if not _start(p[0]) or (_strict(p, n) and not _negative_zero(p, n)):
        return True  # (number text by the grammar is plain: what Decimal() might read need not be asked)
    return not _numberish(p, n)


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
        # the usual quoted number: its characters up to the closing quote, without memchr
        s = c.p + 1
        n = _bare(s, c.end) if s < c.end and (s[0] == c'-' or c'0' <= s[0] <= c'9') else 0
        if n and s + n < c.end and s[n] == c'"' and c.clean:
            c.p = s + n + 1
        elif not _text(c, &s, &n):
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
        sp.nullable[i] = sp.kinds[i] == K_OPTSTR or (type(None) in getattr(f.type, "__args__", ()) and sp.kinds[i] in (K_AMOUNT, K_TIME, K_SEQ, K_BOOL))
        sp.required[i] = f.required
        h = _key_hash(sp.names[i], sp.lens[i])
        sp.table[h] = i + 1 if sp.table[h] == 0 else -1
    return 0
