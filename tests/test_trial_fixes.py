"""What a newcomer's trial of cexfeed found, each at the depth where it belongs (table rows, value
rules, feed core), on the direct and the strategy (compat) path where both exist; against the
simulator over real sockets."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import sys
from pathlib import Path

import pytest
from brokers import redis_server  # noqa: F401  (fixture)
from paths import PATHS, run, same_on_every_path

from cexfeed.architecture import open_feed
from cexfeed.cluster import config as cfg
from cexfeed.exchanges.mexc.encode import aggre_book_ticker_frame, aggre_deals_frame, aggre_depth_frame, book_ticker_batch_frame
from cexfeed.models import BookStatus
from cexfeed.net import Backoff
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until

ARCHITECTURES = ["direct", "strategy"]


@pytest.fixture
async def mexc_sim():
    async with SimServer(seed=4, rate=20, venues=["mexc-spot"]) as server:
        yield server


def _mexc(sim, channels, architecture, events):
    return open_feed("mexc-spot", ["BTC/USDT"], channels, architecture=architecture, url=sim.ws_url("mexc-spot"),
                     rest_url=sim.rest_url("mexc-spot"), on_event=events.append, reconnect_backoff=lambda: Backoff(initial=0.05, cap=0.5))


# -- 2: one book per symbol covers limit_book; bbo and bbo_batch are one or the other ---------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_two_book_channels_or_both_bbo_channels_are_refused_before_any_network_call(architecture):
    with pytest.raises(ValueError, match=r"one book channel per symbol.*got \['book', 'limit_book'\]"):
        open_feed("mexc-spot", ["BTC/USDT"], ["book", "limit_book"], architecture=architecture, url="ws://127.0.0.1:9/ws")
    with pytest.raises(ValueError, match="'bbo' and 'bbo_batch' deliver the same bbo events; subscribe one of them per symbol"):
        open_feed("mexc-spot", ["BTC/USDT"], ["trades", "bbo", "bbo_batch"], architecture=architecture, url="ws://127.0.0.1:9/ws")


@pytest.mark.parametrize("architecture", ARCHITECTURES)
async def test_limit_book_is_the_symbols_one_book(mexc_sim, architecture):
    events: list = []
    feed = _mexc(mexc_sim, ["limit_book", "bbo_batch"], architecture, events)
    await feed.start()
    try:
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 8.0)
        book = feed.book("BTC/USDT")
        assert 0 < len(book.top_bids()) <= 20 and book.best_bid()[0] < book.best_ask()[0]
        assert [e.reason for e in events if isinstance(e, BookStatus)][:1] == ["full"]
        with pytest.raises(ValueError, match="BTCUSDT already has a book from 'limit_book'"):
            await feed.subscribe(["BTC/USDT"], ["book"])
        with pytest.raises(ValueError, match="BTCUSDT already has bbo events from 'bbo_batch'"):
            await feed.subscribe(["BTC/USDT"], ["bbo"])
        await feed.unsubscribe(["BTC/USDT"], ["limit_book"])
        assert feed.book("BTC/USDT") is None
        await feed.subscribe(["BTC/USDT"], ["book"])  # the symbol's book from another channel, once the first is gone
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 8.0)
    finally:
        await feed.close()


# -- 3: pushes of symbols not followed are counted and skipped; a crossed quote is never a quote ------


def _gate(channel: str, result) -> str:
    return json.dumps({"time": 1700000000, "time_ms": 1700000000000, "channel": channel, "event": "update", "result": result})


FOLLOW = {"gateio-spot": "BTC_USDT", "gateio-perp": "BTC_USDT", "mexc-spot": "BTCUSDT"}
UNKNOWN_PUSHES = {
    "gateio-spot": [
        _gate("spot.trades", {"id": 1, "create_time_ms": "1700000000000", "currency_pair": "XXX_YYY", "side": "buy", "amount": "1", "price": "2"}),
        _gate("spot.book_ticker", {"t": 1700000000000, "u": 5, "s": "XXX_YYY", "b": "1", "B": "1", "a": "2", "A": "1"}),
        _gate("spot.order_book_update", {"t": 1700000000000, "s": "XXX_YYY", "U": 5, "u": 6, "b": [["1", "2"]], "a": []}),
        _gate("spot.trades", {"id": 2, "create_time_ms": "1700000000000", "currency_pair": "BTC_USDT", "side": "sell", "amount": "1", "price": "3"}),
    ],
    "gateio-perp": [
        # (held pushes are held whole, so a push naming a contract not followed is skipped whole)
        _gate("futures.trades", [{"id": 1, "create_time_ms": 1700000000000, "contract": "XXX_USDT", "size": 1, "price": "2"}]),
        _gate("futures.book_ticker", {"t": 1700000000000, "u": 5, "s": "XXX_USDT", "b": "1", "B": 1, "a": "2", "A": 1}),
        _gate("futures.order_book_update", {"t": 1700000000000, "s": "XXX_USDT", "U": 5, "u": 6, "b": [{"p": "1", "s": 2}], "a": []}),
        _gate("futures.trades", [{"id": 2, "create_time_ms": 1700000000000, "contract": "BTC_USDT", "size": -10, "price": "3"}]),
    ],
    "mexc-spot": [
        aggre_deals_frame("ZZZUSDT", [(1.0, 1.0, 1, 1700000000000, "z1")], send_time=1700000000000),
        aggre_book_ticker_frame("ZZZUSDT", "1", "1", "2", "1", send_time=1700000000000),
        aggre_depth_frame("ZZZUSDT", 5, 6, bids=[(1.0, 1.0)], send_time=1700000000000),
        aggre_deals_frame("BTCUSDT", [(3.0, 1.0, 2, 1700000000000, "b1")], send_time=1700000000000),
    ],
}


@pytest.mark.parametrize("stream", list(UNKNOWN_PUSHES))
def test_pushes_of_symbols_not_followed_are_counted_not_published(stream):
    steps = [lambda h: h.follow([FOLLOW[stream]]), *UNKNOWN_PUSHES[stream]]
    events, errors = same_on_every_path(stream, steps)  # direct (compiled and pure) and strategy alike
    assert [(e["type"], e["venue_symbol"], e["price"]) for e in events] == [("Trade", FOLLOW[stream], 3.0)]
    assert errors == {"unknown_symbol": 3}
    for path in PATHS:
        _, _, handler = run(stream, path, steps)
        assert handler.books == {}  # no book is made for a symbol not followed


CROSSED = {
    "gateio-spot": [_gate("spot.book_ticker", {"t": 1700000000000, "u": 5, "s": "BTC_USDT", "b": "101", "B": "1", "a": "100", "A": "1"}),
                    _gate("spot.book_ticker", {"t": 1700000000000, "u": 6, "s": "BTC_USDT", "b": "100", "B": "1", "a": "100", "A": "1"}),
                    _gate("spot.book_ticker", {"t": 1700000000000, "u": 7, "s": "BTC_USDT", "b": "99", "B": "1", "a": "100", "A": "1"})],
    "gateio-perp": [_gate("futures.book_ticker", {"t": 1700000000000, "u": 5, "s": "BTC_USDT", "b": "101", "B": 1, "a": "100", "A": 1}),
                    _gate("futures.book_ticker", {"t": 1700000000000, "u": 6, "s": "BTC_USDT", "b": "100", "B": 1, "a": "100", "A": 1}),
                    _gate("futures.book_ticker", {"t": 1700000000000, "u": 7, "s": "BTC_USDT", "b": "99", "B": 1, "a": "100", "A": 1})],
    "mexc-spot": [aggre_book_ticker_frame("BTCUSDT", "101", "1", "100", "1"),
                  book_ticker_batch_frame("BTCUSDT", [("100", "1", "100", "2"), ("99", "1", "100", "2")]),
                  aggre_book_ticker_frame("BTCUSDT", "98", "1", "", "")],  # one-sided: a quote
}


@pytest.mark.parametrize("stream", list(CROSSED))
def test_a_crossed_best_bid_offer_is_counted_not_published(stream):
    """pitfalls D.1 #1/#31: bid >= ask is no valid top of book; a book ticker has nothing to
    resync, so the quote is counted (``crossed_bbo``) and skipped; a one-sided quote is fine."""
    events, errors = same_on_every_path(stream, CROSSED[stream])
    assert [(e["bid_price"], e["ask_price"]) for e in events] == [(99.0, 100.0)] + ([(98.0, None)] if stream == "mexc-spot" else [])
    assert errors == {"crossed_bbo": 2}


async def test_a_live_push_of_a_symbol_not_subscribed_is_skipped(mexc_sim):
    for architecture in ARCHITECTURES:
        events: list = []
        feed = _mexc(mexc_sim, ["trades"], architecture, events)
        await feed.start()
        try:
            await mexc_sim.venues["mexc-spot"].broadcast(aggre_deals_frame("ZZZUSDT", [(1.0, 1.0, 1, 1700000000000, "z1")]))
            assert await wait_until(lambda: feed.stats()["errors"].get("unknown_symbol", 0) == 1, 5.0), feed.stats()
            assert not [e for e in events if e.venue_symbol == "ZZZUSDT"]
        finally:
            await feed.close()


# -- 4: cexfeed run checks the symbols: forms up front, listed-ness on the first start, no endless restarts


CLI = [sys.executable, "-c", "from cexfeed.cli import main; main()"]


async def _cli(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*CLI, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


def _run_config(path, symbols: list[str], sim=None, sink: str = "", workers: int = 2) -> str:
    endpoints = f'url = "{sim.ws_url("gateio-spot")}"\nrest_url = "{sim.rest_url("gateio-spot")}"\n' if sim is not None else ""
    path.write_text(f'[sink]\nurl = "{sink or "jsonl:" + str(path.with_suffix(".jsonl"))}"\n'
                    f"[cluster]\nworkers = {workers}\nrestart_delay = 0.1\nrestart_delay_max = 0.2\n"
                    f'[[feed]]\nvenue = "gateio-spot"\nsymbols = {json.dumps(symbols)}\nchannels = ["book", "trades"]\n{endpoints}')
    return str(path)


async def test_run_plan_refuses_symbols_not_in_the_unified_form(tmp_path):
    code, out, err = await _cli("run", _run_config(tmp_path / "bad.toml", ["btc/usdt", "NOPE/USDT", "BTCUSDT"]), "--plan")
    assert code == 1 and out == ""
    assert "feed #1 (gateio-spot): 'btc/usdt' is not a unified symbol (BASE/QUOTE, upper case): did you mean 'BTC/USDT'?" in err
    assert "'BTCUSDT' is not a unified symbol" in err and "NOPE" not in err  # its form is right: checked against the list at start
    assert "Traceback" not in err
    code, out, err = await _cli("run", _run_config(tmp_path / "one.toml", ["BTC/USDT"]), "--plan")
    assert code == 0 and "gateio-spot book,trades: 1 symbol, 2 subscriptions, 1 connection: BTC/USDT" in out  # (#12: plurals)


async def test_run_stops_on_a_symbol_the_venue_does_not_list(tmp_path):
    async with SimServer(seed=3, rate=10, venues=["gateio-spot"]) as sim:
        path = _run_config(tmp_path / "nope.toml", ["BTC/USDT", "NOPE/USDT", "ETH/USDT"], sim)
        code, out, err = await _cli("run", path, "--duration", "30")
    assert code == 1
    assert re.search(r"shard \d pid \d+ exited rc 78: configuration error, not restarted; stopping", out), out
    assert "'NOPE/USDT' is not listed by gateio-spot" in err and "nothing was restarted" in err
    assert "restart in" not in out and "Traceback" not in err
    # alone (--shard K, no supervisor) the worker exits with the same status
    shard = next(k for k in (0, 1) if "NOPE/USDT" in cfg.describe(cfg.plan(cfg.load(path))).splitlines()[1 + 2 * k])
    async with SimServer(seed=3, rate=10, venues=["gateio-spot"]) as sim:
        path = _run_config(tmp_path / "nope.toml", ["BTC/USDT", "NOPE/USDT", "ETH/USDT"], sim)
        code, out, err = await _cli("run", path, "--shard", str(shard), "--duration", "30")
    assert code == 78 and "'NOPE/USDT' is not listed by gateio-spot" in err


# -- 5: Ctrl-C at any moment: one line, exit 130, no traceback ----------------------------------------


def _blackhole() -> socket.socket:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def _sigint_as_a_terminal_gives_it() -> None:
    # a test runner started in the background of a script has SIGINT ignored, which a child
    # inherits; the user at a terminal, whom these tests play, has it at its default
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def _interrupt(args: list[str], after: float) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*CLI, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, preexec_fn=_sigint_as_a_terminal_gives_it)
    await asyncio.sleep(after)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:  # it did not stop: never leave it running
            proc.kill()
            await proc.wait()
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("venue", ["gateio-spot", "mexc-spot"])
async def test_ctrl_c_during_the_start_of_stream_exits_130_without_traceback(venue):
    with _blackhole() as hole:
        port = hole.getsockname()[1]
        args = ["stream", venue, "--url", f"ws://127.0.0.1:{port}/ws", "--rest-url", f"http://127.0.0.1:{port}"]
        # whatever the moment (importing, building the feed, starting it): the same clean exit
        for after in (0.05, 0.15, 0.3, 0.6, 1.5):
            code, out, err = await _interrupt(args, after)
            assert code == 130, (after, err)
            assert "Traceback" not in err and "never retrieved" not in err, (after, err)
            assert err.strip().splitlines()[-1] in ("interrupted", "interrupted during start-up"), (after, err)


async def test_ctrl_c_before_any_book_synced_exits_130_not_1():
    async with SimServer(seed=2, rate=20, venues=["gateio-spot"]) as sim:
        sim.fail_snapshots(10_000)
        args = ["stream", "gateio-spot", "--url", sim.ws_url("gateio-spot"), "--rest-url", sim.rest_url("gateio-spot"), "--format", "none"]
        code, out, err = await _interrupt(args, 4.0)
    assert code == 130, err
    assert "interrupted before the streams synced (no book of gateio-spot ever synced" in err and "Traceback" not in err


async def test_ctrl_c_during_the_start_of_run_exits_130(tmp_path):
    with _blackhole() as hole:
        port = hole.getsockname()[1]
        path = tmp_path / "hang.toml"
        path.write_text(f'[sink]\nurl = "jsonl:{tmp_path / "out.jsonl"}"\n[cluster]\nworkers = 2\n'
                        f'[[feed]]\nvenue = "gateio-spot"\nsymbols = ["BTC/USDT", "ETH/USDT"]\n'
                        f'url = "ws://127.0.0.1:{port}/ws/v4/"\nrest_url = "http://127.0.0.1:{port}/api/v4"\n')
        code, out, err = await _interrupt(["run", str(path)], 4.0)
    assert code == 130, (out, err)
    assert "interrupted during start-up" in err and "Traceback" not in err
    assert re.findall(r"shard \d pid \d+ stopped rc (-?\d+)", out) and "restart in" not in out


# -- 6: cexfeed run --metrics-port 0: a free port per worker, printed ---------------------------------


# a deadline for the whole test instead of 30 s per line: a loaded machine starts workers slowly
# (the imports alone took most of those 30 s); it fails at the deadline, never hangs
METRICS_DEADLINE = 150


@pytest.mark.timeout(METRICS_DEADLINE + 60)
async def test_run_metrics_port_0_gives_each_worker_a_free_port(tmp_path):
    import aiohttp

    async with SimServer(seed=3, rate=10, venues=["gateio-spot"]) as sim:
        path = _run_config(tmp_path / "m.toml", ["BTC/USDT", "ETH/USDT"], sim)
        # a long --duration: the test ends the run itself
        proc = await asyncio.create_subprocess_exec(*CLI, "run", path, "--metrics-port", "0", "--duration", "300",
                                                    stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        urls: dict[str, str] = {}
        seen: list[str] = []
        try:
            async with asyncio.timeout(METRICS_DEADLINE - 40):
                while len(urls) < 2:
                    line = (await proc.stderr.readline()).decode()
                    if not line:
                        rest = (await asyncio.wait_for(proc.stdout.read(), 30)).decode()
                        raise AssertionError(f"the run ended (rc {await proc.wait()}) before its workers printed their metrics URLs: "
                                             f"{rest[-2000:]} {seen[-20:]}")
                    seen.append(line)
                    # (two workers write to one pipe: read every URL in the line)
                    for found in re.finditer(r"shard (\d) metrics: (http://127\.0\.0\.1:(\d+)/metrics)", line):
                        urls[found.group(1)] = found.group(2)
                        assert int(found.group(3)) > 1024  # a free port, not 0 + K
            assert len(set(urls.values())) == 2
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                for url in urls.values():
                    async with session.get(url) as response:
                        assert response.status == 200 and "cexfeed_" in await response.text()
        except TimeoutError:
            raise AssertionError(f"no metrics URL from both workers within {METRICS_DEADLINE - 40} s: {urls}, stderr {seen[-20:]}") from None
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.communicate(), 30)  # the supervisor gives its workers 10 s
            finally:
                if proc.returncode is None:  # never leave the run behind (its workers follow it)
                    proc.kill()
                    await asyncio.wait_for(proc.wait(), 10)


# -- 7: damaged captures: resync past the damaged block, say what was lost, exit 1 when nothing decoded --


async def _record(tmp_path) -> Path:
    from cexfeed.feed import Feed
    from cexfeed.record import Recorder

    recorder = Recorder(tmp_path / "s", block_bytes=4096, flush_interval=0.05)
    async with SimServer(seed=5, rate=40, venues=["gateio-spot"]) as sim:
        feed = Feed("gateio-spot", ["BTC/USDT", "ETH/USDT"], ["book", "trades"], url=sim.ws_url("gateio-spot"),
                    rest_url=sim.rest_url("gateio-spot"), tap=recorder)
        await feed.start()
        assert await wait_until(lambda: feed.synced("BTC/USDT") and feed.synced("ETH/USDT"), 10)
        await asyncio.sleep(1.0)
        await feed.close()
    recorder.close()
    return recorder.paths[0]


def _blocks(data: bytes) -> list[tuple[int, int]]:
    from cexfeed.record import format as fmt

    out, offset = [], 0
    while offset < len(data):
        _, _, _, length, _, count = fmt.BLOCK_HEAD.unpack_from(data, offset)
        out.append((offset, count))
        offset += fmt.BLOCK_HEAD.size + length
    return out


async def test_one_damaged_byte_anywhere_loses_one_block_not_the_session(tmp_path):
    from cexfeed.record import CaptureReplay

    path = await _record(tmp_path)
    data = path.read_bytes()
    blocks = _blocks(data)
    assert [count for _, count in blocks[:2]] == [1, 1] and len(blocks) >= 4  # the header, twice, alone
    whole: list = []
    CaptureReplay(whole.append).replay_file(path)
    for index, (offset, count) in enumerate(blocks[:4]):
        bad = bytearray(data)
        bad[offset + 40] ^= 0xFF  # inside the block's compressed frame
        damaged = tmp_path / f"d{index}.00000.cxf"
        damaged.write_bytes(bytes(bad))
        code, out, err = await _cli("replay", str(damaged), "--format", "summary-json")
        assert code == 0, (index, err)
        assert f"corrupt block at byte {offset}" in err and f"{count} records lost to damage" in err
        books = json.loads(out)
        assert set(books) == {"BTC/USDT", "ETH/USDT"}
        events: list = []
        rep = CaptureReplay(events.append)
        rep.replay_file(damaged)
        assert rep.report.lost_records == count
        if index < 2:
            assert events == whole  # a copy of the header was lost: nothing else
        else:  # frames, snapshots or a connection's open record lost: the rest still replays
            assert 0 < len(events) < len(whole) and not rep.problems.get("unknown_connection")


async def test_a_capture_cut_short_or_empty_exits_1_saying_so(tmp_path):
    data = (await _record(tmp_path)).read_bytes()
    for size in (100, 10, 0):
        cut = tmp_path / f"cut{size}.00000.cxf"
        cut.write_bytes(data[:size])
        code, out, err = await _cli("replay", str(cut))
        assert code == 1 and out == "", (size, err)
        assert "needs --venue" not in err and "Traceback" not in err
        if size:
            assert "torn block at byte" in err and "the capture is damaged or too short: no session header could be read" in err
        else:
            assert "the capture is empty" in err
    plain = tmp_path / "cut10.cxf"  # not named as a part: known by the start of a block head
    plain.write_bytes(data[:10])
    code, out, err = await _cli("replay", str(plain))
    assert code == 1 and "damaged or too short" in err


# -- 9: consume --format summary after the producer stopped; one venue naming --------------------------


async def test_consume_summary_shows_closed_books_and_names_streams_one_way(redis_server):  # noqa: F811
    from cexfeed.feed import Feed
    from cexfeed.sinks import SinkConfig, make_sink

    sink = make_sink(SinkConfig(url=redis_server.url + "/0", prefix="t9", maxlen=0))
    async with SimServer(seed=5, rate=40, venues=["gateio-spot"]) as sim:
        feed = Feed("gateio-spot", ["BTC/USDT", "ETH/USDT"], ["book", "trades"], url=sim.ws_url("gateio-spot"),
                    rest_url=sim.rest_url("gateio-spot"), sinks=[sink])
        await feed.start()
        assert await wait_until(lambda: feed.synced("BTC/USDT") and feed.synced("ETH/USDT"), 10)
        await asyncio.sleep(0.5)
        await feed.close()  # the last events of each book: book_status stale (closed)
    code, out, err = await _cli("consume", redis_server.url + "/0", "--prefix", "t9", "--format", "summary", "--duration", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert "gap notice: gateio-spot BTC/USDT book start x1" in lines
    for symbol in ("BTC/USDT", "ETH/USDT"):
        (line,) = [x for x in lines if x.startswith(f"book gateio-spot {symbol}: ")]
        assert re.fullmatch(rf"book gateio-spot {symbol}: stale \(closed\); last synced id \d+  bid \(.+\)  ask \(.+\)", line), line
    assert "waiting for a snapshot" not in out and not any(x.startswith("book gateio ") for x in lines)


# -- 10: every bad symbol in one error; an unlisted one gives the error only ------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
async def test_stream_names_every_bad_symbol_at_once(architecture):
    async with SimServer(seed=2, rate=10, venues=["gateio-spot"]) as sim:
        base = ["stream", "gateio-spot", "--url", sim.ws_url("gateio-spot"), "--rest-url", sim.rest_url("gateio-spot"), "--duration", "2",
                "--architecture", architecture]
        code, out, err = await _cli(*base, "--symbols", "btc/usdt,BTCUSDT,NOPE/USDT")
        assert code == 1 and out == ""
        assert err.strip() == ("Error: 'btc/usdt' is not a unified symbol (BASE/QUOTE, upper case): did you mean 'BTC/USDT'?; "
                               "'BTCUSDT' is not a unified symbol (BASE/QUOTE, upper case): did you mean 'BTC/USDT'?; "
                               "'NOPE/USDT' is not listed by gateio-spot")
        code, out, err = await _cli(*base, "--symbols", "NOPE/USDT")
        assert code == 1 and out == "" and err.strip() == "Error: 'NOPE/USDT' is not listed by gateio-spot"  # no "events 0" line


# -- 11: a sink that cannot be opened at all stops the start (exit 1); later outages buffer as documented --


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_sink_that_cannot_be_opened_fails_the_start(tmp_path):
    port = _closed_port()
    async with SimServer(seed=2, rate=10, venues=["gateio-spot"]) as sim:
        base = ["stream", "gateio-spot", "--url", sim.ws_url("gateio-spot"), "--rest-url", sim.rest_url("gateio-spot"), "--duration", "3",
                "--format", "none"]
        for url, why in ((f"jsonl:{tmp_path / 'file'}/x.jsonl", "FileExistsError"), (f"redis://127.0.0.1:{port}/0", "ConnectionError"),
                         (f"nats://127.0.0.1:{port}", "NoServersError")):
            if url.startswith("jsonl:"):
                (tmp_path / "file").write_text("a file, not a folder")
            code, out, err = await _cli(*base, "--sink", url)
            assert code == 1, (url, err)
            assert err.startswith(f"Error: sink {url.split('/0')[0] if url.startswith('redis') else url}") and "cannot be opened" in err, err
            assert why in err and "Traceback" not in err
        # a missing folder is made (documented), not an error
        code, out, err = await _cli(*base, "--sink", f"jsonl:{tmp_path / 'new' / 'dir' / 'e.jsonl'}")
        assert code == 0 and (tmp_path / "new" / "dir" / "e.jsonl").stat().st_size > 0
        # cexfeed run: a configuration error, not restarted
        path = _run_config(tmp_path / "sink.toml", ["BTC/USDT"], sim, sink=f"redis://127.0.0.1:{port}/0", workers=1)
        code, out, err = await _cli("run", path, "--duration", "20")
    assert code == 1 and "exited rc 78: configuration error, not restarted" in out
    assert f"shard 0: sink redis://127.0.0.1:{port}/0 cannot be opened" in err and "restart in" not in out


# -- 12: connection statuses and log lines say the same thing consistently ------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
async def test_connected_carries_the_attempt_that_worked_and_rest_lines_have_no_empty_parts(architecture, caplog):
    import logging

    from cexfeed.models import ConnectionStatus

    caplog.set_level(logging.INFO, logger="cexfeed")
    async with SimServer(seed=8, rate=20, venues=["gateio-spot"]) as sim:
        sim.reject_upgrades(1, status=503, retry_after=0)
        sim.fail_instruments(10)  # more than the client's retries: failed, then connected again
        events: list = []
        feed = open_feed("gateio-spot", ["BTC/USDT"], ["trades"], architecture=architecture, url=sim.ws_url("gateio-spot"),
                         rest_url=sim.rest_url("gateio-spot"), on_event=events.append, reconnect_backoff=lambda: Backoff(initial=0.05, cap=0.1),
                         instrument_retry=lambda: Backoff(initial=0.05, cap=0.1))
        await feed.start()
        try:
            ws = lambda: [(e.status, e.attempt) for e in events if isinstance(e, ConnectionStatus) and e.connection != "rest"]  # noqa: E731
            assert await wait_until(lambda: ("connected", 2) in ws(), 5)
            assert ws()[:4] == [("connecting", 1), ("failed", 1), ("connecting", 2), ("connected", 2)]
            sim.drop_connections()
            assert await wait_until(lambda: ws()[-1] == ("connected", 1), 5)  # counted afresh after a success
            assert await wait_until(lambda: feed.listed, 10)
        finally:
            await feed.close()
    rest = [r.getMessage() for r in caplog.records if "REST endpoint" in r.getMessage()]
    assert any(line.endswith("/api/v4 connected") for line in rest), rest
    assert not any("()" in line or line.endswith(": ") for line in rest), rest
