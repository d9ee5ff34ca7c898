"""MEXC REST account bodies -> account events through the private handler's own normalizers:
every field asserted, the REST status names on the same table as the push codes (a partially
canceled order is ``canceled`` with ``filled > 0`` on both), unknown values kept raw, numbers as
JSON text or numbers read exactly, and the paging of own trades."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from cexfeed.exchanges.mexc import private_rest as r
from cexfeed.exchanges.mexc.private_handler import REST_ORDER_STATUS, MexcPrivateWebSocketHandler
from cexfeed.models import OrderStatus

D = Decimal
RECV = 1_700_000_000_000_000_000


@pytest.fixture
def handler():
    return MexcPrivateWebSocketHandler()


def order_item(**over) -> dict:
    item = {
        "symbol": "BTCUSDT", "orderId": "C02__505979017439002624115", "orderListId": -1, "clientOrderId": "mine-7", "price": "50000",
        "origQty": "0.01", "executedQty": "0.004", "cummulativeQuoteQty": "200", "status": "PARTIALLY_FILLED", "timeInForce": "",
        "type": "LIMIT", "side": "BUY", "stopPrice": "", "icebergQty": "", "time": 1_700_000_000_000, "updateTime": 1_700_000_000_500,
        "isWorking": True, "origQuoteOrderQty": "",
    }
    item.update(over)
    return item


def test_order_every_field(handler):
    o = r.rest_order(order_item(), handler, RECV)
    assert (o.venue, o.market, o.symbol, o.venue_symbol, o.exchange_ts, o.recv_ts) == ("mexc", "spot", "BTC/USDT", "BTCUSDT", 1_700_000_000_500, RECV)
    assert (o.order_id, o.side, o.order_type, o.status, o.raw_status) == ("C02__505979017439002624115", "buy", "limit", OrderStatus.PARTIALLY_FILLED, "PARTIALLY_FILLED")
    assert (o.price, o.amount, o.filled, o.left) == (D("50000"), D("0.01"), D("0.004"), D("0.006"))
    assert (o.quote_amount, o.filled_quote, o.quote_left, o.avg_price) == (D("500"), D("200"), D("300"), D("50000"))
    assert (o.client_order_id, o.time_in_force, o.created_ts, o.updated_ts) == ("mine-7", "gtc", 1_700_000_000_000, 1_700_000_000_500)
    assert (o.fee, o.fee_currency, o.contracts, o.update_id) == (None, None, None, None)


@pytest.mark.parametrize("name", sorted(REST_ORDER_STATUS))
def test_rest_status_names_follow_the_push_table(handler, name):
    o = r.rest_order(order_item(status=name), handler, RECV)
    assert o.status is REST_ORDER_STATUS[name] and o.raw_status == name


def test_partially_canceled_and_unknown_values(handler):
    o = r.rest_order(order_item(status="PARTIALLY_CANCELED", isWorking=False), handler, RECV)
    assert o.status is OrderStatus.CANCELED and o.filled == D("0.004") and o.status.terminal
    odd = r.rest_order(order_item(status="PENDING_SOMETHING", type="NEW_KIND", side="HOLD"), handler, RECV)
    assert (odd.status, odd.raw_status, odd.order_type, odd.side, odd.raw_side) == (
        OrderStatus.UNKNOWN, "PENDING_SOMETHING", "unknown", "unknown", "HOLD")
    assert handler.stats.errors["unknown_order_type"] == 1 and handler.stats.errors["unknown_side"] == 1


def test_market_buy_by_quote_and_json_numbers(handler):
    body = msgspec.json.encode([order_item(type="MARKET", origQty="", price="0", executedQty="0.00199", cummulativeQuoteQty="99.5",
                                           origQuoteOrderQty="100", status="FILLED")])
    o = r.rest_order(r._list(body, "order")[0], handler, RECV)
    assert (o.order_type, o.price, o.amount, o.left, o.quote_amount, o.quote_left, o.filled) == (
        "market", None, None, None, D("100"), D("0.5"), D("0.00199"))
    # numbers the venue writes as JSON numbers are read from their text, never through a float
    item = r._list(b'[{"symbol":"ETHUSDT","orderId":"1","price":0.1,"origQty":3,"executedQty":0,"cummulativeQuoteQty":0,'
                   b'"status":"NEW","type":"LIMIT","side":"SELL","time":1,"updateTime":2}]', "order")[0]
    o = r.rest_order(item, handler, RECV)
    assert (o.price, o.amount, o.left, o.avg_price, o.status) == (D("0.1"), D("3"), D("3"), None, OrderStatus.OPEN)
    with pytest.raises(ValueError):
        r.rest_order(dict(order_item(), price="1e999"), handler, RECV)
    with pytest.raises(msgspec.ValidationError):
        r._list(b'{"code":-1}', "openOrders")


def test_fill_and_balances(handler):
    trade = {"symbol": "BTCUSDT", "id": "505979017439002625X1", "orderId": "C02__1", "orderListId": -1, "price": "50000", "qty": "0.004",
             "quoteQty": "200", "commission": "0.000004", "commissionAsset": "BTC", "time": 1_700_000_000_100, "isBuyer": False,
             "isMaker": True, "isBestMatch": True, "isSelfTrade": False, "clientOrderId": None}
    f = r.rest_fill(trade, handler, RECV)
    assert (f.symbol, f.exchange_ts, f.trade_id, f.order_id, f.side, f.price, f.amount, f.role, f.fee, f.fee_currency, f.client_order_id) == (
        "BTC/USDT", 1_700_000_000_100, "505979017439002625X1", "C02__1", "sell", D("50000"), D("0.004"), "maker", D("0.000004"), "BTC", None)
    body = b'{"canTrade":true,"balances":[{"asset":"USDT","free":"800.5","locked":"199.5"},{"asset":"MX","free":0.1,"locked":"0"}]}'
    usdt, mx = r.rest_balances(body, handler, RECV)
    assert (usdt.currency, usdt.total, usdt.available, usdt.frozen, usdt.change, usdt.change_type, usdt.exchange_ts) == (
        "USDT", None, D("800.5"), D("199.5"), None, "snapshot", None)
    assert (mx.currency, mx.available, mx.frozen) == ("MX", D("0.1"), D("0"))


class FakeRest:
    """``get`` answers pages of ``myTrades`` from a list, as the venue pages by time."""

    def __init__(self, trades: list[dict]) -> None:
        self.trades = trades
        self.calls: list[dict] = []

    async def get(self, path, params=None, sign=None):
        self.calls.append(dict(params))
        found = [t for t in self.trades if t["time"] >= params["startTime"]][: params["limit"]]
        return msgspec.json.encode(found)


async def test_trades_paged_by_time_without_repeats(handler):
    trades = [{"symbol": "BTCUSDT", "id": f"{i}X1", "orderId": "C02__1", "price": "1", "qty": "1", "quoteQty": "1", "commission": "0",
               "commissionAsset": "USDT", "time": 1_700_000_000_000 + i // 3, "isBuyer": True, "isMaker": False} for i in range(250)]
    rest = FakeRest(trades)
    fills = await r.fetch_trades(rest, None, handler, "BTCUSDT", 1_700_000_000_000, RECV)
    assert [f.trade_id for f in fills] == [t["id"] for t in trades]
    assert len(rest.calls) == 3 and rest.calls[1]["startTime"] == trades[99]["time"]
