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
 * fused path also holds each value to the rule of its kind (wire.AmountKind, set_rules) and an
 * order to having a size, as the handler's normalizers do; the typed seam does not.
 *
 * set_types() gives the result types (NamedTuples), the Decimal type, the bound and the upb
 * decoder once. Decimals of recent texts are kept in a small cache (a Decimal is immutable).
 */
#include "_pbwire.h"

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

/* JSON number text (wire.NUMBER); *bounded: its magnitude is surely below 1e300 (integer
 * digits plus exponent at most 299; anything else is checked against the bound by Decimal);
 * *zero: its value is 0 (every digit of the mantissa 0). */
static int number_text(const Slice *s, int *bounded, int *zero) {
    const uint8_t *p = s->p, *end = s->p + s->n;
    long digits = 0, exp = 0;
    int exp_neg = 0, nonzero = 0;
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
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '-' || *p == '+')) exp_neg = *p++ == '-';
        if (!is_digit(p, end)) return not_number(s);
        for (; is_digit(p, end); p++)
            if (exp < 100000) exp = exp * 10 + (*p - '0');
    }
    if (p != end) return not_number(s);
    *bounded = digits + (exp_neg ? -exp : exp) <= 299;
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

/* the wrapper of a frame, walked */
typedef struct {
    Slice symbol, channel;
    Slice body[MAX_SLICES];
    int body_count, replaced;
    uint32_t body_no, first_unknown;
    uint64_t send_time, create_time;
} Wrapper;

static int walk_wrapper(const uint8_t *p, const uint8_t *end, Wrapper *w) {
    int rc;
    memset(w, 0, sizeof(*w));
    while (p < end) {
        uint32_t f;
        int wt;
        Slice s;
        if ((rc = read_key(&p, end, &f, &wt))) return rc;
        if (wt == 2 && f >= 301 && f <= 315) {
            if ((rc = read_len(&p, end, &s))) return rc;
            if (f != w->body_no) {
                w->replaced |= w->body_no != 0;
                w->body_no = f;
                w->body_count = 0;
            }
            if (w->body_count == MAX_SLICES) w->replaced = 1;
            else w->body[w->body_count++] = s;
        } else if (wt == 2 && (f == 1 || f == 3 || f == 4)) {
            if ((rc = read_len(&p, end, &s)) || (rc = check_str(&s))) return rc;
            if (f == 3) w->symbol = s;
            else if (f == 1) w->channel = s;
        } else if (wt == 0 && (f == 5 || f == 6)) {
            if ((rc = read_varint(&p, end, f == 5 ? &w->create_time : &w->send_time))) return rc;
        } else {
            if (f >= 300 && w->first_unknown == 0) w->first_unknown = f;
            if ((rc = skip_field(&p, end, f, wt, 0))) return rc;
        }
    }
    /* no body of ours: the first unknown field >= 300 names a newer body, unless it is one of
     * ours with another wire type (malformed, as on the upb reading) */
    if (w->body_no == 0) {
        if (w->first_unknown >= 301 && w->first_unknown <= 315) return ERR_BAD;
        w->body_no = w->first_unknown;
    }
    return OK;
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
    int rc = walk_wrapper((const uint8_t *)view.buf, (const uint8_t *)view.buf + view.len, &w);
    PyObject *body_obj = NULL, *sym_obj = NULL, *ts_obj = NULL, *chan_obj = NULL;
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
    if ((rc = time_ms((int64_t)(w.send_time ? w.send_time : w.create_time), &ts_obj))) goto fail;
    sym_obj = make_symbol(&w.symbol);
    chan_obj = make_symbol(&w.channel);
    if (sym_obj == NULL || chan_obj == NULL) {
        rc = ERR_PY;
        goto fail;
    }
    PyBuffer_Release(&view);
    PyObject *items[5] = {PyLong_FromUnsignedLong(w.body_no), sym_obj, ts_obj, body_obj, chan_obj};
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

/* -- the fused path: frame -> account event (Order, Fill, Balance) --------------------------------
 * The normalization of cexfeed.exchanges.mexc.private_handler (see its docstring), with its own
 * tables (ORDER_STATUS, ORDER_TYPES, SIDES, given by set_events), in the order the reference
 * path takes: every value checked (the values no event carries too), then the channel, then
 * what the event needs (an order id; a fill's trade id, order id, price and quantity; a
 * balance's currency). The differential tests hold it to the reference path. */
static PyObject *order_event, *fill_event, *balance_event, *status_table, *type_table, *side_table, *unknown_status;
static PyObject *venue_str, *market_str, *unknown_str, *maker_str, *taker_str, *market_type;

/* flags of FusedRead.unknown */
#define UNKNOWN_SIDE 1
#define UNKNOWN_TYPE 2

/* the kind of each body slot's account value (wire.AmountKind.code, given by set_rules from the
 * kinds the body NamedTuples declare) and the meaning of its bits */
static int order_rules[MAX_BODY_SLOTS], deal_rules[MAX_BODY_SLOTS], account_rules[MAX_BODY_SLOTS];
static int no_negative, no_zero, rules_set;

/* a value checked by the rules though no event carries it; *zero: it is 0 (or absent) */
static int check_amount(const Slice *s, int *zero) {
    PyObject *value;
    int bounded, rc;
    *zero = 1;
    if (s->n == 0) return OK;
    if ((rc = number_text(s, &bounded, zero))) return rc;
    if (bounded) return OK;
    if ((rc = make_amount(s, &value, zero))) return rc;
    Py_DECREF(value);
    return OK;
}

/* an account value (text already read by the rules, zero: its value is 0) outside the rule of
 * its kind: negative where no_negative, 0 where no_zero; an absent value (None) never is */
static inline int breaks_rule(int rule, const Slice *s, int zero) {
    return s->n != 0 && (((rule & no_zero) && zero) || ((rule & no_negative) && !zero && s->p[0] == '-'));
}

/* the unified name of a venue symbol: "" for none, else names[symbol], filled by unified() */
static PyObject *unified_name(PyObject *symbol, PyObject *names, PyObject *unified) {
    if (PyUnicode_GET_LENGTH(symbol) == 0) {
        Py_INCREF(empty_str);
        return empty_str;
    }
    PyObject *hit = PyDict_GetItemWithError(names, symbol);
    if (hit != NULL) {
        Py_INCREF(hit);
        return hit;
    }
    if (PyErr_Occurred()) return NULL;
    PyObject *name = PyObject_CallOneArg(unified, symbol);
    if (name != NULL && PyDict_SetItem(names, symbol, name) < 0) Py_CLEAR(name);
    return name;
}

/* table[code] (borrowed), NULL when absent (an exception set only on failure) */
static PyObject *lookup_code(PyObject *table, long code) {
    PyObject *key = PyLong_FromLong(code);
    if (key == NULL) return NULL;
    PyObject *found = PyDict_GetItemWithError(table, key);
    Py_DECREF(key);
    return found;
}

static PyObject *value_error(const char *what) {
    PyErr_SetString(PyExc_ValueError, what);
    return NULL;
}

static inline PyObject *or_none(PyObject *obj, int absent) {
    if (absent) {
        Py_DECREF(obj);
        Py_INCREF(Py_None);
        return Py_None;
    }
    return obj;
}

static void release(PyObject **items, int n) {
    for (int i = 0; i < n; i++) Py_XDECREF(items[i]);
}

/* The event of one private body; ts: the wrapper time (a reference, may be None); *unknown:
 * UNKNOWN_* flags. NULL with an exception on failure. */
static PyObject *order_of(const Fields *f, PyObject *symbol, PyObject *ts, PyObject *recv_ts, PyObject *names, PyObject *unified, int *unknown) {
    /* OrderBody slots: 0 id, 1 clientId, 2 price, 3 quantity, 4 amount, 5 avgPrice, 6 orderType, 7 tradeType, 9 remainAmount,
     * 10 remainQuantity, 11 lastDealQuantity, 12 cumulativeQuantity, 13 cumulativeAmount, 14 status, 15 createTime */
    static const int dec_slots[8] = {2, 3, 4, 5, 9, 10, 12, 13};
    PyObject *dec[16] = {NULL}, *created = NULL, *args[31] = {NULL}, *event = NULL;
    int zero[16] = {0}, rc = OK;
    for (int i = 0; i < 8 && rc == OK; i++) rc = make_amount(&f->strs[dec_slots[i]], &dec[dec_slots[i]], &zero[dec_slots[i]]);
    if (rc == OK) rc = check_amount(&f->strs[11], &zero[11]);
    if (rc == OK) rc = time_ms((int64_t)f->ints[15], &created);
    if (rc) {
        set_error(rc, "MEXC private push frame");
        goto done;
    }
    if (f->strs[0].n == 0) {
        value_error("order without an id");
        goto done;
    }
    /* the checks of the normalizer, in its order: each value by its kind, then the order's size */
    for (int i = 2; i <= 13; i++) {
        if (i >= 6 && i <= 8) continue; /* orderType, tradeType, isMaker */
        if (breaks_rule(order_rules[i], &f->strs[i], zero[i])) {
            value_error("order value outside its kind's rule");
            goto done;
        }
    }
    if (zero[3] && zero[4]) {
        value_error("order without a size (quantity or amount above 0)");
        goto done;
    }
    long code = (long)(int32_t)(uint32_t)f->ints[14];
    PyObject *status = lookup_code(status_table, code), *status_obj, *raw_status;
    if (status != NULL) {
        status_obj = PyTuple_GET_ITEM(status, 0);
        raw_status = PyTuple_GET_ITEM(status, 1);
        Py_INCREF(status_obj);
        Py_INCREF(raw_status);
    } else {
        if (PyErr_Occurred()) goto done;
        status_obj = unknown_status;
        Py_INCREF(status_obj);
        raw_status = PyUnicode_FromFormat("%ld", code);
        if (raw_status == NULL) {
            Py_DECREF(status_obj);
            goto done;
        }
    }
    args[9] = status_obj;
    args[10] = raw_status;
    PyObject *kind = lookup_code(type_table, (long)(int32_t)(uint32_t)f->ints[6]), *type_obj, *tif;
    if (kind != NULL) {
        type_obj = PyTuple_GET_ITEM(kind, 0);
        tif = PyTuple_GET_ITEM(kind, 1);
    } else {
        if (PyErr_Occurred()) goto done;
        type_obj = unknown_str;
        tif = Py_None;
        *unknown |= UNKNOWN_TYPE;
    }
    long side_code = (long)(int32_t)(uint32_t)f->ints[7];
    PyObject *side = lookup_code(side_table, side_code);
    if (side == NULL) {
        if (PyErr_Occurred()) goto done;
        side = unknown_str;
        *unknown |= UNKNOWN_SIDE;
        /* the venue's code, kept as text (raw_side) */
        if ((args[30] = PyUnicode_FromFormat("%ld", side_code)) == NULL) goto done;
    }
    int market = PyUnicode_Compare(type_obj, market_type) == 0;
    if (market == 0 && PyErr_Occurred()) goto done;
    /* sized in the quote currency: no quantity, an amount above 0 */
    int by_quote = zero[3] && !zero[4];
    PyObject *ts_used = ts == Py_None ? created : ts;
    args[0] = venue_str;
    args[1] = market_str;
    args[3] = symbol;
    args[4] = ts_used;
    args[5] = recv_ts;
    args[7] = side;
    args[8] = type_obj;
    args[25] = tif;
    args[28] = ts_used;
    for (int i = 0; i < 30; i++)
        if (i != 2 && i != 6 && i != 9 && i != 10 && i != 24 && args[i] != NULL) Py_INCREF(args[i]);
    /* (args[30], the raw side, is a new reference already) */
    args[2] = unified_name(symbol, names, unified);
    args[6] = make_str(&f->strs[0]);
    args[11] = or_none(dec[2], zero[2] || market);
    args[12] = or_none(dec[3], by_quote);
    args[13] = dec[12];
    args[14] = or_none(dec[10], by_quote);
    args[15] = dec[4];
    args[16] = dec[9];
    args[17] = dec[13];
    args[21] = or_none(dec[5], zero[5]);
    args[24] = f->strs[1].n ? make_str(&f->strs[1]) : (Py_INCREF(Py_None), Py_None);
    args[27] = created;
    for (int i = 2; i <= 13; i++) dec[i] = NULL; /* now owned by args */
    created = NULL;
    for (int i = 0; i < 31; i++) {
        if (args[i] == NULL && (i == 2 || i == 6 || i == 24)) goto done; /* a failed name or string */
        if (args[i] == NULL) {
            Py_INCREF(Py_None);
            args[i] = Py_None;
        }
    }
    event = PyObject_Vectorcall(order_event, args, 31, NULL);
done:
    release(dec, 16);
    Py_XDECREF(created);
    release(args, 31);
    return event;
}

static PyObject *fill_of(const Fields *f, PyObject *symbol, PyObject *ts, PyObject *recv_ts, PyObject *names, PyObject *unified, int *unknown) {
    /* DealBody slots: 0 price, 1 quantity, 2 amount, 3 tradeType, 4 isMaker, 6 tradeId, 7 clientOrderId, 8 orderId, 9 feeAmount,
     * 10 feeCurrency, 11 time */
    PyObject *price = NULL, *qty = NULL, *fee = NULL, *time = NULL, *args[17] = {NULL}, *event = NULL;
    int zero[10] = {0}, rc;
    if ((rc = make_amount(&f->strs[0], &price, &zero[0])) || (rc = make_amount(&f->strs[1], &qty, &zero[1])) ||
        (rc = check_amount(&f->strs[2], &zero[2])) || (rc = make_amount(&f->strs[9], &fee, &zero[9])) || (rc = time_ms((int64_t)f->ints[11], &time))) {
        set_error(rc, "MEXC private push frame");
        goto done;
    }
    if (f->strs[6].n == 0 || f->strs[8].n == 0 || price == Py_None || qty == Py_None) {
        value_error("fill without trade id, order id, price or quantity");
        goto done;
    }
    static const int fill_slots[4] = {0, 1, 2, 9};
    for (int i = 0; i < 4; i++) {
        int k = fill_slots[i];
        if (breaks_rule(deal_rules[k], &f->strs[k], zero[k])) {
            value_error("fill value outside its kind's rule");
            goto done;
        }
    }
    long side_code = (long)(int32_t)(uint32_t)f->ints[3];
    PyObject *side = lookup_code(side_table, side_code);
    if (side == NULL) {
        if (PyErr_Occurred()) goto done;
        side = unknown_str;
        *unknown |= UNKNOWN_SIDE;
        if ((args[16] = PyUnicode_FromFormat("%ld", side_code)) == NULL) goto done;
    }
    args[0] = venue_str;
    args[1] = market_str;
    args[3] = symbol;
    args[4] = time == Py_None ? ts : time;
    args[5] = recv_ts;
    args[8] = side;
    args[11] = Py_None;
    args[12] = f->ints[4] ? maker_str : taker_str;
    for (int i = 0; i < 16; i++)
        if (args[i] != NULL) Py_INCREF(args[i]);
    if (args[16] == NULL) {
        Py_INCREF(Py_None);
        args[16] = Py_None;
    }
    args[2] = unified_name(symbol, names, unified);
    args[6] = make_str(&f->strs[6]);
    args[7] = make_str(&f->strs[8]);
    args[9] = price;
    args[10] = qty;
    args[13] = fee;
    price = qty = fee = NULL;
    args[14] = f->strs[10].n ? make_symbol(&f->strs[10]) : (Py_INCREF(Py_None), Py_None);
    args[15] = f->strs[7].n ? make_str(&f->strs[7]) : (Py_INCREF(Py_None), Py_None);
    for (int i = 0; i < 17; i++)
        if (args[i] == NULL) goto done;
    event = PyObject_Vectorcall(fill_event, args, 17, NULL);
done:
    Py_XDECREF(price);
    Py_XDECREF(qty);
    Py_XDECREF(fee);
    Py_XDECREF(time);
    release(args, 17);
    return event;
}

static PyObject *balance_of(const Fields *f, PyObject *ts, PyObject *recv_ts) {
    /* AccountBody slots: 0 vcoinName, 2 balanceAmount, 3 balanceAmountChange, 4 frozenAmount, 5 frozenAmountChange, 6 type, 7 time */
    PyObject *dec[6] = {NULL}, *time = NULL, *args[13] = {NULL}, *event = NULL;
    int zero[6] = {0}, rc = OK;
    for (int k = 2; k <= 5 && rc == OK; k++) rc = make_amount(&f->strs[k], &dec[k], &zero[k]);
    if (rc == OK) rc = time_ms((int64_t)f->ints[7], &time);
    if (rc) {
        set_error(rc, "MEXC private push frame");
        goto done;
    }
    if (f->strs[0].n == 0) {
        value_error("balance without a currency");
        goto done;
    }
    for (int k = 2; k <= 5; k++) {
        if (breaks_rule(account_rules[k], &f->strs[k], zero[k])) {
            value_error("balance value outside its kind's rule");
            goto done;
        }
    }
    args[0] = venue_str;
    args[1] = market_str;
    args[2] = empty_str;
    args[3] = empty_str;
    args[4] = time == Py_None ? ts : time;
    args[5] = recv_ts;
    args[7] = Py_None;
    for (int i = 0; i < 13; i++)
        if (args[i] != NULL) Py_INCREF(args[i]);
    args[6] = make_symbol(&f->strs[0]);
    args[8] = dec[2];
    args[9] = dec[4];
    args[10] = dec[3];
    args[12] = dec[5];
    for (int k = 2; k <= 5; k++) dec[k] = NULL;
    args[11] = f->strs[6].n ? make_symbol(&f->strs[6]) : (Py_INCREF(Py_None), Py_None);
    for (int i = 0; i < 13; i++)
        if (args[i] == NULL) goto done;
    event = PyObject_Vectorcall(balance_event, args, 13, NULL);
done:
    release(dec, 6);
    Py_XDECREF(time);
    release(args, 13);
    return event;
}

/* read_private(raw, recv_ts, names, unified, bodies) -> the account event of the frame when it
 * has one and every value in it is known; else FusedRead(number, event, channel, unknown);
 * None when the frame must take another path: a JSON text reply (starts with '{'), or a frame
 * the reference path reads (a replaced oneof body, a body in many pieces). FusedRead.event is None for a frame that carries no private body, or whose channel
 * is not its body's (bodies[channel] != number). Raises ValueError on a malformed frame. */
static PyObject *read_private(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (order_event == NULL || push_type == NULL || !rules_set) {
        PyErr_SetString(PyExc_RuntimeError, "_privpb.set_types()/set_events()/set_rules() were not called");
        return NULL;
    }
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "read_private(raw, recv_ts, names, unified, bodies)");
        return NULL;
    }
    PyObject *recv_ts = args[1], *names = args[2], *unified = args[3], *bodies = args[4];
    if (!PyDict_Check(names)) {
        PyErr_SetString(PyExc_TypeError, "read_private: names must be a dict");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len > 0 && ((const uint8_t *)view.buf)[0] == '{') {
        /* a JSON reply: the handler's text path */
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    Wrapper w;
    Fields fields;
    PyObject *ts = NULL, *chan = NULL, *sym = NULL, *event = NULL, *result = NULL;
    int unknown = 0, rc = walk_wrapper((const uint8_t *)view.buf, (const uint8_t *)view.buf + view.len, &w);
    if (rc) goto fail;
    if (w.replaced) {
        PyBuffer_Release(&view);
        Py_RETURN_NONE;
    }
    const BodySpec *spec = spec_of(w.body_no);
    if (spec != NULL && (rc = walk_body(spec, w.body, w.body_count, &fields))) goto fail;
    if ((rc = time_ms((int64_t)(w.send_time ? w.send_time : w.create_time), &ts))) goto fail;
    if ((chan = make_symbol(&w.channel)) == NULL) goto py_fail;
    if (spec != NULL) {
        PyObject *want = PyObject_GetItem(bodies, chan);
        if (want == NULL) goto py_fail;
        long number = PyLong_AsLong(want);
        Py_DECREF(want);
        if (number == -1 && PyErr_Occurred()) goto py_fail;
        if (number == (long)w.body_no) {
            if (w.body_no == 307) {
                event = balance_of(&fields, ts, recv_ts);
            } else {
                if ((sym = make_symbol(&w.symbol)) == NULL) goto py_fail;
                event = w.body_no == 304 ? order_of(&fields, sym, ts, recv_ts, names, unified, &unknown)
                                         : fill_of(&fields, sym, ts, recv_ts, names, unified, &unknown);
            }
            if (event == NULL) goto py_fail;
        } else {
            /* not this channel's body: every value must still follow the rules */
            PyObject *body = build_body(spec, &fields, &rc);
            if (body == NULL) goto fail;
            Py_DECREF(body);
        }
    }
    PyBuffer_Release(&view);
    if (event != NULL && unknown == 0) {
        /* the usual frame: the event itself */
        Py_XDECREF(ts);
        Py_XDECREF(sym);
        Py_DECREF(chan);
        return event;
    }
    PyObject *items[4] = {PyLong_FromUnsignedLong(w.body_no), event != NULL ? event : (Py_INCREF(Py_None), Py_None), chan, PyLong_FromLong(unknown)};
    event = chan = NULL;
    result = record_checked(read_type, items, 4);
    Py_XDECREF(ts);
    Py_XDECREF(sym);
    return result;
fail:
    set_error(rc, "MEXC private push frame");
py_fail:
    Py_XDECREF(ts);
    Py_XDECREF(chan);
    Py_XDECREF(sym);
    Py_XDECREF(event);
    PyBuffer_Release(&view);
    return NULL;
}

/* set_events(FusedRead, Order, Fill, Balance, ORDER_STATUS, ORDER_TYPES, SIDES, OrderStatus.UNKNOWN, venue, market, "unknown",
 * "maker", "taker", "market"): the fused path's result type, event types, tables and texts */
static PyObject *set_events(PyObject *self, PyObject *args) {
    PyObject *o[14];
    if (!PyArg_ParseTuple(args, "OOOOO!O!O!OUUUUUU:set_events", &o[0], &o[1], &o[2], &o[3], &PyDict_Type, &o[4], &PyDict_Type, &o[5],
                          &PyDict_Type, &o[6], &o[7], &o[8], &o[9], &o[10], &o[11], &o[12], &o[13]))
        return NULL;
    PyTypeObject *tp = (PyTypeObject *)o[0];
    if (!PyType_Check(o[0]) || !PyType_IsSubtype(tp, &PyTuple_Type) || tp->tp_basicsize != PyTuple_Type.tp_basicsize) {
        PyErr_SetString(PyExc_TypeError, "set_events: the result type must be a NamedTuple");
        return NULL;
    }
    PyObject **slots[14] = {(PyObject **)&read_type, &order_event, &fill_event, &balance_event, &status_table, &type_table, &side_table,
                            &unknown_status, &venue_str, &market_str, &unknown_str, &maker_str, &taker_str, &market_type};
    for (int i = 0; i < 14; i++) {
        Py_INCREF(o[i]);
        Py_XSETREF(*slots[i], o[i]);
    }
    Py_RETURN_NONE;
}

/* set_rules(order, deal, account, NO_NEGATIVE, NO_ZERO): the kind code of each slot of the three
 * bodies (tuples of ints, one per NamedTuple field) and the two rule bits (cexfeed.wire) */
static PyObject *set_rules(PyObject *self, PyObject *args) {
    PyObject *tables[3];
    int bits[2];
    if (!PyArg_ParseTuple(args, "O!O!O!ii:set_rules", &PyTuple_Type, &tables[0], &PyTuple_Type, &tables[1], &PyTuple_Type, &tables[2], &bits[0],
                          &bits[1]))
        return NULL;
    const int sizes[3] = {ORDERS.n_slots, DEALS.n_slots, ACCOUNT.n_slots};
    int *rules[3] = {order_rules, deal_rules, account_rules};
    for (int t = 0; t < 3; t++) {
        if (PyTuple_GET_SIZE(tables[t]) != sizes[t]) {
            PyErr_SetString(PyExc_ValueError, "set_rules: one kind per body slot");
            return NULL;
        }
        for (int i = 0; i < sizes[t]; i++) {
            long code = PyLong_AsLong(PyTuple_GET_ITEM(tables[t], i));
            if (code == -1 && PyErr_Occurred()) return NULL;
            rules[t][i] = (int)code;
        }
    }
    no_negative = bits[0];
    no_zero = bits[1];
    rules_set = 1;
    Py_RETURN_NONE;
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
    {"read_private", (PyCFunction)(void (*)(void))read_private, METH_FASTCALL,
     "read_private(raw, recv_ts, names, unified, bodies) -> event | FusedRead(number, event, channel, unknown) | None; see "
     "cexfeed.exchanges.mexc.private_handler."},
    {"set_events", set_events, METH_VARARGS,
     "set_events(FusedRead, Order, Fill, Balance, ORDER_STATUS, ORDER_TYPES, SIDES, UNKNOWN, venue, market, 'unknown', 'maker', "
     "'taker', 'market'): what the fused path builds (called once by private_handler)."},
    {"set_rules", set_rules, METH_VARARGS,
     "set_rules(order, deal, account, NO_NEGATIVE, NO_ZERO): the account value kind of each body slot (called once by "
     "private_decode)."},
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
