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
 * decimal.Decimal of that text (a zero with a minus sign without it, as wire.amount reads it),
 * with a magnitude below MAX_AMOUNT (1e300), None when the field is absent; a time is an int64 >= 0 read in ms by its magnitude (wire.to_ms; 0: None); int32
 * codes are kept as sent. A value outside the rules makes the frame malformed (ValueError). The
 * fused path also holds each value to the rule of its kind (wire.AmountKind, set_rules), an
 * order to having a size and each currency to the code rule (wire.currency), as the handler's
 * normalizers do; the typed seam does not.
 *
 * set_types() gives the result types (NamedTuples), the Decimal type, the bound and the upb
 * decoder once. Decimals of recent texts are kept in a small cache (a Decimal is immutable).
 */
#include "_pbpush.h"

static PyTypeObject *push_type, *order_type, *deal_type, *account_type, *read_type;
static PyObject *decimal_type, *max_amount, *min_amount, *fallback;

/* the kinds of field a body reads */
enum { K_NONE = 0, K_STR, K_SYM, K_DEC, K_I32, K_BOOL, K_TIME, K_CHECK_STR, K_SKIP_INT };

/* the wire type of each kind (K_NONE: none) */
static const int KIND_WIRE[] = {-1, 2, 2, 2, 0, 0, 0, 2, 0};

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

/* account values: Decimals of JSON number text */
#include "_privpb_amount.h"

/* the fields of one body, its pieces walked (the last value of a field wins) */
typedef struct {
    Slice strs[MAX_BODY_SLOTS];
    uint64_t ints[MAX_BODY_SLOTS];
} Fields;

static int walk_body(const BodySpec *spec, const Slice *pieces, int count, Fields *out) {
    int rc;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < count; i++) {
        const uint8_t *p = pieces[i].p, *end = pieces[i].p + pieces[i].n;
        while (p < end) {
            uint32_t f;
            int w;
            if ((rc = read_key(&p, end, &f, &w))) return rc;
            int kind = f <= spec->n_fields ? spec->fields[f].kind : K_NONE;
            if (kind == K_NONE || w != KIND_WIRE[kind]) {
                if ((rc = skip_field(&p, end, f, w, 1))) return rc;
            } else if (w == 2) {
                Slice s;
                if ((rc = read_len(&p, end, &s)) || (rc = check_str(&s))) return rc;
                if (kind != K_CHECK_STR) out->strs[spec->fields[f].slot] = s;
            } else {
                uint64_t v;
                if ((rc = read_varint(&p, end, &v))) return rc;
                if (kind != K_SKIP_INT) out->ints[spec->fields[f].slot] = v;
            }
        }
    }
    return OK;
}

/* One private body -> its NamedTuple (the typed seam) */
static PyObject *build_body(const BodySpec *spec, const Fields *fields, int *err) {
    PyObject *items[MAX_BODY_SLOTS];
    int rc = OK, zero;
    for (uint32_t f = 1; f <= spec->n_fields; f++) {
        const FieldSpec *fs = &spec->fields[f];
        int k = fs->slot;
        switch (fs->kind) {
        case K_STR:
            items[k] = make_str(&fields->strs[k]);
            break;
        case K_SYM:
            items[k] = make_symbol(&fields->strs[k]);
            break;
        case K_DEC:
            rc = make_amount(&fields->strs[k], &items[k], &zero);
            break;
        case K_I32:
            items[k] = PyLong_FromLong((long)(int32_t)(uint32_t)fields->ints[k]);
            break;
        case K_BOOL:
            items[k] = PyBool_FromLong(fields->ints[k] != 0);
            break;
        case K_TIME:
            rc = time_ms((int64_t)fields->ints[k], &items[k]);
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
            *err = rc;
            return NULL;
        }
    }
    PyObject *body = record(*spec->type, items, spec->n_slots);
    if (body == NULL) *err = ERR_PY;
    return body;
}

static const BodySpec *spec_of(uint32_t body_no) {
    return body_no == 304 ? &ORDERS : body_no == 306 ? &DEALS : body_no == 307 ? &ACCOUNT : NULL;
}

static PyObject *decode_private(PyObject *self, PyObject *arg) {
    if (push_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_privpb.set_types() was not called");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    Wrapper w;
    Fields fields;
    int rc = walk_wrapper((const uint8_t *)view.buf, (const uint8_t *)view.buf + view.len, &w, 0);
    PyObject *body_obj = NULL;
    if (rc) goto fail;
    if (w.replaced) {
        /* a replaced oneof body must still be well-formed: upb reads the frame whole */
        PyBuffer_Release(&view);
        return PyObject_CallOneArg(fallback, arg);
    }
    const BodySpec *spec = spec_of(w.body_no);
    if (spec == NULL) {
        Py_INCREF(Py_None);
        body_obj = Py_None;
    } else if ((rc = walk_body(spec, w.body, w.body_count, &fields)) || (body_obj = build_body(spec, &fields, &rc)) == NULL) {
        goto fail;
    }
    PyObject *push = push_record(push_type, &w, body_obj, &rc);
    if (push == NULL) goto fail;
    PyBuffer_Release(&view);
    return push;
fail:
    PyBuffer_Release(&view);
    set_error(rc, "MEXC private push frame");
    return NULL;
}

/* the fused path: frame -> account event (Order, Fill, Balance) */
#include "_privpb_fused.h"

/* set_types(Push, OrderBody, DealBody, AccountBody, Decimal, MAX_AMOUNT, upb_decode_private) */
static PyObject *set_types(PyObject *self, PyObject *args) {
    PyObject *types[4], *dec, *bound, *upb;
    if (!PyArg_ParseTuple(args, "OOOOOOO:set_types", &types[0], &types[1], &types[2], &types[3], &dec, &bound, &upb)) return NULL;
    for (int i = 0; i < 4; i++) {
        if (!is_namedtuple(types[i])) {
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
    {"read_private", (PyCFunction)(void (*)(void))read_private, METH_FASTCALL,
     "read_private(raw, recv_ts, names, unified, bodies) -> event | FusedRead(number, event, channel, unknown) | None; see "
     "cexfeed.exchanges.mexc.private_handler."},
    {"set_events", set_events, METH_VARARGS,
     "set_events(FusedRead, Order, Fill, Balance, ORDER_STATUS, ORDER_TYPES, SIDES, UNKNOWN, venue, market, 'unknown', 'maker', "
     "'taker', 'market'): what the fused path builds (called once by private_handler)."},
    {"set_rules", set_rules, METH_VARARGS,
     "set_rules(order, deal, account, NO_NEGATIVE, NO_ZERO, MAX_CURRENCY): the account value kind of each body slot and the "
     "longest currency code (called once by private_decode)."},
    {"set_types", set_types, METH_VARARGS,
     "set_types(Push, OrderBody, DealBody, AccountBody, Decimal, MAX_AMOUNT, upb_decode_private): the result types, the "
     "Decimal type and bound, and the decoder of frames this one hands over (called once by private_decode)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_privpb", "Compiled decoder of MEXC private push bodies.", -1, methods};

PyMODINIT_FUNC PyInit__privpb(void) { return create_module(&module); }
