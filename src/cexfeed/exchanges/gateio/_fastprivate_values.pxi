# Part of _fastprivate.pyx (included there): the Python values of the texts a push holds (str,
# Decimal), made once for a text seen again.

# -- interned values: a short text seen again gives the same object ------------------------------

cdef enum:
    CACHE = 128
    KEY = 40
    AS_STR = 0
    AS_UPPER = 1

cdef struct Entry:
    Py_ssize_t n
    PyObject* obj
    char key[KEY]


cdef inline unsigned int _hash(const char* s, Py_ssize_t n, int mode) noexcept nogil:
    """A slot for text s/n (n < KEY) from its length and its first and last 8 bytes (the
    distinct texts of a stream differ there: ids and amounts in their last digits)."""
    cdef unsigned long long a = 0, b = 0
    if n >= 8:
        memcpy(&a, s, 8)
        memcpy(&b, s + n - 8, 8)
    else:
        memcpy(&a, s, n)
    a = (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full) ^ (<unsigned long long> (n + KEY * mode) * 0x165667B19E3779F9ull)
    return <unsigned int> (a >> 40) & (CACHE - 1)


cdef extern from *:
    """
    /* a str of ASCII bytes (the reader reads only frames it found ASCII) */
    static PyObject* cexfeed_ascii(const char* s, Py_ssize_t n) {
        PyObject* text = PyUnicode_New(n, 127);
        if (text != NULL) memcpy(PyUnicode_DATA(text), s, n);
        return text;
    }
    """
    object _ascii "cexfeed_ascii"(const char* s, Py_ssize_t n)


cdef object _make(const char* s, Py_ssize_t n, int mode):
    cdef char buf[256]
    cdef Py_ssize_t i
    if mode == AS_UPPER and n <= 256:
        for i in range(n):
            buf[i] = s[i] - 32 if c'a' <= s[i] <= c'z' else s[i]
        return _ascii(buf, n)
    text = _ascii(s, n)
    if mode == AS_UPPER:
        return text.upper()
    return text


cdef extern from *:
    """
    #include <stdint.h>
    /* Decimal(text) by the type's own constructor: what calling the type does (its tp_init is
       object's, a no-op), without the generic call protocol around it, and with one argument
       tuple kept for it (the constructor keeps no reference to it; a new one when it is held) */
    static PyObject* cexfeed_decimal_args = NULL;
    static PyObject* cexfeed_decimal_type = NULL;

    static PyObject* cexfeed_new_decimal(PyObject* type, PyObject* text) {
        PyObject* args = cexfeed_decimal_args;
        PyObject* made;
        if (args == NULL || Py_REFCNT(args) != 1) {
            args = PyTuple_Pack(1, text);
            if (args == NULL) return NULL;
            made = ((PyTypeObject*) type)->tp_new((PyTypeObject*) type, args, NULL);
            Py_DECREF(args);
            return made;
        }
        Py_INCREF(text);
        PyTuple_SET_ITEM(args, 0, text);
        made = ((PyTypeObject*) type)->tp_new((PyTypeObject*) type, args, NULL);
        PyTuple_SET_ITEM(args, 0, Py_None);
        Py_DECREF(text);
        return made;
    }

    /* The Decimal of a number text the reader has checked by the grammar, built as the type's
       constructor builds it (mpdecimal's string reading: coefficient = all the digits as one
       integer, exponent = the written one minus the fraction's digits, trailing zeros kept) but
       straight into the object: CPython's _decimal object is the object header, a hash, an mpd_t
       and four coefficient words of 19 decimal digits each (PyDecObject, mpdecimal.h). Used only
       when cexfeed_fast_decimal_setup found exactly that layout in a Decimal the type made, and
       only for a coefficient of at most 19 digits (one word); any other text goes to the type. */
    typedef struct {
        uint8_t flags;
        int64_t exp, digits, len, alloc;
        uint64_t* data;
    } cexfeed_mpd;
    typedef struct {
        PyObject_HEAD
        Py_hash_t hash;
        cexfeed_mpd dec;
        uint64_t data[4];
    } cexfeed_dec;
    enum { CEXFEED_MPD_NEG = 1, CEXFEED_MPD_STATIC = 16, CEXFEED_MPD_STATIC_DATA = 32 };
    static int cexfeed_fast_ok = 0;

    static PyObject* cexfeed_decimal_built(const char* s, Py_ssize_t n) {
        uint64_t coefficient = 0;
        int64_t exponent = 0, written = 0;
        int digits = 0, fraction = 0, negative = 0, written_negative = 0;
        Py_ssize_t i = 0;
        cexfeed_dec* made;
        if (n > 0 && s[0] == '-') { negative = 1; i = 1; }
        for (; i < n; i++) {
            char ch = s[i];
            if (ch >= '0' && ch <= '9') {
                if ((digits || ch != '0') && ++digits > 19) return NULL;
                coefficient = coefficient * 10 + (uint64_t) (ch - '0');
                exponent -= fraction;
            } else if (ch == '.') {
                fraction = 1;
            } else {
                break;
            }
        }
        if (i < n) {  /* e/E, an optional sign, at most 9 digits (the grammar: at least one) */
            i++;
            if (i < n && (s[i] == '+' || s[i] == '-')) { written_negative = s[i] == '-'; i++; }
            if (i >= n || n - i > 9) return NULL;
            for (; i < n; i++) written = written * 10 + (s[i] - '0');
            exponent += written_negative ? -written : written;
        }
        made = PyObject_New(cexfeed_dec, (PyTypeObject*) cexfeed_decimal_type);
        if (made == NULL) return NULL;
        made->hash = -1;
        made->dec.flags = CEXFEED_MPD_STATIC | CEXFEED_MPD_STATIC_DATA | (negative ? CEXFEED_MPD_NEG : 0);
        made->dec.exp = exponent;
        made->dec.digits = digits ? digits : 1;
        made->dec.len = 1;
        made->dec.alloc = 4;
        made->dec.data = made->data;
        made->data[0] = coefficient;
        return (PyObject*) made;
    }

    /* Decimal of number text s/n (checked by the grammar): built, else by the type */
    static PyObject* cexfeed_decimal_of(const char* s, Py_ssize_t n) {
        PyObject* text;
        PyObject* made;
        if (cexfeed_fast_ok) {
            made = cexfeed_decimal_built(s, n);
            if (made != NULL || PyErr_Occurred()) return made;
        }
        text = PyUnicode_New(n, 127);
        if (text == NULL) return NULL;
        memcpy(PyUnicode_DATA(text), s, n);
        made = cexfeed_new_decimal(cexfeed_decimal_type, text);
        Py_DECREF(text);
        return made;
    }

    /* 1 when `sample` (the type's Decimal("-1234567.890")) has the layout cexfeed_decimal_built writes */
    static int cexfeed_decimal_layout(PyObject* sample) {
        PyTypeObject* type = Py_TYPE(sample);
        cexfeed_dec* d = (cexfeed_dec*) sample;
        return (type->tp_basicsize == (Py_ssize_t) sizeof(cexfeed_dec) && type->tp_itemsize == 0
                && !(type->tp_flags & Py_TPFLAGS_HAVE_GC)
                && d->dec.flags == (CEXFEED_MPD_STATIC | CEXFEED_MPD_STATIC_DATA | CEXFEED_MPD_NEG) && d->dec.exp == -3
                && d->dec.digits == 10 && d->dec.len == 1 && d->dec.alloc == 4 && d->dec.data == d->data
                && d->data[0] == 1234567890ull);
    }

    static int cexfeed_decimal_setup(PyObject* type) {
        cexfeed_decimal_args = PyTuple_New(1);
        if (cexfeed_decimal_args == NULL) return -1;
        Py_INCREF(Py_None);
        PyTuple_SET_ITEM(cexfeed_decimal_args, 0, Py_None);
        Py_INCREF(type);
        cexfeed_decimal_type = type;
        return 0;
    }
    """
    object cexfeed_new_decimal(object type, object text)
    int cexfeed_decimal_setup(object type) except -1
    object _decimal_of "cexfeed_decimal_of"(const char* s, Py_ssize_t n)
    object _decimal_built "cexfeed_decimal_built"(const char* s, Py_ssize_t n)
    bint _decimal_layout "cexfeed_decimal_layout"(object sample)
    int cexfeed_fast_ok


cexfeed_decimal_setup(Decimal)

# the built Decimals only when the type's own ones have the layout they are written in, and the
# built ones of these texts are the type's (digits, exponent, sign, text, hash)
_SAMPLES = ("-1234567.890", "0", "0.000", "1.50", "0.0000573", "64982.3", "1e-7", "-2.5E+3", "9999999999999999999", "100", "1.0e0")


def _built_is_typed() -> bool:
    if type(Decimal("1")) is not Decimal or not _decimal_layout(Decimal("-1234567.890")):
        return False
    for text in _SAMPLES:
        raw = text.encode()
        built, typed = _decimal_built(raw, len(raw)), Decimal(text)
        if type(built) is not Decimal or built.as_tuple() != typed.as_tuple() or str(built) != str(typed) or hash(built) != hash(typed):
            return False
    return True


if _built_is_typed():
    cexfeed_fast_ok = 1
#: whether account values are built straight into Decimal objects (else by the type's constructor)
DECIMALS_BUILT = bool(cexfeed_fast_ok)


cdef inline object _decimal(const char* s, Py_ssize_t n):
    """The Decimal of number text s/n (checked by the one grammar before)."""
    return _decimal_of(s, n)


def decimal_of(bytes raw):
    """The Decimal this reader makes of number text ``raw`` (JSON number text within the bound,
    as the reader checks before making one); ``ValueError`` for any other text. For the tests
    that hold it to ``Decimal(text)``."""
    cdef const unsigned char* p = raw
    if not raw or not _strict(p, len(raw)):
        raise ValueError("not number text by the grammar")
    return _decimal(raw, len(raw))
