"""End to end: the Feed (picows network core + Gate spot handler) against the loopback
simulator over real sockets. Books are compared level by level with the simulator's own book."""

from __future__ import annotations

import asyncio

import pytest

from cexfeed.feed import Feed
from cexfeed.models import BestBidOffer, BookStatus, BookUpdate, EventsDropped, Kline, Ticker, Trade, VenueError
from cexfeed.net import Backoff
from cexfeed.sim import SimServer
from cexfeed.sim.testing import sim_levels, sim_update_id, wait_until

SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]


@pytest.fixture
async def sim():
    server = SimServer(seed=5, rate=40, venues=["gateio-spot"])
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


def make_feed(sim, rec, channels=("book", "trades", "bbo", "ticker"), symbols=SYMBOLS, **kwargs):
    kwargs.setdefault("reconnect_backoff", lambda: Backoff(initial=0.05, cap=0.5))
    return Feed(
        "gateio-spot",
        symbols,
        list(channels),
        url=sim.ws_url("gateio-spot"),
        rest_url=sim.rest_url("gateio-spot"),
        on_event=rec,
        **kwargs,
    )


async def settle_and_compare(sim, feed, symbols=SYMBOLS):
    """Pause the market, let the client catch up, and compare every level exactly."""
    sim.pause()
    ok = await wait_until(
        lambda: all(feed.synced(s) and feed.book(s).last_update_id == sim_update_id(sim, s) for s in symbols), 5.0
    )
    assert ok, {s: (feed.synced(s), feed.book(s).last_update_id, sim_update_id(sim, s)) for s in symbols}
    for symbol in symbols:
        bids, asks = sim_levels(sim, symbol)
        book = feed.book(symbol)
        assert book.top_bids() == bids, symbol
        assert book.top_asks() == asks, symbol
        assert not book.crossed()


async def test_every_channel_delivers_the_simulated_values(sim):
    rec = Recorder()
    feed = make_feed(sim, rec, channels=("book", "trades", "bbo", "ticker", "kline"), symbols=["BTC/USDT", "ETH/USDT"])
    try:
        acks = await feed.start()
        assert len(acks) == 10 and all(a.ok and a.status == "acked" for a in acks)
        assert await wait_until(lambda: rec.of(Kline, "BTC/USDT") and rec.of(Ticker, "ETH/USDT") and rec.of(Trade, "BTC/USDT"), 5.0)
        await settle_and_compare(sim, feed, ["BTC/USDT", "ETH/USDT"])
        await asyncio.sleep(0.1)
        btc = sim.market.books["BTC/USDT"]

        bbo = rec.of(BestBidOffer, "BTC/USDT")[-1]
        bid, ask = btc.best_bid(), btc.best_ask()
        assert (bbo.bid_price, bbo.bid_size) == (float(btc.price_str(bid[0])), float(btc.size_str(bid[1])))
        assert (bbo.ask_price, bbo.ask_size) == (float(btc.price_str(ask[0])), float(btc.size_str(ask[1])))
        assert bbo.venue_symbol == "BTC_USDT" and bbo.market == "spot" and bbo.venue == "gateio"

        trade = rec.of(Trade, "BTC/USDT")[-1]
        assert trade.price == float(btc.price_str(btc.last))
        assert trade.side in ("buy", "sell") and trade.size > 0 and int(trade.trade_id) > 500_000_000

        # tickers come every second: wait for one built after the pause
        n = len(rec.of(Ticker, "BTC/USDT"))
        assert await wait_until(lambda: len(rec.of(Ticker, "BTC/USDT")) > n, 2.5)
        ticker = rec.of(Ticker, "BTC/USDT")[-1]
        assert ticker.last == float(btc.price_str(btc.last))
        assert (ticker.best_bid, ticker.best_ask) == (bbo.bid_price, bbo.ask_price)
        assert ticker.high_24h == float(btc.price_str(btc.high)) and ticker.low_24h == float(btc.price_str(btc.low))

        kline = rec.of(Kline, "BTC/USDT")[-1]
        assert kline.interval == "1m" and kline.open_ts % 60_000 == 0
        assert kline.open == float(btc.price_str(btc.open_)) and kline.low <= kline.close <= kline.high

        snapshot = [e for e in rec.of(BookUpdate, "ETH/USDT") if e.snapshot][0]
        assert snapshot.first_update_id == snapshot.last_update_id and len(snapshot.bids) == 20
        assert rec.statuses("ETH/USDT") == [("synced", "snapshot")]
        assert feed.stats()["errors"] == {}
    finally:
        await feed.close()


async def test_reconnect_resubscribes_and_resyncs_books(sim):
    rec = Recorder()
    feed = make_feed(sim, rec)
    try:
        await feed.start()
        assert await wait_until(lambda: all(feed.synced(s) for s in SYMBOLS), 5.0)
        assert sim.drop_connections() == 1
        conn = feed.connections[0]
        assert await wait_until(lambda: conn.stats.connects == 2 and all(feed.synced(s) for s in SYMBOLS), 5.0)
        for symbol in SYMBOLS:
            assert rec.statuses(symbol) == [("synced", "snapshot"), ("resyncing", "reconnect"), ("synced", "snapshot")]
        # only the current set was replayed: 12 subscriptions on each socket, all acked
        assert conn.stats.acks_ok == 24 and len(conn.subscriptions) == 12
        session = next(iter(sim.venues["gateio-spot"].sessions))
        assert {ch: sorted(p) for ch, p in session.subs.items()} == {
            ch: ["BTC_USDT", "ETH_USDT", "SOL_USDT"]
            for ch in ("spot.order_book_update", "spot.trades", "spot.book_ticker", "spot.tickers")
        }
        await settle_and_compare(sim, feed)
    finally:
        await feed.close()


async def test_id_gap_resyncs_only_that_symbol_once(sim):
    rec = Recorder()
    feed = make_feed(sim, rec, channels=("book", "bbo"))
    try:
        await feed.start()
        assert await wait_until(lambda: all(feed.synced(s) for s in SYMBOLS), 5.0)
        btc_updates_before = len(rec.of(BookUpdate, "BTC/USDT"))
        sim.skip_update("ETH/USDT")
        assert await wait_until(lambda: ("resyncing", "gap") in rec.statuses("ETH/USDT"), 3.0)
        assert await wait_until(lambda: feed.synced("ETH/USDT"), 3.0)
        await asyncio.sleep(0.5)
        assert rec.statuses("ETH/USDT") == [("synced", "snapshot"), ("resyncing", "gap"), ("synced", "snapshot")]
        for other in ("BTC/USDT", "SOL/USDT"):
            assert rec.statuses(other) == [("synced", "snapshot")]
            assert feed.sequencer(other).resyncs == 0
        assert feed.sequencer("ETH/USDT").resyncs == 1 and feed.sequencer("ETH/USDT").gaps == 1
        # BTC kept streaming meanwhile
        assert len(rec.of(BookUpdate, "BTC/USDT")) > btc_updates_before + 5
        assert feed.stats()["errors"] == {"book_gap": 1}
        await settle_and_compare(sim, feed)
    finally:
        await feed.close()


async def test_bad_frames_are_counted_and_skipped(sim):
    rec = Recorder()
    feed = make_feed(sim, rec, channels=("book", "trades"), symbols=["BTC/USDT"])
    try:
        await feed.start()
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 5.0)
        assert await sim.send_malformed() == 1
        assert await sim.send_unknown_channel() == 1
        assert await sim.send_error_frame() == 1
        n = len(rec.of(BookUpdate, "BTC/USDT"))
        assert await wait_until(lambda: len(rec.of(BookUpdate, "BTC/USDT")) > n + 5, 3.0)
        errors = feed.stats()["errors"]
        assert errors == {"malformed": 1, "unknown_channel": 1, "venue_error": 1}
        venue_errors = rec.of(VenueError)
        assert [(e.code, e.message) for e in venue_errors] == [(3, "Server side error happened")]
        assert feed.connections[0].stats.connects == 1
        assert rec.statuses("BTC/USDT") == [("synced", "snapshot")]
        await settle_and_compare(sim, feed, ["BTC/USDT"])
    finally:
        await feed.close()


async def test_silent_venue_trips_the_watchdog(sim):
    rec = Recorder()
    feed = make_feed(sim, rec, channels=("book",), symbols=["BTC/USDT"], no_data_timeout=0.8, ping_interval=0.2)
    try:
        await feed.start()
        conn = feed.connections[0]
        assert await wait_until(lambda: feed.synced("BTC/USDT") and conn.stats.pongs >= 1, 5.0)
        assert sim.go_silent(30.0) == 1
        assert await wait_until(lambda: conn.stats.watchdog_drops == 1, 3.0)
        assert await wait_until(lambda: conn.stats.connects == 2 and feed.synced("BTC/USDT"), 5.0)
        assert rec.statuses("BTC/USDT") == [("synced", "snapshot"), ("resyncing", "reconnect"), ("synced", "snapshot")]
        assert "no frame for" in conn.last_error
        await settle_and_compare(sim, feed, ["BTC/USDT"])
    finally:
        await feed.close()


async def test_refused_subscription_is_an_error_event_not_a_hang(sim):
    rec = Recorder()
    feed = make_feed(sim, rec, channels=("trades", "book"), symbols=["BTC/USDT", "NOPE/USDT"], load_symbols=False)
    try:
        acks = await feed.start(timeout=5.0)
        refused = [a for a in acks if not a.ok]
        assert sorted((a.sub.channel, a.sub.venue_symbol, a.status) for a in refused) == [
            ("book", "NOPE_USDT", "refused"),
            ("trades", "NOPE_USDT", "refused"),
        ]
        assert {e.message for e in rec.of(VenueError)} == {"unknown currency pair NOPE_USDT"}
        assert await wait_until(lambda: feed.synced("BTC/USDT") and rec.of(Trade, "BTC/USDT"), 5.0)
        conn = feed.connections[0]
        # refused subscriptions are not replayed after a reconnect
        sim.drop_connections()
        assert await wait_until(lambda: conn.stats.connects == 2 and feed.synced("BTC/USDT"), 5.0)
        assert conn.stats.acks_refused == 2 and conn.stats.acks_ok == 4
    finally:
        await feed.close()


async def test_unacked_subscription_times_out_as_error_event(sim):
    rec = Recorder()
    feed = make_feed(sim, rec, channels=("trades",), symbols=["BTC/USDT"], ack_timeout=0.4, no_data_timeout=30.0)
    try:
        await feed.start()
        sim.go_silent(2.0)
        results = await feed.subscribe(["ETH/USDT"], ["trades"])
        assert [(r.status, r.ok) for r in results] == [("timeout", False)]
        errors = rec.of(VenueError, "ETH/USDT")
        assert len(errors) == 1 and errors[0].code == -1 and "no ack for subscribe trades ETH_USDT" in errors[0].message
        assert feed.connections[0].stats.ack_timeouts == 1
    finally:
        await feed.close()


async def test_snapshot_failures_are_retried_while_deltas_buffer(sim):
    rec = Recorder()
    sim.fail_snapshots(5)
    feed = make_feed(sim, rec, channels=("book",), symbols=["SOL/USDT"])
    try:
        await feed.start()
        assert await wait_until(lambda: feed.synced("SOL/USDT"), 8.0)
        # the REST client tries 4 times per fetch: one failed fetch, then a retried one succeeds
        assert feed.connections[0].stats.snapshot_errors == 1
        assert feed.rest.failures == 5
        assert rec.statuses("SOL/USDT") == [("synced", "snapshot")]
        await settle_and_compare(sim, feed, ["SOL/USDT"])
    finally:
        await feed.close()


async def test_pool_shards_over_the_subscription_cap(sim):
    rec = Recorder()
    feed = make_feed(sim, rec, channels=("book", "trades"), max_subscriptions=2)
    try:
        acks = await feed.start()
        assert all(a.ok for a in acks) and len(acks) == 6
        assert len(feed.connections) == 3
        assert sorted(len(c.subscriptions) for c in feed.connections) == [2, 2, 2]
        # a symbol's streams share a socket
        for conn in feed.connections:
            assert len({s.venue_symbol for s in conn.subscriptions}) == 1
        assert await wait_until(lambda: all(feed.synced(s) for s in SYMBOLS), 5.0)
        assert len(sim.venues["gateio-spot"].sessions) == 3
        feed.connections[1].drop()
        assert await wait_until(lambda: feed.connections[1].stats.connects == 2, 3.0)
        assert [c.stats.connects for c in feed.connections] == [1, 2, 1]
        await settle_and_compare(sim, feed)
    finally:
        await feed.close()


async def test_venue_close_frame_and_upgrade_notice_reconnect(sim):
    rec = Recorder()
    feed = make_feed(sim, rec, channels=("book", "trades"), symbols=["BTC/USDT"])
    try:
        await feed.start()
        conn = feed.connections[0]
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 5.0)
        assert await sim.close_connections(1012) == 1
        assert await wait_until(lambda: conn.stats.connects == 2 and feed.synced("BTC/USDT"), 5.0)
        assert await sim.send_upgrade_notice() == 1
        assert await wait_until(lambda: conn.stats.connects == 3 and feed.synced("BTC/USDT"), 5.0)
        assert rec.statuses("BTC/USDT") == [("synced", "snapshot")] + [("resyncing", "reconnect"), ("synced", "snapshot")] * 2
        assert feed.stats()["errors"] == {}
        await settle_and_compare(sim, feed, ["BTC/USDT"])
    finally:
        await feed.close()


async def test_event_queue_drops_oldest_and_counts(sim):
    feed = Feed("gateio-spot", ["BTC/USDT"], ["book", "bbo"], url=sim.ws_url("gateio-spot"),
                rest_url=sim.rest_url("gateio-spot"), queue_size=5)
    try:
        await feed.start()
        # the first ones dropped are the connection's status events, then book updates
        assert await wait_until(lambda: feed.stats()["dropped"] > 10, 5.0)
        stats = feed.stats()
        assert stats["queued"] == 5 and stats["events"] == stats["dropped"] + 5
        received = []
        async for event in feed.events():
            received.append(event)
            if len(received) == 20:
                break
        # issue #10 item 15: the first event read says what was dropped before it
        notice = received[0]
        assert isinstance(notice, EventsDropped) and notice.count >= stats["dropped"] and notice.books == ["BTC/USDT"]
        assert all(e.symbol == "BTC/USDT" for e in received[1:] if not isinstance(e, EventsDropped))
        # unsubscribe the book: no more book events afterwards
        results = await feed.unsubscribe(["BTC/USDT"], ["book"])
        assert [r.ok for r in results] == [True] and feed.book("BTC/USDT") is None
        # a reconnect replays the current set only: bbo, not the unsubscribed book
        sim.drop_connections()
        conn = feed.connections[0]
        assert await wait_until(lambda: conn.stats.connects == 2 and conn.stats.acks_ok == 4, 3.0)
        session = next(iter(sim.venues["gateio-spot"].sessions))
        assert {ch: p for ch, p in session.subs.items() if p} == {"spot.book_ticker": {"BTC_USDT"}}
        assert session.received == 1
    finally:
        await feed.close()


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
async def test_dropped_events_notice_comes_first_with_the_books_to_read_again(architecture):
    """Issue #10 item 15, the policy itself (no network): the oldest events go, the next event
    read is preceded by one EventsDropped with their count and the books among them."""
    from cexfeed.compat import open_feed

    feed = open_feed("gateio-spot", ["BTC/USDT", "ETH/USDT"], ["book", "trades"], architecture=architecture,
                     url="ws://127.0.0.1:9/ws/v4/", rest_url="http://127.0.0.1:9/api/v4", queue_size=3)
    head = dict(venue="gateio", market="spot", exchange_ts=1, recv_ts=2)
    for i in range(6):
        feed._dispatch(BookUpdate(symbol="BTC/USDT", venue_symbol="BTC_USDT", bids=[(1.0, float(i))], asks=[], snapshot=False,
                                  first_update_id=i, last_update_id=i, **head))
        feed._dispatch(Trade(symbol="ETH/USDT", venue_symbol="ETH_USDT", price=2.0, size=1.0, side="buy", trade_id=str(i), **head))
    events = feed.events()
    notice = await events.__anext__()
    assert isinstance(notice, EventsDropped) and (notice.count, notice.total, notice.books) == (9, 9, ["BTC/USDT"])
    kept = [await events.__anext__() for _ in range(3)]
    assert [type(e).__name__ for e in kept] == ["Trade", "BookUpdate", "Trade"] and kept[1].last_update_id == 5
    assert feed.stats()["dropped"] == 9 and feed._lost == 0
    await feed.close()
