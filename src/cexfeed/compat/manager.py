"""Running the strategy architecture live.

:class:`StrategyProtocol` puts a venue's three strategies in front of the network core: URL,
application ping and request frames come from the connection and subscription strategies,
every connection's handler is a :class:`StrategyHandler` driven by the parser strategy, and
what the strategies do not cover (REST snapshots and instrument lists, ack matching, book
depth, per-connection limits) is delegated to the venue's own protocol object, so reconnects,
resubscription and book resync behave as on the direct path.

The user-facing side lives one layer up, in :mod:`cexfeed.feed` (this package never imports
it): ``Feed(..., protocol=StrategyProtocol(...))``, :func:`cexfeed.feed.open_feed` (either
architecture from the configuration) and :class:`cexfeed.feed.StrategyConnectionManager`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from ..handlers import EventCallback, PublicWebSocketHandler
from ..net.protocol import Snapshot, Subscription as NetSubscription
from ..symbols import SymbolMap
from ..venues import protocol_class
from .messages import MessageType
from .registry import StrategySet, strategy_set
from .strategies import MessageCallback, StrategyHandler, Subscription


class StrategyProtocol:
    """The network-core protocol of ``stream`` (``gateio-spot`` ...) on the strategy path.

    ``ws_url``/``rest_url`` override the production endpoints (the simulator's);
    ``protocol_options`` go to the venue's own protocol (Gate ``book_interval``). Handlers
    made here get every callback registered in ``message_callbacks`` (type -> callbacks).
    """

    private = False  # market data (account streams use the venue's PrivateProtocol with a strategy handler)

    def __init__(self, stream: str, ws_url: str | None = None, rest_url: str | None = None, **protocol_options: Any) -> None:
        self.stream = stream
        self.inner = protocol_class(stream)(ws_url, rest_url, **protocol_options)
        self.strategies: StrategySet = strategy_set(stream)
        self.connection = self.strategies.connection(self.inner.ws_url)
        self._subscription = None
        self._subscription_symbols: SymbolMap | None = None
        self.message_callbacks: dict[MessageType, list[MessageCallback]] = defaultdict(list)
        self.handlers: list[StrategyHandler] = []

    # -- what the strategies decide --------------------------------------------------------
    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def ws_url(self) -> str:
        return self.connection.url

    @property
    def ping_interval(self) -> float:
        return self.connection.ping_interval

    def ping_frame(self) -> bytes | None:
        frame = self.connection.ping_frame()
        return frame.encode() if isinstance(frame, str) else frame

    def _subscriber(self, symbols: SymbolMap):
        if self._subscription is None or self._subscription_symbols is not symbols:
            self._subscription = self.strategies.subscription(symbols)
            self._subscription_symbols = symbols
        return self._subscription

    def _frame(self, sub: NetSubscription, request_id: int, subscribe: bool) -> bytes:
        symbols = self.handlers[-1].symbols if self.handlers else self.inner.default_symbols()
        strategy = self._subscriber(symbols)
        unified = symbols.unified(sub.venue_symbol)
        frames = (strategy.subscribe_frames if subscribe else strategy.unsubscribe_frames)([Subscription(sub.channel, unified, sub.params)], request_id)
        frame = frames[0]
        return frame.encode() if isinstance(frame, str) else frame

    def subscribe_frame(self, sub: NetSubscription, request_id: int) -> bytes:
        return self._frame(sub, request_id, True)

    def unsubscribe_frame(self, sub: NetSubscription, request_id: int) -> bytes:
        return self._frame(sub, request_id, False)

    def make_handler(self, on_event: EventCallback | None, symbols: SymbolMap, depth: int) -> PublicWebSocketHandler:
        handler = self.strategies.handler(self.strategies.parser(symbols), on_event, depth)
        for msg_type, callbacks in self.message_callbacks.items():
            for callback in callbacks:
                handler.on(msg_type, callback)
        self.handlers.append(handler)
        return handler

    def on(self, msg_type: MessageType, callback: MessageCallback) -> None:
        """Route ``ParsedMessage``\\ s of ``msg_type`` to ``callback`` on every connection."""
        self.message_callbacks[msg_type].append(callback)
        for handler in self.handlers:
            handler.on(msg_type, callback)

    # -- delegated to the venue's own protocol ---------------------------------------------
    @property
    def rest_url(self) -> str:
        return self.inner.rest_url

    @property
    def headers(self) -> dict[str, str]:
        return self.inner.headers

    @property
    def max_subscriptions(self) -> int | None:
        return self.inner.max_subscriptions

    @property
    def book_channel(self) -> str:
        return self.inner.book_channel

    @property
    def rest_snapshots(self) -> bool:
        return self.inner.rest_snapshots

    @property
    def channels(self) -> tuple[str, ...]:
        return self.inner.channels

    def __getattr__(self, name: str) -> Any:
        # anything else a venue protocol offers (channel_name, expect helpers ...)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def ack_channel(self, sub: NetSubscription) -> str:
        return self.inner.ack_channel(sub)

    def subscriptions(self, channels: Iterable[str], venue_symbols: Iterable[str], held: Iterable[NetSubscription] = ()) -> list[NetSubscription]:
        return self.inner.subscriptions(channels, venue_symbols, held)

    def is_book(self, sub: NetSubscription) -> bool:
        return self.inner.is_book(sub)

    def snapshot_via_rest(self, sub: NetSubscription) -> bool:
        return self.inner.snapshot_via_rest(sub)

    def book_depth(self, sub: NetSubscription) -> int:
        return self.inner.book_depth(sub)

    def default_symbols(self) -> SymbolMap:
        return self.inner.default_symbols()

    async def fetch_symbols(self, rest) -> SymbolMap:
        return await self.inner.fetch_symbols(rest)

    async def fetch_snapshot(self, rest, venue_symbol: str, depth: int) -> Snapshot:
        return await self.inner.fetch_snapshot(rest, venue_symbol, depth)
