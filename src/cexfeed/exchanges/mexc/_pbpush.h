/*
 * The PushDataV3ApiWrapper of a MEXC push (mexc-protocol.md §2.1) as both compiled MEXC decoders
 * read it (_fastpb: public bodies, _privpb: private bodies), included by each after _pbwire.h:
 * the walk of the wrapper's fields (channel, symbol, times, the oneof body in its pieces), the
 * Push record (number, symbol, ts, body, channel) made of a walked frame, the check of the
 * NamedTuple result types each module is given, and the making of either module.
 */
#ifndef CEXFEED_MEXC_PBPUSH_H
#define CEXFEED_MEXC_PBPUSH_H

#include "_pbwire.h"

/* the wrapper of a frame, walked */
typedef struct {
    Slice symbol, channel;
    Slice body[MAX_SLICES];
    int body_count, replaced;
    uint32_t body_no, first_unknown;
    uint64_t send_time, create_time;
} Wrapper;

/* Walks the wrapper's fields: the body fields 301-315 (their pieces; a body replaced by another
 * one, or in more than MAX_SLICES pieces, sets `replaced`: the caller hands the frame to upb),
 * the strings channel (1), symbol (3) and 4 (checked only), the times createTime (5) and
 * sendTime (6); any other field is skipped. A frame without a body of ours gets the number of
 * its first unknown field >= 300 (a newer body). A body number sent with another wire type is
 * malformed, as on the upb reading: at once when `strict_bodies` (_fastpb), else only when the
 * frame has no body of ours (_privpb). */
static int walk_wrapper(const uint8_t *p, const uint8_t *end, Wrapper *w, int strict_bodies) {
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
            if (w->body_count == MAX_SLICES) w->replaced = 1; /* the rare many-piece body: upb */
            else w->body[w->body_count++] = s;
        } else if (wt == 2 && (f == 1 || f == 3 || f == 4)) {
            if ((rc = read_len(&p, end, &s)) || (rc = check_str(&s))) return rc;
            if (f == 3) w->symbol = s;
            else if (f == 1) w->channel = s;
        } else if (wt == 0 && (f == 5 || f == 6)) {
            if ((rc = read_varint(&p, end, f == 5 ? &w->create_time : &w->send_time))) return rc;
        } else {
            if (strict_bodies && f >= 301 && f <= 315) return ERR_BAD;
            if (f >= 300 && w->first_unknown == 0) w->first_unknown = f;
            if ((rc = skip_field(&p, end, f, wt, 0))) return rc;
        }
    }
    if (w->body_no == 0) {
        if (w->first_unknown >= 301 && w->first_unknown <= 315) return ERR_BAD;
        w->body_no = w->first_unknown;
    }
    return OK;
}

/* The Push record of a walked frame: (body number, symbol, ts ms or None, body, channel), the
 * time sendTime, else createTime (wire.to_ms). `body` is stolen; NULL with *err set on failure. */
static PyObject *push_record(PyTypeObject *type, const Wrapper *w, PyObject *body, int *err) {
    PyObject *ts = NULL;
    int rc = time_ms((int64_t)(w->send_time ? w->send_time : w->create_time), &ts);
    if (rc) {
        Py_DECREF(body);
        *err = rc;
        return NULL;
    }
    PyObject *items[5] = {PyLong_FromUnsignedLong(w->body_no), make_symbol(&w->symbol), ts, body, make_symbol(&w->channel)};
    PyObject *push = record_checked(type, items, 5);
    if (push == NULL) *err = ERR_PY;
    return push;
}

/* A result type the module builds as a tuple: a tuple subclass with no extra fields (a NamedTuple). */
static inline int is_namedtuple(PyObject *type) {
    PyTypeObject *tp = (PyTypeObject *)type;
    return PyType_Check(type) && PyType_IsSubtype(tp, &PyTuple_Type) && tp->tp_basicsize == PyTuple_Type.tp_basicsize &&
           tp->tp_itemsize == PyTuple_Type.tp_itemsize;
}

/* The module of `def` (both modules' init): the shared empty string made, and the bounds both
 * expose for the test that holds them to cexfeed.wire added; NULL with an exception set on failure. */
static PyObject *create_module(struct PyModuleDef *def) {
    empty_str = PyUnicode_FromStringAndSize("", 0);
    if (empty_str == NULL) return NULL;
    PyObject *m = PyModule_Create(def);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "MAX_FIELD_NUMBER", MAX_FIELD) < 0 || PyModule_AddObject(m, "MAX_MILLIS", PyLong_FromLongLong(MAX_MILLIS)) < 0 ||
        PyModule_AddObject(m, "MAX_SECONDS", PyLong_FromLongLong(MAX_SECONDS)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

#endif
