"""Gate USDT-perpetual account stream over real sockets against the simulator: decimal sizes,
positions in single and dual mode opened, partly closed and closed, liquidation and ADL, the
reconnect reconciliation, and the acceptance run (100 orders with partial fills and cancels
across 10 forced disconnects, some in the middle of a fill) ending in exactly the ledger's
state with every fill reported once."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import pytest

from cexfeed.models import AccountNotice, Order, OrderStatus, Position
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until

from private_helpers import LONG, Drops, assert_fills_once, open_account, settle

VENUE = "gateio-perp"
D = Decimal
PRICES = {"BTC_USDT": 50000, "ETH_USDT": 3000, "SOL_USDT": 150, "DOGE_USDT": 1}


@pytest.fixture
async def sim():
    server = SimServer(rate=2, venues=[VENUE])
    await server.start()
    yield server
    await server.stop()


def private(sim):
    return sim.venues[VENUE].private


def unified(contract: str) -> str:
    return contract.replace("_", "/") + ":USDT"


def assert_matches_ledger(account, ledger) -> None:
    assert account.balances()["USDT"].total == ledger.balance
    expected = {(unified(c), m): p for (c, m), p in ledger.positions.items() if p.size != 0}
    held = account.positions()
    assert set(held) == set(expected)
    for key, pos in expected.items():
        mine = held[key]
        assert (mine.contracts, mine.entry_price, mine.realised_pnl, mine.update_id) == (pos.size, pos.entry or None, pos.realised, pos.update_id), key
        assert mine.size == pos.size * ledger.multipliers[pos.contract]
    assert set(account.open_orders()) == ledger.open_order_ids()
    for oid in ledger.open_order_ids():
        theirs = ledger.orders[int(oid)]
        mine = account.open_orders()[oid]
        assert (mine.left_contracts, mine.contracts) == (abs(theirs.left), abs(theirs.size))
    assert account.state.invariants() == {}


async def test_positions_single_and_dual_open_partial_close_close(sim):
    p = private(sim)
    await p.act("deposit", amount="10000")
    events: list = []
    account = await open_account(sim, VENUE, events)
    # single mode: open 3, partly close 1, close the rest
    o1 = await p.act("place", contract="BTC_USDT", size="3", price="50000")
    await p.act("fill", order_id=o1["order_id"])
    o2 = await p.act("place", contract="BTC_USDT", size="-1", price="50100")
    await p.act("fill", order_id=o2["order_id"])
    # dual mode on ETH: a long and a short side at once, decimal sizes
    o3 = await p.act("place", contract="ETH_USDT", size="2.5", price="3000", mode="dual_long")
    await p.act("fill", order_id=o3["order_id"], size="1.5")
    o4 = await p.act("place", contract="ETH_USDT", size="-4", price="3010", mode="dual_short")
    await p.act("fill", order_id=o4["order_id"])
    await settle(account)
    positions = account.positions()
    assert positions[("ETH/USDT:USDT", "dual_long")].contracts == D("1.5") and positions[("ETH/USDT:USDT", "dual_long")].size == D("0.015")
    assert positions[("ETH/USDT:USDT", "dual_short")].side == "short" and positions[("ETH/USDT:USDT", "dual_short")].size == D("-0.04")
    assert positions[("BTC/USDT:USDT", "single")].contracts == D("2")
    o5 = await p.act("place", contract="BTC_USDT", size="-2", price="49900")
    await p.act("fill", order_id=o5["order_id"])
    await settle(account)
    closes = [e for e in events if isinstance(e, Position) and e.closed]
    assert [(c.symbol, c.mode, c.side) for c in closes] == [("BTC/USDT:USDT", "single", "long")]
    assert ("BTC/USDT:USDT", "single") not in account.positions()
    notices = [e.kind for e in events if isinstance(e, AccountNotice)]
    assert notices == ["position_close"]
    assert account.open_orders()[o3["order_id"]].status is OrderStatus.PARTIALLY_FILLED
    assert_matches_ledger(account, p.ledger())
    await account.close()


async def test_liquidation_adl_and_trigger_orders_reach_the_account(sim):
    p = private(sim)
    await p.act("deposit", amount="10000")
    events: list = []
    account = await open_account(sim, VENUE, events)
    o = await p.act("place", contract="SOL_USDT", size="-20", price="150")
    await p.act("fill", order_id=o["order_id"])
    await p.act("adl", contract="SOL_USDT", size="5", price="155")
    await p.act("liquidate", contract="SOL_USDT", price="160")
    await p.act("trigger_order", contract="BTC_USDT", size="-3", trigger_price="48000")
    await settle(account)
    kinds = [e.kind for e in events if isinstance(e, AccountNotice)]
    assert kinds == ["auto_deleverage", "liquidation", "position_close", "trigger_order"]
    finished = [o for o in account.state.closed_orders.values() if o.order_type == "limit"]
    assert {o.raw_status for o in finished} >= {"finished/liquidated", "finished/auto_deleveraged"}
    assert account.positions() == {}
    assert_matches_ledger(account, p.ledger())
    await account.close()


async def test_fills_while_disconnected_and_positions_closed_meanwhile(sim):
    p = private(sim)
    await p.act("deposit", amount="10000")
    events: list = []
    account = await open_account(sim, VENUE, events)
    o1 = await p.act("place", contract="DOGE_USDT", size="1000", price="1")
    await p.act("fill", order_id=o1["order_id"])
    await settle(account)
    sim.drop_connections(VENUE)
    # while down: the position closes, a new one opens in another contract
    o2 = await p.act("place", contract="DOGE_USDT", size="-1000", price="1.1")
    await p.act("fill", order_id=o2["order_id"])
    o3 = await p.act("place", contract="ETH_USDT", size="0.7", price="3000")
    await p.act("fill", order_id=o3["order_id"], size="0.3")
    await wait_until(lambda: account.connection.stats.connects >= 2, 5)
    await settle(account)
    assert ("DOGE/USDT:USDT", "single") not in account.positions()
    closed = [e for e in events if isinstance(e, Position) and e.closed]
    assert len(closed) == 1 and closed[0].side == "long"
    assert_fills_once(events, {str(t.id) for t in p.ledger().trades})
    assert_matches_ledger(account, p.ledger())
    await account.close()


async def test_orders_placed_and_ended_while_disconnected_are_reported_once(sim):
    p = private(sim)
    await p.act("deposit", amount="100000")
    events: list = []
    account = await open_account(sim, VENUE, events, symbols=["ETH/USDT:USDT", "DOGE/USDT:USDT"])
    await settle(account)
    sim.drop_connections(VENUE)
    # while down: an order placed and canceled untouched, one canceled after a partial fill,
    # one filled at once, and one of a contract not followed
    a = (await p.act("place", contract="ETH_USDT", size="2", price="2900"))["order_id"]
    await p.act("cancel", order_id=a)
    b = (await p.act("place", contract="DOGE_USDT", size="-300", price="1.1"))["order_id"]
    await p.act("fill", order_id=b, size="100")
    await p.act("cancel", order_id=b)
    c = (await p.act("place", contract="ETH_USDT", size="0.4", price="3000"))["order_id"]
    await p.act("fill", order_id=c)
    other = (await p.act("place", contract="SOL_USDT", size="1", price="150"))["order_id"]
    await p.act("cancel", order_id=other)
    await wait_until(lambda: account.connection.stats.connects >= 2, 5)
    await settle(account)
    ids = [e.order_id for e in events if isinstance(e, Order)]
    assert (ids.count(a), ids.count(b), ids.count(c), ids.count(other)) == (1, 1, 1, 0)
    closed = account.state.closed_orders
    assert (closed[a].status, closed[a].contracts, closed[a].filled_contracts, closed[a].side) == (OrderStatus.CANCELED, D("2"), D("0"), "buy")
    assert (closed[b].status, closed[b].filled_contracts, closed[b].left_contracts, closed[b].side) == (OrderStatus.CANCELED, D("100"), D("200"), "sell")
    assert (closed[c].status, closed[c].filled_contracts) == (OrderStatus.FILLED, D("0.4"))
    assert_fills_once(events, {str(t.id) for t in p.ledger().trades if t.contract != "SOL_USDT"})
    sim.drop_connections(VENUE)
    await wait_until(lambda: account.connection.stats.connects >= 3, 5)
    await settle(account)
    again = [e.order_id for e in events if isinstance(e, Order)]
    assert (again.count(a), again.count(b), again.count(c)) == (1, 1, 1)
    assert account.state.stats["duplicate_order"] == 0
    await account.close()


async def _acceptance(sim, orders: int, disconnects: int, seed: int) -> None:
    rng = random.Random(seed)
    p = private(sim)
    ledger = p.ledger()
    await p.act("deposit", amount="100000000")
    decimal = {name for name, c in sim.venues[VENUE].contracts().items() if c.decimal}
    events: list = []
    account = await open_account(sim, VENUE, events)
    drops = Drops(rng, orders, disconnects, sim, VENUE, account)
    for i in range(orders):
        await drops.before(i)
        contract = rng.choice(list(PRICES))
        mode = rng.choice(("single", "single", "dual_long", "dual_short"))
        step = D("0.1") if contract in decimal else D(1)
        size = D(rng.randint(1, 40)) * step
        held = ledger.positions.get((contract, mode))
        held_size = held.size if held is not None else D(0)
        if mode == "dual_long":
            sign = -1 if held_size > 0 and rng.random() < 0.5 else 1
            size = min(size, held_size) if sign < 0 else size
        elif mode == "dual_short":
            sign = 1 if held_size < 0 and rng.random() < 0.5 else -1
            size = min(size, -held_size) if sign > 0 else size
        else:
            sign = rng.choice((1, -1))
        price = D(PRICES[contract]) * (1 + D(rng.randint(-200, 200)) / 10000)
        oid = (await p.act("place", contract=contract, size=str(size * sign), price=str(price), mode=mode))["order_id"]
        left = size
        for _ in range(rng.randint(0, 2)):
            part = (left * D(rng.randint(1, 60)) / 100).quantize(step)
            if 0 < part < left:
                await p.act("fill", order_id=oid, size=str(part), **drops.during(i))
                left -= part
        fate = rng.random()
        if fate < 0.45:
            await p.act("fill", order_id=oid)
        elif fate < 0.75:
            await p.act("cancel", order_id=oid)
        drops.after(i)
        if i % 7 == 0:
            await asyncio.sleep(0.01)
    await drops.check(account, events, {str(t.id) for t in ledger.trades})
    assert_matches_ledger(account, ledger)
    await account.close()


async def test_acceptance_100_orders_10_disconnects(sim):
    await _acceptance(sim, 100, 10, seed=3)


@pytest.mark.skipif(not LONG, reason="long run: set CEXFEED_LONG_TESTS=1")
async def test_acceptance_long(sim):
    await _acceptance(sim, 1000, 60, seed=8)
