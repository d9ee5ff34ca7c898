"""The one network core: picows WebSocket connections (heartbeat, reconnect with capped
backoff + jitter, subscription-set replay, ack correlation), a pool that shards subscriptions
over connections, the REST client for snapshots and signed private calls, and the server clock
signatures use. Venue modules plug in a :class:`VenueProtocol` (public) or a
:class:`PrivateProtocol` (account streams).

The names below are loaded on first use, so importing a light part (``cexfeed.net.protocol``,
``cexfeed.net.backoff``) does not load picows and aiohttp.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AckResult": "requests",
    "Backoff": "backoff",
    "ConnectionPool": "pool",
    "ConnectionStats": "connection",
    "PrivateProtocol": "protocol",
    "RequestIds": "requests",
    "RestClient": "rest",
    "RestError": "rest",
    "ServerClock": "clock",
    "Snapshot": "protocol",
    "SnapshotError": "protocol",
    "Subscription": "protocol",
    "Tap": "tap",
    "VenueProtocol": "protocol",
    "WsConnection": "connection",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
