# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled twin of :class:`cexfeed.book.PyL2Book` (same API, same results; tested side by side).

Each side is one sorted array of keys with a parallel array of sizes. Bids are stored with the
key ``-price`` so that both sides sort ascending and index 0 is always the best level; cutting
to ``depth`` is then a length change.
"""

from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_CheckExact
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_CheckExact
from libc.stdlib cimport free, realloc
from libc.string cimport memmove


cdef extern from "Python.h":
    Py_ssize_t PyList_GET_SIZE(object)
    PyObject* PyList_GET_ITEM(object, Py_ssize_t)
    Py_ssize_t PyTuple_GET_SIZE(object)
    PyObject* PyTuple_GET_ITEM(object, Py_ssize_t)


cdef struct Side:
    double* keys
    double* sizes
    Py_ssize_t n
    Py_ssize_t cap


cdef int _reserve(Side* side, Py_ssize_t need) except -1:
    cdef Py_ssize_t cap
    cdef double* keys
    cdef double* sizes
    if need <= side.cap:
        return 0
    cap = need * 2 if need > 16 else 32
    keys = <double*> realloc(side.keys, cap * sizeof(double))
    if keys == NULL:
        raise MemoryError()
    side.keys = keys
    sizes = <double*> realloc(side.sizes, cap * sizeof(double))
    if sizes == NULL:
        raise MemoryError()
    side.sizes = sizes
    side.cap = cap
    return 0


cdef inline Py_ssize_t _lower_bound(Side* side, double key) noexcept nogil:
    cdef Py_ssize_t lo = 0, hi = side.n, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if side.keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef int _set(Side* side, double key, double size) except -1:
    cdef Py_ssize_t i = _lower_bound(side, key)
    if i < side.n and side.keys[i] == key:
        if size != 0.0:
            side.sizes[i] = size
        else:
            memmove(&side.keys[i], &side.keys[i + 1], (side.n - i - 1) * sizeof(double))
            memmove(&side.sizes[i], &side.sizes[i + 1], (side.n - i - 1) * sizeof(double))
            side.n -= 1
    elif size != 0.0:
        if side.n == side.cap:
            _reserve(side, side.n + 1)
        memmove(&side.keys[i + 1], &side.keys[i], (side.n - i) * sizeof(double))
        memmove(&side.sizes[i + 1], &side.sizes[i], (side.n - i) * sizeof(double))
        side.keys[i] = key
        side.sizes[i] = size
        side.n += 1
    return 0


cdef int _apply(Side* side, object levels, double sign) except -1:
    cdef double price, size
    cdef Py_ssize_t i = 0
    cdef PyObject* item
    cdef PyObject* p
    cdef PyObject* s
    if type(levels) is list:
        # the usual level, a (float, float) tuple, read through borrowed references
        while i < PyList_GET_SIZE(levels):
            item = PyList_GET_ITEM(levels, i)
            i += 1
            if PyTuple_CheckExact(<object> item) and PyTuple_GET_SIZE(<object> item) == 2:
                p = PyTuple_GET_ITEM(<object> item, 0)
                s = PyTuple_GET_ITEM(<object> item, 1)
                if PyFloat_CheckExact(<object> p) and PyFloat_CheckExact(<object> s):
                    _set(side, sign * PyFloat_AS_DOUBLE(<object> p), PyFloat_AS_DOUBLE(<object> s))
                    continue
            level = <object> item
            price = level[0]
            size = level[1]
            _set(side, sign * price, size)
        return 0
    for level in levels:
        price = level[0]
        size = level[1]
        _set(side, sign * price, size)
    return 0


cdef list _top(Side* side, Py_ssize_t n, double sign):
    cdef Py_ssize_t i
    cdef list out = []
    if n < 0 or n > side.n:
        n = side.n
    for i in range(n):
        out.append((sign * side.keys[i], side.sizes[i]))
    return out


cdef class L2Book:
    """Price-level book of one symbol, kept at exactly ``depth`` levels per side.

    See :class:`cexfeed.book.PyL2Book` for the documented API; this class behaves the same.
    """

    cdef Side _bids
    cdef Side _asks
    cdef readonly Py_ssize_t depth
    cdef public long long last_update_id
    cdef public object exchange_ts  # ms of the last change, None when the venue gave none

    def __cinit__(self, Py_ssize_t depth=100):
        self.depth = depth
        self.last_update_id = 0
        self.exchange_ts = None

    def __dealloc__(self):
        free(self._bids.keys)
        free(self._bids.sizes)
        free(self._asks.keys)
        free(self._asks.sizes)

    def clear(self):
        self._bids.n = 0
        self._asks.n = 0
        self.last_update_id = 0

    def replace(self, bids, asks, long long update_id):
        self._bids.n = 0
        self._asks.n = 0
        _apply(&self._bids, bids, -1.0)
        _apply(&self._asks, asks, 1.0)
        self._truncate()
        self.last_update_id = update_id

    def apply(self, bids, asks):
        if bids:
            _apply(&self._bids, bids, -1.0)
        if asks:
            _apply(&self._asks, asks, 1.0)
        self._truncate()

    cdef inline void _truncate(self) noexcept:
        if self._bids.n > self.depth:
            self._bids.n = self.depth
        if self._asks.n > self.depth:
            self._asks.n = self.depth

    def best_bid(self):
        if self._bids.n == 0:
            return None
        return (-self._bids.keys[0], self._bids.sizes[0])

    def best_ask(self):
        if self._asks.n == 0:
            return None
        return (self._asks.keys[0], self._asks.sizes[0])

    def crossed(self):
        return self._bids.n > 0 and self._asks.n > 0 and -self._bids.keys[0] >= self._asks.keys[0]

    def top_bids(self, n=None):
        return _top(&self._bids, -1 if n is None else n, -1.0)

    def top_asks(self, n=None):
        return _top(&self._asks, -1 if n is None else n, 1.0)

    @property
    def bids(self):
        """Bids as a dict price -> size, best first (a copy)."""
        return dict(_top(&self._bids, -1, -1.0))

    @property
    def asks(self):
        """Asks as a dict price -> size, best first (a copy)."""
        return dict(_top(&self._asks, -1, 1.0))

    @property
    def bid_count(self):
        return self._bids.n

    @property
    def ask_count(self):
        return self._asks.n
