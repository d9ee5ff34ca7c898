"""Gate ``order_book_update`` pushes through the typed seam (``BookPush``): the compiled reader,
the msgspec path and the strategy (compat) path accept and refuse the same shapes.

Outside fuzz finds: the compiled reader applied a spot update without ``U`` as if ``U`` were 0
where the msgspec path refused it; a ``full: true`` push must be taken the same way with and
without ``U`` (gateio-protocol.md §6.6, §7.6: ``full`` replaces the book, local id = ``u``)."""

from __future__ import annotations

import json

import msgspec
import pytest

import cexfeed.exchanges.gateio.common as common
from cexfeed.compat import build_handler
from cexfeed.exchanges.gateio.book_push import BookPush
from cexfeed.exchanges.gateio.futures_public_handler import GateioFuturesPublicWebSocketHandler
from cexfeed.exchanges.gateio.spot_public_handler import GateioSpotPublicWebSocketHandler
from cexfeed.symbols import Instrument, SymbolMap

FAST = common.PushReader
PATHS = ["compiled", "msgspec", "strategy"]


def _symbols() -> SymbolMap:
    from cexfeed.exchanges.gateio.contracts import futures_symbol_map

    smap = futures_symbol_map()
    smap.add(Instrument(symbol="BTC/USDT:USDT", venue_symbol="BTC_USDT", base="BTC", quote="USDT", market="perp", settle="USDT", contract_multiplier=0.5))
    return smap


def _frame(market: str, result: dict) -> bytes:
    channel = "spot.order_book_update" if market == "spot" else "futures.order_book_update"
    # padded past the compiled reader's minimum length with a field both paths skip
    frame = {"time": 1700000000, "time_ms": 1700000000123, "channel": channel, "event": "update", "result": dict(result, l="100", pad="x" * 300)}
    return json.dumps(frame, separators=(",", ":")).encode()


def _levels(market: str, pairs):
    return [[p, s] for p, s in pairs] if market == "spot" else [{"p": p, "s": s} for p, s in pairs]


def _run(path: str, market: str, frames):
    if path == "compiled" and FAST is None:
        pytest.skip("compiled Gate push reader not built")
    events: list = []
    symbols = _symbols() if market == "perp" else None
    stream = "gateio-spot" if market == "spot" else "gateio-perp"
    saved = common.PushReader
    common.PushReader = FAST if path == "compiled" else None
    try:
        if path == "strategy":
            handler = build_handler(stream, "strategy", events.append, symbols=symbols)
        elif market == "spot":
            handler = GateioSpotPublicWebSocketHandler(events.append)
        else:
            handler = GateioFuturesPublicWebSocketHandler(events.append, symbols=symbols)
    finally:
        common.PushReader = saved
    handler.apply_snapshot("BTC_USDT", 100, [(99.0, 1.0)], [(101.0, 1.0)], 0, 1)
    for frame in frames:
        handler._handle_message(frame, 1)
    if path == "compiled":  # what the reader made of each frame (its contract known by now)
        assert handler._reader is not None
        served = [handler._reader.read(f, 1) for f in frames]
    seq = handler.book("BTC_USDT")
    out = [(type(e).__name__, msgspec.structs.asdict(e)) for e in events]
    state = (seq.synced, seq.book.last_update_id, seq.book.top_bids(), seq.book.top_asks())
    result = (out, dict(handler.stats.errors), state)
    return (result, served) if path == "compiled" else (result, None)


def _same_on_every_path(market: str, frames):
    results = {path: _run(path, market, frames) for path in PATHS}
    first = results["msgspec"][0]
    for path in PATHS:
        assert results[path][0] == first, path
    return first, results["compiled"][1]


@pytest.mark.parametrize("market", ["spot", "perp"])
def test_an_increment_without_U_is_malformed_everywhere(market):
    frames = [_frame(market, {"t": 1700000000100, "s": "BTC_USDT", "u": 101, "b": _levels(market, [("99.5", "2")]), "a": []})]
    (events, errors, state), served = _same_on_every_path(market, frames)
    assert errors["malformed"] == 1 and errors["book_malformed"] == 1
    assert state == (False, 0, [], [])
    # the compiled reader itself hands the push over with U absent, never as U = 0
    assert served[0] is None or served[0].first is None


@pytest.mark.parametrize("market", ["spot", "perp"])
@pytest.mark.parametrize("with_U", [True, False])
def test_a_full_push_is_taken_with_or_without_U(market, with_U):
    result = {"t": 1700000000100, "full": True, "s": "BTC_USDT", "u": 150, "b": _levels(market, [("98", "4"), ("97.5", "1")]), "a": _levels(market, [("98.5", "2")])}
    if with_U:
        result["U"] = 140
    follow = {"t": 1700000000200, "s": "BTC_USDT", "U": 151, "u": 152, "b": _levels(market, [("98", "0")]), "a": []}
    (events, errors, state), served = _same_on_every_path(market, [_frame(market, result), _frame(market, follow)])
    half = 0.5 if market == "perp" else 1.0
    assert state == (True, 152, [(97.5, 1.0 * half)], [(98.5, 2.0 * half)])
    assert errors == {}
    statuses = [(e["status"], e["reason"]) for name, e in events if name == "BookStatus"]
    assert statuses == [("synced", "snapshot"), ("synced", "full")]
    if served[0] is not None:
        assert type(served[0]) is BookPush and served[0].full and served[0].first == (140 if with_U else None) and served[0].last == 150


@pytest.mark.parametrize("market", ["spot", "perp"])
@pytest.mark.parametrize("u", ["9223372036854775808", "-1", "1.5", '"101"'])
def test_book_ids_beyond_int64_or_not_integers_are_malformed_everywhere(market, u):
    frame = _frame(market, {"t": 1700000000100, "s": "BTC_USDT", "U": 101, "u": 0, "b": _levels(market, [("99.5", "2")]), "a": []})
    frame = frame.replace(b'"u":0', b'"u":' + u.encode())
    (events, errors, state), _ = _same_on_every_path(market, [frame])
    if u == '"101"':  # a numeric string is an id in the lax decode, on every path
        assert state[:2] == (True, 101) and errors == {}
    else:
        assert errors["malformed"] == 1 and state == (False, 0, [], [])


def test_the_reader_returns_a_book_push():
    if FAST is None:
        pytest.skip("compiled Gate push reader not built")
    handler = GateioSpotPublicWebSocketHandler()
    frame = _frame("spot", {"t": 5, "s": "BTC_USDT", "U": 7, "u": 9, "b": [["1.5", "2"]], "a": [["2.5", "0"]]})
    push = handler._reader.read(frame, 1)
    if isinstance(push, str):
        handler._contracts[push] = handler._contract_context(push)
        push = handler._reader.read(frame, 1)
    assert push == BookPush("BTC_USDT", 5, 7, 9, False, [(1.5, 2.0)], [(2.5, 0.0)], 1700000000, 1700000000123)
    assert type(push) is BookPush and push.time_ms == 1700000000123


def test_the_compiled_reader_holds_the_wire_bounds():
    if FAST is None:
        pytest.skip("compiled Gate push reader not built")
    from cexfeed import wire
    from cexfeed.exchanges.gateio import _fastpush

    assert _fastpush.BOUNDS == {"MAX_VALUE": wire.MAX_VALUE, "MAX_SECONDS": wire.MAX_SECONDS, "MAX_MILLIS": wire.MAX_MILLIS, "MAX_SEQ": wire.MAX_SEQ}
