"""End to end: Feed (picows core + MEXC spot handler) against the simulated MEXC venue over
real loopback sockets: 12 symbols x (depth, deals, book ticker) = 36 channels, so the 30-per-
connection cap needs two connections; a dropped connection and a version gap recover on their
own, and the books equal the simulator's level for level."""

from __future__ import annotations

import asyncio

import pytest

from cexfeed.feed import Feed
from cexfeed.models import BestBidOffer, BookStatus, BookUpdate, Trade, VenueError
from cexfeed.net import Backoff
from cexfeed.sim import SimServer, SymbolSpec
from cexfeed.sim.testing import sim_levels, sim_update_id, wait_until

BASES = ["BTC", "ETH", "SOL", "DOGE", "XRP", "ADA", "LTC", "DOT", "LINK", "AVAX", "TRX", "BNB"]
SYMBOLS = [f"{b}/USDT" for b in BASES]
SPECS = [SymbolSpec(s, 100.0 + 37 * i, 0.01, 2, 0.001, 3) for i, s in enumerate(SYMBOLS)]


@pytest.fixture
async def sim():
    server = SimServer(symbols=SPECS, seed=11, rate=8, venues=["mexc-spot"])
    await server.start()
    yield server
    await server.stop()


class Recorder:
    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def of(self, kind, symbol=None):
        return [e for e in self.events if isinstance(e, kind) and (symbol is None or e.symbol == symbol)]

    def statuses(self, symbol):
        return [(e.status, e.reason) for e in self.of(BookStatus, symbol)]


def make_feed(sim, rec, symbols=SYMBOLS, channels=("book", "trades", "bbo"), **kwargs):
    kwargs.setdefault("reconnect_backoff", lambda: Backoff(initial=0.05, cap=0.5))
    return Feed("mexc-spot", symbols, list(channels), url=sim.ws_url("mexc-spot"), rest_url=sim.rest_url("mexc-spot"), on_event=rec, **kwargs)


async def settle_and_compare(sim, feed, symbols=SYMBOLS):
    sim.pause()
    try:
        ok = await wait_until(lambda: all(feed.synced(s) and feed.book(s).last_update_id == sim_update_id(sim, s) for s in symbols), 8.0)
        assert ok, {s: (feed.synced(s), feed.book(s) and feed.book(s).last_update_id, sim_update_id(sim, s)) for s in symbols}
        for symbol in symbols:
            bids, asks = sim_levels(sim, symbol)
            book = feed.book(symbol)
            assert book.top_bids() == bids, symbol
            assert book.top_asks() == asks, symbol
            assert not book.crossed()
    finally:
        sim.resume()


async def test_36_channels_two_connections_drop_and_gap_recover(sim):
    rec = Recorder()
    feed = make_feed(sim, rec)
    try:
        acks = await feed.start(timeout=20)
        assert len(acks) == 36 and all(a.ok and a.status == "acked" for a in acks), [a for a in acks if not a.ok]
        conns = feed.connections
        assert len(conns) == 2 and sorted(len(c.subscriptions) for c in conns) == [6, 30]
        venue = sim.venues["mexc-spot"]
        assert sorted(len(s.subs["channels"]) for s in venue.sessions) == [6, 30]
        # each symbol's three streams share one connection (its handler owns the book)
        for conn in conns:
            held = {s.venue_symbol for s in conn.subscriptions}
            assert all({(ch, sym) for ch in ("book", "trades", "bbo")} <= {(s.channel, s.venue_symbol) for s in conn.subscriptions} for sym in held)
        assert await wait_until(lambda: all(feed.synced(s) for s in SYMBOLS), 10.0)
        assert await wait_until(lambda: all(rec.of(Trade, s) for s in SYMBOLS[:3]) and rec.of(BestBidOffer, "BTC/USDT"), 10.0)
        await settle_and_compare(sim, feed)

        # values as the venue sent them
        trade = rec.of(Trade, "ETH/USDT")[-1]
        assert trade.venue == "mexc" and trade.venue_symbol == "ETHUSDT" and trade.side in ("buy", "sell")
        assert trade.size > 0 and trade.trade_id.endswith("X0") and trade.exchange_ts > 1_700_000_000_000
        bbo = rec.of(BestBidOffer, "BTC/USDT")[-1]
        assert bbo.bid_price < bbo.ask_price and bbo.update_id is not None

        # 1) every connection dropped: both reconnect, replay their own set and resync
        assert sim.drop_connections() == 2
        assert await wait_until(lambda: all(c.stats.connects == 2 for c in conns) and all(feed.synced(s) for s in SYMBOLS), 10.0)
        for symbol in SYMBOLS:
            statuses = rec.statuses(symbol)
            assert statuses[0] == ("synced", "snapshot") and ("resyncing", "reconnect") in statuses and statuses[-1] == ("synced", "snapshot")
        assert sorted(len(s.subs["channels"]) for s in venue.sessions) == [6, 30]
        await settle_and_compare(sim, feed)

        # 2) a version gap on one symbol: only that symbol resyncs
        before = {s: len(rec.statuses(s)) for s in SYMBOLS}
        sim.skip_update("SOL/USDT")
        assert await wait_until(lambda: ("resyncing", "gap") in rec.statuses("SOL/USDT"), 10.0)
        assert await wait_until(lambda: rec.statuses("SOL/USDT")[-1] == ("synced", "snapshot"), 10.0)
        await settle_and_compare(sim, feed)
        for symbol in SYMBOLS:
            if symbol != "SOL/USDT":
                assert len(rec.statuses(symbol)) == before[symbol], symbol
        assert feed.stats()["errors"].get("book_gap", 0) == 1
    finally:
        await feed.close()


async def test_blocked_channel_and_bad_frames_do_not_stop_the_stream(sim):
    rec = Recorder()
    venue = sim.venues["mexc-spot"]
    venue.blocked.add("spot@public.aggre.deals.v3.api.pb@100ms@ETHUSDT")
    feed = make_feed(sim, rec, symbols=["BTC/USDT", "ETH/USDT"], channels=("book", "trades"))
    try:
        acks = await feed.start(timeout=10)
        refused = [a for a in acks if not a.ok]
        assert len(refused) == 1 and refused[0].status == "refused" and "Blocked" in refused[0].message
        errors = rec.of(VenueError)
        assert len(errors) == 1 and errors[0].code == 0 and errors[0].channel == "spot@public.aggre.deals.v3.api.pb@100ms@ETHUSDT"
        assert errors[0].symbol == "ETH/USDT"
        assert await wait_until(lambda: feed.synced("BTC/USDT") and feed.synced("ETH/USDT"), 10.0)
        for frame in (venue.garbage_frame(), venue.truncated_frame(), venue.unknown_body_frame()):
            assert await venue.broadcast(frame) == 1
        await sim.send_malformed()
        n = len(rec.of(BookUpdate, "BTC/USDT"))
        assert await wait_until(lambda: len(rec.of(BookUpdate, "BTC/USDT")) > n + 3, 5.0)
        errors = feed.stats()["errors"]
        assert errors["malformed"] == 2 and errors["truncated"] == 1 and errors["unknown_body"] == 1
        await settle_and_compare(sim, feed, ["BTC/USDT", "ETH/USDT"])
        assert feed.connections[0].stats.pongs >= 0
    finally:
        await feed.close()


async def test_server_side_cap_answers_not_effective_beyond_30(sim):
    rec = Recorder()
    # the client told to put 33 on one socket: the venue takes 30 and answers "" for the rest
    feed = make_feed(sim, rec, symbols=SYMBOLS[:11], channels=("book", "trades", "bbo"), max_subscriptions=40, ack_timeout=1.0)
    try:
        acks = await feed.start(timeout=10)
        assert len(feed.connections) == 1
        assert sum(a.ok for a in acks) == 30 and len(acks) == 33
        assert all(a.status in ("refused", "timeout") for a in acks if not a.ok)
        assert feed.stats()["errors"].get("empty_ack", 0) == 3
    finally:
        await feed.close()


async def test_ping_pong_and_rest_symbols(sim):
    rec = Recorder()
    feed = make_feed(sim, rec, symbols=["BTC/USDT"], channels=("bbo",), ping_interval=0.1)
    try:
        await feed.start(timeout=10)
        conn = feed.connections[0]
        assert await wait_until(lambda: conn.stats.pongs >= 2, 5.0)
        assert feed.symbol_map.instrument("BTCUSDT").tick_size == 0.01
        assert feed.symbol_map.unified("DOGEUSDT") == "DOGE/USDT"
        await asyncio.sleep(0)
    finally:
        await feed.close()
