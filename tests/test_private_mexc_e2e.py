"""MEXC spot account stream over real sockets against the simulator: the listenKey session
(made once, kept alive, reused across reconnects, replaced on the venue's refusals and on
expiry, deleted on close), seeding and reconciling from REST (each fill missed while away or
while the key was being replaced reported once), authentication refusals, socket rotation
before the 24 h limit, and the acceptance run: 100 orders with partial fills across 10 forced
disconnects and 2 forced key expiries end in exactly the simulator ledger's state."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import pytest

from cexfeed.credentials import Credentials
from cexfeed.exchanges.mexc.private_protocol import MexcSpotPrivateProtocol
from cexfeed.models import AccountStatus, ConnectionStatus, Fill, Order, OrderStatus
from cexfeed.private_feed import Account
from cexfeed.sim import SimServer
from cexfeed.sim.mexc_private import TEST_KEY, TEST_SECRET
from cexfeed.sim.testing import wait_until

from private_helpers import LONG, Drops, assert_fills_once, fast_backoff, settle

VENUE = "mexc-spot"
CREDS = Credentials(TEST_KEY, TEST_SECRET)
SYMBOLS = ["BTC/USDT", "ETH/USDT"]
PRICES = {"BTCUSDT": (50000, 2), "ETHUSDT": (3000, 2)}
D = Decimal


@pytest.fixture
async def sim():
    server = SimServer(rate=2, venues=[VENUE])
    await server.start()
    yield server
    await server.stop()


def private(sim):
    return sim.venues[VENUE].private


async def open_account(sim, events: list, credentials: Credentials = CREDS, expect: str = "live", symbols=SYMBOLS,
                       architecture: str = "direct", **options) -> Account:
    protocol = MexcSpotPrivateProtocol(sim.ws_url(VENUE), sim.rest_url(VENUE), credentials=credentials, **options)
    account = Account(VENUE, credentials, symbols=symbols, on_event=events.append, reconnect_backoff=fast_backoff, ack_timeout=3.0,
                      protocol=protocol, architecture=architecture)
    status = await account.start(10.0)
    assert status == expect, (status, account.stats())
    return account


def statuses(events: list) -> list[tuple[str, str]]:
    return [(e.status, e.reason) for e in events if isinstance(e, AccountStatus)]


def assert_matches_ledger(account: Account, ledger) -> None:
    for currency, (total, free, locked) in ledger.totals().items():
        held = account.state.balances.get(currency)
        if held is None:
            assert total == 0, currency
            continue
        # MEXC states available and frozen; total is their exact sum
        assert (held.total, held.available, held.frozen) == (total, free, locked), currency
    assert set(account.state.open_orders) == ledger.open_order_ids()
    for oid in ledger.open_order_ids():
        mine, theirs = account.state.open_orders[oid], ledger.orders[oid]
        expected = OrderStatus.PARTIALLY_FILLED if theirs.filled else OrderStatus.OPEN
        assert (mine.filled, mine.left, mine.status) == (theirs.filled, theirs.remain, expected), oid
    assert account.state.invariants() == {}


async def test_seed_then_live_with_a_partially_canceled_order(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="1000")
    placed = await p.act("place", symbol="BTCUSDT", side="BUY", quantity="0.01", price="50000", client_id="mine-1")
    events: list = []
    account = await open_account(sim, events)
    assert statuses(events) == [("seeding", "start"), ("live", "snapshot")]
    order = account.open_orders()[placed["order_id"]]
    assert (order.status, order.raw_status, order.client_order_id, order.amount, order.left) == (
        OrderStatus.OPEN, "NEW", "mine-1", D("0.01"), D("0.01"))
    assert (account.balances()["USDT"].available, account.balances()["USDT"].frozen) == (D("500"), D("500"))
    await p.act("fill", order_id=placed["order_id"], quantity="0.004", maker=False)
    await p.act("cancel", order_id=placed["order_id"])
    await settle(account)
    done = account.state.closed_orders[placed["order_id"]]
    # status 5: canceled with filled > 0
    assert (done.status, done.raw_status, done.filled, done.left) == (OrderStatus.CANCELED, "PARTIALLY_CANCELED", D("0.004"), D("0.006"))
    fill = account.fills()[-1]
    assert (fill.role, fill.side, fill.price, fill.amount, fill.fee, fill.fee_currency) == ("taker", "buy", D("50000"), D("0.004"), D("0.000004"), "BTC")
    assert_matches_ledger(account, p.ledger())
    # one key made, none deleted yet; close deletes it
    assert p.key_calls["POST"] == 1 and len(p.keys) == 1
    await account.close()
    assert p.keys == {} and p.key_calls["DELETE"] == 1


async def test_one_key_across_reconnects_and_missed_fills_reported_once(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="100000")
    events: list = []
    account = await open_account(sim, events)
    a = await p.act("place", symbol="BTCUSDT", side="BUY", quantity="0.1", price="50000")
    b = await p.act("place", symbol="ETHUSDT", side="BUY", quantity="1", price="3000")
    await settle(account)
    url = account.connection.session_url
    for drop in range(3):
        sim.drop_connections(VENUE)
        # while the socket is down: fills of both orders, one order placed and filled
        await p.act("fill", order_id=a["order_id"], quantity="0.01")
        if drop == 0:
            await p.act("fill", order_id=b["order_id"])
            c = await p.act("place", symbol="ETHUSDT", side="BUY", quantity="2", price="2990")
            await p.act("fill", order_id=c["order_id"], quantity="0.5")
            await p.act("cancel", order_id=c["order_id"])
        await wait_until(lambda: account.connection.stats.connects >= drop + 2, 5)
        await settle(account)
    assert account.connection.session_url == url and p.key_calls["POST"] == 1  # the same key throughout
    assert ("stale", "reconnect") in statuses(events) and ("reconciling", "reconnect") in statuses(events)
    assert account.state.open_orders[a["order_id"]].filled == D("0.03")
    assert account.state.closed_orders[b["order_id"]].status is OrderStatus.FILLED
    assert_fills_once(events, {t.id for t in p.ledger().trades})
    # an order placed, partly filled and canceled while away: reported once, in its final state
    reported = [e for e in events if isinstance(e, Order) and e.order_id == c["order_id"]]
    assert len(reported) == 1 and reported[0].status is OrderStatus.CANCELED and reported[0].filled == D("0.5")
    assert_matches_ledger(account, p.ledger())
    await account.close()


class Away:
    """``async with Away(sim):`` the account's socket is down and stays down (upgrades refused)
    until the block ends; ``pushed`` says whether the venue sent anything meanwhile."""

    def __init__(self, sim) -> None:
        self.sim = sim
        self.p = private(sim)

    async def __aenter__(self) -> "Away":
        venue = self.sim.venues[VENUE]
        self.sim.reject_upgrades(1_000_000, status=503, retry_after=0, venue=VENUE)
        self.sim.drop_connections(VENUE)
        assert await wait_until(lambda: not venue.sessions, 5)
        self.sent = self.p.frames_sent
        return self

    async def __aexit__(self, *exc) -> None:
        self.pushed = self.p.frames_sent != self.sent
        self.sim.reject_upgrades(0, venue=VENUE)


async def _reconnected(sim, account: Account, sessions: int) -> None:
    await wait_until(lambda: account.connection.stats.connects >= sessions, 5)
    await settle(account)


def reported(events: list, oid: str) -> list[Order]:
    return [e for e in events if isinstance(e, Order) and e.order_id == oid]


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
async def test_orders_placed_and_ended_while_disconnected_are_reported_once(sim, architecture):
    p = private(sim)
    for currency, amount in (("USDT", "100000"), ("ETH", "10")):
        await p.act("deposit", currency=currency, amount=amount)
    events: list = []
    account = await open_account(sim, events, architecture=architecture)
    await settle(account)
    async with Away(sim) as away:
        # while the socket is down (none of these is ever pushed): placed and canceled
        # untouched, canceled after a partial fill, filled at once, a market buy
        a = (await p.act("place", symbol="BTCUSDT", side="BUY", quantity="0.1", price="50000", client_id="gone-a"))["order_id"]
        await p.act("cancel", order_id=a)
        b = (await p.act("place", symbol="ETHUSDT", side="BUY", quantity="2", price="3000"))["order_id"]
        await p.act("fill", order_id=b, quantity="0.5")
        await p.act("cancel", order_id=b)
        c = (await p.act("place", symbol="ETHUSDT", side="SELL", quantity="0.2", price="3100"))["order_id"]
        await p.act("fill", order_id=c, maker=False)
        d = (await p.act("market_buy", symbol="BTCUSDT", quote_amount="100", price="50000"))["order_id"]
    assert not away.pushed
    await _reconnected(sim, account, 2)
    for oid in (a, b, c, d):
        assert len(reported(events, oid)) == 1, oid
    closed = account.state.closed_orders
    assert (closed[a].status, closed[a].raw_status, closed[a].filled, closed[a].left, closed[a].amount, closed[a].client_order_id) == (
        OrderStatus.CANCELED, "CANCELED", D("0"), D("0.1"), D("0.1"), "gone-a")
    assert (closed[b].status, closed[b].raw_status, closed[b].filled, closed[b].left) == (OrderStatus.CANCELED, "PARTIALLY_CANCELED", D("0.5"), D("1.5"))
    assert (closed[c].status, closed[c].filled, closed[c].left, closed[c].side) == (OrderStatus.FILLED, D("0.2"), D("0"), "sell")
    assert (closed[d].status, closed[d].order_type, closed[d].filled, closed[d].quote_amount) == (OrderStatus.FILLED, "market", D("0.002"), D("100"))
    assert_fills_once(events, {t.id for t in p.ledger().trades})
    assert_matches_ledger(account, p.ledger())
    # the next reconnect's history lists them again: still reported once, nothing regressed
    sim.drop_connections(VENUE)
    await _reconnected(sim, account, 3)
    assert [len(reported(events, oid)) for oid in (a, b, c, d)] == [1, 1, 1, 1]
    assert account.state.stats["duplicate_order"] == 0 and account.state.stats["stale_order"] == 0
    assert_matches_ledger(account, p.ledger())
    await account.close()


async def test_an_order_seen_live_then_ended_while_away_is_not_reported_twice(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="100000")
    events: list = []
    account = await open_account(sim, events)
    a = (await p.act("place", symbol="BTCUSDT", side="BUY", quantity="0.1", price="50000"))["order_id"]
    b = (await p.act("place", symbol="BTCUSDT", side="BUY", quantity="0.1", price="49000"))["order_id"]
    await p.act("fill", order_id=b, quantity="0.1")  # b ends live, pushed
    await settle(account)
    async with Away(sim):
        await p.act("fill", order_id=a, quantity="0.04")
        await p.act("cancel", order_id=a)
    await _reconnected(sim, account, 2)
    # a: its live states, then its final one from the history; b: nothing more
    assert [o.status for o in reported(events, a)] == [OrderStatus.OPEN, OrderStatus.CANCELED]
    assert reported(events, a)[-1].filled == D("0.04")
    assert [o.status for o in reported(events, b)] == [OrderStatus.OPEN, OrderStatus.FILLED]
    assert_fills_once(events, {t.id for t in p.ledger().trades})
    assert account.state.stats["duplicate_order"] == 0
    await account.close()


async def test_more_than_a_page_of_trades_in_one_ms(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="10000000")
    events: list = []
    account = await open_account(sim, events)
    await settle(account)
    async with Away(sim):
        await p.act("freeze")  # every action below happens in the same ms: 150 trades of 30 orders
        orders = []
        for i in range(30):
            oid = (await p.act("place", symbol="BTCUSDT", side="BUY", quantity="0.5", price=str(50000 - i)))["order_id"]
            orders.append(oid)
            for _ in range(5):
                await p.act("fill", order_id=oid, quantity="0.1")
        await p.act("freeze", ms=None)
    ledger = p.ledger()
    assert len({t.ms for t in ledger.trades}) == 1 and len(ledger.trades) == 150
    await _reconnected(sim, account, 2)
    assert_fills_once(events, {t.id for t in ledger.trades})
    assert len([e for e in events if isinstance(e, Fill)]) == 150
    assert all(account.state.closed_orders[oid].status is OrderStatus.FILLED for oid in orders)
    coverage = account.protocol.coverage
    assert coverage.stats["crowded_ms"] == 1 and coverage.stats["trades_unreachable"] == 0
    assert_matches_ledger(account, ledger)
    await account.close()


async def test_symbols_found_by_their_open_orders_are_followed(sim):
    p = private(sim)
    for currency, amount in (("USDT", "100000"), ("ETH", "10")):
        await p.act("deposit", currency=currency, amount=amount)
    # an order on a symbol the account is not told to follow, working before it starts
    e1 = (await p.act("place", symbol="ETHUSDT", side="SELL", quantity="1", price="3100"))["order_id"]
    events: list = []
    account = await open_account(sim, events, symbols=["BTC/USDT"])
    assert e1 in account.open_orders() and "ETHUSDT" in account.protocol.coverage.seen
    await settle(account)
    async with Away(sim):
        await p.act("fill", order_id=e1, quantity="0.25")
        await p.act("cancel", order_id=e1)
        e2 = (await p.act("place", symbol="ETHUSDT", side="BUY", quantity="1", price="2900"))["order_id"]
        await p.act("cancel", order_id=e2)
        # a symbol with no order, fill or follow: what happens there while away shows in the
        # balances only
        x = (await p.act("place", symbol="ETHBTC", side="SELL", quantity="1", price="0.06"))["order_id"]
        await p.act("cancel", order_id=x)
    await _reconnected(sim, account, 2)
    assert (account.state.closed_orders[e1].status, account.state.closed_orders[e1].filled) == (OrderStatus.CANCELED, D("0.25"))
    assert len(reported(events, e2)) == 1 and account.state.closed_orders[e2].status is OrderStatus.CANCELED
    assert reported(events, x) == []
    assert_fills_once(events, {t.id for t in p.ledger().trades})
    assert_matches_ledger(account, p.ledger())
    await account.close()


async def test_open_orders_asked_per_symbol_when_the_venue_requires_one(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="100000")
    await p.act("require_symbol")
    a = (await p.act("place", symbol="BTCUSDT", side="BUY", quantity="0.1", price="50000"))["order_id"]
    other = (await p.act("place", symbol="ETHUSDT", side="BUY", quantity="1", price="3000"))["order_id"]
    events: list = []
    account = await open_account(sim, events, symbols=["BTC/USDT"])
    coverage = account.protocol.coverage
    assert coverage.all_open_orders is False and coverage.stats["open_orders_per_symbol"] == 1
    assert set(account.open_orders()) == {a} and other not in account.open_orders()
    async with Away(sim):
        await p.act("cancel", order_id=a)
        b = (await p.act("place", symbol="BTCUSDT", side="BUY", quantity="0.2", price="49000"))["order_id"]
        await p.act("cancel", order_id=b)
    await _reconnected(sim, account, 2)
    assert account.state.closed_orders[a].status is OrderStatus.CANCELED and len(reported(events, b)) == 1
    assert coverage.stats["open_orders_per_symbol"] == 1  # not asked without a symbol again
    await account.close()


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
async def test_expiry_new_key_resync_and_live_again(sim, architecture):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="10000")
    events: list = []
    account = await open_account(sim, events, architecture=architecture)
    a = await p.act("place", symbol="BTCUSDT", side="BUY", quantity="0.1", price="50000")
    await settle(account)
    first_key_url = account.connection.session_url
    # the key lapses: the venue closes the socket and refuses the old key on the next one;
    # fills happen meanwhile
    await p.act("lapse")
    await p.act("fill", order_id=a["order_id"], quantity="0.05")
    await wait_until(lambda: account.protocol.keys.generation == 2, 10)
    await settle(account)
    seen = statuses(events)
    assert seen.count(("stale", "key_refused")) == 1 and seen[-2:] == [("reconciling", "key_changed"), ("live", "snapshot")]
    expiry = [e for e in events if isinstance(e, AccountStatus) and e.reason == "key_refused"][0]
    assert expiry.code == "empty_ack"
    assert account.connection.session_url != first_key_url and p.key_calls["POST"] == 2
    # the new key's socket takes the pushes: live again
    await p.act("fill", order_id=a["order_id"], quantity="0.01")
    await settle(account)
    assert account.state.open_orders[a["order_id"]].filled == D("0.06")
    assert_fills_once(events, {t.id for t in p.ledger().trades})
    assert_matches_ledger(account, p.ledger())
    reconnects = [e.reason for e in events if isinstance(e, ConnectionStatus) and e.status == "reconnecting"]
    assert "key_refused" in reconnects
    await account.close()


@pytest.mark.parametrize("fault,params,code", [
    ("refuse_put", {"code": "730708"}, "730708"),
    ("refuse_put", {"code": "10072"}, "10072"),
    ("fail_put", {"count": 4}, "500"),  # 500s on the PUT and on its 3 retries: the venue's code and message shown
])
async def test_refused_keep_alive_makes_a_new_key(sim, fault, params, code):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="10")
    events: list = []
    account = await open_account(sim, events, keepalive_s=0.6, min_keepalive_s=0.3)
    await wait_until(lambda: p.key_calls["PUT"] >= 1, 5)
    await p.act(fault, **{"count": 1, **params})
    assert await wait_until(lambda: account.protocol.keys.generation == 2, 10)
    await settle(account)
    stale = [e for e in events if isinstance(e, AccountStatus) and e.status == "stale"]
    assert len(stale) == 1 and stale[-1].reason == ("key_expired" if fault == "fail_put" else "key_refused") and stale[-1].code == code
    assert statuses(events)[-2:] == [("reconciling", "key_changed"), ("live", "snapshot")]
    assert p.key_calls["POST"] == 2 and account.protocol.keys.stats["keepalive_failures"] == 1
    # the old key was deleted (best effort), the new one is kept alive
    puts = p.key_calls["PUT"]
    await wait_until(lambda: p.key_calls["PUT"] > puts, 5)
    assert len(p.keys) == 1
    await account.close()


async def test_keep_alive_respects_the_venue_floor(sim):
    p = private(sim)
    await p.act("put_floor", seconds=0.25)  # the venue refuses keep-alives closer than this
    events: list = []
    account = await open_account(sim, events, keepalive_s=0.4, min_keepalive_s=0.3)
    await asyncio.sleep(2.2)
    assert p.key_calls["PUT"] >= 4 and p.key_calls["POST"] == 1
    assert account.protocol.keys.stats["keepalive_failures"] == 0 and account.status == "live"
    await account.close()


async def test_clock_skew_on_keep_alive_is_measured_again(sim):
    p = private(sim)
    events: list = []
    account = await open_account(sim, events, keepalive_s=0.6, min_keepalive_s=0.3)
    assert abs(account.protocol.clock.offset_ms) < 1000
    await p.act("skew", seconds=30)  # the venue clock jumps: the next keep-alive is refused 700003
    keys = account.protocol.keys
    assert await wait_until(lambda: keys.stats["clock_retries"] >= 1 and keys.stats["keepalives"] >= 2, 5)
    assert abs(account.protocol.clock.offset_ms - 30_000) < 2000
    assert keys.generation == 1 and keys.stats["keepalive_failures"] == 0 and account.status == "live"
    await account.close()


@pytest.mark.parametrize("creds,code", [
    (Credentials(TEST_KEY, "wrong-secret"), "700002"),
    (Credentials("nobody", "x"), "10072"),
])
async def test_refused_credentials_are_auth_failed_without_retry(sim, creds, code):
    events: list = []
    account = await open_account(sim, events, credentials=creds, expect="auth_failed")
    failed = [e for e in events if isinstance(e, AccountStatus) and e.status == "auth_failed"]
    assert failed[0].code == code
    await asyncio.sleep(0.5)
    assert account.connection.stats.connects == 0 and private(sim).key_calls["POST"] == 0
    await account.close()


async def test_socket_rotated_before_the_lifetime_limit(sim):
    p = private(sim)
    await p.act("deposit", currency="USDT", amount="10")
    events: list = []
    protocol_age = 0.8
    account = await open_account(sim, events)
    account.protocol.max_connection_age_s = protocol_age
    sim.drop_connections(VENUE)  # the age counts from the next connect
    await wait_until(lambda: account.connection.stats.connects >= 3, 5)
    await settle(account)
    assert ("stale", "rotate") in statuses(events) and ("reconciling", "rotate") in statuses(events)
    assert p.key_calls["POST"] == 1
    await account.close()


class Lapses:
    """Where an acceptance run lets the key lapse: ``count`` steps not among the drops'."""

    def __init__(self, rng, steps: int, count: int, avoid: set[int]) -> None:
        self.at = set(rng.sample([i for i in range(3, steps) if i not in avoid and i - 1 not in avoid], count))
        self.done = 0

    async def before(self, i: int, p) -> None:
        if i in self.at:
            await p.act("lapse")

    async def after(self, i: int, account: Account, drops: Drops) -> None:
        if i in self.at:
            self.done += 1
            conn = account.connection
            assert await wait_until(lambda: account.protocol.keys.generation == self.done + 1 and account.status == "live" and conn.connected, 10)
            drops.sessions = conn.stats.connects


async def _acceptance(sim, orders: int, disconnects: int, expiries: int, seed: int) -> None:
    rng = random.Random(seed)
    p = private(sim)
    ledger = p.ledger()
    for currency, amount in (("USDT", "10000000"), ("BTC", "50"), ("ETH", "500")):
        await p.act("deposit", currency=currency, amount=amount)
    events: list = []
    account = await open_account(sim, events)
    drops = Drops(rng, orders, disconnects, sim, VENUE, account)
    lapses = Lapses(rng, orders, expiries, drops.at)
    for i in range(orders):
        symbol = rng.choice(list(PRICES))
        mid, decimals = PRICES[symbol]
        await drops.before(i)
        await lapses.before(i, p)
        if rng.random() < 0.1:
            await p.act("market_buy", symbol=symbol, quote_amount=str(rng.randint(10, 500)), price=f"{mid + rng.uniform(-50, 50):.{decimals}f}",
                        **drops.during(i))
        else:
            side = rng.choice(("BUY", "SELL"))
            quantity = D(rng.randint(1, 500)) / 1000
            price = f"{mid + rng.uniform(-100, 100):.{decimals}f}"
            oid = (await p.act("place", symbol=symbol, side=side, quantity=str(quantity), price=price))["order_id"]
            fate = rng.random()
            left = quantity
            for _ in range(rng.randint(1, 3)):
                part = (left * D(rng.randint(1, 60)) / 100).quantize(D("0.001"))
                if 0 < part < left:
                    await p.act("fill", order_id=oid, quantity=str(part), maker=rng.random() < 0.5, **drops.during(i))
                    left -= part
            if fate < 0.35:
                await p.act("fill", order_id=oid)
            elif fate < 0.7:
                await p.act("cancel", order_id=oid)
        drops.after(i)
        await lapses.after(i, account, drops)
        if i % 7 == 0:
            await asyncio.sleep(0.01)  # let the client read now and then
    await settle(account, 30)
    assert account.protocol.keys.generation == expiries + 1 and p.key_calls["POST"] == expiries + 1
    assert account.connection.stats.connects >= disconnects + expiries + 1
    assert_fills_once(events, {t.id for t in ledger.trades})
    assert len([e for e in events if isinstance(e, Fill)]) == len(ledger.trades)
    assert_matches_ledger(account, ledger)
    expired = [e for e in events if isinstance(e, AccountStatus) and e.status == "stale" and e.reason.startswith("key")]
    assert len(expired) >= expiries
    # every order is reported, its last published state the ledger's, its final state once
    last: dict[str, Order] = {}
    finals: dict[str, int] = {}
    for e in events:
        if isinstance(e, Order):
            last[e.order_id] = e
            finals[e.order_id] = finals.get(e.order_id, 0) + e.status.terminal
    assert set(last) == set(ledger.orders)
    for oid, order in ledger.orders.items():
        assert (last[oid].filled, last[oid].status.terminal) == (order.filled, order.status not in (1, 3)), oid
        assert finals[oid] == (order.status not in (1, 3)), oid
    await account.close()


async def test_acceptance_100_orders_10_disconnects_2_expiries(sim):
    await _acceptance(sim, 100, 10, 2, seed=12)


@pytest.mark.skipif(not LONG, reason="long run: set CEXFEED_LONG_TESTS=1")
async def test_acceptance_long(sim):
    await _acceptance(sim, 1000, 60, 12, seed=6)


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
async def test_a_key_rotation_publishes_no_error_events(sim, architecture):
    """The empty acks refusing a lapsed key are an expected change (stale key_refused, then a
    new key): no ``error`` event for them."""
    from cexfeed.models import VenueError

    events: list = []
    account = await open_account(sim, events, architecture=architecture)
    await settle(account)
    await private(sim).act("lapse")
    await wait_until(lambda: account.protocol.keys.generation == 2, 10)
    await settle(account)
    assert ("stale", "key_refused") in statuses(events) and statuses(events)[-1] == ("live", "snapshot")
    assert [e for e in events if isinstance(e, VenueError)] == []
    assert account.handler.stats.errors.get("empty_ack", 0) >= 1  # still counted
    await account.close()


async def test_drop_after_zero_drops_before_the_first_push(sim):
    """``drop_after: 0``: the socket is aborted before any of the action's pushes goes out."""
    p = private(sim)
    events: list = []
    account = await open_account(sim, events)
    await settle(account)
    result = await p.act("deposit", currency="USDT", amount="7", drop_after=0)
    assert result["frames"] == 0
    one = await p.act("deposit", currency="USDT", amount="1", drop_after=1)  # (after one push: on reconnect)
    assert one["frames"] <= 1
    await settle(account)
    assert account.balances()["USDT"].available == D("8")  # the missed deposit is found on reconcile
    await account.close()
