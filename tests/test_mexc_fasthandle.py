"""The compiled ``_handle_message`` of the MEXC public handler (``_fasthandle.MexcHandle``) gives
exactly the events, counters, ``seen`` times and books of the pure-Python path: the benchmark
frames, generated and damaged frames of every body (the differential-fuzz corpus), and the pushes
it must hand over (deals left out, of size 0, of a new side or without an id, crossed quotes,
symbols not followed, unsynced books, gaps, closed books, a failing consumer)."""

from __future__ import annotations

import random

import pytest
from fuzz_mexc import Snapshot, corpus

from cexfeed.exchanges.mexc import encode
from cexfeed.exchanges.mexc import public_handler as mexc
from cexfeed.handlers import WebSocketHandler

pytestmark = pytest.mark.skipif(mexc.MexcHandle is None or mexc.decode_push_compiled is None, reason="compiled MEXC handle not built")

RECV = 1_764_400_000_000_000_000


class Run:
    """One MEXC handler on one path: its events (each with its ``seen`` time), counters, books,
    and how many frames the compiled ``_handle_message`` handed to the handler's own path."""

    def __init__(self, monkeypatch, compiled: bool, raising: bool = False) -> None:
        self.handed_over = 0
        base = WebSocketHandler._handle_message

        def counted(handler, raw, recv_ts=None):
            self.handed_over += 1
            return base(handler, raw, recv_ts)

        monkeypatch.setattr(WebSocketHandler, "_handle_message", counted)
        self.events: list = []
        self.handler = mexc.MexcPublicWebSocketHandler(on_event=self._on_event)
        self.handler.use_compiled(compiled)
        assert (self.handler.__dict__.get("_handle_message") is not None) == compiled
        monkeypatch.setattr(WebSocketHandler, "_handle_message", base)
        self.raising = raising

    def _on_event(self, event) -> None:
        self.events.append((event, self.handler.seen[type(event)].get(event.venue_symbol)))
        if self.raising and len(self.events) % 3 == 0:
            raise RuntimeError("consumer failed")

    def step(self, step) -> None:
        if isinstance(step, Snapshot):
            symbol, version = step
            self.handler.apply_snapshot(symbol, version, [(54.5, 1.0), (54.0, 2.0)], [(55.5, 1.0), (56.0, 2.0)], 0, 1)
        elif callable(step):
            step(self.handler)
        else:
            self.handler._handle_message(step, RECV)

    def state(self) -> tuple:
        h = self.handler
        books = {s: (q.synced, q.book.top_bids(), q.book.top_asks(), q.book.last_update_id) for s, q in h.books.items()}
        return self.events, dict(h.stats.errors), h.stats.frames, h.stats.events, books


def same(monkeypatch, steps, **kwargs) -> Run:
    """Run ``steps`` on both paths, check they agree, return the compiled run."""
    runs = [Run(monkeypatch, True, **kwargs), Run(monkeypatch, False, **kwargs)]
    for step in steps:
        for run in runs:
            run.step(step)
    assert runs[0].state() == runs[1].state()
    assert runs[1].handed_over == 0
    return runs[0]


def test_bench_frames_are_read_in_c(monkeypatch):
    from cexfeed.bench.frames import mexc_cases

    for case in mexc_cases(40):
        steps = list(case.frames)
        if case.snapshot is not None:
            update_id, bids, asks = case.snapshot
            snap = ([(float(p), float(s)) for p, s in bids], [(float(p), float(s)) for p, s in asks])
            steps.insert(0, lambda h, u=update_id, s=snap: h.apply_snapshot(case.symbol, u, s[0], s[1], 0, RECV))
        fast = same(monkeypatch, steps)
        # all but the first push (the connection's age check arms on it); klines go, decoded,
        # to the handler's _on_kline
        assert fast.handed_over == 1, case.label


@pytest.mark.parametrize("seed", [3, 4])
def test_fuzz_corpus_same_events(monkeypatch, seed):
    fast = same(monkeypatch, list(corpus(seed, 4000)))
    assert len(fast.events) > 1000 and fast.handed_over < 3500


def _deals(*deals, symbol="BTCUSDT", **kwargs):
    return encode.aggre_deals_frame(symbol, deals, send_time=1_764_400_000_000, **kwargs)


DEAL = ("65000.1", "0.5", 1, 1_764_400_000_001, "7X0_8X0")


@pytest.mark.parametrize("frame", [
    _deals(DEAL, ("65000.2", "0.25", 2, 1_764_400_000_002, "9X0_1X0")),
    _deals(DEAL, ("65000.2", "0", 2, 1_764_400_000_002, "9X0_1X0")),  # zero_size_trade
    _deals(DEAL, ("65000.2", "0.25", 3, 1_764_400_000_002, "9X0_1X0")),  # unknown_side
    _deals(DEAL, ("65000.2", "0.25", 2, 1_764_400_000_002, "")),  # no trade id
    _deals(DEAL, ("65000.2", "x", 2, 1_764_400_000_002, "9X0_1X0")),  # a deal left out
    _deals(DEAL, ("65000.2", "0.25", 2, 0, "9X0_1X0")),  # the push's time
    _deals(DEAL, symbol="ETHUSDT"),
    _deals(),
    encode.aggre_book_ticker_frame("BTCUSDT", "65000.0", "1.5", "65000.1", "2.5", send_time=5),
    encode.aggre_book_ticker_frame("BTCUSDT", "65000.2", "1.5", "65000.1", "2.5", send_time=5),  # crossed
    encode.aggre_book_ticker_frame("BTCUSDT", "65000.1", "1.5", "65000.1", "2.5", send_time=5),  # crossed (equal)
    encode.aggre_book_ticker_frame("BTCUSDT", "", "", "65000.1", "2.5", send_time=5),
    encode.aggre_book_ticker_frame("BTCUSDT", "0", "1", "65000.1", "0", send_time=5),
    encode.aggre_depth_frame("BTCUSDT", 101, 103, bids=[("54.9", "1")], asks=[("55.1", "0")], send_time=5),
    encode.aggre_depth_frame("BTCUSDT", 104, 103, bids=[("54.9", "1")], send_time=5),  # bad_version
    encode.aggre_depth_frame("BTCUSDT", 150, 160, bids=[("54.9", "1")], send_time=5),  # gap
    encode.aggre_depth_frame("BTCUSDT", 101, 103, bids=[("56.0", "1")], send_time=5),  # crossed book
    # other bodies: decoded here, then the handler's own method
    encode.kline_frame("BTCUSDT", "Min1", 1_764_400_020, "65000", "65007", "64995", "65001", "1.5", "97500.5", create_time=5),
    encode.limit_depth_frame("BTCUSDT", 120, bids=[("54.9", "1"), ("54.8", "2")], asks=[("55.1", "1")], send_time=5),
    encode.book_ticker_batch_frame("BTCUSDT", [("54.9", "1", "55.1", "2"), ("55.0", "1", "55.0", "2")], version=7, send_time=5),
    encode.mini_ticker_frame("BTCUSDT", "65000", "0.01", "65100", "64000", "12.5", "812500", send_time=5),
])
@pytest.mark.parametrize("follow", [False, True])
def test_pushes_handed_over_are_counted_the_same(monkeypatch, frame, follow):
    steps = [Snapshot(("BTCUSDT", 100)), Snapshot(("ETHUSDT", 100))]
    if follow:
        steps.append(lambda h: h.follow(["BTCUSDT"]))
    steps += [_deals(DEAL), frame, frame, encode.aggre_depth_frame("BTCUSDT", 104, 104, asks=[("57", "1")], send_time=6)]
    same(monkeypatch, steps)


def test_books_through_unfollow_close_and_failing_consumers(monkeypatch):
    rng = random.Random(5)
    frames = []
    versions = {"BTCUSDT": 100, "ETHUSDT": 100}
    for n in range(300):
        symbol = rng.choice(["BTCUSDT", "BTCUSDT", "ETHUSDT"])
        first = versions[symbol] + (5 if symbol == "BTCUSDT" and rng.random() < 0.03 else 1)  # now and then a gap
        versions[symbol] = last = first + rng.randint(0, 2)
        bids = [(f"{54 - rng.randint(0, 30) / 10:.1f}", rng.choice(["0", "1.5", "0.25"])) for _ in range(rng.randint(0, 5))]
        asks = [(f"{56 + rng.randint(0, 30) / 10:.1f}", rng.choice(["0", "1.5", "0.25"])) for _ in range(rng.randint(0, 5))]
        frames.append(encode.aggre_depth_frame(symbol, first, last, bids=bids, asks=asks, send_time=n))
    steps = [Snapshot(("BTCUSDT", 100)), Snapshot(("ETHUSDT", 100))] + frames[:80] + [lambda h: h.follow(["BTCUSDT", "ETHUSDT"])] + frames[80:150]
    steps += [lambda h: h.unfollow("ETHUSDT")] + frames[150:200] + [lambda h: h.close_book("BTCUSDT", 3)] + frames[200:230]
    steps += [lambda h: h.open_book("BTCUSDT"), Snapshot(("BTCUSDT", 2000))] + frames[230:]
    fast = same(monkeypatch, steps, raising=True)
    counters = fast.state()[1]
    assert {"callback", "unknown_symbol", "book_after_unsubscribe"} <= set(counters), counters
    assert sum(type(e).__name__ == "BookUpdate" for e, _ in fast.events) > 50


def test_other_decoders_take_the_pure_path(monkeypatch):
    # a handler given another decoder (upb: the differential fuzz's pure path) never reads in C
    from cexfeed.exchanges.mexc import decode

    run = Run(monkeypatch, True)
    run.handler._decode = decode.decode_push_upb
    for frame in (_deals(DEAL), _deals(DEAL)):
        run.step(frame)
    assert run.handed_over == 2 and len(run.events) == 2
