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
    /* Decimal(text) by the type's own constructor: what calling the type does (its tp_init is
       object's, a no-op), without the generic call protocol around it, and with one argument
       tuple kept for it (the constructor keeps no reference to it; a new one when it is held) */
    static PyObject* cexfeed_decimal_args = NULL;

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

    static int cexfeed_decimal_setup(void) {
        cexfeed_decimal_args = PyTuple_New(1);
        if (cexfeed_decimal_args == NULL) return -1;
        Py_INCREF(Py_None);
        PyTuple_SET_ITEM(cexfeed_decimal_args, 0, Py_None);
        return 0;
    }
    """
    object cexfeed_new_decimal(object type, object text)
    int cexfeed_decimal_setup() except -1


cexfeed_decimal_setup()


cdef inline object _decimal(str text):
    return cexfeed_new_decimal(Decimal, text)
