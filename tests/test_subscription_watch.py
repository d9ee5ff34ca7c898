"""Issue #10 item 13: silence after an ack is reported for every channel, on both architectures:
one per-subscription timeout (``Feed(subscription_timeout=...)``, ``--subscription-timeout``)
gives a ``StreamStatus`` event and a ``no_data`` count; for books also ``BookStatus`` stale."""

from __future__ import annotations

import pytest

from cexfeed.compat import StrategyProtocol, build_handler
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.futures_protocol import GateioFuturesProtocol
from cexfeed.exchanges.mexc.encode import aggre_deals_frame, aggre_depth_frame
from cexfeed.exchanges.mexc.spot_protocol import MexcSpotProtocol
from cexfeed.feed import Feed
from cexfeed.models import BookStatus, StreamStatus
from cexfeed.net.protocol import Subscription
from cexfeed.net.watch import SubscriptionWatch
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until

S = 1_000_000_000
T0 = 1_800_000_000 * S
CONTRACTS = b'[{"name":"BTC_USDT","quanto_multiplier":"0.0001"},{"name":"ETH_USDT","quanto_multiplier":"0.01"}]'
ETH_FULL = b'{"time":1,"time_ms":1,"channel":"futures.obu","event":"update","result":{"t":1,"full":true,"s":"ob.ETH_USDT.50","u":10,"b":[["2480","1"]],"a":[["2481","1"]]}}'
BTC_TRADE = b'{"time":1,"time_ms":1,"channel":"futures.trades","event":"update","result":[{"id":7,"create_time":1,"contract":"BTC_USDT","size":-3,"price":"65000.5"}]}'


def _statuses(events):
    return [(e.channel, e.venue_symbol, e.status) for e in events if isinstance(e, StreamStatus)]


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
def test_every_channel_silent_after_its_ack_is_reported_once_then_resumed(architecture):
    events: list = []
    handler = build_handler("gateio-perp", architecture, events.append, symbols=futures_symbol_map(CONTRACTS))
    protocol = GateioFuturesProtocol() if architecture == "direct" else StrategyProtocol("gateio-perp")
    watch = SubscriptionWatch(protocol, handler, timeout=5.0)
    unknown_level = Subscription("book_obu", "NOPE_USDT", ("50",))  # acked with success, then silent (pitfalls #12)
    trades = Subscription("trades", "BTC_USDT")
    eth_book = Subscription("book_obu", "ETH_USDT", ("50",))
    for sub in (unknown_level, trades, eth_book):
        watch.arm(sub, T0)
    handler._handle_message(ETH_FULL, T0 + 3 * S)
    assert watch.check(T0 + 4 * S) == []
    silent = watch.check(T0 + 6 * S)
    assert silent == [unknown_level, trades]
    assert _statuses(events) == [("book_obu", "NOPE_USDT", "no_data"), ("trades", "BTC_USDT", "no_data")]
    stale = [e for e in events if isinstance(e, BookStatus) and e.status == "stale"]
    assert [(e.venue_symbol, e.reason, e.last_update_id) for e in stale] == [("NOPE_USDT", "no_data", None)]
    no_data = [e for e in events if isinstance(e, StreamStatus)]
    assert no_data[0].detail == "nothing for 6.0 s since the subscribe ack" and no_data[1].symbol == "BTC/USDT:USDT"
    assert handler.stats.errors["no_data"] == 2
    # reported once; the ETH book (a push 3 s in) goes silent in its turn, 5 s after that push
    assert watch.check(T0 + 7 * S) == [unknown_level, trades]
    assert len(_statuses(events)) == 2
    watch.check(T0 + 8 * S)
    assert _statuses(events)[-1] == ("book_obu", "ETH_USDT", "no_data")
    (eth_stale,) = [e for e in events if isinstance(e, BookStatus) and e.venue_symbol == "ETH_USDT" and e.status == "stale"]
    assert eth_stale.last_update_id == 10  # still synced: the book is marked, not dropped
    # a trade: the trades subscription speaks again
    handler._handle_message(BTC_TRADE, T0 + 9 * S)
    watch.check(T0 + 9 * S + 1)
    assert _statuses(events)[-1] == ("trades", "BTC_USDT", "data_resumed")
    assert handler.stats.errors["no_data"] == 3
    # unsubscribed, or the socket gone: nothing more is reported
    watch.disarm(unknown_level)
    watch.clear()
    assert watch.check(T0 + 100 * S) == []


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
def test_mexc_book_deltas_waiting_for_a_snapshot_are_not_silence(architecture):
    """A book buffering deltas (its snapshot not in yet) is not silent; a book whose pushes stop
    is, on both paths. This replaces the MEXC-only stale-book check."""
    events: list = []
    handler = build_handler("mexc-spot", architecture, events.append)
    protocol = MexcSpotProtocol() if architecture == "direct" else StrategyProtocol("mexc-spot")
    watch = SubscriptionWatch(protocol, handler, timeout=10.0)
    book = protocol.subscriptions(["book"], ["BTCUSDT"])[0]
    trades = protocol.subscriptions(["trades"], ["ETHUSDT"])[0]
    watch.arm(book, T0)
    watch.arm(trades, T0)
    for i in range(1, 10):
        handler._handle_message(aggre_depth_frame("BTCUSDT", 100 + i, 100 + i, bids=[(1.0, float(i))]), T0 + i * S)
        watch.check(T0 + i * S + 1)
    assert not handler.books["BTCUSDT"].synced
    assert _statuses(events) == []
    watch.check(T0 + 12 * S)
    assert _statuses(events) == [("trades", "ETHUSDT", "no_data")]
    handler._handle_message(aggre_deals_frame("ETHUSDT", [("10", "1", 1, 1700000000000, "t1")]), T0 + 13 * S)
    watch.check(T0 + 20 * S)
    assert _statuses(events) == [("trades", "ETHUSDT", "no_data"), ("book", "BTCUSDT", "no_data"), ("trades", "ETHUSDT", "data_resumed")]


async def test_silence_reported_live_for_each_channel_with_a_counter():
    """Against the simulator: the market paused, every subscription of the feed (book, trades,
    bbo) is reported silent with one event each and counted; resumed, each speaks again."""
    sim = SimServer(seed=4, rate=30, venues=["gateio-spot"])
    await sim.start()
    events: list = []
    feed = Feed("gateio-spot", ["BTC/USDT"], ["book", "trades", "bbo"], url=sim.ws_url("gateio-spot"),
                rest_url=sim.rest_url("gateio-spot"), on_event=events.append, subscription_timeout=1.0, ping_interval=0.2)
    try:
        assert all(r.ok for r in await feed.start())
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 5.0)
        sim.pause()
        assert await wait_until(lambda: {c for c, _, s in _statuses(events) if s == "no_data"} == {"book", "trades", "bbo"}, 8.0)
        assert feed.stats()["errors"]["no_data"] == 3
        assert any(isinstance(e, BookStatus) and (e.status, e.reason) == ("stale", "no_data") for e in events)
        sim.resume()
        assert await wait_until(lambda: {c for c, _, s in _statuses(events) if s == "data_resumed"} == {"book", "trades", "bbo"}, 8.0)
        assert any(isinstance(e, BookStatus) and (e.status, e.reason) == ("synced", "data_resumed") for e in events)
    finally:
        await feed.close()
        await sim.stop()
