"""Frames for the cross-path differential fuzz of MEXC spot (tests/test_differential_fuzz.py): the
real ``.bin`` captures and text frames, generated pushes of every hot body (book streams with
continuing versions, deals, book tickers, klines, limit depth, batches, mini tickers), and two
kinds of damage: bytes (flip, insert, delete, truncate) and structure (a protobuf string or
number field set to a shape that once split the paths, a field cleared, a body swapped under
another channel). Generated frames carry the shapes of issue #10 too: times in any unit, deals
without ids or of a new side code, one-sided quotes, limit depth levels of size 0."""

from __future__ import annotations

import json
import random
from typing import Iterator

from fuzz_gate import SHARED

from cexfeed.exchanges.mexc import encode
from cexfeed.soak.mutate import EDGE_INT, EDGE_TEXT  # noqa: F401  (the mutators live in cexfeed.soak.mutate)
from cexfeed.soak.mutate import mutate_binary as mutate_bytes
from cexfeed.soak.mutate import mutate_protobuf as mutate_structure


def capture_frames() -> list[bytes | str]:
    folder = SHARED / "captures" / "mexc"
    if not folder.exists():
        return []
    frames: list[bytes | str] = [p.read_bytes() for p in sorted(folder.glob("*.bin"))]
    text = folder / "text_frames.jsonl"
    if text.exists():
        for line in text.read_text().splitlines():
            try:
                frame = json.loads(line).get("frame")
            except (ValueError, AttributeError):
                continue
            if isinstance(frame, str):
                frames.append(frame)
    return frames


class Snapshot(tuple):
    """A REST depth snapshot the test applies to every path: ``(symbol, version)``."""


def _unit(rng: random.Random, t: int) -> int:
    """``t`` (ms) in the unit a venue might send it: s, ms, us or ns."""
    return rng.choice([t // 1000, t, t, t * 1000 + 7, t * 1_000_000 + 789])


def _side(rng: random.Random) -> tuple[str, str]:
    """A best bid/offer side: quoted, or one of the ways of no quote (absent, 0, -0, an
    underflow, a size of 0)."""
    if rng.random() < 0.7:
        return f"{rng.uniform(50, 60):.2f}", f"{rng.uniform(0.1, 5):.3f}"
    return rng.choice([("", ""), ("0", "1"), ("-0", "1"), ("1e-999", "2"), ("55.5", "0"), ("55.5", "")])


def generated(rng: random.Random, count: int) -> Iterator[bytes | Snapshot]:
    """Valid pushes: per symbol a book whose versions continue, with a REST snapshot at the
    current version now and then (so books damaged by bad frames sync again), deals (some
    without a trade id, some of a side code added later), book tickers (some one-sided or
    empty), klines, limit depth (some levels of size 0), batches and mini tickers; times in
    any unit."""
    versions = {"BTCUSDT": 1000, "ETHUSDT": 1000}
    t = 1700000000000
    for n in range(count):
        t += rng.randint(0, 50)
        send = _unit(rng, t)
        symbol = rng.choice(list(versions))
        roll = rng.random()
        if n % 150 == 0:
            yield Snapshot((symbol, versions[symbol]))
        elif roll < 0.45:
            first = versions[symbol] + 1
            last = first + rng.randint(0, 3)
            versions[symbol] = last
            bids = [(f"{rng.uniform(50, 54.9):.{rng.randint(0, 3)}f}", "0" if rng.random() < 0.2 else f"{rng.uniform(0.01, 9):.3f}") for _ in range(rng.randint(0, 8))]
            asks = [(f"{rng.uniform(55.1, 60):.{rng.randint(0, 3)}f}", "0" if rng.random() < 0.2 else f"{rng.uniform(0.01, 9):.3f}") for _ in range(rng.randint(0, 8))]
            yield encode.aggre_depth_frame(symbol, first, last, bids=bids, asks=asks, send_time=send)
        elif roll < 0.6:
            deals = [(f"{rng.uniform(50, 60):.2f}", f"{rng.uniform(0.001, 3):.4f}", rng.choice([1, 2, 1, 2, 3, 0]), _unit(rng, t - rng.randint(0, 5)),
                      str(t * 10 + i) if rng.random() < 0.7 else "")
                     for i in range(rng.randint(1, 4))]
            yield encode.aggre_deals_frame(symbol, deals, send_time=send)
        elif roll < 0.72:
            yield encode.aggre_book_ticker_frame(symbol, *_side(rng), *_side(rng), send_time=send)
        elif roll < 0.8:
            yield encode.kline_frame(symbol, "Min1", rng.choice([1700000040, 1700000040000]), "55", "56", "54", "55.5", "12.5", "690.1", create_time=send)
        elif roll < 0.88:
            bids = [(f"{54 - i * 0.1:.1f}", rng.choice(["1.25", "1.25", "0"])) for i in range(5)]
            asks = [(f"{56 + i * 0.1:.1f}", rng.choice(["2.5", "2.5", "0"])) for i in range(5)]
            yield encode.limit_depth_frame(symbol, versions[symbol], bids=bids, asks=asks, send_time=send, levels=5)
        elif roll < 0.94:
            yield encode.book_ticker_batch_frame(symbol, [(*_side(rng), *_side(rng)), ("54.8", "3", "55.2", "4")], version=versions[symbol], send_time=send)
        else:
            yield encode.mini_ticker_frame(symbol, "55.5", "0.0125", "57", "53", "123456.5", "2222.25", send_time=send)


def corpus(seed: int, count: int) -> Iterator[bytes | str | Snapshot]:
    """``count`` MEXC frames (and snapshot markers): about half valid, the rest damaged."""
    rng = random.Random(seed)
    seeds = capture_frames()
    pushes = generated(rng, count)
    for _ in range(count):
        frame = next(pushes) if rng.random() < 0.75 or not seeds else rng.choice(seeds)
        if isinstance(frame, (str, Snapshot)):
            yield frame
            continue
        damage = rng.random()
        if damage < 0.3:
            frame = mutate_structure(rng, frame)
        elif damage < 0.5:
            frame = mutate_bytes(rng, frame)
        yield frame
