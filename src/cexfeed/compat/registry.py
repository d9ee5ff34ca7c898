"""How to build a handler of either architecture for a stream name of :mod:`cexfeed.venues`
(``gateio-spot``, ``gateio-perp``, ``mexc-spot``); which strategies serve a stream is the
registry's ``strategy`` entry."""

from __future__ import annotations

from typing import Callable, NamedTuple

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


ARCHITECTURES = ("direct", "strategy")


def strategy_set(stream: str) -> StrategySet:
    """The strategies of ``stream`` (from the venue registry, :mod:`cexfeed.venues`). Raises
    ``ValueError`` for an unknown stream."""
    from .. import venues

    return venues.load(venues.spec(stream).strategy)


def direct_handler_class(stream: str) -> type[PublicWebSocketHandler]:
    """The direct handler class of ``stream``. Raises ``ValueError`` for an unknown stream."""
    from .. import venues

    return venues.handler_class(stream)


def build_handler(
    stream: str,
    architecture: str = "direct",
    on_event: EventCallback | None = None,
    symbols: SymbolMap | None = None,
    depth: int = 100,
) -> PublicWebSocketHandler:
    """A handler of ``stream`` in ``architecture`` (``direct`` or ``strategy``); both take the
    same symbol map and book depth and emit the same events. Raises ``ValueError`` for an
    unknown architecture or stream."""
    if architecture == "direct":
        return direct_handler_class(stream)(on_event, symbols=symbols, depth=depth)
    if architecture == "strategy":
        strategies = strategy_set(stream)
        return strategies.handler(strategies.parser(symbols), on_event, depth)
    raise ValueError(f"unknown architecture {architecture!r} (expected one of {ARCHITECTURES})")
