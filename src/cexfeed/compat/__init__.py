"""The strategy-pattern compatibility layer (the older architecture, kept working).

- :mod:`.messages`: :class:`MessageType`, :class:`ParsedMessage`;
- :mod:`.strategies`: :class:`ConnectionStrategy`, :class:`SubscriptionStrategy`,
  :class:`MessageParserStrategy`, :class:`MessageRouter`, :class:`StrategyHandler`;
- per venue: :mod:`.gateio_spot`, :mod:`.gateio_futures` (shared parts in
  :mod:`.gateio_common`), :mod:`.mexc` (spot), named in the venue registry;
- :mod:`.selection`: ``direct`` or ``strategy`` per venue/stream from a file or keywords;
- :mod:`.adapter`: ``ParsedMessage`` callbacks on direct handlers;
- :mod:`.manager`: :class:`StrategyConnectionManager`, a connection driven by the strategies.
"""

from .adapter import ParsedMessageAdapter
from .messages import EVENT_CLASSES, MessageType, ParsedMessage, event_from_message, message_from_event
from .manager import StrategyConnectionManager, StrategyProtocol, architecture_of, open_feed
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
    "StrategyConnectionManager",
    "StrategyProtocol",
    "architecture_of",
    "open_feed",
    "build_handler",
    "event_from_message",
    "load_config",
    "make_handler",
    "message_from_event",
    "strategy_set",
]
