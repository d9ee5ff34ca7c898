"""Frames for the cross-path differential fuzz of Gate (tests/test_differential_fuzz.py): real
frames from the shared captures, the documented samples of gateio-protocol.md, generated book
streams with in-band full pushes (so damaged books get whole again), generated frames of the
shapes of issue #10 (:func:`shapes`), and two kinds of damage:
bytes (flip, insert, delete) and structure (a value replaced by one of the shapes that once split
the paths, a key dropped or doubled, the result re-shaped, the channel swapped)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Iterator

# the damage itself lives with the capture fuzz (cexfeed.soak.mutate): one set of mutators
from cexfeed.soak.mutate import ALPHABET, EDGE_VALUES, _compact  # noqa: F401
from cexfeed.soak.mutate import mutate_json as mutate_structure
from cexfeed.soak.mutate import mutate_text as mutate_bytes

SHARED = Path(__file__).resolve().parents[2] / "shared"


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


# one instant in each unit a venue time may come in (s, ms, us, ns; text with a fraction)
TIMES = [1700000000, 1700000000123, 1700000000123456, 1700000000123456789, "1700000000.5", "1700000000123.456", 0]


def _quote(rng: random.Random, low: float, high: float):
    """A best bid/offer side: quoted, or one of the ways of no quote ("", 0, "-0", an
    underflow, a size of 0, left out)."""
    roll = rng.random()
    if roll < 0.6:
        return f"{rng.uniform(low, high):.2f}", rng.choice([f"{rng.uniform(0.01, 9):.3f}", rng.randint(1, 900)])
    return rng.choice([("", 0), ("", ""), ("0", "1"), ("-0", "1"), ("1e-999", "2"), ("55.5", "0"), ("55.5", "-0"), None])


def shapes(rng: random.Random, spot: bool, symbols: list[str], count: int) -> Iterator[bytes]:
    """Valid frames of the shapes issue #10 added: results as an object, an array or an array of
    arrays (now and then with one bad item), times in any unit, one-sided and empty quotes,
    trades of an unknown side, full book pushes without ``U``, and on futures legacy
    ``futures.order_book`` ``all`` snapshots with their signed ``update`` rows."""
    prefix = "spot." if spot else "futures."
    legacy_id = {symbol: 5000 for symbol in symbols}
    for n in range(count):
        symbol = rng.choice(symbols)
        t = rng.choice(TIMES)
        envelope = {"time": rng.choice(TIMES[:2] + [0]), "time_ms": rng.choice([1700000000123, 0]), "event": "update"}
        roll = rng.random()
        if roll < 0.25:
            bid, ask = _quote(rng, 50, 54.9), _quote(rng, 55.1, 60)
            result = {"t": t, "u": n + 1, "s": symbol}
            for (price_key, size_key), side in ((("b", "B"), bid), (("a", "A"), ask)):
                if side is not None:
                    result[price_key], result[size_key] = side
            channel, items = prefix + "book_ticker", [result]
        elif roll < 0.5:
            channel = prefix + "trades"
            items = []
            for i in range(rng.randint(1, 4)):
                if spot:
                    item = {"id": n * 10 + i, "currency_pair": symbol, "side": rng.choice(["buy", "sell", "sell", "buy", "hold", ""]),
                            "amount": f"{rng.uniform(0.001, 3):.4f}", "price": f"{rng.uniform(50, 60):.2f}", "create_time_ms": t, "create_time": 1700000000}
                else:
                    item = {"id": n * 10 + i, "contract": symbol, "size": rng.choice([-3, 5, "2.5", "-0.5"]), "price": f"{rng.uniform(50, 60):.2f}",
                            "create_time_ms": t}
                if rng.random() < 0.15:
                    item["price"] = rng.choice(["-1", "0", "abc", None])  # one bad item
                items.append(item)
        elif roll < 0.65:
            channel = prefix + "order_book_update"
            levels = [[f"{rng.uniform(50, 54.9):.2f}", f"{rng.uniform(0.1, 5):.2f}"] for _ in range(rng.randint(1, 25))]
            asks = [[f"{rng.uniform(55.1, 60):.2f}", f"{rng.uniform(0.1, 5):.2f}"] for _ in range(rng.randint(1, 25))]
            if not spot:
                levels = [{"p": p, "s": q} for p, q in levels]
                asks = [{"p": p, "s": q} for p, q in asks]
            result = {"t": t, "full": True, "s": symbol, "u": 900000 + n, "b": levels, "a": asks}
            if rng.random() < 0.5:
                result["U"] = 1
            yield _compact({**envelope, "channel": channel, "result": result})
            continue
        elif not spot and roll < 0.85:
            legacy_id[symbol] += rng.randint(1, 3) if rng.random() < 0.1 else 1
            if rng.random() < 0.3:
                bids = [{"p": f"{54 - i * 0.5}", "s": rng.randint(1, 50)} for i in range(5)]
                asks = [{"p": f"{55 + i * 0.5}", "s": rng.randint(1, 50)} for i in range(5)]
                result = {"t": t, "contract": symbol, "id": legacy_id[symbol], "bids": bids, "asks": asks}
                yield _compact({**envelope, "event": "all", "channel": "futures.order_book", "result": result})
                continue
            rows = []
            for _ in range(rng.randint(1, 3)):
                rows.append({"p": f"{rng.choice([54, 54.5, 55, 55.5, 56])}", "s": rng.choice([-500, 0, 300, -2, 7]), "c": symbol, "id": legacy_id[symbol]})
                legacy_id[symbol] += 1
            legacy_id[symbol] -= 1
            yield _compact({**envelope, "channel": "futures.order_book", "result": rows})
            continue
        else:
            channel = prefix + "tickers"
            if spot:
                items = [{"currency_pair": symbol, "last": f"{rng.uniform(50, 60):.2f}", "highest_bid": rng.choice(["54", "", "0"]), "lowest_ask": "56"}]
            else:
                items = [{"contract": c, "last": f"{rng.uniform(50, 60):.2f}", "mark_price": rng.choice(["55", ""]), "funding_rate": "0.0001",
                          "funding_next_apply": rng.choice(TIMES), "total_size": rng.choice(["100", 7]), "t": rng.choice(TIMES)}
                         for c in rng.sample(symbols, rng.randint(1, len(symbols)))]
        shape = rng.random()
        result = items[0] if shape < 0.4 and len(items) == 1 else [items[:1], items[1:]] if shape < 0.6 else items
        yield _compact({**envelope, "channel": channel, "result": result})


def corpus(seed: int, spot: bool, count: int) -> Iterator[bytes]:
    """``count`` frames of one Gate market: about half valid (book streams, captures, documented
    samples), the rest damaged by structure or bytes."""
    rng = random.Random(seed)
    prefix = "spot." if spot else "futures."
    seeds = capture_frames("GATEIO" if spot else "GATEIO_FUTURES") + doc_frames(prefix)
    channels = sorted({m.decode() for f in seeds for m in re.findall(rb'"channel":"([a-z_.]+)"', f)} | {prefix + "nope"})
    books = book_stream(rng, spot, ["BTC_USDT", "ETH_USDT"], count)
    added = shapes(rng, spot, ["BTC_USDT", "ETH_USDT"], count)
    for _ in range(count):
        roll = rng.random()
        frame = next(books) if roll < 0.35 or not seeds else next(added) if roll < 0.55 else rng.choice(seeds)
        damage = rng.random()
        if damage < 0.3:
            frame = mutate_structure(rng, frame, channels)
        elif damage < 0.5:
            frame = mutate_bytes(rng, frame)
        yield frame
