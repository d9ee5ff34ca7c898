"""The compiled ``_handle_message`` of the Gate public handlers (``_fastitems.PushHandler``) gives
exactly the events, counters and ``seen`` times of the pure-Python path on the item rows it reads
itself (spot trades, book tickers and tickers; futures trades and book tickers): generated frames
of every form, odd values, frames it must hand over (zero sizes, unknown sides, crossed quotes,
symbols not followed, unknown contracts), and byte and structure damage (``CEXFEED_FUZZ_FRAMES``
mutated frames, 3000 by default)."""

from __future__ import annotations

import json
import os
import random
import typing

import pytest
from fuzz_gate import mutate_bytes, mutate_structure

import cexfeed.exchanges.gateio.common as common
from cexfeed import wire
from cexfeed.exchanges.gateio import futures_table, spot_table
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.futures_public_handler import GateioFuturesPublicWebSocketHandler
from cexfeed.exchanges.gateio.spot_public_handler import GateioSpotPublicWebSocketHandler
from cexfeed.handlers import WebSocketHandler

pytestmark = pytest.mark.skipif(common.PushHandler is None, reason="compiled Gate _handle_message not built")

SYMBOLS = futures_symbol_map(json.dumps([{"name": "BTC_USDT", "quanto_multiplier": "0.0001"}, {"name": "ETH_USDT", "quanto_multiplier": "0.01"},
                                         {"name": "DOGE_USDT", "quanto_multiplier": "10"}, {"name": "BTC_USD", "quanto_multiplier": "0"}]).encode())
SPOT_CHANNELS = ["spot.trades", "spot.book_ticker", "spot.tickers", "spot.candlesticks", "spot.order_book_update"]
PERP_CHANNELS = ["futures.trades", "futures.book_ticker", "futures.tickers", "futures.order_book_update"]


class Run:
    """One handler on one path: its events (with the ``seen`` time of each), counters, and how
    many frames the compiled ``_handle_message`` took itself."""

    def __init__(self, monkeypatch, spot: bool, compiled: bool, follow: tuple = (), raising: bool = False) -> None:
        self.handed_over = 0
        base = WebSocketHandler._handle_message

        def counted(handler, raw, recv_ts=None):
            self.handed_over += 1
            return base(handler, raw, recv_ts)

        monkeypatch.setattr(WebSocketHandler, "_handle_message", counted)
        self.events: list = []
        if spot:
            self.handler = GateioSpotPublicWebSocketHandler(on_event=self._on_event)
        else:
            self.handler = GateioFuturesPublicWebSocketHandler(on_event=self._on_event, symbols=SYMBOLS)
        self.handler.use_compiled(compiled)
        assert (self.handler.__dict__.get("_handle_message") is not None) == compiled
        if follow:
            self.handler.follow(follow)
        self.raising = raising
        monkeypatch.setattr(WebSocketHandler, "_handle_message", base)

    def _on_event(self, event) -> None:
        self.events.append((event, self.handler.seen[type(event)].get(event.venue_symbol)))
        if self.raising and len(self.events) % 3 == 0:
            raise RuntimeError("consumer failed")

    def feed(self, frames) -> tuple:
        for frame in frames:
            self.handler._handle_message(frame, 7)
        stats = self.handler.stats
        return self.events, dict(stats.errors), stats.frames, stats.events


def same(monkeypatch, frames, spot: bool, **kwargs) -> Run:
    """Feed ``frames`` on both paths, check they agree, return the compiled run."""
    fast = Run(monkeypatch, spot, True, **kwargs)
    reference = Run(monkeypatch, spot, False, **kwargs)
    got = fast.feed(frames)
    assert got == reference.feed(frames)
    assert reference.handed_over == 0  # (the pure path never goes through the compiled one)
    return fast


# -- frames --------------------------------------------------------------------------------------
def _num(rng, low, high, signed=False):
    value = rng.uniform(low, high) * (rng.choice([1, -1]) if signed else 1)
    return rng.choice([f"{value:.{rng.randint(0, 6)}f}", f"{value:.17g}", f"{value:.3e}", round(value, 3), int(abs(value)) + 1,
                       str(int(abs(value)) + 1)])


def _time(rng, ms):
    return rng.choice([ms, ms, f"{ms}.{rng.randint(0, 999):03d}", str(ms), ms // 1000, ms * 1000, ms * 1_000_000, f"{ms / 1000:.3f}", 0,
                       ms + 0.5, f"{ms:.6e}"])


def _frame(rng, channel, result, ms):
    frame = {"time": ms // 1000, "time_ms": ms, "channel": channel, "event": "update", "result": result}
    if rng.random() < 0.1:
        del frame["time_ms"]
    if rng.random() < 0.05:
        frame["event"] = rng.choice(["all", "subscribe"])
    return json.dumps(frame, separators=(",", ":") if rng.random() < 0.8 else (", ", ": ")).encode()


def item(rng, kind: str, spot: bool, ms: int) -> dict:
    symbol = rng.choice(["BTC_USDT", "BTC_USDT", "ETH_USDT"] + ([] if spot else ["DOGE_USDT", "BTC_USD", "NEW_USDT"]))
    if kind == "bbo":
        bid, ask = rng.uniform(50, 60), rng.uniform(60, 70)
        if rng.random() < 0.05:
            bid, ask = ask, bid  # crossed
        out = {"t": _time(rng, ms), "u": rng.choice([rng.randint(0, 10**12), None, str(rng.randint(0, 99))]), "s": symbol,
               "b": rng.choice([_num(rng, bid, bid), "", "0"]), "B": rng.choice([_num(rng, 0.1, 9), rng.randint(0, 90000), "", 0]),
               "a": rng.choice([_num(rng, ask, ask), ""]), "A": rng.choice([_num(rng, 0.1, 9), rng.randint(0, 90000), ""])}
    elif kind == "trade" and spot:
        out = {"id": rng.choice([rng.randint(0, 10**12), str(rng.randint(0, 99))]), "create_time": ms // 1000,
               "create_time_ms": _time(rng, ms), "side": rng.choice(["buy", "sell", "buy", "sell", "liquidation"]),
               "currency_pair": symbol, "amount": rng.choice([_num(rng, 0.0001, 3), "0"]), "price": _num(rng, 50, 70), "range": "1-1"}
    elif kind == "trade":
        out = {"size": rng.choice([rng.randint(-5000, 5000), str(rng.randint(-50, 50)), f"{rng.uniform(-9, 9):.3f}"]),
               "id": rng.randint(0, 10**9), "create_time": ms // 1000, "create_time_ms": _time(rng, ms), "price": _num(rng, 50, 70),
               "contract": symbol}
        if rng.random() < 0.2:
            out["is_internal"] = rng.choice([True, False, 1, "true"])
    else:
        out = {"currency_pair": symbol}
        for name, low, high, signed in (("last", 50, 70, False), ("lowest_ask", 50, 70, False), ("highest_bid", 50, 70, False),
                                         ("change_percentage", 0, 9, True), ("base_volume", 0, 1e6, False), ("quote_volume", 0, 1e9, False),
                                         ("high_24h", 50, 70, False), ("low_24h", 50, 70, False)):
            roll = rng.random()
            if roll < 0.8:
                out[name] = _num(rng, low, high, signed)
            elif roll < 0.9:
                out[name] = None
    if rng.random() < 0.2:
        keys = list(out)
        rng.shuffle(keys)
        out = {k: out[k] for k in keys}
    return out


def frames(seed: int, spot: bool, count: int = 400) -> list[bytes]:
    rng = random.Random(seed)
    kinds = {"trade": "spot.trades" if spot else "futures.trades", "bbo": "spot.book_ticker" if spot else "futures.book_ticker"}
    if spot:
        kinds["ticker"] = "spot.tickers"
    out = []
    for n in range(count):
        kind = rng.choice(list(kinds))
        ms = 1_764_400_000_000 + n * 7
        items = [item(rng, kind, spot, ms) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        result = items[0] if len(items) == 1 and (spot or rng.random() < 0.3) else items
        out.append(_frame(rng, kinds[kind], result, ms))
    return out


# -- tests ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("spot", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_generated_item_frames_same_events(monkeypatch, seed, spot):
    fast = same(monkeypatch, frames(seed, spot), spot)
    assert len(fast.events) > 300
    assert fast.handed_over < 300  # most frames were read and published in C


def test_bench_frames_are_read_in_c(monkeypatch):
    from cexfeed.bench.contenders import _symbols
    from cexfeed.bench.frames import gate_futures_cases, gate_spot_cases

    for spot, cases in ((True, gate_spot_cases(30)), (False, gate_futures_cases(30))):
        for case in cases:
            if case.kind == "book":
                continue
            fast = Run(monkeypatch, spot, True)
            fast.handler.set_symbols(_symbols(case.stream) or fast.handler.symbols)
            fast.feed(case.frames)
            reference = Run(monkeypatch, spot, False)
            reference.handler.set_symbols(_symbols(case.stream) or reference.handler.symbols)
            assert fast.feed([]) == reference.feed(case.frames)
            assert fast.handed_over == 0, case.label


ODD = [
    # values outside the grammar or the bounds, times in every unit and form, nulls, shapes
    ('"b":"64999.9"', '"b":"NaN"'), ('"b":"64999.9"', '"b":"-0"'), ('"b":"64999.9"', '"b":" 5"'), ('"b":"64999.9"', '"b":"05"'),
    ('"b":"64999.9"', '"b":null'), ('"b":"64999.9"', '"b":true'), ('"b":"64999.9"', '"b":1e400'), ('"b":"64999.9"', '"b":"1e-400"'),
    ('"b":"64999.9"', '"b":"-5"'), ('"b":"64999.9"', '"b":""'), ('"b":"64999.9"', '"b":0'), ('"B":"2.0292"', '"B":"0"'),
    ('"b":"64999.9"', '"b":"65000.2"'), ('"b":"64999.9"', '"b":"65000.1"'), ('"u":1000000', '"u":null'), ('"u":1000000', '"u":"7"'),
    ('"u":1000000', '"u":-1'), ('"u":1000000', '"u":9223372036854775808'), ('"u":1000000', '"u":1.5'),
    ('"t":1764400000000', '"t":0'), ('"t":1764400000000', '"t":1764400000'), ('"t":1764400000000', '"t":1764400000000123'),
    ('"t":1764400000000', '"t":"1764400000000.5"'), ('"t":1764400000000', '"t":1764400000000.5'), ('"t":1764400000000', '"t":-5'),
    ('"t":1764400000000', '"t":null'), ('"t":1764400000000', '"t":"x"'), ('"s":"BTC_USDT"', '"s":""'), ('"s":"BTC_USDT"', '"s":"ETH_USDT"'),
    ('"s":"BTC_USDT"', '"s":"BTC\\u005fUSDT"'), ('"s":"BTC_USDT"', '"s":"BTC_USDT","s":"ETH_USDT"'), ('"s":"BTC_USDT"', '"s":"BT\xc3\xa9"'),
    ('"b":"64999.9"', '"b":"1","b":"64999.9"'), ('"b":"64999.9"', '"b":"64999.9","b":"x"'), ('"b":"64999.9"', '"x":[1,{"y":null}],"b":"64999.9"'),
    ('"time_ms":1764400000000', '"time_ms":"1764400000000"'), ('"time_ms":1764400000000', '"time_ms":0'), ('"time":1764400000', '"time":0'),
    ('"event":"update"', '"event":"all"'), ('"event":"update"', '"event":""'), ('"time":1764400000', '"id":5,"time":1764400000'),
    ('"result":{', '"result":[{'), ('"result":{', '"result":[[{'), ('"result":{', '"result":[{"s":"BTC_USDT"},{'),
]


def _bbo(spot: bool) -> bytes:
    channel = "spot.book_ticker" if spot else "futures.book_ticker"
    return ('{"time":1764400000,"time_ms":1764400000000,"channel":"%s","event":"update","result":{"t":1764400000000,"u":1000000,"s":"BTC_USDT",'
            '"b":"64999.9","B":"2.0292","a":"65000.1","A":"1.2046"}}' % channel).encode()


@pytest.mark.parametrize("spot", [True, False])
@pytest.mark.parametrize("old, new", ODD)
def test_odd_book_ticker_frames_same_events(monkeypatch, spot, old, new):
    frame = _bbo(spot).replace(old.encode("latin-1"), new.encode("latin-1"), 1)
    if new.startswith('"result":['):
        frame = frame[:-1] + (b"]}" if new.count("[") == 1 else b"]]}")
    assert frame != _bbo(spot)
    same(monkeypatch, [_bbo(spot), frame, _bbo(spot)], spot)


TRADE_ODD = [
    ('"create_time_ms":"1764400000000.005"', '"create_time_ms":"1764400000000"'), ('"create_time_ms":"1764400000000.005"', '"create_time_ms":0'),
    ('"create_time_ms":"1764400000000.005"', '"create_time_ms":"1764400000.005"'), ('"create_time_ms":"1764400000000.005"', '"create_time_ms":"1.7644e12"'),
    ('"create_time_ms":"1764400000000.005"', '"create_time_ms":"99999999999999.99"'), ('"create_time_ms":"1764400000000.005"', '"create_time_ms":null'),
    ('"create_time_ms":"1764400000000.005"', '"create_time_ms":"1764400000000.9999999999"'), ('"side":"sell"', '"side":"Sell"'),
    ('"side":"sell"', '"side":"liquidation"'), ('"side":"sell"', '"side":1'), ('"amount":"0.3266"', '"amount":"0"'), ('"amount":"0.3266"', '"amount":0.0'),
    ('"amount":"0.3266"', '"amount":"-0.1"'), ('"id":5000000000', '"id":"5000000000"'), ('"id":5000000000', '"id":-1'), ('"id":5000000000', '"id":5e9'),
    ('"price":"64999.6"', '"price":"0"'), ('"create_time":1764400000', '"create_time":"x"'),
]


def _trade() -> bytes:
    return (b'{"time":1764400000,"time_ms":1764400000000,"channel":"spot.trades","event":"update","result":{"id":5000000000,"create_time":1764400000,'
            b'"create_time_ms":"1764400000000.005","side":"sell","currency_pair":"BTC_USDT","amount":"0.3266","price":"64999.6","range":"0-0"}}')


@pytest.mark.parametrize("old, new", TRADE_ODD)
def test_odd_spot_trade_frames_same_events(monkeypatch, old, new):
    frame = _trade().replace(old.encode(), new.encode(), 1)
    assert frame != _trade()
    same(monkeypatch, [_trade(), frame, frame.replace(b'"create_time_ms"', b'"x"')], True)


@pytest.mark.parametrize("size", ["0", "-0", '"-0"', "1.5", '"-2.5"', '"1e-3"', "-5000", "true", '""'])
@pytest.mark.parametrize("contract", ["BTC_USDT", "DOGE_USDT", "BTC_USD", "NEW_USDT"])
def test_futures_trade_sizes_and_contracts_same_events(monkeypatch, size, contract):
    frame = ('{"time":1764400000,"time_ms":1764400000000,"channel":"futures.trades","event":"update","result":[{"size":%s,"id":9000000,'
             '"create_time":1764400000,"create_time_ms":1764400000000,"price":"64999.6","contract":"%s"}]}' % (size, contract)).encode()
    same(monkeypatch, [frame, frame.replace(b'"size"', b'"is_internal":true,"size"'), frame.replace(b'"size"', b'"is_internal":1,"size"')], False)


@pytest.mark.parametrize("spot", [True, False])
def test_followed_symbols_crossed_quotes_and_failing_consumers(monkeypatch, spot):
    # what the handler's _emit counts (unknown_symbol, crossed_bbo, callback) is counted the same
    fs = frames(5, spot, 300)
    same(monkeypatch, fs, spot, follow=("BTC_USDT",))
    same(monkeypatch, fs, spot, raising=True)


@pytest.mark.parametrize("spot", [True, False])
def test_mutated_item_frames_same_events(monkeypatch, spot):
    rng = random.Random(17 if spot else 18)
    sources = frames(9 if spot else 10, spot, 80)
    channels = SPOT_CHANNELS if spot else PERP_CHANNELS
    damaged = []
    for _ in range(int(os.environ.get("CEXFEED_FUZZ_FRAMES", "3000")) // 2):
        frame = rng.choice(sources)
        for _ in range(rng.randint(1, 2)):
            frame = mutate_structure(rng, frame, channels) if rng.random() < 0.5 else mutate_bytes(rng, frame)
        damaged.append(frame)
    fast = same(monkeypatch, damaged, spot)
    assert fast.handed_over < len(damaged)


def test_pure_path_when_the_reader_is_dropped(monkeypatch):
    # tests and tools that set _reader = None get the pure-Python path, compiled handle or not
    run = Run(monkeypatch, True, True)
    run.handler._reader = None
    got = run.feed([_bbo(True), _trade()])
    assert run.handed_over == 2
    assert got == Run(monkeypatch, True, False).feed([_bbo(True), _trade()])


# -- the reader's field table is the wire structs' ----------------------------------------------
_KINDS = {wire.Name: "name", wire.Price: "price", wire.Size: "size", wire.Signed: "signed", wire.QuoteValue: "quote", wire.SeqId: "seq",
          wire.Time: "time", str: "side", bool: "flag"}


@pytest.mark.parametrize("kind, structs", [("bbo", (spot_table.BookTicker, futures_table.FuturesBookTicker)), ("trade", (spot_table.SpotTrade,)),
                                           ("perp_trade", (futures_table.FuturesTrade,)), ("ticker", (spot_table.SpotTicker,))])
def test_field_table_matches_the_wire_structs(kind, structs):
    import msgspec

    from cexfeed.exchanges.gateio import _fastitems

    spec = {name: rest for name, *rest in _fastitems.specs()[kind]}
    for struct in structs:
        fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
        assert set(spec) == set(fields), struct
        for name, (field_kind, required, nullable) in spec.items():
            f = fields[name]
            args = typing.get_args(f.type)
            plain = next(a for a in args if a is not type(None)) if nullable else f.type
            assert nullable == (type(None) in args and f.type is not wire.Time), name
            assert _KINDS[plain] == field_kind and required == f.required, (struct, name)
            assert required or nullable or f.default is not None


@pytest.mark.parametrize("spot", [True, False])
def test_book_pushes_same_events_through_unfollow_close_and_gaps(monkeypatch, spot):
    # book deltas are applied from C (the handler's _book_delta steps): what the handler counts
    # and publishes around them (a symbol unfollowed, a book closed and opened, a gap, a failing
    # consumer) is the same
    from test_gateio_fastpush import generated

    fs = generated(21, count=200, spot=spot)
    gap = fs[50].replace(b'"U":', b'"U":9').replace(b'"u":', b'"u":9')

    def steps(h):
        return [lambda: h.apply_snapshot("BTC_USDT", 100, [(50.0, 1.0)], [(60.0, 1.0)], 0, 1),
                lambda: h.apply_snapshot("ETH_USDT", 100, [(50.0, 1.0)], [(60.0, 1.0)], 0, 1)] + fs[:40] + [
            lambda: h.follow(["BTC_USDT", "ETH_USDT"])] + fs[40:60] + [gap, lambda: h.unfollow("ETH_USDT")] + fs[60:90] + [
            lambda: h.close_book("BTC_USDT", 3)] + fs[90:120] + [lambda: h.open_book("BTC_USDT")] + fs[120:]

    results = []
    for compiled in (True, False):
        run = Run(monkeypatch, spot, compiled, raising=True)
        for step in steps(run.handler):
            step() if callable(step) else run.handler._handle_message(step, 7)
        books = {s: (q.synced, q.book.top_bids(), q.book.top_asks(), q.book.last_update_id) for s, q in run.handler.books.items()}
        results.append((run.feed([]), books))
    assert results[0] == results[1]
    events = [e for e, _ in results[0][0][0]]
    assert sum(type(e).__name__ == "BookUpdate" for e in events) > 50
    counters = results[0][0][1]
    assert {"unknown_symbol", "callback", "book_after_unsubscribe"} <= set(counters) and any(k.startswith("book_") and k != "book_after_unsubscribe" for k in counters), counters
