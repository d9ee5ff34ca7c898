"""The strategy-pattern compatibility layer (the older architecture, kept working).

- :mod:`.messages`: :class:`MessageType`, :class:`ParsedMessage`;
- :mod:`.strategies`: :class:`ConnectionStrategy`, :class:`SubscriptionStrategy`,
  :class:`MessageParserStrategy`, :class:`MessageRouter`, :class:`StrategyHandler`;
- per venue: :mod:`.gateio_spot`, :mod:`.gateio_futures` (shared parts in
  :mod:`.gateio_common`), :mod:`.mexc` (spot), named in the venue registry;
- :mod:`.selection`: ``direct`` or ``strategy`` per venue/stream from a file or keywords;
- :mod:`.adapter`: ``ParsedMessage`` callbacks on direct handlers;
- :mod:`.manager`: :class:`StrategyProtocol`, the strategies in front of the network core.

The live, user-facing side is one layer up in :mod:`cexfeed.architecture` (``open_feed``,
``StrategyConnectionManager``, ``architecture_of``, over :mod:`cexfeed.feed`); this package
never imports it. Those names are still served here, lazily, for older code.
"""

from .adapter import ParsedMessageAdapter
from .messages import EVENT_CLASSES, MessageType, ParsedMessage, event_from_message, message_from_event
from .manager import StrategyProtocol
from .registry import ARCHITECTURES, StrategySet, build_handler, strategy_set
from .selection import ArchitectureConfig, load_config, make_handler
from .strategies import (
    ConnectionStrategy,
    MessageParserStrategy,
    MessageRouter,
    StrategyHandler,
    Subscription,
    SubscriptionStrategy,
)

__all__ = [
    "ARCHITECTURES",
    "EVENT_CLASSES",
    "ArchitectureConfig",
    "ConnectionStrategy",
    "MessageParserStrategy",
    "MessageRouter",
    "MessageType",
    "ParsedMessage",
    "ParsedMessageAdapter",
    "StrategyHandler",
    "StrategySet",
    "Subscription",
    "SubscriptionStrategy",
    "StrategyProtocol",
    "build_handler",
    "event_from_message",
    "load_config",
    "make_handler",
    "message_from_event",
    "strategy_set",
]

# names whose home is cexfeed.architecture (the layer above): imported on first use only
_ARCHITECTURE_NAMES = ("StrategyConnectionManager", "architecture_of", "open_feed")


def __getattr__(name: str):
    if name in _ARCHITECTURE_NAMES:
        from .. import architecture

        return getattr(architecture, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
