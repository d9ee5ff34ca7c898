"""Differential test: the direct handlers and the strategy architecture produce the same event
stream (same events, same order, same values; ``recv_ts`` aside) on every reference capture."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from cexfeed.capture import REPLAY_VENUES, Replay, instruments_file_beside, merged, read_instruments, snapshot_files_beside
from cexfeed.compat import MessageType, ParsedMessageAdapter, StrategyHandler, strategy_set
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


def replay(stream: str, ws_path: Path, architecture: str, adapter_types=()):
    """Replay one capture session through ``architecture``; return (events, handler, messages)."""
    if stream not in REPLAY_VENUES:
        pytest.skip(f"no replay support for {stream} yet")
    instruments = read_instruments(p) if (p := instruments_file_beside(ws_path)) else None
    events: list = []
    rep = Replay(stream, instruments, events.append)
    if architecture == "strategy":
        direct = rep.handler
        handler = StrategyHandler(strategy_set(stream).parser(direct.symbols), events.append, direct.depth)
        handler.hooks = rep.hooks
        rep.handler = handler
    messages: list = []
    if adapter_types:
        adapter = ParsedMessageAdapter(rep.handler, on_event=events.append)
        for msg_type in adapter_types:
            adapter.on(msg_type, messages.append)
    rep.feed(merged(ws_path, snapshot_files_beside(ws_path)))
    return events, rep.handler, messages


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


def _events_and_stats(stream: str, architecture: str, frames):
    from cexfeed.compat import build_handler

    events: list = []
    handler = build_handler(stream, architecture, events.append)
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
