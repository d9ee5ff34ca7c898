"""Account values by their kinds (:class:`cexfeed.wire.AmountKind`; gateio-protocol.md §8, §9,
mexc-protocol.md §2.3): a price or size that cannot be (a negative price, a fill of 0, a negative
balance) makes its item malformed on every path: counted, logged once, skipped, never applied to
the account state; what may be negative (a fee rebate, pnl, a balance change, a futures size's
sign) is kept; an undocumented side is ``unknown`` with the venue's value kept. Gate on the direct
handler with its compiled reader, on its pure-Python twin and on the strategy path; the REST
decoders (Gate, MEXC); the rules themselves. MEXC's pushes are held on every path by
``test_compat_differential_mexc_private``."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import NamedTuple, Optional

import msgspec
import pytest

from cexfeed import wire
from cexfeed.account import PyAccountState
from cexfeed.compat.gateio_private import replay_handler as strategy_handler
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.private_futures import GateioFuturesPrivateWebSocketHandler, futures_balance
from cexfeed.exchanges.gateio.private_spot import GateioSpotPrivateWebSocketHandler, spot_balances
from cexfeed.exchanges.gateio.protocol import spot_symbol_map
from cexfeed.exchanges.mexc import private_rest
from cexfeed.exchanges.mexc.private_handler import MexcPrivateWebSocketHandler

D = Decimal
CONTRACTS = json.dumps([{"name": "BTC_USDT", "type": "direct", "quanto_multiplier": "0.0001"}]).encode()
PATHS = ["compiled", "pure", "strategy"]

SPOT_ORDER = {"id": "399123456", "text": "t-abc", "create_time_ms": "1694655225315", "update_time_ms": "1694655225315", "currency_pair": "BTC_USDT",
              "type": "limit", "account": "spot", "side": "sell", "amount": "0.0001", "price": "26253.3", "time_in_force": "gtc",
              "left": "0.0001", "filled_total": "0", "filled_amount": "0", "avg_deal_price": "0", "fee": "0", "fee_currency": "USDT",
              "event": "put", "finish_as": "open"}
SPOT_FILL = {"id": 5736713, "order_id": "399123456", "currency_pair": "BTC_USDT", "create_time_ms": "1605176741123.456", "side": "sell",
             "amount": "0.0001", "role": "taker", "price": "10000", "fee": "0.002", "fee_currency": "USDT", "text": "t-abc"}
SPOT_BALANCE = {"timestamp_ms": "1667556323730", "currency": "USDT", "change": "-5", "total": "100", "available": "95", "freeze": "5",
                "change_type": "order-create"}
FUT_ORDER = {"contract": "BTC_USDT", "create_time_ms": 1628736847325, "fill_price": "0", "finish_as": "", "id": 4872460, "is_close": False,
             "left": "10", "price": "40000.4", "size": "10", "status": "open", "text": "t-1", "tif": "gtc", "fee": -0.00025, "update_id": 1,
             "update_time": 1628736847325}
FUT_FILL = {"id": "3335259", "create_time_ms": 1628736848321, "contract": "BTC_USDT", "order_id": "4872460", "size": "-2", "price": "40000.4",
            "role": "maker", "text": "t-1", "fee": -0.0009}
FUT_POSITION = {"contract": "BTC_USDT", "entry_price": 40000.5, "leverage": 10, "liq_price": 0, "margin": 49.9, "mode": "single",
                "realised_pnl": -1.25e-8, "unrealised_pnl": -5.5, "size": "-3", "time_ms": 1628736848321, "update_id": 7}
FUT_BALANCE = {"balance": 9.99, "change": -0.0021, "text": "BTC_USDT:1", "time_ms": 1547199246123, "type": "fee", "currency": "usdt"}


def frame(channel: str, *items: dict) -> bytes:
    return json.dumps({"time": 1700000000, "time_ms": 1700000000000, "channel": channel, "event": "update", "result": list(items)}).encode()


def handler(path: str, spot: bool):
    if path == "strategy":
        return strategy_handler("gateio-spot" if spot else "gateio-perp", None if spot else CONTRACTS)
    cls = GateioSpotPrivateWebSocketHandler if spot else GateioFuturesPrivateWebSocketHandler
    symbols = spot_symbol_map() if spot else futures_symbol_map(CONTRACTS)
    if path == "pure":
        h = cls(symbols=symbols, state=PyAccountState("gateio", "spot" if spot else "perp"))
        h.use_compiled(False)
        return h
    h = cls(symbols=symbols)
    if h._reader is None:
        pytest.skip("compiled Gate account reader not built")
    return h


def run(path: str, spot: bool, *frames: bytes):
    h = handler(path, spot)
    events: list = []
    h.set_callback(events.append)
    for raw in frames:
        h._handle_message(raw, 5)
    errors = Counter(h.stats.errors)
    errors.pop("amounts_checked", None)
    s = h.state
    state = msgspec.to_builtins({"balances": s.balances, "open": s.open_orders, "closed": dict(s.closed_orders), "fills": s.fills,
                                 "positions": {f"{k[0]} {k[1]}": v for k, v in s.positions.items()}})
    return events, dict(errors), state


def same_on_every_path(spot: bool, *frames: bytes):
    """The events, counters and account state of the frames, asserted equal on every path."""
    outcomes = [run(path, spot, *frames) for path in PATHS]
    for path, outcome in zip(PATHS[1:], outcomes[1:]):
        assert msgspec.to_builtins(outcome[0]) == msgspec.to_builtins(outcomes[0][0]), path
        assert outcome[1:] == outcomes[0][1:], path
    return outcomes[0]


# -- Gate spot -------------------------------------------------------------------------------------
SPOT_OUTSIDE = [
    ("spot.orders", SPOT_ORDER, {"amount": "-1"}), ("spot.orders", SPOT_ORDER, {"amount": "0"}), ("spot.orders", SPOT_ORDER, {"amount": 0}),
    ("spot.orders", SPOT_ORDER, {"price": "-26253.3"}), ("spot.orders", SPOT_ORDER, {"price": -1}), ("spot.orders", SPOT_ORDER, {"left": "-0.1"}),
    ("spot.orders", SPOT_ORDER, {"left": "0.0002"}), ("spot.orders", SPOT_ORDER, {"filled_amount": "-0.00001"}),
    ("spot.orders", SPOT_ORDER, {"filled_total": "-1"}), ("spot.orders", SPOT_ORDER, {"avg_deal_price": "-3"}),
    ("spot.usertrades", SPOT_FILL, {"price": "-1"}), ("spot.usertrades", SPOT_FILL, {"price": "0"}), ("spot.usertrades", SPOT_FILL, {"amount": "0"}),
    ("spot.usertrades", SPOT_FILL, {"amount": "-0.0001"}), ("spot.usertrades", SPOT_FILL, {"amount": "0e5"}),
    ("spot.balances", SPOT_BALANCE, {"available": "-5"}), ("spot.balances", SPOT_BALANCE, {"total": -1}),
    ("spot.balances", SPOT_BALANCE, {"freeze": "-0.1"}),
]


@pytest.mark.parametrize("channel, item, change", SPOT_OUTSIDE, ids=[f"{c}-{list(x.items())[0]}" for c, _, x in SPOT_OUTSIDE])
def test_gate_spot_value_outside_its_kind_is_malformed_and_never_applied(channel, item, change):
    # beside a good item of the same push: the good one is applied, the bad one counted
    bad = dict(item, **change)
    events, errors, state = same_on_every_path(True, frame(channel, bad, item))
    good, _, good_state = same_on_every_path(True, frame(channel, item))
    assert events == good and state == good_state and errors == {"malformed_item": 1}
    # alone: nothing happens to the account
    events, errors, state = same_on_every_path(True, frame(channel, bad))
    assert events == [] and errors == {"malformed_item": 1}
    assert state == {"balances": {}, "open": {}, "closed": {}, "fills": {}, "positions": {}}


def test_gate_spot_values_inside_their_kinds_are_kept():
    market = dict(SPOT_ORDER, id="2", type="market", side="buy", price="0", amount="100", left="100")
    rebate = dict(SPOT_FILL, id=2, fee="-0.0001")
    events, errors, state = same_on_every_path(True, frame("spot.orders", market), frame("spot.usertrades", rebate),
                                               frame("spot.balances", dict(SPOT_BALANCE, change="-95", available="0", total="0", freeze="-0")))
    order, fill, balance = events
    assert (order.price, order.amount, order.quote_amount, order.quote_left) == (None, None, D("100"), D("100"))
    assert (fill.fee, fill.side, fill.raw_side) == (D("-0.0001"), "sell", None)
    assert (balance.change, balance.available, balance.total, balance.frozen) == (D("-95"), D("0"), D("0"), D("0"))
    assert errors == {} and set(state["open"]) == {"2"}


def test_gate_spot_unknown_side_is_kept_marked_and_counted():
    events, errors, state = same_on_every_path(
        True, frame("spot.orders", dict(SPOT_ORDER, side="BUY")), frame("spot.usertrades", dict(SPOT_FILL, side="hold")),
        frame("spot.orders", dict(SPOT_ORDER, side="sell", event="finish", finish_as="cancelled", update_time_ms="1694655225316")))
    put, fill, cancel = events
    assert (put.side, put.raw_side, put.status.value, fill.side, fill.raw_side) == ("unknown", "BUY", "open", "unknown", "hold")
    # the lifecycle went on as always: the later update (a known side) ended the order
    assert (cancel.side, cancel.raw_side, cancel.status.value) == ("sell", None, "canceled")
    assert errors == {"unknown_side": 2} and state["open"] == {} and set(state["closed"]) == {"399123456"}


# -- Gate futures ----------------------------------------------------------------------------------
FUT_OUTSIDE = [
    ("futures.orders", FUT_ORDER, {"price": "-1"}), ("futures.orders", FUT_ORDER, {"price": -40000.4}),
    ("futures.orders", FUT_ORDER, {"fill_price": "-2"}), ("futures.orders", FUT_ORDER, {"size": "0"}),
    ("futures.orders", FUT_ORDER, {"size": 0, "is_close": None}), ("futures.orders", FUT_ORDER, {"left": "11"}),
    ("futures.orders", FUT_ORDER, {"size": "-10", "left": "-10.5"}),
    ("futures.usertrades", FUT_FILL, {"size": "0"}), ("futures.usertrades", FUT_FILL, {"size": 0}),
    ("futures.usertrades", FUT_FILL, {"price": "0"}), ("futures.usertrades", FUT_FILL, {"price": "-40000"}),
    ("futures.positions", FUT_POSITION, {"entry_price": -1}), ("futures.positions", FUT_POSITION, {"mark_price": "-2"}),
    ("futures.positions", FUT_POSITION, {"liq_price": -0.1}), ("futures.positions", FUT_POSITION, {"margin": -0.5}),
    ("futures.positions", FUT_POSITION, {"leverage": -1}),
    ("futures.balances", FUT_BALANCE, {"balance": -1}), ("futures.balances", FUT_BALANCE, {"balance": "-0.5"}),
    ("futures.liquidates", {"contract": "BTC_USDT", "order_id": 1, "size": -124, "left": 0, "time_ms": 1}, {"fill_price": -215.1}),
    ("futures.auto_deleverages", {"contract": "BTC_USDT", "position_size": 10, "trade_size": 10, "time_ms": 1}, {"fill_price": "-1"}),
    ("futures.autoorders", {"id": 9, "status": "open", "initial": {"contract": "BTC_USDT", "size": 10, "price": "10000"}},
     {"trigger": {"price": "-10000"}}),
]


@pytest.mark.parametrize("channel, item, change", FUT_OUTSIDE, ids=[f"{c}-{list(x.items())[0]}" for c, _, x in FUT_OUTSIDE])
def test_gate_futures_value_outside_its_kind_is_malformed_and_never_applied(channel, item, change):
    events, errors, state = same_on_every_path(False, frame(channel, dict(item, **change)))
    assert events == [] and errors == {"malformed_item": 1}
    assert state == {"balances": {}, "open": {}, "closed": {}, "fills": {}, "positions": {}}
    events, errors, _ = same_on_every_path(False, frame(channel, item, dict(item, **change)))
    assert len(events) == 1 and errors == {"malformed_item": 1}


def test_gate_futures_values_inside_their_kinds_are_kept():
    close = dict(FUT_ORDER, id=5, size="0", is_close=True, left="0", price="0", tif="ioc")
    sell = dict(FUT_ORDER, id=6, size="-10", left="-4")
    events, errors, state = same_on_every_path(
        False, frame("futures.orders", close, sell), frame("futures.usertrades", FUT_FILL), frame("futures.positions", FUT_POSITION),
        frame("futures.balances", FUT_BALANCE), frame("futures.position_closes", {"contract": "BTC_USDT", "pnl": -0.06, "side": "long"}))
    close_o, sell_o, fill, position, balance, notice = events
    assert (close_o.side, close_o.contracts, close_o.price, close_o.order_type) == ("close", D("0"), None, "market")
    assert (sell_o.side, sell_o.contracts, sell_o.left_contracts, sell_o.filled_contracts, sell_o.fee) == ("sell", D("10"), D("4"), D("6"), D("-0.00025"))
    assert (fill.side, fill.contracts, fill.amount, fill.fee) == ("sell", D("2"), D("0.0002"), D("-0.0009"))
    assert (position.contracts, position.side, position.unrealised_pnl, position.liq_price) == (D("-3"), "short", D("-5.5"), None)
    assert (balance.total, balance.change, notice.pnl) == (D("9.99"), D("-0.0021"), D("-0.06"))
    assert errors == {} and len(state["positions"]) == 1


# -- REST seeds ------------------------------------------------------------------------------------
def test_gate_rest_bodies_hold_the_kinds():
    assert [b.available for b in spot_balances(b'[{"currency":"BTC","available":"0","locked":"1.5"}]', 1)] == [D("0")]
    for body in (b'[{"currency":"BTC","available":"-1","locked":"0"}]', b'[{"currency":"BTC","available":"1","locked":-2}]'):
        with pytest.raises(ValueError):  # msgspec.ValidationError is one
            spot_balances(body, 1)
    assert futures_balance(b'{"total":"12.5","available":"0","currency":"USDT"}', 1).total == D("12.5")
    with pytest.raises(ValueError):
        futures_balance(b'{"total":"-12.5","currency":"USDT"}', 1)
    with pytest.raises(ValueError):  # the strict converter (a text outside the typed decode's reach) too
        futures_balance(b'{"total":"1","available":"-1.0","currency":"USD\\u0054"}', 1)


def test_mexc_rest_bodies_hold_the_kinds():
    h = MexcPrivateWebSocketHandler()
    with pytest.raises(ValueError):
        private_rest.rest_balances(b'{"balances":[{"asset":"USDT","free":"-1","locked":"0"}]}', h, 1)
    item = {"symbol": "BTCUSDT", "orderId": "C02__1", "price": "10", "origQty": "1", "executedQty": "1", "cummulativeQuoteQty": "11",
            "status": "FILLED", "type": "LIMIT", "side": "SELL", "time": 1, "updateTime": 2}
    # a limit sell filled above its price: what is left of its quote total is not known (None, never negative)
    order = private_rest.rest_order(item, h, 1)
    assert (order.quote_amount, order.quote_left, order.filled_quote, order.left) == (D("10"), None, D("11"), D("0"))
    with pytest.raises(ValueError):  # executed more than the order's quantity
        private_rest.rest_order(dict(item, executedQty="2"), h, 1)
    with pytest.raises(ValueError):
        private_rest.rest_order(dict(item, price="-10"), h, 1)
    trade = {"symbol": "BTCUSDT", "id": "T1", "orderId": "C02__1", "price": "10", "qty": "0", "quoteQty": "0", "commission": "0",
             "commissionAsset": "USDT", "time": 1, "isBuyer": True, "isMaker": False}
    with pytest.raises(ValueError):
        private_rest.rest_fill(trade, h, 1)
    fill = private_rest.rest_fill(dict(trade, qty="1", commission="-0.01", isBuyer=None), h, 1)
    assert (fill.side, fill.raw_side, fill.fee) == ("unknown", "null", D("-0.01"))


# -- the rules -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, allowed, refused", [
    (wire.SIGNED, ["-1", "0", "1"], []),
    (wire.NONZERO, ["-1", "1", "1e-999"], ["0", "-0", "0.000", "0e5"]),
    (wire.POSITIVE, ["1", "1e-999"], ["0", "-0", "-1", "-1e-999"]),
    (wire.UNSIGNED, ["0", "-0", "0.0", "1"], ["-1", "-0.0001", "-1e-999"]),
])
def test_kind_rules(kind, allowed, refused):
    assert all(kind.allows(wire.amount(v)) for v in allowed)
    assert not any(kind.allows(wire.amount(v)) for v in refused)


def test_kinds_are_read_from_field_types():
    class Body(NamedTuple):
        price: wire.PositiveAmount | None
        size: wire.NonZeroAmount
        fee: wire.Amount | None
        left: Optional[wire.UnsignedAmount]
        name: str

    assert wire.amount_kinds(Body) == (("price", wire.POSITIVE), ("size", wire.NONZERO), ("left", wire.UNSIGNED))
    assert wire.amount_kind(str) is None and wire.amount_kind(Decimal) is wire.SIGNED
    wire.check_amounts(Body(None, D("-1"), D("-2"), D("0"), "x"))
    with pytest.raises(ValueError, match="impossible left -1"):
        wire.check_amounts(Body(D("1"), D("-1"), None, D("-1"), "x"))


def test_the_compiled_reader_leaves_every_such_item_to_its_twin():
    """The compiled reader reads the good pushes itself and hands each push with an item outside
    the rules to the twin's path (``read`` gives ``None``), which counts it."""
    for spot, cases, good in ((True, SPOT_OUTSIDE, {"spot.orders": SPOT_ORDER, "spot.usertrades": SPOT_FILL}),
                              (False, FUT_OUTSIDE, {"futures.orders": FUT_ORDER, "futures.usertrades": FUT_FILL, "futures.positions": FUT_POSITION})):
        reader = handler("compiled", spot)._reader
        for channel, item in good.items():
            assert reader.read(frame(channel, item), 5) is not None, channel
        served = [(channel, item, change) for channel, item, change in cases if channel in good]
        assert len(served) >= 10
        for channel, item, change in served:
            assert reader.read(frame(channel, dict(item, **change)), 5) is None, (channel, change)
    reader = handler("compiled", True)._reader
    assert reader.read(frame("spot.orders", dict(SPOT_ORDER, side="BUY")), 5) is None
    assert reader.read(frame("futures.orders", dict(FUT_ORDER, size="0", is_close=True, left="0")), 5) is None  # (a perp handler's)
    perp = handler("compiled", False)._reader
    [close] = perp.read(frame("futures.orders", dict(FUT_ORDER, size="0", is_close=True, left="0")), 5)
    assert close.side == "close"
