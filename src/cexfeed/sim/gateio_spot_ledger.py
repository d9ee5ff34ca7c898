"""The simulated Gate spot account: a small matching ledger (balances available/locked, orders,
own trades) driven by control calls, producing the pushes Gate sends for each action
(gateio-protocol.md §8) and the REST bodies of the account endpoints.

It is the oracle the client is compared with: every value is ``decimal.Decimal`` computed here
and written as the venue writes it (strings), never through the client's decoders.

Rules: a limit buy locks ``amount x price`` quote, a sell locks ``amount`` base; a fill of ``q``
at the order's price moves the locked side and credits the other, minus a fee of
``fee_rate`` in the currency received; a market buy spends a quote amount at one price, buys the
base amount that fits (rounded down to ``base_decimals``) and finishes ``filled`` with the
remainder left as quote dust (pitfalls D.1 #22); a cancel unlocks what is left. Order ids are
strings above 2**60 (beyond a float's exact integers); trade ids integers above 10**16.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, Callable

D = Decimal
ZERO = D(0)

#: one push: (venue channel, pair or "" for account-wide, the result item)
Push = tuple[str, str, dict[str, Any]]

ORDERS = "spot.orders"
TRADES = "spot.usertrades"
BALANCES = "spot.balances"


def fmt(d: Decimal) -> str:
    """A Decimal as the venue writes it: plain digits, no exponent, no trailing zeros."""
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class LedgerError(ValueError):
    """A control call that the venue would refuse (unknown order, not enough funds ...)."""


@dataclass(slots=True)
class SpotOrder:
    id: str
    pair: str
    side: str
    type: str
    amount: Decimal
    price: Decimal
    left: Decimal
    text: str
    tif: str
    create_ms: int
    update_ms: int
    filled_amount: Decimal = ZERO
    filled_total: Decimal = ZERO
    fee: Decimal = ZERO
    fee_currency: str = ""
    event: str = "put"
    status: str = "open"
    finish_as: str = "open"

    def wire(self, uid: str, rest: bool = False) -> dict[str, Any]:
        avg = self.filled_total / self.filled_amount if self.filled_amount else ZERO
        body: dict[str, Any] = {
            "id": self.id, "text": self.text, "amend_text": "-",
            "create_time": str(self.create_ms // 1000), "update_time": str(self.update_ms // 1000),
            "create_time_ms": str(self.create_ms) if not rest else self.create_ms,
            "update_time_ms": str(self.update_ms) if not rest else self.update_ms,
            "currency_pair": self.pair, "type": self.type, "account": "spot", "side": self.side,
            "amount": fmt(self.amount), "price": fmt(self.price), "time_in_force": self.tif, "left": fmt(self.left),
            "filled_amount": fmt(self.filled_amount), "filled_total": fmt(self.filled_total),
            "avg_deal_price": fmt(avg.quantize(D("1e-12"), ROUND_DOWN)) if avg else "0",
            "fee": fmt(self.fee), "fee_currency": self.fee_currency, "point_fee": "0", "gt_fee": "0", "gt_discount": False,
            "rebated_fee": "0", "rebated_fee_currency": self.pair.split("_")[1], "stp_id": 0, "stp_act": "-",
            "finish_as": self.finish_as, "biz_info": "-",
        }
        if rest:
            body["status"] = self.status
        else:
            body["user"] = int(uid)
            body["event"] = self.event
        return body


@dataclass(slots=True)
class SpotTrade:
    id: int
    order_id: str
    pair: str
    side: str
    amount: Decimal
    price: Decimal
    role: str
    fee: Decimal
    fee_currency: str
    text: str
    ms: int

    def wire(self, uid: str, rest: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": str(self.id) if rest else self.id, "order_id": self.order_id, "currency_pair": self.pair,
            "create_time": str(self.ms // 1000) if rest else self.ms // 1000, "create_time_ms": f"{self.ms}.{self.id % 1000:03d}",
            "side": self.side, "amount": fmt(self.amount), "role": self.role, "price": fmt(self.price),
            "fee": fmt(self.fee), "fee_currency": self.fee_currency, "point_fee": "0", "gt_fee": "0", "text": self.text,
        }
        if not rest:
            body["user_id"] = int(uid)
            body["id_market"] = self.id
        return body


class SpotLedger:
    """One user's spot account. ``now_ms()`` is the venue clock; ``fee_rate`` per fill."""

    def __init__(self, uid: str, now_ms: Callable[[], int], fee_rate: Decimal = D("0.002"), base_decimals: int = 6) -> None:
        self.uid = uid
        self.now_ms = now_ms
        self.fee_rate = fee_rate
        self.base_step = D(1).scaleb(-base_decimals)
        self.balances: dict[str, list[Decimal]] = {}
        self.orders: dict[str, SpotOrder] = {}
        self.trades: list[SpotTrade] = []
        self._order_seq = 2**60 + 1000
        self._trade_seq = 10**16

    # -- helpers -------------------------------------------------------------------------------
    def _bal(self, currency: str) -> list[Decimal]:
        return self.balances.setdefault(currency, [ZERO, ZERO])

    def _balance_push(self, currency: str, change: Decimal, freeze_change: Decimal, change_type: str, ms: int) -> Push:
        available, locked = self._bal(currency)
        return (BALANCES, "", {
            "timestamp": str(ms // 1000), "timestamp_ms": str(ms), "user": self.uid, "currency": currency,
            "change": fmt(change), "total": fmt(available + locked), "available": fmt(available), "freeze": fmt(locked),
            "freeze_change": fmt(freeze_change), "change_type": change_type,
        })

    def _order(self, order_id: str) -> SpotOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise LedgerError(f"unknown order {order_id}")
        return order

    def _order_push(self, order: SpotOrder) -> Push:
        return (ORDERS, order.pair, order.wire(self.uid))

    # -- actions -------------------------------------------------------------------------------
    def deposit(self, currency: str, amount: Decimal | str) -> list[Push]:
        amount = D(amount)
        self._bal(currency)[0] += amount
        return [self._balance_push(currency, amount, ZERO, "deposit", self.now_ms())]

    def place(self, pair: str, side: str, amount: Decimal | str, price: Decimal | str, text: str = "", tif: str = "gtc") -> tuple[SpotOrder, list[Push]]:
        amount, price = D(amount), D(price)
        base, quote = pair.split("_")
        lock_currency, lock = (quote, amount * price) if side == "buy" else (base, amount)
        bal = self._bal(lock_currency)
        if bal[0] < lock:
            raise LedgerError(f"not enough {lock_currency}: {fmt(bal[0])} < {fmt(lock)}")
        ms = self.now_ms()
        self._order_seq += 1
        order = SpotOrder(str(self._order_seq), pair, side, "limit", amount, price, amount, text or f"t-{self._order_seq}", tif, ms, ms,
                          fee_currency=base if side == "buy" else quote)
        self.orders[order.id] = order
        bal[0] -= lock
        bal[1] += lock
        return order, [self._order_push(order), self._balance_push(lock_currency, -lock, lock, "order-create", ms)]

    def fill(self, order_id: str, amount: Decimal | str | None = None, role: str = "maker") -> list[Push]:
        order = self._order(order_id)
        if order.status != "open":
            raise LedgerError(f"order {order_id} is {order.status}")
        qty = order.left if amount is None else D(amount)
        if not ZERO < qty <= order.left:
            raise LedgerError(f"fill {fmt(qty)} outside (0, {fmt(order.left)}]")
        base, quote = order.pair.split("_")
        price = order.price
        value = qty * price
        ms = self.now_ms()
        self._trade_seq += 1
        if order.side == "buy":
            fee = qty * self.fee_rate
            spent, got = (quote, value), (base, qty - fee)
        else:
            fee = value * self.fee_rate
            spent, got = (base, qty), (quote, value - fee)
        self._bal(spent[0])[1] -= spent[1]
        self._bal(got[0])[0] += got[1]
        trade = SpotTrade(self._trade_seq, order.id, order.pair, order.side, qty, price, role, fee, got[0], order.text, ms)
        self.trades.append(trade)
        order.left -= qty
        order.filled_amount += qty
        order.filled_total += value
        order.fee += fee
        order.update_ms = ms
        if order.left == 0:
            order.event, order.status, order.finish_as = "finish", "closed", "filled"
        else:
            order.event = "update"
        return [
            (TRADES, order.pair, trade.wire(self.uid)),
            self._order_push(order),
            self._balance_push(spent[0], -spent[1], -spent[1], "order-match", ms),
            self._balance_push(got[0], got[1], ZERO, "order-match", ms),
        ]

    def cancel(self, order_id: str) -> list[Push]:
        order = self._order(order_id)
        if order.status != "open":
            raise LedgerError(f"order {order_id} is {order.status}")
        base, quote = order.pair.split("_")
        currency, unlock = (quote, order.left * order.price) if order.side == "buy" else (base, order.left)
        bal = self._bal(currency)
        bal[1] -= unlock
        bal[0] += unlock
        ms = self.now_ms()
        order.update_ms = ms
        order.event, order.status, order.finish_as = "finish", "cancelled", "cancelled"
        return [self._order_push(order), self._balance_push(currency, unlock, -unlock, "order-update", ms)]

    def market_buy(self, pair: str, quote_amount: Decimal | str, price: Decimal | str, text: str = "") -> tuple[SpotOrder, list[Push]]:
        """Spend ``quote_amount`` at ``price``: the base amount that fits, the rest left as dust."""
        quote_amount, price = D(quote_amount), D(price)
        base, quote = pair.split("_")
        bal = self._bal(quote)
        if bal[0] < quote_amount:
            raise LedgerError(f"not enough {quote}")
        qty = (quote_amount / price).quantize(self.base_step, ROUND_DOWN)
        spent = qty * price
        fee = qty * self.fee_rate
        ms = self.now_ms()
        self._order_seq += 1
        self._trade_seq += 1
        order = SpotOrder(str(self._order_seq), pair, "buy", "market", quote_amount, ZERO, quote_amount, text or f"t-{self._order_seq}",
                          "ioc", ms, ms, fee_currency=base)
        self.orders[order.id] = order
        pushes = [self._order_push(order)]
        bal[0] -= spent
        self._bal(base)[0] += qty - fee
        trade = SpotTrade(self._trade_seq, order.id, pair, "buy", qty, price, "taker", fee, base, order.text, ms)
        self.trades.append(trade)
        order.left = quote_amount - spent
        order.filled_amount, order.filled_total, order.fee = qty, spent, fee
        order.event, order.status, order.finish_as = "finish", "closed", "filled"
        pushes += [
            (TRADES, pair, trade.wire(self.uid)),
            self._order_push(order),
            self._balance_push(quote, -spent, ZERO, "order-match", ms),
            self._balance_push(base, qty - fee, ZERO, "order-match", ms),
        ]
        return order, pushes

    # -- REST bodies -----------------------------------------------------------------------------
    def rest_accounts(self) -> list[dict[str, Any]]:
        return [{"currency": c, "available": fmt(a), "locked": fmt(lk), "update_id": 1} for c, (a, lk) in self.balances.items()]

    def rest_open_orders(self, page: int, limit: int) -> list[dict[str, Any]]:
        """Open orders grouped by pair; ``page``/``limit`` page each pair's orders (as Gate)."""
        by_pair: dict[str, list[SpotOrder]] = {}
        for order in self.orders.values():
            if order.status == "open":
                by_pair.setdefault(order.pair, []).append(order)
        out = []
        for pair, orders in by_pair.items():
            shown = orders[(page - 1) * limit: page * limit]
            if shown:
                out.append({"currency_pair": pair, "total": len(orders), "orders": [o.wire(self.uid, rest=True) for o in shown]})
        return out

    def rest_orders(self, status: str, pair: str, since_s: int, page: int, limit: int) -> list[dict[str, Any]]:
        """``GET /spot/orders``: ``open`` or ``finished`` orders of ``pair`` (every pair when
        ``""``, finished only) created at or after ``since_s``, newest first, paged."""
        found = [o for o in reversed(self.orders.values()) if (o.status == "open") == (status == "open")
                 and (not pair or o.pair == pair) and o.create_ms // 1000 >= since_s]
        return [o.wire(self.uid, rest=True) for o in found[(page - 1) * limit: page * limit]]

    def rest_order(self, order_id: str) -> dict[str, Any] | None:
        order = self.orders.get(order_id)
        return order.wire(self.uid, rest=True) if order is not None else None

    def rest_my_trades(self, since_s: int, page: int, limit: int) -> list[dict[str, Any]]:
        found = [t for t in reversed(self.trades) if t.ms // 1000 >= since_s]
        return [t.wire(self.uid, rest=True) for t in found[(page - 1) * limit: page * limit]]

    # -- the oracle ------------------------------------------------------------------------------
    def open_order_ids(self) -> set[str]:
        return {o.id for o in self.orders.values() if o.status == "open"}

    def totals(self) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        """currency -> (total, available, locked)."""
        return {c: (a + lk, a, lk) for c, (a, lk) in self.balances.items()}
