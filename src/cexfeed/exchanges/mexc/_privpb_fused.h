/*
 * Part of _privpb.c (included there, once, after the body specs, walk_body and build_body it
 * uses): read_private, the fused path from a frame to its account event, and the tables and
 * rules it is given (set_events, set_rules).
 */
#ifndef CEXFEED_MEXC_PRIVPB_FUSED_H
#define CEXFEED_MEXC_PRIVPB_FUSED_H

/* -- the fused path: frame -> account event (Order, Fill, Balance) --------------------------------
 * The normalization of cexfeed.exchanges.mexc.private_handler (see its docstring), with its own
 * tables (ORDER_STATUS, ORDER_TYPES, SIDES, given by set_events), in the order the reference
 * path takes: every value checked (the values no event carries too), then the channel, then
 * what the event needs (an order id; a fill's trade id, order id, price and quantity; a
 * balance's currency), then each currency by the code rule of cexfeed.wire.currency. The
 * differential tests hold it to the reference path. */
static PyObject *order_event, *fill_event, *balance_event, *status_table, *type_table, *side_table, *unknown_status;
static PyObject *venue_str, *market_str, *unknown_str, *maker_str, *taker_str, *market_type;

/* flags of FusedRead.unknown */
#define UNKNOWN_SIDE 1
#define UNKNOWN_TYPE 2

/* the kind of each body slot's account value (wire.AmountKind.code, given by set_rules from the
 * kinds the body NamedTuples declare) and the meaning of its bits */
static int order_rules[MAX_BODY_SLOTS], deal_rules[MAX_BODY_SLOTS], account_rules[MAX_BODY_SLOTS];
static int no_negative, no_zero, rules_set;
/* the longest currency code (wire.MAX_CURRENCY, given by set_rules) */
static Py_ssize_t max_currency;

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

/* text s is a currency code by the rule of cexfeed.wire.currency: 1 to max_currency ASCII
 * letters and digits, at least one a letter, not digits with an exponent (one e/E between
 * digits) */
static int is_currency(const Slice *s) {
    Py_ssize_t letters = 0, last = 0;
    if (s->n == 0 || s->n > max_currency) return 0;
    for (Py_ssize_t i = 0; i < s->n; i++) {
        unsigned char c = s->p[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
            letters++;
            last = i;
        } else if (c < '0' || c > '9') {
            return 0;
        }
    }
    if (letters == 0) return 0;
    return !(letters == 1 && (s->p[last] == 'e' || s->p[last] == 'E') && last > 0 && last < s->n - 1);
}

/* a currency name (vcoinName, feeCurrency) upper-cased as the normalizers of private_handler do:
 * str.upper() when the text has a lower-case or non-ASCII byte, else the cached name */
static PyObject *make_currency(const Slice *s) {
    PyObject *name = make_symbol(s);
    if (name == NULL) return NULL;
    for (Py_ssize_t i = 0; i < s->n; i++) {
        unsigned char c = s->p[i];
        if ((c >= 'a' && c <= 'z') || c >= 0x80) {
            PyObject *upper = PyObject_CallMethod(name, "upper", NULL);
            Py_DECREF(name);
            return upper;
        }
    }
    return name;
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
    /* the quantities against the size (private_handler.check_order_size): a base-sized order's
     * remainQuantity and cumulativeQuantity at most its quantity; without a quantity, only a
     * market order (or a type not in the table) may be sized in the quote currency */
    if (!zero[3]) {
        for (int k = 10; k <= 12; k += 2) {
            if (dec[k] == Py_None) continue;
            int above = PyObject_RichCompareBool(dec[k], dec[3], Py_GT);
            if (above < 0) goto done;
            if (above) {
                value_error("order quantities above its size (remainQuantity or cumulativeQuantity above quantity)");
                goto done;
            }
        }
    } else {
        PyObject *sized = lookup_code(type_table, (long)(int32_t)(uint32_t)f->ints[6]);
        if (sized == NULL && PyErr_Occurred()) goto done;
        if (sized != NULL) {
            int is_market = PyUnicode_Compare(PyTuple_GET_ITEM(sized, 0), market_type) == 0;
            if (!is_market && PyErr_Occurred()) goto done;
            if (!is_market) {
                value_error("non-market order without a quantity");
                goto done;
            }
        }
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
    if (f->strs[10].n && !is_currency(&f->strs[10])) {
        value_error("fill fee currency that is not a currency code");
        goto done;
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
    args[14] = f->strs[10].n ? make_currency(&f->strs[10]) : (Py_INCREF(Py_None), Py_None);
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
    if (!is_currency(&f->strs[0])) {
        value_error("balance currency that is not a currency code");
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
    args[6] = make_currency(&f->strs[0]);
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
    int unknown = 0, rc = walk_wrapper((const uint8_t *)view.buf, (const uint8_t *)view.buf + view.len, &w, 0);
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
    if (!is_namedtuple(o[0])) {
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
    Py_ssize_t longest;
    if (!PyArg_ParseTuple(args, "O!O!O!iin:set_rules", &PyTuple_Type, &tables[0], &PyTuple_Type, &tables[1], &PyTuple_Type, &tables[2], &bits[0],
                          &bits[1], &longest))
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
    max_currency = longest;
    rules_set = 1;
    Py_RETURN_NONE;
}

#endif
