# The compiled account state core (_account.pyx), for C callers: the compiled account-push reader
# (exchanges/gateio/_fastprivate.pyx) applies its events without a Python call. And the reading of
# a field at its slot, which both use.

from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF


cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        Py_ssize_t offset
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member


cdef inline Py_ssize_t _offset(object cls, str name) except -1:
    """The slot offset of field ``name`` of ``cls`` (a msgspec Struct or a class with
    ``__slots__``: each field has a member descriptor). Raises ``ImportError`` otherwise (the
    module was built for other classes)."""
    from types import MemberDescriptorType

    for klass in cls.__mro__:
        descr = klass.__dict__.get(name)
        if descr is not None:
            if type(descr) is not MemberDescriptorType:
                break
            return (<PyMemberDescrObject*> descr).d_member.offset
    raise ImportError(f"{cls.__name__}.{name} is not a slot; rebuild the compiled parts")


cdef inline object _slot(object obj, Py_ssize_t offset):
    """The field at ``offset`` of ``obj`` (an instance of the class the offset was taken from:
    the caller checks its type)."""
    cdef PyObject* value = (<PyObject**> ((<char*> <PyObject*> obj) + offset))[0]
    if value == NULL:
        raise AttributeError("unset field")
    return <object> value


cdef class AccountCore:
    cdef public str venue, market
    cdef public dict balances, open_orders, positions, fills, fill_sums, _closed_positions
    cdef public object closed_orders, stats, last_fill_ts
    cdef public Py_ssize_t max_closed, max_fills

    cdef object c_apply_order(self, object order)
    cdef object c_apply_fill(self, object fill)
    cdef object c_apply_balance(self, object balance)
    cdef object c_apply_position(self, object position)


cdef inline int _set_slot(object obj, Py_ssize_t offset, object value) except -1:
    """Store ``value`` in the field at ``offset`` of ``obj`` (see :func:`_slot`)."""
    cdef PyObject** at = <PyObject**> ((<char*> <PyObject*> obj) + offset)
    cdef PyObject* old = at[0]
    Py_INCREF(value)
    at[0] = <PyObject*> value
    Py_XDECREF(old)
    return 0
