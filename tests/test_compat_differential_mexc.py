"""Differential test for MEXC spot: direct handler and strategy architecture give the same
events (``recv_ts`` aside) and the same error counts on every real frame in
shared/captures/mexc and on a built session covering every body, book sync and bad frames."""

from __future__ import annotations

import msgspec
import pytest

from cexfeed.compat import MessageType, ParsedMessageAdapter, build_handler
from cexfeed.exchanges.mexc.capture import iter_mexc_frames
from cexfeed.exchanges.mexc.encode import (
    aggre_book_ticker_frame,
    aggre_deals_frame,
    aggre_depth_frame,
    book_ticker_batch_frame,
    kline_frame,
    limit_depth_frame,
    mini_ticker_frame,
    mini_tickers_frame,
)
from cexfeed.exchanges.mexc.proto.public_pb2 import PublicAggreDepthsV3Api
from cexfeed.handlers import ConnectionHooks


class Hooks(ConnectionHooks):
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def on_ack(self, request_id, channel, ok, message) -> None:
        self.calls.append(("ack", request_id, channel, ok, message))

    def on_pong(self) -> None:
        self.calls.append(("pong",))

    def request_snapshot(self, venue_symbol) -> None:
        self.calls.append(("snapshot", venue_symbol))


def _comparable(event) -> dict:
    data = msgspec.structs.asdict(event)
    data.pop("recv_ts")
    data["type"] = type(event).__name__
    return data


def run(architecture: str, steps):
    events: list = []
    handler = build_handler("mexc-spot", architecture, events.append)
    hooks = handler.hooks = Hooks()
    messages: list = []
    adapter = ParsedMessageAdapter(handler, on_event=events.append)
    for msg_type in (MessageType.BOOK, MessageType.TRADE, MessageType.BBO, MessageType.ERROR, MessageType.BOOK_STATUS):
        adapter.on(msg_type, messages.append)
    for step in steps:
        if isinstance(step, tuple):  # a REST snapshot: (symbol, lastUpdateId, bids, asks)
            handler.apply_snapshot(*step)
        else:
            handler._handle_message(step, 3)
    msgs = [(m.type, m.symbol, {k: v for k, v in m.data.items() if k != "recv_ts"}, m.raw) for m in messages]
    return [_comparable(e) for e in events], handler.stats.as_dict(), hooks.calls, msgs


def _frames(captures_dir) -> list:
    folder = captures_dir / "mexc"
    frames = list(iter_mexc_frames(folder))
    frames += list(iter_mexc_frames(folder / "text_frames.jsonl"))
    if len(frames) < 8:
        pytest.skip(f"MEXC captures missing in {folder}")
    return frames


def test_every_mexc_capture_identical(captures_dir):
    frames = _frames(captures_dir)
    direct = run("direct", frames)
    strategy = run("strategy", frames)
    assert direct[0] == strategy[0]
    assert direct[1:] == strategy[1:]
    kinds = {e["type"] for e in direct[0]}
    assert {"Trade", "BestBidOffer", "Kline", "BookUpdate"} <= kinds


def test_built_mexc_session_identical():
    bids = [(100.0 - i * 0.5, 1.0 + i) for i in range(20)]
    asks = [(100.5 + i * 0.5, 2.0 + i) for i in range(20)]
    steps = [
        aggre_depth_frame("BTCUSDT", 11, 12, bids=[(99.0, 3.0)], asks=[], send_time=1000),  # buffered
        ("BTCUSDT", 10, bids, asks, 999),
        aggre_depth_frame("BTCUSDT", 13, 14, bids=[(100.0, 0.0)], asks=[(100.5, 9.0)], send_time=1001),
        aggre_depth_frame("BTCUSDT", 20, 21, bids=[(99.5, 1.0)], send_time=1002),  # gap
        aggre_depth_frame("BTCUSDT", 0, 0, send_time=1003),  # bad version
        limit_depth_frame("ETHUSDT", 55, bids=[(10.0, 1.0)], asks=[(11.0, 2.0)], send_time=1004),
        limit_depth_frame("ETHUSDT", 56, bids=[(12.0, 1.0)], asks=[(11.0, 2.0)], send_time=1005),  # crossed
        aggre_deals_frame("BTCUSDT", [(100.0, 0.5, 1, 1006, "a1"), (100.5, 0.25, 2, 1007, ""), (1.0, 1.0, 3, 1008, "x")], send_time=1009),
        aggre_book_ticker_frame("BTCUSDT", "99.5", "1.5", "100.5", "2.5", send_time=1010),
        book_ticker_batch_frame("BTCUSDT", [("99.5", "1", "100", "2")], version=77, send_time=1011),
        kline_frame("BTCUSDT", "Min1", 1_700_000_000, 1.0, 2.0, 0.5, 1.5, 10.0, 15.0, create_time=1012),
        mini_ticker_frame("BTCUSDT", "100", "-0.0123", "110", "90", "12345.6", "123.4", send_time=1013),
        mini_tickers_frame([("ETHUSDT", "10", "0.01", "11", "9", "100", "10")], send_time=1014),
        b"\x0a\x02\xff\xfe",
        PublicAggreDepthsV3Api(fromVersion="1", toVersion="2", eventType="x").SerializeToString(),  # wrong type
        aggre_book_ticker_frame("BTCUSDT", "99.5", "1.5", "100.5", "2.5", send_time=1010)[:-5],  # truncated
        aggre_book_ticker_frame("BTCUSDT", "9x", "1.5", "100.5", "2.5", send_time=1010),  # bad number
        b"{not json",
        '{"id":1,"code":0,"msg":"spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"}',
        '{"id":2,"code":0,"msg":""}',
        '{"id":3,"code":0,"msg":"Not Subscribed successfully! [spot@public.deals.v3.api.pb@BTCUSDT]. Reason： Blocked!"}',
        '{"id":0,"code":0,"msg":"PONG"}',
        '{"foo":1}',
    ]
    direct = run("direct", steps)
    strategy = run("strategy", steps)
    assert direct == strategy
    events, stats, hooks, _ = direct
    assert stats["errors"]["bad_version"] == 1 and stats["errors"]["book_crossed"] == 1
    assert stats["errors"]["book_gap"] == 1 and stats["errors"]["unknown_side"] == 1
    assert stats["errors"]["malformed"] == 3 and stats["errors"]["wrong_type"] == 1 and stats["errors"]["truncated"] == 1
    trades = [e for e in events if e["type"] == "Trade"]
    # times in any unit: 1007 is seconds; a deal without a trade id gets <time ms>-<n>; a new
    # side code keeps its trade, marked unknown with the code
    assert [(t["side"], t["raw_side"], t["price"], t["size"], t["trade_id"]) for t in trades] == [
        ("buy", None, 100.0, 0.5, "a1"),
        ("sell", None, 100.5, 0.25, "1007000-1"),
        ("unknown", "3", 1.0, 1.0, "x"),
    ]
    assert ("snapshot", "BTCUSDT") in hooks and ("pong",) in hooks


def test_connection_age_identical():
    """PONGs arriving while depth pushes stop, then the 23 h reconnect request: the same on
    both architectures (silence itself is the connection's, tests/test_subscription_watch.py)."""
    bids = [(100.0, 1.0)]
    asks = [(101.0, 1.0)]
    s = 1_000_000_000
    steps = [
        (aggre_depth_frame("BTCUSDT", 11, 12, bids=[(99.0, 3.0)], send_time=1000), 1 * s),
        (("BTCUSDT", 10, bids, asks, 999, 2 * s), None),
        (aggre_depth_frame("BTCUSDT", 13, 14, bids=[(99.5, 1.0)], send_time=1001), 3 * s),
        ('{"id":0,"code":0,"msg":"PONG"}', 30 * s),
        ('{"id":0,"code":0,"msg":"PONG"}', 70 * s),
        ('{"id":0,"code":0,"msg":"PONG"}', 80 * s),
        (aggre_depth_frame("BTCUSDT", 15, 16, asks=[(100.5, 2.0)], send_time=1002), 81 * s),
        ('{"id":0,"code":0,"msg":"PONG"}', 24 * 3600 * s),  # past the connection age
    ]
    results = []
    for architecture in ("direct", "strategy"):
        events: list = []
        handler = build_handler("mexc-spot", architecture, events.append)
        hooks = handler.hooks = Hooks()
        reconnects: list = []
        hooks.on_reconnect_requested = reconnects.append
        for frame, recv_ts in steps:
            if recv_ts is None:
                handler.apply_snapshot(*frame)
            else:
                handler._handle_message(frame, recv_ts)
        results.append(([_comparable(e) for e in events], handler.stats.as_dict(), hooks.calls, reconnects))
    assert results[0] == results[1]
    events, stats, _, reconnects = results[0]
    statuses = [(e["status"], e["reason"]) for e in events if e["type"] == "BookStatus"]
    assert statuses == [("synced", "snapshot")] and len(reconnects) == 1


def test_impossible_kline_and_ticker_numbers_are_malformed_on_both_paths():
    """NaN/inf/negative prices and volumes in klines and mini tickers never reach an event;
    the good frames around them still do (both architectures)."""
    steps = [
        kline_frame("BTCUSDT", "Min1", 60, "1.5", "2", "1", "NaN", "3", "4", create_time=61000),
        kline_frame("BTCUSDT", "Min1", 60, "1.5", "2", "-1", "1.8", "3", "4", create_time=61000),
        kline_frame("BTCUSDT", "Min1", 60, "1.5", "2", "1", "1.8", "inf", "4", create_time=61000),
        # reported by a user trial: a kline without an opening price came out with open 0.0
        kline_frame("BTCUSDT", "Min1", 60, "", "2", "1", "1.8", "3", "4", create_time=61000),
        mini_ticker_frame("BTCUSDT", "65000", "nan", "66000", "64000", "900", "3", send_time=5),
        mini_ticker_frame("BTCUSDT", "-65000", "0.01", "66000", "64000", "900", "3", send_time=5),
        # reported by a second user trial: an infinite rate x 100, a zero price, "1_000",
        # impossible times, a deal without a quantity
        mini_ticker_frame("BTCUSDT", "65000", "1e308", "66000", "64000", "900", "3", send_time=5),
        mini_ticker_frame("BTCUSDT", "0", "0.01", "66000", "64000", "900", "3", send_time=5),
        mini_ticker_frame("BTCUSDT", "65000", "0.01", "66000", "64000", "1_000", "3", send_time=5),
        mini_ticker_frame("BTCUSDT", "65000", "0.01", "66000", "64000", "900", "3", send_time=-1),
        kline_frame("BTCUSDT", "Min1", -1, "1.5", "2", "1", "1.8", "3", "4", create_time=61000),
        kline_frame("BTCUSDT", "Min1", 60, "1.5", "2", "1", "1.8", "3", "4", create_time=-(2**62)),
        aggre_deals_frame("BTCUSDT", [("1.5", "2", 1, -1, "t1")], send_time=7),
        aggre_deals_frame("BTCUSDT", [("1.5", "", 1, 1700000000000, "t2"), ("1.5", "2", 2, 1700000000001, "t3")], send_time=7),
        mini_ticker_frame("BTCUSDT", "65000", "-0.0123", "66000", "64000", "900", "3", send_time=6),
        kline_frame("BTCUSDT", "Min1", 60, "1.5", "2", "1", "1.8", "3", "4", create_time=61000),
    ]
    direct = run("direct", steps)
    assert direct == run("strategy", steps)
    events, stats, _, _ = direct
    # the deal with an impossible time is one item of its push: left out, counted on its own
    assert stats["errors"]["malformed"] == 12 and stats["errors"]["malformed_item"] == 1 and stats["errors"]["zero_size_trade"] == 1
    (trade,) = [e for e in events if e["type"] == "Trade"]
    assert (trade["trade_id"], trade["size"], trade["side"]) == ("t3", 2.0, "sell")
    events = [e for e in events if e["type"] != "Trade"]
    ticker, kline = events
    assert (ticker["type"], ticker["last"], ticker["change_pct"], ticker["quote_volume"]) == ("Ticker", 65000.0, -1.23, 900.0)
    assert (kline["type"], kline["low"], kline["close"], kline["volume"], kline["quote_volume"]) == ("Kline", 1.0, 1.8, 3.0, 4.0)
