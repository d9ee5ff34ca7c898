"""The compiled Gate push reader gives exactly the events and counters of the msgspec path, on
futures.order_book_update and spot.order_book_update frames and on futures.tickers frames
(generated, documented, damaged, and byte-mutated: ``CEXFEED_FUZZ_FRAMES`` sets how many
mutated frames, 3000 by default)."""

from __future__ import annotations

import json
import os
import random

import pytest

import cexfeed.exchanges.gateio.common as common
import cexfeed.exchanges.gateio.futures_public_handler as fph
from cexfeed.exchanges.gateio.spot_public_handler import GateioSpotPublicWebSocketHandler
from cexfeed.capture import Replay, merged, read_instruments
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.symbols import Instrument

pytestmark = pytest.mark.skipif(common.PushReader is None, reason="compiled Gate push reader not built")


def events_of(frames, monkeypatch, fast: bool, spot: bool = False):
    monkeypatch.setattr(common, "PushReader", FAST if fast else None)
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


FAST = common.PushReader
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
        monkeypatch.setattr(common, "PushReader", FAST if fast else None)
        out: list = []
        replay = Replay(venue, body, out.append)
        replay.feed(merged(ws, [captures_dir / "gateio" / f"{name}.http.0.0"]))
        results.append(out)
        counts.append(sum(seq.deltas_applied for seq in replay.handler.books.values()))
    assert results[0] == results[1]
    assert counts[0] == counts[1] == applied


# -- futures.tickers ------------------------------------------------------------------------------

TICKER_SYMBOLS = futures_symbol_map(
    json.dumps(
        [
            {"name": "BTC_USDT", "quanto_multiplier": "0.0001"},
            {"name": "ETH_USDT", "quanto_multiplier": "0.01"},
            {"name": "DOGE_USDT", "quanto_multiplier": "10"},
            {"name": "XRP_USDT", "quanto_multiplier": "0.1"},
            {"name": "BTC_USD", "quanto_multiplier": "0"},
        ]
    ).encode()
)
PRICES = ("last", "mark_price", "index_price", "low_24h", "high_24h")
SIGNED = ("change_percentage", "funding_rate", "funding_rate_indicative")
SIZES = ("total_size", "volume_24h", "volume_24h_base", "volume_24h_quote")


def ticker_events(frames, monkeypatch, fast: bool):
    """Events and counters of a futures handler fed ``frames``; with ``fast`` also how many
    frames the compiled reader answered itself."""
    monkeypatch.setattr(common, "PushReader", FAST if fast else None)
    out: list = []
    handler = fph.GateioFuturesPublicWebSocketHandler(on_event=out.append, symbols=TICKER_SYMBOLS)
    served = 0
    for frame in frames:
        if fast and len(frame) > common._FAST_MIN_LEN:
            probe = handler._reader.read(frame, 7)
            served += probe.__class__ in (list, str)
        handler._handle_message(frame, 7)
    return out, dict(handler.stats.errors), served


def _number(rng, kind):
    value = {"price": rng.uniform(0.00001, 90000), "signed": rng.uniform(-0.01, 0.01), "size": rng.uniform(0, 1e9)}[kind]
    form = rng.random()
    if form < 0.4:
        return f"{value:.{rng.randint(0, 8)}f}" if kind != "price" or value >= 1 else f"{value:.8f}"
    if form < 0.55:
        return str(int(abs(value)) + (1 if kind == "price" else 0))
    if form < 0.65:
        return f"{value:.3e}"
    if form < 0.75:
        return f"{value:.17g}"  # more digits than the exact path takes
    if form < 0.85:
        return round(value, 4) if kind != "price" else round(value, 4) or 1.5
    if form < 0.9:
        return int(abs(value)) + 1
    return "0" if kind != "price" else "1"


def ticker_item(rng):
    item = {"contract": rng.choice(["BTC_USDT", "ETH_USDT", "DOGE_USDT", "XRP_USDT", "BTC_USD", "NEW_USDT"])}
    for names, kind in ((PRICES, "price"), (SIGNED, "signed"), (SIZES, "size")):
        for name in names:
            roll = rng.random()
            if roll < 0.6:
                item[name] = _number(rng, kind)
            elif roll < 0.65:
                item[name] = None
    if rng.random() < 0.5:
        item["funding_next_apply"] = rng.choice([0, 1789459200, None, 1789459200 + rng.randint(0, 10**6)])
    if rng.random() < 0.5:
        item["t"] = 1789456337802 + rng.randint(0, 10**6)
    extras = {"price_type": "last", "change_from": "24h", "quanto_base_rate": "", "funding_interval": 28800, "funding_offset": 0,
              "volume_24h_settle": "470756577", "basis": [1, {"x": None, "y": [True, False]}], "event_type": "snapshot", "w": -1.5e-3}
    for key, value in extras.items():
        if rng.random() < 0.4:
            item[key] = value
    keys = list(item)
    rng.shuffle(keys) if rng.random() < 0.3 else None
    return {k: item[k] for k in keys}


def ticker_frames(seed: int, count: int = 400) -> list[bytes]:
    rng = random.Random(seed)
    frames = []
    for _ in range(count):
        items = [ticker_item(rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        result = items[0] if len(items) == 1 and rng.random() < 0.2 else items
        frame = {"time": 1789456337, "time_ms": 1789456337808, "channel": "futures.tickers", "event": "update", "result": result}
        if rng.random() < 0.1:
            del frame["time_ms"]
        compact = rng.random() < 0.8
        frames.append(json.dumps(frame, separators=(",", ":") if compact else (", ", ": ")).encode())
    return frames


@pytest.mark.parametrize("seed", range(4))
def test_generated_tickers_same_events(monkeypatch, seed):
    frames = ticker_frames(seed)
    fast = ticker_events(frames, monkeypatch, True)
    reference = ticker_events(frames, monkeypatch, False)
    assert fast[:2] == reference[:2]
    assert len(fast[0]) > 500
    # most frames long enough for it were answered by the compiled reader, not handed back
    long_frames = sum(len(f) > common._FAST_MIN_LEN for f in frames)
    assert fast[2] > 0.8 * long_frames


def test_bench_and_documented_ticker_frames_take_the_compiled_path(monkeypatch):
    documented = [
        # gateio-protocol.md §7.2: the 2026 doc sample, the real 2024-09 and 2026-09 frames
        b'{"time":1541659086,"time_ms":1541659086123,"channel":"futures.tickers","event":"update","result":[{"contract":"BTC_USDT","last":"118.4","change_percentage":"0.77","change_from":"24h","change_price":"0.91","funding_rate":"-0.000114","funding_rate_indicative":"0.01875","mark_price":"118.35","index_price":"118.36","total_size":"73648.5","volume_24h":"745487577","volume_24h_btc":"117","volume_24h_usd":"419950","quanto_base_rate":"","volume_24h_quote":"1665006","volume_24h_settle":"178","volume_24h_base":"5526","low_24h":"99.2","high_24h":"132.5","price_type":"last","t":1541659086123}]}',
        b'{"time":1725999722,"time_ms":1725999722332,"channel":"futures.tickers","event":"update","result":[{"contract":"ETH_USDT","last":"2388.45","change_percentage":"2.0906","total_size":"36077595","volume_24h":"19719262","volume_24h_base":"197192","volume_24h_quote":"470756577","volume_24h_settle":"470756577","mark_price":"2388.35","funding_rate":"0.000076","funding_rate_indicative":"0.000076","index_price":"2389.33","quanto_base_rate":"","low_24h":"2318.8","high_24h":"2390.65","price_type":"last","change_from":"24h"}]}',
        b'{"time":1789456337,"time_ms":1789456337808,"channel":"futures.tickers","event":"update","result":[{"contract":"BTC_USDT","last":"77175.1","mark_price":"77183.5","funding_rate":"0.000072","funding_rate_indicative":"0.000072","funding_interval":28800,"funding_offset":0,"funding_next_apply":1789459200,"index_price":"77221.8","price_type":"last","t":1789456337802}]}',
    ]
    from cexfeed.bench.frames import gate_futures_cases

    bench = [case for case in gate_futures_cases(50) if case.kind == "ticker"][0].frames
    frames = documented + bench
    fast = ticker_events(frames, monkeypatch, True)
    assert fast[:2] == ticker_events(frames, monkeypatch, False)[:2]
    assert fast[2] == len(frames)
    doc_ticker, doc_funding, doc_mark, doc_oi = fast[0][:4]
    assert (doc_ticker.last, doc_ticker.base_volume, doc_ticker.quote_volume, doc_ticker.change_pct) == (118.4, 5526.0, 1665006.0, 0.77)
    assert (doc_funding.rate, doc_funding.predicted_rate, doc_funding.next_funding_ts) == (-0.000114, 0.01875, None)
    assert (doc_mark.mark_price, doc_mark.index_price, doc_mark.exchange_ts) == (118.35, 118.36, 1541659086123)
    # 73648.5 contracts x 0.0001 BTC
    assert (doc_oi.open_interest, doc_oi.contracts) == (7.36485, 73648.5)


def _long(item: str) -> bytes:
    pad = ',"price_type":"last","change_from":"24h","quanto_base_rate":"","volume_24h_settle":"470756577","volume_24h_btc":"117","volume_24h_usd":"419950","funding_interval":28800,"funding_offset":0'
    return ('{"time":1,"time_ms":1000,"channel":"futures.tickers","event":"update","result":[{"contract":"BTC_USDT","last":"10.5"%s%s}]}' % (item, pad)).encode()


@pytest.mark.parametrize(
    "frame",
    [
        _long(',"mark_price":"NaN"'),
        _long(',"mark_price":"-0"'),
        _long(',"funding_rate":"-0.0"'),
        _long(',"funding_rate":-0.0'),
        _long(',"mark_price":"05"'),
        _long(',"mark_price":".5"'),
        _long(',"mark_price":"5."'),
        _long(',"mark_price":"1e999"'),
        _long(',"mark_price":1e999'),
        _long(',"mark_price":""'),
        _long(',"mark_price":" 5"'),
        _long(',"mark_price":"+5"'),
        _long(',"mark_price":true'),
        _long(',"mark_price":"1e-400"'),
        _long(',"total_size":"1e-400"'),
        _long(',"total_size":12345678901234567890123'),
        _long(',"funding_next_apply":-5'),
        _long(',"funding_next_apply":"1789459200"'),
        _long(',"funding_next_apply":1.5'),
        _long(',"funding_next_apply":99999999999999999'),
        _long(',"funding_next_apply":99999999999'),
        _long(',"funding_next_apply":100000000000'),
        _long('').replace(b'"time":1,', b'"time":9999999999999999,'),
        _long('').replace(b'"time_ms":1000', b'"time_ms":99999999999999'),
        _long(',"t":null'),
        _long(',"t":"5"'),
        _long(',"t":05'),
        _long(',"contract":""'),
        _long(',"contract":null'),
        _long(',"contract":"ETH\\u005fUSDT"'),
        _long(',"contract":"\xff\xfe"'.encode("latin-1").decode("latin-1")),
        _long(',"other":"a\\u00e9b"'),
        _long(',"other":"a\\qb"'),
        _long(',"other":"tab\there"'),
        _long(',"other":05'),
        _long(',"other":tru'),
        _long(',"last":"11.5","last":null'),
        _long(',"contract":"ETH_USDT"'),
        _long('').replace(b'"event":"update"', b'"event":"all"'),
        _long('').replace(b'"event":"update"', b'"event":"subscribe"'),
        _long('').replace(b'"channel":"futures.tickers",', b'') [:-1] + b',"channel":"futures.tickers"}',
        _long('').replace(b'"time":1', b'"time":"1"'),
        _long('').replace(b'"time_ms":1000', b'"time_ms":99999999999999999999'),
        _long('') + b' ',
        _long('') + b'x',
        _long('')[:-3],
        _long('').replace(b'[{', b'[1,{'),
        _long('').replace(b'"result":[', b'"result":null,"x":[') ,
    ],
)
def test_odd_ticker_frames_same_events(monkeypatch, frame):
    assert len(frame) > common._FAST_MIN_LEN
    fast = ticker_events([frame], monkeypatch, True)
    assert fast[:2] == ticker_events([frame], monkeypatch, False)[:2]


def test_fuzz_finds_stay_fixed(monkeypatch):
    # a second contract name that is not UTF-8: the whole frame is malformed and nothing is learnt
    two = _long('').replace(b'}]}', b'},{"contract":"DOGE_U\xffDT","mark_price":"1.5"}]}').replace(b'BTC_USDT', b'NEW_USDT')
    fast = ticker_events([two], monkeypatch, True)
    assert fast[:2] == ticker_events([two], monkeypatch, False)[:2] == ([], {"malformed": 1})
    # 2.5e61 contracts x 0.0001: rounded to 15 digits like ContractSize.base, not 2.5000000000000002e+57
    deep = b"".join(b',{"p":"%d.5","s":1}' % (50 - i) for i in range(20))
    book = b'{"time":1,"time_ms":2,"channel":"futures.order_book_update","event":"update","result":{"t":3,"s":"BTC_USDT","U":101,"u":101,"full":true,"b":[{"p":"55","s":"2.5E61"}' + deep + b'],"a":[]}}'
    assert len(book) > common._FAST_MIN_LEN
    fast = events_of([book], monkeypatch, True)
    assert fast == events_of([book], monkeypatch, False)
    assert fast[0][-2].bids[0] == (55.0, 2.5e57)


@pytest.mark.parametrize("spot", [False, True])
def test_the_other_venues_level_shape_is_malformed_on_both_paths(monkeypatch, spot):
    # reported by a user trial: the compiled reader took [p, s] levels on futures and {p, s} on
    # spot, where the typed decode refuses them
    if spot:
        levels = ",".join('{"p":"%d.5","s":"%d"}' % (55 - i % 5, i + 1) for i in range(20))
        channel = "spot.order_book_update"
    else:
        levels = ",".join('["%d.5","%d"]' % (55 - i % 5, i + 1) for i in range(20))
        channel = "futures.order_book_update"
    frame = ('{"time":1,"time_ms":2,"channel":"%s","event":"update","result":{"t":3,"s":"BTC_USDT","U":101,"u":101,"b":[%s],"a":[]}}' % (channel, levels)).encode()
    assert len(frame) > common._FAST_MIN_LEN
    fast = events_of([frame], monkeypatch, True, spot)
    assert fast == events_of([frame], monkeypatch, False, spot)
    assert fast[1]["malformed"] == 1 and fast[1]["book_malformed"] == 1


@pytest.mark.parametrize("stamp", ['"t":-5', '"t":10000000000000000', '"time_ms":-1', '"time":99999999999999999'])
def test_impossible_times_never_reach_an_event(monkeypatch, stamp):
    # reported by a user trial: negative and 20-digit times reached exchange_ts. A ticker's own
    # t is one field (left out: the push keeps the envelope time); a bad envelope time fails it
    if stamp.startswith('"t"'):
        frame = _long("," + stamp)
    elif "time_ms" in stamp:
        frame = _long("").replace(b'"time_ms":1000', stamp.encode())
    else:
        frame = _long("").replace(b'"time":1,', stamp.encode() + b",")
    fast = ticker_events([frame], monkeypatch, True)
    assert fast[:2] == ticker_events([frame], monkeypatch, False)[:2]
    if stamp.startswith('"t"'):
        (ticker,) = fast[0]
        assert ticker.exchange_ts == 1000 and fast[1]["ticker_lenient"] == 1
    else:
        assert fast[0] == [] and fast[1]["malformed"] == 1


@pytest.mark.parametrize("spot", [False, True])
@pytest.mark.parametrize("level", ['"1e300"', '"1e308"', "1e300"])
def test_level_sizes_and_prices_past_the_bound_are_malformed_on_both_paths(monkeypatch, spot, level):
    # reported by a user trial: a long frame took a 1e300 size into the book
    deep = ",".join(('["%d.5","%d"]' if spot else '{"p":"%d.5","s":%d}') % (50 - i, i + 1) for i in range(20))
    first = '["55",%s]' % level if spot else '{"p":"55","s":%s}' % level
    channel = "spot.order_book_update" if spot else "futures.order_book_update"
    frame = ('{"time":1,"time_ms":2,"channel":"%s","event":"update","result":{"t":3,"s":"BTC_USDT","U":101,"u":101,"b":[%s,%s],"a":[]}}' % (channel, first, deep)).encode()
    assert len(frame) > common._FAST_MIN_LEN
    for bad in (frame, frame.replace(b'"55"', level.encode() if level.startswith('"') else b'"%s"' % level.encode())):
        fast = events_of([bad], monkeypatch, True, spot)
        assert fast == events_of([bad], monkeypatch, False, spot)
        assert fast[1]["malformed"] == 1


def test_mutated_frames_same_events(monkeypatch):
    # random byte damage to valid ticker and book frames: whatever the compiled reader accepts
    # must be what the msgspec path makes of it
    rng = random.Random(99)
    sources = ticker_frames(7, 60) + generated(8, 60)
    alphabet = b'0123456789.-eE+"{}[],: \\\tnulltrue\xff'
    frames = []
    for _ in range(int(os.environ.get("CEXFEED_FUZZ_FRAMES", "3000"))):
        frame = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(frame))
            roll = rng.random()
            if roll < 0.4:
                frame[at] = rng.choice(alphabet)
            elif roll < 0.7:
                del frame[at]
            else:
                frame.insert(at, rng.choice(alphabet))
        frames.append(bytes(frame))
    fast = ticker_events(frames, monkeypatch, True)
    assert fast[:2] == ticker_events(frames, monkeypatch, False)[:2]
    assert fast[2] > 100
