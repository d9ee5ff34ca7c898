"""MEXC spot private streams (mexc-protocol.md §2.3, §2.4, §6.2) through the direct private
handler on each decoder (upb reference, pure-Python walker, compiled): the documented samples
and frames built from the field tables, every normalized field asserted; the status and type
tables; absent fields, unknown fields and new enum values; malformed frames; replies."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from conftest import shared_dir

import pytest

from cexfeed.account import AccountSnapshot
from cexfeed.credentials import Credentials
from cexfeed.exchanges.mexc.capture import iter_mexc_frames
from cexfeed.exchanges.mexc.private_decode import decode_private_upb
from cexfeed.exchanges.mexc.private_handler import MexcPrivateWebSocketHandler
from cexfeed.models import AccountStatus, Balance, Fill, Order, OrderStatus, VenueError

from mexc_private_frames import (
    B_ACCOUNT,
    B_DEALS,
    B_ORDERS,
    DECODERS,
    DOC_ACCOUNT,
    DOC_ACCOUNT_FRAME,
    DOC_DEAL,
    DOC_DEAL_FRAME,
    DOC_ORDER,
    DOC_ORDER_FRAME,
    FROZEN_CHANGE,
    MAKER_SELL,
    PARTIAL_CANCEL,
    RecordingHooks,
    decoder_for,
    field,
    frame,
)

D = Decimal
S = OrderStatus
CAPTURES = shared_dir() / "captures" / "mexc"


@pytest.fixture(params=DECODERS)
def decoder(request):
    return decoder_for(request.param)


def make(decoder, **kwargs):
    events: list = []
    handler = MexcPrivateWebSocketHandler(events.append, decoder=decoder, **kwargs)
    handler.hooks = RecordingHooks()
    return handler, events


def run(decoder, *frames, **kwargs):
    handler, events = make(decoder, **kwargs)
    for raw in frames:
        handler._handle_message(raw, 11)
    return handler, events


# -- the documented samples ------------------------------------------------------------------------
def test_documented_order_every_field(decoder):
    handler, [order] = run(decoder, DOC_ORDER_FRAME)
    assert order == Order(
        venue="mexc", market="spot", symbol="MX/USDT", venue_symbol="MXUSDT", exchange_ts=1736417034281, recv_ts=11,
        order_id="C02__505979017439002624115", side="sell", order_type="market", status=S.FILLED, raw_status="FILLED",
        price=None, amount=D("1"), filled=D("1"), left=D("0"), quote_amount=D("0"), quote_left=D("0"), filled_quote=D("3.6962"),
        contracts=None, filled_contracts=None, left_contracts=None, avg_price=D("3.6962"), fee=None, fee_currency=None,
        client_order_id=None, time_in_force=None, reduce_only=None, created_ts=1736417034259, updated_ts=1736417034281, update_id=None,
    )
    assert handler.state.closed_orders["C02__505979017439002624115"] is order and not handler.state.open_orders
    assert dict(handler.stats.errors) == {}


def test_documented_deal_every_field(decoder):
    handler, [fill] = run(decoder, DOC_DEAL_FRAME)
    assert fill == Fill(
        venue="mexc", market="spot", symbol="MX/USDT", venue_symbol="MXUSDT", exchange_ts=1736417034280, recv_ts=11,
        trade_id="505979017439002624X1", order_id="C02__505979017439002624115", side="sell", price=D("3.6962"), amount=D("1"),
        contracts=None, role="taker", fee=D("0.0003998377369698171"), fee_currency="MX", client_order_id=None,
    )
    assert handler.state.fills == {"505979017439002624X1": fill}


def test_documented_account_every_field(decoder):
    handler, [balance] = run(decoder, DOC_ACCOUNT_FRAME)
    assert balance == Balance(
        venue="mexc", market="spot", symbol="", venue_symbol="", exchange_ts=1736416910000, recv_ts=11, currency="USDT",
        total=D("21.94210356004384"),  # available + frozen, on every path (the venue sends no total)
        available=D("21.94210356004384"), frozen=D("0"), change=D("10"), change_type="CONTRACT_TRANSFER", frozen_change=D("0"),
    )
    assert handler.state.balances == {"USDT": balance}


def test_documented_sequence_order_then_fill_adds_up(decoder):
    handler, events = run(decoder, DOC_ORDER_FRAME, DOC_DEAL_FRAME, DOC_ACCOUNT_FRAME)
    assert [type(e) for e in events] == [Order, Fill, Balance]
    assert handler.state.invariants() == {}


# -- frames built from the field tables -----------------------------------------------------------
def test_partially_canceled_order(decoder):
    handler, [order] = run(decoder, frame(B_ORDERS, PARTIAL_CANCEL, symbol="MXUSDT", send=1736417050000))
    assert order == Order(
        venue="mexc", market="spot", symbol="MX/USDT", venue_symbol="MXUSDT", exchange_ts=1736417050000, recv_ts=11,
        order_id="C02__600000000000000001", side="buy", order_type="limit", status=S.CANCELED, raw_status="PARTIALLY_CANCELED",
        price=D("2.5"), amount=D("1"), filled=D("0.4"), left=D("0.6"), quote_amount=D("2.5"), quote_left=D("1.5"), filled_quote=D("1"),
        contracts=None, filled_contracts=None, left_contracts=None, avg_price=D("2.5"), fee=None, fee_currency=None,
        client_order_id="my-order-7", time_in_force="gtc", reduce_only=None, created_ts=1736417000000, updated_ts=1736417050000,
        update_id=None,
    )
    assert order.status.terminal and order.filled > 0
    assert "C02__600000000000000001" in handler.state.closed_orders and not handler.state.open_orders


def test_maker_sell_fill(decoder):
    _, [fill] = run(decoder, frame(B_DEALS, MAKER_SELL, symbol="BTCUSDT", send=1736417100200))
    assert fill == Fill(
        venue="mexc", market="spot", symbol="BTC/USDT", venue_symbol="BTCUSDT", exchange_ts=1736417100123, recv_ts=11,
        trade_id="600000000000000777X1", order_id="C02__600000000000000002", side="sell", price=D("96567.38"), amount=D("0.0021"),
        contracts=None, role="maker", fee=D("0.0405582996"), fee_currency="USDT", client_order_id="po-1",
    )


def test_balance_change_with_frozen_amount(decoder):
    handler, events = run(decoder, DOC_ACCOUNT_FRAME, frame(B_ACCOUNT, FROZEN_CHANGE, create=1736417200001, send=1736417200002))
    assert events[1] == Balance(
        venue="mexc", market="spot", symbol="", venue_symbol="", exchange_ts=1736417200000, recv_ts=11, currency="USDT",
        total=D("21.94210356004384"),  # 11.94210356004384 available + 10 frozen, exact
        available=D("11.94210356004384"), frozen=D("10"), change=D("-10"), change_type="ENTRUST_PLACE", frozen_change=D("10"),
    )
    assert handler.state.balances["USDT"] is events[1]


def test_order_lifecycle_new_partial_filled(decoder):
    base = {"id": "C02__7", "price": "10", "quantity": "2", "amount": "20", "orderType": 1, "tradeType": 1, "createTime": 1736417000000}
    frames = [
        frame(B_ORDERS, dict(base, status=1, remainQuantity="2", remainAmount="20"), symbol="MXUSDT", send=1736417000001),
        frame(B_DEALS, {"price": "10", "quantity": "0.5", "amount": "5", "tradeType": 1, "tradeId": "T1", "orderId": "C02__7",
                        "time": 1736417000002}, symbol="MXUSDT", send=1736417000003),
        frame(B_ORDERS, dict(base, status=3, remainQuantity="1.5", remainAmount="15", cumulativeQuantity="0.5", cumulativeAmount="5",
                             avgPrice="10", lastDealQuantity="0.5"), symbol="MXUSDT", send=1736417000004),
        frame(B_DEALS, {"price": "10", "quantity": "1.5", "amount": "15", "tradeType": 1, "tradeId": "T2", "orderId": "C02__7",
                        "time": 1736417000005}, symbol="MXUSDT", send=1736417000006),
        frame(B_ORDERS, dict(base, status=2, remainQuantity="0", remainAmount="0", cumulativeQuantity="2", cumulativeAmount="20",
                             avgPrice="10", lastDealQuantity="1.5"), symbol="MXUSDT", send=1736417000007),
    ]
    handler, events = make(decoder)
    seen = []
    for raw in frames:
        handler._handle_message(raw, 11)
        seen.append((set(handler.state.open_orders), len(handler.state.fills)))
    assert [(o.status, o.raw_status, o.filled, o.left, o.avg_price) for o in events if isinstance(o, Order)] == [
        (S.OPEN, "NEW", None, D("2"), None),
        (S.PARTIALLY_FILLED, "PARTIALLY_FILLED", D("0.5"), D("1.5"), D("10")),
        (S.FILLED, "FILLED", D("2"), D("0"), D("10")),
    ]
    assert seen == [({"C02__7"}, 0), ({"C02__7"}, 1), ({"C02__7"}, 1), ({"C02__7"}, 2), (set(), 2)]
    assert handler.state.invariants() == {}
    # the same pushes again change nothing; an older one never regresses the order
    handler._handle_message(frames[2], 12)
    handler._handle_message(frames[3], 12)
    assert len(events) == 5 and handler.state.closed_orders["C02__7"].status is S.FILLED


@pytest.mark.parametrize("order_type, kind, tif", [(1, "limit", "gtc"), (2, "limit", "poc"), (3, "limit", "ioc"), (4, "limit", "fok"),
                                                   (5, "market", None), (100, "stop_limit", None), (7, "unknown", None)])
def test_order_types(decoder, order_type, kind, tif):
    values = {"id": "C02__1", "price": "3", "quantity": "1", "orderType": order_type, "tradeType": 1, "status": 1}
    handler, [order] = run(decoder, frame(B_ORDERS, values, symbol="MXUSDT", send=1736417000000))
    assert (order.order_type, order.time_in_force, order.price) == (kind, tif, None if kind == "market" else D("3"))
    assert handler.stats.errors.get("unknown_order_type", 0) == (kind == "unknown")


@pytest.mark.parametrize("status, expected, raw", [(1, S.OPEN, "NEW"), (2, S.FILLED, "FILLED"), (3, S.PARTIALLY_FILLED, "PARTIALLY_FILLED"),
                                                   (4, S.CANCELED, "CANCELED"), (5, S.CANCELED, "PARTIALLY_CANCELED"), (6, S.UNKNOWN, "6"),
                                                   (0, S.UNKNOWN, "0"), (-1, S.UNKNOWN, "-1")])
def test_status_table(decoder, status, expected, raw):
    values = {"id": "C02__1", "price": "3", "quantity": "1", "orderType": 1, "tradeType": 2}
    if status:
        values["status"] = status
    _, [order] = run(decoder, frame(B_ORDERS, values, symbol="MXUSDT", send=1736417000000))
    assert (order.status, order.raw_status) == (expected, raw)


def test_a_new_status_value_keeps_the_lifecycle_and_the_stream(decoder):
    base = {"id": "C02__1", "price": "3", "quantity": "1", "orderType": 1, "tradeType": 2}
    handler, events = run(decoder, frame(B_ORDERS, dict(base, status=1), symbol="MXUSDT", send=1736417000000),
                          frame(B_ORDERS, dict(base, status=9), symbol="MXUSDT", send=1736417000001),
                          frame(B_ORDERS, dict(base, status=4), symbol="MXUSDT", send=1736417000002))
    assert [(e.status, e.raw_status) for e in events] == [(S.OPEN, "NEW"), (S.UNKNOWN, "9"), (S.CANCELED, "CANCELED")]
    assert handler.state.stats["unknown_status"] == 1 and not handler.state.open_orders


def test_absent_fields_read_as_defaults(decoder):
    """proto3 leaves defaults out: an order with only its id and size, a fill with no flags,
    fee or client id, a balance with only a currency decode (never a KeyError); an order with
    no size at all (neither quantity nor amount) is malformed."""
    handler, events = run(
        decoder,
        frame(B_ORDERS, {"id": "C02__9", "quantity": "1"}),
        frame(B_DEALS, {"price": "1", "quantity": "2", "tradeId": "T9", "orderId": "C02__9"}, symbol="MXUSDT"),
        frame(B_ACCOUNT, {"vcoinName": "MX"}),
        frame(B_ORDERS, {"id": "C02__10"}),
    )
    order, fill, balance = events
    assert (order.order_id, order.side, order.order_type, order.status, order.raw_status) == ("C02__9", "unknown", "unknown", S.UNKNOWN, "0")
    assert (order.symbol, order.venue_symbol, order.exchange_ts, order.created_ts, order.updated_ts) == ("", "", None, None, None)
    assert (order.price, order.filled, order.left, order.quote_amount, order.avg_price, order.client_order_id) == (None,) * 6
    assert (order.amount, order.raw_side, fill.raw_side) == (D("1"), "0", "0")
    assert (fill.side, fill.role, fill.fee, fill.fee_currency, fill.client_order_id, fill.exchange_ts) == ("unknown", "taker", None, None, None, None)
    assert (balance.currency, balance.available, balance.frozen, balance.change, balance.change_type, balance.exchange_ts) == ("MX",) + (None,) * 5
    assert handler.stats.errors["unknown_side"] == 2 and handler.stats.errors["unknown_order_type"] == 1
    assert handler.stats.errors["malformed"] == 1 and "C02__10" not in handler.state.open_orders


def test_market_buy_by_quote_amount(decoder):
    values = {"id": "C02__2", "amount": "50", "orderType": 5, "tradeType": 1, "status": 1, "remainAmount": "50", "createTime": 1736417000}
    _, [order] = run(decoder, frame(B_ORDERS, values, symbol="MXUSDT", send=1736417000000123))
    assert (order.amount, order.left, order.quote_amount, order.quote_left, order.price) == (None, None, D("50"), D("50"), None)
    # times in any unit become ms (createTime in s, sendTime in µs)
    assert (order.created_ts, order.exchange_ts) == (1736417000000, 1736417000000)


def test_unknown_fields_and_bodies_never_stop_the_stream(decoder):
    # wrapper fields the schema does not know (99, and 2 which the venue does not use)
    newer = frame(B_ORDERS, DOC_ORDER, symbol="MXUSDT", send=1736417034281, extra=field(99, 5) + field(2, "x"))
    handler, events = run(
        decoder,
        newer,
        field(1, "spot@private.orders.v3.api.pb") + field(320, b"\x0a\x01x"),  # a body added after our schema
        # body fields the schema does not know, in a second piece of the same body (pieces merge)
        frame(B_DEALS, DOC_DEAL, symbol="MXUSDT", send=1736417034332) + field(B_DEALS, field(40, "later") + field(41, 7)),
        DOC_ACCOUNT_FRAME,
    )
    assert [type(e) for e in events] == [Order, Fill, Balance]
    assert events[1].trade_id == "505979017439002624X1"
    assert dict(handler.stats.errors) == {"unknown_body": 1}


@pytest.mark.parametrize("values, number", [
    (dict(DOC_ORDER, price="1_000"), B_ORDERS), (dict(DOC_ORDER, quantity=" 5"), B_ORDERS), (dict(DOC_ORDER, avgPrice="NaN"), B_ORDERS),
    (dict(DOC_ORDER, amount="1e400"), B_ORDERS), (dict(DOC_ORDER, amount="+1"), B_ORDERS), (dict(DOC_ORDER, id=""), B_ORDERS),
    (dict(DOC_ORDER, createTime=-5), B_ORDERS), (dict(DOC_DEAL, price=""), B_DEALS), (dict(DOC_DEAL, tradeId=""), B_DEALS),
    (dict(DOC_DEAL, feeAmount="0x10"), B_DEALS), (dict(DOC_ACCOUNT, vcoinName=""), B_ACCOUNT),
    (dict(DOC_ACCOUNT, frozenAmount="00012"), B_ACCOUNT), (dict(DOC_ACCOUNT, balanceAmount=b"\xff1"), B_ACCOUNT),
])
def test_malformed_frames_are_counted_and_skipped(decoder, values, number):
    handler, events = run(decoder, frame(number, values, symbol="MXUSDT", send=1736417034281), DOC_ACCOUNT_FRAME)
    assert dict(handler.stats.errors) == {"malformed": 1}
    assert [type(e) for e in events] == [Balance]


def test_bad_wire_data(decoder):
    good = DOC_ORDER_FRAME
    handler, events = run(decoder, good[:-3], good + b"\x07", b"\x00\x01", b"\xff" * 11, good)
    assert handler.stats.errors == {"truncated": 1, "malformed": 3}
    assert [type(e) for e in events] == [Order]


def test_channels_are_checked(decoder):
    handler, events = run(
        decoder,
        frame(B_DEALS, DOC_DEAL, symbol="MXUSDT", channel="spot@private.orders.v3.api.pb"),
        frame(B_ORDERS, DOC_ORDER, symbol="MXUSDT", channel="spot@private.nope.v3.api.pb"),
        frame(B_ORDERS, DOC_ORDER, symbol="MXUSDT", channel=""),
        field(1, "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT") + field(3, "BTCUSDT") + field(314, b""),
        field(1, "spot@private.orders.v3.api.pb"),
    )
    assert events == []
    assert handler.stats.errors == {"channel_mismatch": 1, "unknown_channel": 2, "unknown_body": 1, "wrong_type": 1}


def test_exact_values_and_long_ids(decoder):
    values = dict(DOC_DEAL, price="0.1000000000000000055511151231257827", quantity="123456789012345678901234567890.123456789",
                  tradeId="9" * 40 + "X1", orderId="C02__" + "7" * 30, feeAmount="1E-8")
    _, [fill] = run(decoder, frame(B_DEALS, values, symbol="MXUSDT"))
    assert fill.price == D("0.1000000000000000055511151231257827") and str(fill.price) == "0.1000000000000000055511151231257827"
    assert str(fill.amount) == "123456789012345678901234567890.123456789" and fill.fee == D("1E-8")
    assert (fill.trade_id, fill.order_id) == ("9" * 40 + "X1", "C02__" + "7" * 30)


def test_pushes_in_any_order_end_in_the_same_state(decoder):
    base = {"id": "C02__5", "price": "2", "quantity": "1", "orderType": 1, "tradeType": 1, "createTime": 1736417000000}
    frames = [
        frame(B_ORDERS, dict(base, status=1, remainQuantity="1"), symbol="MXUSDT", send=1736417000001),
        frame(B_DEALS, {"price": "2", "quantity": "1", "amount": "2", "tradeType": 1, "tradeId": "T5", "orderId": "C02__5",
                        "time": 1736417000002}, symbol="MXUSDT", send=1736417000003),
        frame(B_ORDERS, dict(base, status=2, remainQuantity="0", cumulativeQuantity="1", cumulativeAmount="2", avgPrice="2"),
              symbol="MXUSDT", send=1736417000004),
        frame(B_ACCOUNT, {"vcoinName": "MX", "balanceAmount": "1", "balanceAmountChange": "1", "frozenAmount": "0", "time": 1736417000005}),
    ]
    states = []
    for order in ([0, 1, 2, 3], [1, 3, 2, 0], [3, 2, 1, 0], [2, 0, 3, 1]):
        handler, _ = run(decoder, *(frames[i] for i in order))
        s = handler.state
        states.append((dict(s.balances).keys(), s.open_orders, {k: (o.status, o.filled) for k, o in s.closed_orders.items()}, set(s.fills)))
    assert all(state == states[0] for state in states)
    assert states[0][2] == {"C02__5": (S.FILLED, D("1"))}


def test_pushes_wait_while_seeding(decoder):
    handler, events = make(decoder)
    handler.begin_sync("start")
    handler._handle_message(DOC_ORDER_FRAME, 11)
    handler._handle_message(DOC_DEAL_FRAME, 11)
    assert not handler.state.fills
    seed = Balance(venue="mexc", market="spot", symbol="", venue_symbol="", exchange_ts=None, recv_ts=5, currency="MX", available=D("3"))
    assert handler.finish_sync(AccountSnapshot(balances=[seed], taken_ts=1736417034000), 12)
    assert [type(e) for e in events] == [AccountStatus, Balance, Order, Fill, AccountStatus]
    assert [e.status for e in events if isinstance(e, AccountStatus)] == ["seeding", "live"]


# -- text replies (§1.4) ---------------------------------------------------------------------------------
def test_replies_and_secrets_never_reported(decoder):
    credentials = Credentials("mx0vglCANARYKEY", "CANARYSECRET123")
    handler, events = make(decoder, credentials=credentials)
    handler.masked = ("LISTENKEYCANARY99",)
    for raw in (b'{"id":1,"code":0,"msg":"spot@private.orders.v3.api.pb,spot@private.deals.v3.api.pb"}', '{"id":0,"code":0,"msg":"PONG"}',
                b'{"id":2,"code":700002,"msg":"listenKey LISTENKEYCANARY99 of mx0vglCANARYKEY invalid"}', b'{"id":3,"code":0,"msg":""}',
                b'{"unexpected":true}'):
        handler._handle_message(raw, 11)
    hooks = handler.hooks
    assert hooks.acks[:2] == [(1, "spot@private.orders.v3.api.pb", True, "spot@private.orders.v3.api.pb,spot@private.deals.v3.api.pb"),
                              (1, "spot@private.deals.v3.api.pb", True, "spot@private.orders.v3.api.pb,spot@private.deals.v3.api.pb")]
    assert hooks.pongs == 1
    errors = [e for e in events if isinstance(e, VenueError)]
    assert [(e.code, e.message) for e in errors] == [(700002, "listenKey *** of *** invalid"), (0, "empty ack: subscription not effective")]
    assert handler.stats.errors == {"venue_error": 2, "empty_ack": 1, "unknown_frame": 1}
    assert "CANARY" not in repr(events) + repr(handler.hooks.acks)


def test_private_captures_if_any():
    """Real private frames in the shared captures, if any were found (none were: §6.4)."""
    if not CAPTURES.is_dir():
        pytest.skip(f"no shared captures at {CAPTURES}")
    frames = [f for f in iter_mexc_frames(CAPTURES) if isinstance(f, bytes) and b"spot@private." in f[:64]]
    if not frames:
        pytest.skip("no private MEXC captures in ../shared/captures/mexc (none public, mexc-protocol.md §6.4)")
    handler, events = run(decoder_for("upb"), *frames)
    assert handler.stats.errors == {} and len(events) == len(frames)
    for raw in frames:
        assert decode_private_upb(raw).body is not None


# -- sizes and currencies (trial findings: values that reached events unchecked) --------------------
@pytest.mark.parametrize("values", [
    {"quantity": "0.01", "remainQuantity": "5"},  # more left than the order's size
    {"quantity": "0.01", "cumulativeQuantity": "0.02", "status": 2},  # more filled than the size
    {"quantity": "0", "amount": "600"},  # a limit order sized in quote: only a market order may be
    {"amount": "600"},
    {"amount": "600", "orderType": 100},  # stop-limit: a known non-market type
])
def test_order_quantities_above_or_without_its_size_are_malformed(decoder, values):
    base = {"id": "C02__5", "price": "60000", "orderType": 1, "tradeType": 1, "status": 1}
    handler, events = run(decoder, frame(B_ORDERS, dict(base, **values), symbol="BTCUSDT", send=1736417034281), DOC_ACCOUNT_FRAME)
    assert dict(handler.stats.errors) == {"malformed": 1}
    assert [type(e) for e in events] == [Balance]
    assert "C02__5" not in handler.state.open_orders


def test_order_at_its_size_and_market_by_quote_are_kept(decoder):
    base = {"price": "60000", "orderType": 1, "tradeType": 1}
    handler, events = run(
        decoder,
        frame(B_ORDERS, dict(base, id="C02__6", quantity="0.01", remainQuantity="0", cumulativeQuantity="0.01", status=2), symbol="BTCUSDT"),
        frame(B_ORDERS, {"id": "C02__7", "amount": "600", "remainAmount": "600", "orderType": 5, "tradeType": 1, "status": 1}, symbol="BTCUSDT"),
    )
    assert dict(handler.stats.errors) == {}
    filled, market = events
    assert (filled.amount, filled.filled, filled.left, filled.status) == (D("0.01"), D("0.01"), D("0"), S.FILLED)
    assert (market.amount, market.left, market.quote_amount, market.quote_left, market.status) == (None, None, D("600"), D("600"), S.OPEN)


def test_currencies_upper_case(decoder):
    """``usdt`` and ``USDT`` are one balance; a fill's fee currency is upper case too."""
    handler, events = run(
        decoder,
        frame(B_ACCOUNT, {"vcoinName": "usdt", "balanceAmount": "5", "frozenAmount": "0"}),
        frame(B_ACCOUNT, {"vcoinName": "USDT", "balanceAmount": "7", "frozenAmount": "1"}),
        frame(B_DEALS, dict(DOC_DEAL, feeCurrency="mx"), symbol="MXUSDT", send=1736417034332),
    )
    first, second, fill = events
    assert (first.currency, first.available, second.currency, second.available, second.frozen) == ("USDT", D("5"), "USDT", D("7"), D("1"))
    assert fill.fee_currency == "MX" and dict(handler.stats.errors) == {}
    assert list(handler.state.balances) == ["USDT"] and handler.state.balances["USDT"].available == D("7")
