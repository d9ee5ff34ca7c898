/*
 * Part of _fastpb.c (included there, once): the value rules of cexfeed.wire on the strings of the
 * public bodies: a number is JSON number text (wire.NUMBER) made into the float float(text)
 * gives, a price is in (0, MAX_VALUE), a size in [0, MAX_VALUE) ("" is 0), a version follows
 * wire.seq_id (see the value rules in _fastpb.c's header).
 */
#ifndef CEXFEED_MEXC_FASTPB_VALUES_H
#define CEXFEED_MEXC_FASTPB_VALUES_H

#include "_pbwire.h"

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* JSON number text (wire.NUMBER: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?) -> the float
 * float(text) gives, -0 read as 0.0. Up to 19 significant digits below 2**53 with a power of
 * ten up to 22 take the exact path (one correctly rounded IEEE operation on two exact doubles,
 * Clinger's fast path); anything else goes to the correctly rounded parsers of the runtime. */
static int parse_number(const Slice *s, double *out) {
    const uint8_t *p = s->p, *end = s->p + s->n;
    int neg = 0, digits = 0, scale = 0, exact = 1;
    uint64_t mant = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (!is_digit(p, end)) return not_number(s);
    if (*p == '0') {
        p++;
    } else {
        for (; is_digit(p, end); p++) {
            if (++digits > 19) exact = 0;
            else mant = mant * 10 + (*p - '0');
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (!is_digit(p, end)) return not_number(s);
        for (; is_digit(p, end); p++) {
            if (mant || *p != '0') digits++;
            if (digits > 19) {
                exact = 0;
            } else {
                mant = mant * 10 + (*p - '0');
                scale--;
            }
        }
    }
    long exp;
    if (number_exponent(&p, end, &exp)) return not_number(s);
    scale += (int)exp;
    if (p != end) return not_number(s);
    double v;
    if (exact && mant <= (1ULL << 53) && scale >= -22 && scale <= 22) {
        v = (double)mant;
        v = scale < 0 ? v / POW10[-scale] : v * POW10[scale];
        if (neg) v = -v;
    } else if (s->n < 64) {
        char buf[64];
        memcpy(buf, s->p, s->n);
        buf[s->n] = 0;
        /* no overflow exception: an out-of-range value is +-HUGE_VAL, refused by the bounds */
        v = PyOS_string_to_double(buf, NULL, NULL);
        if (v == -1.0 && PyErr_Occurred()) return ERR_PY;
    } else {
        PyObject *text = PyUnicode_DecodeASCII((const char *)s->p, s->n, "strict");
        if (text == NULL) return ERR_PY;
        PyObject *f = PyFloat_FromString(text);
        Py_DECREF(text);
        if (f == NULL) return ERR_PY;
        v = PyFloat_AS_DOUBLE(f);
        Py_DECREF(f);
    }
    *out = v + 0.0; /* -0.0 -> 0.0 */
    return OK;
}

/* a price: "" or outside (0, MAX_VALUE) is ERR_VALUE */
static inline int parse_price(const Slice *s, double *out) {
    int rc = s->n ? parse_number(s, out) : ERR_VALUE;
    if (rc) return rc;
    return *out > 0.0 && *out < MAX_VALUE ? OK : ERR_VALUE;
}

/* a size: "" (absent) is 0.0; outside [0, MAX_VALUE) is ERR_VALUE */
static inline int parse_size(const Slice *s, double *out) {
    if (s->n == 0) {
        *out = 0.0;
        return OK;
    }
    int rc = parse_number(s, out);
    if (rc) return rc;
    return *out >= 0.0 && *out < MAX_VALUE ? OK : ERR_VALUE;
}

/* a version (wire.seq_id), "" (absent) -> 0; a new reference in *out */
static int parse_seq(const Slice *s, PyObject **out) {
    const uint8_t *p = s->p, *end = s->p + s->n;
    if (s->n == 0) {
        *out = PyLong_FromLong(0);
        return *out ? OK : ERR_PY;
    }
    int neg = *p == '-';
    p += neg;
    /* integer text without leading zeros */
    if (p + 1 == end && *p == '0') {
        *out = PyLong_FromLong(0);
        return *out ? OK : ERR_PY;
    }
    if (is_digit(p, end) && *p != '0') {
        uint64_t v = 0;
        for (; is_digit(p, end); p++) {
            /* checked before the multiplication, so that it cannot wrap */
            if (v > (uint64_t)MAX_SEQ / 10) return not_number(s);
            v = v * 10 + (*p - '0');
            if (v > (uint64_t)MAX_SEQ) return not_number(s);
        }
        if (p == end) {
            if (neg) return ERR_VALUE;
            *out = PyLong_FromLongLong((long long)v);
            return *out ? OK : ERR_PY;
        }
    }
    /* other number text: an integral value a float holds exactly */
    double x;
    int rc = parse_number(s, &x);
    if (rc) return rc;
    if (x < 0.0 || x > EXACT || floor(x) != x) return ERR_VALUE;
    *out = PyLong_FromLongLong((long long)x);
    return *out ? OK : ERR_PY;
}

#endif
