"""Frames for the cross-path differential fuzz of Gate (tests/test_differential_fuzz.py): real
frames from the shared captures, the documented samples of gateio-protocol.md, generated book
streams with in-band full pushes (so damaged books get whole again), and two kinds of damage:
bytes (flip, insert, delete) and structure (a value replaced by one of the shapes that once split
the paths, a key dropped or doubled, the result re-shaped, the channel swapped)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Iterator

SHARED = Path(__file__).resolve().parents[2] / "shared"

# values that once made the direct and the compat path disagree, and other edge shapes
EDGE_VALUES = [
    "00012", "-000135", "+1", "1_000", " 5", "5 ", ".5", "5.", "\uff11\uff12", "\u0661", "-0", "0", "00", "0.0", "-0.0",
    "1e-999", "1e400", "1e300", "nan", "inf", "", "abc", "1.0", "1e3", "764.9", "true",
    True, False, None, 0, -1, 1.5, 1e300, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63), [], {}, [1], ["1", "2"],
    1700000000, 1700000000123, 1700000000123456, 1700000000123456789, "1700000000123.456",
]
ALPHABET = b'0123456789.-eE+"{}[],: \\\tnulltrue\xff'


def _compact(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def capture_frames(name: str) -> list[bytes]:
    """Received frames of a capture (``GATEIO`` or ``GATEIO_FUTURES``), [] without ../shared."""
    path = SHARED / "captures" / "gateio" / f"{name}.ws.1.0.recv.jsonl"
    if not path.exists():
        return []
    return [line.encode() for line in path.read_text().splitlines() if line.strip()]


def doc_frames(prefix: str) -> list[bytes]:
    """The documented and quoted real frames of one market in gateio-protocol.md (``spot.`` or
    ``futures.``): every ``{"time":...}`` object on a line whose channel has the prefix."""
    path = SHARED / "docs" / "gateio-protocol.md"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        for m in re.finditer(r'`(\{"time":.*?\})`', line):
            text = m.group(1)
            if f'"channel":"{prefix}' not in text or "…" in text:
                continue
            try:
                json.loads(text)
            except ValueError:
                continue
            out.append(text.encode())
    return out


def book_stream(rng: random.Random, spot: bool, symbols: list[str], count: int) -> Iterator[bytes]:
    """Valid book pushes: a full push per symbol, then deltas continuing it, now and then a
    full push again; levels as each market sends them (spot ``[p, s]``, futures ``{p, s}``)."""
    channel = "spot.order_book_update" if spot else "futures.order_book_update"
    ids = {symbol: 1000 for symbol in symbols}
    for n in range(count):
        symbol = rng.choice(symbols)
        full = n < len(symbols) or rng.random() < 0.12
        first = ids[symbol] + 1
        last = first + rng.randint(0, 3)
        ids[symbol] = last
        bids, asks = [], []
        for side, low, high in ((bids, 50.0, 54.9), (asks, 55.1, 60.0)):
            for _ in range(rng.randint(1 if full else 0, 12)):
                price = f"{rng.uniform(low, high):.{rng.randint(0, 3)}f}"
                size = "0" if (not full and rng.random() < 0.2) else f"{rng.uniform(0.001, 50):.{rng.randint(0, 4)}f}"
                side.append([price, size] if spot else {"p": price, "s": size if rng.random() < 0.7 else int(float(size) * 1000)})
        result = {"t": 1700000000000 + n, "s": symbol, "U": first, "u": last, "b": bids, "a": asks}
        if full:
            result["full"] = True
        yield _compact({"time": 1700000000, "time_ms": 1700000000000 + n, "channel": channel, "event": "update", "result": result})


def _leaves(obj, path=()):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _leaves(value, path + (key,))
        if path:
            yield path, obj
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _leaves(value, path + (i,))
        if path:
            yield path, obj
    else:
        yield path, obj


def _set(obj, path, value):
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def _delete(obj, path):
    for key in path[:-1]:
        obj = obj[key]
    del obj[path[-1]]


def mutate_structure(rng: random.Random, frame: bytes, channels: list[str]) -> bytes:
    """One structural change to a JSON frame (the frame as it is when it does not parse)."""
    try:
        obj = json.loads(frame)
    except ValueError:
        return frame
    if not isinstance(obj, dict):
        return frame
    roll = rng.random()
    leaves = [(p, v) for p, v in _leaves(obj) if p]
    if roll < 0.5 and leaves:
        path, _ = rng.choice(leaves)
        _set(obj, path, rng.choice(EDGE_VALUES))
        return _compact(obj)
    if roll < 0.65 and leaves:
        path, _ = rng.choice(leaves)
        _delete(obj, path)
        return _compact(obj)
    if roll < 0.75 and "result" in obj:
        result = obj["result"]
        obj["result"] = rng.choice([[result], [[result]], result[0] if isinstance(result, list) and result else [result, result]])
        return _compact(obj)
    if roll < 0.85 and channels:
        obj["channel"] = rng.choice(channels)
        return _compact(obj)
    # a duplicate key: the text keeps both, the last one wins on every JSON path
    text = _compact(obj).decode()
    keys = re.findall(r'"([A-Za-z_]+)":', text)
    if not keys:
        return frame
    key = rng.choice(keys)
    value = json.dumps(rng.choice(EDGE_VALUES))
    return text.replace(f'"{key}":', f'"{key}":{value},"{key}":', 1).encode()


def mutate_bytes(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break
        at = rng.randrange(len(data))
        roll = rng.random()
        if roll < 0.4:
            data[at] = rng.choice(ALPHABET)
        elif roll < 0.7:
            del data[at]
        else:
            data.insert(at, rng.choice(ALPHABET))
    return bytes(data)


def corpus(seed: int, spot: bool, count: int) -> Iterator[bytes]:
    """``count`` frames of one Gate market: about half valid (book streams, captures, documented
    samples), the rest damaged by structure or bytes."""
    rng = random.Random(seed)
    prefix = "spot." if spot else "futures."
    seeds = capture_frames("GATEIO" if spot else "GATEIO_FUTURES") + doc_frames(prefix)
    channels = sorted({m.decode() for f in seeds for m in re.findall(rb'"channel":"([a-z_.]+)"', f)} | {prefix + "nope"})
    books = book_stream(rng, spot, ["BTC_USDT", "ETH_USDT"], count)
    for _ in range(count):
        roll = rng.random()
        frame = next(books) if roll < 0.35 or not seeds else rng.choice(seeds)
        damage = rng.random()
        if damage < 0.3:
            frame = mutate_structure(rng, frame, channels)
        elif damage < 0.5:
            frame = mutate_bytes(rng, frame)
        yield frame
