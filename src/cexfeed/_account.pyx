# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled twin of the hot methods of :class:`cexfeed.account.PyAccountState`: ``apply_order``,
``apply_fill``, ``apply_balance`` and ``apply_position`` (the same rules, line for line, as C).
:class:`cexfeed.account.AccountState` takes them from :class:`AccountCore` when this module is
built and everything else (reconcile, invariants, ...) from the pure-Python class;
``tests/test_account_state.py`` holds the two to each other (hypothesis: any sequence of
events gives the same published events, state and counters)."""

from decimal import Decimal

import msgspec

from cexfeed.models import Balance, Fill, Order, OrderStatus, Position
from cexfeed.wire import EXACT

# fill sums never round (the default context keeps 28 digits)
_add = EXACT.add


cdef object _ZERO = Decimal(0)
cdef object _UNKNOWN = OrderStatus.UNKNOWN
cdef frozenset _KNOWN_SIDES = frozenset(("buy", "sell", "close"))
# the terminal statuses, compared by identity (an enum member's hash is a Python call)
cdef object _FILLED = OrderStatus.FILLED
cdef object _CANCELED = OrderStatus.CANCELED
cdef object _REJECTED = OrderStatus.REJECTED
cdef object _EXPIRED = OrderStatus.EXPIRED
if {s for s in OrderStatus if s.terminal} != {_FILLED, _CANCELED, _REJECTED, _EXPIRED}:
    raise ImportError("cexfeed._account was built for other terminal statuses; rebuild it")
cdef object _replace = msgspec.structs.replace


cdef object _py_state = None


cdef object _twin():
    """The pure-Python class (:class:`cexfeed.account.PyAccountState`)."""
    global _py_state
    if _py_state is None:
        from cexfeed.account import PyAccountState

        _py_state = PyAccountState
    return _py_state


cdef inline bint _terminal(object status) noexcept:
    return status is _FILLED or status is _CANCELED or status is _REJECTED or status is _EXPIRED


# -- event fields read at their slots (_slot, _offset: _account.pxd) ----------------------------

cdef Py_ssize_t O_ID = _offset(Order, "order_id")
cdef Py_ssize_t O_STATUS = _offset(Order, "status")
cdef Py_ssize_t O_SIDE = _offset(Order, "side")
cdef Py_ssize_t O_UPDATE_ID = _offset(Order, "update_id")
cdef Py_ssize_t O_FILLED = _offset(Order, "filled")
cdef Py_ssize_t O_FILLED_CONTRACTS = _offset(Order, "filled_contracts")
cdef Py_ssize_t O_UPDATED = _offset(Order, "updated_ts")
cdef Py_ssize_t O_LEFT = _offset(Order, "left")
cdef Py_ssize_t O_QUOTE_LEFT = _offset(Order, "quote_left")
cdef Py_ssize_t O_FILLED_QUOTE = _offset(Order, "filled_quote")
cdef Py_ssize_t O_PRICE = _offset(Order, "price")
cdef Py_ssize_t O_AMOUNT = _offset(Order, "amount")
cdef Py_ssize_t O_AVG = _offset(Order, "avg_price")
cdef Py_ssize_t O_FEE = _offset(Order, "fee")
cdef Py_ssize_t F_TRADE_ID = _offset(Fill, "trade_id")
cdef Py_ssize_t F_ORDER_ID = _offset(Fill, "order_id")
cdef Py_ssize_t F_AMOUNT = _offset(Fill, "amount")
cdef Py_ssize_t F_CONTRACTS = _offset(Fill, "contracts")
cdef Py_ssize_t F_TS = _offset(Fill, "exchange_ts")
cdef Py_ssize_t P_SYMBOL = _offset(Position, "symbol")
cdef Py_ssize_t P_MODE = _offset(Position, "mode")
cdef Py_ssize_t P_UPDATE_ID = _offset(Position, "update_id")
cdef Py_ssize_t P_CONTRACTS = _offset(Position, "contracts")
cdef Py_ssize_t P_ENTRY = _offset(Position, "entry_price")
cdef Py_ssize_t P_MARGIN = _offset(Position, "margin")
cdef Py_ssize_t P_REALISED = _offset(Position, "realised_pnl")
cdef Py_ssize_t P_LEVERAGE = _offset(Position, "leverage")


cdef inline bint _less(object now, object before) except -1:
    return now is not None and before is not None and now < before


cdef inline bint _eq(object a, object b, Py_ssize_t offset) except -1:
    return _slot(a, offset) == _slot(b, offset)


cdef bint _same_order(object a, object b) except -1:
    return (
        _slot(a, O_STATUS) is _slot(b, O_STATUS)
        and _eq(a, b, O_FILLED)
        and _eq(a, b, O_LEFT)
        and _eq(a, b, O_QUOTE_LEFT)
        and _eq(a, b, O_FILLED_CONTRACTS)
        and _eq(a, b, O_FILLED_QUOTE)
        and _eq(a, b, O_PRICE)
        and _eq(a, b, O_AMOUNT)
        and _eq(a, b, O_AVG)
        and _eq(a, b, O_FEE)
    )


cdef str _order_verdict(object held, object new):
    """``""`` when ``new`` may replace ``held``, else the counter naming why not."""
    cdef bint held_final = _terminal(_slot(held, O_STATUS))
    if held_final and not _terminal(_slot(new, O_STATUS)):
        return "reopen_refused"
    new_id = _slot(new, O_UPDATE_ID)
    held_id = _slot(held, O_UPDATE_ID)
    if new_id is not None and held_id is not None:
        if new_id < held_id:
            return "stale_order"
        if new_id == held_id:
            return "duplicate_order"
    new_filled = _slot(new, O_FILLED)
    held_filled = _slot(held, O_FILLED)
    new_contracts = _slot(new, O_FILLED_CONTRACTS)
    held_contracts = _slot(held, O_FILLED_CONTRACTS)
    if _less(new_filled, held_filled) or _less(new_contracts, held_contracts):
        return "stale_order"
    new_ts = _slot(new, O_UPDATED)
    held_ts = _slot(held, O_UPDATED)
    if new_ts is not None and held_ts is not None and new_ts < held_ts:
        return "stale_order"
    if held_final and new_filled == held_filled and new_contracts == held_contracts and (new_ts is None or new_ts == held_ts):
        # a final state seen again (REST after the push, or two venue values for one end):
        # the first one stands
        return "duplicate_order"
    if _same_order(held, new):
        return "duplicate_order"
    return ""


cdef bint _same_position(object a, object b) except -1:
    return (_eq(a, b, P_CONTRACTS) and _eq(a, b, P_ENTRY) and _eq(a, b, P_MARGIN) and _eq(a, b, P_REALISED) and _eq(a, b, P_LEVERAGE))


cdef class AccountCore:
    """The state and the hot ``apply_*`` methods of an account state (see the module docstring;
    the rules are :mod:`cexfeed.account`'s). The ``c_apply_*`` methods are the same for C
    callers (the compiled account-push reader), declared in ``_account.pxd``."""

    def apply_order(self, order):
        """Apply one order update; returns it to publish, or ``None``."""
        return self.c_apply_order(order)

    cdef object c_apply_order(self, object order):
        if type(order) is not Order:  # (another class: the pure-Python rules, by attribute)
            return _twin().apply_order(self, order)
        oid = _slot(order, O_ID)
        held = self.open_orders.get(oid)
        if held is None:
            held = self.closed_orders.get(oid)
        if held is not None:
            verdict = _order_verdict(held, order)
            if verdict:
                self.stats[verdict] += 1
                return None
        record = order
        status = _slot(order, O_STATUS)
        if status is _UNKNOWN:
            self.stats["unknown_status"] += 1
            if held is not None:
                # an undocumented value never moves the lifecycle by itself
                status = _slot(held, O_STATUS)
                record = _replace(order, status=status)
        if held is not None and _slot(order, O_SIDE) not in _KNOWN_SIDES and _slot(held, O_SIDE) in _KNOWN_SIDES:
            # nor does it forget the side the order has (the event keeps the venue's value)
            self.stats["unknown_side"] += 1
            record = _replace(record, side=_slot(held, O_SIDE), raw_side=held.raw_side)
        if _terminal(status):
            self.open_orders.pop(oid, None)
            closed = self.closed_orders
            closed[oid] = record
            closed.move_to_end(oid)
            if len(closed) > self.max_closed:
                closed.popitem(last=False)
            self._check_fills(oid)
        else:
            self.open_orders[oid] = record
        return order

    def apply_fill(self, fill):
        """Record one own trade; ``None`` for a trade id already seen."""
        return self.c_apply_fill(fill)

    cdef object c_apply_fill(self, object fill):
        if type(fill) is not Fill:  # (another class: the pure-Python rules, by attribute)
            return _twin().apply_fill(self, fill)
        tid = _slot(fill, F_TRADE_ID)
        cdef dict fills = self.fills
        cdef Py_ssize_t held = len(fills)
        fills.setdefault(tid, fill)  # (one lookup: stored now, or held already)
        if len(fills) == held:
            self.stats["duplicate_fill"] += 1
            return None
        if len(fills) > self.max_fills:
            del fills[next(iter(fills))]
        oid = _slot(fill, F_ORDER_ID)
        sums = self.fill_sums.get(oid)
        amount = _slot(fill, F_AMOUNT)
        count = _slot(fill, F_CONTRACTS)
        if sums is None:  # an order's first fill: its sums are its own quantities
            self.fill_sums[oid] = (_ZERO if amount is None else amount, _ZERO if count is None else count)
        else:
            base, contracts = sums
            self.fill_sums[oid] = (_add(base, amount) if amount is not None else base, _add(contracts, count) if count is not None else contracts)
        ts = _slot(fill, F_TS)
        if ts is not None and (self.last_fill_ts is None or ts > self.last_fill_ts):
            self.last_fill_ts = ts
        if oid in self.closed_orders:
            self._check_fills(oid)
        return fill

    def _check_fills(self, order_id):
        # only a finished order's filled quantity is final: a fill may come before the order
        # update that counts it
        sums = self.fill_sums.get(order_id)
        order = self.closed_orders.get(order_id) if sums is not None else None
        if order is None:
            return
        base, contracts = sums
        filled = order.filled
        filled_contracts = order.filled_contracts
        if (filled is not None and base > filled) or (filled_contracts is not None and contracts > filled_contracts):
            self.stats["fills_exceed_order"] += 1

    def apply_balance(self, balance):
        """Apply one absolute balance; ``None`` when older than the held one or unchanged."""
        return self.c_apply_balance(balance)

    cdef object c_apply_balance(self, object balance):
        currency = balance.currency
        held = self.balances.get(currency)
        if held is not None:
            ts = balance.exchange_ts
            held_ts = held.exchange_ts
            if ts is not None and held_ts is not None and ts < held_ts:
                self.stats["stale_balance"] += 1
                return None
            if held.total == balance.total and held.available == balance.available and held.frozen == balance.frozen:
                return None
        self.balances[currency] = balance
        return balance

    def apply_position(self, position):
        """Apply one position update; a zero size closes it."""
        return self.c_apply_position(position)

    cdef object c_apply_position(self, object position):
        if type(position) is not Position:  # (another class: the pure-Python rules, by attribute)
            return _twin().apply_position(self, position)
        key = (_slot(position, P_SYMBOL), _slot(position, P_MODE))
        held = self.positions.get(key)
        last_id = _slot(held, P_UPDATE_ID) if held is not None else self._closed_positions.get(key)
        update_id = _slot(position, P_UPDATE_ID)
        if update_id is not None and last_id is not None and update_id <= last_id:
            self.stats["stale_position"] += 1
            return None
        if _slot(position, P_CONTRACTS) == 0:
            if held is None:
                if update_id is not None:
                    self._closed_positions[key] = update_id
                return None
            del self.positions[key]
            self._closed_positions[key] = update_id
            # a close says no side (size 0): it closes the side it had (ccxt#25766)
            size = position.size
            if size is None:
                size = None if held.size is None else _ZERO
            elif size != 0:
                size = _ZERO
            return _replace(position, closed=True, side=position.side or held.side, size=size)
        self._closed_positions.pop(key, None)
        if held is not None and _same_position(held, position):
            self.positions[key] = position
            return None
        self.positions[key] = position
        return position
