"""Issue #10 items 5 and 6, on both architectures.

5. Unsubscribing a book clears it at once; a delta still in flight after the unsubscribe is
   dropped; after subscribing again ``synced()`` is false and ``book()`` is not the old book
   until the new snapshot is applied.
6. Acks: a request id echoed back as a numeric string matches its request; Gate's "already
   subscribed" refusal of a stream we hold keeps the stream, its book and its place in the
   reconnect set; a MEXC ack with code 0 counts only if it names the channel we asked for.
"""

from __future__ import annotations

import asyncio

import pytest

from cexfeed.compat import build_handler, open_feed
from cexfeed.exchanges.gateio.spot_protocol import GateioSpotProtocol
from cexfeed.exchanges.mexc.encode import aggre_depth_frame
from cexfeed.exchanges.mexc.spot_protocol import MexcSpotProtocol
from cexfeed.models import BookStatus, BookUpdate, VenueError
from cexfeed.net import Backoff, WsConnection
from cexfeed.net.requests import _Pending
from cexfeed.sim import SimServer
from cexfeed.sim.testing import sim_levels, sim_update_id, wait_until

ARCHITECTURES = ["direct", "strategy"]
GATE_FULL = b'{"time":1,"time_ms":1000,"channel":"spot.order_book_update","event":"update","result":{"t":1000,"s":"BTC_USDT","U":1,"u":5,"full":true,"b":[["100","1"]],"a":[["101","1"]]}}'
GATE_DELTA = b'{"time":1,"time_ms":1000,"channel":"spot.order_book_update","event":"update","result":{"t":1001,"s":"BTC_USDT","U":6,"u":6,"b":[["100","2"]],"a":[]}}'


# -- item 5 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_closed_book_drops_pushes_in_flight_until_opened_again(architecture):
    for stream, full, delta in (
        ("gateio-spot", GATE_FULL, GATE_DELTA),
        ("mexc-spot", None, aggre_depth_frame("BTCUSDT", 11, 11, bids=[(100.0, 2.0)])),
    ):
        events: list = []
        handler = build_handler(stream, architecture, events.append)
        symbol = "BTC_USDT" if stream == "gateio-spot" else "BTCUSDT"
        if full is not None:
            handler._handle_message(full, 1)
        else:
            handler.apply_snapshot(symbol, 10, [(100.0, 1.0)], [(101.0, 1.0)])
        assert handler.books[symbol].synced
        events.clear()
        handler.close_book(symbol)
        (stale,) = events
        assert isinstance(stale, BookStatus) and (stale.status, stale.reason) == ("stale", "unsubscribed")
        assert symbol not in handler.books
        handler._handle_message(delta, 2)  # in flight: dropped, counted
        assert events == [stale] and symbol not in handler.books
        assert handler.stats.errors["book_after_unsubscribe"] == 1
        handler.open_book(symbol)
        handler._handle_message(delta, 3)  # subscribed again: a new, unsynced book
        assert not handler.books[symbol].synced and handler.books[symbol].book.bid_count == 0


@pytest.mark.parametrize("architecture", ARCHITECTURES)
async def test_unsubscribe_forgets_the_book_and_resubscribe_starts_over(architecture):
    sim = SimServer(seed=6, rate=30, venues=["gateio-spot"])
    await sim.start()
    events: list = []
    feed = open_feed("gateio-spot", ["BTC/USDT", "ETH/USDT"], ["book", "trades"], architecture=architecture, url=sim.ws_url("gateio-spot"),
                     rest_url=sim.rest_url("gateio-spot"), on_event=events.append)
    try:
        await feed.start()
        assert await wait_until(lambda: feed.synced("BTC/USDT") and feed.synced("ETH/USDT"), 5.0)
        old = feed.book("BTC/USDT")
        assert [r.ok for r in await feed.unsubscribe(["BTC/USDT"], ["book"])] == [True]
        assert feed.book("BTC/USDT") is None and not feed.synced("BTC/USDT")
        assert ("BTC/USDT", "stale", "unsubscribed") in [(e.symbol, e.status, e.reason) for e in events if isinstance(e, BookStatus)]
        mark = len(events)
        await asyncio.sleep(0.3)
        assert not any(isinstance(e, BookUpdate) and e.symbol == "BTC/USDT" for e in events[mark:])
        assert any(isinstance(e, BookUpdate) and e.symbol == "ETH/USDT" for e in events[mark:])  # the other book flows on
        # subscribe again: a new book, not synced until its own snapshot
        sim.fail_snapshots(2)
        assert [r.ok for r in await feed.subscribe(["BTC/USDT"], ["book"])] == [True]
        book = feed.book("BTC/USDT")
        assert not feed.synced("BTC/USDT") and book is not old and book.bid_count == 0
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 8.0)
        sim.pause()
        assert await wait_until(lambda: feed.book("BTC/USDT").last_update_id == sim_update_id(sim, "BTC/USDT"), 5.0)
        bids, asks = sim_levels(sim, "BTC/USDT")
        assert feed.book("BTC/USDT").top_bids() == bids and feed.book("BTC/USDT").top_asks() == asks
    finally:
        sim.resume()
        await feed.close()
        await sim.stop()


# -- item 6 -------------------------------------------------------------------------------------


def _requests(stream: str, architecture: str, protocol, channel: str, venue_symbols: list[str], first_id: int) -> tuple:
    """A handler of ``architecture`` under a (never started) connection with one subscribe
    request in flight per symbol, ids from ``first_id``: ``(handler, conn, events, subs,
    futures)``. Acks reach the connection through the handler, as off the wire."""
    events: list = []
    handler = build_handler(stream, architecture, events.append)
    conn = WsConnection(protocol, handler)
    subs = protocol.subscriptions([channel], venue_symbols)
    futures = []
    for request_id, sub in enumerate(subs, first_id):
        futures.append(asyncio.get_running_loop().create_future())
        conn.subscriptions[sub] = None
        conn._pending[request_id] = _Pending(sub, "subscribe", futures[-1], protocol.ack_channel(sub))
    return handler, conn, events, subs, futures


@pytest.mark.parametrize("architecture", ARCHITECTURES)
async def test_request_id_echoed_as_a_string_matches_its_request(architecture):
    handler, conn, _, (btc, eth), (first, second) = _requests("gateio-spot", architecture, GateioSpotProtocol(), "trades", ["BTC_USDT", "ETH_USDT"], 7)
    handler._handle_message(b'{"time":1,"time_ms":1000,"id":"8","channel":"spot.trades","event":"subscribe","result":{"status":"success"}}', 1)
    assert second.done() and second.result().ok and second.result().sub == eth
    assert not first.done() and conn.stats.acks_unmatched == 0


@pytest.mark.parametrize("architecture", ARCHITECTURES)
async def test_gate_already_subscribed_keeps_the_stream(architecture):
    handler, conn, events, (sub,), (future,) = _requests("gateio-spot", architecture, GateioSpotProtocol(), "book_obu", ["BTC_USDT"], 9)
    handler._handle_message(b'{"time":1,"time_ms":1000,"id":9,"channel":"spot.obu","event":"subscribe","payload":["ob.BTC_USDT.50"],'
                            b'"error":{"code":2,"message":"Alert sub ob.BTC_USDT.50"},"result":{"status":"fail"}}', 1)
    result = future.result()
    assert (result.ok, result.status, result.message) == (True, "acked", "already subscribed (Alert sub ob.BTC_USDT.50)")
    assert sub in conn.subscriptions and events == []


@pytest.mark.parametrize("architecture", ARCHITECTURES)
async def test_mexc_ack_counts_only_when_it_names_the_channel_asked_for(architecture):
    handler, conn, events, (btc, eth), (wrong, right) = _requests("mexc-spot", architecture, MexcSpotProtocol(), "trades", ["BTCUSDT", "ETHUSDT"], 5)
    # code 0 with our id, but another channel's name
    handler._handle_message(b'{"id":5,"code":0,"msg":"spot@public.aggre.deals.v3.api.pb@100ms@ETHUSDT"}', 1)
    result = wrong.result()
    assert (result.ok, result.status) == (False, "refused")
    assert result.message == ("ack names 'spot@public.aggre.deals.v3.api.pb@100ms@ETHUSDT', "
                              "the request was for 'spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT'")
    (error,) = [e for e in events if isinstance(e, VenueError)]
    assert (error.code, error.symbol, error.channel) == (-1, "BTC/USDT", "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT")
    assert btc not in conn.subscriptions  # never replayed
    handler._handle_message(b'{"id":6,"code":0,"msg":"spot@public.aggre.deals.v3.api.pb@100ms@ETHUSDT"}', 2)
    assert right.result().ok and eth in conn.subscriptions


@pytest.mark.parametrize("architecture", ARCHITECTURES)
async def test_gate_duplicate_subscribe_live_keeps_book_and_reconnect_set(architecture):
    sim = SimServer(seed=6, rate=30, venues=["gateio-spot"])
    await sim.start()
    events: list = []
    feed = open_feed("gateio-spot", ["BTC/USDT"], ["book_obu"], architecture=architecture, url=sim.ws_url("gateio-spot"),
                     rest_url=sim.rest_url("gateio-spot"), on_event=events.append, reconnect_backoff=lambda: Backoff(initial=0.05, cap=0.1))
    try:
        await feed.start()
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 5.0)
        conn = feed.connections[0]
        (sub,) = conn.subscriptions
        future = asyncio.get_running_loop().create_future()
        conn._send_request(sub, "subscribe", future)  # the venue holds it already: "Alert sub"
        result = await asyncio.wait_for(future, 5.0)
        assert result.ok and result.message == "already subscribed (Alert sub ob.BTC_USDT.50)"
        assert sub in conn.subscriptions and feed.synced("BTC/USDT")
        assert not any(isinstance(e, VenueError) for e in events)
        # still in the reconnect set: replayed after a drop, the book syncs again
        sim.drop_connections()
        assert await wait_until(lambda: conn.stats.connects == 2 and feed.synced("BTC/USDT"), 5.0)
        (session,) = sim.venues["gateio-spot"].sessions
        assert session.subs["spot.obu"] == {"ob.BTC_USDT.50"}
    finally:
        await feed.close()
        await sim.stop()
