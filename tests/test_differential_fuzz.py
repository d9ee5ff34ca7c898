"""Cross-path differential fuzz: every frame - captured, documented, generated and damaged -
gives the same events and the same counters on every path that reads it: the direct handler
with its compiled parts (Gate push reader, compiled book), the direct handler on its
pure-Python twins, and the strategy (compat) path. Frames run in one stream, so the paths also
keep the same books throughout.

``CEXFEED_DIFF_FRAMES`` sets the frames per venue (CI default 100,000: Gate's two markets get
half each, MEXC spot all); a longer run is the same test with a bigger number."""

from __future__ import annotations

import os
from collections import Counter

import msgspec
import pytest
from fuzz_gate import SHARED, corpus
from fuzz_mexc import Snapshot
from fuzz_mexc import corpus as mexc_corpus

import cexfeed.book as book_module
from cexfeed.compat import build_handler
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.protocol import spot_symbol_map
from cexfeed.symbols import Instrument

FRAMES = int(os.environ.get("CEXFEED_DIFF_FRAMES", "100000"))
PER_MARKET = FRAMES // 2


def _symbols(spot: bool):
    if spot:
        return spot_symbol_map()
    contracts = SHARED / "captures" / "gateio" / "GATEIO_FUTURES.0"
    body = None
    if contracts.exists():
        from cexfeed.capture import read_instruments

        body = read_instruments(contracts)
    smap = futures_symbol_map(body)
    for name, multiplier in (("BTC_USDT", 0.0001), ("ETH_USDT", 0.01)):
        smap.add(Instrument(symbol=f"{name.replace('_', '/')}:USDT", venue_symbol=name, base=name[:3], quote="USDT", market="perp",
                            settle="USDT", contract_multiplier=multiplier))
    return smap


class Path_:
    """One path through the frames: its handler, and per frame the events and counter changes."""

    def __init__(self, name: str, handler) -> None:
        self.name = name
        self.handler = handler
        self.events: list = []
        handler.set_callback(self.events.append)
        self.before: Counter = Counter()

    def step(self, frame: bytes | str | Snapshot) -> tuple:
        self.events.clear()
        if isinstance(frame, Snapshot):
            symbol, version = frame
            self.handler.apply_snapshot(symbol, version, [(54.5, 1.0), (54.0, 2.0)], [(55.5, 1.0), (56.0, 2.0)], 0, 1)
        else:
            self.handler._handle_message(frame, 1)
        errors = Counter(self.handler.stats.errors)
        delta = dict(errors - self.before)
        self.before = errors
        return [_comparable(e) for e in self.events], delta

    def books(self) -> dict:
        return {s: (q.synced, q.book.top_bids(), q.book.top_asks(), q.book.last_update_id) for s, q in self.handler.books.items()}


def _comparable(event) -> dict:
    data = msgspec.structs.asdict(event)
    data["type"] = type(event).__name__
    return data


def _paths(stream: str, spot: bool, pure: bool) -> list[Path_]:
    if pure:
        direct = build_handler(stream, "direct", symbols=_symbols(spot), depth=100)
        direct._reader = None
        return [Path_("direct-pure", direct)]
    return [
        Path_("direct", build_handler(stream, "direct", symbols=_symbols(spot), depth=100)),
        Path_("strategy", build_handler(stream, "strategy", symbols=_symbols(spot), depth=100)),
    ]


def _run(paths: list[Path_], frames: list[bytes]) -> list[tuple]:
    trace = []
    for frame in frames:
        outcomes = [p.step(frame) for p in paths]
        for path, outcome in zip(paths[1:], outcomes[1:]):
            assert outcome == outcomes[0], f"{path.name} != {paths[0].name} on frame {frame[:300]!r}"
        trace.append(outcomes[0])
    return trace


@pytest.mark.parametrize("stream,spot,seed", [("gateio-spot", True, 11), ("gateio-perp", False, 12)])
def test_gate_paths_agree(monkeypatch, stream, spot, seed):
    frames = list(corpus(seed, spot, PER_MARKET))
    compiled = _paths(stream, spot, pure=False)
    trace = _run(compiled, frames)
    assert compiled[0].books() == compiled[1].books()
    # the pure-Python twins: no compiled reader, the pure book
    monkeypatch.setattr(book_module, "L2Book", book_module.PyL2Book)
    pure = _paths(stream, spot, pure=True)
    assert _run(pure, frames) == trace
    assert pure[0].books() == compiled[0].books()
    # the run did exercise the paths: events of several kinds, malformed frames, synced books
    kinds = Counter(e["type"] for events, _ in trace for e in events)
    counters = Counter(k for _, delta in trace for k in delta)
    assert kinds["BookUpdate"] > PER_MARKET // 40 and len(kinds) >= 4, kinds
    assert counters["malformed"] > PER_MARKET // 20, counters


def test_mexc_paths_agree(monkeypatch):
    from cexfeed.exchanges.mexc import decode

    frames = list(mexc_corpus(13, FRAMES))
    paths = [Path_("direct", build_handler("mexc-spot", "direct", depth=100)), Path_("strategy", build_handler("mexc-spot", "strategy", depth=100))]
    trace = _run(paths, frames)
    assert paths[0].books() == paths[1].books()
    # the pure-Python twins: the upb decoder, the pure book
    monkeypatch.setattr(book_module, "L2Book", book_module.PyL2Book)
    pure = build_handler("mexc-spot", "direct", depth=100)
    pure._decode = decode.decode_push_upb
    assert _run([Path_("direct-pure", pure)], frames) == trace
    kinds = Counter(e["type"] for events, _ in trace for e in events)
    counters = Counter(k for _, delta in trace for k in delta)
    assert kinds["BookUpdate"] > FRAMES // 40 and len(kinds) >= 4, kinds
    assert counters["malformed"] > FRAMES // 40, counters
