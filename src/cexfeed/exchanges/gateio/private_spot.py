"""Gate.io spot private channels (gateio-protocol.md §8) and the REST account snapshot:
raw frame -> :class:`~cexfeed.models.Order` / :class:`~cexfeed.models.Fill` /
:class:`~cexfeed.models.Balance` applied to the account state.

Order status (``spot.orders`` has an ``event`` per order, §8.1): ``put`` -> ``open``,
``update`` -> ``partially_filled`` (``open`` while nothing is filled), ``finish`` -> by
``finish_as`` (:data:`~cexfeed.exchanges.gateio.private_common.FINISH_AS`: ``filled``, whatever
dust is left, but an order whose fill values prove nothing filled while something is left is
malformed, not ``filled``: see :class:`~cexfeed.exchanges.gateio.spot_table.SpotOrderPush`;
``cancelled``/``stp``/``liquidate_cancelled`` -> ``canceled``, with ``filled > 0`` after a
partial fill; ``ioc``/``fok`` -> ``expired`` unless nothing is left; ``poc``/``small`` ->
``rejected``; ``depth_not_enough``/``trader_not_enough`` -> ``canceled``, ``rejected`` when
nothing filled; any other value -> ``unknown`` with the raw value kept). REST orders carry
``status`` (``open``/``closed``/``cancelled``) instead of ``event``.

Side: ``buy``/``sell``; another value is ``unknown`` with the venue's value in ``raw_side``
(counted ``unknown_side``; the order's lifecycle is read as always). Values: each by its kind
(``spot_table``: an order's ``amount`` and a fill's ``amount`` and ``price`` above 0, balances,
``left``, ``filled_*`` and prices 0 or above, fees any sign); an item with a value outside its
kind's rule is malformed (counted, skipped, never applied).

Quantities: a market buy's ``amount`` and ``left`` are quote currency (``quote_amount``,
``quote_left``; ``amount``/``left`` ``None``), its base ``filled`` is ``filled_amount`` when
the venue sends it; every other order's ``amount``/``left`` are base currency and ``filled`` is
``filled_amount`` (else ``amount - left``). ``filled_total`` is ``filled_quote``.
"""

from __future__ import annotations

from typing import Sequence

import msgspec

from ...account import AccountSnapshot, AccountState
from ...models import SPOT, Balance, Fill, Order
from ...net.rest import RestClient, Signer
from ...symbols import SymbolMap
from ...wire import EXACT, AccountItem, Currency, UnsignedAmount, convert_amounts, decode_amounts, untyped_amounts
from . import spot_table as t
from .private_common import GateioPrivateHandler, ended, fields_in_order, ms2, spot_quantities, spot_status
from .protocol import spot_symbol_map
from .spot_table import SpotBalancePush, SpotOrderPush, SpotUserTrade



class GateioSpotPrivateWebSocketHandler(GateioPrivateHandler):
    """Gate.io spot account stream: ``spot.orders``/``spot.orders_v2`` -> ``Order``,
    ``spot.usertrades``/``spot.usertrades_v2`` -> ``Fill``, ``spot.balances`` -> ``Balance``
    (absolute total/available/frozen per currency). ``symbols`` maps pairs to unified names
    (default: split on ``_``)."""

    market = SPOT
    TABLE = t.TABLE
    PONG = t.PONG
    SYSTEM = t.SYSTEM

    def _default_symbols(self) -> SymbolMap:
        return spot_symbol_map()

    # -- normalization (pushes and REST bodies) ----------------------------------------------
    def order(self, r: SpotOrderPush, recv_ts: int) -> Order:
        """The :class:`Order` of a push item or REST order (see the module docstring)."""
        pair = r.currency_pair.upper()
        side = r.side
        raw_side = None
        if side != "buy" and side != "sell":
            side, raw_side = self._unknown_side(side)
        amount, left, quote_amount, quote_left, filled = spot_quantities(r.type, side, r.amount, r.left, r.filled_amount)
        status, raw_status = spot_status(r.event or r.status, r.finish_as, bool(filled) or bool(r.filled_total), r.left)
        updated = ms2(r.update_time_ms, r.update_time)
        fee_currency = r.fee_currency
        price = r.price
        avg = r.avg_deal_price
        text = r.text
        # positional, in Order's field order (checked below)
        return Order(
            "gateio", SPOT, self._unified(pair), pair, updated, recv_ts,
            r.id if r.id.__class__ is str else str(r.id), side, r.type, status, raw_status,
            price if price and r.type != "market" else None, amount, filled, left, quote_amount, quote_left, r.filled_total,
            None, None, None,  # contracts
            avg if avg else None, r.fee, fee_currency.upper() if fee_currency else None,
            text if text.startswith("t-") else None, r.time_in_force or None, None,
            ms2(r.create_time_ms, r.create_time), updated, None, raw_side,
        )

    def fill(self, r: SpotUserTrade, recv_ts: int) -> Fill:
        """The :class:`Fill` of a ``spot.usertrades`` item or REST ``my_trades`` entry."""
        pair = r.currency_pair.upper()
        fee_currency = r.fee_currency
        tid = r.id
        oid = r.order_id
        text = r.text
        side = r.side
        raw_side = None
        if side != "buy" and side != "sell":
            side, raw_side = self._unknown_side(side)
        return Fill(
            "gateio", SPOT, self._unified(pair), pair, ms2(r.create_time_ms, r.create_time), recv_ts,
            tid if tid.__class__ is str else str(tid), oid if oid.__class__ is str else str(oid), side, r.price, r.amount, None,
            r.role or None, r.fee, fee_currency.upper() if fee_currency else None, text if text.startswith("t-") else None, raw_side,
        )

    def balance(self, r: SpotBalancePush, recv_ts: int) -> Balance:
        """The :class:`Balance` of a ``spot.balances`` item."""
        return Balance(
            "gateio", SPOT, "", "", ms2(r.timestamp_ms, r.timestamp), recv_ts,
            r.currency.upper(), r.total, r.available, r.freeze, r.change, r.change_type,
        )

    # the channel methods (table rows' handlers) from the normalizers
    NORMALIZE = {"_on_orders": "order", "_on_usertrades": "fill", "_on_balances": "balance"}
    #: the compiled reader also gives spot balances
    READ = {"order": "order", "fill": "fill", "position": "position", "balance": "balance"}


fields_in_order(Order, "venue market symbol venue_symbol exchange_ts recv_ts order_id side order_type status raw_status price amount "
                       "filled left quote_amount quote_left filled_quote contracts filled_contracts left_contracts avg_price fee "
                       "fee_currency client_order_id time_in_force reduce_only created_ts updated_ts update_id raw_side")
fields_in_order(Fill, "venue market symbol venue_symbol exchange_ts recv_ts trade_id order_id side price amount contracts role fee "
                      "fee_currency client_order_id raw_side")
fields_in_order(Balance, "venue market symbol venue_symbol exchange_ts recv_ts currency total available frozen change change_type "
                         "frozen_change")


# -- REST snapshot (signed APIv4) ----------------------------------------------------------------


class SpotAccount(AccountItem):
    """``GET /spot/accounts`` item: ``available`` and ``locked`` per currency (0 or above);
    ``currency`` a currency code (:func:`cexfeed.wire.currency`: one that is not fails the body)."""

    currency: Currency
    available: UnsignedAmount
    locked: UnsignedAmount


_accounts = msgspec.json.Decoder(list[SpotAccount], strict=False)
_order = msgspec.json.Decoder(SpotOrderPush, strict=False)
_orders = msgspec.json.Decoder(list[SpotOrderPush], strict=False)
_trades = msgspec.json.Decoder(list[SpotUserTrade], strict=False)
PAGE = 100
TRADES_PAGE = 1000


def spot_balances(body: bytes, recv_ts: int) -> list[Balance]:
    """Balances of a ``/spot/accounts`` body: ``total`` = ``available`` + ``locked`` (the venue's
    own definition of total, §8.4), ``frozen`` = ``locked``, no time (REST gives none)."""
    return [
        Balance(
            venue="gateio", market=SPOT, symbol="", venue_symbol="", exchange_ts=None, recv_ts=recv_ts,
            currency=a.currency.upper(), total=EXACT.add(a.available, a.locked), available=a.available, frozen=a.locked,
            change_type="snapshot",
        )
        for a in decode_amounts(body, _accounts, SpotAccount)
    ]


async def fetch_spot_account(rest: RestClient, sign: Signer, handler: GateioSpotPrivateWebSocketHandler, state: AccountState,
                             since_ms: int | None, taken_ts: int, recv_ts: int, pairs: Sequence[str] = ()) -> AccountSnapshot:
    """The spot :class:`AccountSnapshot`: balances, every open order (``/spot/open_orders``, by
    page), and since ``since_ms`` (none when ``None``): own trades (``/spot/my_trades?from=``,
    by page) and the orders that finished (``/spot/orders?status=finished&from=``, by page, per
    pair of ``pairs``, or all pairs at once when empty), so that an order placed and canceled
    while disconnected is reported; then the final state of each order the state holds open
    that is no longer open and of each order a missed fill names, where the history did not
    give it (``/spot/orders/{id}``). Orders the state already holds finished are left out.
    Raises ``RestError`` or decode errors."""
    balances = spot_balances(await rest.get(t.ACCOUNTS_PATH, sign=sign), recv_ts)
    open_orders: list[Order] = []
    page = 1
    while True:
        # [{currency_pair, total, orders: [...]}]: each pair's orders read by the strict rules
        # ``limit`` counts the orders of each pair: another page while any pair filled this one
        groups = untyped_amounts.decode(await rest.get(t.OPEN_ORDERS_PATH, {"page": page, "limit": PAGE}, sign=sign))
        full = False
        for group in groups:
            orders = group.get("orders", [])
            full = full or len(orders) >= PAGE
            open_orders.extend(handler.order(r, recv_ts) for r in convert_amounts(orders, SpotOrderPush))
        if not full:
            break
        page += 1
    fills: list[Fill] = []
    if since_ms is not None:
        page = 1
        while True:
            body = await rest.get(t.MY_TRADES_PATH, {"from": since_ms // 1000, "limit": TRADES_PAGE, "page": page}, sign=sign)
            batch = decode_amounts(body, _trades, SpotUserTrade)
            fills.extend(handler.fill(r, recv_ts) for r in batch)
            if len(batch) < TRADES_PAGE:
                break
            page += 1
    finished: dict[str, Order] = {}
    if since_ms is not None:
        for pair in pairs or ("",):
            page = 1
            while True:
                query = {"status": "finished", "from": since_ms // 1000, "page": page, "limit": PAGE}
                if pair:
                    query["currency_pair"] = pair
                batch = decode_amounts(await rest.get(t.ORDERS_PATH, query, sign=sign), _orders, SpotOrderPush)
                for r in batch:
                    order = handler.order(r, recv_ts)
                    if not ended(state, order.order_id):
                        finished.setdefault(order.order_id, order)
                if len(batch) < PAGE:
                    break
                page += 1
    listed = {o.order_id for o in open_orders}
    wanted = {oid: o.venue_symbol for oid, o in state.open_orders.items() if oid not in listed and oid not in finished}
    for f in fills:
        if state.order(f.order_id) is None and f.order_id not in listed and f.order_id not in finished:
            wanted.setdefault(f.order_id, f.venue_symbol)
    for oid, pair in wanted.items():
        body = await rest.get(t.ORDER_PATH.format(order_id=oid), {"currency_pair": pair}, sign=sign)
        finished[oid] = handler.order(decode_amounts(body, _order, SpotOrderPush), recv_ts)
    return AccountSnapshot(balances=balances, open_orders=open_orders, orders=list(finished.values()), fills=fills, taken_ts=taken_ts)


def replay_handler(instruments: bytes | None) -> GateioSpotPrivateWebSocketHandler:
    """A spot private handler for capture replay (pairs from a ``/spot/currency_pairs`` body)."""
    return GateioSpotPrivateWebSocketHandler(symbols=spot_symbol_map(instruments))
