# The JSON scanning of the compiled Gate push reader (_fastpush.pyx), shared with the compiled
# account-push reader (_fastprivate.pyx) and the public handlers' compiled _handle_message
# (_fastitems.pyx): a cursor over a frame's bytes and the readers of its tokens, each as strict
# as msgspec's decoder (anything else: False, the frame goes the msgspec way).

from libc.math cimport floor
from libc.string cimport memchr, memcmp


cdef struct Cur:
    const char* p
    const char* end
    # the frame holds no backslash and no control byte (see _text): a string ends at its quote
    bint clean


cdef inline bint _space(char ch) noexcept nogil:
    return ch == c' ' or ch == c'\n' or ch == c'\r' or ch == c'\t'


cdef inline void _ws(Cur* c) noexcept nogil:
    cdef const char* p = c.p
    while p < c.end and _space(p[0]):
        p += 1
    c.p = p


cdef inline bint _take(Cur* c, char ch) noexcept nogil:
    cdef const char* p = c.p
    if p < c.end and p[0] == ch:  # the usual case: no whitespace
        c.p = p + 1
        return True
    _ws(c)
    if c.p < c.end and c.p[0] == ch:
        c.p += 1
        return True
    return False


cdef inline bint _null(Cur* c) noexcept nogil:
    _ws(c)
    if c.end - c.p >= 4 and memcmp(c.p, b"null", 4) == 0:
        c.p += 4
        return True
    return False


cdef inline bint _key(const char* s, Py_ssize_t n, const char* want, Py_ssize_t wn) noexcept nogil:
    return n == wn and memcmp(s, want, wn) == 0


# a string without escapes or control characters (its bytes in s/n)
cdef bint _string(Cur* c, const char** s, Py_ssize_t* n) noexcept nogil


cdef enum:
    NOT_ASCII = 1   # a byte from 0x80 (UTF-8 text)
    NOT_CLEAN = 2   # a backslash or a byte below 0x20


cdef inline int _bytes(const char* p, Py_ssize_t n) noexcept nogil:
    """What p[:n] holds: NOT_ASCII, NOT_CLEAN (or 0). In a frame that is not NOT_CLEAN no string
    has an escape or a control character: :func:`_text` may look for its closing quote alone."""
    cdef unsigned char low = 0xff, high = 0, b
    cdef Py_ssize_t i
    for i in range(n):  # (no early exit: a loop the compiler can vectorize)
        b = <unsigned char> p[i]
        low = low if b >= low else b
        high |= b
    return (NOT_ASCII if high & 0x80 else 0) | (NOT_CLEAN if low < 0x20 or memchr(p, c'\\', n) != NULL else 0)


cdef inline bint _text(Cur* c, const char** s, Py_ssize_t* n) noexcept nogil:
    """:func:`_string`, for a cursor whose frame is ``clean`` its closing quote found by memchr."""
    cdef const char* p
    cdef const char* q
    if not c.clean:
        return _string(c, s, n)
    p = c.p
    if p >= c.end or p[0] != c'"':
        _ws(c)
        p = c.p
        if p >= c.end or p[0] != c'"':
            return False
    q = <const char*> memchr(p + 1, c'"', c.end - p - 1)
    if q == NULL:
        return False
    s[0] = p + 1
    n[0] = q - p - 1
    c.p = q + 1
    return True
# a bare JSON integer of at most 18 digits, not -0
cdef bint _int(Cur* c, long long* out) noexcept nogil
# a JSON number or numeric string -> the correctly rounded double (finite, not -0)
cdef bint _number(Cur* c, double* out) except -1
# one JSON value skipped, as strictly as msgspec reads it
cdef bint _skip(Cur* c, int depth) except -1
# a venue time (a bare JSON integer of at most 18 digits, in any unit) -> ms
cdef bint _time(Cur* c, long long* out) noexcept nogil
# x rounded to 15 significant digits (ContractSize.base past 2**53)
cdef double _round15(double x) except? -1.0


cdef inline int _push_field(Cur* c, const char* s, Py_ssize_t n, bint* event_ok, long long* sec, long long* ms) noexcept nogil:
    """One envelope field of a Gate push besides ``channel`` and ``result`` (gateio-protocol.md
    §2.3), its key ``s`` read: ``event`` must be ``update``, ``time`` (s) and ``time_ms`` are
    times; ``error``, ``id`` and ``payload`` are never on a push (the msgspec path checks them).
    1: read; 0: another key (its value not read); -1: refuse the frame (the msgspec path)."""
    cdef const char* v
    cdef Py_ssize_t vn
    if _key(s, n, b"event", 5):
        if not _text(c, &v, &vn) or not _key(v, vn, b"update", 6):
            return -1
        event_ok[0] = True
        return 1
    if _key(s, n, b"time", 4):
        return 1 if _time(c, sec) else -1
    if _key(s, n, b"time_ms", 7):
        return 1 if _time(c, ms) else -1
    if _key(s, n, b"error", 5) or _key(s, n, b"id", 2) or _key(s, n, b"payload", 7):
        return -1
    return 0


cdef inline double _base(double s, double num, double den, bint one) except? -1.0:
    """ContractSize.base: contracts -> base currency (num / den the multiplier, ``one`` when 1)."""
    cdef double x
    if one:
        return s
    x = s * num
    if floor(s) == s and -9007199254740992.0 < x < 9007199254740992.0:  # |x| < 2**53
        return x / den
    return _round15(x / den)
