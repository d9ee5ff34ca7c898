# Part of _fastprivate.pyx (included there): the normalizers, twins of the handlers' order(),
# fill(), position() and the spot balance() (private_spot.py, private_futures.py): one push item's
# slots -> its event.

cdef inline bint _fraction_text(Tok* v, int i) noexcept:
    """Whether the number text of field ``i`` may hold a fraction (a ``.`` or an exponent)."""
    cdef Py_ssize_t k
    if not v[i].flags or v[i].flags & F_NULL:
        return False
    for k in range(v[i].n):
        if v[i].s[k] == c'.' or v[i].s[k] == c'e' or v[i].s[k] == c'E':
            return True
    return False


cdef int _whole(AccountReader self, object contract, Tok* v, int a, int b) except -1:
    """Raise :class:`_TwinReads` when the count of field ``a`` or ``b`` (-1: none) has a
    fraction while ``contract`` trades whole contracts only (the twin counts it malformed,
    :func:`cexfeed.wire.check_contracts`). Only a count written with a ``.`` or an exponent is
    asked about: integer text is whole."""
    if not (_fraction_text(v, a) or (b >= 0 and _fraction_text(v, b))) or self.whole is None or not self.whole(contract):
        return 0
    try:
        wire.check_contracts("size", self._dec(v, a), True)
        if b >= 0:
            wire.check_contracts("left", self._dec(v, b), True)
    except ValueError:
        raise _TwinReads()
    return 0


cdef object _spot_order(AccountReader self, Tok* v, object recv_ts):
    cdef tuple d = self.defaults[0]
    cdef int ev_slot
    pair = self._upper(v, SO_PAIR)
    side = self._str(v, SO_SIDE, d)
    otype = self._str(v, SO_TYPE, d)
    amount = self._dec(v, SO_AMOUNT)
    left = self._dec(v, SO_LEFT)
    if left is not None and left > amount:
        raise _TwinReads()
    filled_total = self._dec(v, SO_FILLED_TOTAL)
    if otype == "market" and side == "buy":  # amount and left in quote currency
        o_amount = o_left = None
        q_amount, q_left = amount, left
        filled = self._dec(v, SO_FILLED)
    else:
        o_amount, o_left = amount, left
        q_amount = q_left = None
        filled = self._dec(v, SO_FILLED)
        if filled is None and left is not None:
            filled = self.subtract(amount, left)
    filled_something = bool(filled) or bool(filled_total)
    event = self._str(v, SO_EVENT, d)
    if event:
        ev_slot = SO_EVENT
    else:
        ev_slot = SO_STATUS
        event = self._str(v, SO_STATUS, d)
    finish = self._str(v, SO_FINISH_AS, d)
    if event == "finish" or event in self.rest_finished:
        status = self._status(finish or self.rest_finished.get(event, ""), filled_something, left is not None and v[SO_LEFT].flags & F_ZERO)
    elif event == "put" or event == "update" or event == "open":
        status = _PARTIAL if filled_something else _OPEN
    else:
        status = _UNKNOWN
    if (status is _FILLED and left is not None and not v[SO_LEFT].flags & F_ZERO and not filled_something
            and (filled is not None or filled_total is not None)):
        raise _TwinReads()  # finished filled with nothing filled and something left: malformed, the twin counts it
    updated = self._ms(v, SO_UPDATE_MS, SO_UPDATE)
    price = self._dec(v, SO_PRICE)
    avg = self._dec(v, SO_AVG)
    tif = self._str(v, SO_TIF, d)
    return Order(
        "gateio", SPOT, self._name(pair), pair, updated, recv_ts, self._new_text(v, SO_ID), side, otype, status,
        self._raw_status(v, ev_slot, SO_FINISH_AS, event, finish), price if price and otype != "market" else None,
        o_amount, filled, o_left, q_amount, q_left, filled_total, None, None, None, avg if avg else None, self._dec(v, SO_FEE),
        self._upper(v, SO_FEE_CURRENCY), self._client(v, SO_TEXT), tif or None, None,
        self._ms(v, SO_CREATE_MS, SO_CREATE), updated, None,
    )

cdef object _spot_fill(AccountReader self, Tok* v, object recv_ts):
    cdef tuple d = self.defaults[1]
    pair = self._upper(v, ST_PAIR)
    return Fill(
        "gateio", SPOT, self._name(pair), pair, self._ms(v, ST_CREATE_MS, ST_CREATE), recv_ts,
        self._new_text(v, ST_ID), self._new_text(v, ST_ORDER_ID), self._str(v, ST_SIDE, d),
        self._dec(v, ST_PRICE), self._dec(v, ST_AMOUNT), None, self._str(v, ST_ROLE, d) or None, self._dec(v, ST_FEE),
        self._upper(v, ST_FEE_CURRENCY), self._client(v, ST_TEXT),
    )

cdef object _futures_order(AccountReader self, Tok* v, object recv_ts):
    cdef tuple d = self.defaults[2]
    contract = self._upper(v, FO_CONTRACT)  # (older API versions send it lower case)
    size = self._dec(v, FO_SIZE)
    contracts = abs(size)
    left = self._dec(v, FO_LEFT)
    if contracts >= _MAX_CONTRACTS or (left is not None and abs(left) >= _MAX_CONTRACTS):
        raise _TwinReads()  # beyond the contract count bound: malformed, the twin counts it
    left_c = abs(left) if left is not None else None
    filled = self.subtract(contracts, left_c) if left_c is not None else None
    if filled is not None and filled < _DECIMAL_ZERO and not v[FO_SIZE].flags & F_ZERO:
        raise _TwinReads()
    if left is not None and not v[FO_LEFT].flags & F_ZERO and (v[FO_LEFT].flags & F_NEG) != (v[FO_SIZE].flags & F_NEG):
        raise _TwinReads()  # left of the other sign than size: malformed, the twin counts it
    _whole(self, contract, v, FO_SIZE, FO_LEFT)  # a fraction of a whole-contracts contract: malformed, the twin counts it
    side = "close" if v[FO_SIZE].flags & F_ZERO else "sell" if v[FO_SIZE].flags & F_NEG else "buy"
    state = self._str(v, FO_STATUS, d)
    finish = self._str(v, FO_FINISH_AS, d)
    filled_something = bool(filled)
    if state == "finished":
        status = self._status(finish, filled_something, left_c is not None and v[FO_LEFT].flags & F_ZERO)
    elif state == "open":
        status = _PARTIAL if filled_something else _OPEN
    else:
        status = _UNKNOWN
    updated = self._ms(v, FO_UPDATE_TIME, FO_FINISH_MS)
    if updated is None and v[FO_FINISH].v >= 0:
        updated = v[FO_FINISH].v
    created = self._ms(v, FO_CREATE_MS, FO_CREATE)
    mult = self._mult(contract)
    price = self._dec(v, FO_PRICE)
    avg = self._dec(v, FO_FILL_PRICE)
    fee = self._dec(v, FO_FEE)
    oid = (self._new_text(v, FO_ID_STRING) if v[FO_ID_STRING].flags and not v[FO_ID_STRING].flags & F_NULL else None) or self._new_text(v, FO_ID)
    multiply = self.multiply
    return Order(
        "gateio", PERP, self._name(contract), contract, updated if updated is not None else created, recv_ts, oid, side,
        "limit" if price else "market", status, self._raw_status(v, FO_STATUS, FO_FINISH_AS, state, finish), price if price else None,
        multiply(contracts, mult) if mult is not None else None,
        multiply(filled, mult) if mult is not None and filled is not None else None,
        multiply(left_c, mult) if mult is not None and left_c is not None else None,
        None, None, None, contracts, filled, left_c, avg if avg else None, fee, self.settle if fee is not None else None,
        self._client(v, FO_TEXT), self._str(v, FO_TIF, d) or None,
        None if not v[FO_REDUCE_ONLY].flags or v[FO_REDUCE_ONLY].flags & F_NULL else v[FO_REDUCE_ONLY].v == 1, created, updated,
        v[FO_UPDATE_ID].v if v[FO_UPDATE_ID].flags and not v[FO_UPDATE_ID].flags & F_NULL else None,
    )

cdef object _futures_fill(AccountReader self, Tok* v, object recv_ts):
    cdef tuple d = self.defaults[3]
    contract = self._upper(v, FT_CONTRACT)  # (older API versions send it lower case)
    size = self._dec(v, FT_SIZE)
    contracts = abs(size)
    if contracts >= _MAX_CONTRACTS:
        raise _TwinReads()
    _whole(self, contract, v, FT_SIZE, -1)
    fee = self._dec(v, FT_FEE)
    symbol = self._name(contract)
    mult = self._mult(contract)
    return Fill(
        "gateio", PERP, symbol, contract, self._ms(v, FT_CREATE_MS, FT_CREATE), recv_ts,
        self._new_text(v, FT_ID), self._new_text(v, FT_ORDER_ID),
        "sell" if v[FT_SIZE].flags & (F_NEG | F_ZERO) else "buy", self._dec(v, FT_PRICE),
        self.multiply(contracts, mult) if mult is not None else None, contracts, self._str(v, FT_ROLE, d) or None, fee,
        self.settle if fee is not None else None, self._client(v, FT_TEXT),
    )

cdef object _position(AccountReader self, Tok* v, object recv_ts):
    cdef tuple d = self.defaults[4]
    contract = self._upper(v, FP_CONTRACT)  # (older API versions send it lower case)
    mode = self._str(v, FP_MODE, d)
    size = self._dec(v, FP_SIZE)
    if mode not in _MODES or abs(size) >= _MAX_CONTRACTS or (mode == DUAL_LONG and size < 0) or (mode == DUAL_SHORT and size > 0):
        raise _TwinReads()  # an unknown mode, a count beyond the bound, a dual size of the other sign: malformed, the twin counts it
    _whole(self, contract, v, FP_SIZE, -1)
    mode = mode or "single"
    stamp = self._ms(v, FP_TIME_MS, FP_TIME)
    if stamp is None and v[FP_UPDATE_TIME].v >= 0:
        stamp = v[FP_UPDATE_TIME].v
    if mode == DUAL_LONG:
        side = LONG
    elif mode == DUAL_SHORT:
        side = SHORT
    elif v[FP_SIZE].flags & F_ZERO:
        side = None
    else:
        side = SHORT if v[FP_SIZE].flags & F_NEG else LONG
    symbol = self._name(contract)
    mult = self._mult(contract)
    entry = self._dec(v, FP_ENTRY)
    mark = self._dec(v, FP_MARK)
    liq = self._dec(v, FP_LIQ)
    return Position(
        "gateio", PERP, symbol, contract, stamp, recv_ts, mode, side, size, self.multiply(size, mult) if mult is not None else None,
        entry if entry else None, mark if mark else None, liq if liq else None, self._dec(v, FP_MARGIN), self._dec(v, FP_LEVERAGE),
        self._dec(v, FP_REALISED), self._dec(v, FP_UNREALISED),
        v[FP_UPDATE_ID].v if v[FP_UPDATE_ID].flags and not v[FP_UPDATE_ID].flags & F_NULL else None, bool(v[FP_SIZE].flags & F_ZERO),
    )


cdef object _spot_balance(AccountReader self, Tok* v, object recv_ts):
    cdef tuple d = self.defaults[5]
    return Balance(
        "gateio", SPOT, "", "", self._ms(v, SB_TIME_MS, SB_TIME), recv_ts, self._upper(v, SB_CURRENCY), self._dec(v, SB_TOTAL),
        self._dec(v, SB_AVAILABLE), self._dec(v, SB_FREEZE), self._dec(v, SB_CHANGE), self._str(v, SB_CHANGE_TYPE, d),
    )
