"""MEXC REST account bodies -> account events through the private handler's own normalizers:
every field asserted, the REST status names on the same table as the push codes (a partially
canceled order is ``canceled`` with ``filled > 0`` on both), unknown values kept raw, numbers as
JSON text or numbers read exactly, the paging of own trades (a window whose answer is a full page
split, a ms crowded with trades asked per order, in whatever order the venue lists them), and
which symbols a snapshot asks about."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from cexfeed.account import AccountState
from cexfeed.exchanges.mexc import private_rest as r
from cexfeed.exchanges.mexc.private_handler import REST_ORDER_STATUS, MexcPrivateWebSocketHandler
from cexfeed.models import OrderStatus
from cexfeed.net.rest import RestError

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
        "USDT", D("1000.0"), D("800.5"), D("199.5"), None, "snapshot", None)  # total = free + locked, exact
    assert (mx.currency, mx.total, mx.available, mx.frozen) == ("MX", D("0.1"), D("0.1"), D("0"))


def trade(i: int, ms: int, order: str) -> dict:
    return {"symbol": "BTCUSDT", "id": f"{i}X1", "orderId": order, "price": "1", "qty": "1", "quoteQty": "1", "commission": "0",
            "commissionAsset": "USDT", "time": ms, "isBuyer": True, "isMaker": False}


class FakeRest:
    """``get`` answers ``myTrades`` as the venue does: filtered by time (and ``orderId``), at
    most ``limit``, oldest or newest first (the venue documents no order)."""

    def __init__(self, trades: list[dict], newest_first: bool = False) -> None:
        self.trades = trades
        self.newest_first = newest_first
        self.calls: list[dict] = []

    async def get(self, path, params=None, sign=None):
        assert path == r.MY_TRADES_PATH
        self.calls.append(dict(params))
        found = [t for t in self.trades if params["startTime"] <= t["time"] <= params["endTime"]
                 and params.get("orderId", t["orderId"]) == t["orderId"]]
        if self.newest_first:
            found.reverse()
        return msgspec.json.encode(found[: params["limit"]])


T0 = 1_700_000_000_000


@pytest.mark.parametrize("newest_first", [False, True])
async def test_trades_all_found_whatever_the_order_and_with_a_crowded_ms(handler, newest_first):
    # 60 trades over 20 ms, then 150 trades of 30 orders in one ms, then 40 more
    trades = [trade(i, T0 + i // 3, f"C02__{i // 3}") for i in range(60)]
    trades += [trade(60 + i, T0 + 100, f"C02__m{i // 5}") for i in range(150)]
    trades += [trade(210 + i, T0 + 200 + i, "C02__late") for i in range(40)]
    rest = FakeRest(trades, newest_first)
    # the orders working at the crowded ms that the first full page may not name
    spans = [(f"C02__m{k}", T0 + 100, T0 + 100) for k in range(30)] + [("C02__old", T0 - 5, None), ("C02__gone", T0, T0 + 50)]
    coverage = r.Coverage()
    fills = await r.fetch_trades(rest, None, handler, "BTCUSDT", T0, T0 + 1000, RECV, spans, coverage)
    assert sorted(f.trade_id for f in fills) == sorted(t["id"] for t in trades)
    assert coverage.stats["crowded_ms"] == 1 and coverage.stats["trades_unreachable"] == 0
    per_order = [c for c in rest.calls if "orderId" in c]
    # each order of the crowded ms asked once for that ms; an order not working then is not asked
    assert sorted(c["orderId"] for c in per_order) == sorted([f"C02__m{k}" for k in range(30)] + ["C02__old"])
    assert {(c["startTime"], c["endTime"]) for c in per_order} == {(T0 + 100, T0 + 100)}


async def test_one_orders_full_page_in_one_ms_is_counted(handler):
    trades = [trade(i, T0, "C02__big") for i in range(120)]
    coverage = r.Coverage()
    fills = await r.fetch_trades(FakeRest(trades), None, handler, "BTCUSDT", T0 - 10, T0 + 10, RECV, (), coverage)
    # the venue has no trade-id cursor: 100 of them are reachable, the gap is counted
    assert len(fills) == 100 and coverage.stats["trades_unreachable"] == 1


async def test_history_reaches_back_as_far_as_the_venue_keeps(handler):
    rest = FakeRest([])
    await r.fetch_trades(rest, None, handler, "BTCUSDT", 0, T0, RECV)
    assert rest.calls == [{"symbol": "BTCUSDT", "startTime": T0 - r.TRADES_REACH_MS, "endTime": T0, "limit": 100}]


class FakeVenue:
    """The account endpoints of a tiny venue; ``open_orders_error`` answers the call of
    ``openOrders`` without a symbol."""

    def __init__(self, open_orders_error: bytes | None = None) -> None:
        self.open_orders_error = open_orders_error
        self.paths: list[tuple[str, dict]] = []

    async def get(self, path, params=None, sign=None):
        params = dict(params or {})
        self.paths.append((path, params))
        if path == r.ACCOUNT_PATH:
            return b'{"balances":[]}'
        if path == r.OPEN_ORDERS_PATH and "symbol" not in params and self.open_orders_error is not None:
            raise RestError("refused", 400, self.open_orders_error)
        if path == r.OPEN_ORDERS_PATH:
            return msgspec.json.encode([order_item(symbol="ETHUSDT", orderId="C02__eth", status="NEW", executedQty="0", cummulativeQuoteQty="0")]
                                       if params.get("symbol", "ETHUSDT") == "ETHUSDT" else [])
        return b"[]"


async def test_open_orders_of_every_symbol_then_their_history(handler):
    venue, coverage = FakeVenue(), r.Coverage()
    snapshot = await r.fetch_account(venue, None, handler, AccountState(), ["BTCUSDT"], T0 - 5000, T0, RECV, coverage)
    assert [o.order_id for o in snapshot.open_orders] == ["C02__eth"] and list(coverage.seen) == ["ETHUSDT"]
    asked = [(path, p.get("symbol")) for path, p in venue.paths]
    assert asked == [(r.ACCOUNT_PATH, None), (r.OPEN_ORDERS_PATH, None), (r.ALL_ORDERS_PATH, "BTCUSDT"), (r.MY_TRADES_PATH, "BTCUSDT"),
                     (r.ALL_ORDERS_PATH, "ETHUSDT"), (r.MY_TRADES_PATH, "ETHUSDT")]
    assert venue.paths[2][1] == {"symbol": "BTCUSDT", "startTime": T0 - 5000, "endTime": T0 + r.AHEAD_MS, "limit": 1000}


@pytest.mark.parametrize("code,falls_back", [(b'{"code":700004,"msg":"Mandatory parameter \'symbol\'"}', True),
                                             (b'{"code":700003,"msg":"Timestamp outside recvWindow"}', False),
                                             (b'{"code":700002,"msg":"Signature not valid"}', False)])
async def test_open_orders_per_symbol_only_when_the_venue_wants_a_symbol(handler, code, falls_back):
    venue, coverage = FakeVenue(code), r.Coverage()
    if not falls_back:  # a clock or key refusal is the account's to handle, not a reason to change course
        with pytest.raises(RestError):
            await r.fetch_account(venue, None, handler, AccountState(), ["BTCUSDT"], None, T0, RECV, coverage)
        assert coverage.all_open_orders is True
        return
    snapshot = await r.fetch_account(venue, None, handler, AccountState(), ["BTCUSDT"], None, T0, RECV, coverage)
    assert snapshot.open_orders == [] and coverage.all_open_orders is False and coverage.stats["open_orders_per_symbol"] == 1
    assert [(path, p.get("symbol")) for path, p in venue.paths] == [(r.ACCOUNT_PATH, None), (r.OPEN_ORDERS_PATH, None),
                                                                    (r.OPEN_ORDERS_PATH, "BTCUSDT")]
    venue.paths.clear()
    await r.fetch_account(venue, None, handler, AccountState(), ["BTCUSDT"], None, T0, RECV, coverage)
    assert [(path, p.get("symbol")) for path, p in venue.paths] == [(r.ACCOUNT_PATH, None), (r.OPEN_ORDERS_PATH, "BTCUSDT")]
