# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled reader of one frame shape: a Gate ``spot.order_book_update`` or
``futures.order_book_update`` push (gateio-protocol.md §6.6, §7.6), straight from the raw bytes
to ``[(price, base size)]`` lists. Levels may be ``{"p": .., "s": ..}`` objects (futures) or
``[price, size]`` arrays (spot).

Anything it does not expect (another channel or event, an escaped string, a missing field, a
value that is not a positive finite price or a non-negative finite size) makes it return
``None`` and the frame takes the msgspec path, which is the reference this reader is tested
against (same floats, same events). Sizes are converted with the rule of
:meth:`cexfeed.exchanges.gateio.contracts.ContractSize.levels`.
"""

from libc.math cimport floor, isfinite
from libc.stdio cimport snprintf
from libc.stdlib cimport free, realloc
from libc.string cimport memcmp, memcpy


cdef extern from "Python.h":
    double PyOS_string_to_double(const char* s, char** endptr, object overflow_exception) except? -1.0


cdef struct Cur:
    const char* p
    const char* end


cdef struct Levels:
    double* v       # price, size pairs
    Py_ssize_t n    # pairs
    Py_ssize_t cap


cdef inline void _ws(Cur* c) noexcept nogil:
    while c.p < c.end and (c.p[0] == c' ' or c.p[0] == c'\n' or c.p[0] == c'\r' or c.p[0] == c'\t'):
        c.p += 1


cdef inline bint _take(Cur* c, char ch) noexcept nogil:
    _ws(c)
    if c.p < c.end and c.p[0] == ch:
        c.p += 1
        return True
    return False


cdef bint _string(Cur* c, const char** s, Py_ssize_t* n) noexcept nogil:
    """A string without escapes; its bytes in s/n."""
    _ws(c)
    if c.p >= c.end or c.p[0] != c'"':
        return False
    c.p += 1
    s[0] = c.p
    while c.p < c.end and c.p[0] != c'"':
        if c.p[0] == c'\\':
            return False
        c.p += 1
    if c.p >= c.end:
        return False
    n[0] = c.p - s[0]
    c.p += 1
    return True


cdef bint _number_token(Cur* c, const char** s, Py_ssize_t* n) noexcept nogil:
    _ws(c)
    s[0] = c.p
    while c.p < c.end and (c'0' <= c.p[0] <= c'9' or c.p[0] == c'-' or c.p[0] == c'+' or c.p[0] == c'.' or c.p[0] == c'e' or c.p[0] == c'E'):
        c.p += 1
    n[0] = c.p - s[0]
    return n[0] > 0


cdef bint _int(Cur* c, long long* out) noexcept nogil:
    cdef const char* s
    cdef Py_ssize_t n, i = 0
    cdef long long v = 0
    cdef bint neg = False
    if not _number_token(c, &s, &n):
        return False
    if s[0] == c'-':
        neg = True
        i = 1
    if i >= n or n - i > 18:
        return False
    while i < n:
        if not (c'0' <= s[i] <= c'9'):
            return False
        v = v * 10 + (s[i] - c'0')
        i += 1
    out[0] = -v if neg else v
    return True


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
    out[0] = PyOS_string_to_double(buf, &endp, None)
    return endp == buf + n and isfinite(out[0])


cdef bint _number(Cur* c, double* out) except -1:
    """A JSON number or a numeric string (the venue's decimal strings) -> the correctly rounded
    double, in one pass. Up to 15 significant digits and a power of ten up to 22 take the exact
    path (an integer below 2**53 times or divided by an exact power of ten: one correctly
    rounded operation); anything longer goes to Python's own parser."""
    cdef const char* p
    cdef const char* end = c.end
    cdef const char* tok
    cdef unsigned long long mant = 0
    cdef int digits = 0, scale = 0, exp = 0
    cdef bint quoted, neg = False, dot = False, any_digit = False, exact = True, exp_neg = False
    cdef char ch
    _ws(c)
    p = c.p
    quoted = p < end and p[0] == c'"'
    if quoted:
        p += 1
    tok = p
    if p < end and p[0] == c'-':
        neg = True
        p += 1
    while p < end:
        ch = p[0]
        if c'0' <= ch <= c'9':
            any_digit = True
            if mant or ch != c'0':
                digits += 1
            if digits <= 15:
                mant = mant * 10 + <unsigned long long>(ch - c'0')
                if dot:
                    scale -= 1
            else:
                exact = False
        elif ch == c'.' and not dot:
            dot = True
        else:
            break
        p += 1
    if not any_digit:
        return False
    if p < end and (p[0] == c'e' or p[0] == c'E'):
        p += 1
        if p < end and (p[0] == c'-' or p[0] == c'+'):
            exp_neg = p[0] == c'-'
            p += 1
        if p >= end or not (c'0' <= p[0] <= c'9'):
            return False
        while p < end and c'0' <= p[0] <= c'9':
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
    if exact and -22 <= scale <= 22:
        if scale >= 0:
            out[0] = <double> mant * _POW10[scale]
        else:
            out[0] = <double> mant / _POW10[-scale]
        if neg:
            out[0] = -out[0]
        return isfinite(out[0])
    return _slow_double(tok, p - tok, out)


cdef bint _skip(Cur* c, int depth) noexcept nogil:
    cdef const char* s
    cdef Py_ssize_t n
    _ws(c)
    if c.p >= c.end or depth > 32:
        return False
    cdef char ch = c.p[0]
    if ch == c'"':
        c.p += 1
        while c.p < c.end and c.p[0] != c'"':
            if c.p[0] == c'\\':
                c.p += 1
            c.p += 1
        if c.p >= c.end:
            return False
        c.p += 1
        return True
    if ch == c'{' or ch == c'[':
        c.p += 1
        if _take(c, c'}' if ch == c'{' else c']'):
            return True
        while True:
            if ch == c'{':
                if not _string(c, &s, &n) or not _take(c, c':'):
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
    return _number_token(c, &s, &n)


cdef inline bint _key(const char* s, Py_ssize_t n, const char* want, Py_ssize_t wn) noexcept nogil:
    return n == wn and memcmp(s, want, wn) == 0


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


cdef bint _levels(Cur* c, Levels* lv) except -1:
    """``[{"p": price, "s": size}, ...]`` (keys in any order, other keys skipped) or
    ``[[price, size], ...]``."""
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
        if c.p < c.end and c.p[0] == c'[':  # [price, size]
            c.p += 1
            if not (_number(c, &price) and price > 0 and _take(c, c',') and _number(c, &size) and size >= 0 and _take(c, c']')):
                return False
            _push(lv, price, size)
            if _take(c, c','):
                continue
            return _take(c, c']')
        # the shape every Gate frame has: {"p":<price>,"s":<size>} with no spaces
        if c.end - c.p > 10 and memcmp(c.p, b'{"p":', 5) == 0:
            c.p += 5
            if (_number(c, &price) and price > 0 and c.end - c.p > 5 and memcmp(c.p, b',"s":', 5) == 0):
                c.p += 5
                if _number(c, &size) and size >= 0 and c.p < c.end and c.p[0] == c'}':
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
                if not _string(c, &s, &n) or not _take(c, c':'):
                    return False
                if _key(s, n, b"p", 1):
                    if not _number(c, &price) or price <= 0:
                        return False
                    have_p = True
                elif _key(s, n, b"s", 1):
                    if not _number(c, &size) or size < 0:
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


cdef double _round15(double x) except? -1.0:
    cdef char buf[40]
    snprintf(buf, sizeof(buf), "%.15g", x)
    return PyOS_string_to_double(buf, NULL, None)


cdef list _pairs(Levels* lv, double num, double den, bint one):
    cdef Py_ssize_t i
    cdef double s, x
    cdef list out = [None] * lv.n
    for i in range(lv.n):
        s = lv.v[2 * i + 1]
        if one:
            x = s
        elif floor(s) == s:
            x = s * num / den
        else:
            x = _round15(s * num / den)
        out[i] = (lv.v[2 * i], x)
    return out


def book_update(bytes raw, bytes channel, dict ratios):
    """Read a push of the book channel ``channel`` (``b"futures.order_book_update"``).

    ``ratios`` maps contract -> ``(num, den, one)`` of its multiplier. Returns
    ``(contract, t, U, u, full, bids, asks, time, time_ms)`` with ``[(price, base size)]`` lists,
    the contract name alone when it is not in ``ratios`` yet (add it and call again), or
    ``None`` when the frame is anything else or not understood (use the msgspec path).
    """
    cdef Cur c
    cdef const char* s
    cdef Py_ssize_t n
    cdef long long t = 0, first = 0, last = -1, sec = 0, ms = 0
    cdef bint full = False, channel_ok = False, event_ok = False, have_result = False
    cdef const char* sym = NULL
    cdef Py_ssize_t sym_n = 0
    cdef Levels bids
    cdef Levels asks
    if raw is None or len(raw) == 0:
        return None
    c.p = <const char*> raw
    c.end = c.p + len(raw)
    bids.v = NULL
    bids.n = bids.cap = 0
    asks.v = NULL
    asks.n = asks.cap = 0
    try:
        if not _take(&c, c'{'):
            return None
        while True:
            if not _string(&c, &s, &n) or not _take(&c, c':'):
                return None
            if _key(s, n, b"channel", 7):
                if not _string(&c, &s, &n) or not _key(s, n, channel, len(channel)):
                    return None
                channel_ok = True
            elif _key(s, n, b"event", 5):
                if not _string(&c, &s, &n) or not _key(s, n, b"update", 6):
                    return None
                event_ok = True
            elif _key(s, n, b"time", 4):
                if not _int(&c, &sec):
                    return None
            elif _key(s, n, b"time_ms", 7):
                if not _int(&c, &ms):
                    return None
            elif _key(s, n, b"result", 6):
                if not _take(&c, c'{'):
                    return None
                have_result = True
                if not _take(&c, c'}'):
                    while True:
                        if not _string(&c, &s, &n) or not _take(&c, c':'):
                            return None
                        if _key(s, n, b"s", 1):
                            if not _string(&c, &sym, &sym_n):
                                return None
                        elif _key(s, n, b"t", 1):
                            if not _int(&c, &t):
                                return None
                        elif _key(s, n, b"U", 1):
                            if not _int(&c, &first):
                                return None
                        elif _key(s, n, b"u", 1):
                            if not _int(&c, &last):
                                return None
                        elif _key(s, n, b"b", 1):
                            if not _levels(&c, &bids):
                                return None
                        elif _key(s, n, b"a", 1):
                            if not _levels(&c, &asks):
                                return None
                        elif _key(s, n, b"full", 4):
                            _ws(&c)
                            if c.end - c.p >= 4 and memcmp(c.p, b"true", 4) == 0:
                                full = True
                                c.p += 4
                            elif c.end - c.p >= 5 and memcmp(c.p, b"false", 5) == 0:
                                c.p += 5
                            else:
                                return None
                        elif not _skip(&c, 0):
                            return None
                        if _take(&c, c','):
                            continue
                        if not _take(&c, c'}'):
                            return None
                        break
            elif not _skip(&c, 0):
                return None
            if _take(&c, c','):
                continue
            if not _take(&c, c'}'):
                return None
            break
        _ws(&c)
        if c.p != c.end or not (channel_ok and event_ok and have_result) or sym == NULL or sym_n == 0 or last < 0:
            return None
        contract = sym[:sym_n].decode("utf-8")
        ratio = ratios.get(contract)
        if ratio is None:
            return contract
        num, den, one = ratio
        return (contract, t, first, last, full, _pairs(&bids, num, den, one), _pairs(&asks, num, den, one), sec, ms)
    except ValueError:  # a number PyOS_string_to_double refused
        return None
    finally:
        free(bids.v)
        free(asks.v)
