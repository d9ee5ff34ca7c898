# Part of _fastprivate.pyx (included by _fastprivate_scan.pxi): one JSON value read by the kind
# its field holds (text, account value, time, id, sequence, flag), or skipped by the screen's rules.

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


cdef inline bint _currency(const char* s, Py_ssize_t n, bint empty_ok) noexcept nogil:
    """Text s/n is a currency code by the rule of :func:`cexfeed.wire.currency` (``""`` too when
    ``empty_ok``): 1 to MAX_CURRENCY ASCII letters and digits, at least one a letter, not
    digits with an exponent (one ``e``/``E`` between digits)."""
    cdef Py_ssize_t i, last = 0
    cdef int letters = 0
    cdef char ch
    if n == 0:
        return empty_ok
    if n > _MAX_CURRENCY:
        return False
    for i in range(n):
        ch = s[i]
        if c'A' <= ch <= c'Z' or c'a' <= ch <= c'z':
            letters += 1
            last = i
        elif not c'0' <= ch <= c'9':
            return False
    if letters == 0:
        return False
    return not (letters == 1 and (s[last] == c'e' or s[last] == c'E') and 0 < last < n - 1)


def currency_text(bytes raw, bint empty_ok=False):
    """Whether this reader takes ``raw`` as a currency code (see ``_currency``); for the test
    that holds it to :data:`cexfeed.wire.CURRENCY`."""
    return _currency(raw, len(raw), empty_ok)


cdef inline Py_ssize_t _bare(const char* p, const char* end) noexcept nogil:
    """The length of a bare number token as the screen cuts it (``[-0-9][-+0-9.eE]*``)."""
    cdef const char* q = p + 1
    while q < end and ((c'0' <= q[0] <= c'9') or q[0] == c'.' or q[0] == c'e' or q[0] == c'E' or q[0] == c'+' or q[0] == c'-'):
        q += 1
    return q - p


cdef inline bint _plain_number(Cur* c, Tok* t, bint* quoted) noexcept nogil:
    """The usual number token of :func:`_number_text` in one pass: integer digits and an
    optional fraction (no exponent, at most MAX_DIGITS characters, not a zero with a minus
    sign), bare or in a string of a clean frame, ending where the screen's cut ends. False
    (nothing consumed) for any other token: :func:`_number_text` then reads it by the rules."""
    cdef const char* s = c.p
    cdef const char* q
    cdef const char* end = c.end
    cdef bint in_string = s[0] == c'"', nonzero = False
    cdef char ch
    if in_string:
        if not c.clean:
            return False
        s += 1
    q = s
    if q < end and q[0] == c'-':
        q += 1
    if q >= end or not (c'0' <= q[0] <= c'9'):
        return False
    if q[0] == c'0':
        q += 1
    else:
        nonzero = True
        while q < end and c'0' <= q[0] <= c'9':
            q += 1
    if q < end and q[0] == c'.':
        q += 1
        if q >= end or not (c'0' <= q[0] <= c'9'):
            return False
        while q < end and c'0' <= q[0] <= c'9':
            if q[0] != c'0':
                nonzero = True
            q += 1
    if q - s > MAX_DIGITS or (s[0] == c'-' and not nonzero):
        return False
    if q < end:
        ch = q[0]
        # the token must end here: a closing quote, or (bare) no character the cut would take
        if in_string:
            if ch != c'"':
                return False
        elif (c'0' <= ch <= c'9') or ch == c'.' or ch == c'e' or ch == c'E' or ch == c'+' or ch == c'-':
            return False
    elif in_string:
        return False
    t.s = s
    t.n = q - s
    t.flags = F_GIVEN | (F_NEG if s[0] == c'-' else 0) | (0 if nonzero else F_ZERO)
    quoted[0] = in_string
    c.p = q + 1 if in_string else q
    return True


cdef bint _number_text(Cur* c, Tok* t, bint* quoted) noexcept nogil:
    """A number, bare or in a string, by the one grammar (JSON number text below 1e300, not a
    zero with a minus sign): its text in t.s/t.n, F_NEG and F_ZERO in t.flags."""
    cdef const char* s
    cdef Py_ssize_t n, i
    cdef const unsigned char* p
    _ws(c)
    if c.p >= c.end:
        return False
    if _plain_number(c, t, quoted):
        return True
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
    if kind == K_STR or kind == K_OPTSTR or kind == K_NAME or kind == K_CURRENCY or kind == K_OPTCUR:
        if not _text(c, &s, &n) or not _plain_text(s, n) or (kind == K_NAME and n == 0):
            return False
        # a currency that is no code: the twin's path counts the item malformed
        if (kind == K_CURRENCY or kind == K_OPTCUR) and not _currency(s, n, kind == K_OPTCUR):
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
