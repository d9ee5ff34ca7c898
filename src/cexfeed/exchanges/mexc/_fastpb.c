/*
 * Compiled decoder of the hot MEXC spot push bodies (optional extension).
 *
 * decode_push(raw) -> Push(number, symbol, ts, body, channel): the same contract, types and values as
 * cexfeed.exchanges.mexc.decode.decode_push_upb (see that module's docstring), checked by
 * tests on every capture and on generated frames. It walks the protobuf wire format of
 * PushDataV3ApiWrapper (mexc-protocol.md §2.1) and reads only the fields the events need,
 * with proto3 rules kept: unknown fields (any wire type, groups included) are skipped, a
 * known field with the wrong wire type is treated as unknown, the last value of a scalar wins,
 * repeated occurrences of the same oneof body merge, strings must be valid UTF-8, a field
 * number must be in [1, 2**29 - 1] at every nesting level (as upb requires). Bodies other than
 * 313/303/314/315/308 come back as None: the caller decodes those with upb. A frame that sets
 * two different oneof bodies (the later one replaces the earlier) is handed whole to the upb
 * decoder, which then also checks the replaced body.
 *
 * The result types (NamedTuples of decode.py) and that upb decoder are given once by
 * set_types(); instances are built directly (a NamedTuple is a tuple with a class).
 *
 * Value rules (cexfeed.wire): a number is JSON number text (wire.NUMBER), converted to the
 * float float(text) gives (exact fast path, else the C runtime's correctly rounded
 * PyOS_string_to_double); a price is in (0, MAX_VALUE), a size in [0, MAX_VALUE); a version
 * follows wire.seq_id (integer text without leading zeros, or integral number text up to
 * 2**53, in [0, MAX_SEQ]); a time (push sendTime/createTime, deal time, kline window start)
 * is an int64 >= 0 read in ms by its magnitude as wire.to_ms reads it (below MAX_SECONDS s,
 * below MAX_MILLIS ms, then µs, then ns; 0: None). An empty (absent) string is 0.
 * A deal whose values break these rules is skipped and counted (DealsBody.bad); any other
 * value error makes the frame malformed.
 */
#include "_pbpush.h"

/* set_types(): Push, DepthBody, Deal, DealsBody, BookTickerBody, KlineBody, the upb decode_push */
#define N_TYPES 6
static PyTypeObject *push_type, *depth_type, *deal_type, *deals_type, *ticker_type, *kline_type;
static PyObject *fallback;

/* the value rules of the body strings: numbers, prices, sizes, versions */
#include "_fastpb_values.h"

/* one {price, quantity} item -> (float, float) appended to list */
static int parse_level(const Slice *item, PyObject *list) {
    const uint8_t *p = item->p, *end = item->p + item->n;
    Slice price = {NULL, 0}, qty = {NULL, 0};
    int rc;
    while (p < end) {
        uint32_t f;
        int w;
        if ((rc = read_key(&p, end, &f, &w))) return rc;
        if ((f == 1 || f == 2) && w == 2) {
            Slice *dst = f == 1 ? &price : &qty;
            /* the kept value is checked by its parser; an overwritten one here */
            if (dst->p != NULL && (rc = check_str(dst))) return rc;
            if ((rc = read_len(&p, end, dst))) return rc;
        } else if ((rc = skip_field(&p, end, f, w, 2))) {
            return rc;
        }
    }
    double pv, qv;
    if ((rc = parse_price(&price, &pv))) return rc;
    if ((rc = parse_size(&qty, &qv))) return rc;
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
    /* two floats are never part of a cycle: the collector need not visit the pair */
    PyObject_GC_UnTrack(t);
    rc = PyList_Append(list, t);
    Py_DECREF(t);
    return rc ? ERR_PY : OK;
}

/* 313 aggre depth (limit == 0) or 303 limit depth (limit == 1) -> DepthBody */
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
            uint32_t f;
            int w;
            Slice s;
            if ((rc = read_key(&p, end, &f, &w))) goto fail;
            if (w == 2 && (f == 1 || f == 2)) {
                if ((rc = read_len(&p, end, &s))) goto fail;
                if ((rc = parse_level(&s, f == 1 ? asks : bids))) goto fail;
            } else if (w == 2 && (f == 3 || f == 4 || (f == 5 && !limit))) {
                if ((rc = read_len(&p, end, &s))) goto fail;
                if ((rc = check_str(&s))) goto fail;
                if (f == 4) from = s;
                else if (f == 5) to = s;
            } else if ((rc = skip_field(&p, end, f, w, 1))) {
                goto fail;
            }
        }
    }
    PyObject *v_from, *v_to;
    if ((rc = parse_seq(&from, &v_from))) goto fail;
    if (limit) {
        Py_INCREF(v_from);
        v_to = v_from;
    } else if ((rc = parse_seq(&to, &v_to))) {
        Py_DECREF(v_from);
        goto fail;
    }
    PyObject *items[4] = {asks, bids, v_from, v_to};
    PyObject *body = record(depth_type, items, 4);
    if (body == NULL) *err = ERR_PY;
    return body;
fail:
    Py_XDECREF(asks);
    Py_XDECREF(bids);
    *err = rc;
    return NULL;
}

/* one deal -> Deal appended to list; ERR_VALUE when a value breaks the rules (skipped) */
static int parse_deal(const Slice *item, PyObject *list) {
    const uint8_t *p = item->p, *end = item->p + item->n;
    Slice price = {NULL, 0}, qty = {NULL, 0}, tid = {NULL, 0};
    uint64_t trade_type = 0, deal_time = 0;
    int rc;
    while (p < end) {
        uint32_t f;
        int w;
        if ((rc = read_key(&p, end, &f, &w))) return rc;
        if (w == 2 && (f == 1 || f == 2 || f == 5)) {
            Slice *dst = f == 1 ? &price : (f == 2 ? &qty : &tid);
            /* kept values are checked when converted; an overwritten one here */
            if (dst->p != NULL && (rc = check_str(dst))) return rc;
            if ((rc = read_len(&p, end, dst))) return rc;
        } else if (w == 0 && (f == 3 || f == 4)) {
            if ((rc = read_varint(&p, end, f == 3 ? &trade_type : &deal_time))) return rc;
        } else if ((rc = skip_field(&p, end, f, w, 2))) {
            return rc;
        }
    }
    if ((rc = check_str(&tid))) return rc;
    double pv, qv;
    /* UTF-8 of both numbers first: a frame error outranks a value error */
    if ((rc = check_str(&price)) || (rc = check_str(&qty))) return rc;
    int value_rc = parse_price(&price, &pv);
    if (value_rc == OK) value_rc = parse_size(&qty, &qv);
    if (value_rc == ERR_PY) return ERR_PY;
    PyObject *t = NULL;
    if (value_rc || (value_rc = time_ms((int64_t)deal_time, &t))) return value_rc == ERR_PY ? ERR_PY : ERR_VALUE;
    PyObject *items[5] = {PyFloat_FromDouble(pv), PyFloat_FromDouble(qv), PyLong_FromLong((long)(int32_t)(uint32_t)trade_type),
                          t, make_str(&tid)};
    PyObject *deal = record_checked(deal_type, items, 5);
    if (deal == NULL) return ERR_PY;
    rc = PyList_Append(list, deal);
    Py_DECREF(deal);
    return rc ? ERR_PY : OK;
}

/* 314 aggre deals -> DealsBody */
static PyObject *parse_deals(const Slice *slices, int count, int *err) {
    PyObject *deals = PyList_New(0);
    long bad = 0;
    int rc = OK;
    if (deals == NULL) {
        *err = ERR_PY;
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        const uint8_t *p = slices[i].p, *end = slices[i].p + slices[i].n;
        while (p < end) {
            uint32_t f;
            int w;
            Slice s;
            if ((rc = read_key(&p, end, &f, &w))) goto fail;
            if (w == 2 && f == 1) {
                if ((rc = read_len(&p, end, &s))) goto fail;
                rc = parse_deal(&s, deals);
                if (rc == ERR_VALUE) {
                    bad++;
                    rc = OK;
                } else if (rc) {
                    goto fail;
                }
            } else if (w == 2 && f == 2) {
                if ((rc = read_len(&p, end, &s))) goto fail;
                if ((rc = check_str(&s))) goto fail;
            } else if ((rc = skip_field(&p, end, f, w, 1))) {
                goto fail;
            }
        }
    }
    PyObject *items[2] = {deals, PyLong_FromLong(bad)};
    PyObject *body = record_checked(deals_type, items, 2);
    if (body == NULL) *err = ERR_PY;
    return body;
fail:
    Py_DECREF(deals);
    *err = rc;
    return NULL;
}

/* The scalar fields of a body (pieces `slices`, the last value of a field kept): string fields
 * 1..n into fields[1..n] (fields[0] unused), a varint field `varint_field` (0: none) into
 * *varint, anything else skipped. Every string kept is checked for UTF-8. */
static int body_fields(const Slice *slices, int count, Slice *fields, uint32_t n, uint32_t varint_field, uint64_t *varint) {
    int rc;
    for (int i = 0; i < count; i++) {
        const uint8_t *p = slices[i].p, *end = slices[i].p + slices[i].n;
        while (p < end) {
            uint32_t f;
            int w;
            if ((rc = read_key(&p, end, &f, &w))) return rc;
            if (w == 2 && f >= 1 && f <= n && f != varint_field) {
                /* an overwritten value must still be UTF-8 */
                if (fields[f].p != NULL && (rc = check_str(&fields[f]))) return rc;
                if ((rc = read_len(&p, end, &fields[f]))) return rc;
            } else if (w == 0 && f == varint_field && f != 0) {
                if ((rc = read_varint(&p, end, varint))) return rc;
            } else if ((rc = skip_field(&p, end, f, w, 1))) {
                return rc;
            }
        }
    }
    for (uint32_t k = 1; k <= n; k++)
        if ((rc = check_str(&fields[k]))) return rc;
    return OK;
}

/* 315 aggre book ticker -> BookTickerBody */
static PyObject *parse_book_ticker(const Slice *slices, int count, int *err) {
    /* 1 bid price, 2 bid qty, 3 ask price, 4 ask qty, 5 version */
    Slice fields[6] = {{NULL, 0}};
    int rc = body_fields(slices, count, fields, 5, 0, NULL);
    if (rc) goto fail;
    /* every value is a number >= 0 ("" absent: 0); a side is quoted only when its price and
     * its quantity are both above 0, else both are None (wire.quotes) */
    double v[4];
    for (int k = 0; k < 4; k++)
        if ((rc = parse_size(&fields[k + 1], &v[k]))) goto fail;
    PyObject *items[5];
    for (int k = 0; k < 4; k += 2) {
        if (v[k] > 0.0 && v[k + 1] > 0.0) {
            items[k] = PyFloat_FromDouble(v[k]);
            items[k + 1] = PyFloat_FromDouble(v[k + 1]);
        } else {
            Py_INCREF(Py_None);
            Py_INCREF(Py_None);
            items[k] = items[k + 1] = Py_None;
        }
    }
    rc = parse_seq(&fields[5], &items[4]);
    if (rc) {
        for (int j = 0; j < 4; j++) Py_XDECREF(items[j]);
        goto fail;
    }
    PyObject *body = record_checked(ticker_type, items, 5);
    if (body == NULL) *err = ERR_PY;
    return body;
fail:
    *err = rc;
    return NULL;
}

/* a size, None when absent (a new reference in *out) */
static int opt_size(const Slice *s, PyObject **out) {
    double v;
    int rc;
    if (s->n == 0) {
        Py_INCREF(Py_None);
        *out = Py_None;
        return OK;
    }
    if ((rc = parse_size(s, &v))) return rc;
    *out = PyFloat_FromDouble(v);
    return *out ? OK : ERR_PY;
}

/* 308 kline -> KlineBody */
static PyObject *parse_kline(const Slice *slices, int count, int *err) {
    /* strings: 1 interval, 3 open, 4 close, 5 high, 6 low, 7 volume, 8 amount */
    Slice fields[9] = {{NULL, 0}};
    uint64_t window_start = 0;
    int rc = body_fields(slices, count, fields, 8, 2, &window_start);
    if (rc) goto fail;
    /* open, high, low, close (wire order of KlineBody) */
    static const int price_fields[4] = {3, 5, 6, 4};
    double prices[4];
    for (int k = 0; k < 4; k++)
        if ((rc = parse_price(&fields[price_fields[k]], &prices[k]))) goto fail;
    PyObject *start = NULL;
    if ((rc = time_ms((int64_t)window_start, &start))) goto fail;
    PyObject *items[8] = {make_symbol(&fields[1]), start, NULL, NULL, NULL, NULL, NULL, NULL};
    for (int k = 0; k < 4; k++) items[2 + k] = PyFloat_FromDouble(prices[k]);
    if ((rc = opt_size(&fields[7], &items[6])) || (rc = opt_size(&fields[8], &items[7]))) {
        for (int k = 0; k < 8; k++) Py_XDECREF(items[k]);
        goto fail;
    }
    PyObject *body = record_checked(kline_type, items, 8);
    if (body == NULL) *err = ERR_PY;
    return body;
fail:
    *err = rc;
    return NULL;
}

static PyObject *decode_push(PyObject *self, PyObject *arg) {
    if (push_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_fastpb.set_types() was not called");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    Wrapper w;
    PyObject *body_obj = NULL;
    int rc = walk_wrapper((const uint8_t *)view.buf, (const uint8_t *)view.buf + view.len, &w, 1);
    if (rc) goto fail;
    if (w.replaced) {
        /* a replaced oneof body must still be well-formed: upb checks it all */
        PyBuffer_Release(&view);
        return PyObject_CallOneArg(fallback, arg);
    }
    switch (w.body_no) {
    case 313:
        body_obj = parse_depth(w.body, w.body_count, 0, &rc);
        break;
    case 303:
        body_obj = parse_depth(w.body, w.body_count, 1, &rc);
        break;
    case 314:
        body_obj = parse_deals(w.body, w.body_count, &rc);
        break;
    case 315:
        body_obj = parse_book_ticker(w.body, w.body_count, &rc);
        break;
    case 308:
        body_obj = parse_kline(w.body, w.body_count, &rc);
        break;
    default:
        Py_INCREF(Py_None);
        body_obj = Py_None;
    }
    if (body_obj == NULL) goto fail;
    PyObject *push = push_record(push_type, &w, body_obj, &rc);
    if (push == NULL) goto fail;
    PyBuffer_Release(&view);
    return push;
fail:
    PyBuffer_Release(&view);
    set_error(rc, "MEXC push frame");
    return NULL;
}

/* set_types(Push, DepthBody, Deal, DealsBody, BookTickerBody, KlineBody, upb_decode_push) */
static PyObject *set_types(PyObject *self, PyObject *args) {
    PyObject *types[N_TYPES], *upb;
    if (!PyArg_ParseTuple(args, "OOOOOOO:set_types", &types[0], &types[1], &types[2], &types[3], &types[4], &types[5], &upb)) return NULL;
    for (int i = 0; i < N_TYPES; i++) {
        if (!is_namedtuple(types[i])) {
            PyErr_SetString(PyExc_TypeError, "set_types: every type must be a NamedTuple");
            return NULL;
        }
    }
    if (!PyCallable_Check(upb)) {
        PyErr_SetString(PyExc_TypeError, "set_types: the upb decoder must be callable");
        return NULL;
    }
    PyTypeObject **slots[N_TYPES] = {&push_type, &depth_type, &deal_type, &deals_type, &ticker_type, &kline_type};
    for (int i = 0; i < N_TYPES; i++) {
        Py_INCREF(types[i]);
        Py_XSETREF(*slots[i], (PyTypeObject *)types[i]);
    }
    Py_INCREF(upb);
    Py_XSETREF(fallback, upb);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"decode_push", decode_push, METH_O,
     "decode_push(raw) -> Push(number, symbol, ts ms, body); see cexfeed.exchanges.mexc.decode."},
    {"set_types", set_types, METH_VARARGS,
     "set_types(Push, DepthBody, Deal, DealsBody, BookTickerBody, KlineBody, upb_decode_push): the result types and the "
     "decoder of frames this one hands over (called once by cexfeed.exchanges.mexc.decode)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastpb", "Compiled decoder of hot MEXC push bodies.", -1, methods};

PyMODINIT_FUNC PyInit__fastpb(void) {
    PyObject *m = create_module(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObject(m, "MAX_VALUE", PyFloat_FromDouble(MAX_VALUE)) < 0 || PyModule_AddObject(m, "MAX_SEQ", PyLong_FromLongLong(MAX_SEQ)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
