"""Differential test of the account streams: the strategy-path twins (compat parser + router)
give the same events and the same account state as the direct private handlers, on the
documented samples, on frames mutated into bad or unusual shapes, and on every frame of a live
simulator session; and an Account run on the strategy path ends in the simulator ledger's state."""

from __future__ import annotations

import json
import random

import msgspec
import pytest

from cexfeed.compat.gateio_private import PrivateStrategyHandler, replay_handler
from cexfeed.models import AccountStatus
from cexfeed.sim import SimServer
from cexfeed.venues import load, spec

import test_gateio_private_futures as fut
import test_gateio_private_spot as spot
from private_helpers import assert_fills_once, open_account, settle


def comparable(events: list) -> list[dict]:
    out = []
    for event in events:
        data = msgspec.structs.asdict(event)
        data.pop("recv_ts")
        data["type"] = type(event).__name__
        out.append(data)
    return out


def both(venue: str, frames: list[bytes], instruments: bytes | None = None) -> tuple:
    direct_events: list = []
    strategy_events: list = []
    direct = load(spec(venue).private_replay)(instruments)
    direct.set_callback(direct_events.append)
    twin = replay_handler(venue, instruments)
    assert isinstance(twin, PrivateStrategyHandler)
    twin.set_callback(strategy_events.append)
    for raw in frames:
        direct._handle_message(raw, 11)
        twin._handle_message(raw, 11)
    return direct, twin, direct_events, strategy_events


def assert_same(venue: str, frames: list[bytes], instruments: bytes | None = None) -> None:
    direct, twin, a, b = both(venue, frames, instruments)
    assert comparable(a) == comparable(b)
    for attr in ("balances", "open_orders", "closed_orders", "positions", "fills"):
        assert getattr(direct.state, attr) == getattr(twin.state, attr), attr
    for kind in ("malformed", "malformed_item"):
        assert direct.stats.errors.get(kind, 0) == twin.stats.errors.get(kind, 0), kind


SPOT_FRAMES = [
    spot.frame("spot.orders", [spot.DOC_ORDER]), spot.DOC_USERTRADES, spot.DOC_BALANCES, spot.DOC_ORDERS_V2, spot.DOC_USERTRADES_V2,
    *(spot.order_frame(event="finish", finish_as=f, filled_amount=filled, left=left, id=str(i))
      for i, (f, filled, left, _) in enumerate(spot.FINISH_TABLE)),
]
FUTURES_FRAMES = [
    fut.frame("futures.orders", [fut.DOC_ORDER]), fut.frame("futures.usertrades", [fut.DOC_USERTRADE]),
    fut.frame("futures.positions", [fut.DOC_POSITION]), fut.frame("futures.balances", [fut.DOC_BALANCE]),
    fut.frame("futures.positions", [dict(fut.DOC_POSITION, size=0, update_id=170920)]),
    fut.frame("futures.orders", [dict(fut.DOC_ORDER, contract="ETH_USDT", size="-2.5", left="-1", status="open", finish_as="", id=7)]),
    fut.frame("futures.orders", [dict(fut.DOC_ORDER, contract="DOGE_USDT")]),
    fut.frame("futures.liquidates", [{"contract": "BTC_USDT", "order_id": 4093362, "fill_price": 215.1, "size": -124, "left": 0, "time_ms": 1}]),
    fut.frame("futures.autoorders", [{"id": 1, "status": "finished", "finish_as": "succeeded", "initial": {"contract": "BTC_USDT", "size": 3}}]),
]


def test_documented_samples_spot():
    assert_same("gateio-spot", SPOT_FRAMES)


def test_documented_samples_futures():
    assert_same("gateio-perp", FUTURES_FRAMES, fut.CONTRACTS)


def test_shapes_times_and_errors_of_the_public_rules():
    """The public streams' rules on the account streams, the same on both paths: a result as an
    object, an array or an array of arrays, a bad item of an array left out (counted), times in
    s/ms/µs/ns read by magnitude (none given: ``None``), an error naming ``!all`` names no
    symbol."""
    good = dict(spot.DOC_ORDER, id="5")
    bad = dict(spot.DOC_ORDER, id="6", amount="1_000")
    frames = [
        spot.frame("spot.orders", good),
        spot.frame("spot.orders", [[dict(good, id="7")], [bad, dict(good, id="8")]]),
        spot.frame("spot.orders", [bad, dict(good, id="9", amount="2")]),
        *(spot.frame("spot.orders", [dict(good, id=str(10 + i), update_time_ms=t, create_time_ms=t)])
          for i, t in enumerate((1694655225, 1694655225315, 1694655225315123, 1694655225315123456, "1694655225315.5"))),
        spot.frame("spot.balances", [{"currency": "BTC", "total": "1", "timestamp_ms": 0, "timestamp": 0}]),
        b'{"time":1694655225,"channel":"spot.orders","event":"subscribe","id":3,"payload":["!all"],"error":{"code":2,"message":"x"}}',
    ]
    direct, _, events, _ = both("gateio-spot", frames)
    assert_same("gateio-spot", frames)
    orders = [e for e in events if type(e).__name__ == "Order"]
    assert [o.order_id for o in orders] == ["5", "7", "8", "9", "10", "11", "12", "13", "14"]
    assert [o.updated_ts for o in orders[4:]] == [1694655225000, 1694655225315, 1694655225315, 1694655225315, 1694655225315]
    assert direct.stats.errors["malformed_item"] == 2
    [balance] = [e for e in events if type(e).__name__ == "Balance"]
    assert balance.exchange_ts is None
    [error] = [e for e in events if type(e).__name__ == "VenueError"]
    assert error.symbol == error.venue_symbol == ""


def test_found_by_the_fuzz_envelope_times_and_keys_sent_twice():
    """Divergences the differential fuzz found, with the right values: an envelope time with a
    fraction (a JSON number, read exactly on the strategy path) is a time, not a malformed
    frame; of a key sent twice the last one counts also when the first holds a text outside the
    number grammar (the direct path read such frames strictly without the rule)."""
    trade = json.loads(spot.DOC_USERTRADES)["result"][0]
    body = json.dumps({"channel": "spot.usertrades", "event": "update", "result": [trade]})[1:]
    frames = [
        b'{"time":1.5,' + body.encode(),
        b'{"time_ms":17000.0016254,' + body.replace('"id": 5736713', '"id": 5736714').encode(),
        b'{"time":"-000135","time":1605176741,' + body.replace('"id": 5736713', '"id": 5736715').encode(),
        b'{"time_ms":"inf","time_ms":1605176741763,' + body.replace('"id": 5736713', '"id": 5736716').encode(),
        b'{"time":1611541000,"channel":1e+300,"channel":"spot.orders","event":"subscribe","error":null,"result":{"status":"success"}}',
    ]
    direct, twin, events, _ = both("gateio-spot", frames)
    assert_same("gateio-spot", frames)
    assert [e.trade_id for e in events] == ["5736713", "5736714", "5736715", "5736716"]
    assert all(e.exchange_ts == 1605176741123 for e in events)
    assert not direct.stats.errors.get("malformed") and not twin.stats.errors.get("malformed")
    assert direct.stats.errors.get("unknown_frame", 0) == 0  # the ack is an ack


def test_found_by_the_fuzz_ids_and_times_with_an_exponent():
    """An id or time written as a JSON number with an exponent or fraction (``158e4``) is the
    integer a typed decode reads (the strategy path read it exactly and refused the item)."""
    frames = [fut.frame("futures.positions", [dict(fut.DOC_POSITION, update_id=158e4)]),
              fut.frame("futures.orders", [dict(fut.DOC_ORDER, update_id=2.5e1, update_time=1628736848321.0)])]
    _, _, events, _ = both("gateio-perp", [f.replace(b"1580000.0", b"158e4") for f in frames], fut.CONTRACTS)
    assert_same("gateio-perp", [f.replace(b"1580000.0", b"158e4") for f in frames], fut.CONTRACTS)
    assert [e.update_id for e in events] == [1580000, 25]
    assert events[1].updated_ts == 1628736848321


def _mutations(raw: bytes, rng: random.Random) -> list[bytes]:
    """Variants of a frame: one field's value replaced by something unusual or wrong."""
    frame = json.loads(raw)
    result = frame["result"]
    item = result[0] if isinstance(result, list) else result
    out = []
    for key in list(item):
        for value in ("1_000", " 5", "+1", "00012", "NaN", "1e400", "", None, True, 1e-7, -3, "0.10000000000000001", [1], {"a": 1}, 2**70):
            changed = dict(item, **{key: value})
            body = dict(frame, result=[changed] if isinstance(result, list) else changed)
            out.append(json.dumps(body).encode())
    rng.shuffle(out)
    return out[:120]


@pytest.mark.parametrize("index", range(len(SPOT_FRAMES[:5])))
def test_mutated_spot_frames(index):
    assert_same("gateio-spot", _mutations(SPOT_FRAMES[index], random.Random(index)))


@pytest.mark.parametrize("index", range(len(FUTURES_FRAMES)))
def test_mutated_futures_frames(index):
    assert_same("gateio-perp", _mutations(FUTURES_FRAMES[index], random.Random(index)), fut.CONTRACTS)


@pytest.mark.parametrize("venue", ["gateio-spot", "gateio-perp"])
async def test_simulator_session_and_strategy_account(venue):
    """A live session recorded frame by frame (direct), replayed through both paths; and the
    same actions against an Account on the strategy path end in the ledger's state."""
    sim = SimServer(rate=2, venues=[venue])
    await sim.start()
    try:
        private = sim.venues[venue].private
        if venue == "gateio-spot":
            await private.act("deposit", currency="USDT", amount="100000")
            await private.act("deposit", currency="BTC", amount="3")
        else:
            await private.act("deposit", amount="100000")
        recorded: list[bytes] = []
        events: list = []
        direct = await open_account(sim, venue, events)
        handle = direct.handler._handle_message
        direct.handler._handle_message = lambda raw, ts=None: (recorded.append(bytes(raw)), handle(raw, ts))[1]
        twin_events: list = []
        twin = await open_account(sim, venue, twin_events, architecture="strategy")
        assert isinstance(twin.handler, PrivateStrategyHandler)
        rng = random.Random(4)
        for i in range(30):
            if venue == "gateio-spot":
                made = await private.act("place", pair="BTC_USDT", side=rng.choice(("buy", "sell")), amount="0.01",
                                         price=str(50000 + rng.randint(-50, 50)))
                await private.act("fill", order_id=made["order_id"], amount="0.004")
                await private.act(rng.choice(("fill", "cancel")), order_id=made["order_id"])
                if i % 5 == 0:
                    await private.act("market_buy", pair="BTC_USDT", quote_amount="77", price="50001.5")
            else:
                mode = rng.choice(("single", "dual_long"))
                made = await private.act("place", contract=rng.choice(("BTC_USDT", "ETH_USDT")), size=str(rng.randint(2, 9)),
                                         price=str(3000 + rng.randint(-50, 50)), mode=mode)
                await private.act("fill", order_id=made["order_id"], size="1")
                await private.act(rng.choice(("fill", "cancel")), order_id=made["order_id"])
            if i == 15:
                sim.drop_connections(venue)
        await settle(direct)
        await settle(twin)
        trade_ids = {str(t.id) for t in private.ledger().trades}
        assert_fills_once(events, trade_ids)
        assert_fills_once(twin_events, trade_ids)
        for attr in ("balances", "open_orders", "positions"):
            mine = {k: msgspec.structs.replace(v, recv_ts=0) for k, v in getattr(direct.state, attr).items()}
            theirs = {k: msgspec.structs.replace(v, recv_ts=0) for k, v in getattr(twin.state, attr).items()}
            assert set(mine) == set(theirs), attr
        assert [e.status for e in twin_events if isinstance(e, AccountStatus)][-1] == "live"
        await direct.close()
        await twin.close()
    finally:
        await sim.stop()
    contracts = None
    if venue == "gateio-perp":
        contracts = json.dumps([{"name": n, "quanto_multiplier": c.multiplier} for n, c in sim.venues[venue].contracts().items()]).encode()
    assert_same(venue, recorded, contracts)
