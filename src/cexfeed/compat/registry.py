"""Which strategies implement which venue stream, and how to build a handler of either
architecture for a stream name of :mod:`cexfeed.venues` (``gateio-spot``, ``gateio-perp``,
``mexc-spot``)."""

from __future__ import annotations

import importlib
from typing import Any, Callable, NamedTuple

from ..handlers import EventCallback, PublicWebSocketHandler
from ..symbols import SymbolMap
from .strategies import ConnectionStrategy, MessageParserStrategy, StrategyHandler, SubscriptionStrategy


class StrategySet(NamedTuple):
    """The three strategy factories of one venue stream. ``connection(url)`` builds the
    connection strategy for a URL (``None``: production), ``subscription(symbols)`` and
    ``parser(symbols)`` take an optional :class:`SymbolMap`."""

    connection: Callable[[str | None], ConnectionStrategy]
    subscription: Callable[[SymbolMap | None], SubscriptionStrategy]
    parser: Callable[[SymbolMap | None], MessageParserStrategy]
    # the handler class driving the parser (a StrategyHandler subclass where the venue's book
    # rules need more than the generic one)
    handler: type[StrategyHandler] = StrategyHandler


# stream name -> "module:attribute" of its StrategySet (imported on first use)
STRATEGY_SETS: dict[str, str] = {
    "gateio-spot": "cexfeed.compat.gateio:GATEIO_SPOT",
    "gateio-perp": "cexfeed.compat.gateio:GATEIO_PERP",
    "mexc-spot": "cexfeed.compat.mexc:MEXC_SPOT",
}

# stream name -> "module:Class" of the direct handler, for streams whose venue module has not
# registered itself in cexfeed.venues yet
_DIRECT_FALLBACK: dict[str, str] = {
    "gateio-spot": "cexfeed.exchanges.gateio.spot_public_handler:GateioSpotPublicWebSocketHandler",
    "gateio-perp": "cexfeed.exchanges.gateio.futures_public_handler:GateioFuturesPublicWebSocketHandler",
    "mexc-spot": "cexfeed.exchanges.mexc.public_handler:MexcPublicWebSocketHandler",
}

ARCHITECTURES = ("direct", "strategy")


def _load(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def strategy_set(stream: str) -> StrategySet:
    """The strategies of ``stream``. Raises ``KeyError`` when the stream has none."""
    return _load(STRATEGY_SETS[stream])


def direct_handler_class(stream: str) -> type[PublicWebSocketHandler]:
    """The direct handler class of ``stream``. Raises ``KeyError`` for an unknown stream."""
    from .. import venues

    spec = venues.VENUES.get(stream)
    if spec is not None:
        return venues.handler_class(stream)
    return _load(_DIRECT_FALLBACK[stream])


def build_handler(
    stream: str,
    architecture: str = "direct",
    on_event: EventCallback | None = None,
    symbols: SymbolMap | None = None,
    depth: int = 100,
) -> PublicWebSocketHandler:
    """A handler of ``stream`` in ``architecture`` (``direct`` or ``strategy``); both take the
    same symbol map and book depth and emit the same events. Raises ``ValueError`` for an
    unknown architecture, ``KeyError`` for an unknown stream."""
    if architecture == "direct":
        return direct_handler_class(stream)(on_event, symbols=symbols, depth=depth)
    if architecture == "strategy":
        strategies = strategy_set(stream)
        return strategies.handler(strategies.parser(symbols), on_event, depth)
    raise ValueError(f"unknown architecture {architecture!r} (expected one of {ARCHITECTURES})")
