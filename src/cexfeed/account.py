"""Account state of one venue account (venue-free): balances, open orders, positions and own
fills, kept consistent from normalized account events (:mod:`cexfeed.models`).

Every ``apply_*`` method takes one normalized event and returns the event to publish, or
``None`` when the event changes nothing (a duplicate) or is older than what the state holds
(counted in :attr:`AccountState.stats`). The rules, the same for every venue:

- **orders** (:meth:`AccountState.apply_order`), keyed by order id: an update for an unknown
  order creates it; a terminal order (``filled``, ``canceled``, ``rejected``, ``expired``)
  leaves the open set and is never reopened; an update is older than the held one when its
  ``update_id`` is smaller, its filled quantity smaller or its ``updated_ts`` earlier; a status
  ``unknown`` is published with the raw value but the state keeps the lifecycle it had; so is a
  side not ``buy``/``sell``/``close`` (``unknown``, an unparseable value) on an order held with
  a known side: the state keeps that side (counted, ``unknown_side``);
- **fills** (:meth:`AccountState.apply_fill`), deduplicated by trade id; the sum of a finished
  order's fills never exceeds its filled quantity (checked, counted);
- **balances** (:meth:`AccountState.apply_balance`) by currency, absolute values; an update
  stamped earlier than the held one is dropped (a balance without a time, e.g. from a REST
  snapshot, is ordered by arrival);
- **positions** (:meth:`AccountState.apply_position`) keyed by (symbol, mode); a size of 0
  closes and removes one (published once, ``closed=True``, with the side it had); an update
  with an ``update_id`` not above the held (or last closed) one is dropped.

:meth:`AccountState.reconcile` applies a REST :class:`AccountSnapshot` the same way and also
closes what the snapshot shows gone, so that after a reconnect each change missed while
disconnected is published exactly once. :meth:`AccountState.invariants` lists what does not add
up.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from decimal import Decimal
from typing import Iterable

import msgspec

from .models import DUAL_LONG, DUAL_SHORT, LONG, SHORT, AccountEvent, Balance, Fill, Order, OrderStatus, Position
from .wire import EXACT

# fill sums never round (the default context keeps 28 digits)
_add = EXACT.add

_ZERO = Decimal(0)
_UNKNOWN = OrderStatus.UNKNOWN
_TERMINAL = frozenset(s for s in OrderStatus if s.terminal)
# the sides an order can have; anything else (``unknown``, a new venue value) never replaces one
_KNOWN_SIDES = frozenset(("buy", "sell", "close"))


class AccountSnapshot(msgspec.Struct, kw_only=True):
    """What a venue's REST API says about an account at one moment, normalized.

    ``balances``: every currency the venue lists (``balances_complete``: a held currency absent
    from the list has gone to zero); ``open_orders``: every working order; ``orders``: the
    final state of orders that are no longer open (fetched by id after a reconnect);
    ``positions``: every open position (``None`` on spot: not part of the snapshot); ``fills``:
    own trades since the last one the state had seen (deduplicated by id on apply);
    ``taken_ts``: ms (server time) when the snapshot was requested."""

    balances: list[Balance] = []
    balances_complete: bool = True
    open_orders: list[Order] = []
    orders: list[Order] = []
    positions: list[Position] | None = None
    fills: list[Fill] = []
    taken_ts: int | None = None


def position_side(mode: str, contracts: Decimal) -> str | None:
    """``long``/``short`` of a position: by mode in dual mode, by the sign of the contract count
    in single mode (``None`` when flat)."""
    if mode == DUAL_LONG:
        return LONG
    if mode == DUAL_SHORT:
        return SHORT
    if contracts > 0:
        return LONG
    if contracts < 0:
        return SHORT
    return None


def _closed_size(size: Decimal | None, held_size: Decimal | None) -> Decimal | None:
    """Base size of a closed position: 0 (the frame's own zero kept, e.g. ``0.00``); ``None``
    only when neither the close nor the held position knew a base size."""
    if size is not None and size == 0:
        return size
    if size is None and held_size is None:
        return None
    return _ZERO


class PyAccountState:
    """Balances, open orders, positions and fills of one account (``venue``/``market`` as on
    events; spot and futures accounts are separate states). The pure-Python state; use
    :class:`AccountState` (its ``apply_*`` methods compiled when ``cexfeed._account`` is built).

    ``max_closed`` finished orders and ``max_fills`` fill ids are remembered (oldest forgotten
    first) to reject late duplicates. ``stats`` counts dropped and inconsistent input by kind:
    ``stale_order``, ``duplicate_order``, ``reopen_refused``, ``duplicate_fill``,
    ``stale_balance``, ``stale_position``, ``fills_exceed_order``, ``unknown_status``,
    ``unknown_side``.
    """

    def __init__(self, venue: str = "", market: str = "", max_closed: int = 10_000, max_fills: int = 200_000) -> None:
        self.venue = venue
        self.market = market
        self.balances: dict[str, Balance] = {}
        self.open_orders: dict[str, Order] = {}
        self.closed_orders: OrderedDict[str, Order] = OrderedDict()
        self.positions: dict[tuple[str, str], Position] = {}
        # trade id -> fill, oldest first (a dict keeps insertion order)
        self.fills: dict[str, Fill] = {}
        # per order id: (base amount, contracts) of the fills seen
        self.fill_sums: dict[str, tuple[Decimal, Decimal]] = {}
        # (symbol, mode) -> update_id of the update that closed it
        self._closed_positions: dict[tuple[str, str], int | None] = {}
        self.last_fill_ts: int | None = None
        self.max_closed = max_closed
        self.max_fills = max_fills
        self.stats: Counter[str] = Counter()

    # -- lookups -----------------------------------------------------------------------------
    def order(self, order_id: str) -> Order | None:
        """The held state of an order, open or finished (``None`` if unknown or forgotten)."""
        return self.open_orders.get(order_id) or self.closed_orders.get(order_id)

    # -- orders ------------------------------------------------------------------------------
    def apply_order(self, order: Order) -> Order | None:
        """Apply one order update (see the module docstring); returns it to publish, or ``None``."""
        oid = order.order_id
        held = self.open_orders.get(oid)
        if held is None:
            held = self.closed_orders.get(oid)
        if held is not None:
            verdict = _order_verdict(held, order)
            if verdict:
                self.stats[verdict] += 1
                return None
        record = order
        if order.status is _UNKNOWN:
            self.stats["unknown_status"] += 1
            if held is not None:
                # an undocumented value never moves the lifecycle by itself
                record = msgspec.structs.replace(order, status=held.status)
        if held is not None and order.side not in _KNOWN_SIDES and held.side in _KNOWN_SIDES:
            # nor does it forget the side the order has (the event keeps the venue's value)
            self.stats["unknown_side"] += 1
            record = msgspec.structs.replace(record, side=held.side, raw_side=held.raw_side)
        if record.status in _TERMINAL:
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

    # -- fills -------------------------------------------------------------------------------
    def apply_fill(self, fill: Fill) -> Fill | None:
        """Record one own trade; ``None`` for a trade id already seen."""
        tid = fill.trade_id
        fills = self.fills
        if tid in fills:
            self.stats["duplicate_fill"] += 1
            return None
        fills[tid] = fill
        if len(fills) > self.max_fills:
            del fills[next(iter(fills))]
        oid = fill.order_id
        sums = self.fill_sums.get(oid)
        amount = fill.amount
        count = fill.contracts
        if sums is None:  # an order's first fill: its sums are its own quantities
            self.fill_sums[oid] = (_ZERO if amount is None else amount, _ZERO if count is None else count)
        else:
            base, contracts = sums
            self.fill_sums[oid] = (_add(base, amount) if amount is not None else base, _add(contracts, count) if count is not None else contracts)
        ts = fill.exchange_ts
        if ts is not None and (self.last_fill_ts is None or ts > self.last_fill_ts):
            self.last_fill_ts = ts
        if oid in self.closed_orders:
            self._check_fills(oid)
        return fill

    def _check_fills(self, order_id: str) -> None:
        # only a finished order's filled quantity is final: a fill may come before the order
        # update that counts it
        sums = self.fill_sums.get(order_id)
        order = self.closed_orders.get(order_id) if sums is not None else None
        if order is None:
            return
        base, contracts = sums  # type: ignore[misc]
        if (order.filled is not None and base > order.filled) or (order.filled_contracts is not None and contracts > order.filled_contracts):
            self.stats["fills_exceed_order"] += 1

    # -- balances ----------------------------------------------------------------------------
    def apply_balance(self, balance: Balance) -> Balance | None:
        """Apply one absolute balance; ``None`` when older than the held one or unchanged."""
        held = self.balances.get(balance.currency)
        if held is not None:
            if balance.exchange_ts is not None and held.exchange_ts is not None and balance.exchange_ts < held.exchange_ts:
                self.stats["stale_balance"] += 1
                return None
            if (held.total, held.available, held.frozen) == (balance.total, balance.available, balance.frozen):
                return None
        self.balances[balance.currency] = balance
        return balance

    # -- positions ---------------------------------------------------------------------------
    def apply_position(self, position: Position) -> Position | None:
        """Apply one position update; a zero size closes it (see the module docstring)."""
        key = (position.symbol, position.mode)
        held = self.positions.get(key)
        last_id = held.update_id if held is not None else self._closed_positions.get(key)
        if position.update_id is not None and last_id is not None and position.update_id <= last_id:
            self.stats["stale_position"] += 1
            return None
        if position.contracts == 0:
            if held is None:
                if position.update_id is not None:
                    self._closed_positions[key] = position.update_id
                return None
            del self.positions[key]
            self._closed_positions[key] = position.update_id
            # a close says no side (size 0): it closes the side it had (ccxt#25766); a closed
            # position has no base size either, whatever the frame or the held one said
            return msgspec.structs.replace(
                position, closed=True, side=position.side or held.side, size=_closed_size(position.size, held.size)
            )
        self._closed_positions.pop(key, None)
        if held is not None and _same_position(held, position):
            self.positions[key] = position
            return None
        self.positions[key] = position
        return position

    # -- REST snapshot -----------------------------------------------------------------------
    def reconcile(self, snapshot: AccountSnapshot, recv_ts: int) -> list[AccountEvent]:
        """Apply a REST snapshot; returns the events that changed the state, each once: orders
        (open ones, then final states of those that left), fills (oldest first), balances
        (a held currency absent from a complete list goes to zero), positions (a held one
        absent from the list is closed)."""
        out: list[AccountEvent] = []
        for order in (*snapshot.open_orders, *snapshot.orders):
            if (event := self.apply_order(order)) is not None:
                out.append(event)
        for fill in sorted(snapshot.fills, key=_fill_key):
            if (event := self.apply_fill(fill)) is not None:
                out.append(event)
        listed = set()
        for balance in snapshot.balances:
            listed.add(balance.currency)
            if (event := self.apply_balance(balance)) is not None:
                out.append(event)
        if snapshot.balances_complete:
            for currency, held in list(self.balances.items()):
                if currency not in listed and (held.total or held.available or held.frozen):
                    zero = msgspec.structs.replace(
                        held, exchange_ts=snapshot.taken_ts, recv_ts=recv_ts, total=_ZERO, available=_ZERO, frozen=_ZERO,
                        change=None, change_type="snapshot",
                    )
                    if (event := self.apply_balance(zero)) is not None:
                        out.append(event)
        if snapshot.positions is not None:
            present = set()
            for position in snapshot.positions:
                present.add((position.symbol, position.mode))
                if (event := self.apply_position(position)) is not None:
                    out.append(event)
            for key, held in list(self.positions.items()):
                if key not in present:
                    gone = msgspec.structs.replace(
                        held, exchange_ts=snapshot.taken_ts, recv_ts=recv_ts, contracts=_ZERO, size=_ZERO if held.size is not None else None,
                        update_id=None, closed=True,
                    )
                    if (event := self.apply_position(gone)) is not None:
                        out.append(event)
        return out

    def apply(self, event: AccountEvent) -> AccountEvent | None:
        """Dispatch to the ``apply_*`` method of the event's type; other events pass through."""
        cls = event.__class__
        if cls is Order:
            return self.apply_order(event)  # type: ignore[arg-type]
        if cls is Fill:
            return self.apply_fill(event)  # type: ignore[arg-type]
        if cls is Balance:
            return self.apply_balance(event)  # type: ignore[arg-type]
        if cls is Position:
            return self.apply_position(event)  # type: ignore[arg-type]
        return event

    # -- checks ------------------------------------------------------------------------------
    def invariants(self) -> dict[str, list[str]]:
        """What does not add up now, by rule: ``fill_sum`` (a finished order whose fills do not
        sum to its filled quantity, or any order whose fills exceed it), ``terminal_open`` (a
        terminal order in the open set), ``zero_position`` (a held position of size 0)."""
        problems: dict[str, list[str]] = {"fill_sum": [], "terminal_open": [], "zero_position": []}
        for oid, (base, contracts) in self.fill_sums.items():
            order = self.order(oid)
            if order is None:
                continue
            for got, want in ((base, order.filled), (contracts, order.filled_contracts)):
                if want is None:
                    continue
                if got > want or (order.status.terminal and got != want):
                    problems["fill_sum"].append(f"{oid}: fills {got} vs filled {want}")
        problems["terminal_open"] = [oid for oid, o in self.open_orders.items() if o.status.terminal]
        problems["zero_position"] = [f"{s} {m}" for (s, m), p in self.positions.items() if p.contracts == 0]
        return {rule: found for rule, found in problems.items() if found}

    def clear(self) -> None:
        """Forget everything (balances, orders, positions, fills, counters)."""
        self.__init__(self.venue, self.market, self.max_closed, self.max_fills)  # type: ignore[misc]

    def summary(self) -> dict[str, int]:
        return {
            "balances": len(self.balances),
            "open_orders": len(self.open_orders),
            "positions": len(self.positions),
            "fills": len(self.fills),
        }


try:  # the compiled twin of the apply_* methods (tests/test_account_state.py compares them)
    from ._account import AccountCore
except ImportError:  # pragma: no cover - no compiler, or CEXFEED_PURE_PYTHON
    AccountCore = None

if AccountCore is not None:

    class AccountState(AccountCore, PyAccountState):  # type: ignore[misc]
        __doc__ = PyAccountState.__doc__

else:  # pragma: no cover
    AccountState = PyAccountState  # type: ignore[misc]


def _fill_key(fill: Fill) -> tuple:
    return (fill.exchange_ts or 0, fill.trade_id)


def _progress(order: Order) -> tuple:
    """How far an order has got: filled base, filled contracts (``None`` compared as equal)."""
    return order.filled, order.filled_contracts


def _less(now: Decimal | None, before: Decimal | None) -> bool:
    return now is not None and before is not None and now < before


def _order_verdict(held: Order, new: Order) -> str:
    """``""`` when ``new`` may replace ``held``, else the counter naming why not."""
    held_final = held.status in _TERMINAL
    if held_final and new.status not in _TERMINAL:
        return "reopen_refused"
    new_id = new.update_id
    if new_id is not None and held.update_id is not None:
        if new_id < held.update_id:
            return "stale_order"
        if new_id == held.update_id:
            return "duplicate_order"
    if _less(new.filled, held.filled) or _less(new.filled_contracts, held.filled_contracts):
        return "stale_order"
    if new.updated_ts is not None and held.updated_ts is not None and new.updated_ts < held.updated_ts:
        return "stale_order"
    if held_final and _progress(new) == _progress(held) and (new.updated_ts is None or new.updated_ts == held.updated_ts):
        # a final state seen again (REST after the push, or two venue values for one end):
        # the first one stands
        return "duplicate_order"
    if _same_order(held, new):
        return "duplicate_order"
    return ""


def _same_order(a: Order, b: Order) -> bool:
    return (
        a.status is b.status
        and a.filled == b.filled
        and a.left == b.left
        and a.quote_left == b.quote_left
        and a.filled_contracts == b.filled_contracts
        and a.filled_quote == b.filled_quote
        and a.price == b.price
        and a.amount == b.amount
        and a.avg_price == b.avg_price
        and a.fee == b.fee
    )


def _same_position(a: Position, b: Position) -> bool:
    return a.contracts == b.contracts and a.entry_price == b.entry_price and a.margin == b.margin and a.realised_pnl == b.realised_pnl and a.leverage == b.leverage


def apply_all(state: AccountState, events: Iterable[AccountEvent]) -> list[AccountEvent]:
    """:meth:`AccountState.apply` over ``events``; the ones to publish, in order."""
    out = []
    for event in events:
        result = state.apply(event)
        if result is not None:
            out.append(result)
    return out
