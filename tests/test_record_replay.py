"""Record a simulator session with faults in cexfeed's capture format and replay it: the replayed
events equal the live ones (recv_ts included); torn, corrupt, rotated and still-growing captures
read up to what is intact."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from pathlib import Path

import pytest
import zstandard

from cexfeed.feed import Feed
from cexfeed.models import BookStatus, BookUpdate, Trade, VenueError
from cexfeed.net import Backoff
from cexfeed.record import CaptureReplay, ReadReport, Recorder, is_capture, read_capture, read_part, resolve_parts
from cexfeed.record import format as fmt
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until

VENUES = {
    "gateio-spot": (["BTC/USDT", "ETH/USDT"], ["book", "trades", "bbo", "ticker"]),
    "gateio-perp": (["BTC/USDT:USDT", "ETH/USDT:USDT"], ["book", "trades", "ticker"]),
    "mexc-spot": (["BTC/USDT", "ETH/USDT"], ["book", "trades", "bbo"]),
}


async def record_session(sim: SimServer, venue: str, out: Path, **recorder_options) -> tuple[list, Feed, Recorder]:
    """A scripted session: sync, a gap, snapshot failures, a venue close, a TCP drop, a
    malformed frame. Returns the live events, the closed feed and the closed recorder."""
    symbols, channels = VENUES[venue]
    recorder = Recorder(out, **recorder_options)
    live: list = []
    # 3 subscriptions per connection: several connections, several handlers
    feed = Feed(venue, symbols, channels, url=sim.ws_url(venue), rest_url=sim.rest_url(venue), on_event=live.append,
                tap=recorder, reconnect_backoff=lambda: Backoff(initial=0.05, cap=0.2), max_subscriptions=3)

    def synced() -> bool:
        return all(feed.synced(s) for s in symbols)

    try:
        await feed.start()
        assert await wait_until(synced, 10)
        sim.skip_update("BTC/USDT", venue)  # gap -> resync from a REST snapshot
        await asyncio.sleep(0.3)
        assert await wait_until(synced, 10)
        sim.fail_snapshots(5, venue)  # more than the REST client's retries: the fetch fails, then succeeds
        sim.skip_update("ETH/USDT", venue)
        await asyncio.sleep(0.3)
        assert await wait_until(synced, 15)
        await sim.close_connections(1012, venue)
        await asyncio.sleep(0.2)
        assert await wait_until(synced, 10)
        sim.drop_connections(venue)
        await asyncio.sleep(0.2)
        assert await wait_until(synced, 10)
        await sim.send_malformed(venue)
        await asyncio.sleep(0.3)
    finally:
        await feed.close()
        recorder.close()
    return live, feed, recorder


def replay(path: Path) -> tuple[list, CaptureReplay]:
    events: list = []
    rep = CaptureReplay(events.append)
    rep.replay_file(path)
    return events, rep


@pytest.mark.parametrize("venue", sorted(VENUES))
async def test_replay_reproduces_the_live_session_exactly(tmp_path, venue):
    async with SimServer(seed=5, rate=40, venues=[venue]) as sim:
        live, feed, recorder = await record_session(sim, venue, tmp_path / "session")
    assert recorder.paths == [tmp_path / "session.00000.cxf"]
    stats = feed.stats()
    assert len(feed.connections) >= 2
    # the faults happened: gaps, a failed snapshot fetch, two reconnects per connection, bad frames
    assert stats["errors"]["book_gap"] >= 2 and stats["errors"]["snapshot_failed"] >= 1 and stats["errors"]["malformed"] >= 1
    reasons = Counter(e.reason for e in live if isinstance(e, BookStatus) and e.status == "resyncing")
    assert reasons["gap"] >= 2 and reasons["reconnect"] >= 4
    assert any(isinstance(e, Trade) for e in live)

    events, rep = replay(recorder.paths[0])
    assert rep.report.torn == [] and rep.report.corrupt == [] and not rep.problems
    assert len(events) == len(live)
    assert events == live  # every field, recv_ts included, in the same order
    replayed = rep.stats()
    assert replayed["frames"] == stats["frames"]
    assert replayed["events"] == stats["events"] == len(live)
    assert replayed["errors"] == stats["errors"]
    # the replay summary shows the books as they were when the client closed
    books = rep.summary()
    assert set(books) == set(VENUES[venue][0])
    for symbol, book in books.items():
        last = [e for e in live if isinstance(e, BookUpdate) and e.symbol == symbol][-1]
        assert book["last_update_id"] == last.last_update_id and book["synced"] and book["bid_levels"] > 0

    # what the capture holds beside frames: the header, requests, REST calls, connection events
    records = list(read_capture(recorder.paths[0]))
    assert records[0].type == fmt.HEADER
    header = fmt.decode_json(records[0].data)
    assert header["venue"] == venue and header["version"] == fmt.VERSION and header["symbols"] == VENUES[venue][0]
    kinds = Counter(fmt.decode_json(r.data)["kind"] for r in records if r.type == fmt.EVENT)
    assert kinds["open"] == len(feed.connections)
    assert kinds["connect"] == 3 * len(feed.connections) and kinds["disconnect"] == 3 * len(feed.connections)
    assert kinds["snapshot_failed"] >= 1 and kinds["end"] == 1
    whys = [fmt.decode_json(r.data).get("why", "") for r in records if r.type == fmt.EVENT]
    assert any("close frame 1012" in why for why in whys) and any(why == "closed by the client" for why in whys)
    rest = [fmt.decode_rest(r.data) for r in records if r.type == fmt.REST]
    assert {r.status for r in rest} == {200, 500}
    sent = [r.data for r in records if r.type == fmt.SENT]
    assert any(b"subscri" in s.lower() for s in sent)
    frames = sum(1 for r in records if r.type in (fmt.TEXT, fmt.BINARY))
    assert frames == stats["frames"]
    if venue == "mexc-spot":
        assert any(r.type == fmt.BINARY for r in records)  # protobuf pushes, byte for byte


async def test_torn_corrupt_growing_and_rotated_captures(tmp_path):
    venue = "gateio-spot"
    async with SimServer(seed=6, rate=40, venues=[venue]) as sim:
        # small blocks: many places to tear; a part reader running while the writer writes
        growing: list[int] = []

        async def read_while_writing() -> None:
            while True:
                await asyncio.sleep(0.4)
                part = tmp_path / "a.00000.cxf"
                if part.exists():
                    records = list(read_part(part))
                    if records:
                        assert records[0].type == fmt.HEADER
                    growing.append(len(records))

        reader = asyncio.ensure_future(read_while_writing())
        try:
            live, _, recorder = await record_session(sim, venue, tmp_path / "a", block_bytes=2048, flush_interval=0.1)
        finally:
            reader.cancel()
        live_b, _, rotated = await record_session(sim, venue, tmp_path / "b.cxf", block_bytes=2048, rotate_bytes=6000)

    assert len(growing) >= 3 and growing == sorted(growing) and growing[-1] > 0
    full, rep = replay(recorder.paths[0])
    assert full == live and rep.report.blocks > 20

    data = recorder.paths[0].read_bytes()
    cut_dir = tmp_path / "cut"
    cut_dir.mkdir()
    rng = random.Random(14)
    offsets = sorted(rng.sample(range(1, len(data)), 25)) + [len(data) - 1, 13]
    torn = 0
    for offset in offsets:
        cut = cut_dir / "a.00000.cxf"
        cut.write_bytes(data[:offset])
        events, rep = replay(cut)  # never raises
        assert events == full[: len(events)]
        torn += len(rep.report.torn)
        assert rep.report.corrupt == []
    assert torn >= len(offsets) - 2  # a cut exactly on a block boundary is a clean end
    # a flipped byte in the middle: that block is skipped, the reader goes on after it
    middle = len(data) // 2
    bad = bytearray(data)
    bad[middle] ^= 0xFF
    (cut_dir / "a.00000.cxf").write_bytes(bytes(bad))
    report = ReadReport()
    records = list(read_part(cut_dir / "a.00000.cxf", report))
    assert len(report.corrupt) == 1 and report.torn == []
    assert 0 < len(records) < len(list(read_part(recorder.paths[0])))

    # rotation: several parts, each starting with a header; the chain replays exactly
    parts = rotated.paths
    assert len(parts) >= 3 and parts[0].name == "b.00000.cxf" and resolve_parts(parts[0]) == parts
    assert all(is_capture(p) for p in parts) and is_capture(tmp_path / "b")
    for index, part in enumerate(parts):
        first = next(iter(read_part(part)))
        assert first.type == fmt.HEADER and fmt.decode_json(first.data)["part"] == index
    events, rep = replay(tmp_path / "b")
    assert events == live_b and not rep.problems
    # a later part alone: its context (instrument list, connections) is enough to decode it
    alone, rep = replay(parts[-2])
    trades = [e for e in alone if isinstance(e, Trade)]
    assert trades and all(t in live_b for t in trades)
    assert not rep.problems.get("unknown_connection")


async def test_replay_at_recorded_speed(tmp_path):
    venue = "gateio-spot"
    async with SimServer(seed=8, rate=40, venues=[venue]) as sim:
        # parts by time too: a new one every 0.3 s
        recorder = Recorder(tmp_path / "s", flush_interval=0.1, rotate_seconds=0.3)
        live: list = []
        feed = Feed(venue, ["BTC/USDT"], ["trades", "bbo"], url=sim.ws_url(venue), rest_url=sim.rest_url(venue), tap=recorder, on_event=live.append)
        await feed.start()
        await asyncio.sleep(1.0)
        await feed.close()
        recorder.close()
    assert len(recorder.paths) >= 3
    records = list(read_capture(recorder.paths[0]))
    span = (records[-1].ts - records[0].ts) / 1e9
    started = time.perf_counter()
    fast = CaptureReplay(speed=4.0).replay_file(recorder.paths[0])
    elapsed = time.perf_counter() - started
    assert fast.stats()["frames"] > 10
    events: list = []
    CaptureReplay(events.append).replay_file(recorder.paths[0])
    assert events == live
    assert elapsed >= span / 4 * 0.9


def test_format_pieces(tmp_path):
    rest = fmt.encode_rest(5, "http://h/api/v4/spot/order_book", "/spot/order_book", {"limit": 20, "currency_pair": "BTC_USDT"}, 200, b'{"id":1}', "")
    (length, kind, conn, ts) = fmt.RECORD_HEAD.unpack_from(rest)
    assert (kind, conn, ts, length) == (fmt.REST, fmt.NO_CONN, 5, len(rest) - fmt.RECORD_HEAD.size)
    decoded = fmt.decode_rest(rest[fmt.RECORD_HEAD.size :])
    assert decoded.params == (("currency_pair", "BTC_USDT"), ("limit", "20")) and decoded.body == b'{"id":1}'
    assert fmt.part_path("x/cap.cxf", 3) == Path("x/cap.00003.cxf") and fmt.split_part("x/cap.00003.cxf") == ("x/cap", 3)
    assert fmt.split_part("cap.cxf") is None

    empty = tmp_path / "e.00000.cxf"
    empty.write_bytes(b"")
    # named as a part: a (damaged) capture, whose replay says it is empty rather than ask for --venue
    assert list(read_part(empty)) == [] and is_capture(empty)
    (tmp_path / "e.txt").write_bytes(b"")
    assert not is_capture(tmp_path / "e.txt")
    other = tmp_path / "frames.txt"
    other.write_text('{"a":1}\n')
    assert not is_capture(other)

    # a capture from a newer cexfeed is refused, not misread
    newer = tmp_path / "n.00000.cxf"
    header = fmt.encode_json(fmt.HEADER, fmt.NO_CONN, 1, {"format": fmt.FORMAT, "version": fmt.VERSION + 1, "venue": "gateio-spot"})
    newer.write_bytes(fmt.block(header, 1, fmt.new_compressor()))
    with pytest.raises(ValueError, match="newer"):
        CaptureReplay().replay_file(newer)

    # the recorder never overwrites
    recorder = Recorder(tmp_path / "r")
    recorder.close()
    with pytest.raises(FileExistsError):
        Recorder(tmp_path / "r.cxf")
    # a part is plain zstd (skippable frames + zstd frames): any zstd reader gets the records
    with open(recorder.paths[0], "rb") as fh:
        plain = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True).read()
    expected = b"".join(fmt.encode(r.type, r.conn, r.ts, r.data) for r in read_part(recorder.paths[0]))
    assert plain == expected and len(expected) > 0


async def test_ack_timeouts_replay_as_the_same_venue_errors(tmp_path):
    venue = "gateio-spot"
    async with SimServer(seed=9, rate=40, venues=[venue]) as sim:
        recorder = Recorder(tmp_path / "t")
        live: list = []
        feed = Feed(venue, ["BTC/USDT"], ["trades"], url=sim.ws_url(venue), rest_url=sim.rest_url(venue), tap=recorder,
                    on_event=live.append, ack_timeout=0.3)
        await feed.start()
        sim.go_silent(1.0, venue)  # the subscribe below gets no ack
        results = await feed.subscribe(["ETH/USDT"], ["trades"])
        assert [r.status for r in results] == ["timeout"]
        await asyncio.sleep(1.0)
        await feed.close()
        recorder.close()
    errors = [e for e in live if isinstance(e, VenueError)]
    assert len(errors) == 1 and errors[0].code == -1 and errors[0].venue_symbol == "ETH_USDT"
    events, rep = replay(recorder.paths[0])
    assert events == live and not rep.problems
