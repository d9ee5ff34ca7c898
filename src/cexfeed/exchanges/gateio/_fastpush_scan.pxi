# Part of _fastpush.pyx (included there): the readers of a push's tokens over the cursor of
# _fastpush.pxd (strings, integers, ids, times, numbers, skipping a value, the 15-digit rounding
# of a contract size), each as strict as msgspec's decoder and bounded by cexfeed.wire's values.


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
