"""Frames for the cross-path differential fuzz of MEXC spot (tests/test_differential_fuzz.py): the
real ``.bin`` captures and text frames, generated pushes of every hot body (book streams with
continuing versions, deals, book tickers, klines, limit depth, batches, mini tickers), and two
kinds of damage: bytes (flip, insert, delete, truncate) and structure (a protobuf string or
number field set to a shape that once split the paths, a field cleared, a body swapped under
another channel)."""

from __future__ import annotations

import json
import random
from typing import Iterator

from fuzz_gate import SHARED

from cexfeed.exchanges.mexc import encode
from cexfeed.exchanges.mexc.proto.push_pb2 import PushDataV3ApiWrapper

EDGE_TEXT = [
    "00012", "-000135", "+1", "1_000", " 5", "5 ", ".5", "5.", "\uff11\uff12", "\u0661", "-0", "0", "00", "0.0",
    "-0.0", "1e-999", "1e400", "1e300", "nan", "inf", "", "abc", "1.0", "1e3", "9223372036854775808", "-1",
    "18446744073709551616", "1700000000123",
]
EDGE_INT = [0, 1, 2, 3, -1, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 10**14, 1700000000, 1700000000123, 1700000000123456]


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


def generated(rng: random.Random, count: int) -> Iterator[bytes | Snapshot]:
    """Valid pushes: per symbol a book whose versions continue, with a REST snapshot at the
    current version now and then (so books damaged by bad frames sync again), deals, book
    tickers, klines, limit depth, batches and mini tickers."""
    versions = {"BTCUSDT": 1000, "ETHUSDT": 1000}
    t = 1700000000000
    for n in range(count):
        t += rng.randint(0, 50)
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
            yield encode.aggre_depth_frame(symbol, first, last, bids=bids, asks=asks, send_time=t)
        elif roll < 0.6:
            deals = [(f"{rng.uniform(50, 60):.2f}", f"{rng.uniform(0.001, 3):.4f}", rng.choice([1, 2]), t - rng.randint(0, 5), str(t * 10 + i))
                     for i in range(rng.randint(1, 4))]
            yield encode.aggre_deals_frame(symbol, deals, send_time=t)
        elif roll < 0.72:
            yield encode.aggre_book_ticker_frame(symbol, f"{rng.uniform(50, 54.9):.2f}", "1.5", f"{rng.uniform(55.1, 60):.2f}", "2.5", send_time=t)
        elif roll < 0.8:
            yield encode.kline_frame(symbol, "Min1", 1700000040, "55", "56", "54", "55.5", "12.5", "690.1", create_time=t)
        elif roll < 0.88:
            bids = [(f"{54 - i * 0.1:.1f}", "1.25") for i in range(5)]
            asks = [(f"{56 + i * 0.1:.1f}", "2.5") for i in range(5)]
            yield encode.limit_depth_frame(symbol, versions[symbol], bids=bids, asks=asks, send_time=t, levels=5)
        elif roll < 0.94:
            yield encode.book_ticker_batch_frame(symbol, [("54.9", "1", "55.1", "2"), ("54.8", "3", "55.2", "4")], version=versions[symbol], send_time=t)
        else:
            yield encode.mini_ticker_frame(symbol, "55.5", "0.0125", "57", "53", "123456.5", "2222.25", send_time=t)


def _string_fields(message, prefix=()):
    """``(message, field name)`` of every set string / integer field, nested bodies included."""
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            if field.is_repeated:
                for item in value:
                    yield from _string_fields(item)
            else:
                yield from _string_fields(value)
        elif not field.is_repeated:
            yield message, field


def mutate_structure(rng: random.Random, frame: bytes) -> bytes:
    try:
        wrapper = PushDataV3ApiWrapper.FromString(frame)
    except Exception:
        return frame
    fields = list(_string_fields(wrapper))
    roll = rng.random()
    if roll < 0.6 and fields:
        message, field = rng.choice(fields)
        try:
            if field.type == field.TYPE_STRING:
                setattr(message, field.name, rng.choice(EDGE_TEXT))
            else:
                setattr(message, field.name, rng.choice(EDGE_INT))
        except (ValueError, TypeError):
            return frame
        return wrapper.SerializeToString()
    if roll < 0.8 and fields:
        message, field = rng.choice(fields)
        message.ClearField(field.name)
        return wrapper.SerializeToString()
    # the body of one channel under another channel's name
    wrapper.channel = rng.choice(
        ["spot@public.kline.v3.api.pb@BTCUSDT@Min1", "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
         "spot@public.aggre.depth.v3.api.pb@100ms@ETHUSDT", "spot@public.nope.v3.api.pb@BTCUSDT", ""]
    )
    return wrapper.SerializeToString()


def mutate_bytes(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break
        at = rng.randrange(len(data))
        roll = rng.random()
        if roll < 0.35:
            data[at] = rng.randrange(256)
        elif roll < 0.6:
            del data[at]
        elif roll < 0.85:
            data.insert(at, rng.randrange(256))
        else:
            del data[at:]
    return bytes(data)


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
