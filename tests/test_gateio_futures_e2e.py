"""End to end over real loopback sockets: the Feed (network core + handlers) against the
simulator, Gate spot and USDT futures streams at once; a gap on one futures symbol is resynced
without touching the other symbols or the spot stream."""

from __future__ import annotations

import asyncio

import pytest

from cexfeed.exchanges.gateio.futures_protocol import GateioFuturesProtocol
from cexfeed.feed import Feed
from cexfeed.models import BookStatus, FundingRate, MarkPrice, Trade
from cexfeed.sim import SimServer

SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
PERP = [s + ":USDT" for s in SYMBOLS]


async def wait_until(predicate, timeout=8.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def sim_book(sim, symbol, n=20, venue="gateio-perp"):
    book = sim.market_of(venue).books[symbol]
    bids = [(float(book.price_str(p)), float(book.size_str(s))) for p, s in book.top_bids(n)]
    asks = [(float(book.price_str(p)), float(book.size_str(s))) for p, s in book.top_asks(n)]
    return bids, asks


async def settled(sim, feeds):
    """Pause the market and wait until every book caught up with the simulator's id."""
    sim.pause()
    await asyncio.sleep(0.05)
    for feed, symbols in feeds:
        for symbol in symbols:
            unified = symbol.split(":")[0]
            target = sim.market_of(feed.venue).books[unified].update_id
            ok = await wait_until(lambda: feed.synced(symbol) and feed.book(symbol).last_update_id == target)
            assert ok, (feed.venue, symbol, feed.stats()["books"].get(symbol), target)


@pytest.fixture
async def sim():
    server = SimServer(seed=11, rate=30, venues=["gateio-spot", "gateio-perp"])
    await server.start()
    yield server
    await server.stop()


async def test_spot_and_futures_at_once_gap_on_one_futures_symbol(sim):
    spot_events: list = []
    perp_events: list = []
    spot = Feed("gateio-spot", SYMBOLS, ["book", "trades"], url=sim.ws_url("gateio-spot"), rest_url=sim.rest_url("gateio-spot"), on_event=spot_events.append)
    perp = Feed("gateio-perp", PERP, ["book", "trades", "ticker"], url=sim.ws_url("gateio-perp"), rest_url=sim.rest_url("gateio-perp"),
                on_event=perp_events.append, protocol_options={"book_level": 20})
    try:
        assert all(r.ok for r in await spot.start())
        assert all(r.ok for r in await perp.start())
        assert perp.protocol.headers == {"X-Gate-Size-Decimal": "1"}
        assert perp.symbol_map.instrument("ETH_USDT").contract_multiplier == 0.01
        assert await wait_until(lambda: all(perp.synced(s) for s in PERP) and all(spot.synced(s) for s in SYMBOLS))
        # the REST snapshots carried the header too
        assert sim.venues["gateio-perp"].last_rest_header is True

        sim.skip_update("ETH/USDT", venue="gateio-perp")
        assert await wait_until(lambda: any(isinstance(e, BookStatus) and e.reason == "gap" for e in perp_events))
        assert await wait_until(lambda: perp.sequencer("ETH/USDT:USDT").resyncs == 1 and perp.synced("ETH/USDT:USDT"))
        await asyncio.sleep(0.3)
        await settled(sim, [(spot, SYMBOLS), (perp, PERP)])

        # only the futures ETH book resynced
        assert perp.sequencer("ETH/USDT:USDT").snapshots == 2
        for s in ("BTC/USDT:USDT", "SOL/USDT:USDT"):
            assert perp.sequencer(s).resyncs == 0 and perp.sequencer(s).snapshots == 1
        for s in SYMBOLS:
            assert spot.sequencer(s).resyncs == 0
        gaps = [e for e in perp_events if isinstance(e, BookStatus) and e.status == "resyncing"]
        assert [(e.symbol, e.reason) for e in gaps] == [("ETH/USDT:USDT", "gap")]
        assert not any(isinstance(e, BookStatus) and e.status == "resyncing" for e in spot_events)

        # every book equals the simulator's, futures sizes in base currency (contracts x multiplier)
        for symbol in SYMBOLS:
            bids, asks = sim_book(sim, symbol, venue="gateio-spot")
            assert spot.book(symbol).top_bids() == bids and spot.book(symbol).top_asks() == asks, symbol
            bids, asks = sim_book(sim, symbol)
            fut = perp.book(symbol + ":USDT")
            assert fut.top_bids() == bids and fut.top_asks() == asks, symbol

        trades = [e for e in perp_events if isinstance(e, Trade)]
        assert {t.side for t in trades} == {"buy", "sell"}
        eth = [t for t in trades if t.venue_symbol == "ETH_USDT"]
        assert eth and all(t.size == float(f"{t.contracts * 0.01:.6f}") for t in eth)
        # ticker pushes (every 1 s in the simulator; the market is paused, the timer is not)
        assert await wait_until(lambda: any(isinstance(e, FundingRate) for e in perp_events) and any(isinstance(e, MarkPrice) for e in perp_events), timeout=5)
        funding = [e for e in perp_events if isinstance(e, FundingRate)]
        assert all(e.rate in (0.0001, 0.000105) for e in funding)
        assert all(e.predicted_rate in (None, 0.00012) for e in funding)
        stats = perp.stats()
        assert stats["errors"].get("malformed", 0) == 0 and stats["errors"].get("no_multiplier", 0) == 0
    finally:
        sim.resume()
        await spot.close()
        await perp.close()


async def test_obu_feed_gap_resubscribes_only_that_stream(sim):
    events: list = []
    protocol = GateioFuturesProtocol(sim.ws_url("gateio-perp"), sim.rest_url("gateio-perp"))
    feed = Feed("gateio-perp", PERP, ["book_obu", "bbo"], protocol=protocol, on_event=events.append)
    try:
        assert all(r.ok for r in await feed.start())
        assert [protocol.snapshot_via_rest(sub) for sub in feed._subs if protocol.is_book(sub)] == [False] * 3
        assert await wait_until(lambda: all(feed.synced(s) for s in PERP))
        assert sim.venues["gateio-perp"].rest_snapshots_served == 0  # snapshots came in-band
        assert feed.book("BTC/USDT:USDT").depth == 50
        # an id-only increment, a mid-stream full push, then a gap on SOL only
        sim.venues["gateio-perp"].idle_obu_delta("BTC/USDT")
        await sim.venues["gateio-perp"].resend_full("ETH/USDT")
        sim.skip_update("SOL/USDT", venue="gateio-perp")
        assert await wait_until(lambda: feed.sequencer("SOL/USDT:USDT").resyncs == 1 and feed.synced("SOL/USDT:USDT"))
        await asyncio.sleep(0.3)
        await settled(sim, [(feed, PERP)])
        assert feed.sequencer("BTC/USDT:USDT").resyncs == 0 and feed.sequencer("ETH/USDT:USDT").resyncs == 0
        assert feed.sequencer("ETH/USDT:USDT").snapshots == 2 and feed.sequencer("SOL/USDT:USDT").snapshots == 2
        resubs = sum(c.stats.resubscribes for c in feed.connections)
        assert resubs == 1
        for symbol in SYMBOLS:
            bids, asks = sim_book(sim, symbol)
            book = feed.book(symbol + ":USDT")
            assert book.top_bids() == bids and book.top_asks() == asks, symbol
        statuses = [(e.symbol, e.status, e.reason) for e in events if isinstance(e, BookStatus) and e.status != "synced"]
        assert statuses == [("SOL/USDT:USDT", "resyncing", "gap")]
    finally:
        sim.resume()
        await feed.close()


async def test_obu_unknown_stream_reported_stale(sim):
    """An obu stream of a contract the venue does not serve is acked with success and stays
    silent (pitfalls #12): the per-subscription silence check reports it. (A feed refuses such a
    symbol up front; the subscription is made on the pool directly to reach the venue.)"""
    events: list = []
    protocol = GateioFuturesProtocol(sim.ws_url("gateio-perp"), sim.rest_url("gateio-perp"), book_mode="obu")
    feed = Feed("gateio-perp", ["BTC/USDT:USDT"], ["book"], protocol=protocol, on_event=events.append,
                ping_interval=0.2, subscription_timeout=0.5)
    try:
        assert all(r.ok for r in await feed.start())
        results = await feed._pool.subscribe(protocol.subscriptions(["book"], ["NOPE_USDT"]))
        assert all(r.ok for r in results)  # the venue acks the unknown stream with success
        assert await wait_until(lambda: any(isinstance(e, BookStatus) and e.status == "stale" for e in events), timeout=5)
        stale = [e for e in events if isinstance(e, BookStatus) and e.status == "stale"]
        assert [(e.venue_symbol, e.reason) for e in stale] == [("NOPE_USDT", "no_data")]
        assert feed.synced("BTC/USDT:USDT")
    finally:
        await feed.close()


async def test_mixed_book_modes_in_one_futures_stream(sim):
    """``book`` (REST-synced) for BTC and ``book_obu`` for ETH on the same stream; gaps on both."""
    events: list = []
    feed = Feed("gateio-perp", ["BTC/USDT:USDT"], ["book", "trades"], url=sim.ws_url("gateio-perp"),
                rest_url=sim.rest_url("gateio-perp"), on_event=events.append, protocol_options={"book_level": 20})
    try:
        assert all(r.ok for r in await feed.start())
        assert all(r.ok for r in await feed.subscribe(["ETH/USDT:USDT"], ["book_obu"]))
        with pytest.raises(ValueError):
            feed.protocol.subscriptions(["book", "book_obu"], ["SOL_USDT"])
        assert await wait_until(lambda: feed.synced("BTC/USDT:USDT") and feed.synced("ETH/USDT:USDT"))
        served = sim.venues["gateio-perp"].rest_snapshots_served
        assert served == 1  # BTC only; ETH's snapshot came in-band
        assert feed.book("BTC/USDT:USDT").depth == 20 and feed.book("ETH/USDT:USDT").depth == 50
        sim.skip_update("BTC/USDT", venue="gateio-perp")
        sim.skip_update("ETH/USDT", venue="gateio-perp")
        assert await wait_until(lambda: feed.sequencer("BTC/USDT:USDT").resyncs == 1 and feed.sequencer("ETH/USDT:USDT").resyncs == 1
                                and feed.synced("BTC/USDT:USDT") and feed.synced("ETH/USDT:USDT"))
        await asyncio.sleep(0.2)
        await settled(sim, [(feed, ["BTC/USDT:USDT", "ETH/USDT:USDT"])])
        conn = feed.connections[0]
        # BTC recovered by a REST snapshot, ETH by resubscribing its obu stream
        assert sim.venues["gateio-perp"].rest_snapshots_served == 2
        assert conn.stats.resubscribes == 1
        for symbol in ("BTC/USDT", "ETH/USDT"):
            bids, asks = sim_book(sim, symbol)
            book = feed.book(symbol + ":USDT")
            assert book.top_bids() == bids and book.top_asks() == asks, symbol
    finally:
        sim.resume()
        await feed.close()


async def test_spot_obu_feed_synced_in_band_and_resubscribes_on_gap(sim):
    """Gate spot ``book_obu`` (``spot.obu``) against the simulator: in-band snapshots, a gap on
    one pair recovered by resubscribing that stream only."""
    events: list = []
    feed = Feed("gateio-spot", SYMBOLS, ["book_obu", "trades"], url=sim.ws_url("gateio-spot"),
                rest_url=sim.rest_url("gateio-spot"), on_event=events.append)
    try:
        assert all(r.ok for r in await feed.start())
        assert await wait_until(lambda: all(feed.synced(s) for s in SYMBOLS))
        assert sum(c.stats.snapshots for c in feed.connections) == 0  # snapshots came in-band
        assert feed.book("BTC/USDT").depth == 50
        sim.skip_update("ETH/USDT", venue="gateio-spot")
        assert await wait_until(lambda: feed.sequencer("ETH/USDT").resyncs == 1 and feed.synced("ETH/USDT"))
        await asyncio.sleep(0.2)
        await settled(sim, [(feed, SYMBOLS)])
        assert feed.sequencer("BTC/USDT").resyncs == 0 and feed.sequencer("SOL/USDT").resyncs == 0
        assert sum(c.stats.resubscribes for c in feed.connections) == 1
        for symbol in SYMBOLS:
            bids, asks = sim_book(sim, symbol, venue="gateio-spot")
            book = feed.book(symbol)
            assert book.top_bids() == bids and book.top_asks() == asks, symbol
        statuses = [(e.symbol, e.status, e.reason) for e in events if isinstance(e, BookStatus) and e.status != "synced"]
        assert statuses == [("ETH/USDT", "resyncing", "gap")]
    finally:
        sim.resume()
        await feed.close()
