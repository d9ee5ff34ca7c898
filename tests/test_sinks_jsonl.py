"""JSONL sink (rotation, overflow policy), the sink codec and the consumer-side book mirror,
without any broker."""

from __future__ import annotations

import asyncio
import sys

import msgspec
import pytest

from cexfeed.models import BookUpdate, Trade
from cexfeed.sim import SimServer
from cexfeed.sinks import SinkConfig, SinkGap, decode_payload, make_sink
from cexfeed.sinks.codec import encoder, nats_subject, redis_key
from cexfeed.sinks.jsonl import JsonlSink


def trade(i: int, symbol: str = "BTC/USDT") -> Trade:
    return Trade(venue="gateio", market="spot", symbol=symbol, venue_symbol=symbol.replace("/", "_"), exchange_ts=1_700_000_000_000 + i,
                 recv_ts=i, price=100.0 + i / 10, size=0.5, side="buy" if i % 2 else "sell", trade_id=str(i))


def delta(i: int, symbol: str = "BTC/USDT") -> BookUpdate:
    return BookUpdate(venue="gateio", market="spot", symbol=symbol, venue_symbol=symbol.replace("/", "_"), exchange_ts=i, recv_ts=i,
                      bids=[(99.5, 1.0)], asks=[], snapshot=False, first_update_id=i, last_update_id=i)


def test_codec_round_trip_and_names():
    event = delta(7)
    for encoding in ("json", "msgpack"):
        data = encoder(encoding)(event)
        assert decode_payload(data) == event
    assert encoder("json")(event).startswith(b'{"type":"book"')
    gap = SinkGap(venue="mexc", market="spot", symbol="BTC/USDT", venue_symbol="BTCUSDT", exchange_ts=0, recv_ts=1,
                  channel="trade", reason="overflow", dropped=3)
    assert decode_payload(encoder("msgpack")(gap)) == gap
    assert redis_key("cexfeed", "symbol")(gap) == "cexfeed:mexc-spot:BTCUSDT"
    assert redis_key("cexfeed", "channel")(gap) == "cexfeed:mexc-spot:trade"  # beside the trades it concerns
    assert nats_subject("x")(trade(1)) == "x.gateio-spot.trade.BTC_USDT"
    with pytest.raises(msgspec.DecodeError):
        decode_payload(b"\x81\xa4type\xa4nope")
    with pytest.raises(ValueError):
        SinkConfig(url="kafka://x")
    with pytest.raises(ValueError):
        SinkConfig(url="redis://x", layout="diagonal")


async def test_jsonl_file_rotates_by_size_and_keeps_every_line(tmp_path):
    path = tmp_path / "out" / "events.jsonl"
    sink = make_sink(SinkConfig(url=f"jsonl:{path}", rotate_bytes=4000, batch=20))
    await sink.start()
    events = [trade(i) for i in range(200)]
    for event in events:
        sink.submit(event)
        if event.recv_ts % 20 == 0:
            await asyncio.sleep(0)  # let it write in several batches
    assert await sink.drain(5)
    await sink.close()
    files = sorted(path.parent.iterdir())
    rotated = [f for f in files if f != path]
    assert path in files and len(rotated) >= 3 and sink.rotations == len(rotated)
    assert all(f.name.startswith("events.") and f.name.endswith(".jsonl") for f in rotated)
    lines = []
    for f in sorted(rotated, key=lambda f: f.stat().st_mtime_ns) + [path]:
        lines += f.read_bytes().splitlines()
    decoded = [decode_payload(line) for line in lines]
    # the publisher's start notice first (README: every sink opens each stream with one), then every event
    assert isinstance(decoded[0], SinkGap) and decoded[0].reason == "start" and decoded[0].channel == "trade"
    assert decoded[1:] == events
    assert all(f.stat().st_size < 4000 + 20 * 250 for f in rotated)


async def test_overflow_drops_oldest_counts_and_notifies(tmp_path):
    """Buffer of 10, 30 events submitted before the sink runs: the 20 oldest are dropped and
    counted; the file starts with one overflow notice per (type, symbol) with its count."""
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(path, buffer=10)
    resynced = []
    sink.bind_resync("gateio-spot", lambda symbol, reason: resynced.append((symbol, reason)) or True)
    events = [delta(i) if i % 3 == 0 else trade(i, "ETH/USDT") for i in range(30)]
    for event in events:
        sink.submit(event)
    assert sink.stats()["dropped"] == 20 and sink.stats()["buffered"] == 10
    await sink.start()
    assert await sink.drain(5)
    await sink.close()
    lines = [decode_payload(line) for line in path.read_bytes().splitlines()]
    notices = [e for e in lines if isinstance(e, SinkGap)]
    assert {(n.symbol, n.channel, n.dropped) for n in notices} == {("BTC/USDT", "book", 7), ("ETH/USDT", "trade", 13)}
    assert lines[len(notices):] == events[20:]
    # a dropped book event: the sink asked the feed to resync that book, once
    assert resynced == [("BTC/USDT", "sink_overflow")]
    assert sink.stats()["resyncs_requested"] == 1 and sink.stats()["gap_notices"] == 2


async def test_cli_stream_jsonl_sink_to_stdout():
    sim = SimServer(seed=3, rate=30, venues=["gateio-spot"])
    await sim.start()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cexfeed", "stream", "gateio-spot", "--symbols", "BTC/USDT", "--channels", "book,trades",
            "--url", sim.ws_url("gateio-spot"), "--rest-url", sim.rest_url("gateio-spot"), "--duration", "2", "--sink", "jsonl:-",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 40)
    finally:
        await sim.stop()
    assert proc.returncode == 0, err.decode()
    events = [decode_payload(line) for line in out.splitlines()]
    assert {(e.channel, e.reason) for e in events if isinstance(e, SinkGap)} >= {("book", "start"), ("trade", "start")}
    assert any(isinstance(e, BookUpdate) and e.snapshot and e.symbol == "BTC/USDT" for e in events)
    assert any(isinstance(e, Trade) for e in events)
    assert "sink jsonl:-: published" in err.decode()


async def test_an_event_that_cannot_be_encoded_is_rejected_alone(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(path)
    await sink.start()
    bad = trade(2)
    bad.trade_id = object()  # not a string: the encoder refuses it
    for event in (trade(1), bad, trade(3)):
        sink.submit(event)
    assert await sink.drain(5)
    await sink.close()
    lines = [decode_payload(line) for line in path.read_bytes().splitlines()]
    assert [e.reason for e in lines if isinstance(e, SinkGap)] == ["start"]
    assert [e.trade_id for e in lines if not isinstance(e, SinkGap)] == ["1", "3"]
    assert sink.stats()["rejected"] == 1 and "encode" in sink.stats()["last_error"]


def test_book_mirror_applies_continuing_deltas_and_drops_on_gaps():
    from cexfeed.models import BookStatus
    from cexfeed.sinks import BookMirror

    def update(first, last, bids, asks, snapshot=False):
        return BookUpdate(venue="mexc", market="spot", symbol="BTC/USDT", venue_symbol="BTCUSDT", exchange_ts=0, recv_ts=0,
                          bids=bids, asks=asks, snapshot=snapshot, first_update_id=first, last_update_id=last)

    mirror = BookMirror(depth=5)
    mirror.on_event(update(10, 10, [(99.0, 1.0), (98.0, 2.0)], [(101.0, 1.5)], snapshot=True))
    mirror.on_event(update(8, 11, [(99.0, 0.0)], [(100.5, 0.25)]))   # bridges the snapshot
    mirror.on_event(update(12, 12, [(98.5, 3.0)], []))
    book = mirror.book("mexc", "BTC/USDT")
    assert book.top_bids() == [(98.5, 3.0), (98.0, 2.0)] and book.top_asks() == [(100.5, 0.25), (101.0, 1.5)]
    assert book.last_update_id == 12 and mirror.deltas == 2
    mirror.on_event(update(12, 12, [(1.0, 1.0)], []))                 # already applied: ignored
    assert mirror.book("mexc", "BTC/USDT").best_bid() == (98.5, 3.0)
    mirror.on_event(update(14, 15, [(97.0, 1.0)], []))                # 13 is missing
    assert mirror.book("mexc", "BTC/USDT") is None and mirror.breaks == 1
    mirror.on_event(update(16, 16, [(97.0, 1.0)], []))                # nothing applies until a snapshot
    assert not mirror.synced("mexc", "BTC/USDT")
    mirror.on_event(update(20, 20, [(99.0, 1.0)], [(100.0, 1.0)], snapshot=True))
    assert mirror.synced("mexc", "BTC/USDT")
    mirror.on_event(BookStatus(venue="mexc", market="spot", symbol="BTC/USDT", venue_symbol="BTCUSDT", exchange_ts=0, recv_ts=0,
                               status="resyncing", reason="gap"))
    assert mirror.book("mexc", "BTC/USDT") is None and mirror.breaks == 2
