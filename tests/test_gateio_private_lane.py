"""The compiled account lane of the Gate private handlers (``_fastprivate.AccountReader``:
raw push -> event -> compiled account state -> published) keeps every rule of the handler's own
path, its pure-Python twin: followed symbols, buffering while syncing, callback failures, frames
given as text, several items per push, the counters."""

from __future__ import annotations

import json
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import test_gateio_private_futures as fut
import test_gateio_private_spot as spot
from cexfeed.account import AccountSnapshot, PyAccountState
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.private_common import AccountReader
from cexfeed.exchanges.gateio.private_futures import GateioFuturesPrivateWebSocketHandler
from cexfeed.exchanges.gateio.private_spot import GateioSpotPrivateWebSocketHandler
from cexfeed.models import AccountStatus

pytestmark = pytest.mark.skipif(AccountReader is None, reason="the compiled account reader is not built")


def pair(cls, **kwargs):
    """A handler on the compiled lane and its pure twin, each recording its events."""
    out = []
    for compiled in (True, False):
        events: list = []
        handler = cls(events.append, state=None if compiled else PyAccountState("gateio", cls.market), **kwargs)
        handler.use_compiled(compiled)
        out.append((handler, events))
    return out


def _plain(event) -> dict:
    data = msgspec.to_builtins(event)
    if data["type"] == "account_status":  # raised locally: stamped with the time it was raised
        data["recv_ts"] = 0
    return data


def same(pairs) -> None:
    (a, ea), (b, eb) = pairs
    assert [_plain(e) for e in ea] == [_plain(e) for e in eb]
    assert (a.stats.frames, a.stats.events, dict(a.stats.errors)) == (b.stats.frames, b.stats.events, dict(b.stats.errors))
    for attr in ("balances", "open_orders", "closed_orders", "positions", "fills", "fill_sums"):
        assert msgspec.to_builtins(dict(getattr(a.state, attr))) == msgspec.to_builtins(dict(getattr(b.state, attr))), attr
    assert {c: dict(s) for c, s in a.seen.items() if s and c is not AccountStatus} == {c: dict(s) for c, s in b.seen.items() if s and c is not AccountStatus}


def run(pairs, frames, recv_ts=5):
    for handler, _ in pairs:
        for raw in frames:
            handler._handle_message(raw, recv_ts)


def test_the_lane_takes_the_hot_pushes():
    pairs = pair(GateioSpotPrivateWebSocketHandler)
    compiled = pairs[0][0]
    taken = []
    handle = compiled._reader.read
    frames = [spot.frame("spot.orders", [spot.DOC_ORDER]), spot.DOC_USERTRADES, spot.DOC_ORDERS_V2, spot.DOC_BALANCES]
    taken = [handle(raw, 5) is not None for raw in frames]
    assert taken == [True, True, True, True]  # (spot balances too)
    run(pairs, frames)
    same(pairs)
    assert len(pairs[0][1]) == 4


def test_followed_symbols_only_are_published():
    pairs = pair(GateioSpotPrivateWebSocketHandler)
    for handler, _ in pairs:
        handler.follow(["ETH_USDT"])
    run(pairs, [spot.frame("spot.orders", [spot.DOC_ORDER]), spot.order_frame(currency_pair="ETH_USDT", id="2")])
    same(pairs)
    compiled, events = pairs[0]
    assert [e.venue_symbol for e in events] == ["ETH_USDT"]
    # counted and skipped: an account push of a symbol not followed is never applied either
    assert compiled.stats.errors["unknown_symbol"] == 1 and "399123456" not in compiled.state.open_orders


def test_buffered_while_syncing_then_applied_after_the_snapshot():
    pairs = pair(GateioSpotPrivateWebSocketHandler)
    for handler, _ in pairs:
        handler.begin_sync("start")
    run(pairs, [spot.frame("spot.orders", [spot.DOC_ORDER]), spot.DOC_USERTRADES])
    assert not pairs[0][0].state.open_orders and len(pairs[0][0]._buffer) == 2
    for handler, _ in pairs:
        handler.finish_sync(AccountSnapshot(), 3)
    run(pairs, [spot.order_frame(event="finish", finish_as="cancelled", id="399123456", update_time_ms="1694655225999")])
    same(pairs)
    assert pairs[0][0].state.closed_orders["399123456"].status.value == "canceled"


def test_a_failing_callback_is_counted_and_the_state_kept():
    pairs = pair(GateioSpotPrivateWebSocketHandler)
    for handler, _ in pairs:
        handler.set_callback(lambda event: 1 / 0)
    run(pairs, [spot.frame("spot.orders", [spot.DOC_ORDER]), spot.DOC_USERTRADES])
    (a, _), (b, _) = pairs
    assert a.stats.errors["callback"] == b.stats.errors["callback"] == 2
    assert a.stats.events == b.stats.events == 2 and set(a.state.open_orders) == set(b.state.open_orders)


def test_text_frames_items_and_no_time_given():
    pairs = pair(GateioFuturesPrivateWebSocketHandler, symbols=futures_symbol_map(fut.CONTRACTS))
    order = dict(fut.DOC_ORDER, status="open", finish_as="", left=3, size=10, id=11, id_string="11", update_id=1)
    frames = [
        fut.frame("futures.orders", [order, dict(order, id=12, id_string="12")]),  # two items
        fut.frame("futures.positions", [fut.DOC_POSITION]).decode(),  # text: the handler's own path
        fut.frame("futures.usertrades", [fut.DOC_USERTRADE]),
        b" " + fut.frame("futures.orders", [dict(order, left=0, status="finished", finish_as="filled", update_id=2)]),
    ]
    for handler, _ in pairs:
        for raw in frames:
            handler._handle_message(raw)  # recv_ts taken now
    (a, ea), (b, eb) = pairs
    strip = lambda events: [dict(msgspec.to_builtins(e), recv_ts=0) for e in events]  # noqa: E731
    assert strip(ea) == strip(eb) and len(ea) == 5
    assert all(e.recv_ts > 0 for e in ea)
    assert a.state.closed_orders["11"].status.value == "filled" and "12" in a.state.open_orders
    assert json.loads(msgspec.json.encode(a.stats.as_dict())) == json.loads(msgspec.json.encode(b.stats.as_dict()))


_TOKEN = st.from_regex(r"-?[0-9]{0,3}(\.[0-9]{0,3})?([eE][+-]?[0-9]{0,2})?[-+.eE0-9 x]{0,2}", fullmatch=True)


@settings(max_examples=600, deadline=None)
@given(_TOKEN, st.sampled_from(["amount", "fee", "price", "create_time_ms", "id"]), st.booleans(), st.integers(0, 2))
def test_number_tokens_read_as_the_twin_reads_them(token, field, quoted, tail):
    """Any number-like token in an account value, time or id field (quoted or bare, with what
    may follow it) gives the same events, counters and state on the compiled lane and its twin."""
    text = f'"{token}"' if quoted else token
    text += ("", " ", "  ")[tail]
    item = {"id": 5736713, "user_id": 1, "order_id": "30784428", "currency_pair": "BTC_USDT", "create_time": 1605176741,
            "create_time_ms": "1605176741123.456", "side": "sell", "amount": "1.00000000", "role": "taker", "price": "10000.00000000",
            "fee": "0.00200000000000", "fee_currency": "USDT", "point_fee": "0", "gt_fee": "0", "text": "apiv4"}
    item[field] = "@"
    raw = spot.frame("spot.usertrades", [item]).replace(b'"@"', text.encode())
    pairs = pair(GateioSpotPrivateWebSocketHandler)
    run(pairs, [raw])
    same(pairs)


def test_spot_balances_on_the_lane():
    """Spot balances (every shape: older servers without total/freeze, lower-case currency,
    seconds only, nulls, values outside their kind) read as the twin reads them."""
    base = {"timestamp": "1667556323", "timestamp_ms": "1667556323730", "user": "1000001", "currency": "USDT", "change": "0",
            "total": "222244.3827652", "available": "222244.3827", "freeze": "5", "freeze_change": "5.000000", "change_type": "order-create"}
    items = [
        base, dict(base, total="222245.3827652", change="1.0", change_type="deposit", timestamp_ms="1667556323731"),
        {"timestamp": "1667556324", "currency": "btc", "change": "-0.5", "available": "1.5"},
        dict(base, currency="ETH", total=None, change_type=None), dict(base, currency="OM", available="-1"),
        dict(base, currency="OM", total="1e-8", available=0, freeze=0), dict(base, currency="", total="1"),
        dict(base, timestamp_ms="1667556323000", total="222244.3827652"),  # older than the held one
    ]
    pairs = pair(GateioSpotPrivateWebSocketHandler)
    run(pairs, [spot.frame("spot.balances", [item]) for item in items] + [spot.frame("spot.balances", items[:3])])
    same(pairs)
    (a, ea), _ = pairs
    assert a.state.balances["USDT"].total == Decimal("222245.3827652") and a.state.balances["BTC"].available == Decimal("1.5")
    assert a.stats.errors["malformed_item"] >= 2 and len(ea) >= 4
