"""The one network core: picows WebSocket connections (heartbeat, reconnect with capped
backoff + jitter, subscription-set replay, ack correlation), a pool that shards subscriptions
over connections, the REST client for snapshots and signed private calls, and the server clock
signatures use. Venue modules plug in a :class:`VenueProtocol` (public) or a
:class:`PrivateProtocol` (account streams)."""

from .backoff import Backoff
from .clock import ServerClock
from .connection import AckResult, ConnectionStats, RequestIds, WsConnection
from .pool import ConnectionPool
from .protocol import PrivateProtocol, Snapshot, SnapshotError, Subscription, VenueProtocol
from .rest import RestClient, RestError

__all__ = [
    "AckResult",
    "Backoff",
    "ConnectionPool",
    "ConnectionStats",
    "PrivateProtocol",
    "RequestIds",
    "RestClient",
    "RestError",
    "ServerClock",
    "Snapshot",
    "SnapshotError",
    "Subscription",
    "VenueProtocol",
    "WsConnection",
]
