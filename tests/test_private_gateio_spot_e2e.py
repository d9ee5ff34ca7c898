"""Gate spot account stream over real sockets against the simulator: seeding without a gap,
reconnects and reconciliation (fills and order changes missed while disconnected reported once),
authentication refusals, clock skew, REST failures while reconciling, and the acceptance run:
100 orders with partial fills, cancels and market buys across 10 forced disconnects (some in the
middle of a fill) end in exactly the simulator ledger's state."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import pytest

from cexfeed.credentials import Credentials
from cexfeed.models import AccountStatus, Order, OrderStatus
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until

from private_helpers import LONG, Drops, assert_fills_once, open_account, settle

VENUE = "gateio-spot"
D = Decimal
PRICES = {"BTC_USDT": (50000, 2), "ETH_USDT": (3000, 2)}


@pytest.fixture
async def sim():
    server = SimServer(rate=2, venues=[VENUE])
    await server.start()
    yield server
    await server.stop()


def private(sim):
    return sim.venues[VENUE].private


def assert_matches_ledger(account, ledger) -> None:
    for currency, (total, available, locked) in ledger.totals().items():
        held = account.state.balances.get(currency)
        if held is None:
            assert total == 0, currency
            continue
        assert (held.total, held.available, held.frozen) == (total, available, locked), currency
    assert set(account.state.open_orders) == ledger.open_order_ids()
    for oid in ledger.open_order_ids():
        mine, theirs = account.state.open_orders[oid], ledger.orders[oid]
        assert (mine.filled, mine.left, mine.status) == (theirs.filled_amount, theirs.left, OrderStatus.PARTIALLY_FILLED if theirs.filled_amount else OrderStatus.OPEN)
    assert account.state.invariants() == {}


async def test_seed_then_live_updates_and_statuses(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="1000")
    placed = await p.act("place", pair="BTC_USDT", side="buy", amount="0.01", price="50000")
    events: list = []
    account = await open_account(sim, VENUE, events)
    # seeded: the open order and both balances from REST, then live
    assert [e.status for e in events if isinstance(e, AccountStatus)] == ["seeding", "live"]
    assert account.open_orders()[placed["order_id"]].status is OrderStatus.OPEN
    assert account.balances()["USDT"].available == D("500")
    await p.act("fill", order_id=placed["order_id"], amount="0.004")
    await p.act("cancel", order_id=placed["order_id"])
    await settle(account)
    order = account.state.closed_orders[placed["order_id"]]
    # canceled after a partial fill: canceled with filled > 0
    assert order.status is OrderStatus.CANCELED and order.filled == D("0.004") and order.left == D("0.006")
    assert order.raw_status == "finish/cancelled"
    assert account.balances()["BTC"].total == D("0.003992")  # 0.004 less the 0.2 % fee
    assert_matches_ledger(account, p.ledger())
    await account.close()


async def test_market_buy_with_dust_is_filled_and_labelled_in_quote(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="100")
    events: list = []
    account = await open_account(sim, VENUE, events)
    made = await p.act("market_buy", pair="ETH_USDT", quote_amount="10", price="3001.7")
    await settle(account)
    order = account.state.closed_orders[made["order_id"]]
    assert order.status is OrderStatus.FILLED and order.order_type == "market"
    assert order.amount is None and order.quote_amount == D("10") and order.quote_left == D("10") - D("0.003331") * D("3001.7")
    assert order.filled == D("0.003331") and order.price is None
    assert_matches_ledger(account, p.ledger())
    await account.close()


async def test_fills_and_order_changes_while_disconnected_are_reported_once(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="100000")
    events: list = []
    account = await open_account(sim, VENUE, events)
    a = await p.act("place", pair="BTC_USDT", side="buy", amount="0.1", price="50000")
    b = await p.act("place", pair="BTC_USDT", side="buy", amount="0.1", price="49000")
    await settle(account)
    sim.drop_connections(VENUE)
    # while the socket is down: a partial fill, a full fill, and an order placed and filled
    await p.act("fill", order_id=a["order_id"], amount="0.03")
    await p.act("fill", order_id=b["order_id"])
    c = await p.act("place", pair="ETH_USDT", side="buy", amount="1", price="3000")
    await p.act("fill", order_id=c["order_id"])
    await wait_until(lambda: account.connection.stats.connects >= 2, 5)
    await settle(account)
    statuses = [e.status for e in events if isinstance(e, AccountStatus)]
    assert statuses[-3:] == ["stale", "reconciling", "live"]
    assert account.state.open_orders[a["order_id"]].filled == D("0.03")
    assert account.state.closed_orders[b["order_id"]].status is OrderStatus.FILLED
    assert account.state.closed_orders[c["order_id"]].status is OrderStatus.FILLED
    assert_fills_once(events, {str(t.id) for t in p.ledger().trades})
    assert_matches_ledger(account, p.ledger())
    # each order change is reported once, and nothing that did not change
    reported = [e.order_id for e in events if isinstance(e, Order) and e.recv_ts > 0]
    assert reported.count(c["order_id"]) == 1
    await account.close()


async def test_orders_placed_and_ended_while_disconnected_are_reported_once(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="100000")
    events: list = []
    account = await open_account(sim, VENUE, events)
    await settle(account)
    sim.drop_connections(VENUE)
    # while the socket is down: an order placed and canceled untouched, one canceled after a
    # partial fill, one filled at once; none of them was ever pushed
    a = (await p.act("place", pair="BTC_USDT", side="buy", amount="0.1", price="50000"))["order_id"]
    await p.act("cancel", order_id=a)
    b = (await p.act("place", pair="ETH_USDT", side="buy", amount="2", price="3000"))["order_id"]
    await p.act("fill", order_id=b, amount="0.5")
    await p.act("cancel", order_id=b)
    c = (await p.act("place", pair="ETH_USDT", side="sell", amount="0.2", price="3100"))["order_id"]
    await p.act("fill", order_id=c)
    await wait_until(lambda: account.connection.stats.connects >= 2, 5)
    await settle(account)
    reported = [e for e in events if isinstance(e, Order)]
    assert [o.order_id for o in reported].count(a) == 1 and [o.order_id for o in reported].count(b) == 1
    assert [o.order_id for o in reported].count(c) == 1
    closed = account.state.closed_orders
    assert (closed[a].status, closed[a].filled, closed[a].left, closed[a].amount) == (OrderStatus.CANCELED, D("0"), D("0.1"), D("0.1"))
    assert (closed[b].status, closed[b].filled, closed[b].left) == (OrderStatus.CANCELED, D("0.5"), D("1.5"))
    assert (closed[c].status, closed[c].filled, closed[c].side) == (OrderStatus.FILLED, D("0.2"), "sell")
    assert_fills_once(events, {str(t.id) for t in p.ledger().trades})
    assert_matches_ledger(account, p.ledger())
    # another reconnect lists them again in the history: still reported once
    sim.drop_connections(VENUE)
    await wait_until(lambda: account.connection.stats.connects >= 3, 5)
    await settle(account)
    again = [e.order_id for e in events if isinstance(e, Order)]
    assert (again.count(a), again.count(b), again.count(c)) == (1, 1, 1)
    assert account.state.stats["duplicate_order"] == 0
    await account.close()


async def test_orders_ended_while_disconnected_on_followed_pairs(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="100000")
    events: list = []
    account = await open_account(sim, VENUE, events, symbols=["BTC/USDT"])
    await settle(account)
    sim.drop_connections(VENUE)
    a = (await p.act("place", pair="BTC_USDT", side="buy", amount="0.1", price="50000"))["order_id"]
    await p.act("cancel", order_id=a)
    other = (await p.act("place", pair="ETH_USDT", side="buy", amount="1", price="3000"))["order_id"]
    await p.act("cancel", order_id=other)
    await wait_until(lambda: account.connection.stats.connects >= 2, 5)
    await settle(account)
    ids = [e.order_id for e in events if isinstance(e, Order)]
    # the history is asked per followed pair: the order of a pair not followed is not reported
    assert ids == [a]
    assert account.state.closed_orders[a].status is OrderStatus.CANCELED
    await account.close()


async def test_wrong_secret_is_auth_failed_without_a_retry_loop(sim):
    events: list = []
    account = await open_account(sim, VENUE, events, credentials=Credentials("cexfeed-sim-key", "wrong-secret", "10001"), expect="auth_failed")
    failed = [e for e in events if isinstance(e, AccountStatus) and e.status == "auth_failed"]
    assert failed[0].code == "INVALID_SIGNATURE" and failed[0].message == (
        "Signature mismatch (3 of 3 private subscriptions refused: orders !all, fills !all, balances)")
    await asyncio.sleep(0.5)
    # refused channels are not replayed: no more subscribe attempts, one connection
    assert account.connection.subscriptions == {} and account.connection.stats.connects == 1
    assert account.connection.stats.acks_refused == 3
    await account.close()


async def test_unknown_key_and_rejected_auth(sim):
    events: list = []
    account = await open_account(sim, VENUE, events, credentials=Credentials("nobody", "x"), expect="auth_failed")
    assert [e.code for e in events if isinstance(e, AccountStatus) and e.status == "auth_failed"][0] == "INVALID_KEY"
    await account.close()
    await private(sim).act("reject_auth", on=True)
    events2: list = []
    account2 = await open_account(sim, VENUE, events2, expect="auth_failed")
    await account2.close()


async def test_clock_skew_is_measured_again_and_retried_once(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="5")
    events: list = []
    account = await open_account(sim, VENUE, events)
    assert abs(account.protocol.clock.offset_ms) < 1000
    # the venue clock jumps 5 minutes: the next subscribe is REQUEST_EXPIRED, then fixed
    await p.act("skew", seconds=300)
    sim.drop_connections(VENUE)
    await wait_until(lambda: account.protocol.clock.measurements >= 2, 5)
    await settle(account)
    assert abs(account.protocol.clock.offset_ms - 300_000) < 2000
    assert account.status == "live" and account.balances()["USDT"].total == D("5")
    assert not [e for e in events if isinstance(e, AccountStatus) and e.status == "auth_failed"]
    await account.close()


async def test_rest_failures_while_reconciling_are_retried(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="100")
    events: list = []
    account = await open_account(sim, VENUE, events)
    await p.act("fail_rest", count=6)
    sim.drop_connections(VENUE)
    await p.act("deposit", currency="USDT", amount="1")
    await wait_until(lambda: account.connection.stats.connects >= 2, 5)
    await settle(account, 20)
    assert account.sync_failures >= 1 and p.rest_failures == 0
    assert account.balances()["USDT"].total == D("101")
    await account.close()


async def _acceptance(sim, orders: int, disconnects: int, seed: int) -> None:
    rng = random.Random(seed)
    p = private(sim)
    ledger = p.ledger()
    for currency, amount in (("USDT", "10000000"), ("BTC", "50"), ("ETH", "500")):
        await p.act("deposit", currency=currency, amount=amount)
    events: list = []
    account = await open_account(sim, VENUE, events)
    drops = Drops(rng, orders, disconnects, sim, VENUE, account)
    for i in range(orders):
        pair = rng.choice(list(PRICES))
        mid, decimals = PRICES[pair]
        await drops.before(i)
        if rng.random() < 0.15:
            await p.act("market_buy", pair=pair, quote_amount=str(rng.randint(10, 500)), price=f"{mid + rng.uniform(-50, 50):.{decimals}f}",
                        **drops.during(i))
        else:
            side = rng.choice(("buy", "sell"))
            amount = D(rng.randint(1, 500)) / 1000
            price = f"{mid + rng.uniform(-100, 100):.{decimals}f}"
            oid = (await p.act("place", pair=pair, side=side, amount=str(amount), price=price))["order_id"]
            fate = rng.random()
            left = amount
            for _ in range(rng.randint(0, 3)):
                part = (left * D(rng.randint(1, 60)) / 100).quantize(D("0.001"))
                if 0 < part < left:
                    await p.act("fill", order_id=oid, amount=str(part), **drops.during(i))
                    left -= part
            if fate < 0.35:
                await p.act("fill", order_id=oid)
            elif fate < 0.7:
                await p.act("cancel", order_id=oid)
        drops.after(i)
        if i % 7 == 0:
            await asyncio.sleep(0.01)  # let the client read now and then
    await drops.check(account, events, {str(t.id) for t in ledger.trades})
    assert_matches_ledger(account, ledger)
    await account.close()


async def test_acceptance_100_orders_10_disconnects(sim):
    await _acceptance(sim, 100, 10, seed=11)


@pytest.mark.skipif(not LONG, reason="long run: set CEXFEED_LONG_TESTS=1")
async def test_acceptance_long(sim):
    await _acceptance(sim, 1000, 60, seed=5)


async def test_account_as_a_context_manager_and_its_queue(sim):
    from cexfeed.private_feed import Account

    from private_helpers import CREDS

    await private(sim).act("deposit", currency="USDT", amount="7")
    async with Account(VENUE, CREDS, url=sim.ws_url(VENUE), rest_url=sim.rest_url(VENUE)) as account:
        assert account.status == "live" and account.balances()["USDT"].total == D("7")
        first = await anext(account.events())
        assert isinstance(first, AccountStatus) and first.status == "seeding"
    assert account.status == "stale"


async def test_symbols_checked_like_a_market_feed(sim):
    from cexfeed.private_feed import Account
    from cexfeed.symbols import SymbolError

    from private_helpers import CREDS

    # the form before any network call, with the hint the market feed gives
    with pytest.raises(SymbolError, match="BTC/USDT"):
        Account(VENUE, CREDS, symbols=["BTC_USDT"], url=sim.ws_url(VENUE), rest_url=sim.rest_url(VENUE))
    # a pair the venue does not list: refused once the instrument list is in, before subscribing
    account = Account(VENUE, CREDS, symbols=["NOPE/USDT"], url=sim.ws_url(VENUE), rest_url=sim.rest_url(VENUE))
    with pytest.raises(SymbolError, match="NOPE/USDT"):
        await account.start(5.0)
    assert account.connection is None
    await account.close()
    # a listed pair is followed under its venue name
    events: list = []
    account = await open_account(sim, VENUE, events, symbols=["ETH/USDT"])
    assert {s.venue_symbol for s in account.connection.subscriptions} == {"ETH_USDT", ""}
    await account.close()
