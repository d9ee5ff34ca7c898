"""Every path that reads a venue's frames, for tests that assert a value on all of them (not a
test module): the direct handler with its compiled parts (Gate push reader, MEXC C decoder), the
direct handler on their pure twins (msgspec path, upb decoder), and the strategy (compat) path.
:func:`same_on_every_path` runs the same frames through each and returns the one outcome they
all give."""

from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable

import msgspec

from cexfeed.compat import build_handler
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.mexc import decode
from cexfeed.handlers import ConnectionHooks
from cexfeed.symbols import Instrument

STREAMS = ["gateio-spot", "gateio-perp", "mexc-spot"]
PATHS = ["direct", "direct-pure", "strategy"]


def perp_symbols():
    """BTC_USDT (multiplier 0.0001) and ETH_USDT (0.01)."""
    smap = futures_symbol_map()
    for name, multiplier in (("BTC_USDT", 0.0001), ("ETH_USDT", 0.01)):
        smap.add(Instrument(symbol=f"{name.replace('_', '/')}:USDT", venue_symbol=name, base=name[:3], quote="USDT", market="perp",
                            settle="USDT", contract_multiplier=multiplier))
    return smap


class Hooks(ConnectionHooks):
    """Records what a handler asks of its connection; ``requests`` maps request ids to the venue
    symbol of the (pretend) pending request."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.requests: dict[int, str] = {}

    def on_ack(self, request_id, channel, ok, message):
        self.calls.append(("ack", request_id, channel, ok))
        self.requests.pop(request_id, None)

    def request_symbol(self, request_id, channel):
        return self.requests.get(request_id, "")

    def request_snapshot(self, venue_symbol):
        self.calls.append(("snapshot", venue_symbol))

    def request_resubscribe(self, venue_symbol):
        self.calls.append(("resubscribe", venue_symbol))


def handler(stream: str, path: str, events: list, depth: int = 100):
    """A handler of ``stream`` on ``path`` (see :data:`PATHS`) emitting into ``events``."""
    symbols = perp_symbols() if stream == "gateio-perp" else None
    h = build_handler(stream, "strategy" if path == "strategy" else "direct", events.append, symbols=symbols, depth=depth)
    if path == "direct-pure":
        if stream == "mexc-spot":
            h._decode = decode.decode_push_upb
        else:
            h._reader = None
    h.hooks = Hooks()
    return h


Step = bytes | str | Callable


def run(stream: str, path: str, steps: Iterable[Step], depth: int = 100) -> tuple[list, dict, object]:
    """``(events, error counters, handler)`` after ``steps`` (frames, or callables given the
    handler, e.g. to apply a snapshot) on one path."""
    events: list = []
    h = handler(stream, path, events, depth)
    for step in steps:
        if callable(step):
            step(h)
        else:
            h._handle_message(step, 7)
    return events, dict(Counter(h.stats.errors)), h


def comparable(event) -> dict:
    data = msgspec.structs.asdict(event)
    data["type"] = type(event).__name__
    if data.get("recv_ts", 0) != 7:
        data.pop("recv_ts", None)  # raised locally: now
    return data


def same_on_every_path(stream: str, steps: list[Step], depth: int = 100) -> tuple[list, dict]:
    """Run ``steps`` on every path; assert they all give the same events (as dicts with a
    ``type``) and counters; return them."""
    outcomes = {}
    for path in PATHS:
        events, errors, _ = run(stream, path, steps, depth)
        outcomes[path] = ([comparable(e) for e in events], errors)
    first = outcomes[PATHS[0]]
    for path in PATHS[1:]:
        assert outcomes[path] == first, f"{path} != {PATHS[0]}"
    return first
