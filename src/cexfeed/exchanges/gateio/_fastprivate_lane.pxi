# Part of _fastprivate.pyx (included there): the reader's lane into the handler, what
# AccountReader.handle_message does with a push it reads: count it, apply each event to the
# handler's account state, publish what changed (the handler's _account_event and _emit, in C).

# what handle() reads and counts at their slots: the handler's counters, each event's name and time
cdef Py_ssize_t _FRAMES = _offset(HandlerStats, "frames")
cdef Py_ssize_t _EVENTS = _offset(HandlerStats, "events")
cdef Py_ssize_t _ORDER_SYMBOL = _offset(Order, "venue_symbol")
cdef Py_ssize_t _ORDER_TS = _offset(Order, "recv_ts")
cdef Py_ssize_t _FILL_SYMBOL = _offset(Fill, "venue_symbol")
cdef Py_ssize_t _FILL_TS = _offset(Fill, "recv_ts")
cdef Py_ssize_t _POSITION_SYMBOL = _offset(Position, "venue_symbol")
cdef Py_ssize_t _POSITION_TS = _offset(Position, "recv_ts")
cdef Py_ssize_t _BALANCE_SYMBOL = _offset(Balance, "venue_symbol")
cdef Py_ssize_t _BALANCE_TS = _offset(Balance, "recv_ts")


cdef bint _handle(AccountReader self, object raw, object recv_ts) except -1:
    """The pushes :meth:`AccountReader.handle_message` takes (False: the handler's own path)."""
    if type(raw) is not bytes or self.hdict.get("_syncing", True):
        return False
    out = self._read(raw, recv_ts, False)
    if out is None:
        return False
    stats = self.stats
    _set_slot(stats, _FRAMES, _slot(stats, _FRAMES) + 1)
    try:
        if type(out) is list:
            for event in out:
                _publish(self, event)
        else:
            _publish(self, out)
    except Exception as exc:
        self.handler._failed(raw, recv_ts, exc)
    return True


cdef int _publish(AccountReader self, object event) except -1:
    """Apply one event to the handler's state and publish what changed (``_account_event``, ``_emit``)."""
    cdef AccountCore core = self.core
    cls = type(event)
    if core is None:
        result = self.handler._appliers[cls](event)
    elif cls is Order:
        result = core.c_apply_order(event)
    elif cls is Fill:
        result = core.c_apply_fill(event)
    elif cls is Balance:
        result = core.c_apply_balance(event)
    else:
        result = core.c_apply_position(event)
    if result is None:
        return 0
    cls = type(result)
    if cls is Order:
        symbol, seen, ts = _slot(result, _ORDER_SYMBOL), self.seen_order, _slot(result, _ORDER_TS)
    elif cls is Fill:
        symbol, seen, ts = _slot(result, _FILL_SYMBOL), self.seen_fill, _slot(result, _FILL_TS)
    elif cls is Balance:
        symbol, seen, ts = _slot(result, _BALANCE_SYMBOL), self.seen_balance, _slot(result, _BALANCE_TS)
    else:
        symbol, seen, ts = _slot(result, _POSITION_SYMBOL), self.seen_position, _slot(result, _POSITION_TS)
    # a symbol the handler does not follow is not published (applied all the same), as _emit
    only = self.hdict.get("_only")
    if only is not None and symbol not in only and not self.handler._admit(result):
        return 0
    stats = self.stats
    _set_slot(stats, _EVENTS, _slot(stats, _EVENTS) + 1)
    PyDict_SetItem(seen, symbol, ts)
    callback = self.hdict.get("_on_event")
    if callback is not None:
        try:
            callback(result)
        except Exception as exc:
            self.handler._count_error("callback", b"", exc)
    return 0
