"""Differential test: the direct handlers and the strategy architecture produce the same event
stream (same events, same order, same values; ``recv_ts`` aside) on every reference capture."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from cexfeed.capture import FRAME, SNAPSHOT, instruments_file_beside, merged, read_instruments, snapshot_files_beside, snapshot_symbol
from cexfeed.compat import MessageType, ParsedMessageAdapter, build_handler
from cexfeed.models import BookUpdate, Trade

SESSIONS = {
    "gateio-spot": "gateio/GATEIO.ws.1.0",
    "gateio-perp": "gateio/GATEIO_FUTURES.ws.1.0",
}


def _comparable(event) -> dict:
    data = msgspec.structs.asdict(event)
    data.pop("recv_ts")
    data["type"] = type(event).__name__
    return data


def _symbols(stream: str, instruments: bytes | None):
    if stream == "gateio-spot":
        from cexfeed.exchanges.gateio.protocol import spot_symbol_map

        return spot_symbol_map(instruments)
    from cexfeed.exchanges.gateio.contracts import futures_symbol_map

    return futures_symbol_map(instruments)


def _apply_snapshot(stream: str, handler, venue_symbol: str, body: bytes, recv_ts: int) -> None:
    if stream == "gateio-spot":
        from cexfeed.exchanges.gateio.protocol import parse_spot_snapshot

        snap = parse_spot_snapshot(body)
        handler.apply_snapshot(venue_symbol, snap.id, snap.bids, snap.asks, snap.update or snap.current, recv_ts)
    else:
        handler.apply_rest_snapshot(venue_symbol, body, recv_ts)


def replay(stream: str, ws_path: Path, architecture: str, adapter_types=()):
    """Replay one capture session (frames and REST snapshots merged by time) through
    ``architecture``; return (events, handler, ParsedMessages seen by an adapter consumer)."""
    instruments = read_instruments(p) if (p := instruments_file_beside(ws_path)) else None
    events: list = []
    handler = build_handler(stream, architecture, events.append, symbols=_symbols(stream, instruments), depth=100)
    messages: list = []
    if adapter_types:
        adapter = ParsedMessageAdapter(handler, on_event=events.append)
        for msg_type in adapter_types:
            adapter.on(msg_type, messages.append)
    handle = handler._handle_message
    for item in merged(ws_path, snapshot_files_beside(ws_path)):
        recv_ts = int(item.ts * 1e9)
        if item.kind == FRAME:
            handle(item.payload.encode(), recv_ts)
        elif item.kind == SNAPSHOT:
            _apply_snapshot(stream, handler, snapshot_symbol(item.url), item.payload.encode(), recv_ts)
    return events, handler, messages


@pytest.mark.parametrize("stream", sorted(SESSIONS))
def test_capture_sessions_identical(stream, captures_dir):
    ws_path = captures_dir / SESSIONS[stream]
    direct, dh, _ = replay(stream, ws_path, "direct")
    strategy, sh, _ = replay(stream, ws_path, "strategy")
    assert len(direct) > 100
    assert [_comparable(e) for e in direct] == [_comparable(e) for e in strategy]
    assert dh.stats.as_dict() == sh.stats.as_dict()
    # the same books at the end, level by level
    assert sorted(dh.books) == sorted(sh.books)
    for venue_symbol, seq in dh.books.items():
        other = sh.books[venue_symbol].book
        assert list(seq.book.bids.items()) == list(other.bids.items())
        assert list(seq.book.asks.items()) == list(other.asks.items())
        assert seq.book.last_update_id == other.last_update_id


def test_gateio_spot_known_values(captures_dir):
    events, handler, _ = replay("gateio-spot", captures_dir / SESSIONS["gateio-spot"], "strategy")
    trades = [e for e in events if isinstance(e, Trade)]
    books = [e for e in events if isinstance(e, BookUpdate)]
    assert trades and books
    assert all(t.venue == "gateio" and t.market == "spot" and "/" in t.symbol for t in trades)
    assert all(t.side in ("buy", "sell") and t.price > 0 and t.size > 0 for t in trades)
    assert sum(1 for b in books if b.snapshot) == 10
    assert handler.stats.errors.get("book_gap", 0) == 0


@pytest.mark.parametrize("stream", sorted(SESSIONS))
def test_adapter_gives_parsed_messages_equal_to_strategy(stream, captures_dir):
    """A ParsedMessage consumer sees the same messages on direct (through the adapter) as on
    the strategy path (natively)."""
    ws_path = captures_dir / SESSIONS[stream]
    # control messages (ACK, PONG, SYSTEM) exist only on the strategy path; direct handlers
    # report those through hooks
    types = [t for t in MessageType if t not in (MessageType.ACK, MessageType.PONG, MessageType.SYSTEM)]
    _, _, via_direct = replay(stream, ws_path, "direct", types)
    _, _, via_strategy = replay(stream, ws_path, "strategy", types)

    def key(msg):
        data = dict(msg.data)
        data.pop("recv_ts", None)
        return (msg.type, msg.venue, msg.symbol, data, msg.raw)

    assert len(via_direct) > 100
    assert [key(m) for m in via_direct] == [key(m) for m in via_strategy]
    kinds = {m.type for m in via_direct}
    assert MessageType.BOOK in kinds and MessageType.BOOK_STATUS in kinds


# the contracts the frames below name, with their multipliers (a perp handler holds the pushes
# of a contract whose multiplier it does not know)
CONTRACTS = b'[{"name":"BTC_USDT","quanto_multiplier":"0.0001"},{"name":"ETH_USDT","quanto_multiplier":"0.01"}]'


def _events_and_stats(stream: str, architecture: str, frames):
    from cexfeed.compat import build_handler

    events: list = []
    handler = build_handler(stream, architecture, events.append, symbols=_symbols(stream, CONTRACTS if stream == "gateio-perp" else None))
    for frame in frames:
        handler._handle_message(frame, 1)
    return [_comparable(e) for e in events], handler.stats.as_dict()


def test_gateio_error_and_malformed_frames_identical(captures_dir):
    frames = [line.encode() for line in (captures_dir / "gateio" / "error-frames_various.jsonl").read_text().splitlines() if line]
    frames += [
        b"not json",
        b'{"channel":"spot.trades","event":"update","result":{"id":1}}',  # fields missing
        b'{"channel":"spot.nope","event":"update","result":{}}',
        b'{"time":1,"channel":"spot.pong","event":"","result":null}',
        b'{"time":1,"channel":"spot.weird","event":"other"}',
    ]
    direct = _events_and_stats("gateio-spot", "direct", frames)
    strategy = _events_and_stats("gateio-spot", "strategy", frames)
    assert direct == strategy
    events, stats = direct
    assert [e["code"] for e in events] == [2, 2, 11, 2, 4]
    assert stats["errors"] == {"venue_error": 5, "malformed": 2, "unknown_channel": 1, "unknown_frame": 1}


FUTURES_FRAMES = [
    b'{"time":1,"time_ms":1000,"channel":"futures.trades","event":"update","result":[{"id":7,"create_time":1,"create_time_ms":1000,"contract":"BTC_USDT","size":-3,"price":"65000.5"},{"id":8,"create_time":1,"create_time_ms":1001,"contract":"BTC_USDT","size":"2.5","price":"65001"},{"id":9,"create_time":1,"contract":"BTC_USDT","size":0,"price":"1"}]}',
    b'{"time":1,"time_ms":1000,"channel":"futures.tickers","event":"update","result":[{"contract":"BTC_USDT","last":"65000","change_percentage":"-1.5","funding_rate":"0.0001","funding_rate_indicative":"0.0002","funding_next_apply":1700000000,"mark_price":"65001","index_price":"65002","volume_24h":"100","high_24h":"66000","low_24h":"64000"}]}',
    b'{"time":1,"time_ms":1000,"channel":"futures.tickers","event":"update","result":{"contract":"ETH_USDT","last":"","mark_price":"3000.1","funding_rate":"x"}}',
    b'{"time":1,"time_ms":1000,"channel":"futures.public_liquidates","event":"update","result":[{"price":64000.1,"size":-10,"time":999,"contract":"BTC_USDT"}]}',
    # a contract the list does not name: held whole, never published in contracts
    b'{"time":1,"time_ms":1000,"channel":"futures.public_liquidates","event":"update","result":[{"price":"1","size":"4","contract":"NOPE_USDT"}]}',
    b'{"time":60,"time_ms":60000,"channel":"futures.contract_stats","event":"update","result":[{"time":60,"contract":"BTC_USDT","open_interest":12345,"open_interest_usd":"800000.5"},{"time":60,"open_interest":1},{"time":60,"contract":"ETH_USDT"}]}',
    b'{"time":1,"time_ms":1000,"channel":"futures.candlesticks","event":"update","result":[{"t":60,"v":"20","c":"1.5","h":"2","l":"1","o":"1.2","n":"1m_BTC_USDT","a":"3","w":true},{"t":60,"c":"1.5","h":"2","l":"1","o":"1.2","n":"1m_mark_BTC_USDT"}]}',
    b'{"time":1,"time_ms":1000,"channel":"futures.book_ticker","event":"update","result":{"t":1000,"u":5,"s":"BTC_USDT","b":"65000","B":"37","a":"","A":0}}',
    b'{"time":1,"time_ms":1000,"channel":"futures.obu","event":"update","result":{"t":1000,"s":"ob.BTC_USDT.50","U":2,"u":3,"b":[["65000","1"]],"a":[]}}',
    b'{"time":1,"time_ms":1000,"channel":"futures.obu","event":"update","result":{"t":1001,"full":true,"s":"ob.BTC_USDT.50","u":10,"b":[["65000","10"],["64999","5"]],"a":[["65001","3"]]}}',
    b'{"time":1,"time_ms":1000,"channel":"futures.obu","event":"update","result":{"t":1002,"s":"ob.BTC_USDT.50","U":11,"u":12,"b":[["65000","0"]],"a":[["65002","7"]]}}',
    b'{"time":1,"time_ms":1000,"channel":"futures.obu","event":"update","result":{"t":1003,"s":"ob.BTC_USDT.50","U":14,"u":15,"b":[],"a":[]}}',
    b'{"time":1,"time_ms":1000,"channel":"futures.order_book","event":"all","result":{"t":1000,"contract":"ETH_USDT","id":77,"asks":[{"p":"3001","s":5}],"bids":[{"p":"3000","s":"2"}]}}',
    b'{"time":1,"time_ms":1000,"channel":"futures.order_book","event":"all","result":{"t":1001,"contract":"ETH_USDT","id":78,"asks":[{"p":"3002","s":5}],"bids":[{"p":"3000","s":"2"}]}}',
    b'{"time":1,"time_ms":1000,"channel":"futures.order_book","event":"update","result":[{"p":"3000","s":1}]}',
    b'{"time":1,"channel":"futures.pong","event":"","result":null}',
]


def test_gateio_futures_channels_identical(captures_dir):
    from cexfeed.capture import read_instruments
    from cexfeed.exchanges.gateio.contracts import futures_symbol_map

    symbols = futures_symbol_map(read_instruments(captures_dir / "gateio" / "GATEIO_FUTURES.0"))
    results = []
    for architecture in ("direct", "strategy"):
        events: list = []
        handler = build_handler("gateio-perp", architecture, events.append, symbols=symbols)
        for frame in FUTURES_FRAMES:
            handler._handle_message(frame, 5)
        results.append(([_comparable(e) for e in events], handler.stats.as_dict()))
    assert results[0] == results[1]
    events, stats = results[0]
    kinds = [e["type"] for e in events]
    for kind in ("Trade", "Ticker", "FundingRate", "MarkPrice", "Liquidation", "OpenInterest", "Kline", "BestBidOffer", "BookUpdate", "BookStatus"):
        assert kind in kinds, kind
    trades = [e for e in events if e["type"] == "Trade"]
    # BTC_USDT quanto_multiplier 0.0001: 3 contracts = 0.0003 BTC, taker sell
    assert (trades[0]["side"], trades[0]["contracts"], trades[0]["size"], trades[0]["price"]) == ("sell", 3.0, 0.0003, 65000.5)
    assert stats["errors"]["zero_size_trade"] == 1 and stats["errors"]["ticker_lenient"] == 1
    assert stats["errors"]["held_no_multiplier"] == 1 and not any(e.get("venue_symbol") == "NOPE_USDT" and e["type"] == "Liquidation" for e in events)
    (held,) = [e for e in events if e["type"] == "StreamStatus"]
    assert (held["venue_symbol"], held["status"], held["reason"]) == ("NOPE_USDT", "held", "no_multiplier")


class _Hooks:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def on_ack(self, request_id, channel, ok, message) -> None:
        self.calls.append(("ack", request_id, channel, ok, message))

    def on_pong(self) -> None:
        self.calls.append(("pong",))

    def request_snapshot(self, venue_symbol) -> None:
        self.calls.append(("snapshot", venue_symbol))

    def request_resubscribe(self, venue_symbol) -> None:
        self.calls.append(("resubscribe", venue_symbol))

    def on_reconnect_requested(self, reason) -> None:
        self.calls.append(("reconnect", reason))


SPOT_OBU_FRAMES = [
    b'{"time":1,"time_ms":1000,"id":5,"channel":"spot.obu","event":"subscribe","payload":["ob.BTC_USDT.50","ob.ETH_USDT.50"],"result":{"status":"success"}}',
    b'{"time":1,"time_ms":1000,"channel":"spot.obu","event":"update","result":{"t":1000,"s":"ob.ETH_USDT.50","U":2,"u":3,"b":[["10","1"]]}}',
    b'{"time":1,"time_ms":1000,"channel":"spot.obu","event":"update","result":{"t":1001,"full":true,"s":"ob.BTC_USDT.50","u":10,"b":[["65000","1.5"],["64999","2"]],"a":[["65001","0.5"]]}}',
    b'{"time":1,"time_ms":1000,"channel":"spot.obu","event":"update","result":{"t":1002,"s":"ob.BTC_USDT.50","U":11,"u":11,"b":[["65000","0"]]}}',
    b'{"time":1,"time_ms":1000,"channel":"spot.obu","event":"update","result":{"t":1003,"s":"ob.BTC_USDT.50","U":12,"u":12}}',
    b'{"time":1,"time_ms":1000,"channel":"spot.obu","event":"update","result":{"t":1004,"s":"ob.BTC_USDT.50","U":20,"u":21,"a":[["65003","1"]]}}',
    b'{"time":1,"time_ms":1000,"channel":"spot.obu","event":"update","result":{"t":1005,"s":"ob.BTC_USDT.50","U":22,"u":23}}',
    b'{"time":1,"time_ms":1000,"channel":"spot.obu","event":"update","result":{"t":1006,"full":true,"s":"ob.BTC_USDT.50","u":30,"b":[["65000","1"]],"a":[["65002","1"]]}}',
    b'{"time":1,"time_ms":1000,"channel":"spot.book_ticker","event":"update","result":{"t":1007,"u":31,"s":"BTC_USDT","b":"65000","B":"1","a":"65002","A":"1"}}',
    b'{"time":1,"channel":"spot.system","event":"update","result":{"type":"upgrade","msg":"restart soon"}}',
]


@pytest.mark.parametrize("stream,frames", [("gateio-spot", SPOT_OBU_FRAMES), ("gateio-perp", FUTURES_FRAMES)])
def test_gateio_obu_hooks_identical(stream, frames):
    results = []
    for architecture in ("direct", "strategy"):
        events: list = []
        handler = build_handler(stream, architecture, events.append, symbols=_symbols(stream, CONTRACTS if stream == "gateio-perp" else None))
        handler.hooks = hooks = _Hooks()
        for frame in frames:
            handler._handle_message(frame, 2_000_000_000)
        results.append(([_comparable(e) for e in events], handler.stats.as_dict(), hooks.calls))
    assert results[0] == results[1]
    if stream == "gateio-spot":
        events, stats, calls = results[0]
        assert ("resubscribe", "BTC_USDT") in calls and ("resubscribe", "ETH_USDT") in calls
        assert ("reconnect", "restart soon") in calls
        statuses = [(e["symbol"], e["status"], e["reason"]) for e in events if e["type"] == "BookStatus"]
        assert ("BTC/USDT", "resyncing", "gap") in statuses


IMPOSSIBLE = {
    "gateio-spot": [
        b'{"time":1,"time_ms":1000,"channel":"spot.book_ticker","event":"update","result":{"t":1000,"u":5,"s":"BTC_USDT","b":"NaN","B":"1","a":"2","A":"1"}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.book_ticker","event":"update","result":{"t":1000,"u":5,"s":"BTC_USDT","b":"1","B":"-1","a":"2","A":"1"}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.trades","event":"update","result":{"id":1,"create_time":1,"create_time_ms":"1000.5","side":"hold","currency_pair":"BTC_USDT","amount":"1","price":"2"}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.trades","event":"update","result":{"id":2,"create_time":1,"create_time_ms":"1000.5","side":"buy","currency_pair":"BTC_USDT","amount":"1","price":"-2"}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.trades","event":"update","result":{"id":3,"create_time":1,"create_time_ms":"1000.5","side":"sell","currency_pair":"BTC_USDT","amount":"0.5","price":"2.5"}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.order_book_update","event":"update","result":{"t":1000,"s":"BTC_USDT","U":1,"u":1,"b":[["inf","1"]],"a":[]}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.obu","event":"update","result":{"t":1001,"full":true,"s":"ob.BTC_USDT.50","u":10,"b":[["65000","-1"]],"a":[["65001","0.5"]]}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.obu","event":"update","result":{"t":1001,"full":true,"s":"ob.BTC_USDT.50","u":10,"b":[["65000","1"]],"a":[["65001","0.5"]]}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.candlesticks","event":"update","result":{"t":"60","v":"10","c":"NaN","h":"2","l":"1","o":"1.5","n":"1m_BTC_USDT","a":"5","w":true}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.candlesticks","event":"update","result":{"t":"60","v":"-10","c":"1.5","h":"2","l":"1","o":"1.5","n":"1m_BTC_USDT","a":"5","w":true}}',
        # reported by a user trial: no pair, a zero-size trade, impossible times and book ids
        b'{"time":1,"time_ms":1000,"channel":"spot.candlesticks","event":"update","result":{"t":"60","v":"10","c":"1.5","h":"2","l":"1","o":"1.5","n":"1m","a":"5","w":true}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.trades","event":"update","result":{"id":4,"create_time":1,"create_time_ms":"1000.5","side":"buy","currency_pair":"BTC_USDT","amount":"0","price":"2.5"}}',
        b'{"time":1,"time_ms":-1000,"channel":"spot.trades","event":"update","result":{"id":5,"create_time":1,"create_time_ms":"1000.5","side":"buy","currency_pair":"BTC_USDT","amount":"1","price":"2.5"}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.book_ticker","event":"update","result":{"t":99999999999999999,"u":5,"s":"BTC_USDT","b":"1","B":"1","a":"2","A":"1"}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.order_book_update","event":"update","result":{"t":1000,"s":"BTC_USDT","U":101,"u":-1,"b":[["1","1"]],"a":[]}}',
        b'{"time":1,"time_ms":1000,"channel":"spot.obu","event":"update","result":{"t":1001,"full":true,"s":"ob.BTC_USDT.0","u":10,"b":[["65000","1"]],"a":[["65001","0.5"]]}}',
    ],
    "gateio-perp": [
        b'{"time":1,"time_ms":1000,"channel":"futures.trades","event":"update","result":[{"id":7,"create_time_ms":1000,"contract":"BTC_USDT","size":0,"price":"1"},{"id":8,"create_time_ms":1000,"contract":"BTC_USDT","size":"nan","price":"1"}]}',
        b'{"time":1,"time_ms":1000,"channel":"futures.trades","event":"update","result":[{"id":9,"create_time_ms":1000,"contract":"BTC_USDT","size":3,"price":"0"}]}',
        b'{"time":1,"time_ms":1000,"channel":"futures.order_book_update","event":"update","result":{"t":1000,"s":"BTC_USDT","U":1,"u":2,"full":true,"b":[{"p":"65000","s":-5}],"a":[]}}',
        b'{"time":1,"time_ms":1000,"channel":"futures.order_book_update","event":"update","result":{"t":1000,"s":"BTC_USDT","U":1,"u":2,"full":true,"b":[{"p":"65000","s":5}],"a":[{"p":"65001","s":"1e400"}]}}',
        b'{"time":1,"time_ms":1000,"channel":"futures.order_book_update","event":"update","result":{"t":1000,"s":"BTC_USDT","U":1,"u":2,"full":true,"b":[{"p":"65000","s":5}],"a":[{"p":"65001","s":7}]}}',
        b'{"time":1,"time_ms":1000,"channel":"futures.candlesticks","event":"update","result":[{"t":60,"v":10,"c":"inf","h":"2","l":"1","o":"1.5","n":"1m_BTC_USDT"}]}',
        b'{"time":1,"time_ms":1000,"channel":"futures.public_liquidates","event":"update","result":[{"price":"NaN","size":-10,"time_ms":999,"contract":"BTC_USDT"}]}',
        b'{"time":1,"time_ms":1000,"channel":"futures.public_liquidates","event":"update","result":[{"price":"64000","size":"-inf","time_ms":999,"contract":"BTC_USDT"}]}',
        b'{"time":1,"time_ms":1000,"channel":"futures.contract_stats","event":"update","result":[{"time":60,"contract":"BTC_USDT","open_interest":"-5","open_interest_usd":"1"}]}',
        b'{"time":1684930165,"channel":"futures.order_book","event":"all","result":{"contract":"ALICE_USDT","id":0,"t":0,"asks":[],"bids":[]}}',
        b'{"time":1,"time_ms":1000,"channel":"futures.public_liquidates","event":"update","result":[{"price":"64000","size":0,"time_ms":999,"contract":"BTC_USDT"}]}',
        b'{"time":1,"time_ms":1000,"channel":"futures.candlesticks","event":"update","result":[{"t":60,"v":10,"c":"1","h":"2","l":"1","o":"1.5","n":"1m_"}]}',
        b'{"time":1,"time_ms":1000,"channel":"futures.candlesticks","event":"update","result":[{"t":1700000000000,"v":10,"c":"1","h":"2","l":"1","o":"1.5","n":"1m_BTC_USDT"}]}',
        b'{"time":100000000000,"channel":"futures.tickers","event":"update","result":[{"contract":"BTC_USDT","mark_price":"65000.2"}]}',
        b'{"time":1,"time_ms":1000,"channel":"futures.order_book_update","event":"update","result":{"t":1000,"s":"BTC_USDT","U":9,"u":8,"b":[{"p":"65000","s":5}],"a":[]}}',
    ],
}


@pytest.mark.parametrize("stream", sorted(IMPOSSIBLE))
def test_impossible_values_are_malformed_on_both_paths(stream):
    """NaN/inf/negative prices and sizes, zero prices, unknown sides: the frame is counted as
    malformed and skipped on both architectures, the good frames around it still flow."""
    direct = _events_and_stats(stream, "direct", IMPOSSIBLE[stream])
    strategy = _events_and_stats(stream, "strategy", IMPOSSIBLE[stream])
    assert direct == strategy
    events, stats = direct
    assert stats["errors"]["malformed"] >= 4
    assert events and all(e["type"] in ("Trade", "BookUpdate", "BookStatus") for e in events)


@pytest.mark.parametrize(
    "stream, frame",
    [
        ("gateio-spot", b'{"time":1,"time_ms":1000,"channel":"spot.tickers","event":"update","result":{"currency_pair":"BTC_USDT","last":"NaN","lowest_ask":"65001","highest_bid":"","change_percentage":"-1.5","base_volume":"-3","quote_volume":"900","high_24h":"inf","low_24h":"64000"}}'),
        ("gateio-perp", b'{"time":1,"time_ms":1000,"channel":"futures.tickers","event":"update","result":[{"contract":"BTC_USDT","last":"-1","mark_price":"65000.5","index_price":"nan","funding_rate":"","total_size":"1e999","volume_24h_quote":"900","low_24h":"64000"}]}'),
    ],
)
def test_impossible_ticker_fields_are_left_out_on_both_paths(stream, frame):
    """A ticker field that is empty or impossible is None on the event (both architectures);
    the fields that fit are kept and the push is counted as ticker_lenient."""
    direct = _events_and_stats(stream, "direct", [frame])
    assert direct == _events_and_stats(stream, "strategy", [frame])
    events, stats = direct
    assert stats["errors"]["ticker_lenient"] == 1 and "malformed" not in stats["errors"]
    ticker = events[0]
    assert (ticker["last"], ticker["high_24h"], ticker["low_24h"], ticker["quote_volume"]) == (None, None, 64000.0, 900.0)
    if stream == "gateio-spot":
        assert (ticker["best_bid"], ticker["best_ask"], ticker["base_volume"], ticker["change_pct"]) == (None, 65001.0, None, -1.5)
    else:
        (mark,) = [e for e in events if e["type"] == "MarkPrice"]
        assert (mark["mark_price"], mark["index_price"]) == (65000.5, None)
        assert [e["type"] for e in events] == ["Ticker", "MarkPrice"]  # no funding or OI made of nothing


@pytest.mark.parametrize("stream, channel, level", [
    ("gateio-spot", "spot.order_book_update", '["65000.5","1"]'),
    ("gateio-perp", "futures.order_book_update", '{"p":"65000.5","s":1}'),
])
def test_malformed_push_of_a_synced_book_resyncs_it_on_both_paths(stream, channel, level):
    """A full push syncs the book, then an undecodable delta: both architectures drop the book
    and resync that symbol at once instead of waiting for the next delta to show the gap."""
    full = ('{"time":1,"time_ms":1000,"channel":"%s","event":"update","result":{"t":1000,"s":"BTC_USDT","U":1,"u":5,"full":true,'
            '"b":[%s],"a":[%s]}}' % (channel, level, level.replace("65000.5", "65001")))
    bad = '{"time":1,"time_ms":1000,"channel":"%s","event":"update","result":{"t":1001,"s":"BTC_USDT","U":6,"u":6,"b":[%s],"a":[]}}' % (
        channel, level.replace("65000.5", "NaN"))
    frames = [full.encode(), bad.encode()]
    direct = _events_and_stats(stream, "direct", frames)
    assert direct == _events_and_stats(stream, "strategy", frames)
    events, stats = direct
    assert stats["errors"]["malformed"] == 1 and stats["errors"]["book_malformed"] == 1
    assert [(e["status"], e["reason"]) for e in events if e["type"] == "BookStatus"] == [("synced", "full"), ("resyncing", "malformed")]
