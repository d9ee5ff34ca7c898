"""Connection pool: spreads subscriptions over as many :class:`WsConnection` as the venue's
per-connection cap needs (MEXC: 30), each connection with its own handler.

A symbol's subscriptions are kept together where they fit, so one symbol's book, trades and
bbo usually share a socket; a book always lives on exactly one connection (its handler owns the
sequencer), see :meth:`ConnectionPool.book_handler`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Iterable

from ..handlers import PublicWebSocketHandler
from .backoff import Backoff
from .connection import WsConnection
from .requests import AckResult, RequestIds
from .protocol import Subscription, VenueProtocol
from .rest import RestClient

HandlerFactory = Callable[[], PublicWebSocketHandler]


class ConnectionPool:
    """``protocol`` supplies the venue; ``handler_factory()`` makes one handler per connection;
    ``rest`` is shared for snapshots; ``connection_kwargs`` go to every :class:`WsConnection`
    (``no_data_timeout``, ``ping_interval``, ``ack_timeout``, ``snapshot_wait``, ``on_state``,
    ``subscription_timeout``).
    ``max_subscriptions`` overrides the protocol's cap (``None``: the protocol's).
    """

    def __init__(
        self,
        protocol: VenueProtocol,
        handler_factory: HandlerFactory,
        rest: RestClient | None = None,
        *,
        max_subscriptions: int | None = None,
        backoff: Callable[[], Backoff] | None = None,
        **connection_kwargs: Any,
    ) -> None:
        self.protocol = protocol
        self.handler_factory = handler_factory
        self.rest = rest
        self.max_subscriptions = max_subscriptions if max_subscriptions is not None else protocol.max_subscriptions
        self._backoff = backoff or Backoff
        self._kwargs = connection_kwargs
        self.ids = RequestIds()
        self.connections: list[WsConnection] = []
        self._owner: dict[Subscription, WsConnection] = {}

    def _new_connection(self) -> WsConnection:
        index = len(self.connections)
        conn = WsConnection(
            self.protocol,
            self.handler_factory(),
            self.rest,
            ids=self.ids,
            name=f"{self.protocol.name}#{index}",
            backoff=self._backoff(),
            **self._kwargs,
        )
        self.connections.append(conn)
        conn.start()
        return conn

    def _load(self, conn: WsConnection) -> int:
        return sum(1 for owner in self._owner.values() if owner is conn)

    def _room(self, conn: WsConnection) -> int:
        cap = self.max_subscriptions
        return 1 << 30 if cap is None else cap - self._load(conn)

    def _place(self, venue_symbol: str, count: int) -> WsConnection:
        """A connection with room for ``count`` more subscriptions, preferring one that already
        holds ``venue_symbol``; a new connection when none has room."""
        for owned, conn in self._owner.items():
            if owned.venue_symbol == venue_symbol and self._room(conn) >= count:
                return conn
        for conn in self.connections:
            if self._room(conn) >= count:
                return conn
        return self._new_connection()

    async def subscribe(self, subs: Iterable[Subscription]) -> list[AckResult]:
        """Place each subscription on a connection with room (opening new ones as needed),
        keeping one symbol's streams together where they fit, and wait for all acks. Never
        raises for venue refusals (see :class:`AckResult`)."""
        by_symbol: dict[str, list[Subscription]] = {}
        for sub in subs:
            by_symbol.setdefault(sub.venue_symbol, []).append(sub)
        groups: dict[WsConnection, list[Subscription]] = {}
        cap = self.max_subscriptions
        for venue_symbol, batch in by_symbol.items():
            new = [s for s in batch if s not in self._owner]
            for sub in batch:
                if sub in self._owner:
                    groups.setdefault(self._owner[sub], []).append(sub)
            while new:
                take = len(new) if cap is None else min(len(new), cap)
                conn = self._place(venue_symbol, take)
                take = min(take, self._room(conn))
                for sub in new[:take]:
                    self._owner[sub] = conn
                    groups.setdefault(conn, []).append(sub)
                new = new[take:]
        results = await asyncio.gather(*(conn.subscribe(group) for conn, group in groups.items()))
        out = [r for batch in results for r in batch]
        for result in out:
            if not result.ok and result.status == "refused":
                self._owner.pop(result.sub, None)
        return out

    async def unsubscribe(self, subs: Iterable[Subscription]) -> list[AckResult]:
        groups: dict[WsConnection, list[Subscription]] = {}
        for sub in subs:
            conn = self._owner.pop(sub, None)
            if conn is not None:
                groups.setdefault(conn, []).append(sub)
        results = await asyncio.gather(*(conn.unsubscribe(group) for conn, group in groups.items()))
        return [r for batch in results for r in batch]

    def book_handler(self, venue_symbol: str) -> PublicWebSocketHandler | None:
        """The handler holding ``venue_symbol``'s book subscription, if any."""
        is_book = self.protocol.is_book
        for sub, conn in self._owner.items():
            if sub.venue_symbol == venue_symbol and is_book(sub):
                return conn.handler
        return None

    def connection_of(self, sub: Subscription) -> WsConnection | None:
        return self._owner.get(sub)

    async def wait_connected(self, timeout: float | None = None) -> bool:
        if not self.connections:
            return True
        results = await asyncio.gather(*(c.wait_connected(timeout) for c in self.connections))
        return all(results)

    def stats(self) -> list[dict[str, Any]]:
        return [
            {
                "name": c.name,
                "state": c.state,
                "subscriptions": len(c.subscriptions),
                "last_error": c.last_error,
                **c.stats.as_dict(),
                "handler": c.handler.stats.as_dict(),
            }
            for c in self.connections
        ]

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.connections), return_exceptions=True)
