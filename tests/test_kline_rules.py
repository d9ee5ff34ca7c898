"""The one candle rule (:func:`cexfeed.wire.check_candle`) on every kline path: Gate spot, Gate
futures and MEXC, the direct handlers (compiled default and pure-Python) and the strategy
architecture. A candle whose high is below its low, or whose open/close lies outside
[low, high], or whose interval is not in the venue's documented list (Gate ``7m``, MEXC
``Min7``; gateio-protocol.md §6.4/§7.8, mexc-protocol.md §1.6) is counted ``malformed`` (a
whole frame) or ``malformed_item`` (an item of an array) and never published; the good candles
around it are."""

from __future__ import annotations

import json

import msgspec
import pytest

from cexfeed import wire
from cexfeed.compat import build_handler
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.protocol import CANDLE_INTERVALS, spot_symbol_map
from cexfeed.exchanges.mexc.encode import kline_frame
from cexfeed.exchanges.mexc.spot_table import KLINE_INTERVALS

CONTRACTS = b'[{"name":"BTC_USDT","quanto_multiplier":"0.0001"}]'
PATHS = ["compiled", "pure", "strategy"]


def _gate(channel: str, result) -> bytes:
    return json.dumps({"time": 1, "time_ms": 1000, "channel": channel, "event": "update", "result": result}).encode()


def _candle(**kw) -> dict:
    r = {"t": "60", "v": "10", "c": "1.5", "h": "2", "l": "1", "o": "1.2", "n": "1m_BTC_USDT", "a": "5", "w": True}
    r.update(kw)
    return r


BAD_CANDLES = [dict(h="1", l="2", o="1.5", c="1.5"), dict(c="9"), dict(o="0.5"), dict(n="7m_BTC_USDT"), dict(n="Min1_BTC_USDT")]


def _run(stream: str, path: str, frames, symbols=None):
    events: list = []
    handler = build_handler(stream, "strategy" if path == "strategy" else "direct", events.append, symbols=symbols)
    if path == "pure":
        handler.use_compiled(False)
    for raw in frames:
        handler._handle_message(raw, 1)
    out = []
    for e in events:
        d = msgspec.structs.asdict(e)
        d.pop("recv_ts")
        out.append(d)
    return out, dict(handler.stats.as_dict()["errors"])


@pytest.mark.parametrize("path", PATHS)
def test_gate_spot_candles(path):
    frames = [_gate("spot.candlesticks", _candle(**kw)) for kw in BAD_CANDLES] + [_gate("spot.candlesticks", _candle())]
    events, errors = _run("gateio-spot", path, frames, spot_symbol_map(None))
    assert errors == {"malformed": len(BAD_CANDLES)}
    (k,) = events
    assert (k["interval"], k["open"], k["high"], k["low"], k["close"], k["symbol"]) == ("1m", 1.2, 2.0, 1.0, 1.5, "BTC/USDT")


@pytest.mark.parametrize("path", PATHS)
def test_gate_futures_candles(path):
    # one push, an array: each bad item left out and counted, the good ones kept
    items = [_candle(**kw) for kw in BAD_CANDLES] + [_candle(t=60), _candle(n="3m_BTC_USDT"), _candle(n="5m_mark_BTC_USDT")]
    events, errors = _run("gateio-perp", path, [_gate("futures.candlesticks", items)], futures_symbol_map(CONTRACTS))
    # 3m is a spot interval (ZH 2026 list) but not a futures one (§7.8)
    assert errors == {"malformed_item": len(BAD_CANDLES) + 1}
    assert [(k["interval"], k["venue_symbol"], k["open"], k["close"]) for k in events] == [("1m", "BTC_USDT", 1.2, 1.5), ("5m", "mark_BTC_USDT", 1.2, 1.5)]


@pytest.mark.parametrize("path", PATHS)
def test_mexc_klines(path):
    frames = [
        kline_frame("BTCUSDT", "Min7", 60, "1.5", "2", "1", "1.5", "3", "4", create_time=61000),
        kline_frame("BTCUSDT", "Min1", 60, "1.5", "1", "2", "1.5", "3", "4", create_time=61000),  # high < low
        kline_frame("BTCUSDT", "Min1", 60, "1.5", "2", "1", "9", "3", "4", create_time=61000),  # close > high
        kline_frame("BTCUSDT", "Min1", 60, "0.5", "2", "1", "1.5", "3", "4", create_time=61000),  # open < low
        kline_frame("BTCUSDT", "min1", 60, "1.5", "2", "1", "1.5", "3", "4", create_time=61000),
        kline_frame("BTCUSDT", "Hour4", 60, "1.5", "2", "1", "2", "3", "4", create_time=61000),
    ]
    events, errors = _run("mexc-spot", path, frames)
    assert errors == {"malformed": 5}
    (k,) = events
    assert (k["interval"], k["open_ts"], k["open"], k["high"], k["low"], k["close"], k["volume"]) == ("4h", 60000, 1.5, 2.0, 1.0, 2.0, 3.0)


def test_the_rule_itself():
    wire.check_candle(1.0, 1.0, 1.0, 1.0, "1m", CANDLE_INTERVALS["spot"])  # a flat candle is fine
    for o, h, low, c in ((1, 1, 2, 1), (3, 2, 1, 1.5), (1.5, 2, 1, 0.5)):
        with pytest.raises(ValueError):
            wire.check_candle(o, h, low, c, "Min1", KLINE_INTERVALS)
    with pytest.raises(ValueError):
        wire.check_candle(1.5, 2, 1, 1.5, "Min7", KLINE_INTERVALS)
    assert set(KLINE_INTERVALS) == set("Min1 Min5 Min15 Min30 Min60 Hour4 Hour8 Day1 Week1 Month1".split())
