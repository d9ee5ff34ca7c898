"""Bad binary frames, other bodies, control replies, requests and symbols."""

from __future__ import annotations

import pytest
from mexc_helpers import DECODERS, make_handler

from cexfeed.exchanges.mexc import protocol, spot_table
from cexfeed.exchanges.mexc.encode import (
    aggre_book_ticker_frame,
    aggre_deals_frame,
    aggre_depth_frame,
    book_ticker_batch_frame,
    kline_frame,
    mini_ticker_frame,
    mini_tickers_frame,
)
from cexfeed.exchanges.mexc.proto.public_pb2 import PublicAggreDepthsV3Api
from cexfeed.exchanges.mexc.proto.push_pb2 import PushDataV3ApiWrapper
from cexfeed.exchanges.mexc.rest import depth_url, parse_depth_snapshot, spot_symbol_map
from cexfeed.models import BestBidOffer, Kline, Ticker, Trade, VenueError

GOOD = aggre_book_ticker_frame("BTCUSDT", 84270.0, 0.5, 84270.01, 1.25, version=7, send_time=100)


def _unknown_body_frame() -> bytes:
    # wrapper with channel + symbol + a body at field 316 (not in our schema): tag 316<<3|2
    inner = b"\x0a\x03abc"
    tag = (316 << 3) | 2
    return b"\x0a\x04chan\x1a\x07BTCUSDT" + bytes([(tag & 0x7F) | 0x80, tag >> 7]) + bytes([len(inner)]) + inner


@pytest.mark.parametrize("decoder", DECODERS)
def test_bad_frames_are_counted_by_kind_and_skipped(decoder):
    handler, events, hooks = make_handler(decoder)
    wrong_type = PublicAggreDepthsV3Api(fromVersion="1", toVersion="2", eventType="x").SerializeToString()
    frames = [
        b"\x0a\x02\xff\xfe",  # malformed: channel string that is not UTF-8
        wrong_type,  # a body serialized without the wrapper
        _unknown_body_frame(),  # body field number 316
        GOOD[:-5],  # truncated in flight
        b"{not json",
        aggre_deals_frame("BTCUSDT", [(1.0, 2.0, 3, 5, "x")]),  # tradeType 3
    ]
    for frame in frames:
        handler._handle_message(frame, 1)
        handler._handle_message(GOOD, 2)  # the stream goes on
    assert handler.stats.errors["malformed"] == 2
    assert handler.stats.errors["wrong_type"] == 1
    assert handler.stats.errors["unknown_body"] == 1
    assert handler.stats.errors["truncated"] == 1
    assert handler.stats.errors["unknown_side"] == 1
    assert len(events) == len(frames) and all(isinstance(e, BestBidOffer) for e in events)
    assert events[0].bid_price == 84270.0 and events[0].ask_size == 1.25 and events[0].update_id == 7


@pytest.mark.parametrize("decoder", DECODERS)
def test_bad_number_text_is_malformed(decoder):
    handler, events, _ = make_handler(decoder)
    handler._handle_message(aggre_book_ticker_frame("BTCUSDT", "84x", "1", "2", "3"), 1)
    handler._handle_message(aggre_depth_frame("BTCUSDT", 5, 6, bids=[("1", "abc")]), 1)
    assert handler.stats.errors["malformed"] == 2 and events == []


@pytest.mark.parametrize("decoder", DECODERS)
def test_unknown_fields_are_tolerated(decoder):
    handler, events, _ = make_handler(decoder)
    # an extra field 99 in the wrapper and field 9 in the body: a schema that grew again
    w = PushDataV3ApiWrapper.FromString(GOOD)
    body = w.publicAggreBookTicker.SerializeToString() + b"\x48\x01"
    raw = b"\xd8\x06\x05" + w.SerializeToString().replace(w.publicAggreBookTicker.SerializeToString(), body)
    tag = (315 << 3) | 2
    raw = raw.replace(bytes([(tag & 0x7F) | 0x80, tag >> 7, len(body) - 2]), bytes([(tag & 0x7F) | 0x80, tag >> 7, len(body)]))
    handler._handle_message(raw, 1)
    assert handler.stats.errors == {}
    (bbo,) = events
    assert (bbo.bid_price, bbo.ask_price, bbo.update_id) == (84270.0, 84270.01, 7)


@pytest.mark.parametrize("decoder", DECODERS)
def test_deals_sides_and_ids(decoder):
    handler, events, _ = make_handler(decoder)
    frame = aggre_deals_frame("ETHUSDT", [(3000.5, 0.1, 1, 1000, "a1"), ("3000.40", "0.20", 2, 1001, ""), (3000.3, 0.3, 1, 1001, "")], send_time=1002)
    handler._handle_message(frame, 1)
    assert [(t.price, t.size, t.side, t.exchange_ts, t.trade_id) for t in events] == [
        (3000.5, 0.1, "buy", 1000, "a1"),
        (3000.4, 0.2, "sell", 1001, "1001-1"),
        (3000.3, 0.3, "buy", 1001, "1001-2"),
    ]
    assert all(isinstance(t, Trade) and t.symbol == "ETH/USDT" for t in events)


@pytest.mark.parametrize("decoder", DECODERS)
def test_kline_intervals_tickers_and_batch(decoder):
    handler, events, _ = make_handler(decoder)
    handler._handle_message(kline_frame("BTCUSDT", "Hour4", 1790280000, 1, 3, 0.5, 2, 10, 20, create_time=1790281249008, window_s=14400), 1)
    handler._handle_message(mini_ticker_frame("MXUSDT", "2.5174", "0.0766", "2.6299", "2.302", "11336518.0264", "4638390.17", send_time=7), 1)
    handler._handle_message(mini_tickers_frame([("METAUSDT", "0.055", "-0.2361", "0.119", "0.053", "814864.474", "10764997.16"), ("BTCUSDC", 1, 0, 1, 1, 1, 1)], send_time=8), 1)
    handler._handle_message(book_ticker_batch_frame("BTCUSDT", [("96567.37", "3.362925", "96567.38", "1.545255")], version=99, send_time=9), 1)
    kline, mini, meta, btc, batch = events
    assert isinstance(kline, Kline) and kline.interval == "4h" and kline.open_ts == 1790280000000
    assert (kline.open, kline.high, kline.low, kline.close, kline.volume, kline.quote_volume) == (1.0, 3.0, 0.5, 2.0, 10.0, 20.0)
    assert isinstance(mini, Ticker) and mini.symbol == "MX/USDT" and mini.last == 2.5174
    assert mini.base_volume == 4638390.17 and mini.quote_volume == 11336518.0264
    assert mini.change_pct == pytest.approx(7.66) and mini.high_24h == 2.6299 and mini.exchange_ts == 7
    assert meta.symbol == "META/USDT" and meta.change_pct == pytest.approx(-23.61) and btc.symbol == "BTC/USDC"
    assert isinstance(batch, BestBidOffer) and (batch.bid_price, batch.ask_size, batch.update_id) == (96567.37, 1.545255, 99)


def test_control_replies():
    handler, events, hooks = make_handler()
    ch = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
    ch2 = "spot@public.aggre.depth.v3.api.pb@100ms@ETHUSDT"
    handler._handle_message(f'{{"id":3,"code":0,"msg":"{ch2},{ch}"}}', 1)
    handler._handle_message(b'{"id":0,"code":0,"msg":"PONG"}', 1)
    blocked = "Not Subscribed successfully! [spot@public.increase.depth.v3.api.pb@BTCUSDT].  Reason\uff1a Blocked! "
    handler._handle_message('{"id":4,"code":0,"msg":"%s"}' % blocked, 1)
    handler._handle_message('{"id":5,"code":0,"msg":""}', 1)
    handler._handle_message('{"id":6,"code":30001,"msg":"bad request"}', 1)
    assert hooks.acks[:2] == [(3, ch2, True, f"{ch2},{ch}"), (3, ch, True, f"{ch2},{ch}")]
    assert hooks.acks[2] == (4, "spot@public.increase.depth.v3.api.pb@BTCUSDT", False, blocked)
    assert hooks.acks[3][0] == 5 and hooks.acks[3][2] is False
    assert hooks.acks[4] == (6, "", False, "bad request")
    assert hooks.pongs == 1
    blocked_event, empty_event, error_event = events
    assert isinstance(blocked_event, VenueError) and blocked_event.code == 0 and blocked_event.symbol == "BTC/USDT"
    assert blocked_event.channel == "spot@public.increase.depth.v3.api.pb@BTCUSDT" and blocked_event.message == blocked
    assert "not effective" in empty_event.message and error_event.code == 30001
    assert handler.stats.errors["venue_error"] == 3 and handler.stats.errors["empty_ack"] == 1


def test_requests_channels_and_symbols():
    assert protocol.subscribe(["a", "b"]) == b'{"method":"SUBSCRIPTION","params":["a","b"]}'
    assert protocol.subscribe(["a"], 7) == b'{"method":"SUBSCRIPTION","params":["a"],"id":7}'
    assert protocol.unsubscribe(["a"]) == b'{"method":"UNSUBSCRIPTION","params":["a"]}'
    assert protocol.ping() == b'{"method":"PING"}'
    assert spot_table.channel("kline", "BTCUSDT", "1h") == "spot@public.kline.v3.api.pb@BTCUSDT@Min60"
    assert spot_table.channel("book", "BTCUSDT", "10ms") == "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"
    for channel, symbol in [
        (spot_table.channel("book", "BTCUSDT", "10ms"), "BTCUSDT"),
        (spot_table.channel("limit_book", "ETHUSDT", "5"), "ETHUSDT"),
        (spot_table.channel("kline", "XRPUSDC", "Min1"), "XRPUSDC"),
        (spot_table.channel("ticker", "MXUSDT", "UTC+8"), "MXUSDT"),
        (spot_table.channel("tickers_all", "", "24H"), ""),
        (spot_table.channel("bbo_batch", "BTCUSDT"), "BTCUSDT"),
        ("spot@public.increase.depth.v3.api.pb@BTCUSDT", "BTCUSDT"),
        ("spot@public.unknown.v3.api.pb@BTCUSDT", ""),
    ]:
        assert spot_table.channel_symbol(channel) == symbol
    smap = spot_symbol_map(
        b'{"timezone":"CST","symbols":[{"symbol":"WBTCBTC","status":"1","baseAsset":"WBTC","quoteAsset":"BTC",'
        b'"baseAssetPrecision":5,"quotePrecision":6,"baseSizePrecision":"0.00001","isSpotTradingAllowed":true},'
        b'{"symbol":"OLDUSDT","status":"3","baseAsset":"OLD","quoteAsset":"USDT"}]}'
    )
    assert smap.unified("WBTCBTC") == "WBTC/BTC" and smap.instrument("WBTCBTC").tick_size == 1e-6
    assert smap.instrument("WBTCBTC").size_step == 0.00001 and not smap.instrument("OLDUSDT").active
    assert smap.unified("PEPEUSDC") == "PEPE/USDC" and smap.to_venue("ETH/USDT") == "ETHUSDT"
    snap = parse_depth_snapshot(b'{"lastUpdateId":82164153436,"bids":[["84270.00","0.5"]],"asks":[["84270.01","1"]],"timestamp":1}')
    assert snap.lastUpdateId == 82164153436 and snap.bids == [(84270.0, 0.5)] and snap.asks == [(84270.01, 1.0)]
    assert depth_url("BTCUSDT", 5000, "http://127.0.0.1:1/") == "http://127.0.0.1:1/api/v3/depth?symbol=BTCUSDT&limit=5000"


def test_reconnect_requested_before_the_24h_limit():
    handler, events, hooks = make_handler()
    asked = []
    hooks.on_reconnect_requested = asked.append
    hour = 3600 * 10**9
    handler._handle_message(GOOD, 1 * hour)
    handler._handle_message(GOOD, 23 * hour)
    assert asked == []
    handler._handle_message(GOOD, 24 * hour + 1)
    assert len(asked) == 1 and "24 h" in asked[0]
    handler._handle_message(GOOD, 24 * hour + 2)
    assert len(asked) == 1
    handler.reset_books()  # the connection dropped and came back: the clock starts again
    handler._handle_message(GOOD, 30 * hour)
    handler._handle_message(GOOD, 52 * hour)
    assert len(asked) == 1 and len(events) == 6


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("bad", ["nan", "inf", "-1", "1e400"])
def test_impossible_numbers_are_malformed_not_events(decoder, bad):
    # reported by a user trial: NaN/inf/negative prices reached trades, book tickers and books
    from cexfeed.exchanges.mexc.encode import aggre_book_ticker_frame, aggre_deals_frame, limit_depth_frame

    handler, events, _ = make_handler(decoder)
    frames = [
        aggre_deals_frame("BTCUSDT", [(bad, "0.5", 1, 1790000000000, "")]),
        aggre_book_ticker_frame("BTCUSDT", bad, "1", "84271", "1"),
        limit_depth_frame("BTCUSDT", 7, bids=[(bad, "1")], asks=[("84271", "1")]),
    ]
    for frame in frames:
        handler._handle_message(frame, 1)
    assert events == []
    # the deal is one item of a multi-item push: left out and counted on its own
    assert handler.stats.errors["malformed"] == 2 and handler.stats.errors["malformed_item"] == 1
