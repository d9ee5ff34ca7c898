"""The one network core: picows WebSocket connections (heartbeat, reconnect with capped
backoff + jitter, subscription-set replay, ack correlation), a pool that shards subscriptions
over connections, and the REST client for snapshots. Venue modules plug in a
:class:`VenueProtocol`."""

from .backoff import Backoff
from .connection import AckResult, ConnectionStats, RequestIds, WsConnection
from .pool import ConnectionPool
from .protocol import Snapshot, SnapshotError, Subscription, VenueProtocol
from .rest import RestClient, RestError
from .tap import Tap

__all__ = [
    "AckResult",
    "Backoff",
    "ConnectionPool",
    "ConnectionStats",
    "RequestIds",
    "RestClient",
    "RestError",
    "Snapshot",
    "SnapshotError",
    "Subscription",
    "Tap",
    "VenueProtocol",
    "WsConnection",
]
