"""One rule for the multi-item MEXC bodies (deals, book ticker batch, mini tickers, increase depth
batch): an item with an impossible value, or a deal of an unknown side, is counted and left out;
the other items of the push are emitted. The same on the upb decoder, the compiled decoder and
the strategy (compat) path."""

from __future__ import annotations

import msgspec
import pytest
from mexc_helpers import make_handler

from cexfeed.compat import build_handler
from cexfeed.exchanges.mexc.encode import aggre_deals_frame, book_ticker_batch_frame, mini_tickers_frame
from cexfeed.exchanges.mexc.proto.push_pb2 import PushDataV3ApiWrapper

PATHS = ["upb", "compiled", "strategy"]


def _run(path: str, frames) -> tuple[list[dict], dict]:
    if path == "strategy":
        events: list = []
        handler = build_handler("mexc-spot", "strategy", events.append)
    else:
        handler, events, _ = make_handler(path)
    handler.apply_snapshot("BTCUSDT", 100, [(99.0, 1.0)], [(101.0, 1.0)], recv_ts=1)
    for raw in frames:
        handler._handle_message(raw, 3)
    out = []
    for event in events:
        data = msgspec.structs.asdict(event)
        data["type"] = type(event).__name__
        out.append(data)
    return out, dict(handler.stats.errors)


def _increase_batch(items) -> bytes:
    w = PushDataV3ApiWrapper(channel="spot@public.increase.depth.batch.v3.api.pb@BTCUSDT", symbol="BTCUSDT", sendTime=9)
    for version, price in items:
        item = w.publicIncreaseDepthsBatch.items.add()
        item.version = version
        level = item.bids.add()
        level.price = price
        level.quantity = "2"
    return w.SerializeToString()


@pytest.mark.parametrize("path", PATHS)
def test_a_deal_of_unknown_side_and_a_deal_with_a_bad_price_leave_the_others(path):
    raw = aggre_deals_frame(
        "BTCUSDT",
        [("100.5", "1", 1, 1700000000000, "a"), ("100.5", "1", 3, 1700000000001, "b"), ("+100", "1", 2, 1700000000002, "c"),
         ("100.25", "2", 2, 1700000000003, "d"), ("100", "1", 1, 10**14, "e")],
        send_time=5,
    )
    events, errors = _run(path, [raw])
    trades = [(e["trade_id"], e["price"], e["size"], e["side"]) for e in events if e["type"] == "Trade"]
    assert trades == [("a", 100.5, 1.0, "buy"), ("d", 100.25, 2.0, "sell")]
    assert errors.get("unknown_side") == 1 and errors.get("malformed_item") == 2 and "malformed" not in errors


@pytest.mark.parametrize("path", PATHS)
def test_a_bad_book_ticker_batch_item_leaves_the_others(path):
    raw = book_ticker_batch_frame("BTCUSDT", [("100", "1", "101", "2"), ("1_000", "1", "101", "2"), ("99", "3", "100", "4")], version=12)
    events, errors = _run(path, [raw])
    bbos = [(e["bid_price"], e["bid_size"], e["ask_price"], e["ask_size"], e["update_id"]) for e in events if e["type"] == "BestBidOffer"]
    assert bbos == [(100.0, 1.0, 101.0, 2.0, 12), (99.0, 3.0, 100.0, 4.0, 12)]
    assert errors == {"malformed_item": 1}


@pytest.mark.parametrize("path", PATHS)
def test_a_bad_mini_ticker_item_leaves_the_others(path):
    raw = mini_tickers_frame([("BTCUSDT", "65000", "0.01", "66000", "64000", "900", "3"), ("ETHUSDT", "00012", "0.01", "1", "1", "1", "1"),
                              ("XRPUSDT", "0.5", "-0.02", "0.6", "0.4", "10", "20")], send_time=5)
    events, errors = _run(path, [raw])
    tickers = [(e["venue_symbol"], e["last"], e["change_pct"]) for e in events if e["type"] == "Ticker"]
    assert tickers == [("BTCUSDT", 65000.0, 1.0), ("XRPUSDT", 0.5, -2.0)]
    assert errors == {"malformed_item": 1}


@pytest.mark.parametrize("path", PATHS)
def test_a_bad_increase_depth_item_is_a_gap_for_the_book(path):
    # version 102 has a bad price: left out and counted; 103 then does not continue 101 -> resync
    raw = _increase_batch([("101", "99.5"), ("102", "nan"), ("103", "99.25")])
    events, errors = _run(path, [raw])
    books = [(e["first_update_id"], e["bids"]) for e in events if e["type"] == "BookUpdate" and not e["snapshot"]]
    assert books == [(101, [(99.5, 2.0)])]
    statuses = [(e["status"], e["reason"]) for e in events if e["type"] == "BookStatus"]
    assert statuses == [("synced", "snapshot"), ("resyncing", "gap")]
    assert errors.get("malformed_item") == 1 and errors.get("book_gap") == 1
