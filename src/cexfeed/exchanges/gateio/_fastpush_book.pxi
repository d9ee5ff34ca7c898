# Part of _fastpush.pyx (included there): a push of the REST-synced book channel read into
# level lists (gateio-protocol.md §6.6, §7.6; {"p", "s"} objects or [price, size] arrays).


cdef struct Levels:
    double* v       # price, size pairs
    Py_ssize_t n    # pairs
    Py_ssize_t cap



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
