"""Gate USDT-perpetual private channels on the documented samples (gateio-protocol.md §9,
Appendix A) and frames built from the field tables: every normalized field, contracts and
base quantities (integer and decimal sizes, unknown and inverse contracts), positions in single
and dual mode (size 0 closes, the side it had), the settle currency, the notices, unknown values,
older shapes; and the futures payloads with the uid."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cexfeed.credentials import Credentials, CredentialsError
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.private_futures import GateioFuturesPrivateWebSocketHandler, futures_balance
from cexfeed.exchanges.gateio.private_protocol import GateioFuturesPrivateProtocol
from cexfeed.models import AccountNotice, Balance, Fill, Order, OrderStatus, Position

D = Decimal
S = OrderStatus
CONTRACTS = json.dumps([
    {"name": "BTC_USDT", "type": "direct", "quanto_multiplier": "0.0001"},
    {"name": "ETH_USDT", "type": "direct", "quanto_multiplier": "0.01", "enable_decimal": True},
    {"name": "BTC_USD", "type": "inverse", "quanto_multiplier": "0"},
]).encode()

DOC_ORDER = {"contract": "BTC_USDT", "create_time": 1628736847, "create_time_ms": 1628736847325, "fill_price": 40000.4, "finish_as": "filled",
             "finish_time": 1628736848, "finish_time_ms": 1628736848321, "iceberg": 0, "id": 4872460, "is_close": False, "is_liq": False,
             "is_reduce_only": False, "left": 0, "mkfr": -0.00025, "price": 40000.4, "refr": 0, "refu": 0, "size": 1, "status": "finished",
             "text": "-", "tif": "gtc", "tkfr": 0.0005, "user": "110xxxxx", "update_id": 1, "update_time": 1541505434123,
             "stop_loss_price": "", "stop_profit_price": ""}
DOC_USERTRADE = {"id": "3335259", "create_time": 1628736848, "create_time_ms": 1628736848321, "contract": "BTC_USDT", "order_id": "4872460",
                 "size": 1, "price": "40000.4", "role": "maker", "text": "api", "fee": 0.0009290592, "point_fee": 0}
DOC_POSITION = {"contract": "BTC_USDT", "cross_leverage_limit": 0, "entry_price": 40000.36666661111, "history_pnl": -0.000108569505,
                "history_point": 0, "last_close_pnl": -0.000050123368, "leverage": 0, "leverage_max": 100, "liq_price": 0.1,
                "maintenance_rate": 0.005, "margin": 49.999890611186, "mode": "single", "realised_pnl": -1.25e-8, "realised_point": 0,
                "risk_limit": 100, "size": 3, "time": 1628736848, "time_ms": 1628736848321, "user": "110xxxxx", "update_id": 170919}
DOC_BALANCE = {"balance": 9.998739899488, "change": -0.000002074115, "text": "BTC_USD:3914424", "time": 1547199246, "time_ms": 1547199246123,
               "type": "fee", "user": "211xxx", "currency": "btc"}


def frame(channel: str, items) -> bytes:
    # the raw JSON text as Gate writes it: floats keep their digits (json.dumps writes repr)
    return json.dumps({"time": 1541505434, "time_ms": 1541505434123, "channel": channel, "event": "update", "result": items}).encode()


def run(*frames: bytes, symbols: bytes | None = CONTRACTS):
    events: list = []
    handler = GateioFuturesPrivateWebSocketHandler(events.append, symbols=futures_symbol_map(symbols) if symbols else None)
    for raw in frames:
        handler._handle_message(raw, 9)
    return handler, events


def test_doc_order_every_field():
    _, [order] = run(frame("futures.orders", [DOC_ORDER]))
    assert order == Order(
        venue="gateio", market="perp", symbol="BTC/USDT:USDT", venue_symbol="BTC_USDT", exchange_ts=1541505434123, recv_ts=9,
        order_id="4872460", side="buy", order_type="limit", status=S.FILLED, raw_status="finished/filled", price=D("40000.4"),
        amount=D("0.0001"), filled=D("0.0001"), left=D("0"), contracts=D("1"), filled_contracts=D("1"), left_contracts=D("0"),
        avg_price=D("40000.4"), fee=None, fee_currency=None, client_order_id=None, time_in_force="gtc", reduce_only=False,
        created_ts=1628736847325, updated_ts=1541505434123, update_id=1,
    )


def test_2026_decimal_order_with_strings():
    item = dict(DOC_ORDER, fill_price="40000.4", price="40000.4", size="-1.5", left="-0.5", iceberg="0", id_string="4872460",
                status="open", finish_as="", contract="ETH_USDT", market_order_slip_ratio="0.03", fee="0.000123")
    _, [order] = run(frame("futures.orders", [item]))
    assert (order.side, order.status, order.contracts, order.filled_contracts, order.left_contracts) == ("sell", S.PARTIALLY_FILLED, D("1.5"), D("1.0"), D("0.5"))
    assert (order.amount, order.filled, order.left) == (D("0.015"), D("0.010"), D("0.005"))
    assert (order.fee, order.fee_currency, order.raw_status) == (D("0.000123"), "USDT", "open")


def test_doc_usertrade_and_exact_float_fee():
    _, [fill] = run(frame("futures.usertrades", [DOC_USERTRADE]))
    assert fill == Fill(
        venue="gateio", market="perp", symbol="BTC/USDT:USDT", venue_symbol="BTC_USDT", exchange_ts=1628736848321, recv_ts=9,
        trade_id="3335259", order_id="4872460", side="buy", price=D("40000.4"), amount=D("0.0001"), contracts=D("1"), role="maker",
        fee=D("0.0009290592"), fee_currency="USDT", client_order_id=None,
    )


def test_doc_position_every_field():
    handler, [position] = run(frame("futures.positions", [DOC_POSITION]))
    assert position == Position(
        venue="gateio", market="perp", symbol="BTC/USDT:USDT", venue_symbol="BTC_USDT", exchange_ts=1628736848321, recv_ts=9,
        mode="single", side="long", contracts=D("3"), size=D("0.0003"), entry_price=D("40000.36666661111"), mark_price=None,
        liq_price=D("0.1"), margin=D("49.999890611186"), leverage=D("0"), realised_pnl=D("-1.25E-8"), unrealised_pnl=None,
        update_id=170919, closed=False,
    )
    assert handler.state.positions[("BTC/USDT:USDT", "single")] == position


def test_doc_balance_currency_and_total():
    _, [balance] = run(frame("futures.balances", [DOC_BALANCE]))
    assert balance == Balance(venue="gateio", market="perp", symbol="", venue_symbol="", exchange_ts=1547199246123, recv_ts=9,
                              currency="BTC", total=D("9.998739899488"), available=None, frozen=None, change=D("-0.000002074115"), change_type="fee")
    # without a currency field (or an empty one): malformed, never taken for the settle currency
    for item in ({"balance": "12.5", "change": "1", "type": "dnw", "time_ms": 1}, {"balance": "12.5", "currency": "", "time_ms": 1}):
        handler, events = run(frame("futures.balances", [item]))
        assert events == [] and handler.stats.errors["malformed_item"] == 1 and handler.state.balances == {}


def test_positions_single_and_dual_kept_apart_and_zero_closes():
    pushes = [
        frame("futures.positions", [dict(DOC_POSITION, size=3, update_id=1)]),
        frame("futures.positions", [dict(DOC_POSITION, contract="ETH_USDT", mode="dual_long", size="2.5", update_id=2)]),
        frame("futures.positions", [dict(DOC_POSITION, contract="ETH_USDT", mode="dual_short", size="-4", update_id=3)]),
        frame("futures.positions", [dict(DOC_POSITION, contract="ETH_USDT", mode="dual_short", size="-1.5", update_id=4)]),  # partial close
        frame("futures.positions", [dict(DOC_POSITION, size=0, update_id=5)]),  # single closed: no side on the wire
        frame("futures.positions", [dict(DOC_POSITION, size=3, update_id=4)]),  # older: cannot reopen
    ]
    handler, events = run(*pushes)
    positions = [e for e in events if isinstance(e, Position)]
    assert [(p.mode, p.contracts, p.side, p.closed) for p in positions] == [
        ("single", D("3"), "long", False), ("dual_long", D("2.5"), "long", False), ("dual_short", D("-4"), "short", False),
        ("dual_short", D("-1.5"), "short", False), ("single", D("0"), "long", True)]
    assert set(handler.state.positions) == {("ETH/USDT:USDT", "dual_long"), ("ETH/USDT:USDT", "dual_short")}
    assert handler.state.positions[("ETH/USDT:USDT", "dual_short")].size == D("-0.015")
    assert handler.state.stats["stale_position"] == 1


def test_unknown_and_inverse_contracts_never_pass_counts_off_as_base():
    handler, [order] = run(frame("futures.orders", [dict(DOC_ORDER, contract="DOGE_USDT")]))
    assert order.contracts == D("1") and order.amount is None and order.filled is None
    assert handler.stats.errors["no_multiplier"] == 1
    _, [position] = run(frame("futures.positions", [dict(DOC_POSITION, contract="BTC_USD", size=100)]))
    assert position.contracts == D("100") and position.size is None
    _, [fill] = run(frame("futures.usertrades", [DOC_USERTRADE]), symbols=None)
    assert fill.contracts == D("1") and fill.amount is None


FUTURES_FINISH = [
    ("filled", 0, S.FILLED), ("cancelled", 1, S.CANCELED), ("cancelled", 0, S.CANCELED), ("liquidated", 0, S.FILLED),
    ("liquidated", 1, S.CANCELED), ("ioc", 1, S.EXPIRED), ("ioc", 0, S.FILLED), ("auto_deleveraged", 0, S.FILLED),
    ("reduce_only", 1, S.CANCELED), ("position_closed", 1, S.CANCELED), ("stp", 1, S.CANCELED), ("liquidate_cancelled", 1, S.CANCELED),
    ("small", 2, S.REJECTED), ("depth_not_enough", 1, S.CANCELED), ("depth_not_enough", 2, S.REJECTED),
    ("trader_not_enough", 2, S.REJECTED), ("poc", 2, S.REJECTED), ("fok", 2, S.EXPIRED), ("open", 2, S.UNKNOWN),
    ("something_new", 1, S.UNKNOWN),
]


@pytest.mark.parametrize("finish_as,left,status", FUTURES_FINISH)
def test_futures_finish_as_table(finish_as, left, status):
    _, [order] = run(frame("futures.orders", [dict(DOC_ORDER, size=2, left=left, finish_as=finish_as)]))
    assert order.status is status and order.raw_status == f"finished/{finish_as}"
    assert order.filled_contracts == D(2 - left)


def test_unknown_status_value_never_moves_the_lifecycle():
    handler, events = run(
        frame("futures.orders", [dict(DOC_ORDER, status="open", finish_as="", left=1, update_id=1)]),
        frame("futures.orders", [dict(DOC_ORDER, status="paused", finish_as="", left=1, update_id=2)]),
    )
    assert [e.status for e in events] == [S.OPEN, S.UNKNOWN]
    assert handler.state.open_orders["4872460"].status is S.OPEN and events[1].raw_status == "paused"


def test_notices():
    liq = {"entry_price": 209, "fill_price": 215.1, "left": 0, "leverage": 0.0, "liq_price": 213, "margin": 0.007816722941, "mark_price": 213,
           "order_id": 4093362, "order_price": 215.1, "size": -124, "time": 1541486601, "time_ms": 1541486601123, "contract": "BTC_USDT",
           "user": "1040xxxx"}
    adl = {"entry_price": 209, "fill_price": 215.1, "position_size": 10, "trade_size": 10, "time": 1541486601, "time_ms": 1541486601123,
           "contract": "BTC_USDT", "user": "1040"}
    close = {"contract": "BTC_USDT", "pnl": -0.000624354791, "side": "long", "text": "web", "time": 1547198562, "time_ms": 1547198562123,
             "user": "211xxxx"}
    auto = {"user": 123456, "trigger": {"strategy_type": 0, "price_type": 0, "price": "10000", "rule": 2, "expiration": 86400},
            "initial": {"contract": "BTC_USDT", "size": 10, "price": "10000", "tif": "gtc", "text": "web", "iceberg": 0, "is_close": False,
                        "is_reduce_only": False, "auto_size": ""},
            "id": 9256, "trade_id": 0, "status": "open", "reason": "", "create_time": 1596798126, "name": "price_autoorders",
            "is_stop_order": False, "stop_trigger": {"rule": 0, "trigger_price": "", "order_price": ""}, "order_type": "close-long-order",
            "me_order_id": "213867453823"}
    _, events = run(frame("futures.liquidates", [liq]), frame("futures.auto_deleverages", [adl]), frame("futures.position_closes", [close]),
                    frame("futures.autoorders", [auto]))
    assert all(isinstance(e, AccountNotice) for e in events)
    assert [(e.kind, e.order_id, e.price, e.contracts, e.size, e.pnl, e.side, e.status) for e in events] == [
        ("liquidation", "4093362", D("215.1"), D("-124"), D("-0.0124"), None, None, None),
        ("auto_deleverage", None, D("215.1"), D("10"), D("0.0010"), None, None, None),
        ("position_close", None, None, None, None, D("-0.000624354791"), "long", None),
        ("trigger_order", "9256", D("10000"), D("10"), D("0.0010"), None, None, "open"),
    ]


def test_older_shapes_and_malformed():
    # ints for prices, no update_id/update_time, id only as an integer beyond 2**53
    lean = {"contract": "BTC_USDT", "id": 2**60 + 3, "size": 5, "left": 5, "price": 40000, "status": "open", "create_time": 1628736847}
    handler, [order] = run(frame("futures.orders", [lean]))
    assert order.order_id == str(2**60 + 3) and order.exchange_ts == 1628736847000 and order.update_id is None
    handler._handle_message(frame("futures.orders", [dict(lean, size="1_5")]), 1)
    handler._handle_message(frame("futures.positions", [dict(DOC_POSITION, size="inf")]), 1)
    handler._handle_message(frame("futures.balances", [dict(DOC_BALANCE, balance=True)]), 1)
    # bad items of arrays: each counted and left out (here the only item of its push)
    assert handler.stats.errors["malformed_item"] == 3 and handler.state.positions == {}


def test_rest_balance():
    balance = futures_balance(b'{"total":"1000.123","available":"900.1","currency":"USDT","in_dual_mode":false}', 3)
    assert (balance.currency, balance.total, balance.available, balance.exchange_ts) == ("USDT", D("1000.123"), D("900.1"), None)


def test_payloads_carry_the_uid_and_one_contract():
    protocol = GateioFuturesPrivateProtocol(credentials=Credentials("k", "s", 123))
    subs = protocol.subscriptions(["orders", "balances", "positions", "trigger_orders"], ["BTC_USDT", "ETH_USDT"])
    payloads = [(s.channel, json.loads(protocol.subscribe_frame(s, 1))["payload"]) for s in subs]
    assert payloads == [("orders", ["123", "BTC_USDT"]), ("orders", ["123", "ETH_USDT"]), ("balances", ["123"]),
                        ("positions", ["123", "BTC_USDT"]), ("positions", ["123", "ETH_USDT"]),
                        ("trigger_orders", ["BTC_USDT"]), ("trigger_orders", ["ETH_USDT"])]
    assert protocol.headers == {"X-Gate-Size-Decimal": "1"}
    with pytest.raises(CredentialsError, match="GATEIO_UID"):
        GateioFuturesPrivateProtocol(credentials=Credentials("k", "s"))
