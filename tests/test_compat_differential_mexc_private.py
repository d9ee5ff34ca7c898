"""Differential test of the MEXC account stream: the direct private handler on the compiled
decoder, the direct handler on its pure twins (the upb reference and the pure-Python walker)
and the strategy-path twin (compat parser + router) give the same events, the same account
state and the same error counts, on the documented samples, on frames built from the field
tables and on frames mutated into bad or unusual shapes."""

from __future__ import annotations

import random
from decimal import Decimal

import msgspec
import pytest

from cexfeed.compat.mexc_private import MexcPrivateStrategyHandler, replay_handler
from cexfeed.exchanges.mexc import private_decode
from cexfeed.models import OrderStatus
from cexfeed.venues import load, spec

from mexc_private_frames import (
    B_ACCOUNT,
    B_DEALS,
    B_ORDERS,
    DOC_ACCOUNT_FRAME,
    DOC_DEAL_FRAME,
    DOC_ORDER_FRAME,
    FROZEN_CHANGE,
    MAKER_SELL,
    PARTIAL_CANCEL,
    field,
    frame,
)
from test_mexc_private_decode import _mutate, _random_frame

PATHS = ["direct", "direct-upb", "direct-py", "strategy"]


def handler(path: str):
    if path == "strategy":
        h = replay_handler(None)
        assert isinstance(h, MexcPrivateStrategyHandler)
        return h
    h = load(spec("mexc-spot").private_replay)(None)
    if path == "direct-upb":
        h._decode = private_decode.decode_private_upb
    elif path == "direct-py":
        h._decode = private_decode.decode_private_py
    elif private_decode.decode_private_compiled is None:
        pytest.skip("compiled MEXC private decoder (_privpb) not built")
    return h


def comparable(events: list) -> list[dict]:
    out = []
    for event in events:
        data = msgspec.structs.asdict(event)
        data.pop("recv_ts")
        data["type"] = type(event).__name__
        out.append(data)
    return out


def assert_same(frames: list[bytes]) -> tuple[list, dict]:
    outcomes = {}
    for path in PATHS:
        events: list = []
        h = handler(path)
        h.set_callback(events.append)
        for raw in frames:
            h._handle_message(raw, 11)
        state = {attr: getattr(h.state, attr) for attr in ("balances", "open_orders", "closed_orders", "fills")}
        outcomes[path] = (comparable(events), dict(h.stats.errors), state)
    first = outcomes[PATHS[0]]
    for path in PATHS[1:]:
        assert outcomes[path][0] == first[0], path
        assert outcomes[path][1] == first[1], path
        assert outcomes[path][2] == first[2], path
    return first[0], first[1]


BASE = {"id": "C02__7", "price": "10", "quantity": "2", "amount": "20", "orderType": 1, "tradeType": 1, "createTime": 1736417000000}
FRAMES = [
    DOC_ORDER_FRAME, DOC_DEAL_FRAME, DOC_ACCOUNT_FRAME, frame(B_ORDERS, PARTIAL_CANCEL, symbol="MXUSDT", send=1736417050000),
    frame(B_DEALS, MAKER_SELL, symbol="BTCUSDT", send=1736417100200), frame(B_ACCOUNT, FROZEN_CHANGE, create=1736417200001, send=1736417200002),
    frame(B_ORDERS, dict(BASE, status=1, remainQuantity="2"), symbol="MXUSDT", send=1736417000001),
    frame(B_ORDERS, dict(BASE, status=3, remainQuantity="1.5", cumulativeQuantity="0.5", avgPrice="10"), symbol="MXUSDT", send=1736417000004),
    frame(B_ORDERS, dict(BASE, status=9), symbol="MXUSDT", send=1736417000005),
    frame(B_ORDERS, dict(BASE, orderType=42, tradeType=3, status=2, cumulativeQuantity="2"), symbol="MXUSDT", send=1736417000006),
    frame(B_ORDERS, {"id": "C02__8", "amount": "3"}), frame(B_DEALS, {"price": "1", "quantity": "1", "tradeId": "T8", "orderId": "C02__8"}),
    frame(B_ACCOUNT, {"vcoinName": "MX"}),
]


def test_documented_samples_and_built_frames():
    events, errors = assert_same(FRAMES)
    assert len(events) == len(FRAMES)
    assert errors == {"unknown_side": 3, "unknown_order_type": 2}


#: values outside their kinds (wire.AmountKind): each frame malformed on every path, never applied
OUTSIDE_KINDS = [
    frame(B_ORDERS, dict(BASE, id="C02__20", price="-10", status=1), symbol="MXUSDT", send=1736417001001),
    frame(B_ORDERS, dict(BASE, id="C02__21", quantity="-2", status=1), symbol="MXUSDT", send=1736417001002),
    frame(B_ORDERS, dict(BASE, id="C02__22", status=3, cumulativeQuantity="-0.5"), symbol="MXUSDT", send=1736417001003),
    frame(B_ORDERS, dict(BASE, id="C02__23", status=1, remainQuantity="-1"), symbol="MXUSDT", send=1736417001004),
    frame(B_ORDERS, dict(BASE, id="C02__24", status=2, lastDealQuantity="-1"), symbol="MXUSDT", send=1736417001005),
    frame(B_ORDERS, dict(BASE, id="C02__25", quantity="0", amount="0", status=1), symbol="MXUSDT", send=1736417001006),
    frame(B_DEALS, {"price": "-1", "quantity": "1", "tradeId": "T20", "orderId": "C02__20", "tradeType": 1}, symbol="MXUSDT"),
    frame(B_DEALS, {"price": "1", "quantity": "0", "tradeId": "T21", "orderId": "C02__20", "tradeType": 1}, symbol="MXUSDT"),
    frame(B_DEALS, {"price": "0.000", "quantity": "1", "tradeId": "T22", "orderId": "C02__20", "tradeType": 1}, symbol="MXUSDT"),
    frame(B_DEALS, {"price": "1", "quantity": "1", "amount": "-1", "tradeId": "T23", "orderId": "C02__20", "tradeType": 1}, symbol="MXUSDT"),
    frame(B_ACCOUNT, dict(FROZEN_CHANGE, balanceAmount="-5")), frame(B_ACCOUNT, dict(FROZEN_CHANGE, frozenAmount="-0.1")),
]
#: unusual values inside their kinds, kept: a rebate (negative fee), negative changes, a zero
#: with a minus sign (zero), a market buy sized by its quote amount, an undocumented side
INSIDE_KINDS = [
    frame(B_DEALS, {"price": "1", "quantity": "1", "tradeId": "T30", "orderId": "C02__30", "tradeType": 2, "feeAmount": "-0.001"},
          symbol="MXUSDT"),
    frame(B_ACCOUNT, dict(FROZEN_CHANGE, vcoinName="MX", balanceAmount="0", balanceAmountChange="-3", frozenAmount="-0", frozenAmountChange="-7")),
    frame(B_ORDERS, dict(BASE, id="C02__31", quantity="0", amount="50", orderType=5, price="0", status=1), symbol="MXUSDT", send=1736417001007),
    frame(B_ORDERS, dict(BASE, id="C02__32", tradeType=7, status=1), symbol="MXUSDT", send=1736417001008),
    frame(B_DEALS, {"price": "1", "quantity": "1", "tradeId": "T31", "orderId": "C02__32", "tradeType": 0}, symbol="MXUSDT"),
]


def test_values_outside_their_kinds_are_malformed_on_every_path():
    events, errors = assert_same(OUTSIDE_KINDS + INSIDE_KINDS)
    assert errors == {"malformed": len(OUTSIDE_KINDS), "unknown_side": 2}
    assert [e["type"] for e in events] == ["Fill", "Balance", "Order", "Order", "Fill"]
    fill, balance, by_quote, odd, odd_fill = events
    assert (fill["fee"], balance["available"], balance["frozen"], balance["change"], balance["frozen_change"]) == (
        Decimal("-0.001"), Decimal("0"), Decimal("0"), Decimal("-3"), Decimal("-7"))
    assert (by_quote["amount"], by_quote["quote_amount"], by_quote["price"]) == (None, Decimal("50"), None)
    assert (odd["side"], odd["raw_side"], odd["status"], odd_fill["side"], odd_fill["raw_side"]) == ("unknown", "7", OrderStatus.OPEN, "unknown", "0")


def test_bad_frames_channels_and_replies():
    frames = [
        DOC_ORDER_FRAME[:-2], DOC_ORDER_FRAME + b"\x07", frame(B_ORDERS, {"id": "C02__1", "price": "1_0"}), frame(B_DEALS, {"tradeId": "x"}),
        frame(B_DEALS, {"price": "1", "quantity": "1", "tradeId": "T", "orderId": "O"}, channel="spot@private.orders.v3.api.pb"),
        frame(B_ORDERS, {"id": "C02__1"}, channel="spot@private.none.v3.api.pb"),
        field(1, "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT") + field(314, b""), field(1, "x") + field(320, b""), field(1, "x"),
        field(1, "x") + field(313, field(4, b"\xff")),
        b'{"id":1,"code":0,"msg":"spot@private.orders.v3.api.pb"}', b'{"id":0,"code":0,"msg":"PONG"}',
        b'{"id":2,"code":700002,"msg":"Signature for this request is not valid."}', b'{"id":3,"code":0,"msg":""}', b"{\"x\":1}", b"{nope",
        DOC_ACCOUNT_FRAME,
    ]
    events, errors = assert_same(frames)
    assert [e["type"] for e in events] == ["VenueError", "VenueError", "Balance"]
    assert errors == {"truncated": 1, "malformed": 5, "channel_mismatch": 1, "unknown_channel": 1, "unknown_body": 2,
                      "wrong_type": 1, "venue_error": 2, "empty_ack": 1, "unknown_frame": 1}


@pytest.mark.parametrize("seed", range(4))
def test_generated_and_mutated_frames(seed):
    rng = random.Random(seed)
    frames = []
    for _ in range(400):
        raw = rng.choice(FRAMES) if rng.random() < 0.3 else _random_frame(rng)
        frames.append(_mutate(rng, raw) if rng.random() < 0.5 else raw)
    events, errors = assert_same(frames)
    # (random quantities often leave more than the order's size: malformed, check_order_size)
    assert len(events) > 40 and errors.get("malformed", 0) > 10
