"""Redis Streams sink and reader against a real redis-server on a loopback port, fed by the
simulator over real WebSockets."""

from __future__ import annotations

import asyncio
import sys

import pytest

from brokers import fast_backoff, mirrored_books_match, own_redis, redis_server  # noqa: F401  (fixtures)
from cexfeed.feed import Feed
from cexfeed.models import BookStatus, BookUpdate, Trade
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until
from cexfeed.sinks import SinkConfig, SinkGap, make_sink, open_reader
from cexfeed.sinks.redis_streams import RedisStreamReader, RedisStreamSink

SYMBOLS = ["BTC/USDT", "ETH/USDT"]


@pytest.fixture
async def sim():
    async with SimServer(seed=5, rate=40, venues=["gateio-spot"]) as server:
        yield server


def feed_of(sim, sink, symbols=SYMBOLS):
    return Feed("gateio-spot", symbols, ["book", "trades"], url=sim.ws_url("gateio-spot"), rest_url=sim.rest_url("gateio-spot"),
                sinks=[sink], reconnect_backoff=fast_backoff)


async def read_until(reader, done, timeout=10.0):
    """Read (and ack) batches into a list until ``done(list)`` or ``timeout``."""
    got: list = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done(got) and loop.time() < deadline:
        batch = await reader.read()
        got.extend(batch)
        await reader.ack(batch)
    return got


async def settle(sim, feed, sink):
    """Pause the market, let every book catch up and the sink send everything."""
    sim.pause()
    assert await wait_until(lambda: all(feed.synced(s) and feed.book(s).last_update_id == sim.market.books[s].update_id for s in feed.symbols), 8)
    assert await sink.drain(10)


async def test_feed_to_redis_two_groups_books_and_trades(sim, redis_server):
    sink = make_sink(SinkConfig(url=redis_server.url + "/0", encoding="msgpack", prefix="t1", maxlen=0))
    feed = feed_of(sim, sink)
    try:
        await feed.start()
        assert await wait_until(lambda: all(feed.synced(s) for s in SYMBOLS), 8)
        await asyncio.sleep(1.0)
        await settle(sim, feed, sink)
    finally:
        await feed.close()
    # closing publishes the books' "stale" statuses too
    sink_stats = sink.stats()
    assert sink_stats["published"] > 50 and sink_stats["dropped"] == 0 and sink_stats["rejected"] == 0

    # group "all": one consumer sees every entry, in order per stream
    reader = RedisStreamReader(redis_server.url + "/0", "all", "c1", pattern="t1:*")
    entries = await read_until(reader, lambda got: len(got) >= sink_stats["published"])
    await reader.close()
    assert len(entries) == sink_stats["published"]
    # events of no symbol (connection statuses) go to the venue's "_" stream
    assert sorted({stream for stream, _, _ in entries}) == ["t1:gateio-spot:BTC_USDT", "t1:gateio-spot:ETH_USDT", "t1:gateio-spot:_"]
    events = [event for _, _, event in entries]
    # every stream opens with its start notices, one per event type
    for stream in ("t1:gateio-spot:BTC_USDT", "t1:gateio-spot:ETH_USDT"):
        first = [e for s, _, e in entries if s == stream][0]
        assert isinstance(first, SinkGap) and first.reason == "start"
    notices = {(e.venue_symbol, e.channel) for e in events if isinstance(e, SinkGap)}
    assert {("BTC_USDT", "book"), ("BTC_USDT", "trade"), ("BTC_USDT", "book_status")} <= notices
    # the mirror rebuilt from the stream equals the simulator's book
    mirror = mirrored_books_match(sim, events, "gateio", SYMBOLS)
    assert mirror.breaks == 0
    trades = [e for e in events if isinstance(e, Trade)]
    ids = [int(t.trade_id) for t in trades]
    assert trades and len(ids) == len(set(ids))
    # the global trade ids of the simulator are consecutive across its four symbols; per
    # symbol they only increase
    for symbol in SYMBOLS:
        mine = [int(t.trade_id) for t in trades if t.symbol == symbol]
        assert mine == sorted(mine)

    # group "split": two consumers share the entries: together exactly once each
    a = RedisStreamReader(redis_server.url + "/0", "split", "a", pattern="t1:*", count=50)
    b = RedisStreamReader(redis_server.url + "/0", "split", "b", pattern="t1:*", count=50)
    got_a: list = []
    got_b: list = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while len(got_a) + len(got_b) < len(entries) and loop.time() < deadline:
        for reader, got in ((a, got_a), (b, got_b)):
            batch = await reader.read()
            got.extend(batch)
            await reader.ack(batch)
    await a.close()
    await b.close()
    assert got_a and got_b
    ids_a = {(stream, entry_id) for stream, entry_id, _ in got_a}
    ids_b = {(stream, entry_id) for stream, entry_id, _ in got_b}
    assert len(ids_a) == len(got_a) and len(ids_b) == len(got_b)
    assert not ids_a & ids_b
    assert ids_a | ids_b == {(stream, entry_id) for stream, entry_id, _ in entries}


async def test_channel_layout_and_maxlen_trimming(redis_server):
    sink = RedisStreamSink(redis_server.url + "/0", layout="channel", prefix="t2", maxlen=200, encoding="json", batch=500)
    await sink.start()
    for i in range(3000):
        sink.submit(Trade(venue="mexc", market="spot", symbol="BTC/USDT", venue_symbol="BTCUSDT", exchange_ts=i, recv_ts=i,
                          price=100.0 + i, size=1.0, side="buy", trade_id=str(i)))
    assert await sink.drain(10)
    await sink.close()
    reader = RedisStreamReader(redis_server.url + "/0", "g", "c")
    length = await reader.client.xlen("t2:mexc-spot:trade")
    keys = sorted([k.decode() async for k in reader.client.scan_iter(match="t2:*")])
    await reader.close()
    assert keys == ["t2:mexc-spot:trade"]
    # approximate trimming: whole nodes go, so a little more than maxlen stays
    assert 200 <= length < 600


async def test_redis_goes_away_and_comes_back(sim, own_redis):
    """The broker is killed mid-stream: the sink buffers, reconnects with backoff and sends
    everything it held once Redis is back; nothing is dropped within the bound."""
    sink = RedisStreamSink(own_redis.url + "/0", prefix="t3", backoff=fast_backoff, timeout=1.0)
    feed = feed_of(sim, sink, ["BTC/USDT"])
    try:
        await feed.start()
        assert await wait_until(lambda: sink.published > 20, 8)
        own_redis.kill()
        before = feed.events_total
        assert await wait_until(lambda: feed.events_total > before + 30 and sink.stats()["buffered"] > 0 and not sink.stats()["connected"], 8)
        own_redis.start()
        assert await wait_until(lambda: sink.stats()["connected"] and sink.stats()["buffered"] == 0, 10)
        await settle(sim, feed, sink)
    finally:
        await feed.close()
    stats = sink.stats()
    assert stats["send_errors"] + stats["connect_failures"] >= 1 and stats["connects"] >= 2
    assert stats["dropped"] == 0
    # Redis came back empty (no persistence): it holds exactly what was sent after the restart,
    # a run of events that ends with the current book
    reader = RedisStreamReader(own_redis.url + "/0", "g", "c", pattern="t3:*")
    events = [e for _, _, e in await read_until(reader, lambda got: got and isinstance(got[-1][2], (BookUpdate, Trade, BookStatus)) and len(got) >= 30, 5)]
    await reader.close()
    assert len(events) >= 30


async def test_overflow_drops_oldest_notifies_and_resyncs_the_book(sim, own_redis):
    """With Redis down and a small buffer the sink drops the oldest events (counted), then
    publishes an overflow notice and makes the feed resync the book: a consumer's mirror ends
    equal to the simulator's book."""
    sink = RedisStreamSink(own_redis.url + "/0", prefix="t4", buffer=40, backoff=fast_backoff, timeout=1.0)
    feed = feed_of(sim, sink, ["BTC/USDT"])
    try:
        await feed.start()
        assert await wait_until(lambda: feed.synced("BTC/USDT") and sink.published > 5, 8)
        own_redis.kill()
        assert await wait_until(lambda: sink.dropped > 60, 10)
        own_redis.start()
        assert await wait_until(lambda: sink.stats()["connected"] and sink.resyncs_requested >= 1, 10)
        await settle(sim, feed, sink)
    finally:
        await feed.close()
    stats = sink.stats()
    assert stats["dropped"] > 60 and stats["resyncs_requested"] >= 1
    reader = RedisStreamReader(own_redis.url + "/0", "g", "c", pattern="t4:*")
    events = [e for _, _, e in await read_until(reader, lambda got: False, 1.5)]
    await reader.close()
    overflow = [e for e in events if isinstance(e, SinkGap) and e.reason == "overflow"]
    assert overflow and sum(e.dropped for e in overflow) <= stats["dropped"]
    assert {e.channel for e in overflow} >= {"book"}
    # the feed resynced the book because of the sink: a resyncing status, then a snapshot
    assert any(isinstance(e, BookStatus) and e.reason == "sink_overflow" for e in events)
    mirrored_books_match(sim, events, "gateio", ["BTC/USDT"])


async def test_cli_stream_to_redis_and_consume(sim, redis_server):
    """``cexfeed stream --sink redis://`` publishes; ``cexfeed consume`` reads it back as JSONL."""
    url = redis_server.url + "/0"
    stream = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cexfeed", "stream", "gateio-spot", "--symbols", "BTC/USDT", "--channels", "book,trades",
        "--url", sim.ws_url("gateio-spot"), "--rest-url", sim.rest_url("gateio-spot"), "--duration", "3",
        "--format", "none", "--sink", url, "--sink-prefix", "t5", "--sink-encoding", "msgpack",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(stream.communicate(), 40)
    assert stream.returncode == 0, err.decode()
    assert out == b""
    summary = err.decode()
    assert "sink redis://127.0.0.1" in summary and "dropped 0" in summary
    consume = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cexfeed", "consume", url, "--prefix", "t5", "--group", "cli", "--count", "20",
        "--duration", "20", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(consume.communicate(), 40)
    assert consume.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert len(lines) == 20
    from cexfeed.sinks import decode_payload

    events = [decode_payload(line.encode()) for line in lines]
    assert isinstance(events[0], SinkGap) and events[0].reason == "start"
    assert any(isinstance(e, BookUpdate) and e.snapshot for e in events)
    # the group remembers: the next 5 follow on
    reader = open_reader(url, "cli", "other", prefix="t5")
    more = await reader.read()
    await reader.close()
    assert more and all(m[1] > b"0" for m in more)
