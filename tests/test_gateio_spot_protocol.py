"""Gate spot requests as the network core sends them (gateio-protocol.md §2.1, §6, §10.2)."""

from __future__ import annotations

import json

import pytest

from cexfeed.exchanges.gateio.spot_protocol import GateioSpotProtocol


def frames(protocol, channels, symbols=("BTC_USDT",)):
    subs = protocol.subscriptions(channels, list(symbols))
    return subs, [json.loads(protocol.subscribe_frame(sub, 7)) for sub in subs]


def test_book_is_order_book_update_with_rest_snapshots():
    proto = GateioSpotProtocol(book_interval="20ms")
    subs, sent = frames(proto, ["book", "kline"])
    assert [(f["channel"], f["payload"], f["id"]) for f in sent] == [
        ("spot.order_book_update", ["BTC_USDT", "20ms"], 7),
        ("spot.candlesticks", ["1m", "BTC_USDT"], 7),
    ]
    assert proto.is_book(subs[0]) and proto.snapshot_via_rest(subs[0]) and proto.book_depth(subs[0]) == 20


def test_book_obu_stream_and_book_mode():
    proto = GateioSpotProtocol(obu_level=400)
    subs, sent = frames(proto, ["book_obu"])
    assert (sent[0]["channel"], sent[0]["payload"]) == ("spot.obu", ["ob.BTC_USDT.400"])
    assert proto.is_book(subs[0]) and not proto.snapshot_via_rest(subs[0])
    assert proto.ack_channel(subs[0]) == "spot.obu"
    assert json.loads(proto.unsubscribe_frame(subs[0], 8))["event"] == "unsubscribe"
    _, sent = frames(GateioSpotProtocol(book_mode="obu"), ["book"])
    assert sent[0]["payload"] == ["ob.BTC_USDT.50"]


def test_one_book_channel_per_symbol_and_valid_levels():
    with pytest.raises(ValueError, match="one book channel"):
        GateioSpotProtocol().subscriptions(["book", "book_obu"], ["BTC_USDT"])
    with pytest.raises(ValueError):
        GateioSpotProtocol(obu_level=20)
    with pytest.raises(ValueError):
        GateioSpotProtocol(book_interval="1000ms")


def test_feed_rejects_a_perpetual_on_a_spot_venue_and_bad_urls():
    from cexfeed.feed import Feed

    with pytest.raises(ValueError, match="spot venue"):
        Feed("gateio-spot", ["BTC/USDT:USDT"], ["trades"])
    with pytest.raises(ValueError, match="spot venue"):
        Feed("mexc-spot", ["BTC/USDT:USDT"], ["trades"])
    with pytest.raises(ValueError, match="ws:// or wss://"):
        Feed("gateio-spot", ["BTC/USDT"], ["trades"], url="http://127.0.0.1:1/ws")
    with pytest.raises(ValueError, match="unknown channel"):
        Feed("gateio-spot", ["BTC/USDT"], ["orders"])
