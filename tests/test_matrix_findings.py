"""The bugs the fault matrix (issue #13 item 2) found, each pinned by a test of its own:

1. a market subscription the venue refused on the replay after a reconnect was dropped for
   good: its book stayed ``resyncing`` forever, nothing said it was gone, nothing retried;
2. a connection reset during the opening handshake was reported ``connected`` then
   ``dropped`` (picows hands back an already closed transport instead of raising), counted as
   a session;
3. an account stream whose venue stopped pushing while it still answered pings lost the fills
   of that time until the next reconnect (no REST reconcile while live).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from cexfeed.feed import Feed
from cexfeed.models import AccountStatus, BookStatus, ConnectionStatus, Fill, StreamStatus
from cexfeed.net import Backoff
from cexfeed.net import requests as requests_module
from cexfeed.net.listener import HandshakeClosed, connect_failure
from cexfeed.sim import SimServer
from cexfeed.sim.faultproxy import FaultProxy
from cexfeed.sim.testing import sim_levels, sim_update_id, wait_until

from private_helpers import open_account, settle


@pytest.fixture
async def sim():
    server = SimServer(seed=21, rate=30, venues=["gateio-spot"])
    await server.start()
    yield server
    await server.stop()


def _feed(url, sim, events, **kwargs):
    return Feed("gateio-spot", ["BTC/USDT", "ETH/USDT"], ["book", "trades"], url=url, rest_url=sim.rest_url("gateio-spot"),
                on_event=events.append, reconnect_backoff=lambda: Backoff(initial=0.05, cap=0.3), **kwargs)


async def test_book_refused_on_the_replay_is_kept_told_and_asked_again(sim, monkeypatch):
    monkeypatch.setattr(requests_module, "REFUSED_RETRY_INITIAL", 0.2)
    events: list = []
    feed = _feed(sim.ws_url("gateio-spot"), sim, events)
    try:
        assert all(r.ok for r in await feed.start())
        assert await wait_until(lambda: feed.synced("BTC/USDT") and feed.synced("ETH/USDT"), 5)
        # the venue now refuses BTC's book stream; the socket drops; the replay is refused
        sim.block("spot.order_book_update:BTC_USDT", "gateio-spot")
        sim.drop_connections()
        assert await wait_until(lambda: any(isinstance(e, StreamStatus) and e.status == "refused" for e in events), 5)
        refused = [e for e in events if isinstance(e, StreamStatus) and e.status == "refused"]
        assert [(e.symbol, e.channel) for e in refused] == [("BTC/USDT", "book")]
        assert "subscribing again in" in refused[0].detail
        btc = [(e.status, e.reason) for e in events if isinstance(e, BookStatus) and e.symbol == "BTC/USDT"]
        assert btc[-2:] == [("resyncing", "reconnect"), ("stale", "refused")]
        # kept in the set (a later reconnect replays it), the other streams came back
        conn = feed.connections[0]
        assert any(s.channel == "book" and s.venue_symbol == "BTC_USDT" for s in conn.subscriptions)
        assert await wait_until(lambda: feed.synced("ETH/USDT"), 5)
        # the venue accepts again: asked again with a backoff, resubscribed, synced and right
        sim.block("", "gateio-spot")
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 5)
        assert [e.status for e in events if isinstance(e, StreamStatus) and e.symbol == "BTC/USDT"][-1] == "resubscribed"
        sim.pause()
        assert await wait_until(lambda: feed.book("BTC/USDT").last_update_id == sim_update_id(sim, "BTC/USDT"), 5)
        bids, asks = sim_levels(sim, "BTC/USDT")
        assert feed.book("BTC/USDT").top_bids() == bids and feed.book("BTC/USDT").top_asks() == asks
    finally:
        sim.resume()
        await feed.close()


async def test_a_refusal_from_the_start_is_not_retried(sim):
    events: list = []
    sim.block("spot.trades:ETH_USDT", "gateio-spot")
    feed = _feed(sim.ws_url("gateio-spot"), sim, events)
    try:
        acks = await feed.start()
        assert [(a.sub.channel, a.sub.venue_symbol, a.status) for a in acks if not a.ok] == [("trades", "ETH_USDT", "refused")]
        sim.block("", "gateio-spot")
        sim.drop_connections()
        conn = feed.connections[0]
        assert await wait_until(lambda: conn.stats.connects == 2 and feed.synced("ETH/USDT"), 5)
        assert not any(s.channel == "trades" and s.venue_symbol == "ETH_USDT" for s in conn.subscriptions)
        assert not any(isinstance(e, StreamStatus) and e.status == "refused" for e in events)
    finally:
        await feed.close()


async def test_a_handshake_cut_by_a_reset_is_a_failed_attempt(sim):
    assert connect_failure(HandshakeClosed("x")) == ("handshake", None)
    events: list = []
    async with FaultProxy("127.0.0.1", sim.port) as proxy:
        feed = _feed(proxy.url(sim.ws_url("gateio-spot")), sim, events)
        try:
            await feed.start()
            assert await wait_until(lambda: feed.synced("BTC/USDT"), 5)
            conn = feed.connections[0]
            proxy.cut_handshakes = 2
            await proxy.reset()
            assert await wait_until(lambda: conn.connected and feed.synced("BTC/USDT") and conn.stats.connects == 2, 5)
            states = [(e.status, e.reason) for e in events if isinstance(e, ConnectionStatus) and e.connection != "rest"]
            assert states[-7:] == [("reconnecting", "dropped"), ("connecting", ""), ("failed", "handshake"), ("connecting", ""),
                                   ("failed", "handshake"), ("connecting", ""), ("connected", "")]
            assert conn.stats.connect_failures == 2
        finally:
            await feed.close()


async def test_fills_a_silent_venue_never_pushed_are_found_by_the_periodic_reconcile():
    server = SimServer(rate=2, venues=["gateio-spot"])
    await server.start()
    p = server.venues["gateio-spot"].private
    await p.act("deposit", currency="USDT", amount="100000")
    events: list = []
    account = await open_account(server, "gateio-spot", events, reconcile_interval=0.5)
    try:
        placed = await p.act("place", pair="BTC_USDT", side="buy", amount="0.1", price="50000")
        await settle(account)
        # the venue stops pushing (pings still answered) while the order fills
        server.mute(3.0, "gateio-spot")
        await p.act("fill", order_id=placed["order_id"], amount="0.04")
        trade_ids = {str(t.id) for t in p.ledger().trades}
        assert await wait_until(lambda: trade_ids <= set(account.state.fills), 3)
        fills = [e.trade_id for e in events if isinstance(e, Fill)]
        assert sorted(fills) == sorted(trade_ids)  # published once
        assert account.open_orders()[placed["order_id"]].filled == Decimal("0.04")
        reasons = [e.reason for e in events if isinstance(e, AccountStatus) and e.status == "reconciling"]
        assert "periodic" in reasons and account.connection.stats.connects == 1
    finally:
        await account.close()
        await server.stop()


async def test_no_periodic_reconcile_when_switched_off():
    server = SimServer(rate=2, venues=["gateio-spot"])
    await server.start()
    events: list = []
    account = await open_account(server, "gateio-spot", events, reconcile_interval=None)
    try:
        syncs = account.syncs
        await asyncio.sleep(0.6)
        assert account.syncs == syncs and account.status == "live"
    finally:
        await account.close()
        await server.stop()
