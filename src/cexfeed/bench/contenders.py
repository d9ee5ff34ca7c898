"""The contenders: one object per (contender, case) that processes a raw frame all the way to
applied state / emitted event.

- ``direct``: the cexfeed handler (typed msgspec / upb decode, dispatch table, sequencer);
- ``strategy``: the cexfeed compatibility layer (generic decode -> ParsedMessage -> router ->
  event building, same sequencer);
- ``decode``: the floor -- only the typed decode the direct path starts with, no state, no event;
- ``ccxt.pro``: the frame handed to ccxt's own WebSocket client receive path
  (``Client.handle_text_or_binary_message``: its JSON/protobuf decode, then the exchange's
  ``handle_message``), books seeded with the same snapshot, no awaiting consumer;
- ``cryptofeed``: ``Feed.message_handler`` (its JSON decode with Decimal, then the channel
  handler), books seeded likewise, a no-op async callback; Gate only (no MEXC support).

Books are reset to the case snapshot before each round (untimed) so every contender applies
exactly the same deltas. A contender that cannot handle a case returns ``None`` from
:func:`make_runner` (shown as n/a).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Callable

import msgspec

from .frames import FUTURES_CONTRACTS_JSON, Case

RECV_TS = 1_764_400_000_000_000_000

CONTENDERS = ("direct", "strategy", "decode", "ccxt.pro", "cryptofeed")


class Runner:
    """``process(raw)`` handles one frame; ``reset()`` restores the case's starting state;
    ``applied()`` returns a count the harness checks to be sure the frames took effect."""

    def __init__(self, process: Callable[[bytes], object], reset: Callable[[], None] = lambda: None, applied: Callable[[], int] | None = None) -> None:
        self.process = process
        self.reset = reset
        self.applied = applied


def _sink(event) -> None:
    pass


def _symbols(stream: str):
    if stream == "gateio-perp":
        from cexfeed.exchanges.gateio.contracts import futures_symbol_map

        return futures_symbol_map(FUTURES_CONTRACTS_JSON)
    return None


def _levels(levels, multiplier: float = 1.0) -> list[tuple[float, float]]:
    return [(float(p), float(s) * multiplier) for p, s in levels]


# -- cexfeed -----------------------------------------------------------------------------------


def _cexfeed(case: Case, architecture: str) -> Runner:
    from cexfeed.compat import build_handler

    handler = build_handler(case.stream, architecture, _sink, symbols=_symbols(case.stream), depth=20)
    handle = handler._handle_message
    process = lambda raw: handle(raw, RECV_TS)  # noqa: E731
    if case.snapshot is None:
        return Runner(process, applied=lambda: handler.stats.events)
    update_id, bids, asks = case.snapshot
    multiplier = float(handler.symbols.instrument(case.symbol).contract_multiplier) if case.stream == "gateio-perp" else 1.0
    snap_bids, snap_asks = _levels(bids, multiplier), _levels(asks, multiplier)

    def reset() -> None:
        handler.reset_books("bench")
        handler.apply_snapshot(case.symbol, update_id, snap_bids, snap_asks, 0, RECV_TS)

    return Runner(process, reset, lambda: handler.books[case.symbol].deltas_applied)


def _decode_floor(case: Case) -> Runner:
    """The typed decode the direct handler starts with, nothing else: MEXC ``decode_push``
    (wrapper parse + hot-body field reads); Gate the handler class's one-pass frame decoder."""
    if case.stream == "mexc-spot":
        from cexfeed.exchanges.mexc.decode import decode_push

        return Runner(decode_push)
    from cexfeed.compat.registry import direct_handler_class

    return Runner(direct_handler_class(case.stream)._frames.decode)


# -- ccxt.pro ----------------------------------------------------------------------------------

_COMMON = {"active": True, "precision": {"amount": 0.0001, "price": 0.1}, "limits": {}, "info": {}, "option": False, "future": False}
# the markets ccxt would load from REST (offline: the benchmark never touches the network)
_CCXT_MARKETS = {
    "gate": [
        dict(_COMMON, id="BTC_USDT", symbol="BTC/USDT", base="BTC", quote="USDT", baseId="BTC", quoteId="USDT", type="spot", spot=True, swap=False, contract=False),
        dict(
            _COMMON,
            id="BTC_USDT",
            symbol="BTC/USDT:USDT",
            base="BTC",
            quote="USDT",
            settle="USDT",
            baseId="BTC",
            quoteId="USDT",
            settleId="USDT",
            type="swap",
            spot=False,
            swap=True,
            contract=True,
            linear=True,
            inverse=False,
            contractSize=0.0001,
        ),
    ],
    "mexc": [dict(_COMMON, id="BTCUSDT", symbol="BTC/USDT", base="BTC", quote="USDT", baseId="BTC", quoteId="USDT", type="spot", spot=True, swap=False, contract=False)],
}
# exchanges to close at the end of a run
_OPEN: list = []


async def close_peers() -> None:
    """Close the ccxt exchanges a run created (their aiohttp sessions)."""
    while _OPEN:
        try:
            await _OPEN.pop().close()
        except Exception:
            pass


def _ccxt(case: Case) -> Runner | None:
    import ccxt.pro as ccxtpro

    if case.stream == "mexc-spot":
        exchange = ccxtpro.mexc({"newUpdates": False})
        url = exchange.urls["api"]["ws"]["spot"] if isinstance(exchange.urls["api"]["ws"], dict) else exchange.urls["api"]["ws"]
        symbol = case.symbol
        if case.kind == "ticker":
            return None
    else:
        exchange = ccxtpro.gate({"newUpdates": False})
        ws = exchange.urls["api"]["spot"] if case.stream == "gateio-spot" else exchange.urls["api"]["swap"]["usdt"]
        url = ws
        symbol = "BTC/USDT" if case.stream == "gateio-spot" else "BTC/USDT:USDT"
    exchange.set_markets(_CCXT_MARKETS["mexc" if case.stream == "mexc-spot" else "gate"])
    if case.stream == "mexc-spot":
        symbol = "BTC/USDT"
    client = exchange.client(url)
    _OPEN.append(exchange)
    handle = client.handle_text_or_binary_message
    text = case.stream != "mexc-spot"
    # aiohttp hands ccxt text frames as str (its UTF-8 decode is not charged to ccxt here)
    process = (lambda raw: handle(raw.decode())) if text else handle
    if case.snapshot is None:
        return Runner(process)
    update_id, bids, asks = case.snapshot

    def reset() -> None:
        book = exchange.order_book({"bids": [[float(p), float(s)] for p, s in bids], "asks": [[float(p), float(s)] for p, s in asks], "nonce": update_id}, 20)
        exchange.orderbooks[symbol] = book

    return Runner(process, reset, lambda: exchange.orderbooks[symbol]["nonce"] or 0)


# -- cryptofeed --------------------------------------------------------------------------------


def _drive(coro) -> None:
    """Run a coroutine that never suspends (all cryptofeed handler paths used here) to its end."""
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()
    raise RuntimeError("cryptofeed handler suspended")


async def _noop(obj, receipt_timestamp) -> None:
    pass


def _cryptofeed(case: Case) -> Runner | None:
    if case.stream == "mexc-spot":
        return None
    from cryptofeed.defines import CANDLES, L2_BOOK, TICKER, TRADES
    from cryptofeed.symbols import Symbols
    from cryptofeed.types import OrderBook

    if case.stream == "gateio-spot":
        if case.kind == "bbo":
            return None  # spot.book_ticker is not a cryptofeed Gate channel
        from cryptofeed.exchanges.gateio import Gateio as feed_class

        symbol = "BTC-USDT"
        if not Symbols.populated(feed_class.id):
            syms, info = feed_class._parse_symbol_data([{"id": "BTC_USDT", "base": "BTC", "quote": "USDT", "trade_status": "tradable"}])
            Symbols.set(feed_class.id, syms, info)
        channels = [L2_BOOK, TRADES, TICKER, CANDLES]
    else:
        from cryptofeed.exchanges.gateio_futures import GateioFutures as feed_class

        symbol = "BTC-USDT-PERP"
        if not Symbols.populated(feed_class.id):
            syms, info = feed_class._parse_symbol_data(msgspec.json.decode(FUTURES_CONTRACTS_JSON))
            Symbols.set(feed_class.id, syms, info)
        channels = [L2_BOOK, TRADES, TICKER]
        if case.kind not in ("book", "trades", "bbo", "ticker"):
            return None
    feed = feed_class(symbols=[symbol], channels=channels, callbacks={c: _noop for c in channels})
    handler = feed.message_handler
    # cryptofeed's connection hands the handler a str and a float receipt time
    process = lambda raw: _drive(handler(raw.decode(), None, 1764400000.0))  # noqa: E731
    if case.snapshot is None:
        return Runner(process)
    update_id, bids, asks = case.snapshot

    def reset() -> None:
        feed._reset()
        book = OrderBook(feed.id, symbol, max_depth=feed.max_depth)
        book.book.bids = {Decimal(p): Decimal(s) for p, s in bids}
        book.book.asks = {Decimal(p): Decimal(s) for p, s in asks}
        feed._l2_book[symbol] = book
        feed.last_update_id[symbol] = update_id

    return Runner(process, reset, lambda: feed.last_update_id.get(symbol, 0))


def make_runner(contender: str, case: Case) -> Runner | None:
    """The runner of ``contender`` for ``case``, or ``None`` where it does not apply. Raises
    ``ImportError`` when a peer library is not installed (the harness reports it as missing)."""
    from .private import KIND, make_private_runner

    if case.kind == KIND:
        return make_private_runner(contender, case)
    if contender in ("direct", "strategy"):
        return _cexfeed(case, contender)
    if contender == "decode":
        return _decode_floor(case)
    if contender == "ccxt.pro":
        return _ccxt(case)
    if contender == "cryptofeed":
        return _cryptofeed(case)
    raise ValueError(f"unknown contender {contender!r}")


def ensure_loop() -> asyncio.AbstractEventLoop:
    """ccxt's client creates futures: give this thread a current event loop."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        return loop
