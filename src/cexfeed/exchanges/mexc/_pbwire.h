/*
 * Protobuf wire primitives shared by the compiled MEXC decoders (_fastpb: public bodies,
 * _privpb: private bodies), included by each; every function is static, so each module has its
 * own copy. The rules are upb's (see _fastpb.c): field numbers in [1, 2**29 - 1] at every
 * nesting level, unknown fields of any wire type skipped (groups included, nesting limit
 * MAX_DEPTH), strings valid UTF-8, times read as cexfeed.wire.to_ms reads them.
 */
#ifndef CEXFEED_MEXC_PBWIRE_H
#define CEXFEED_MEXC_PBWIRE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    Py_ssize_t n;
} Slice;

#define MAX_SLICES 16
/* upb's nesting limit: sub-messages and groups together, the wrapper at level 0 */
#define MAX_DEPTH 100

/* the bounds of cexfeed.wire, exposed as module constants and checked against it by a test */
#define MAX_VALUE 1e300
#define MAX_MILLIS 100000000000000LL /* 10**14 */
#define MAX_SEQ 9223372036854775807LL /* 2**63 - 1 */
#define MAX_FIELD 536870911u /* 2**29 - 1, the largest protobuf field number */
#define MAX_SECONDS 100000000000LL /* 10**11 */
#define EXACT 9007199254740992.0 /* 2**53 */

/* ERR_VALUE: well-formed protobuf, but a value outside the value rules */
enum { OK = 0, ERR_TRUNC = -1, ERR_BAD = -2, ERR_PY = -3, ERR_VALUE = -4 };

static PyObject *empty_str;

static inline void set_error(int code, const char *what) {
    if (code == ERR_PY) return; /* a Python exception is already set */
    PyErr_Format(PyExc_ValueError, "%s: %s", code == ERR_TRUNC ? "truncated" : "malformed", what);
}

/* A record of `type` (a tuple subclass without extra fields) holding `items` (references
 * stolen, all non-NULL), or NULL with an exception set. */
static inline PyObject *record(PyTypeObject *type, PyObject **items, Py_ssize_t n) {
#if PY_VERSION_HEX < 0x030E0000
    /* what tuple.__new__(type, items) does, without the temporary tuple */
    PyObject *obj = type->tp_alloc(type, n);
    if (obj != NULL) {
        for (Py_ssize_t i = 0; i < n; i++) PyTuple_SET_ITEM(obj, i, items[i]);
        return obj;
    }
#else
    /* newer tuples carry more state (a cached hash): let tuple.__new__ set it up */
    PyObject *tmp = PyTuple_New(n);
    if (tmp != NULL) {
        for (Py_ssize_t i = 0; i < n; i++) PyTuple_SET_ITEM(tmp, i, items[i]);
        PyObject *args = PyTuple_Pack(1, tmp);
        Py_DECREF(tmp);
        if (args == NULL) return NULL;
        PyObject *obj = PyTuple_Type.tp_new(type, args, NULL);
        Py_DECREF(args);
        return obj;
    }
#endif
    for (Py_ssize_t i = 0; i < n; i++) Py_DECREF(items[i]);
    return NULL;
}

/* record() of freshly made items, any of which may be NULL (creation failed) */
static inline PyObject *record_checked(PyTypeObject *type, PyObject **items, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (items[i] == NULL) {
            for (Py_ssize_t k = 0; k < n; k++) Py_XDECREF(items[k]);
            return NULL;
        }
    }
    return record(type, items, n);
}

static inline int read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p >= end) return ERR_TRUNC;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (b < 0x80) {
            *pp = p;
            *out = v;
            return OK;
        }
    }
    return ERR_BAD; /* more than 10 bytes */
}

/* A field key: number in [1, 2**29 - 1] and wire type, at any nesting level (upb's rule). */
static inline int read_key(const uint8_t **pp, const uint8_t *end, uint32_t *field, int *wire) {
    uint64_t key;
    int rc = read_varint(pp, end, &key);
    if (rc) return rc;
    if (key >> 3 == 0 || key >> 3 > MAX_FIELD) return ERR_BAD;
    *field = (uint32_t)(key >> 3);
    *wire = (int)(key & 7);
    return OK;
}

/* Reads a length-delimited payload at *pp (after its tag). */
static inline int read_len(const uint8_t **pp, const uint8_t *end, Slice *s) {
    uint64_t len;
    int rc = read_varint(pp, end, &len);
    if (rc) return rc;
    if (len > (uint64_t)(end - *pp)) return len > 0x7FFFFFFF ? ERR_BAD : ERR_TRUNC;
    s->p = *pp;
    s->n = (Py_ssize_t)len;
    *pp += len;
    return OK;
}

static inline int skip_field(const uint8_t **pp, const uint8_t *end, uint32_t field, int wire, int depth);

/* depth: the nesting level of the message holding this group, plus the groups around it */
static inline int skip_group(const uint8_t **pp, const uint8_t *end, uint32_t field, int depth) {
    if (depth >= MAX_DEPTH) return ERR_BAD;
    while (*pp < end) {
        /* inside an unknown group upb takes field number 0 too (not above 2**29 - 1) */
        uint64_t key;
        int rc = read_varint(pp, end, &key);
        if (rc) return rc;
        if (key >> 3 > MAX_FIELD) return ERR_BAD;
        uint32_t f = (uint32_t)(key >> 3);
        int w = (int)(key & 7);
        if (w == 4) return f == field ? OK : ERR_BAD;
        rc = skip_field(pp, end, f, w, depth + 1);
        if (rc) return rc;
    }
    return ERR_TRUNC;
}

static inline int skip_field(const uint8_t **pp, const uint8_t *end, uint32_t field, int wire, int depth) {
    uint64_t tmp;
    Slice s;
    switch (wire) {
    case 0:
        return read_varint(pp, end, &tmp);
    case 1:
        if (end - *pp < 8) return ERR_TRUNC;
        *pp += 8;
        return OK;
    case 2:
        return read_len(pp, end, &s);
    case 3:
        return skip_group(pp, end, field, depth);
    case 5:
        if (end - *pp < 4) return ERR_TRUNC;
        *pp += 4;
        return OK;
    default:
        return ERR_BAD;
    }
}

static inline int all_ascii(const uint8_t *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    uint64_t acc = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        acc |= w;
    }
    for (; i < n; i++) acc |= s[i];
    return (acc & 0x8080808080808080ULL) == 0;
}

static inline int utf8_valid(const uint8_t *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    if (all_ascii(s, n)) return 1;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int need;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + need >= n) return 0; /* continuation bytes run past the end */
        for (int k = 1; k <= need; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((need == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += need + 1;
    }
    return 1;
}

static inline int check_str(const Slice *s) {
    return utf8_valid(s->p, s->n) ? OK : ERR_BAD;
}

static inline int is_digit(const uint8_t *p, const uint8_t *end) { return p < end && *p >= '0' && *p <= '9'; }

/* Text that is not JSON number text: a value error, unless it is not even UTF-8 (upb refuses
 * the whole frame then). */
static inline int not_number(const Slice *s) { return utf8_valid(s->p, s->n) ? ERR_VALUE : ERR_BAD; }

/* The exponent part of JSON number text at *pp, when there is one ("e" or "E", an optional sign,
 * digits; its magnitude capped below 10**6, far past any bound) as a signed value in *exp, 0
 * without one. Returns -1 when the part is malformed (no digit after the marker). */
static inline int number_exponent(const uint8_t **pp, const uint8_t *end, long *exp) {
    const uint8_t *p = *pp;
    long e = 0;
    int neg = 0;
    *exp = 0;
    if (!(p < end && (*p == 'e' || *p == 'E'))) return 0;
    p++;
    if (p < end && (*p == '-' || *p == '+')) neg = *p++ == '-';
    if (!is_digit(p, end)) return -1;
    for (; is_digit(p, end); p++)
        if (e < 100000) e = e * 10 + (*p - '0');
    *pp = p;
    *exp = neg ? -e : e;
    return 0;
}

/* A venue time (int64) -> ms as wire.to_ms reads it: None for 0, ERR_VALUE when negative. */
static inline int time_ms(int64_t v, PyObject **out) {
    if (v < 0) return ERR_VALUE;
    if (v == 0) {
        Py_INCREF(Py_None);
        *out = Py_None;
        return OK;
    }
    if (v < MAX_SECONDS) v *= 1000;
    else if (v < MAX_MILLIS) {
    } else if (v < MAX_MILLIS * 1000) v /= 1000;
    else v /= 1000000;
    *out = PyLong_FromLongLong((long long)v);
    return *out ? OK : ERR_PY;
}

/* symbol and channel strings cache: the same few arrive over and over */
#define SYM_CACHE 256
#define SYM_CACHE_LEN 96
static PyObject *sym_cache[SYM_CACHE];

/* The cache slot of a string: a hash of its length and of its last 16 bytes (symbols and
 * channel strings differ at the end); a hit is confirmed by comparing the whole string. */
static inline uint32_t cache_slot(const uint8_t *p, Py_ssize_t n) {
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, p + (n >= 16 ? n - 16 : 0), 8);
        memcpy(&b, p + n - 8, 8);
    } else {
        memcpy(&a, p, (size_t)n);
    }
    uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)n) * 0xC2B2AE3D27D4EB4FULL;
    return (uint32_t)(h >> 56); /* SYM_CACHE (256) slots */
}

static inline PyObject *make_symbol(const Slice *s) {
    if (s->n == 0) {
        Py_INCREF(empty_str);
        return empty_str;
    }
    if (s->n <= SYM_CACHE_LEN) {
        uint32_t slot = cache_slot(s->p, s->n);
        PyObject *hit = sym_cache[slot];
        /* cached strings are ASCII: equal bytes mean an ASCII string equal to it */
        if (hit != NULL && PyUnicode_GET_LENGTH(hit) == s->n && memcmp(PyUnicode_1BYTE_DATA(hit), s->p, s->n) == 0) {
            Py_INCREF(hit);
            return hit;
        }
        if (all_ascii(s->p, s->n)) {
            PyObject *obj = PyUnicode_DecodeASCII((const char *)s->p, s->n, "strict");
            if (obj == NULL) return NULL;
            Py_XDECREF(hit);
            Py_INCREF(obj);
            sym_cache[slot] = obj;
            return obj;
        }
    }
    return PyUnicode_DecodeUTF8((const char *)s->p, s->n, "strict");
}

static inline PyObject *make_str(const Slice *s) {
    if (s->n == 0) {
        Py_INCREF(empty_str);
        return empty_str;
    }
    if (all_ascii(s->p, s->n)) {
        PyObject *obj = PyUnicode_New(s->n, 127);
        if (obj != NULL) memcpy(PyUnicode_1BYTE_DATA(obj), s->p, s->n);
        return obj;
    }
    return PyUnicode_DecodeUTF8((const char *)s->p, s->n, "strict");
}

#endif /* CEXFEED_MEXC_PBWIRE_H */
