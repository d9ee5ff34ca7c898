"""Issue #10 item 19: each simulated venue has its own market (prices and sizes differ between
venues, as on real ones), and the perpetual venue's open interest agrees with itself and with
the sizes it reports."""

from __future__ import annotations

import asyncio

import pytest

from cexfeed.feed import Feed
from cexfeed.models import OpenInterest
from cexfeed.sim import SimServer
from cexfeed.sim.testing import sim_levels, wait_until

VENUES = ["gateio-spot", "gateio-perp", "mexc-spot"]


def test_each_venue_has_its_own_prices_and_sizes():
    sim = SimServer(seed=7, venues=VENUES)
    for symbol in ("BTC/USDT", "ETH/USDT", "SOL/USDT", "DOGE/USDT"):
        tops = {venue: sim_levels(sim, symbol, 1, venue=venue) for venue in VENUES}
        bids = {venue: bids[0] for venue, (bids, _) in tops.items()}
        assert len({price for price, _ in bids.values()}) == 3, (symbol, bids)
        assert len({size for _, size in bids.values()}) == 3, (symbol, bids)
        # close to each other all the same: the same asset on three venues
        prices = [price for price, _ in bids.values()]
        assert max(prices) / min(prices) < 1.002
    with pytest.raises(ValueError, match="market_of"):
        sim.market  # noqa: B018 - several venues: no single market
    single = SimServer(seed=7, venues=["mexc-spot"])
    assert single.market is single.market_of("mexc-spot")


async def test_perp_open_interest_is_one_number_on_both_channels():
    sim = SimServer(seed=3, rate=40, venues=["gateio-perp"])
    await sim.start()
    events: list = []
    feed = Feed("gateio-perp", ["BTC/USDT:USDT", "ETH/USDT:USDT"], ["ticker", "open_interest"], url=sim.ws_url("gateio-perp"),
                rest_url=sim.rest_url("gateio-perp"), on_event=events.append)
    try:
        assert all(r.ok for r in await feed.start())
        await asyncio.sleep(1.0)  # trades open and close positions meanwhile
        sim.pause()
        paused = len(events)

        def both_reported() -> bool:
            after = [e for e in events[paused:] if isinstance(e, OpenInterest)]
            return all(any(e.venue_symbol == s and e.open_interest_usd is None for e in after)
                       and any(e.venue_symbol == s and e.open_interest_usd is not None for e in after) for s in ("BTC_USDT", "ETH_USDT"))

        assert await wait_until(both_reported, 10.0)
        for symbol, venue_symbol in (("BTC/USDT", "BTC_USDT"), ("ETH/USDT", "ETH_USDT")):
            book = sim.market.books[symbol]
            want = float(book.size_str(book.open_interest))
            reported = [e for e in events[paused:] if isinstance(e, OpenInterest) and e.venue_symbol == venue_symbol]
            # tickers' total_size and contract_stats' open_interest: the same contracts, the same base size
            assert {e.open_interest for e in reported} == {want}, (symbol, reported)
            assert len({e.contracts for e in reported}) == 1
            stats = next(e for e in reported if e.open_interest_usd is not None)
            assert stats.open_interest_usd == pytest.approx(want * book.mid * book.spec.tick, rel=1e-3)
    finally:
        sim.resume()
        await feed.close()
        await sim.stop()
