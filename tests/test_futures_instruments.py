"""Issue #10 item 1: futures sizes when the contract list cannot be fetched. The feed keeps
retrying the list (capped backoff + jitter), holds the size-bearing pushes of contracts without
a known multiplier until it arrives (never a contract count as a base-currency size) and tells
the consumer (status events + log lines); on both architectures, against the simulator."""

from __future__ import annotations

import logging

import pytest

from cexfeed.compat import open_feed
from cexfeed.models import BookUpdate, ConnectionStatus, StreamStatus, Trade
from cexfeed.net import Backoff
from cexfeed.sim import SimServer
from cexfeed.sim.testing import sim_levels, sim_update_id, wait_until

SYMBOLS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
MULTIPLIER = {"BTC_USDT": 0.0001, "ETH_USDT": 0.01}


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
async def test_sizes_held_until_the_contract_list_arrives(architecture, caplog):
    sim = SimServer(seed=12, rate=30, venues=["gateio-perp"])
    await sim.start()
    # the first start call (4 attempts) and 3 background retries fail
    sim.fail_instruments(7)
    events: list = []
    feed = open_feed("gateio-perp", SYMBOLS, ["book", "trades"], architecture=architecture, url=sim.ws_url("gateio-perp"),
                     rest_url=sim.rest_url("gateio-perp"), on_event=events.append, instrument_retry=lambda: Backoff(initial=0.3, cap=0.6))
    caplog.set_level(logging.INFO, logger="cexfeed")
    try:
        assert all(r.ok for r in await feed.start())
        assert not feed.listed
        rest = [e for e in events if isinstance(e, ConnectionStatus) and e.connection == "rest"]
        assert rest and (rest[0].status, rest[0].reason) == ("failed", "http_500") and rest[0].url == sim.rest_url("gateio-perp")
        assert "instrument list unavailable" in caplog.text and "futures sizes held" in caplog.text
        # pushes arrive, nothing with a size goes out: each contract is held, and said so
        assert await wait_until(lambda: {e.venue_symbol for e in events if isinstance(e, StreamStatus) and e.status == "held"} == set(MULTIPLIER), 8.0)
        assert not any(isinstance(e, (Trade, BookUpdate)) for e in events)
        assert "sizes held until the contract list gives its multiplier" in caplog.text
        # the list arrives (retried in the background): released, then base sizes only
        assert await wait_until(lambda: feed.listed and all(feed.synced(s) for s in SYMBOLS), 15.0)
        released = [e for e in events if isinstance(e, StreamStatus) and e.status == "released"]
        assert {e.venue_symbol for e in released} == set(MULTIPLIER)
        assert any(isinstance(e, ConnectionStatus) and e.connection == "rest" and e.status == "connected" for e in events)
        assert await wait_until(lambda: any(isinstance(e, Trade) for e in events), 8.0)
        for trade in (e for e in events if isinstance(e, Trade)):
            assert trade.size == float(f"{trade.contracts * MULTIPLIER[trade.venue_symbol]:.10g}"), trade
        # the books equal the simulator's in base currency
        sim.pause()
        assert await wait_until(lambda: all(feed.book(s).last_update_id == sim_update_id(sim, s.split(":")[0]) for s in SYMBOLS), 8.0)
        for symbol in SYMBOLS:
            bids, asks = sim_levels(sim, symbol.split(":")[0])
            book = feed.book(symbol)
            assert book.top_bids() == bids[: len(book.top_bids())] and book.top_asks() == asks[: len(book.top_asks())]
    finally:
        sim.resume()
        await feed.close()
        await sim.stop()


async def test_contract_list_given_later_by_hand_releases_the_held_pushes():
    """``load_symbols=False``: nothing sized goes out until ``feed.set_symbols`` gives the list."""
    import aiohttp

    from cexfeed.exchanges.gateio.contracts import futures_symbol_map
    from cexfeed.feed import Feed

    async with SimServer(seed=13, rate=30, venues=["gateio-perp"]) as sim:
        events: list = []
        feed = Feed("gateio-perp", ["BTC/USDT:USDT"], ["book", "trades"], url=sim.ws_url("gateio-perp"),
                    rest_url=sim.rest_url("gateio-perp"), on_event=events.append, load_symbols=False)
        try:
            await feed.start()
            assert await wait_until(lambda: any(isinstance(e, StreamStatus) and e.status == "held" for e in events), 5.0)
            assert not any(isinstance(e, (Trade, BookUpdate)) for e in events)
            async with aiohttp.ClientSession() as http, http.get(sim.rest_url("gateio-perp") + "/futures/usdt/contracts") as resp:
                feed.set_symbols(futures_symbol_map(await resp.read()))
            assert await wait_until(lambda: feed.synced("BTC/USDT:USDT"), 8.0)
            assert any(isinstance(e, StreamStatus) and e.status == "released" for e in events)
        finally:
            await feed.close()
