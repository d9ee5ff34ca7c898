"""The compiled Gate book-update reader gives exactly the events of the msgspec path, on
futures.order_book_update and spot.order_book_update frames."""

from __future__ import annotations

import json
import random

import pytest

import cexfeed.exchanges.gateio.common as common
import cexfeed.exchanges.gateio.futures_public_handler as fph
from cexfeed.exchanges.gateio.spot_public_handler import GateioSpotPublicWebSocketHandler
from cexfeed.capture import Replay, merged, read_instruments
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.symbols import Instrument

pytestmark = pytest.mark.skipif(common._fast_book_update is None, reason="compiled Gate book reader not built")


def events_of(frames, monkeypatch, fast: bool, spot: bool = False):
    monkeypatch.setattr(common, "_fast_book_update", FAST if fast else None)
    out: list = []
    if spot:
        handler = GateioSpotPublicWebSocketHandler(on_event=out.append)
    else:
        handler = fph.GateioFuturesPublicWebSocketHandler(on_event=out.append, symbols=SYMBOLS)
    handler.apply_snapshot("BTC_USDT", 100, [(50.0, 1.0)], [(60.0, 1.0)], 0, 1)
    handler.apply_snapshot("ETH_USDT", 100, [(50.0, 1.0)], [(60.0, 1.0)], 0, 1)
    for frame in frames:
        handler._handle_message(frame, 1)
    return out, dict(handler.stats.errors), {s: (q.book.top_bids(), q.book.top_asks(), q.book.last_update_id) for s, q in handler.books.items()}


FAST = common._fast_book_update
SYMBOLS = futures_symbol_map()
SYMBOLS.add(Instrument(symbol="BTC/USDT:USDT", venue_symbol="BTC_USDT", base="BTC", quote="USDT", market="perp", settle="USDT", contract_multiplier=0.0001))
SYMBOLS.add(Instrument(symbol="ETH/USDT:USDT", venue_symbol="ETH_USDT", base="ETH", quote="USDT", market="perp", settle="USDT", contract_multiplier=0.01))


def _size(rng):
    return rng.choice([rng.randint(0, 100000), str(rng.randint(0, 5000)), f"{rng.uniform(0, 500):.{rng.randint(1, 6)}f}", "1e-3", "2.5E+1", "0"])


def _price(rng, low, high):
    value = rng.uniform(low, high)
    return rng.choice([f"{value:.{rng.randint(0, 4)}f}", f"{value:.15f}", f"{value / 10:.3f}e1", round(value, 2)])


def generated(seed: int, count: int = 300, spot: bool = False) -> list[bytes]:
    rng = random.Random(seed)
    frames = []
    ids = {"BTC_USDT": 100, "ETH_USDT": 100}
    for _ in range(count):
        symbol = rng.choice(list(ids))
        first = ids[symbol] + 1
        ids[symbol] = last = first + rng.randint(0, 3)
        if spot:
            levels = [[[str(_price(rng, low, high)), str(_size(rng))] for _ in range(rng.randint(0, 20))] for low, high in ((50, 54.9), (55.1, 60))]
        else:
            levels = [
                [{"p": _price(rng, low, high), "s": _size(rng)} if rng.random() < 0.8 else {"s": _size(rng), "p": _price(rng, low, high)}
                 for _ in range(rng.randint(0, 20))]
                for low, high in ((50, 54.9), (55.1, 60))
            ]
        result = {"t": 1700000000000 + last, "s": symbol, "U": first, "u": last, "b": levels[0], "a": levels[1], "l": "100"}
        if rng.random() < 0.05:
            result["full"] = True
        if rng.random() < 0.1:
            del result["b"]
        if spot:
            result.update(e="depthUpdate", E=1700000000)
        channel = "spot.order_book_update" if spot else "futures.order_book_update"
        frame = {"time": 1700000000, "time_ms": 1700000000123, "channel": channel, "event": "update", "result": result}
        compact = rng.random() < 0.8
        frames.append(json.dumps(frame, separators=(",", ":") if compact else (", ", ": ")).encode())
    return frames


@pytest.mark.parametrize("spot", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_generated_frames_same_events(monkeypatch, seed, spot):
    frames = generated(seed, spot=spot)
    fast = events_of(frames, monkeypatch, True, spot)
    reference = events_of(frames, monkeypatch, False, spot)
    assert fast == reference
    assert len(fast[0]) > 100


def test_bad_frames_are_counted_the_same(monkeypatch):
    # long enough for the compiled reader to be tried at all
    deep = b"".join(b',{"p":"%d.5","s":1}' % (50 - i) for i in range(40))
    good = b'{"time":1,"time_ms":2,"channel":"futures.order_book_update","event":"update","result":{"t":3,"s":"BTC_USDT","U":101,"u":101,"b":[{"p":"55","s":10}' + deep + b'],"a":[]}}'
    assert len(good) > common._FAST_MIN_LEN
    frames = [
        good.replace(b'"55"', b'"NaN"'),
        good.replace(b'"s":10', b'"s":-10'),
        good.replace(b'"55"', b'"1e999"'),
        good[:-9],
        good.replace(b'"U":101', b'"U":"x"'),
        good.replace(b'"event":"update"', b'"event":"subscribe"'),
        good.replace(b'"s":"BTC_USDT"', b'"s":"BTC\\u005fUSDT"'),  # escaped: the msgspec path reads it
        good,
    ]
    fast = events_of(frames, monkeypatch, True)
    assert fast == events_of(frames, monkeypatch, False)
    assert fast[1]["malformed"] == 5
    # the first undecodable push of the book drops it: it resyncs instead of missing an update
    assert fast[1]["book_malformed"] == 1
    assert fast[2]["BTC_USDT"] == ([], [], 0)


@pytest.mark.parametrize("name, venue, applied", [("GATEIO_FUTURES", "gateio-perp", 316), ("GATEIO", "gateio-spot", 159)])
def test_recorded_session_same_events(monkeypatch, captures_dir, name, venue, applied):
    ws = captures_dir / "gateio" / f"{name}.ws.1.0"
    body = read_instruments(captures_dir / "gateio" / f"{name}.0")
    results, counts = [], []
    for fast in (True, False):
        monkeypatch.setattr(common, "_fast_book_update", FAST if fast else None)
        out: list = []
        replay = Replay(venue, body, out.append)
        replay.feed(merged(ws, [captures_dir / "gateio" / f"{name}.http.0.0"]))
        results.append(out)
        counts.append(sum(seq.deltas_applied for seq in replay.handler.books.values()))
    assert results[0] == results[1]
    assert counts[0] == counts[1] == applied
