"""Every real MEXC frame in shared/captures/mexc replays to the values of its .decoded.json."""

from __future__ import annotations

import json

import pytest
from mexc_helpers import DECODERS, make_handler

from cexfeed.exchanges.mexc.capture import iter_mexc_frames
from cexfeed.models import BookStatus, BookUpdate, BestBidOffer, Kline, Trade, VenueError, decode_event, encode_event


def _captures(captures_dir):
    folder = captures_dir / "mexc"
    files = sorted(folder.glob("*.bin"))
    if not files:
        pytest.skip(f"no MEXC .bin captures in {folder}")
    return files


def _levels(items):
    return [(float(i["price"]), float(i["quantity"])) for i in items]


@pytest.mark.parametrize("decoder", DECODERS)
def test_every_capture_matches_its_decode(captures_dir, decoder):
    files = _captures(captures_dir)
    checked = set()
    for path in files:
        want = json.loads(path.with_suffix(".decoded.json").read_text())
        handler, events, hooks = make_handler(decoder)
        symbol = want["symbol"]
        ts = want.get("sendTime") or want.get("createTime")
        if "publicAggreDepths" in want:
            body = want["publicAggreDepths"]
            first, last = int(body["fromVersion"]), int(body["toVersion"])
            # a snapshot just before the push, holding the levels it removes
            handler.apply_snapshot(symbol, first - 1, [(1.383, 10.0), (1.3829, 5.0)], [(1.3842, 7.0), (1.3843, 1.0)])
            events.clear()
        handler._handle_message(path.read_bytes(), 123)
        assert handler.stats.errors == {}, (path.name, handler.stats.errors)
        assert events, path.name
        for event in events:
            assert event.venue == "mexc" and event.market == "spot" and event.recv_ts == 123
            assert event.venue_symbol == symbol and event.symbol == "BTC/USDT" if symbol == "BTCUSDT" else True
            assert decode_event(encode_event(event)) == event
        if "publicAggreDepths" in want:
            (update,) = events
            assert isinstance(update, BookUpdate) and not update.snapshot
            assert update.symbol == "XRP/USDC"
            assert update.first_update_id == first and update.last_update_id == last
            assert update.bids == _levels(body["bids"]) == [(1.383, 0.0)]
            assert update.asks == _levels(body["asks"]) == [(1.3842, 0.0)]
            assert update.exchange_ts == ts == 1787961599969
            book = handler.book(symbol).book
            assert book.top_bids() == [(1.3829, 5.0)] and book.top_asks() == [(1.3843, 1.0)]
            assert book.last_update_id == last
            checked.add("aggre_depth")
        elif "publicAggreBookTicker" in want:
            body = want["publicAggreBookTicker"]
            (bbo,) = events
            assert isinstance(bbo, BestBidOffer)
            assert (bbo.bid_price, bbo.bid_size, bbo.ask_price, bbo.ask_size) == tuple(
                float(body[k]) for k in ("bidPrice", "bidQuantity", "askPrice", "askQuantity")
            )
            assert bbo.update_id == int(body["version"])
            assert bbo.exchange_ts == ts
            checked.add("book_ticker")
        elif "publicAggreDeals" in want:
            deals = want["publicAggreDeals"]["deals"]
            assert len(events) == len(deals)
            for trade, deal in zip(events, deals):
                assert isinstance(trade, Trade)
                assert trade.price == float(deal["price"]) and trade.size == float(deal["quantity"])
                assert trade.side == {1: "buy", 2: "sell"}[deal["tradeType"]]
                assert trade.exchange_ts == deal["time"]
                assert trade.trade_id == deal["tradeId"]
            checked.add("deals")
        elif "publicLimitDepths" in want:
            body = want["publicLimitDepths"]
            update, status = events  # the first push of a full book syncs it
            assert isinstance(status, BookStatus) and status.status == "synced"
            assert isinstance(update, BookUpdate) and update.snapshot
            assert update.bids == _levels(body["bids"]) and update.asks == _levels(body["asks"])
            assert update.first_update_id == update.last_update_id == int(body["version"])
            assert update.exchange_ts == ts
            checked.add("limit_depth")
        elif "publicSpotKline" in want:
            k = want["publicSpotKline"]
            (kline,) = events
            assert isinstance(kline, Kline)
            assert kline.interval == "1m" and kline.open_ts == k["windowStart"] * 1000
            assert (kline.open, kline.high, kline.low, kline.close) == tuple(
                float(k[f]) for f in ("openingPrice", "highestPrice", "lowestPrice", "closingPrice")
            )
            assert kline.volume == float(k["volume"]) and kline.quote_volume == float(k["amount"])
            assert kline.exchange_ts == want["createTime"]
            checked.add("kline")
        else:  # pragma: no cover - a new capture kind
            pytest.fail(f"no expectation for {path.name}")
    assert checked == {"aggre_depth", "book_ticker", "deals", "limit_depth", "kline"}


def test_known_values_spot_checks(captures_dir):
    folder = captures_dir / "mexc"
    _captures(captures_dir)
    handler, events, _ = make_handler()
    handler._handle_message((folder / "cs_aggre_deals_100ms_BTCUSDT.bin").read_bytes(), 1)
    assert [(t.price, t.size, t.side, t.exchange_ts) for t in events] == [
        (84270.0, 0.00099829, "sell", 1790281246176),
        (84270.0, 0.00019169, "buy", 1790281246177),
    ]
    events.clear()
    handler._handle_message((folder / "py_aggre_bookticker_10ms_BTCUSDT.bin").read_bytes(), 1)
    (bbo,) = events
    assert (bbo.bid_price, bbo.bid_size, bbo.ask_price, bbo.ask_size, bbo.update_id, bbo.exchange_ts) == (
        86503.92, 14.91335308, 86503.93, 0.004965, 81999275445, 1790145447239)


def test_depth_capture_requests_snapshot_once_and_buffers(captures_dir):
    _captures(captures_dir)
    raw = (captures_dir / "mexc" / "cfarb_aggre_depth_100ms_XRPUSDC_fixture02.bin").read_bytes()
    handler, events, hooks = make_handler()
    handler._handle_message(raw, 1)
    handler._handle_message(raw, 2)
    assert hooks.snapshots == ["XRPUSDC"] and events == []
    handler.apply_snapshot("XRPUSDC", 4925475317, [(1.383, 3.0)], [(1.3842, 4.0)])
    kinds = [type(e) for e in events]
    assert kinds == [BookUpdate, BookStatus]  # the synced book (buffered push replayed), status
    assert events[0].snapshot and events[0].last_update_id == 4925475319
    assert events[1].status == "synced" and events[1].last_update_id == 4925475319
    assert events[1].detail == "1 buffered deltas replayed"
    assert handler.book("XRPUSDC").book.top_bids() == [] and handler.book("XRPUSDC").book.top_asks() == []


def test_iter_mexc_frames_folder_file_and_text(captures_dir, tmp_path):
    folder = captures_dir / "mexc"
    files = _captures(captures_dir)
    frames = list(iter_mexc_frames(folder))
    assert frames == [f.read_bytes() for f in files]
    assert list(iter_mexc_frames(files[0])) == [files[0].read_bytes()]
    text = tmp_path / "frames.hex"
    text.write_text("# comment\n" + files[0].read_bytes().hex() + "\n\n" + '{"id":0,"code":0,"msg":"PONG"}\n')
    assert list(iter_mexc_frames(text)) == [files[0].read_bytes(), '{"id":0,"code":0,"msg":"PONG"}']
    handler, events, hooks = make_handler()
    for frame in iter_mexc_frames(folder / "text_frames.jsonl"):
        handler._handle_message(frame, 1)
    assert hooks.pongs == 1
    assert [a[2] for a in hooks.acks] == [True, True, False]
    errors = [e for e in events if isinstance(e, VenueError)]
    assert len(errors) == 1 and errors[0].channel == "spot@public.kline.v3.api@BTCUSDT@Min1" and errors[0].code == 0
    # futures frames, the legacy JSON push and the message-only line are not spot replies
    assert handler.stats.errors["unknown_frame"] == 5
    bad = tmp_path / "bad.hex"
    bad.write_text("zz\n")
    with pytest.raises(ValueError, match="bad.hex:1"):
        list(iter_mexc_frames(bad))
