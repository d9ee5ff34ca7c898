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
from fuzz_gate import SHARED, corpus, private_corpus, require_shared
from fuzz_mexc import Snapshot
from fuzz_mexc import corpus as mexc_corpus

import cexfeed.book as book_module
from cexfeed.compat import build_handler
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.protocol import spot_symbol_map
from cexfeed.symbols import Instrument

FRAMES = int(os.environ.get("CEXFEED_DIFF_FRAMES", "100000"))
PER_MARKET = FRAMES // 2
#: account frames per market (each read by three paths, the strategy one the slowest)
PRIVATE_PER_MARKET = FRAMES // 4


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
    require_shared()
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


# -- account streams -------------------------------------------------------------------------------
def _private_handler(stream: str, architecture: str, spot: bool):
    from cexfeed.account import PyAccountState
    from cexfeed.compat.gateio_private import replay_handler
    from cexfeed.venues import private_handler_class

    if architecture == "strategy":
        handler = replay_handler(stream, None)
        handler.parser.symbols = handler.parser.normalizer.symbols = _symbols(spot)
        return handler
    if architecture == "pure":  # no compiled reader, the pure-Python account state
        handler = private_handler_class(stream)(symbols=_symbols(spot), state=PyAccountState("gateio", "spot" if spot else "perp"))
        handler.use_compiled(False)
        return handler
    return private_handler_class(stream)(symbols=_symbols(spot))


class PrivatePath(Path_):
    """A path through account frames: events compared with every Decimal as its text (``1.0``
    and ``1`` differ), and the account state it keeps."""

    def step(self, frame: bytes | str) -> tuple:
        self.events.clear()
        self.handler._handle_message(frame, 1)
        errors = Counter(self.handler.stats.errors)
        delta = dict(errors - self.before)
        self.before = errors
        # how the direct path read the frame (strictly: every path then agrees on its values),
        # not what the frame held; the strategy path reads every frame strictly
        delta.pop("amounts_checked", None)
        return [dict(msgspec.to_builtins(e), type=type(e).__name__) for e in self.events], delta

    def state(self) -> dict:
        s = self.handler.state
        return msgspec.to_builtins({
            "balances": s.balances, "open": s.open_orders, "closed": dict(s.closed_orders), "positions": {f"{k[0]} {k[1]}": v for k, v in s.positions.items()},
            "fills": s.fills, "sums": {k: list(v) for k, v in s.fill_sums.items()}, "stats": dict(s.stats), "last_fill": s.last_fill_ts,
        })


@pytest.mark.parametrize("stream,spot,seed", [("gateio-spot", True, 21), ("gateio-perp", False, 22)])
def test_gate_private_paths_agree(monkeypatch, stream, spot, seed):
    """Account frames (documented samples, frames from the field tables, older shapes, damaged):
    the direct private handler with its compiled parts (account-push reader, account-value
    screen, account state), on its pure-Python twins, and the strategy path give the same
    events, counters and account state."""
    require_shared()
    from cexfeed import wire
    from cexfeed.account import AccountState, PyAccountState
    from cexfeed.exchanges.gateio import private_common

    frames = list(private_corpus(seed, spot, PRIVATE_PER_MARKET))
    paths = [PrivatePath("direct", _private_handler(stream, "direct", spot)), PrivatePath("strategy", _private_handler(stream, "strategy", spot))]
    compiled = paths[0].handler._reader is not None and AccountState is not PyAccountState
    if os.environ.get("CEXFEED_REQUIRE_COMPILED"):
        assert compiled, "the compiled account parts are not built"
    trace = _run(paths, frames)
    assert paths[0].state() == paths[1].state()
    # the pure-Python twins: the account-value screen, no compiled reader
    monkeypatch.setattr(private_common, "amounts_plain", wire.py_amounts_plain)
    monkeypatch.setattr(wire, "amounts_plain", wire.py_amounts_plain)
    pure = _private_handler(stream, "pure", spot)
    pure_path = PrivatePath("direct-pure", pure)
    assert _run([pure_path], frames) == trace
    assert pure_path.state() == paths[0].state()
    assert pure.stats.errors["amounts_checked"] == paths[0].handler.stats.errors["amounts_checked"] > 0
    kinds = Counter(e["type"] for events, _ in trace for e in events)
    counters = Counter(k for _, delta in trace for k in delta)
    wanted = {"Order", "Fill", "Balance"} | (set() if spot else {"Position", "AccountNotice"})
    # a floor that stops growing with the corpus: one damaged frame with a far-future time makes
    # every later balance of its currency stale (refused alike on every path), so past some
    # size the Balance events stop growing with the frames
    assert wanted <= set(kinds) and min(kinds[k] for k in wanted) > min(PRIVATE_PER_MARKET // 200, 250), kinds
    assert counters["malformed"] > PRIVATE_PER_MARKET // 40, counters
    assert paths[0].handler.state.open_orders or paths[0].handler.state.closed_orders
    # values outside their kinds (fuzz_gate.ODD_VALUES) were in the corpus: no event carries one
    # (an unknown side is kept, marked and counted)
    assert counters["malformed_item"] > PRIVATE_PER_MARKET // 100, counters
    for events, _ in trace:
        for e in events:
            assert within_kinds(e), e
    if spot:
        raw_sides = {e["raw_side"] for events, _ in trace for e in events if e.get("side") == "unknown"}
        assert counters["unknown_side"] > 0 and {"BUY", "hold", "", "SELL", "x"} <= raw_sides, raw_sides


def within_kinds(event: dict) -> bool:
    """What an account event (``to_builtins``: Decimals as text) may hold, by the kinds of the
    values it came from (:class:`cexfeed.wire.AmountKind`): sizes and prices above 0 (a price
    or size that is not there is ``None``), balances and filled/left quantities 0 or above; every
    currency a code (:func:`cexfeed.wire.currency`), upper case (a fee currency may be ``None``)."""
    from decimal import Decimal

    from cexfeed.wire import CURRENCY

    def number(name):
        value = event.get(name)
        return None if value is None else Decimal(value)

    def above(*names, low=0, strict=True):
        return all(v is None or (v > low if strict else v >= low) for v in map(number, names))

    def code(value, optional):  # a currency code (wire.currency), upper case; None where optional
        return (optional and value is None) or (value.__class__ is str and CURRENCY.match(value) is not None and value == value.upper())

    kind = event["type"]
    if kind == "Order":
        # (a close-position order, side "close", is Gate's "size 0": its amount is 0)
        return above("price", "quote_amount", "avg_price") and above("amount", strict=event["side"] != "close") and above(
            "filled", "left", "quote_left", "filled_quote", "contracts", "filled_contracts", "left_contracts", strict=False) and (
            event["side"] in ("buy", "sell", "close") or (event["side"] == "unknown" and event["raw_side"] is not None)) and code(
            event["fee_currency"], True)
    if kind == "Fill":
        return above("price", "amount", "contracts") and event["side"] in ("buy", "sell", "unknown") and code(event["fee_currency"], True)
    if kind == "Balance":
        return above("total", "available", "frozen", strict=False) and code(event["currency"], False)
    if kind == "Position":
        return above("entry_price", "mark_price", "liq_price") and above("margin", "leverage", strict=False)
    return True
