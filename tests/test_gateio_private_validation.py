"""Gate private frames that must not reach events or state as they are (issue #11, the
newcomer's trial): on every path (the compiled account lane with the compiled state, the
msgspec/pure path with the pure state, the strategy twin of ``compat/``), each case asserts the
events, the handler's counters and the account state.

gateio-protocol.md §5 (contract counts), §8.1 (spot orders), §9.1 (futures orders: ``left``
carries the sign of ``size``), §9.3 (positions: ``mode`` single/dual_long/dual_short), §9.4
(balances: ``currency``)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cexfeed.account import PyAccountState
from cexfeed.capture import CaptureItem, Replay
from cexfeed.compat.gateio_private import replay_handler as compat_handler
from cexfeed.exchanges.gateio import private_common
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.private_futures import GateioFuturesPrivateWebSocketHandler
from cexfeed.exchanges.gateio.private_spot import GateioSpotPrivateWebSocketHandler
from cexfeed.exchanges.gateio.protocol import spot_symbol_map
from cexfeed.models import Order, OrderStatus, Position
from cexfeed.wire import MAX_CONTRACTS

D = Decimal
S = OrderStatus
CONTRACTS = json.dumps([{"name": "BTC_USDT", "type": "direct", "quanto_multiplier": "0.0001"}]).encode()
PAIRS = json.dumps([{"id": "BTC_USDT", "base": "BTC", "quote": "USDT"}]).encode()
PATHS = ["compiled", "pure", "compat"]


def handler(path: str, perp: bool = True, instruments: bytes | None = None):
    """A Gate private handler of ``path`` with its events list (``instruments``: the contract
    or pair list, default :data:`CONTRACTS` / :data:`PAIRS`)."""
    instruments = instruments or (CONTRACTS if perp else PAIRS)
    if path == "compat":
        h = compat_handler("gateio-perp" if perp else "gateio-spot", instruments)
    else:
        cls = GateioFuturesPrivateWebSocketHandler if perp else GateioSpotPrivateWebSocketHandler
        symbols = futures_symbol_map(instruments) if perp else spot_symbol_map(instruments)
        if path == "compiled":
            if private_common.AccountReader is None:
                pytest.skip("the compiled account lane is not built")
            h = cls(symbols=symbols)
        else:
            h = cls(symbols=symbols, state=PyAccountState("gateio", "perp" if perp else "spot"))
            h.use_compiled(False)
    events: list = []
    h.set_callback(events.append)
    return h, events


def frame(channel: str, item: dict) -> bytes:
    return json.dumps({"time": 1796223700, "time_ms": 1796223700000, "channel": channel, "event": "update", "result": [item]}).encode()


def order(**kw) -> bytes:
    item = {"id": 111, "id_string": "111", "contract": "BTC_USDT", "price": "65000", "fill_price": "0", "size": "10", "left": "10",
            "tif": "gtc", "status": "open", "finish_as": "", "is_close": False, "is_reduce_only": False, "text": "t-1",
            "create_time_ms": 1796223700000, "update_time": 1796223700000, "update_id": 1}
    item.update(kw)
    return frame("futures.orders", item)


def position(**kw) -> bytes:
    item = {"contract": "BTC_USDT", "entry_price": "65000", "leverage": "10", "margin": "26", "mode": "single", "realised_pnl": "0",
            "size": 40, "time_ms": 1796223700000, "user": "10001", "update_id": 1}
    item.update(kw)
    return frame("futures.positions", item)


def spot_order(**kw) -> bytes:
    item = {"id": "399123456", "text": "t-1", "currency_pair": "BTC_USDT", "type": "limit", "account": "spot", "side": "sell",
            "amount": "0.5", "price": "26253.3", "time_in_force": "gtc", "left": "0.5", "filled_total": "0", "avg_deal_price": "0",
            "create_time_ms": "1694655225315", "update_time_ms": "1694655225315", "event": "put", "finish_as": "open"}
    item.update(kw)
    return frame("spot.orders", item)


def feed(h, *frames: bytes) -> None:
    for raw in frames:
        h._handle_message(raw, 7)


def errors(h) -> dict:
    return {k: v for k, v in h.stats.errors.items() if v}


# -- 1. futures.orders: left of the other sign than size, or beyond it --------------------------------
@pytest.mark.parametrize("path", PATHS)
def test_left_of_the_other_sign_is_malformed_and_not_applied(path):
    h, events = handler(path)
    feed(h, order(), order(left="-1", update_id=2), order(left="11", update_id=3), order(size="-10", left="3", update_id=4))
    assert [(e.status, e.left_contracts) for e in events] == [(S.OPEN, D(10))]
    assert errors(h) == {"malformed_item": 3}
    held = h.state.open_orders["111"]
    assert (held.status, held.contracts, held.filled_contracts, held.left_contracts, held.update_id) == (S.OPEN, D(10), D(0), D(10), 1)
    # the same sign is an order's remainder: a sell of 10 with 4 left filled 6
    feed(h, order(id=112, id_string="112", size="-10", left="-4"))
    sell = events[-1]
    assert (sell.side, sell.status, sell.contracts, sell.filled_contracts, sell.left_contracts) == ("sell", S.PARTIALLY_FILLED, D(10), D(6), D(4))
    assert (sell.amount, sell.filled, sell.left) == (D("0.0010"), D("0.0006"), D("0.0004"))


# -- 2. futures.positions: unknown modes, contract counts beyond the bound ----------------------------
@pytest.mark.parametrize("path", PATHS)
def test_unknown_position_mode_is_counted_and_never_a_third_key(path):
    h, events = handler(path)
    feed(h, position(mode="weird"), position(mode="dual_long", size=5, update_id=2), position(mode="dual_short", size=-3, update_id=3))
    assert errors(h) == {"malformed_item": 1}
    assert [(e.mode, e.side, e.contracts) for e in events] == [("dual_long", "long", D(5)), ("dual_short", "short", D(-3))]
    assert sorted(h.state.positions) == [("BTC/USDT:USDT", "dual_long"), ("BTC/USDT:USDT", "dual_short")]
    # no mode at all is one-way mode, as before
    feed(h, position(mode=None, size=2, update_id=4))
    assert errors(h) == {"malformed_item": 2}  # (null is no mode: malformed too)
    h2, events2 = handler(path)
    item = json.loads(position(size=2))
    del item["result"][0]["mode"]
    feed(h2, json.dumps(item).encode())
    assert [(e.mode, e.contracts) for e in events2] == [("single", D(2))] and errors(h2) == {}


@pytest.mark.parametrize("path", PATHS)
def test_a_dual_mode_size_of_the_other_sign_is_malformed(path):
    """In dual mode the size's sign is the side: a dual_long below 0 or a dual_short above 0
    is counted and never applied; 0 closes either."""
    h, events = handler(path)
    feed(h, position(mode="dual_long", size=-5), position(mode="dual_short", size=5, update_id=2),
         position(mode="dual_long", size=4, update_id=3), position(mode="dual_short", size=-2, update_id=4))
    assert errors(h) == {"malformed_item": 2}
    assert [(e.mode, e.side, e.contracts) for e in events] == [("dual_long", "long", D(4)), ("dual_short", "short", D(-2))]
    feed(h, position(mode="dual_long", size=0, update_id=5))
    assert (events[-1].contracts, events[-1].closed) == (D(0), True) and errors(h) == {"malformed_item": 2}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("size", [2**63, -(2**63), "9223372036854775808", "1e30", "-1e30"])
def test_contract_counts_beyond_the_bound_are_malformed(path, size):
    assert MAX_CONTRACTS == 2**63
    h, events = handler(path)
    trade = frame("futures.usertrades", {"id": "9", "order_id": "111", "contract": "BTC_USDT", "size": size, "price": "65000",
                                         "role": "maker", "create_time_ms": 1796223700000})
    feed(h, position(size=size), order(size=size, left=size), order(id=113, id_string="113", left=size), trade)
    assert events == [] and errors(h) == {"malformed_item": 4}
    assert not h.state.open_orders and not h.state.positions and len(h.state.fills) == 0
    # the largest count the venue can hold still reads, exactly
    feed(h, position(size=2**63 - 1, update_id=2))
    [pos] = events
    assert type(pos) is Position and pos.contracts == D(2**63 - 1) and pos.size == D(2**63 - 1) * D("0.0001")


# -- 3. symbols: not listed -> unknown_symbol, never applied; contract names upper-cased ---------------
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("perp", [True, False])
def test_a_push_of_a_symbol_not_listed_is_counted_and_not_applied(path, perp):
    h, events = handler(path, perp)
    h.follow(["BTC_USDT"])  # (what a replay with the instrument list does)
    if perp:
        feed(h, order(contract="ZZZ_USDT"), position(contract="ZZZ_USDT"), order(id=2, id_string="2"))
    else:
        feed(h, spot_order(currency_pair="ZZZ_USDT"), spot_order(id="2"))
    assert h.stats.errors["unknown_symbol"] == (2 if perp else 1)
    assert [e.venue_symbol for e in events] == ["BTC_USDT"]
    assert list(h.state.open_orders) == ["2"] and h.state.positions == {}


@pytest.mark.parametrize("perp", [True, False])
def test_replay_with_the_instrument_list_skips_unlisted_account_pushes(perp):
    pushes = [order(contract="ZZZ_USDT"), order(id=2, id_string="2")] if perp else [spot_order(currency_pair="ZZZ_USDT"), spot_order(id="2")]
    events: list = []
    replay = Replay("gateio-perp" if perp else "gateio-spot", instruments=CONTRACTS if perp else PAIRS, on_event=events.append)
    replay.feed([CaptureItem("frame", 1.0, raw) for raw in pushes])
    assert replay.private.stats.errors["unknown_symbol"] == 1
    assert [e.order_id for e in events if type(e) is Order] == ["2"] and list(replay.private.state.open_orders) == ["2"]


@pytest.mark.parametrize("path", PATHS)
def test_lower_case_contracts_are_upper_cased_as_spot_pairs(path):
    h, events = handler(path)
    h.follow(["BTC_USDT"])
    trade = frame("futures.usertrades", {"id": "9", "order_id": "111", "contract": "btc_usdt", "size": -2, "price": "65000",
                                         "create_time_ms": 1796223700000})
    feed(h, order(contract="btc_usdt"), position(contract="btc_usdt"), trade)
    assert errors(h) == {}
    assert [(type(e).__name__, e.symbol, e.venue_symbol) for e in events] == [
        ("Order", "BTC/USDT:USDT", "BTC_USDT"), ("Position", "BTC/USDT:USDT", "BTC_USDT"), ("Fill", "BTC/USDT:USDT", "BTC_USDT")]
    assert events[0].amount == D("0.0010") and events[1].size == D("0.0040") and events[2].amount == D("0.0002")
    hs, spot_events = handler(path, perp=False)
    feed(hs, spot_order(currency_pair="btc_usdt"))
    assert [(e.symbol, e.venue_symbol) for e in spot_events] == [("BTC/USDT", "BTC_USDT")]


# -- 4. every drop counted; unknown finish_as as spot; balances without a currency -------------------
@pytest.mark.parametrize("path", PATHS)
def test_futures_drops_are_counted_by_reason(path):
    h, events = handler(path)
    feed(h, order(), order(left="4", fill_price="65000", update_id=2))
    assert [(e.status, e.left_contracts) for e in events] == [(S.OPEN, D(10)), (S.PARTIALLY_FILLED, D(4))]
    feed(h, order(left="6", update_id=3))  # left going up: backwards
    feed(h, order(left="2", update_id=1))  # an update id older than the held one
    feed(h, order(left="4", fill_price="65000", update_id=2))  # the same update again
    assert len(events) == 2
    assert errors(h) == {"stale_order": 2, "duplicate_order": 1}
    assert h.state.stats["stale_order"] == 2 and h.state.stats["duplicate_order"] == 1
    held = h.state.open_orders["111"]
    assert (held.status, held.left_contracts, held.update_id) == (S.PARTIALLY_FILLED, D(4), 2)
    # a finished order reopened, a position update that is not newer: counted too
    feed(h, order(status="finished", finish_as="filled", left="0", update_id=5), order(left="3", update_id=6),
         position(update_id=7), position(size=41, update_id=7))
    assert errors(h) == {"stale_order": 2, "duplicate_order": 1, "reopen_refused": 1, "stale_position": 1}


@pytest.mark.parametrize("path", PATHS)
def test_unknown_finish_as_is_unknown_with_the_raw_value_and_moves_no_lifecycle(path):
    h, events = handler(path)
    feed(h, order(), order(left="4", fill_price="65000", update_id=2),
         order(status="finished", finish_as="weird", left="3", fill_price="65000", update_id=3))
    last = events[-1]
    assert (last.status, last.raw_status, last.left_contracts, last.filled_contracts) == (S.UNKNOWN, "finished/weird", D(3), D(7))
    held = h.state.open_orders["111"]
    assert (held.status, held.left_contracts) == (S.PARTIALLY_FILLED, D(3)) and h.state.stats["unknown_status"] == 1
    # spot does the same with its finish event
    hs, spot_events = handler(path, perp=False)
    feed(hs, spot_order(), spot_order(event="finish", finish_as="weird", left="0.2", filled_amount="0.3"))
    assert (spot_events[-1].status, spot_events[-1].raw_status) == (S.UNKNOWN, "finish/weird")
    held = hs.state.open_orders["399123456"]
    assert held.status is S.OPEN and held.left == D("0.2") and hs.state.stats["unknown_status"] == 1


@pytest.mark.parametrize("path", PATHS)
def test_futures_balance_without_a_currency_is_malformed(path):
    h, events = handler(path)
    base = {"balance": "12.5", "change": "1", "type": "dnw", "time_ms": 1796223700000}
    feed(h, frame("futures.balances", base), frame("futures.balances", dict(base, currency="")),
         frame("futures.balances", dict(base, currency=None)), frame("futures.balances", dict(base, currency="usdt")))
    assert errors(h) == {"malformed_item": 3}
    assert [(e.currency, e.total) for e in events] == [("USDT", D("12.5"))] and list(h.state.balances) == ["USDT"]


# -- 5. whole contracts: a fraction of a contract whose instrument has no enable_decimal ---------------
WHOLE_AND_DECIMAL = json.dumps([{"name": "BTC_USDT", "type": "direct", "quanto_multiplier": "0.0001", "enable_decimal": False},
                                {"name": "ETH_USDT", "type": "direct", "quanto_multiplier": "0.01", "enable_decimal": True},
                                {"name": "DOGE_USDT", "type": "direct", "quanto_multiplier": "10"}]).encode()


def trade(**kw) -> bytes:
    item = {"id": "9", "order_id": "111", "contract": "BTC_USDT", "size": -2, "price": "65000", "role": "maker", "create_time_ms": 1796223700000}
    item.update(kw)
    return frame("futures.usertrades", item)


@pytest.mark.parametrize("path", PATHS)
def test_a_fraction_of_a_whole_contract_is_malformed_on_every_count(path):
    """gateio-protocol.md §5.2, §7.1: fractional counts exist only on contracts whose info says
    ``enable_decimal: true``; BTC_USDT says false and DOGE_USDT says nothing (whole contracts,
    the venue's normal case), so an order's size or left, a fill's size, a position's size with
    a fraction is malformed there, never applied; ETH_USDT takes them."""
    h, events = handler(path, instruments=WHOLE_AND_DECIMAL)
    feed(h, order(size="1.5", left="1.5"), order(id=112, id_string="112", left="0.5"), trade(size="-0.5"),
         position(size="2.25"), order(id=113, id_string="113", contract="DOGE_USDT", size="-3", left="-2.5"),
         position(contract="DOGE_USDT", size="1e-1"))
    assert events == [] and errors(h) == {"malformed_item": 6}
    assert not h.state.open_orders and not h.state.positions and len(h.state.fills) == 0
    # whole counts written with a fraction or an exponent are whole
    feed(h, order(size="2.0", left="1.00"), position(size="4E+1", update_id=2), trade(size="-2.0"))
    assert [(type(e).__name__, e.contracts) for e in events] == [("Order", D(2)), ("Position", D(40)), ("Fill", D(2))]
    assert (events[0].left_contracts, events[0].filled_contracts, events[0].amount) == (D(1), D(1), D("0.0002"))
    assert errors(h) == {"malformed_item": 6}
    # a decimal-enabled contract takes fractions: 1.5 contracts of 0.01 ETH
    feed(h, order(id=114, id_string="114", contract="ETH_USDT", size="1.5", left="0.5"), position(contract="ETH_USDT", size="-0.7"),
         trade(id="10", order_id="114", contract="ETH_USDT", size="1.0001"))
    eth = events[3:]
    assert [(type(e).__name__, e.contracts) for e in eth] == [("Order", D("1.5")), ("Position", D("-0.7")), ("Fill", D("1.0001"))]
    assert (eth[0].filled_contracts, eth[0].left_contracts, eth[0].filled, eth[1].size, eth[2].amount) == (
        D("1.0"), D("0.5"), D("0.0100"), D("-0.007"), D("0.010001"))
    assert errors(h) == {"malformed_item": 6}
    assert sorted(h.state.open_orders) == ["111", "114"] and len(h.state.fills) == 2


@pytest.mark.parametrize("path", PATHS)
def test_a_fractional_item_is_left_out_of_its_push_the_others_kept(path):
    """One item of an array refused by the whole-contracts rule is counted and left out, the
    other items of the push applied (the rule of a bad array item on every path); a push whose
    result is that one object is malformed as a whole."""
    h, events = handler(path, instruments=WHOLE_AND_DECIMAL)
    items = [json.loads(order(size="3", left="3"))["result"][0], json.loads(order(id=2, id_string="2", size="3", left="1.5"))["result"][0],
             json.loads(order(id=3, id_string="3", size="-4", left="-1"))["result"][0]]
    push = json.loads(order())
    push["result"] = items
    feed(h, json.dumps(push).encode())
    assert [(e.order_id, e.left_contracts) for e in events] == [("111", D(3)), ("3", D(1))] and errors(h) == {"malformed_item": 1}
    push["result"] = items[1]
    feed(h, json.dumps(push).encode())
    assert len(events) == 2 and errors(h) == {"malformed_item": 1, "malformed": 1}
    assert sorted(h.state.open_orders) == ["111", "3"]


@pytest.mark.parametrize("path", PATHS)
def test_notice_counts_follow_the_whole_contracts_rule_and_unlisted_contracts_have_none(path):
    h, events = handler(path, instruments=WHOLE_AND_DECIMAL)
    liq = {"entry_price": 209, "fill_price": 215.1, "left": 0, "leverage": 0.0, "liq_price": 213, "margin": 0.007816722941, "mark_price": 213,
           "order_id": 4093362, "order_price": 215.1, "size": "-1.5", "time_ms": 1541486601123, "contract": "BTC_USDT", "user": "1040"}
    feed(h, frame("futures.liquidates", liq), frame("futures.liquidates", dict(liq, contract="ETH_USDT")))
    assert [(e.kind, e.venue_symbol, e.contracts, e.size) for e in events] == [("liquidation", "ETH_USDT", D("-1.5"), D("-0.015"))]
    assert errors(h) == {"malformed_item": 1}
    # a contract the list does not name: no rule is known, its count is kept (base quantity unknown)
    feed(h, order(contract="SOL_USDT", size="1.5", left="1.5"))
    assert (events[-1].venue_symbol, events[-1].contracts, events[-1].amount) == ("SOL_USDT", D("1.5"), None)
    assert errors(h) == {"malformed_item": 1, "no_multiplier": 1}


# -- 7. spot.orders: finished "filled" with nothing filled and something left ---------------------------
@pytest.mark.parametrize("path", PATHS)
def test_a_spot_order_finished_filled_with_nothing_filled_and_a_remainder_is_malformed(path):
    """gateio-protocol.md §8.1: ``finish_as`` filled is authoritative over dust ``left``
    (pitfalls D.1 #22), but an order whose own values prove nothing filled (``filled_amount`` 0,
    or ``amount`` - ``left`` = 0 without it, ``filled_total`` 0) while something is left did not
    fill: the frame contradicts itself, is counted and not applied (the order stays open)."""
    h, events = handler(path, perp=False)
    feed(h, spot_order())
    feed(h, spot_order(event="finish", finish_as="filled", filled_amount="0", left="0.5", update_time_ms="1694655225316"),
         spot_order(event="finish", finish_as="filled", filled_amount="0", left="0.2", update_time_ms="1694655225317"),
         spot_order(event="finish", finish_as="filled", left="0.5", update_time_ms="1694655225318"),  # amount - left = 0
         spot_order(event="", status="closed", finish_as="", filled_amount="0", left="0.5", update_time_ms="1694655225319"))
    assert [(e.status, e.left) for e in events] == [(S.OPEN, D("0.5"))] and errors(h) == {"malformed_item": 4}
    held = h.state.open_orders["399123456"]
    assert (held.status, held.filled, held.left) == (S.OPEN, D(0), D("0.5"))
    # what the fields do say is kept: cancelled with nothing filled, filled with nothing left
    feed(h, spot_order(id="2", event="finish", finish_as="cancelled", filled_amount="0", left="0.5"),
         spot_order(event="finish", finish_as="filled", filled_amount="0.5", left="0", filled_total="13126.65",
                    update_time_ms="1694655225320"))
    assert [(e.order_id, e.status, e.filled, e.left) for e in events[1:]] == [("2", S.CANCELED, D(0), D("0.5")),
                                                                           ("399123456", S.FILLED, D("0.5"), D(0))]
    assert errors(h) == {"malformed_item": 4} and h.state.open_orders == {}


@pytest.mark.parametrize("path", PATHS)
def test_a_market_buy_finished_filled_with_dust_left_stays_filled(path):
    """A market buy's amount and left are quote currency: dust left after a fill is filled
    (pitfalls D.1 #22), with or without the base ``filled_amount``; only fill values that say
    nothing filled make it malformed."""
    h, events = handler(path, perp=False)
    buy = {"type": "market", "side": "buy", "price": "0", "amount": "10", "event": "finish", "finish_as": "filled"}
    feed(h, spot_order(id="1", left="0.0012773", filled_amount="0.003331", filled_total="9.9987227", **buy),
         spot_order(id="2", left="0.0012773", filled_amount=None, filled_total=None, **buy),  # older frames: nothing proves nothing filled
         spot_order(id="3", left="0.0012773", filled_amount="0", filled_total="0", **buy))
    assert [(e.order_id, e.status, e.quote_left, e.filled) for e in events] == [("1", S.FILLED, D("0.0012773"), D("0.003331")),
                                                                              ("2", S.FILLED, D("0.0012773"), None)]
    assert errors(h) == {"malformed_item": 1}


# -- underscores: Decimal() drops them wherever they stand ("_inf" is Infinity to it) ---------------
@pytest.mark.parametrize("text", ["_inf", "-_inf", "i_nf", "n_an", "s_nan", "nan_1", "In_Finity"])
def test_an_account_value_spelling_infinity_or_nan_with_underscores_is_never_read(text):
    """Found by the grammar property test: the account-value screen passed ``"_inf"`` and the
    typed decode read it as Decimal Infinity. Both screens now leave such text to the strict
    converter, which refuses it."""
    from cexfeed import wire

    raw = json.dumps({"a": text}).encode()
    assert wire.amounts_plain(raw) is False and wire.py_amounts_plain(raw) is False
    with pytest.raises(ValueError):
        wire.amount(text)


@pytest.mark.parametrize("path", PATHS)
def test_a_spot_balance_of_underscored_infinity_is_malformed(path):
    h, events = handler(path, perp=False)
    item = {"timestamp": "1667556323", "timestamp_ms": "1667556323730", "user": "1000001", "currency": "USDT", "change": "0",
            "total": "_inf", "available": "10", "freeze": "0", "freeze_change": "0", "change_type": "order-create"}
    feed(h, frame("spot.balances", item), frame("spot.balances", dict(item, total="10", timestamp_ms="1667556323731")))
    assert [(e.currency, e.total, e.available) for e in events] == [("USDT", D(10), D(10))]
    counted = {k: v for k, v in errors(h).items() if k != "amounts_checked"}  # (that one counts frames the strict path read)
    assert counted in ({"malformed_item": 1}, {"malformed": 1}) and h.state.balances["USDT"].total == D(10), counted
