/*
 * Part of _privpb.c (included there, once): an account value of a private body made into the
 * decimal.Decimal of its JSON number text (wire.amount: the grammar wire.NUMBER, a magnitude
 * below MAX_AMOUNT, a zero with a minus sign read as zero), with a small cache of the Decimals of
 * recent texts. Uses the Decimal type and bounds _privpb.set_types() gives.
 */
#ifndef CEXFEED_MEXC_PRIVPB_AMOUNT_H
#define CEXFEED_MEXC_PRIVPB_AMOUNT_H

#include "_pbwire.h"

/* JSON number text (wire.NUMBER); *bounded: its magnitude is surely below 1e300 (integer
 * digits plus exponent at most 299; anything else is checked against the bound by Decimal);
 * *zero: its value is 0 (every digit of the mantissa 0). */
static int number_text(const Slice *s, int *bounded, int *zero) {
    const uint8_t *p = s->p, *end = s->p + s->n;
    long digits = 0, exp = 0;
    int nonzero = 0;
    if (p < end && *p == '-') p++;
    if (!is_digit(p, end)) return not_number(s);
    if (*p == '0') {
        p++;
        digits = 1;
    } else {
        nonzero = 1;
        for (; is_digit(p, end); p++) digits++;
    }
    if (p < end && *p == '.') {
        p++;
        if (!is_digit(p, end)) return not_number(s);
        for (; is_digit(p, end); p++) nonzero |= *p != '0';
    }
    if (number_exponent(&p, end, &exp)) return not_number(s);
    if (p != end) return not_number(s);
    *bounded = digits + exp <= 299;
    *zero = !nonzero;
    return OK;
}

/* Decimals of recent texts: same text, same (immutable) Decimal */
#define DEC_CACHE 512
#define DEC_CACHE_LEN 32
typedef struct {
    PyObject *value;
    uint8_t n;
    uint8_t text[DEC_CACHE_LEN];
} DecSlot;
static DecSlot dec_cache[DEC_CACHE];

static inline uint32_t dec_slot(const uint8_t *p, Py_ssize_t n) {
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ULL, w;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xC2B2AE3D27D4EB4FULL;
    }
    w = 0;
    memcpy(&w, p + i, (size_t)(n - i));
    h = (h ^ w) * 0xC2B2AE3D27D4EB4FULL;
    return (uint32_t)(h >> 40) & (DEC_CACHE - 1);
}

/* an account value: None when absent, else the Decimal of its text (a new reference in *out);
 * *zero: the value is 0 (or absent) */
static int make_amount(const Slice *s, PyObject **out, int *zero) {
    *zero = 1;
    if (s->n == 0) {
        Py_INCREF(Py_None);
        *out = Py_None;
        return OK;
    }
    int bounded = 0, rc = number_text(s, &bounded, zero);
    if (rc) return rc;
    DecSlot *slot = NULL;
    if (s->n <= DEC_CACHE_LEN) {
        slot = &dec_cache[dec_slot(s->p, s->n)];
        if (slot->value != NULL && slot->n == s->n && memcmp(slot->text, s->p, s->n) == 0) {
            Py_INCREF(slot->value);
            *out = slot->value;
            return OK;
        }
    }
    /* the grammar is ASCII; a zero with a minus sign is zero (wire.amount: "-0.0" -> 0.0) */
    Py_ssize_t skip = *zero && s->p[0] == '-';
    PyObject *text = PyUnicode_New(s->n - skip, 127);
    if (text == NULL) return ERR_PY;
    memcpy(PyUnicode_1BYTE_DATA(text), s->p + skip, s->n - skip);
    PyObject *value = PyObject_CallOneArg(decimal_type, text);
    Py_DECREF(text);
    if (value == NULL) return ERR_PY;
    if (!bounded) {
        int below = PyObject_RichCompareBool(value, max_amount, Py_LT);
        int above = below == 1 ? PyObject_RichCompareBool(value, min_amount, Py_GT) : below;
        if (above != 1) {
            Py_DECREF(value);
            return above < 0 ? ERR_PY : ERR_VALUE;
        }
    }
    if (slot != NULL) {
        Py_XSETREF(slot->value, value);
        Py_INCREF(value);
        slot->n = (uint8_t)s->n;
        memcpy(slot->text, s->p, s->n);
    }
    *out = value;
    return OK;
}

#endif
