# Part of _fastpush.pyx (included there): a futures.tickers push read into the number fields of
# each item (gateio-protocol.md §7.2), and the event values made of them.

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
