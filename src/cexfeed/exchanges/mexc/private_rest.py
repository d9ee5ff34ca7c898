"""MEXC spot REST account snapshot for seeding and reconciling an account stream (signed
requests, mexc-protocol.md §3.2; the bodies are the venue's Binance-style v3 shapes):

- ``GET /api/v3/account`` -> ``balances: [{asset, free, locked}]`` of every asset:
  ``available`` = ``free``, ``frozen`` = ``locked`` (``total`` = ``free`` + ``locked``, exact, as
  on the pushes: the venue states no total);
- ``GET /api/v3/openOrders`` without ``symbol`` -> the working orders of every symbol ``{symbol,
  orderId, clientOrderId, price, origQty, executedQty, cummulativeQuoteQty, status, type, side,
  time, updateTime, origQuoteOrderQty}`` (``symbol`` is optional there; should the venue refuse
  the call, it is asked once per covered symbol instead, see :class:`Coverage`);
- after a reconnect, for each covered symbol: ``GET /api/v3/allOrders?symbol=&startTime=&endTime=
  &limit=1000`` -> the orders created since the connection was lost (the venue keeps 7 days),
  of which the ended ones are reported (an order placed and canceled or filled entirely while
  disconnected was never pushed); ``GET /api/v3/myTrades?symbol=&startTime=&endTime=&limit=100``
  -> own trades since then ``{id, orderId, price, qty, quoteQty, commission, commissionAsset,
  time, isBuyer, isMaker, isSelfTrade, clientOrderId}`` (the venue keeps a month). Both lists
  are filtered by time only (no id cursor; ``myTrades`` also by ``orderId``): they are read
  by :func:`history`, which splits a window whose answer is a full page;
- ``GET /api/v3/order?symbol=&orderId=`` -> the final state of an order the state holds open
  that is neither open nor in that history, and of an order a missed fill names.

Covered symbols: the followed ones (``symbols=``), every symbol the state holds orders or fills
of, and every symbol with a working order, found by the call without a symbol. A symbol with
only a balance names no symbol to ask: trades and orders of such a symbol made entirely while
disconnected show as balance changes only.

Every body goes through the private handler's own normalizers (built as the protobuf bodies
they stand for), so REST and pushes share one status, type and unit table (``PARTIALLY_CANCELED``
is ``canceled`` with ``filled > 0`` on both, pitfalls #47) and one set of value kinds (a value
outside its kind's rule fails the body, ``ValueError``); a side or status the table does not know
keeps the REST text in ``raw_side``/``raw_status``. Numbers are read by
:func:`cexfeed.wire.amount` (JSON text or number, never a float).
"""

from __future__ import annotations

import logging
from collections import Counter
from decimal import Decimal
from typing import Any, Iterable

import msgspec

from ...account import AccountSnapshot, AccountState
from ...models import Balance, Fill, Order
from ...net.rest import RestClient, RestError, Signer
from ...wire import EXACT, amount, to_ms, untyped_amounts
from .auth import error_of, refusal
from .private_decode import AccountBody, DealBody, OrderBody

log = logging.getLogger("cexfeed.account")

ACCOUNT_PATH = "/api/v3/account"
OPEN_ORDERS_PATH = "/api/v3/openOrders"
ORDER_PATH = "/api/v3/order"
MY_TRADES_PATH = "/api/v3/myTrades"
ALL_ORDERS_PATH = "/api/v3/allOrders"
TRADES_PAGE = 100  # the venue's maximum
ORDERS_PAGE = 1000  # the venue's maximum
ORDERS_REACH_MS = 7 * 86_400_000  # allOrders reaches the latest 7 days
TRADES_REACH_MS = 30 * 86_400_000  # myTrades reaches the past month
#: how far past the snapshot's own time a history query reaches (error of the measured clock;
#: what happens later comes on the socket, subscribed before the snapshot)
AHEAD_MS = 5_000

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


def _code(item: dict, name: str):
    """A currency as sent (``None`` when absent): the handler holds it to the code rule
    (:func:`cexfeed.wire.currency`), which refuses one that is not a string rather than reading
    its text (``true`` is no ``TRUE``)."""
    return item.get(name)


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
        b = AccountBody(_code(item, "asset"), "", _value(item, "free"), None, _value(item, "locked"), None, "snapshot", None)
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
        _text(item, "orderId"), _value(item, "commission"), _code(item, "commissionAsset"), to_ms(item.get("time") or 0),
    )
    fill = handler.fill(b, _text(item, "symbol"), None, recv_ts)
    if fill.raw_side is not None:  # the venue's own value of ``isBuyer``, as JSON text
        fill = msgspec.structs.replace(fill, raw_side=msgspec.json.encode(buyer).decode())
    return fill



class Coverage:
    """Which symbols the REST snapshots ask about; kept by the protocol from one snapshot to the
    next.

    ``all_open_orders``: one ``openOrders`` call without a symbol lists the working orders of
    every symbol (the venue documents ``symbol`` as optional there); ``False`` once the venue
    refused such a call (HTTP 400 about neither the key nor the clock), after which open orders
    are asked per symbol. ``seen``: symbols found in the account state (orders, fills) or in the
    REST open orders, never forgotten: their history is asked after every reconnect as the
    followed ones' is. ``stats``: ``open_orders_per_symbol`` (the fallback was taken),
    ``crowded_ms`` (one ms held a full page of trades: asked again per order),
    ``trades_unreachable`` (one order's trades within one ms fill a page: some may be missing,
    the venue having no trade-id cursor), ``orders_crowded`` (the same for ``allOrders``)."""

    def __init__(self) -> None:
        self.all_open_orders = True
        self.seen: dict[str, None] = {}
        self.stats: Counter[str] = Counter()

    def note_state(self, state: AccountState) -> None:
        """Add the symbols of the state's orders (open and finished) and recent fills."""
        seen = self.seen
        for orders in (state.open_orders, state.closed_orders):
            for order in orders.values():
                if order.venue_symbol:
                    seen.setdefault(order.venue_symbol, None)
        for fill in list(state.fills.values())[-1000:]:
            if fill.venue_symbol:
                seen.setdefault(fill.venue_symbol, None)

    def __repr__(self) -> str:
        return f"Coverage(all_open_orders={self.all_open_orders}, seen={len(self.seen)}, stats={dict(self.stats)})"


async def history(rest: RestClient, sign: Signer, path: str, what: str, query: dict, lo: int, hi: int,
                  limit: int) -> tuple[list[dict], list[tuple[int, list[dict]]]]:
    """Every item of the time-filtered list ``path`` (``query`` plus ``startTime``/``endTime``/
    ``limit``) within ``[lo, hi]`` ms, and the single ms whose answer was a full page, as
    ``(ms, items)``. The venue pages these lists by time only and documents no order within a
    window, so a full answer is not trusted to reach the window's end: the window is split in
    halves and each asked again; a single ms cannot be split (the caller resolves it)."""
    items: list[dict] = []
    crowded: list[tuple[int, list[dict]]] = []
    windows = [(lo, hi)]
    while windows:
        a, b = windows.pop()
        page = _list(await rest.get(path, {**query, "startTime": a, "endTime": b, "limit": limit}, sign=sign), what)
        if len(page) < limit:
            items.extend(page)
        elif a >= b:
            items.extend(page)
            crowded.append((a, page))
        else:
            mid = (a + b) // 2
            windows.append((mid + 1, b))
            windows.append((a, mid))  # (popped first: oldest window first)
    return items, crowded


#: (order id, created ms, last update ms or ``None`` while it may still trade)
Span = tuple[str, int, "int | None"]


def _span(item: dict) -> Span:
    working = _text(item, "status") in ("NEW", "PARTIALLY_FILLED")
    updated = to_ms(item.get("updateTime") or 0) or None
    return _text(item, "orderId"), to_ms(item.get("time") or 0), None if working else updated


async def fetch_trades(rest: RestClient, sign: Signer, handler: Any, symbol: str, since_ms: int, until_ms: int, recv_ts: int,
                       spans: Iterable[Span] = (), coverage: Coverage | None = None) -> list[Fill]:
    """Own trades of ``symbol`` within ``[since_ms, until_ms]`` (at most the venue's month back),
    by :func:`history` in pages of 100. A ms holding a full page is asked again per order (the
    venue filters by ``orderId``, it has no trade-id cursor): the orders of that page's trades
    and each order of ``spans`` working at that ms. Trades come once each (by id)."""
    coverage = coverage if coverage is not None else Coverage()
    lo = max(since_ms, until_ms - TRADES_REACH_MS)
    items, crowded = await history(rest, sign, MY_TRADES_PATH, "myTrades", {"symbol": symbol}, lo, until_ms, TRADES_PAGE)
    spans = list(spans)
    for ms, page in crowded:
        coverage.stats["crowded_ms"] += 1
        orders = dict.fromkeys(_text(item, "orderId") for item in page)
        for oid, created, updated in spans:
            if created <= ms and (updated is None or ms <= updated):
                orders.setdefault(oid, None)
        for oid in orders:
            query = {"symbol": symbol, "orderId": oid, "startTime": ms, "endTime": ms, "limit": TRADES_PAGE}
            found = _list(await rest.get(MY_TRADES_PATH, query, sign=sign), "myTrades")
            items.extend(found)
            if len(found) >= TRADES_PAGE:
                coverage.stats["trades_unreachable"] += 1
                log.warning("mexc myTrades: order %s has %d or more trades in ms %d; some may be missing", oid, TRADES_PAGE, ms)
    out: dict[str, Fill] = {}
    for item in items:
        fill = rest_fill(item, handler, recv_ts)
        out.setdefault(fill.trade_id, fill)
    return list(out.values())


def _unsupported(error: RestError) -> bool:
    """A 400 answer about neither the key nor the clock (e.g. ``symbol`` required after all)."""
    if error.status != 400:
        return False
    code, message = error_of(error.body)
    return refusal(code, message, error.status) is None


async def fetch_account(rest: RestClient, sign: Signer, handler: Any, state: AccountState, followed: Iterable[str],
                        since_ms: int | None, taken_ts: int, recv_ts: int, coverage: Coverage | None = None) -> AccountSnapshot:
    """The :class:`AccountSnapshot` (see the module docstring): balances; every working order
    (one call for all symbols, else per covered symbol); and, from ``since_ms`` when given, for
    each covered symbol (``followed``, then every symbol of ``coverage.seen``, of the state and
    of the open orders) the orders that ended (``allOrders``: an order placed and ended while
    disconnected) and own trades; then the final state of each order the state holds open that
    is neither open nor in that history, and of each order a missed fill names. Orders the
    state holds finished already are left out. Raises ``RestError`` or decode errors
    (``ValueError``)."""
    coverage = coverage if coverage is not None else Coverage()
    balances = rest_balances(await rest.get(ACCOUNT_PATH, sign=sign), handler, recv_ts)
    open_items: list | None = None
    if coverage.all_open_orders:
        try:
            open_items = _list(await rest.get(OPEN_ORDERS_PATH, sign=sign), "openOrders")
        except RestError as exc:
            if not _unsupported(exc):
                raise
            coverage.all_open_orders = False
            coverage.stats["open_orders_per_symbol"] += 1
            log.info("mexc openOrders without a symbol refused (%s): asked per symbol from now on", error_of(exc.body)[0] or exc.status)
    coverage.note_state(state)
    for item in open_items or ():
        if item.__class__ is dict and _text(item, "symbol"):
            coverage.seen.setdefault(_text(item, "symbol"), None)
    symbols = dict.fromkeys(s for s in (*followed, *coverage.seen) if s)
    if open_items is None:
        open_items = []
        for symbol in symbols:
            open_items.extend(_list(await rest.get(OPEN_ORDERS_PATH, {"symbol": symbol}, sign=sign), "openOrders"))
    open_orders = [rest_order(item, handler, recv_ts) for item in open_items]
    listed = {o.order_id for o in open_orders}
    finished: dict[str, Order] = {}
    fills: list[Fill] = []
    if since_ms is not None:
        until = taken_ts + AHEAD_MS
        lo = max(since_ms, until - ORDERS_REACH_MS)
        for symbol in symbols:
            items, crowded = await history(rest, sign, ALL_ORDERS_PATH, "allOrders", {"symbol": symbol}, lo, until, ORDERS_PAGE)
            coverage.stats["orders_crowded"] += len(crowded)
            for item in items:
                order = rest_order(item, handler, recv_ts)
                oid = order.order_id
                if order.status.terminal and oid not in listed and oid not in state.closed_orders:
                    finished.setdefault(oid, order)
            # the orders that may have traded while away: for a ms crowded with trades
            spans = [_span(item) for item in (*items, *open_items) if item.__class__ is dict and _text(item, "symbol") == symbol]
            spans.extend((oid, o.created_ts or 0, None) for oid, o in state.open_orders.items() if o.venue_symbol == symbol)
            fills.extend(await fetch_trades(rest, sign, handler, symbol, since_ms, until, recv_ts, spans, coverage))
    wanted = {oid: o.venue_symbol for oid, o in state.open_orders.items() if oid not in listed and oid not in finished}
    for f in fills:
        if state.order(f.order_id) is None and f.order_id not in listed and f.order_id not in finished:
            wanted.setdefault(f.order_id, f.venue_symbol)
    for oid, symbol in wanted.items():
        item = untyped_amounts.decode(await rest.get(ORDER_PATH, {"symbol": symbol, "orderId": oid}, sign=sign))
        finished[oid] = rest_order(item, handler, recv_ts)
    # an open order REST shows as the pushes left it adds nothing (its push values stand)
    open_orders = [o for o in open_orders if not _unchanged(state, o)]
    return AccountSnapshot(balances=balances, open_orders=open_orders, orders=list(finished.values()), fills=fills, taken_ts=taken_ts)


def _unchanged(state: AccountState, order: Order) -> bool:
    held = state.open_orders.get(order.order_id)
    return held is not None and held.status is order.status and held.filled == order.filled
