# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled twin of :func:`cexfeed.wire.py_amounts_plain`: the same rules in one pass of C over
the frame's bytes (``tests/test_value_rules.py`` holds the two to each other). The rules of one
token are defined in ``_amounts.pxd``, which the compiled account-push reader shares."""

from libc.string cimport memchr

# what this module was built with, for the test that holds it to cexfeed.wire
BOUNDS = {"MAX_DIGITS": MAX_DIGITS, "MAX_EXPONENT_DIGITS": MAX_EXPONENT_DIGITS}


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
