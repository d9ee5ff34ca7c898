/*
 * Compiled decoder of the hot MEXC spot push bodies (optional extension).
 *
 * decode_push(raw) -> (number, symbol, ts, body): the same contract and values as
 * cexfeed.exchanges.mexc.decode.decode_push_upb (see that module's docstring), checked by
 * tests on every capture and on generated frames. It walks the protobuf wire format of
 * PushDataV3ApiWrapper (mexc-protocol.md §2.1) and reads only the fields the events need,
 * with proto3 rules kept: unknown fields (any wire type, groups included) are skipped, a
 * known field with the wrong wire type is treated as unknown, the last value of a scalar wins,
 * repeated occurrences of the same oneof body merge, a different oneof member replaces the
 * previous one, strings must be valid UTF-8. Bodies other than 313/303/314/315 come back as
 * None: the caller decodes those with upb.
 *
 * Decimal text goes through the C runtime's correctly rounded PyOS_string_to_double; it must
 * only hold [0-9.+-eE] (anything else is malformed, as in decode.py's decimal()), so the value
 * is the one float(text) gives.
 */
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
#define MAX_DEPTH 64

enum { OK = 0, ERR_TRUNC = -1, ERR_BAD = -2, ERR_PY = -3 };

static PyObject *empty_str;

static void set_error(int code, const char *what) {
    if (code == ERR_PY) return; /* a Python exception is already set */
    PyErr_Format(PyExc_ValueError, "%s: %s", code == ERR_TRUNC ? "truncated" : "malformed", what);
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

static int skip_field(const uint8_t **pp, const uint8_t *end, uint32_t field, int wire, int depth);

static int skip_group(const uint8_t **pp, const uint8_t *end, uint32_t field, int depth) {
    if (depth > MAX_DEPTH) return ERR_BAD;
    while (*pp < end) {
        uint64_t key;
        int rc = read_varint(pp, end, &key);
        if (rc) return rc;
        uint32_t f = (uint32_t)(key >> 3);
        int w = (int)(key & 7);
        if (w == 4) return f == field ? OK : ERR_BAD;
        if (f == 0) return ERR_BAD;
        rc = skip_field(pp, end, f, w, depth + 1);
        if (rc) return rc;
    }
    return ERR_TRUNC;
}

static int skip_field(const uint8_t **pp, const uint8_t *end, uint32_t field, int wire, int depth) {
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

static int utf8_valid(const uint8_t *s, Py_ssize_t n) {
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

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Plain decimal text ([+-]digits[.digits]) whose digits fit 2**53 with at most 22 decimals:
 * both the integer and the power of ten are exact doubles, so one IEEE division gives the
 * correctly rounded value, the same float as float(text) (Clinger's fast path). */
static inline int fast_decimal(const uint8_t *p, Py_ssize_t n, double *out) {
    const uint8_t *end = p + n;
    int neg = 0, dot = 0, any = 0, frac = 0, sig = 0;
    uint64_t mant = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    for (; p < end; p++) {
        uint8_t c = *p;
        if (c >= '0' && c <= '9') {
            any = 1;
            if (mant || c != '0') {
                if (++sig > 16) return 0;
            }
            mant = mant * 10 + (c - '0');
            frac += dot;
        } else if (c == '.' && !dot) {
            dot = 1;
        } else {
            return 0;
        }
    }
    if (!any || mant > (1ULL << 53) || frac > 22) return 0;
    double v = (double)mant;
    if (frac) v /= POW10[frac];
    *out = neg ? -v : v;
    return 1;
}

static inline int plain_char(uint8_t c) { return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'; }

/* a venue decimal string -> float(text), "" -> 0.0. Only [0-9.+-eE] is a venue number: text
 * float() would still take ("1_000", " 5", "inf", other scripts' digits) is ERR_BAD, as in
 * decode.py's decimal(). */
static int parse_float(const Slice *s, double *out) {
    Py_ssize_t n = s->n;
    if (n == 0) {
        *out = 0.0;
        return OK;
    }
    if (fast_decimal(s->p, n, out)) return OK;
    for (Py_ssize_t i = 0; i < n; i++)
        if (!plain_char(s->p[i])) return ERR_BAD;
    if (n < 64) {
        char buf[64];
        memcpy(buf, s->p, n);
        buf[n] = 0;
        char *endp = NULL;
        double v = PyOS_string_to_double(buf, &endp, NULL);
        if (v == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return ERR_BAD;
        }
        if (endp != buf + n) return ERR_BAD;
        *out = v;
        return OK;
    }
    /* long digit strings: Python's own parser */
    PyObject *text = PyUnicode_DecodeASCII((const char *)s->p, n, "strict");
    if (text == NULL) return ERR_PY;
    PyObject *f = PyFloat_FromString(text);
    Py_DECREF(text);
    if (f == NULL) return ERR_PY;
    *out = PyFloat_AS_DOUBLE(f);
    Py_DECREF(f);
    return OK;
}

/* the value rules of cexfeed.wire: a price is in (0, 1e300), a size in [0, 1e300) */
static inline int price_ok(double v) { return v > 0.0 && v < 1e300; }
static inline int size_ok(double v) { return v >= 0.0 && v < 1e300; }

/* int(text) as a new reference, "" -> 0 */
static PyObject *parse_int(const Slice *s) {
    Py_ssize_t n = s->n;
    if (n == 0) return PyLong_FromLong(0);
    if (n <= 18) {
        long long v = 0;
        Py_ssize_t i = 0;
        for (; i < n; i++) {
            uint8_t c = s->p[i];
            if (c < '0' || c > '9') break;
            v = v * 10 + (c - '0');
        }
        if (i == n) return PyLong_FromLongLong(v);
    }
    PyObject *text = PyUnicode_DecodeUTF8((const char *)s->p, n, "strict");
    if (text == NULL) return NULL;
    PyObject *v = PyLong_FromUnicodeObject(text, 10);
    Py_DECREF(text);
    return v;
}

/* symbol strings cache: the same few symbols arrive over and over */
#define SYM_CACHE 256
static PyObject *sym_cache[SYM_CACHE];

static PyObject *make_symbol(const Slice *s) {
    if (s->n == 0) {
        Py_INCREF(empty_str);
        return empty_str;
    }
    if (s->n <= 40) {
        uint32_t h = 2166136261u;
        int ascii = 1;
        for (Py_ssize_t i = 0; i < s->n; i++) {
            h = (h ^ s->p[i]) * 16777619u;
            ascii &= s->p[i] < 0x80;
        }
        if (ascii) {
            PyObject *hit = sym_cache[h & (SYM_CACHE - 1)];
            if (hit != NULL && PyUnicode_GET_LENGTH(hit) == s->n && memcmp(PyUnicode_1BYTE_DATA(hit), s->p, s->n) == 0) {
                Py_INCREF(hit);
                return hit;
            }
            PyObject *obj = PyUnicode_DecodeASCII((const char *)s->p, s->n, "strict");
            if (obj == NULL) return NULL;
            Py_XDECREF(hit);
            Py_INCREF(obj);
            sym_cache[h & (SYM_CACHE - 1)] = obj;
            return obj;
        }
    }
    return PyUnicode_DecodeUTF8((const char *)s->p, s->n, "strict");
}

/* one {price, quantity} item -> (float, float) appended to list */
static int parse_level(const Slice *item, PyObject *list) {
    const uint8_t *p = item->p, *end = item->p + item->n;
    Slice price = {NULL, 0}, qty = {NULL, 0};
    int rc;
    while (p < end) {
        uint64_t key;
        if ((rc = read_varint(&p, end, &key))) return rc;
        uint32_t f = (uint32_t)(key >> 3);
        int w = (int)(key & 7);
        if (f == 0) return ERR_BAD;
        if ((f == 1 || f == 2) && w == 2) {
            Slice *dst = f == 1 ? &price : &qty;
            /* the kept value is checked by parse_float; an overwritten one here */
            if (dst->p != NULL && (rc = check_str(dst))) return rc;
            if ((rc = read_len(&p, end, dst))) return rc;
        } else if ((rc = skip_field(&p, end, f, w, 0))) {
            return rc;
        }
    }
    double pv, qv;
    if ((rc = parse_float(&price, &pv))) return rc;
    if ((rc = parse_float(&qty, &qv))) return rc;
    if (!price_ok(pv) || !size_ok(qv)) return ERR_BAD;
    PyObject *t = PyTuple_New(2);
    if (t == NULL) return ERR_PY;
    PyObject *a = PyFloat_FromDouble(pv), *b = PyFloat_FromDouble(qv);
    if (a == NULL || b == NULL) {
        Py_XDECREF(a);
        Py_XDECREF(b);
        Py_DECREF(t);
        return ERR_PY;
    }
    PyTuple_SET_ITEM(t, 0, a);
    PyTuple_SET_ITEM(t, 1, b);
    rc = PyList_Append(list, t);
    Py_DECREF(t);
    return rc ? ERR_PY : OK;
}

/* 313 aggre depth (limit == 0) or 303 limit depth (limit == 1) */
static PyObject *parse_depth(const Slice *slices, int count, int limit, int *err) {
    PyObject *asks = PyList_New(0), *bids = PyList_New(0);
    Slice from = {NULL, 0}, to = {NULL, 0};
    int rc = OK;
    if (asks == NULL || bids == NULL) {
        rc = ERR_PY;
        goto fail;
    }
    for (int i = 0; i < count; i++) {
        const uint8_t *p = slices[i].p, *end = slices[i].p + slices[i].n;
        while (p < end) {
            uint64_t key;
            Slice s;
            if ((rc = read_varint(&p, end, &key))) goto fail;
            uint32_t f = (uint32_t)(key >> 3);
            int w = (int)(key & 7);
            if (f == 0) {
                rc = ERR_BAD;
                goto fail;
            }
            if (w == 2 && (f == 1 || f == 2)) {
                if ((rc = read_len(&p, end, &s))) goto fail;
                if ((rc = parse_level(&s, f == 1 ? asks : bids))) goto fail;
            } else if (w == 2 && (f == 3 || f == 4 || (f == 5 && !limit))) {
                if ((rc = read_len(&p, end, &s))) goto fail;
                if ((rc = check_str(&s))) goto fail;
                if (f == 4) from = s;
                else if (f == 5) to = s;
            } else if ((rc = skip_field(&p, end, f, w, 0))) {
                goto fail;
            }
        }
    }
    PyObject *v_from = parse_int(&from);
    if (v_from == NULL) {
        rc = ERR_PY;
        goto fail;
    }
    PyObject *v_to;
    if (limit) {
        Py_INCREF(v_from);
        v_to = v_from;
    } else {
        v_to = parse_int(&to);
        if (v_to == NULL) {
            Py_DECREF(v_from);
            rc = ERR_PY;
            goto fail;
        }
    }
    PyObject *t = PyTuple_New(4);
    if (t == NULL) {
        Py_DECREF(v_from);
        Py_DECREF(v_to);
        rc = ERR_PY;
        goto fail;
    }
    PyTuple_SET_ITEM(t, 0, asks);
    PyTuple_SET_ITEM(t, 1, bids);
    PyTuple_SET_ITEM(t, 2, v_from);
    PyTuple_SET_ITEM(t, 3, v_to);
    return t;
fail:
    Py_XDECREF(asks);
    Py_XDECREF(bids);
    *err = rc;
    return NULL;
}

static int parse_deal(const Slice *item, PyObject *list) {
    const uint8_t *p = item->p, *end = item->p + item->n;
    Slice price = {NULL, 0}, qty = {NULL, 0}, tid = {NULL, 0};
    uint64_t trade_type = 0, time_ms = 0;
    int rc;
    while (p < end) {
        uint64_t key;
        if ((rc = read_varint(&p, end, &key))) return rc;
        uint32_t f = (uint32_t)(key >> 3);
        int w = (int)(key & 7);
        if (f == 0) return ERR_BAD;
        if (w == 2 && (f == 1 || f == 2 || f == 5)) {
            Slice *dst = f == 1 ? &price : (f == 2 ? &qty : &tid);
            /* kept values are checked when converted; an overwritten one here */
            if (dst->p != NULL && (rc = check_str(dst))) return rc;
            if ((rc = read_len(&p, end, dst))) return rc;
        } else if (w == 0 && (f == 3 || f == 4)) {
            if ((rc = read_varint(&p, end, f == 3 ? &trade_type : &time_ms))) return rc;
        } else if ((rc = skip_field(&p, end, f, w, 0))) {
            return rc;
        }
    }
    double pv, qv;
    if ((rc = parse_float(&price, &pv))) return rc;
    if ((rc = parse_float(&qty, &qv))) return rc;
    if (!price_ok(pv) || !size_ok(qv)) return ERR_BAD;
    PyObject *t = PyTuple_New(5);
    if (t == NULL) return ERR_PY;
    PyObject *tid_obj;
    if (tid.n == 0) {
        Py_INCREF(empty_str);
        tid_obj = empty_str;
    } else if (all_ascii(tid.p, tid.n)) {
        tid_obj = PyUnicode_New(tid.n, 127);
        if (tid_obj != NULL) memcpy(PyUnicode_1BYTE_DATA(tid_obj), tid.p, tid.n);
    } else {
        tid_obj = PyUnicode_DecodeUTF8((const char *)tid.p, tid.n, "strict");
    }
    PyObject *items[5] = {PyFloat_FromDouble(pv), PyFloat_FromDouble(qv), PyLong_FromLong((long)(int32_t)(uint32_t)trade_type),
                          PyLong_FromLongLong((long long)(int64_t)time_ms), tid_obj};
    for (int i = 0; i < 5; i++) {
        if (items[i] == NULL) {
            for (int k = 0; k < 5; k++) Py_XDECREF(items[k]);
            Py_DECREF(t);
            return ERR_PY;
        }
    }
    for (int i = 0; i < 5; i++) PyTuple_SET_ITEM(t, i, items[i]);
    rc = PyList_Append(list, t);
    Py_DECREF(t);
    return rc ? ERR_PY : OK;
}

/* 314 aggre deals */
static PyObject *parse_deals(const Slice *slices, int count, int *err) {
    PyObject *deals = PyList_New(0);
    int rc = OK;
    if (deals == NULL) {
        *err = ERR_PY;
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        const uint8_t *p = slices[i].p, *end = slices[i].p + slices[i].n;
        while (p < end) {
            uint64_t key;
            Slice s;
            if ((rc = read_varint(&p, end, &key))) goto fail;
            uint32_t f = (uint32_t)(key >> 3);
            int w = (int)(key & 7);
            if (f == 0) {
                rc = ERR_BAD;
                goto fail;
            }
            if (w == 2 && f == 1) {
                if ((rc = read_len(&p, end, &s))) goto fail;
                if ((rc = parse_deal(&s, deals))) goto fail;
            } else if (w == 2 && f == 2) {
                if ((rc = read_len(&p, end, &s))) goto fail;
                if ((rc = check_str(&s))) goto fail;
            } else if ((rc = skip_field(&p, end, f, w, 0))) {
                goto fail;
            }
        }
    }
    return deals;
fail:
    Py_DECREF(deals);
    *err = rc;
    return NULL;
}

/* 315 aggre book ticker */
static PyObject *parse_book_ticker(const Slice *slices, int count, int *err) {
    Slice fields[5] = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
    int rc = OK;
    for (int i = 0; i < count; i++) {
        const uint8_t *p = slices[i].p, *end = slices[i].p + slices[i].n;
        while (p < end) {
            uint64_t key;
            if ((rc = read_varint(&p, end, &key))) goto fail;
            uint32_t f = (uint32_t)(key >> 3);
            int w = (int)(key & 7);
            if (f == 0) {
                rc = ERR_BAD;
                goto fail;
            }
            if (w == 2 && f >= 1 && f <= 5) {
                /* kept values are checked when converted; an overwritten one here */
                if (fields[f - 1].p != NULL && (rc = check_str(&fields[f - 1]))) goto fail;
                if ((rc = read_len(&p, end, &fields[f - 1]))) goto fail;
            } else if ((rc = skip_field(&p, end, f, w, 0))) {
                goto fail;
            }
        }
    }
    double v[4];
    for (int k = 0; k < 4; k++) {
        if ((rc = parse_float(&fields[k], &v[k]))) goto fail;
        /* an absent side is 0 / 0; never negative, NaN or infinite */
        if (!size_ok(v[k])) {
            rc = ERR_BAD;
            goto fail;
        }
    }
    PyObject *version = parse_int(&fields[4]);
    if (version == NULL) {
        rc = ERR_PY;
        goto fail;
    }
    PyObject *t = PyTuple_New(5);
    if (t == NULL) {
        Py_DECREF(version);
        rc = ERR_PY;
        goto fail;
    }
    for (int k = 0; k < 4; k++) {
        PyObject *f = PyFloat_FromDouble(v[k]);
        if (f == NULL) {
            Py_DECREF(version);
            Py_DECREF(t);
            rc = ERR_PY;
            goto fail;
        }
        PyTuple_SET_ITEM(t, k, f);
    }
    PyTuple_SET_ITEM(t, 4, version);
    return t;
fail:
    *err = rc;
    return NULL;
}

static PyObject *decode_push(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const uint8_t *p = (const uint8_t *)view.buf, *end = p + view.len;
    Slice symbol = {NULL, 0};
    Slice body[MAX_SLICES];
    int body_count = 0;
    uint32_t body_no = 0, unknown_body = 0;
    uint64_t send_time = 0, create_time = 0;
    int rc = OK;
    PyObject *result = NULL, *body_obj = NULL, *sym_obj = NULL;

    while (p < end) {
        uint64_t key;
        Slice s;
        if ((rc = read_varint(&p, end, &key))) goto fail;
        uint32_t f = (uint32_t)(key >> 3);
        int w = (int)(key & 7);
        if (f == 0 || key >> 32) {
            rc = ERR_BAD;
            goto fail;
        }
        if (w == 2 && f >= 301 && f <= 315) {
            if ((rc = read_len(&p, end, &s))) goto fail;
            if (f != body_no) {
                body_no = f;
                body_count = 0;
            }
            if (body_count == MAX_SLICES) {
                rc = ERR_BAD;
                goto fail;
            }
            body[body_count++] = s;
        } else if (w == 2 && (f == 1 || f == 3 || f == 4)) {
            if ((rc = read_len(&p, end, &s))) goto fail;
            if ((rc = check_str(&s))) goto fail;
            if (f == 3) symbol = s;
        } else if (w == 0 && (f == 5 || f == 6)) {
            if ((rc = read_varint(&p, end, f == 5 ? &create_time : &send_time))) goto fail;
        } else {
            if (f >= 300 && unknown_body == 0) unknown_body = f;
            if ((rc = skip_field(&p, end, f, w, 0))) goto fail;
        }
    }
    switch (body_no) {
    case 313:
        body_obj = parse_depth(body, body_count, 0, &rc);
        break;
    case 303:
        body_obj = parse_depth(body, body_count, 1, &rc);
        break;
    case 314:
        body_obj = parse_deals(body, body_count, &rc);
        break;
    case 315:
        body_obj = parse_book_ticker(body, body_count, &rc);
        break;
    case 0:
        body_no = unknown_body;
        /* fall through */
    default:
        Py_INCREF(Py_None);
        body_obj = Py_None;
    }
    if (body_obj == NULL) goto fail;
    sym_obj = make_symbol(&symbol);
    if (sym_obj == NULL) {
        rc = ERR_PY;
        goto fail;
    }
    int64_t ts = (int64_t)(send_time ? send_time : create_time);
    result = Py_BuildValue("(INLN)", (unsigned int)body_no, sym_obj, (long long)ts, body_obj);
    PyBuffer_Release(&view);
    return result;
fail:
    Py_XDECREF(body_obj);
    Py_XDECREF(sym_obj);
    PyBuffer_Release(&view);
    set_error(rc, "MEXC push frame");
    return NULL;
}

static PyMethodDef methods[] = {
    {"decode_push", decode_push, METH_O,
     "decode_push(raw) -> (body number, symbol, ts ms, body); see cexfeed.exchanges.mexc.decode."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastpb", "Compiled decoder of hot MEXC push bodies.", -1, methods};

PyMODINIT_FUNC PyInit__fastpb(void) {
    empty_str = PyUnicode_FromStringAndSize("", 0);
    if (empty_str == NULL) return NULL;
    return PyModule_Create(&module);
}
