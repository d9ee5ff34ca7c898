"""The simulated MEXC spot account: a small matching ledger (balances free/locked, orders, own
trades) driven by control calls, producing the private pushes MEXC sends for each action
(mexc-protocol.md §2.3 bodies, as values; the simulator encodes them with the protobuf runtime)
and the REST bodies of the account endpoints (``/api/v3/account``, ``/api/v3/openOrders``,
``/api/v3/order``, ``/api/v3/allOrders``, ``/api/v3/myTrades``).

It is the oracle the client is compared with: every value is ``decimal.Decimal`` computed here
and written as text, never through the client's decoders.

Rules: a limit buy locks ``quantity x price`` quote, a sell locks ``quantity`` base; a fill of
``q`` at the order's price takes the locked side and credits the other, less a fee of
``fee_rate`` in the currency received; a cancel unlocks what is left and ends the order
``4`` (canceled) or, after a partial fill, ``5`` (partially canceled); a market buy spends a
quote amount at one price (the base amount that fits, rounded down) and ends ``2`` (filled).
Order ids look like the venue's (``C02__<digits>``), trade ids ``<digits>X1``. ``frozen_ms``
(when set) is the time of every action: many trades within one ms.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, Callable

from .gateio_spot_ledger import LedgerError, fmt

D = Decimal
ZERO = D(0)

# wrapper bodies (§2.1) of the pushes
ORDERS = "spot@private.orders.v3.api.pb"
DEALS = "spot@private.deals.v3.api.pb"
ACCOUNT = "spot@private.account.v3.api.pb"

#: one push: (venue channel, venue symbol or "" for account-wide, body field values)
Push = tuple[str, str, dict[str, Any]]

# §2.3 codes
BUY, SELL = 1, 2
LIMIT, POST_ONLY, IOC, FOK, MARKET = 1, 2, 3, 4, 5
NEW, FILLED, PARTIALLY_FILLED, CANCELED, PARTIALLY_CANCELED = 1, 2, 3, 4, 5
ORDER_TYPES = {"LIMIT": LIMIT, "POST_ONLY": POST_ONLY, "LIMIT_MAKER": POST_ONLY, "IMMEDIATE_OR_CANCEL": IOC, "FILL_OR_KILL": FOK, "MARKET": MARKET}
REST_TYPES = {LIMIT: "LIMIT", POST_ONLY: "LIMIT_MAKER", IOC: "IMMEDIATE_OR_CANCEL", FOK: "FILL_OR_KILL", MARKET: "MARKET"}
REST_STATUS = {NEW: "NEW", FILLED: "FILLED", PARTIALLY_FILLED: "PARTIALLY_FILLED", CANCELED: "CANCELED", PARTIALLY_CANCELED: "PARTIALLY_CANCELED"}
WORKING = (NEW, PARTIALLY_FILLED)
QUOTES = ("USDT", "USDC", "BTC", "ETH")


def split_symbol(symbol: str) -> tuple[str, str]:
    """``BTCUSDT`` -> (``BTC``, ``USDT``) by known quote suffix. Raises ``LedgerError``."""
    for quote in QUOTES:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    raise LedgerError(f"unknown symbol {symbol}")


@dataclass(slots=True)
class MexcOrder:
    id: str
    symbol: str
    side: int
    type: int
    quantity: Decimal
    price: Decimal
    client_id: str
    create_ms: int
    update_ms: int
    filled: Decimal = ZERO
    filled_amount: Decimal = ZERO
    status: int = NEW
    last_deal: Decimal | None = None
    quote_quantity: Decimal = ZERO  # a market buy's quote amount

    @property
    def remain(self) -> Decimal:
        return self.quantity - self.filled

    def body(self) -> dict[str, Any]:
        """The ``PrivateOrdersV3Api`` fields (§2.3) of this order now."""
        avg = (self.filled_amount / self.filled).quantize(D("1e-8"), ROUND_DOWN) if self.filled else ZERO
        amount = self.quote_quantity if self.type == MARKET else self.quantity * self.price
        out: dict[str, Any] = {
            "id": self.id, "clientId": self.client_id, "price": fmt(self.price), "quantity": fmt(self.quantity), "amount": fmt(amount),
            "avgPrice": fmt(avg), "orderType": self.type, "tradeType": self.side, "isMaker": self.type != MARKET,
            "remainAmount": fmt(amount - self.filled_amount), "remainQuantity": fmt(self.remain),
            "cumulativeQuantity": fmt(self.filled), "cumulativeAmount": fmt(self.filled_amount), "status": self.status,
            "createTime": self.create_ms,
        }
        if self.last_deal is not None:
            out["lastDealQuantity"] = fmt(self.last_deal)
        return out

    def rest(self) -> dict[str, Any]:
        """The order as ``/api/v3/openOrders`` and ``/api/v3/order`` give it."""
        return {
            "symbol": self.symbol, "orderId": self.id, "orderListId": -1, "clientOrderId": self.client_id, "price": fmt(self.price),
            "origQty": fmt(self.quantity), "executedQty": fmt(self.filled), "cummulativeQuoteQty": fmt(self.filled_amount),
            "status": REST_STATUS[self.status], "timeInForce": "", "type": REST_TYPES[self.type], "side": "BUY" if self.side == BUY else "SELL",
            "stopPrice": "", "icebergQty": "", "time": self.create_ms, "updateTime": self.update_ms, "isWorking": self.status in WORKING,
            "origQuoteOrderQty": fmt(self.quote_quantity) if self.type == MARKET else "",
        }


@dataclass(slots=True)
class MexcTrade:
    id: str
    order: MexcOrder
    quantity: Decimal
    price: Decimal
    maker: bool
    fee: Decimal
    fee_currency: str
    ms: int

    def body(self) -> dict[str, Any]:
        """The ``PrivateDealsV3Api`` fields (§2.3)."""
        return {
            "price": fmt(self.price), "quantity": fmt(self.quantity), "amount": fmt(self.quantity * self.price), "tradeType": self.order.side,
            "isMaker": self.maker, "isSelfTrade": False, "tradeId": self.id, "clientOrderId": self.order.client_id,
            "orderId": self.order.id, "feeAmount": fmt(self.fee), "feeCurrency": self.fee_currency, "time": self.ms,
        }

    def rest(self) -> dict[str, Any]:
        """The trade as ``/api/v3/myTrades`` gives it."""
        return {
            "symbol": self.order.symbol, "id": self.id, "orderId": self.order.id, "orderListId": -1, "price": fmt(self.price),
            "qty": fmt(self.quantity), "quoteQty": fmt(self.quantity * self.price), "commission": fmt(self.fee),
            "commissionAsset": self.fee_currency, "time": self.ms, "isBuyer": self.order.side == BUY, "isMaker": self.maker,
            "isBestMatch": True, "isSelfTrade": False, "clientOrderId": self.order.client_id,
        }


class MexcSpotLedger:
    """One user's MEXC spot account. ``now_ms()`` is the venue clock; ``fee_rate`` per fill."""

    def __init__(self, uid: str, now_ms: Callable[[], int], fee_rate: Decimal = D("0.001"), base_decimals: int = 6) -> None:
        self.uid = uid
        self._clock = now_ms
        self.frozen_ms: int | None = None
        self.fee_rate = fee_rate
        self.base_step = D(1).scaleb(-base_decimals)
        self.balances: dict[str, list[Decimal]] = {}
        self.orders: dict[str, MexcOrder] = {}
        self.trades: list[MexcTrade] = []
        self._order_seq = 505979017439002624000
        self._trade_seq = 505979017439002624

    # -- helpers -------------------------------------------------------------------------------
    def now_ms(self) -> int:
        """The time of an action: the venue clock, or ``frozen_ms`` when set."""
        return self._clock() if self.frozen_ms is None else self.frozen_ms

    def _bal(self, currency: str) -> list[Decimal]:
        return self.balances.setdefault(currency, [ZERO, ZERO])

    def _account(self, currency: str, change: Decimal, frozen_change: Decimal, change_type: str, ms: int) -> Push:
        free, locked = self._bal(currency)
        return (ACCOUNT, "", {
            "vcoinName": currency, "coinId": hashlib.md5(currency.encode()).hexdigest(), "balanceAmount": fmt(free),
            "balanceAmountChange": fmt(change), "frozenAmount": fmt(locked), "frozenAmountChange": fmt(frozen_change),
            "type": change_type, "time": ms,
        })

    def order(self, order_id: str) -> MexcOrder:
        found = self.orders.get(order_id)
        if found is None:
            raise LedgerError(f"unknown order {order_id}")
        return found

    def _next_order(self, symbol: str, side: int, kind: int, quantity: Decimal, price: Decimal, client_id: str) -> MexcOrder:
        self._order_seq += 1
        ms = self.now_ms()
        order = MexcOrder(f"C02__{self._order_seq}", symbol, side, kind, quantity, price, client_id, ms, ms)
        self.orders[order.id] = order
        return order

    # -- actions -------------------------------------------------------------------------------
    def deposit(self, currency: str, amount: Decimal | str) -> list[Push]:
        amount = D(amount)
        self._bal(currency)[0] += amount
        return [self._account(currency, amount, ZERO, "DEPOSIT", self.now_ms())]

    def place(self, symbol: str, side: str, quantity: Decimal | str, price: Decimal | str, order_type: str = "LIMIT",
              client_id: str = "") -> tuple[MexcOrder, list[Push]]:
        quantity, price = D(quantity), D(price)
        kind = ORDER_TYPES.get(order_type.upper())
        if kind is None or kind == MARKET:
            raise LedgerError(f"place takes a limit order type, not {order_type}")
        base, quote = split_symbol(symbol)
        buy = side.upper() == "BUY"
        lock_currency, lock = (quote, quantity * price) if buy else (base, quantity)
        bal = self._bal(lock_currency)
        if bal[0] < lock:
            raise LedgerError(f"not enough {lock_currency}: {fmt(bal[0])} < {fmt(lock)}")
        order = self._next_order(symbol, BUY if buy else SELL, kind, quantity, price, client_id)
        bal[0] -= lock
        bal[1] += lock
        return order, [(ORDERS, symbol, order.body()), self._account(lock_currency, -lock, lock, "ENTRUST_PLACE", order.create_ms)]

    def fill(self, order_id: str, quantity: Decimal | str | None = None, maker: bool = True) -> list[Push]:
        order = self.order(order_id)
        if order.status not in WORKING:
            raise LedgerError(f"order {order_id} is done (status {order.status})")
        qty = order.remain if quantity is None else D(quantity)
        if not ZERO < qty <= order.remain:
            raise LedgerError(f"fill {fmt(qty)} outside (0, {fmt(order.remain)}]")
        base, quote = split_symbol(order.symbol)
        value = qty * order.price
        if order.side == BUY:
            fee = qty * self.fee_rate
            spent, got = (quote, value), (base, qty - fee)
        else:
            fee = value * self.fee_rate
            spent, got = (base, qty), (quote, value - fee)
        ms = self.now_ms()
        self._bal(spent[0])[1] -= spent[1]
        self._bal(got[0])[0] += got[1]
        self._trade_seq += 1
        trade = MexcTrade(f"{self._trade_seq}X1", order, qty, order.price, maker, fee, got[0], ms)
        self.trades.append(trade)
        order.filled += qty
        order.filled_amount += value
        order.last_deal = qty
        order.update_ms = ms
        order.status = FILLED if order.remain == 0 else PARTIALLY_FILLED
        return [
            (DEALS, order.symbol, trade.body()),
            (ORDERS, order.symbol, order.body()),
            self._account(spent[0], ZERO, -spent[1], "ENTRUST", ms),
            self._account(got[0], got[1], ZERO, "ENTRUST", ms),
        ]

    def cancel(self, order_id: str) -> list[Push]:
        order = self.order(order_id)
        if order.status not in WORKING:
            raise LedgerError(f"order {order_id} is done (status {order.status})")
        base, quote = split_symbol(order.symbol)
        currency, unlock = (quote, order.remain * order.price) if order.side == BUY else (base, order.remain)
        bal = self._bal(currency)
        bal[1] -= unlock
        bal[0] += unlock
        ms = self.now_ms()
        order.update_ms = ms
        order.last_deal = None
        order.status = PARTIALLY_CANCELED if order.filled else CANCELED
        return [(ORDERS, order.symbol, order.body()), self._account(currency, unlock, -unlock, "ENTRUST_CANCEL", ms)]

    def market_buy(self, symbol: str, quote_amount: Decimal | str, price: Decimal | str, client_id: str = "") -> tuple[MexcOrder, list[Push]]:
        """Spend ``quote_amount`` at ``price``: the base amount that fits; the rest stays free."""
        quote_amount, price = D(quote_amount), D(price)
        base, quote = split_symbol(symbol)
        bal = self._bal(quote)
        if bal[0] < quote_amount:
            raise LedgerError(f"not enough {quote}")
        qty = (quote_amount / price).quantize(self.base_step, ROUND_DOWN)
        if qty <= 0:
            raise LedgerError("market buy below one base step")
        order = self._next_order(symbol, BUY, MARKET, qty, price, client_id)
        order.quote_quantity = quote_amount
        spent, fee = qty * price, qty * self.fee_rate
        ms = order.create_ms
        bal[0] -= spent
        self._bal(base)[0] += qty - fee
        self._trade_seq += 1
        trade = MexcTrade(f"{self._trade_seq}X1", order, qty, price, False, fee, base, ms)
        self.trades.append(trade)
        order.filled, order.filled_amount, order.last_deal, order.status = qty, spent, qty, FILLED
        return order, [
            (DEALS, symbol, trade.body()),
            (ORDERS, symbol, order.body()),
            self._account(quote, -spent, ZERO, "ENTRUST", ms),
            self._account(base, qty - fee, ZERO, "ENTRUST", ms),
        ]

    # -- REST bodies -----------------------------------------------------------------------------
    def rest_account(self) -> dict[str, Any]:
        return {
            "makerCommission": None, "takerCommission": None, "buyerCommission": None, "sellerCommission": None, "canTrade": True,
            "canWithdraw": True, "canDeposit": True, "updateTime": None, "accountType": "SPOT",
            "balances": [{"asset": c, "free": fmt(f), "locked": fmt(lk)} for c, (f, lk) in self.balances.items()],
            "permissions": ["SPOT"],
        }

    def rest_open_orders(self, symbol: str = "") -> list[dict[str, Any]]:
        """Working orders of ``symbol`` (every symbol's when empty)."""
        return [o.rest() for o in self.orders.values() if (not symbol or o.symbol == symbol) and o.status in WORKING]

    def rest_all_orders(self, symbol: str, start_ms: int, end_ms: int, limit: int) -> list[dict[str, Any]]:
        """Orders of ``symbol`` created in ``[start_ms, end_ms]``, any status, newest first (the
        venue documents no order), at most ``limit``."""
        found = [o for o in self.orders.values() if o.symbol == symbol and start_ms <= o.create_ms <= end_ms]
        return [o.rest() for o in reversed(found[-limit:])] if limit else []

    def rest_order(self, symbol: str, order_id: str) -> dict[str, Any] | None:
        order = self.orders.get(order_id)
        return order.rest() if order is not None and order.symbol == symbol else None

    def rest_my_trades(self, symbol: str, start_ms: int | None, end_ms: int | None, limit: int, order_id: str = "") -> list[dict[str, Any]]:
        """Own trades of ``symbol`` (of order ``order_id`` when given) in ``[start_ms, end_ms]``,
        oldest first, at most ``limit``."""
        found = [t for t in self.trades if t.order.symbol == symbol and (start_ms is None or t.ms >= start_ms)
                 and (end_ms is None or t.ms <= end_ms) and (not order_id or t.order.id == order_id)]
        return [t.rest() for t in found[:limit]]

    # -- the oracle ------------------------------------------------------------------------------
    def open_order_ids(self) -> set[str]:
        return {o.id for o in self.orders.values() if o.status in WORKING}

    def totals(self) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        """currency -> (total, free, locked)."""
        return {c: (f + lk, f, lk) for c, (f, lk) in self.balances.items()}
