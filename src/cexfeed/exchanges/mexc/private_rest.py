"""MEXC spot REST account snapshot for seeding and reconciling an account stream (signed
requests, mexc-protocol.md §3.2; the bodies are the venue's Binance-style v3 shapes):

- ``GET /api/v3/account`` -> ``balances: [{asset, free, locked}]``: ``available`` = ``free``,
  ``frozen`` = ``locked`` (``total`` is ``None``, as on the pushes: the venue states no total);
- ``GET /api/v3/openOrders?symbol=`` (one call per symbol: the venue requires it) -> working
  orders ``{orderId, clientOrderId, price, origQty, executedQty, cummulativeQuoteQty, status,
  type, side, time, updateTime, origQuoteOrderQty}``;
- ``GET /api/v3/order?symbol=&orderId=`` -> the final state of an order the state holds open
  that is no longer listed, and of an order a missed fill names;
- ``GET /api/v3/myTrades?symbol=&startTime=&limit=100`` -> own trades since the last one seen
  ``{id, orderId, price, qty, quoteQty, commission, commissionAsset, time, isBuyer, isMaker,
  isSelfTrade, clientOrderId}``, oldest first, paged by ``startTime``.

Every body goes through the private handler's own normalizers (built as the protobuf bodies
they stand for), so REST and pushes share one status, type and unit table (``PARTIALLY_CANCELED``
is ``canceled`` with ``filled > 0`` on both, pitfalls #47) and one set of value kinds (a value
outside its kind's rule fails the body, ``ValueError``); a side or status the table does not know
keeps the REST text in ``raw_side``/``raw_status``. Numbers are read by
:func:`cexfeed.wire.amount` (JSON text or number, never a float).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable

import msgspec

from ...account import AccountSnapshot, AccountState
from ...models import Balance, Fill, Order
from ...net.rest import RestClient, Signer
from ...wire import EXACT, amount, to_ms, untyped_amounts
from .private_decode import AccountBody, DealBody, OrderBody

ACCOUNT_PATH = "/api/v3/account"
OPEN_ORDERS_PATH = "/api/v3/openOrders"
ORDER_PATH = "/api/v3/order"
MY_TRADES_PATH = "/api/v3/myTrades"
TRADES_PAGE = 100  # the venue's maximum

#: REST names -> the push codes (§2.3): status, order type, side
STATUS_CODES = {"NEW": 1, "FILLED": 2, "PARTIALLY_FILLED": 3, "CANCELED": 4, "PARTIALLY_CANCELED": 5}
TYPE_CODES = {"LIMIT": 1, "LIMIT_MAKER": 2, "POST_ONLY": 2, "IMMEDIATE_OR_CANCEL": 3, "FILL_OR_KILL": 4, "MARKET": 5, "STOP_LIMIT": 100}
SIDE_CODES = {"BUY": 1, "SELL": 2}


def _value(item: dict, name: str) -> Decimal | None:
    value = item.get(name)
    if value is None or value == "":
        return None
    return amount(value)


def _text(item: dict, name: str) -> str:
    value = item.get(name)
    return "" if value is None else str(value)


def _list(body: bytes, what: str) -> list:
    found = untyped_amounts.decode(body)
    if found.__class__ is not list:
        raise msgspec.ValidationError(f"{what}: expected an array")
    return found


def rest_balances(body: bytes, handler: Any, recv_ts: int) -> list[Balance]:
    """The balances of an ``/api/v3/account`` body (``change_type`` ``snapshot``, no time)."""
    found = untyped_amounts.decode(body)
    if found.__class__ is not dict:
        raise msgspec.ValidationError("account: expected an object")
    out = []
    for item in found.get("balances") or []:
        b = AccountBody(_text(item, "asset"), "", _value(item, "free"), None, _value(item, "locked"), None, "snapshot", None)
        out.append(handler.balance(b, None, recv_ts))
    return out


def rest_order(item: dict, handler: Any, recv_ts: int) -> Order:
    """The :class:`Order` of a REST order object (``openOrders``, ``order``)."""
    if item.__class__ is not dict:
        raise msgspec.ValidationError("order: expected an object")
    symbol = _text(item, "symbol")
    quantity, filled = _value(item, "origQty"), _value(item, "executedQty")
    price, filled_quote = _value(item, "price"), _value(item, "cummulativeQuoteQty")
    quote = _value(item, "origQuoteOrderQty")
    kind = TYPE_CODES.get(_text(item, "type"), 0)
    derived = quote is None and kind != 5 and price is not None and quantity is not None
    if derived:
        quote = EXACT.multiply(price, quantity)  # the push's ``amount``: the order's total
    by_quote = kind == 5 and quote is not None and not quantity
    left = None if not quantity or filled is None else EXACT.subtract(quantity, filled)
    quote_left = None if quote is None or filled_quote is None else EXACT.subtract(quote, filled_quote)
    if derived and quote_left is not None and quote_left < 0:
        quote_left = None  # filled at better prices than the limit: what is left is not known
    avg = filled_quote / filled if filled and filled_quote is not None else None
    raw_status = _text(item, "status")
    created = to_ms(item.get("time") or 0)
    b = OrderBody(
        _text(item, "orderId"), _text(item, "clientOrderId"), price, None if by_quote else quantity, quote, avg, kind,
        SIDE_CODES.get(_text(item, "side"), 0), False, quote_left, None if by_quote else left, None, filled, filled_quote,
        STATUS_CODES.get(raw_status, 0), created,
    )
    order = handler.order(b, symbol, to_ms(item.get("updateTime") or 0) or created, recv_ts)
    if raw_status not in STATUS_CODES:  # keep the venue's own text of a value not in the table
        order = msgspec.structs.replace(order, raw_status=raw_status)
    if order.raw_side is not None:  # (and of a side)
        order = msgspec.structs.replace(order, raw_side=_text(item, "side"))
    return order


def rest_fill(item: dict, handler: Any, recv_ts: int) -> Fill:
    """The :class:`Fill` of a ``myTrades`` entry."""
    if item.__class__ is not dict:
        raise msgspec.ValidationError("trade: expected an object")
    buyer = item.get("isBuyer")
    b = DealBody(
        _value(item, "price"), _value(item, "qty"), _value(item, "quoteQty"), 1 if buyer is True else 2 if buyer is False else 0,
        item.get("isMaker") is True, item.get("isSelfTrade") is True, _text(item, "id"), _text(item, "clientOrderId"),
        _text(item, "orderId"), _value(item, "commission"), _text(item, "commissionAsset"), to_ms(item.get("time") or 0),
    )
    fill = handler.fill(b, _text(item, "symbol"), None, recv_ts)
    if fill.raw_side is not None:  # the venue's own value of ``isBuyer``, as JSON text
        fill = msgspec.structs.replace(fill, raw_side=msgspec.json.encode(buyer).decode())
    return fill


async def fetch_trades(rest: RestClient, sign: Signer, handler: Any, symbol: str, since_ms: int, recv_ts: int) -> list[Fill]:
    """Own trades of ``symbol`` from ``since_ms`` on (pages of 100, each from the last one's
    time; the repeats at a page's edge are dropped by id)."""
    out: dict[str, Fill] = {}
    start = since_ms
    while True:
        page = _list(await rest.get(MY_TRADES_PATH, {"symbol": symbol, "startTime": start, "limit": TRADES_PAGE}, sign=sign), "myTrades")
        fills = [rest_fill(item, handler, recv_ts) for item in page]
        for fill in fills:
            out.setdefault(fill.trade_id, fill)
        if len(page) < TRADES_PAGE:
            break
        last = max(int(item.get("time") or 0) for item in page)  # the venue's own time, as it pages by it
        # a full page within one ms cannot move on by time: the next ms (documented gap)
        start = last if last > start else start + 1
    return list(out.values())


async def fetch_account(rest: RestClient, sign: Signer, handler: Any, state: AccountState, followed: Iterable[str],
                        since_ms: int | None, taken_ts: int, recv_ts: int) -> AccountSnapshot:
    """The :class:`AccountSnapshot`: balances, the open orders and (from ``since_ms``, when
    given) own trades of every followed symbol and every symbol the state holds orders or
    fills of, and the final state of each order the state holds open that is no longer open or
    that a missed fill names. Raises ``RestError`` or decode errors (``ValueError``)."""
    balances = rest_balances(await rest.get(ACCOUNT_PATH, sign=sign), handler, recv_ts)
    symbols = dict.fromkeys(s for s in followed if s)
    for order in state.open_orders.values():
        symbols.setdefault(order.venue_symbol, None)
    for fill in list(state.fills.values())[-1000:]:
        symbols.setdefault(fill.venue_symbol, None)
    open_orders: list[Order] = []
    fills: list[Fill] = []
    for symbol in symbols:
        body = await rest.get(OPEN_ORDERS_PATH, {"symbol": symbol}, sign=sign)
        open_orders.extend(rest_order(item, handler, recv_ts) for item in _list(body, "openOrders"))
        if since_ms is not None:
            fills.extend(await fetch_trades(rest, sign, handler, symbol, since_ms, recv_ts))
    listed = {o.order_id for o in open_orders}
    wanted = {oid: o.venue_symbol for oid, o in state.open_orders.items() if oid not in listed}
    for f in fills:
        if state.order(f.order_id) is None and f.order_id not in listed:
            wanted.setdefault(f.order_id, f.venue_symbol)
    finished = []
    for oid, symbol in wanted.items():
        item = untyped_amounts.decode(await rest.get(ORDER_PATH, {"symbol": symbol, "orderId": oid}, sign=sign))
        finished.append(rest_order(item, handler, recv_ts))
    # an open order REST shows as the pushes left it adds nothing (its push values stand)
    open_orders = [o for o in open_orders if not _unchanged(state, o)]
    return AccountSnapshot(balances=balances, open_orders=open_orders, orders=finished, fills=fills, taken_ts=taken_ts)


def _unchanged(state: AccountState, order: Order) -> bool:
    held = state.open_orders.get(order.order_id)
    return held is not None and held.status is order.status and held.filled == order.filled
