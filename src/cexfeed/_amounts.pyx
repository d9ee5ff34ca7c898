# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled twin of :func:`cexfeed.wire.py_amounts_plain`: the same rules in one pass of C over
the frame's bytes (``tests/test_value_rules.py`` holds the two to each other)."""

from libc.string cimport memchr

cdef int MAX_DIGITS = 299


cdef inline bint _digit(unsigned char c) noexcept nogil:
    return 48 <= c <= 57


cdef inline bint _start(unsigned char c) noexcept nogil:
    """A first character ``Decimal()`` may read a number from: a digit, a sign, ``.``, ``_``, a
    space, or the first letter of inf/nan/snan."""
    return ((48 <= c <= 57) or c == 43 or c == 45 or c == 46 or c == 95 or c == 32 or c == 105 or c == 73 or c == 110 or c == 78
            or c == 115 or c == 83)


cdef bint _strict(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """-?(0|[1-9][0-9]*)(\\.[0-9]+)? with at most MAX_DIGITS integer digits."""
    cdef Py_ssize_t i = 0, start
    if n and p[0] == 45:
        i = 1
    if i >= n or not _digit(p[i]):
        return False
    start = i
    if p[i] == 48:
        i += 1
    else:
        while i < n and _digit(p[i]):
            i += 1
    if i - start > MAX_DIGITS:
        return False
    if i == n:
        return True
    if p[i] != 46:
        return False
    i += 1
    if i >= n or not _digit(p[i]):
        return False
    while i < n and _digit(p[i]):
        i += 1
    return i == n


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
    cdef Py_ssize_t i = 0, j, start, digits
    cdef unsigned char c
    cdef bint fraction
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
            if _start(c) and _numberish(p + start, j - start) and not _strict(p + start, j - start):
                return False
        elif c == 45 or _digit(c):
            j = i
            digits = 0
            fraction = False
            while j < n:
                c = p[j]
                if _digit(c):
                    if not fraction:
                        digits += 1
                elif c == 46:
                    fraction = True
                elif c == 101 or c == 69:
                    return False
                elif c != 45 and c != 43:
                    break
                j += 1
            if digits > MAX_DIGITS:
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
