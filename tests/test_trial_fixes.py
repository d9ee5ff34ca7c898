"""What a newcomer's trial of cexfeed found, each at the depth where it belongs (table rows, value
rules, feed core), on the direct and the strategy (compat) path where both exist; against the
simulator over real sockets."""

from __future__ import annotations

import pytest

from cexfeed.architecture import open_feed
from cexfeed.models import BookStatus
from cexfeed.net import Backoff
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until

ARCHITECTURES = ["direct", "strategy"]


@pytest.fixture
async def mexc_sim():
    async with SimServer(seed=4, rate=20, venues=["mexc-spot"]) as server:
        yield server


def _mexc(sim, channels, architecture, events):
    return open_feed("mexc-spot", ["BTC/USDT"], channels, architecture=architecture, url=sim.ws_url("mexc-spot"),
                     rest_url=sim.rest_url("mexc-spot"), on_event=events.append, reconnect_backoff=lambda: Backoff(initial=0.05, cap=0.5))


# -- 2: one book per symbol covers limit_book; bbo and bbo_batch are one or the other ---------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_two_book_channels_or_both_bbo_channels_are_refused_before_any_network_call(architecture):
    with pytest.raises(ValueError, match=r"one book channel per symbol.*got \['book', 'limit_book'\]"):
        open_feed("mexc-spot", ["BTC/USDT"], ["book", "limit_book"], architecture=architecture, url="ws://127.0.0.1:9/ws")
    with pytest.raises(ValueError, match="'bbo' and 'bbo_batch' deliver the same bbo events; subscribe one of them per symbol"):
        open_feed("mexc-spot", ["BTC/USDT"], ["trades", "bbo", "bbo_batch"], architecture=architecture, url="ws://127.0.0.1:9/ws")


@pytest.mark.parametrize("architecture", ARCHITECTURES)
async def test_limit_book_is_the_symbols_one_book(mexc_sim, architecture):
    events: list = []
    feed = _mexc(mexc_sim, ["limit_book", "bbo_batch"], architecture, events)
    await feed.start()
    try:
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 8.0)
        book = feed.book("BTC/USDT")
        assert 0 < len(book.top_bids()) <= 20 and book.best_bid()[0] < book.best_ask()[0]
        assert [e.reason for e in events if isinstance(e, BookStatus)][:1] == ["full"]
        with pytest.raises(ValueError, match="BTCUSDT already has a book from 'limit_book'"):
            await feed.subscribe(["BTC/USDT"], ["book"])
        with pytest.raises(ValueError, match="BTCUSDT already has bbo events from 'bbo_batch'"):
            await feed.subscribe(["BTC/USDT"], ["bbo"])
        await feed.unsubscribe(["BTC/USDT"], ["limit_book"])
        assert feed.book("BTC/USDT") is None
        await feed.subscribe(["BTC/USDT"], ["book"])  # the symbol's book from another channel, once the first is gone
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 8.0)
    finally:
        await feed.close()
