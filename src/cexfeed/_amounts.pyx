# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled twin of :func:`cexfeed.wire.py_amounts_plain`: the same rules in one pass of C over
the frame's bytes (``tests/test_value_rules.py`` holds the two to each other)."""

from libc.string cimport memchr

cdef int MAX_DIGITS = 299
cdef int MAX_EXPONENT_DIGITS = 4


cdef inline bint _digit(unsigned char c) noexcept nogil:
    return 48 <= c <= 57


cdef inline bint _start(unsigned char c) noexcept nogil:
    """A first character ``Decimal()`` may read a number from: a digit, a sign, ``.``, ``_``, a
    space, or the first letter of inf/nan/snan."""
    return ((48 <= c <= 57) or c == 43 or c == 45 or c == 46 or c == 95 or c == 32 or c == 105 or c == 73 or c == 110 or c == 78
            or c == 115 or c == 83)


cdef bint _bounded(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """A number token's magnitude is below 1e300: its integer digits plus its exponent (at most
    MAX_EXPONENT_DIGITS digits) stay within MAX_DIGITS."""
    cdef Py_ssize_t i = 0, digits = 0, exp_digits = 0
    cdef long exponent = 0
    cdef bint negative = False
    while i < n and p[i] != 101 and p[i] != 69 and p[i] != 46:
        if _digit(p[i]):
            digits += 1
        i += 1
    while i < n and p[i] != 101 and p[i] != 69:
        i += 1
    if i < n:
        i += 1
        if i < n and (p[i] == 43 or p[i] == 45):
            negative = p[i] == 45
            i += 1
        while i < n:
            if not _digit(p[i]) or exp_digits >= MAX_EXPONENT_DIGITS:
                return False
            exponent = exponent * 10 + (p[i] - 48)
            exp_digits += 1
            i += 1
        if exp_digits == 0:
            return False
    return digits + (-exponent if negative else exponent) <= MAX_DIGITS


cdef bint _strict(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """JSON number text (-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?), :func:`_bounded`."""
    cdef Py_ssize_t i = 0
    if n and p[0] == 45:
        i = 1
    if i >= n or not _digit(p[i]):
        return False
    if p[i] == 48:
        i += 1
    else:
        while i < n and _digit(p[i]):
            i += 1
    if i < n and p[i] == 46:
        i += 1
        if i >= n or not _digit(p[i]):
            return False
        while i < n and _digit(p[i]):
            i += 1
    if i < n and (p[i] == 101 or p[i] == 69):
        i += 1
        if i < n and (p[i] == 43 or p[i] == 45):
            i += 1
        if i >= n or not _digit(p[i]):
            return False
        while i < n and _digit(p[i]):
            i += 1
    return i == n and _bounded(p, n)


cdef bint _negative_zero(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """A number token that is zero with a minus sign (see the twin)."""
    cdef Py_ssize_t i = 1
    cdef bint zero = False
    if n < 2 or p[0] != 45:
        return False
    while i < n and p[i] != 101 and p[i] != 69:
        if p[i] == 48:
            zero = True
        elif p[i] != 46:
            return False
        i += 1
    return zero


cdef inline unsigned char _lower(unsigned char c) noexcept nogil:
    return c + 32 if 65 <= c <= 90 else c


cdef bint _word(const unsigned char* p, Py_ssize_t n, const char* word) noexcept nogil:
    """``p[:n]`` starts with ``word`` (lower case, ASCII), case-insensitively."""
    cdef Py_ssize_t i = 0
    while word[i] != 0:
        if i >= n or _lower(p[i]) != <unsigned char>word[i]:
            return False
        i += 1
    return True


cdef bint _numberish(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """What ``Decimal()`` might read as a number (a superset): see the twin."""
    cdef Py_ssize_t a = 0, b = n, i, k
    cdef unsigned char c
    cdef bint digit = False
    while a < b and p[a] == 32:
        a += 1
    while b > a and p[b - 1] == 32:
        b -= 1
    if a == b:
        return False
    i = a
    if p[i] == 43 or p[i] == 45:
        i += 1
    if (b - i == 3 and _word(p + i, b - i, b"inf")) or (b - i == 8 and _word(p + i, b - i, b"infinity")):
        return True
    # nan / snan, each with optional digits
    k = -1
    if _word(p + i, b - i, b"nan"):
        k = i + 3
    elif _word(p + i, b - i, b"snan"):
        k = i + 4
    if k >= 0:
        while k < b and _digit(p[k]):
            k += 1
        if k == b:
            return True
    for i in range(a, b):
        c = p[i]
        if _digit(c) or c >= 128:
            digit = True
        elif not (c == 43 or c == 45 or c == 46 or c == 95 or c == 101 or c == 69 or c == 32):
            return False
    return digit


cdef bint _scan(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i = 0, j, start
    cdef unsigned char c
    if memchr(p, 92, n) != NULL:
        return False  # an escape somewhere: leave the frame to the strict path
    while i < n:
        c = p[i]
        if c == 34:
            start = i + 1
            j = start
            while j < n and p[j] != 34:
                j += 1
            if j >= n:
                return False
            i = j + 1
            if (i < n and p[i] == 58) or j == start:
                continue  # an object key, or an empty string: never an account value
            c = p[start]
            if c >= 128:
                return False
            if _start(c) and _numberish(p + start, j - start) and (not _strict(p + start, j - start) or _negative_zero(p + start, j - start)):
                return False
        elif c == 45 or _digit(c):
            # a bare number (its grammar is the JSON decoder's to check): only its size here
            j = i + 1
            while j < n and (_digit(p[j]) or p[j] == 46 or p[j] == 101 or p[j] == 69 or p[j] == 43 or p[j] == 45):
                j += 1
            if not _bounded(p + i, j - i) or _negative_zero(p + i, j - i):
                return False
            i = j
        else:
            i += 1
    return True


def amounts_plain(raw):
    """See :func:`cexfeed.wire.py_amounts_plain`."""
    cdef bytes data = raw if type(raw) is bytes else (raw.encode() if isinstance(raw, str) else bytes(raw))
    # a frame is a few hundred bytes: releasing the GIL would cost more than the scan
    return _scan(data, len(data))
