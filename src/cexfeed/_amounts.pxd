# The account-value rules of one number token, the single definition of them: inlined into
# _amounts.pyx (the frame screen, twin of cexfeed.wire.py_amounts_plain) and into the compiled
# account-push reader (exchanges/gateio/_fastprivate.pyx). Bounds as cexfeed.wire's
# MAX_DIGITS / MAX_EXPONENT_DIGITS (tests/test_value_rules.py holds them equal).

cdef enum:
    MAX_DIGITS = 299
    MAX_EXPONENT_DIGITS = 4


cdef inline bint _digit(unsigned char c) noexcept nogil:
    return 48 <= c <= 57


cdef inline bint _bounded(const unsigned char* p, Py_ssize_t n) noexcept nogil:
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


cdef inline bint _strict(const unsigned char* p, Py_ssize_t n) noexcept nogil:
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
    # no exponent: at most n integer digits, within the bound when n is
    return i == n and (n <= MAX_DIGITS or _bounded(p, n))


cdef inline bint _negative_zero(const unsigned char* p, Py_ssize_t n) noexcept nogil:
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


cdef inline bint _word(const unsigned char* p, Py_ssize_t n, const char* word) noexcept nogil:
    """``p[:n]`` starts with ``word`` (lower case, ASCII), case-insensitively."""
    cdef Py_ssize_t i = 0
    while word[i] != 0:
        if i >= n or _lower(p[i]) != <unsigned char>word[i]:
            return False
        i += 1
    return True


cdef inline bint _numberish_plain(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """:func:`_numberish` of a text without underscores, spaces around it already dropped."""
    cdef Py_ssize_t a = 0, b = n, i, k
    cdef unsigned char c
    cdef bint digit = False
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


cdef inline bint _numberish(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """What ``Decimal()`` might read as a number (a superset): see the twin. Decimal() drops
    underscores wherever they stand ("_inf" is Infinity): a text with any is judged without
    them (one longer than 32 bytes then counts whatever it is)."""
    cdef Py_ssize_t a = 0, b = n, i, m = 0
    cdef unsigned char buf[32]
    while a < b and p[a] == 32:
        a += 1
    while b > a and p[b - 1] == 32:
        b -= 1
    for i in range(a, b):
        if p[i] == 95:
            break
    else:
        return _numberish_plain(p + a, b - a)
    for i in range(a, b):
        if p[i] != 95:
            if m == 32:
                return True
            buf[m] = p[i]
            m += 1
    return _numberish_plain(buf, m)




cdef inline bint _start(unsigned char c) noexcept nogil:
    """A first character ``Decimal()`` may read a number from: a digit, a sign, ``.``, ``_``, a
    space, or the first letter of inf/nan/snan."""
    return ((48 <= c <= 57) or c == 43 or c == 45 or c == 46 or c == 95 or c == 32 or c == 105 or c == 73 or c == 110 or c == 78
            or c == 115 or c == 83)
