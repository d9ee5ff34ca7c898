/*
 * Compiled decoder of the MEXC spot private push bodies (optional extension).
 *
 * decode_private(raw) -> Push(number, symbol, ts, body, channel): the same contract, types and
 * values as cexfeed.exchanges.mexc.private_decode.decode_private_upb (see that module's
 * docstring) and its pure-Python twin decode_private_py, held to both by tests. It walks the
 * PushDataV3ApiWrapper (mexc-protocol.md §2.1) and reads the three private bodies (§2.3:
 * 304 orders, 306 deals, 307 account) into OrderBody / DealBody / AccountBody; any other body
 * comes back as None. proto3 rules as upb keeps them: an absent field is its default, the last
 * value of a field wins, repeated occurrences of the body merge, a known field with another
 * wire type is an unknown field, unknown fields are skipped, every known string field must be
 * UTF-8. A frame whose oneof body is replaced by another one (or comes in more than MAX_SLICES
 * pieces) is handed whole to the upb decoder. A frame without a known body gets the number of
 * its first unknown field >= 300; when that one is one of our body numbers (sent with another
 * wire type) the frame is malformed, as on the upb reading.
 *
 * Value rules (cexfeed.wire): an account value is JSON number text (wire.NUMBER) made into a
 * decimal.Decimal of that text, with a magnitude below MAX_AMOUNT (1e300), None when the field
 * is absent; a time is an int64 >= 0 read in ms by its magnitude (wire.to_ms; 0: None); int32
 * codes are kept as sent. A value outside the rules makes the frame malformed (ValueError).
 *
 * set_types() gives the result types (NamedTuples), the Decimal type, the bound and the upb
 * decoder once. Decimals of recent texts are kept in a small cache (a Decimal is immutable).
 */
#include "_pbwire.h"

static PyTypeObject *push_type, *order_type, *deal_type, *account_type;
static PyObject *decimal_type, *max_amount, *min_amount, *fallback;

/* the kinds of field a body reads */
enum { K_NONE = 0, K_STR, K_SYM, K_DEC, K_I32, K_BOOL, K_TIME, K_CHECK_STR, K_SKIP_INT };

typedef struct {
    uint8_t kind;
    uint8_t slot;
} FieldSpec;

typedef struct {
    const FieldSpec *fields; /* indexed by field number, 0 unused */
    uint32_t n_fields;       /* the largest field number known */
    int n_slots;
    PyTypeObject **type;
} BodySpec;

/* 304 PrivateOrdersV3Api: OrderBody slots in field order; 17-26 only checked */
static const FieldSpec ORDER_FIELDS[27] = {
    {K_NONE, 0},      {K_STR, 0},       {K_STR, 1},       {K_DEC, 2},       {K_DEC, 3},       {K_DEC, 4},       {K_DEC, 5},
    {K_I32, 6},       {K_I32, 7},       {K_BOOL, 8},      {K_DEC, 9},       {K_DEC, 10},      {K_DEC, 11},      {K_DEC, 12},
    {K_DEC, 13},      {K_I32, 14},      {K_TIME, 15},     {K_CHECK_STR, 0}, {K_SKIP_INT, 0},  {K_CHECK_STR, 0}, {K_SKIP_INT, 0},
    {K_CHECK_STR, 0}, {K_CHECK_STR, 0}, {K_CHECK_STR, 0}, {K_CHECK_STR, 0}, {K_CHECK_STR, 0}, {K_CHECK_STR, 0},
};
/* 306 PrivateDealsV3Api */
static const FieldSpec DEAL_FIELDS[13] = {
    {K_NONE, 0}, {K_DEC, 0}, {K_DEC, 1}, {K_DEC, 2}, {K_I32, 3}, {K_BOOL, 4}, {K_BOOL, 5},
    {K_STR, 6},  {K_STR, 7}, {K_STR, 8}, {K_DEC, 9}, {K_SYM, 10}, {K_TIME, 11},
};
/* 307 PrivateAccountV3Api */
static const FieldSpec ACCOUNT_FIELDS[9] = {
    {K_NONE, 0}, {K_SYM, 0}, {K_SYM, 1}, {K_DEC, 2}, {K_DEC, 3}, {K_DEC, 4}, {K_DEC, 5}, {K_SYM, 6}, {K_TIME, 7},
};
static const BodySpec ORDERS = {ORDER_FIELDS, 26, 16, &order_type};
static const BodySpec DEALS = {DEAL_FIELDS, 12, 12, &deal_type};
static const BodySpec ACCOUNT = {ACCOUNT_FIELDS, 8, 8, &account_type};
#define MAX_BODY_SLOTS 16

/* JSON number text (wire.NUMBER); *bounded: its magnitude is surely below 1e300 (integer
 * digits plus exponent at most 299); anything else is checked against the bound by Decimal. */
static int number_text(const Slice *s, int *bounded) {
    const uint8_t *p = s->p, *end = s->p + s->n;
    long digits = 0, exp = 0;
    int exp_neg = 0;
    if (p < end && *p == '-') p++;
    if (!is_digit(p, end)) return not_number(s);
    if (*p == '0') {
        p++;
        digits = 1;
    } else {
        for (; is_digit(p, end); p++) digits++;
    }
    if (p < end && *p == '.') {
        p++;
        if (!is_digit(p, end)) return not_number(s);
        while (is_digit(p, end)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '-' || *p == '+')) exp_neg = *p++ == '-';
        if (!is_digit(p, end)) return not_number(s);
        for (; is_digit(p, end); p++)
            if (exp < 100000) exp = exp * 10 + (*p - '0');
    }
    if (p != end) return not_number(s);
    *bounded = digits + (exp_neg ? -exp : exp) <= 299;
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
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ULL;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ULL;
    return (uint32_t)(h >> 40) & (DEC_CACHE - 1);
}

/* an account value: None when absent, else the Decimal of its text (a new reference in *out) */
static int make_amount(const Slice *s, PyObject **out) {
    if (s->n == 0) {
        Py_INCREF(Py_None);
        *out = Py_None;
        return OK;
    }
    int bounded = 0, rc = number_text(s, &bounded);
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
    /* the grammar is ASCII */
    PyObject *text = PyUnicode_New(s->n, 127);
    if (text == NULL) return ERR_PY;
    memcpy(PyUnicode_1BYTE_DATA(text), s->p, s->n);
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

/* One private body from its pieces (the last value of a field wins) -> its NamedTuple */
static PyObject *parse_body(const BodySpec *spec, const Slice *pieces, int count, int *err) {
    Slice strs[MAX_BODY_SLOTS];
    uint64_t ints[MAX_BODY_SLOTS];
    PyObject *items[MAX_BODY_SLOTS];
    int rc = OK;
    memset(strs, 0, sizeof(strs));
    memset(ints, 0, sizeof(ints));
    for (int i = 0; i < count; i++) {
        const uint8_t *p = pieces[i].p, *end = pieces[i].p + pieces[i].n;
        while (p < end) {
            uint32_t f;
            int w;
            if ((rc = read_key(&p, end, &f, &w))) goto fail;
            int kind = f <= spec->n_fields ? spec->fields[f].kind : K_NONE;
            int want = kind == K_STR || kind == K_SYM || kind == K_DEC || kind == K_CHECK_STR ? 2 : 0;
            if (kind == K_NONE || w != want) {
                if ((rc = skip_field(&p, end, f, w, 1))) goto fail;
            } else if (w == 2) {
                Slice s;
                if ((rc = read_len(&p, end, &s)) || (rc = check_str(&s))) goto fail;
                if (kind != K_CHECK_STR) strs[spec->fields[f].slot] = s;
            } else {
                uint64_t v;
                if ((rc = read_varint(&p, end, &v))) goto fail;
                if (kind != K_SKIP_INT) ints[spec->fields[f].slot] = v;
            }
        }
    }
    for (uint32_t f = 1; f <= spec->n_fields; f++) {
        const FieldSpec *fs = &spec->fields[f];
        int k = fs->slot;
        switch (fs->kind) {
        case K_STR:
            items[k] = make_str(&strs[k]);
            break;
        case K_SYM:
            items[k] = make_symbol(&strs[k]);
            break;
        case K_DEC:
            rc = make_amount(&strs[k], &items[k]);
            break;
        case K_I32:
            items[k] = PyLong_FromLong((long)(int32_t)(uint32_t)ints[k]);
            break;
        case K_BOOL:
            items[k] = PyBool_FromLong(ints[k] != 0);
            break;
        case K_TIME:
            rc = time_ms((int64_t)ints[k], &items[k]);
            break;
        default:
            continue;
        }
        if (rc == OK && items[k] == NULL) rc = ERR_PY;
        if (rc) {
            /* slots are filled in field order: release the ones made so far */
            for (uint32_t g = 1; g < f; g++) {
                int kind = spec->fields[g].kind;
                if (kind != K_CHECK_STR && kind != K_SKIP_INT && kind != K_NONE) Py_DECREF(items[spec->fields[g].slot]);
            }
            goto fail;
        }
    }
    PyObject *body = record(*spec->type, items, spec->n_slots);
    if (body == NULL) *err = ERR_PY;
    return body;
fail:
    *err = rc;
    return NULL;
}

static PyObject *decode_private(PyObject *self, PyObject *arg) {
    if (push_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_privpb.set_types() was not called");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const uint8_t *p = (const uint8_t *)view.buf, *end = p + view.len;
    Slice symbol = {NULL, 0}, channel = {NULL, 0};
    Slice body[MAX_SLICES];
    int body_count = 0, replaced = 0;
    uint32_t body_no = 0, first_unknown = 0;
    uint64_t send_time = 0, create_time = 0;
    int rc = OK;
    PyObject *body_obj = NULL, *sym_obj = NULL, *ts_obj = NULL, *chan_obj = NULL;

    while (p < end) {
        uint32_t f;
        int w;
        Slice s;
        if ((rc = read_key(&p, end, &f, &w))) goto fail;
        if (w == 2 && f >= 301 && f <= 315) {
            if ((rc = read_len(&p, end, &s))) goto fail;
            if (f != body_no) {
                replaced |= body_no != 0;
                body_no = f;
                body_count = 0;
            }
            if (body_count == MAX_SLICES) replaced = 1;
            else body[body_count++] = s;
        } else if (w == 2 && (f == 1 || f == 3 || f == 4)) {
            if ((rc = read_len(&p, end, &s)) || (rc = check_str(&s))) goto fail;
            if (f == 3) symbol = s;
            else if (f == 1) channel = s;
        } else if (w == 0 && (f == 5 || f == 6)) {
            if ((rc = read_varint(&p, end, f == 5 ? &create_time : &send_time))) goto fail;
        } else {
            if (f >= 300 && first_unknown == 0) first_unknown = f;
            if ((rc = skip_field(&p, end, f, w, 0))) goto fail;
        }
    }
    if (replaced) {
        PyBuffer_Release(&view);
        return PyObject_CallOneArg(fallback, arg);
    }
    switch (body_no) {
    case 304:
        body_obj = parse_body(&ORDERS, body, body_count, &rc);
        break;
    case 306:
        body_obj = parse_body(&DEALS, body, body_count, &rc);
        break;
    case 307:
        body_obj = parse_body(&ACCOUNT, body, body_count, &rc);
        break;
    case 0:
        /* no body of ours: the first unknown field >= 300 names a newer body, unless it is one
         * of ours with another wire type */
        if (first_unknown >= 301 && first_unknown <= 315) {
            rc = ERR_BAD;
            goto fail;
        }
        body_no = first_unknown;
        /* fall through */
    default:
        Py_INCREF(Py_None);
        body_obj = Py_None;
    }
    if (body_obj == NULL) goto fail;
    if ((rc = time_ms((int64_t)(send_time ? send_time : create_time), &ts_obj))) goto fail;
    sym_obj = make_symbol(&symbol);
    chan_obj = make_symbol(&channel);
    if (sym_obj == NULL || chan_obj == NULL) {
        rc = ERR_PY;
        goto fail;
    }
    PyBuffer_Release(&view);
    PyObject *items[5] = {PyLong_FromUnsignedLong(body_no), sym_obj, ts_obj, body_obj, chan_obj};
    return record_checked(push_type, items, 5);
fail:
    Py_XDECREF(body_obj);
    Py_XDECREF(sym_obj);
    Py_XDECREF(ts_obj);
    Py_XDECREF(chan_obj);
    PyBuffer_Release(&view);
    set_error(rc, "MEXC private push frame");
    return NULL;
}

/* set_types(Push, OrderBody, DealBody, AccountBody, Decimal, MAX_AMOUNT, upb_decode_private) */
static PyObject *set_types(PyObject *self, PyObject *args) {
    PyObject *types[4], *dec, *bound, *upb;
    if (!PyArg_ParseTuple(args, "OOOOOOO:set_types", &types[0], &types[1], &types[2], &types[3], &dec, &bound, &upb)) return NULL;
    for (int i = 0; i < 4; i++) {
        PyTypeObject *tp = (PyTypeObject *)types[i];
        if (!PyType_Check(types[i]) || !PyType_IsSubtype(tp, &PyTuple_Type) || tp->tp_basicsize != PyTuple_Type.tp_basicsize ||
            tp->tp_itemsize != PyTuple_Type.tp_itemsize) {
            PyErr_SetString(PyExc_TypeError, "set_types: the result types must be NamedTuples");
            return NULL;
        }
    }
    if (!PyType_Check(dec) || !PyCallable_Check(upb)) {
        PyErr_SetString(PyExc_TypeError, "set_types: Decimal must be a type and the upb decoder callable");
        return NULL;
    }
    PyObject *negative = PyNumber_Negative(bound);
    if (negative == NULL) return NULL;
    PyTypeObject **slots[4] = {&push_type, &order_type, &deal_type, &account_type};
    for (int i = 0; i < 4; i++) {
        Py_INCREF(types[i]);
        Py_XSETREF(*slots[i], (PyTypeObject *)types[i]);
    }
    Py_INCREF(dec);
    Py_XSETREF(decimal_type, dec);
    Py_INCREF(bound);
    Py_XSETREF(max_amount, bound);
    Py_XSETREF(min_amount, negative);
    Py_INCREF(upb);
    Py_XSETREF(fallback, upb);
    for (int i = 0; i < DEC_CACHE; i++) Py_CLEAR(dec_cache[i].value);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"decode_private", decode_private, METH_O,
     "decode_private(raw) -> Push(number, symbol, ts ms, body, channel); see cexfeed.exchanges.mexc.private_decode."},
    {"set_types", set_types, METH_VARARGS,
     "set_types(Push, OrderBody, DealBody, AccountBody, Decimal, MAX_AMOUNT, upb_decode_private): the result types, the "
     "Decimal type and bound, and the decoder of frames this one hands over (called once by private_decode)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_privpb", "Compiled decoder of MEXC private push bodies.", -1, methods};

PyMODINIT_FUNC PyInit__privpb(void) {
    empty_str = PyUnicode_FromStringAndSize("", 0);
    if (empty_str == NULL) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "MAX_FIELD_NUMBER", MAX_FIELD) < 0 || PyModule_AddObject(m, "MAX_MILLIS", PyLong_FromLongLong(MAX_MILLIS)) < 0 ||
        PyModule_AddObject(m, "MAX_SECONDS", PyLong_FromLongLong(MAX_SECONDS)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
