# Part of _fastitems.pyx (included there): the field table of the item rows' wire structs
# (spot_table / futures_table) and the reading of one item object into it, each field by the rule
# of its cexfeed.wire type, the JSON by _fastpush.pxd.

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
