"""Issue #10 items 3, 4, 7, 8, 9, 10 and 11, each asserting the right value on every path
(direct with its compiled parts, direct on the pure twins, strategy) and every venue where it
applies:

3. a Gate ``result`` may be an object, an array or an array of arrays; one bad item of an array
   is counted (``malformed_item``) and left out, the others are emitted;
4. no quote is not a price of 0: a one-sided or empty best bid/offer has ``None`` on that side
   on every venue; a price or size reading 0 never reaches an event as a price; a book
   snapshot event never carries a level of size 0; one book per symbol at one depth;
7. Gate ``full: true`` pushes of every documented shape are accepted alike (short or long, with
   or without ``U``);
8. legacy ``futures.order_book`` ``update`` rows apply to the book of the ``all`` snapshots
   (size 0 deletes the price from both sides), their ids continuing it one by one;
9. a MEXC push whose channel does not match its body is counted, never emitted as another type;
10. MEXC deals without a trade id get ids unique across pushes;
11. a trade side / type code added later keeps the trade, marked ``unknown`` with the raw value.
"""

from __future__ import annotations

import json

import pytest
from paths import same_on_every_path

from cexfeed.exchanges.gateio.futures_protocol import GateioFuturesProtocol
from cexfeed.exchanges.gateio.spot_protocol import GateioSpotProtocol
from cexfeed.exchanges.mexc.encode import _wrapper, aggre_book_ticker_frame, aggre_deals_frame, book_ticker_batch_frame, limit_depth_frame
from cexfeed.exchanges.mexc.spot_table import channel
from cexfeed.net.protocol import Subscription


def _gate(channel_: str, result, event: str = "update") -> bytes:
    return json.dumps({"time": 1700000000, "time_ms": 1700000000123, "channel": channel_, "event": event, "result": result},
                      separators=(",", ":")).encode()


def _shapes(items: list) -> dict:
    """The three shapes of a Gate result holding ``items``."""
    return {"array": items, "array of arrays": [items[:1], items[1:]], "object": items[0]}


# -- item 3 -------------------------------------------------------------------------------------

SPOT_TRADE = {"id": 1, "create_time_ms": "1700000000123.5", "side": "buy", "currency_pair": "BTC_USDT", "amount": "1", "price": "2"}
PERP_TICKER = {"contract": "BTC_USDT", "last": "65000.1", "change_percentage": "-1.5", "funding_rate": "0.0001", "mark_price": "65000.2",
               "index_price": "65000.3", "total_size": "1000", "volume_24h_base": "0.01", "volume_24h_quote": "650", "low_24h": "64000",
               "high_24h": "66000", "t": 1700000000123}


@pytest.mark.parametrize("stream,channel_,good,bad,kind", [
    ("gateio-spot", "spot.trades", SPOT_TRADE, {**SPOT_TRADE, "id": 2, "price": "-2"}, "Trade"),
    ("gateio-spot", "spot.book_ticker", {"t": 1, "u": 5, "s": "BTC_USDT", "b": "1", "B": "1", "a": "2", "A": "1"}, {"u": 6, "s": 7}, "BestBidOffer"),
    ("gateio-spot", "spot.candlesticks", {"t": 60, "c": "2", "h": "2", "l": "1", "o": "1", "n": "1m_BTC_USDT"},
     {"t": 60, "c": "2", "h": "2", "l": "1", "o": "1", "n": "1m"}, "Kline"),
    ("gateio-perp", "futures.trades", {"id": 1, "contract": "BTC_USDT", "size": -3, "price": "65000"}, {"id": 2, "contract": "BTC_USDT", "size": "x", "price": "1"}, "Trade"),
    ("gateio-perp", "futures.tickers", PERP_TICKER, {"last": "1"}, "Ticker"),
    ("gateio-perp", "futures.public_liquidates", {"contract": "BTC_USDT", "price": "64000", "size": 5}, {"contract": "BTC_USDT", "price": "0", "size": 5}, "Liquidation"),
    ("gateio-perp", "futures.contract_stats", {"contract": "BTC_USDT", "time": 60, "open_interest": 7}, {"contract": 5, "open_interest": 1}, "OpenInterest"),
])
@pytest.mark.parametrize("shape", ["array", "array of arrays", "object"])
def test_gate_result_shapes_and_one_bad_item(stream, channel_, good, bad, kind, shape):
    result = _shapes([good, bad, good])[shape]
    events, errors = same_on_every_path(stream, [_gate(channel_, result)])
    of_kind = [e for e in events if e["type"] == kind]
    if shape == "object":
        assert len(of_kind) == 1 and errors == {}  # the object is the good item
        bad_alone = _gate(channel_, bad)
        assert same_on_every_path(stream, [bad_alone]) == ([], {"malformed": 1})
    else:
        assert len(of_kind) == 2 and errors == {"malformed_item": 1}
        assert of_kind[0] == of_kind[1]


def test_a_long_tickers_array_with_a_bad_item_keeps_the_others():
    # long enough for the compiled reader, which hands such a frame to the item-by-item path
    items = [PERP_TICKER, {**PERP_TICKER, "contract": ""}, {**PERP_TICKER, "contract": "ETH_USDT", "last": ""}]
    events, errors = same_on_every_path("gateio-perp", [_gate("futures.tickers", items)])
    assert errors == {"malformed_item": 1, "ticker_lenient": 1}
    assert [(e["type"], e["symbol"]) for e in events if e["type"] in ("Ticker", "MarkPrice")] == [
        ("Ticker", "BTC/USDT:USDT"), ("MarkPrice", "BTC/USDT:USDT"), ("Ticker", "ETH/USDT:USDT"), ("MarkPrice", "ETH/USDT:USDT")]
    eth = [e for e in events if e["type"] == "Ticker"][1]
    assert eth["last"] is None and eth["high_24h"] == 66000.0


# -- item 4 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bid,bid_size", [("", "1"), ("-0", "1"), ("1e-999", "1"), ("0", "1"), ("0.0", "5"), ("100", "0"), ("100", "-0"), (None, None)])
@pytest.mark.parametrize("stream", ["gateio-spot", "gateio-perp"])
def test_gate_no_bid_is_none(stream, bid, bid_size):
    result = {"t": 1700000000123, "u": 5, "s": "BTC_USDT", "a": "101", "A": "2"}
    if bid is not None:
        result.update(b=bid, B=bid_size)
    channel_ = "spot.book_ticker" if stream == "gateio-spot" else "futures.book_ticker"
    (bbo,), errors = same_on_every_path(stream, [_gate(channel_, result)])
    assert errors == {}
    assert (bbo["bid_price"], bbo["bid_size"]) == (None, None)
    assert (bbo["ask_price"], bbo["ask_size"]) == (101.0, 2.0 if stream == "gateio-spot" else 0.0002)


@pytest.mark.parametrize("stream", ["gateio-spot", "gateio-perp"])
def test_gate_empty_book_and_impossible_quotes(stream):
    channel_ = "spot.book_ticker" if stream == "gateio-spot" else "futures.book_ticker"
    empty = _gate(channel_, {"t": 1, "u": 5, "s": "BTC_USDT", "b": "", "B": 0, "a": "", "A": 0})
    (bbo,), errors = same_on_every_path(stream, [empty])
    assert [bbo[k] for k in ("bid_price", "bid_size", "ask_price", "ask_size")] == [None] * 4 and errors == {}
    # "00" is no number at all, a negative price impossible: the push never reaches an event
    for bad in ({"b": "00", "B": "1"}, {"b": "-1", "B": "1"}, {"b": "1", "B": "-2"}):
        frame = _gate(channel_, {"t": 1, "u": 5, "s": "BTC_USDT", "a": "2", "A": "1", **bad})
        assert same_on_every_path(stream, [frame]) == ([], {"malformed": 1})


def test_mexc_no_quote_is_none_on_every_book_ticker_channel():
    aggre = aggre_book_ticker_frame("BTCUSDT", "", "", "101", "2", send_time=1700000000123)
    zero = aggre_book_ticker_frame("BTCUSDT", "100", "1", "-0", "2", send_time=1700000000123)
    batch = book_ticker_batch_frame("BTCUSDT", [("100", "1", "0", "0"), ("99", "1e-999", "101", "3")], version=9, send_time=1700000000123)
    w = _wrapper(channel("bbo_plain", "BTCUSDT"), "BTCUSDT", 1700000000123)
    w.publicBookTicker.askPrice = "101"
    w.publicBookTicker.askQuantity = "2"
    events, errors = same_on_every_path("mexc-spot", [aggre, zero, batch, w.SerializeToString()])
    quotes = [tuple(e[k] for k in ("bid_price", "bid_size", "ask_price", "ask_size")) for e in events]
    assert quotes == [(None, None, 101.0, 2.0), (100.0, 1.0, None, None), (100.0, 1.0, None, None), (None, None, 101.0, 3.0), (None, None, 101.0, 2.0)]
    assert errors == {}


def test_mexc_limit_depth_snapshot_has_no_level_of_size_zero():
    frame = limit_depth_frame("BTCUSDT", 55, bids=[("100", "1"), ("99", "0"), ("98", "2")], asks=[("101", "0"), ("102", "3")], send_time=1700000000123, levels=5)
    (book, status), errors = same_on_every_path("mexc-spot", [frame])
    assert status["type"] == "BookStatus" and status["status"] == "synced"
    assert book["snapshot"] and book["bids"] == [(100.0, 1.0), (98.0, 2.0)] and book["asks"] == [(102.0, 3.0)] and errors == {}


@pytest.mark.parametrize("protocol,channels", [(GateioSpotProtocol, ("book", "book_obu")), (GateioFuturesProtocol, ("book", "book_obu", "book_snapshots"))])
def test_one_book_per_symbol_at_one_depth(protocol, channels):
    proto = protocol()
    for held in channels:
        subs = proto.subscriptions([held], ["BTC_USDT"])
        for other in channels:
            if other == held:
                assert proto.subscriptions([other], ["BTC_USDT"], subs) == subs  # the same book again is fine
            else:
                with pytest.raises(ValueError, match="one book per symbol"):
                    proto.subscriptions([other], ["BTC_USDT"], subs)
                assert proto.subscriptions([other], ["ETH_USDT"], subs)  # another symbol is fine
    book = proto.subscriptions(["book"], ["BTC_USDT"])
    deeper = Subscription(book[0].channel, "BTC_USDT", ("20ms",) + book[0].params[1:])
    with pytest.raises(ValueError, match="one depth"):
        proto.subscriptions(["book"], ["BTC_USDT"], [deeper])
    with pytest.raises(ValueError, match="one book channel per symbol"):
        proto.subscriptions(["book", "book_obu"], ["BTC_USDT"])


# -- item 7 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", ["gateio-spot", "gateio-perp"])
@pytest.mark.parametrize("levels", [1, 20])
@pytest.mark.parametrize("first", [None, 3])
def test_gate_full_pushes_of_every_shape(stream, levels, first):
    spot = stream == "gateio-spot"
    bids = [[f"{100 - i}", f"{i + 1}"] for i in range(levels)]
    asks = [[f"{101 + i}", f"{i + 1}"] for i in range(levels)]
    if not spot:
        bids = [{"p": p, "s": s} for p, s in bids]
        asks = [{"p": p, "s": int(s)} for p, s in asks]
    result = {"t": 1700000000123, "full": True, "s": "BTC_USDT", "u": 10, "b": bids, "a": asks}
    if first is not None:
        result["U"] = first
    channel_ = "spot.order_book_update" if spot else "futures.order_book_update"
    frame = _gate(channel_, result)
    delta = _gate(channel_, {"t": 1700000000124, "s": "BTC_USDT", "U": 11, "u": 11, "b": bids[:1], "a": []})
    events, errors = same_on_every_path(stream, [frame, delta])
    assert errors == {}
    assert [(e["type"], e.get("snapshot"), e.get("last_update_id")) for e in events] == [
        ("BookUpdate", True, 10), ("BookStatus", None, 10), ("BookUpdate", False, 11)]
    assert len(events[0]["bids"]) == levels and events[0]["bids"][0][0] == 100.0


# -- item 8 -------------------------------------------------------------------------------------

LEGACY_ALL = _gate("futures.order_book", {"t": 1700000000000, "contract": "BTC_USDT", "id": 100, "asks": [{"p": "101", "s": 10}, {"p": "102", "s": 20}],
                                           "bids": [{"p": "100", "s": 30}, {"p": "99", "s": 40}]}, event="all")


def _legacy(*rows) -> bytes:
    return _gate("futures.order_book", [{"p": p, "s": s, "c": "BTC_USDT", "id": i} for p, s, i in rows])


def test_legacy_order_book_updates_apply_to_the_book():
    steps = [LEGACY_ALL, _legacy(("101", -500, 101), ("101", 0, 102), ("100.5", 700, 103)), _legacy(("99", 0, 104))]
    events, errors = same_on_every_path("gateio-perp", steps)
    assert errors == {}
    deltas = [(e["bids"], e["asks"], e["first_update_id"]) for e in events if e["type"] == "BookUpdate" and not e["snapshot"]]
    assert deltas == [([], [(101.0, 0.05)], 101), ([(101.0, 0.0)], [(101.0, 0.0)], 102), ([(100.5, 0.07)], [], 103), ([(99.0, 0.0)], [(99.0, 0.0)], 104)]


def test_legacy_order_book_book_state_gaps_and_stale_rows():
    from paths import run

    steps = [LEGACY_ALL, _legacy(("101", -500, 101), ("101", 0, 102), ("100.5", 700, 103), ("99", 0, 104))]
    for path in ("direct", "strategy"):
        _, _, h = run("gateio-perp", path, steps)
        book = h.books["BTC_USDT"].book
        assert book.top_bids() == [(100.5, 0.07), (100.0, 0.003)] and book.top_asks() == [(102.0, 0.002)]
        assert book.last_update_id == 104
    # a row already in the book is stale (dropped); a missing id is a gap: the book resyncs
    events, errors = same_on_every_path("gateio-perp", [LEGACY_ALL, _legacy(("101", 1, 100)), _legacy(("101", 1, 102))])
    statuses = [(e["status"], e["reason"]) for e in events if e["type"] == "BookStatus"]
    assert statuses == [("synced", "full"), ("resyncing", "gap")] and errors == {"book_gap": 1}
    # the next `all` syncs it again
    events, _ = same_on_every_path("gateio-perp", [LEGACY_ALL, _legacy(("101", 1, 102)), LEGACY_ALL.replace(b'"id":100', b'"id":200')])
    assert [(e["status"], e["reason"]) for e in events if e["type"] == "BookStatus"] == [("synced", "full"), ("resyncing", "gap"), ("synced", "full")]


def test_legacy_order_book_shapes_out_of_place_are_malformed():
    update_object = LEGACY_ALL.replace(b'"event":"all"', b'"event":"update"')
    all_array = _legacy(("101", 1, 101)).replace(b'"event":"update"', b'"event":"all"')
    assert same_on_every_path("gateio-perp", [update_object, all_array]) == ([], {"malformed": 2})


# -- item 9 -------------------------------------------------------------------------------------


def test_mexc_body_on_another_channel_is_counted_not_emitted():
    deals = aggre_deals_frame("BTCUSDT", [("55", "1", 1, 1700000000123, "t1")], send_time=1700000000123)
    from cexfeed.exchanges.mexc.proto.push_pb2 import PushDataV3ApiWrapper

    def on(channel_: str) -> bytes:
        w = PushDataV3ApiWrapper.FromString(deals)
        w.channel = channel_
        return w.SerializeToString()

    steps = [on("spot@public.kline.v3.api.pb@BTCUSDT@Min1"), on("spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT"),
             on("spot@public.nope.v3.api.pb@BTCUSDT"), on(""), deals]
    events, errors = same_on_every_path("mexc-spot", steps)
    assert [e["type"] for e in events] == ["Trade"]
    assert errors == {"channel_mismatch": 2, "unknown_channel": 2}


# -- items 10 and 11 ----------------------------------------------------------------------------


def test_mexc_deals_without_ids_are_unique_across_pushes():
    t = 1700000000123
    first = aggre_deals_frame("BTCUSDT", [("55", "1", 1, t, ""), ("56", "1", 2, t, "")], send_time=t)
    second = aggre_deals_frame("BTCUSDT", [("57", "1", 1, t, ""), ("58", "1", 2, t, "v9")], send_time=t)
    other = aggre_deals_frame("ETHUSDT", [("5", "1", 1, t, "")], send_time=t)
    events, errors = same_on_every_path("mexc-spot", [first, second, other])
    ids = [(e["symbol"], e["trade_id"]) for e in events]
    assert ids == [("BTC/USDT", f"{t}-1"), ("BTC/USDT", f"{t}-2"), ("BTC/USDT", f"{t}-3"), ("BTC/USDT", "v9"), ("ETH/USDT", f"{t}-1")]
    assert len({i for i in ids}) == len(ids) and errors == {}


def test_new_trade_side_codes_keep_the_trade_marked():
    t = 1700000000123
    events, errors = same_on_every_path("mexc-spot", [aggre_deals_frame("BTCUSDT", [("55", "1", 3, t, "a"), ("56", "1", 0, t, "b")], send_time=t)])
    assert [(e["side"], e["raw_side"], e["trade_id"]) for e in events] == [("unknown", "3", "a"), ("unknown", "0", "b")]
    assert errors == {"unknown_side": 2}
    spot = _gate("spot.trades", [{**SPOT_TRADE, "side": "hold"}, {**SPOT_TRADE, "id": 2}, {**SPOT_TRADE, "id": 3, "side": 5}])
    events, errors = same_on_every_path("gateio-spot", [spot])
    assert [(e["side"], e["raw_side"], e["trade_id"]) for e in events] == [("unknown", "hold", "1"), ("buy", None, "2")]
    assert errors == {"unknown_side": 1, "malformed_item": 1}  # a side that is no text is no side at all


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
async def test_a_running_feed_refuses_a_second_book_of_a_symbol(architecture):
    from cexfeed.compat import open_feed
    from cexfeed.sim import SimServer
    from cexfeed.sim.testing import wait_until

    sim = SimServer(seed=8, rate=30, venues=["gateio-spot"])
    await sim.start()
    feed = open_feed("gateio-spot", ["BTC/USDT"], ["book"], architecture=architecture, url=sim.ws_url("gateio-spot"),
                     rest_url=sim.rest_url("gateio-spot"), on_event=lambda e: None)
    try:
        await feed.start()
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 5.0)
        book = feed.book("BTC/USDT")
        with pytest.raises(ValueError, match="one book per symbol"):
            await feed.subscribe(["BTC/USDT"], ["book_obu"])
        assert feed.book("BTC/USDT") is book and feed.synced("BTC/USDT")
        assert [s.channel for s in feed._subs] == ["book"]
        assert [r.ok for r in await feed.subscribe(["BTC/USDT"], ["book", "trades"])] == [True, True]  # the same book again is fine
    finally:
        await feed.close()
        await sim.stop()


def test_the_live_view_shows_no_price_for_a_side_without_quote():
    from cexfeed.cli.view import View
    from cexfeed.models import BestBidOffer

    class Feed:
        class protocol:
            name = "gateio-perp"

        def _venue(self, symbol):
            return "BTC_USDT"

        def book(self, symbol):
            return None

        def synced(self, symbol):
            return False

    view = View(Feed(), ["BTC/USDT:USDT"], "test")
    view.on_event(BestBidOffer("gateio", "perp", "BTC/USDT:USDT", "BTC_USDT", None, 1, None, None, 101.0, 2.0))
    assert view._top("BTC/USDT:USDT") == ("BTC_USDT", None, (101.0, 2.0))
