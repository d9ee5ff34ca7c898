"""The three strategy interfaces, the message router and the strategy-driven handler.

The older architecture composes a venue stream from three strategies:

- :class:`ConnectionStrategy` -- where to connect and how to keep the connection alive
  (URL, application ping frame and interval);
- :class:`SubscriptionStrategy` -- the request frames that subscribe/unsubscribe channels;
- :class:`MessageParserStrategy` -- raw frame -> generic :class:`ParsedMessage`\\ s.

A :class:`MessageRouter` dispatches each ``ParsedMessage`` to the callbacks registered for its
type. :class:`RoutedHandler` wires a parser and a router into the handler contract of
:mod:`cexfeed.handlers` (``_handle_message`` never raises, errors counted in ``stats``, hooks for
the connection) for :class:`StrategyHandler` (market data) and the account twin, so the network core, replay and the benchmarks drive it exactly like a direct
handler. Books are applied through the same :class:`~cexfeed.book.BookSequencer` code as the
direct handlers, so both paths emit the same events.
"""

from __future__ import annotations

import abc
from collections import defaultdict
from typing import Any, Callable, Iterable, NamedTuple

from ..handlers import EventCallback, PublicWebSocketHandler
from ..models import AccountEvent, AccountStatus, BookStatus, BookUpdate, ConnectionStatus, Event, EventsDropped, StreamStatus, VenueError
from ..symbols import SymbolMap
from .messages import EVENT_CLASSES, MessageType, ParsedMessage, message_from_event

MessageCallback = Callable[[ParsedMessage], None]


class Subscription(NamedTuple):
    """One subscription request: ``channel`` is our channel name (``book``, ``trades``, ``bbo``,
    ``ticker``, ``kline``), ``symbol`` the unified symbol, ``params`` venue options (book
    interval/depth, kline interval)."""

    channel: str
    symbol: str
    params: tuple = ()


class ConnectionStrategy(abc.ABC):
    """How to reach a venue stream and keep it alive."""

    venue: str = ""
    market: str = ""

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The WebSocket URL (``wss://...`` or a loopback simulator URL)."""

    @property
    def ping_interval(self) -> float:
        """Seconds between application-level pings (``0`` when the venue needs none)."""
        return 0.0

    def ping_frame(self) -> bytes | str | None:
        """The application-level ping frame, or ``None`` when the venue uses protocol pings."""
        return None


class SubscriptionStrategy(abc.ABC):
    """The request frames of a venue stream."""

    @abc.abstractmethod
    def subscribe_frames(self, subscriptions: Iterable[Subscription], request_id: int | None = None) -> list[bytes | str]:
        """Frames to send to subscribe to ``subscriptions`` (``request_id``: the id every frame
        carries, else the strategy numbers them). Raises ``ValueError`` for a channel the venue
        stream does not offer."""

    @abc.abstractmethod
    def unsubscribe_frames(self, subscriptions: Iterable[Subscription], request_id: int | None = None) -> list[bytes | str]:
        """Frames to send to unsubscribe. Raises ``ValueError`` like :meth:`subscribe_frames`."""


def _ignore(kind: str, raw: Any = b"", detail: Any = None) -> None:
    pass


class MessageParserStrategy(abc.ABC):
    """Raw frame -> generic messages. ``venue``/``market`` name the stream; ``symbols`` maps
    venue names to unified ones."""

    venue: str = ""
    market: str = ""

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        self.symbols = symbols if symbols is not None else self.default_symbols()
        self.unified = self.symbols.unified
        # the handler replaces this to count a skipped item or notable condition by kind
        self.report: Callable[[str, Any, Any], None] = _ignore

    def default_symbols(self) -> SymbolMap:
        """The symbol map used when none is given."""
        return SymbolMap()

    def set_symbols(self, symbols: SymbolMap) -> None:
        """Replace the symbol map (the instrument list arrived after the stream started)."""
        self.symbols = symbols
        self.unified = symbols.unified

    @abc.abstractmethod
    def parse(self, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        """Messages carried by one frame, in frame order (``recv_ts`` ns goes into each event's
        data). Raises on a frame it cannot read (the handler counts it as ``malformed``)."""


class MessageRouter:
    """Type -> callbacks. ``route`` calls every callback of the message's type in registration
    order; an exception in one is reported to ``on_error`` (if given) and the others still run."""

    __slots__ = ("_routes", "on_error")

    def __init__(self, on_error: Callable[[BaseException], None] | None = None) -> None:
        self._routes: dict[MessageType, list[MessageCallback]] = defaultdict(list)
        self.on_error = on_error

    def on(self, msg_type: MessageType, callback: MessageCallback) -> None:
        """Register ``callback`` for messages of ``msg_type``."""
        self._routes[msg_type].append(callback)

    def off(self, msg_type: MessageType, callback: MessageCallback) -> None:
        """Remove a callback; raises ``ValueError`` if it was not registered."""
        self._routes[msg_type].remove(callback)

    def has(self, msg_type: MessageType) -> bool:
        return bool(self._routes.get(msg_type))

    def route(self, msg: ParsedMessage) -> None:
        callbacks = self._routes.get(msg.type)
        if not callbacks:
            return
        for callback in callbacks:
            try:
                callback(msg)
            except Exception as exc:
                if self.on_error is None:
                    raise
                self.on_error(exc)


# events the handler or its connection produces (sequencing, control frames, connection,
# subscription and account state): the consumer's message callbacks get them converted, all other event
# messages are passed through as parsed
_DERIVED_TYPES = {
    BookUpdate: MessageType.BOOK,
    BookStatus: MessageType.BOOK_STATUS,
    VenueError: MessageType.ERROR,
    StreamStatus: MessageType.STREAM_STATUS,
    ConnectionStatus: MessageType.CONNECTION,
    EventsDropped: MessageType.DROPPED,
    AccountStatus: MessageType.ACCOUNT_STATUS,
}
_DERIVED = tuple(_DERIVED_TYPES)


class RoutedHandler:
    """What both strategy-driven handlers (market data, accounts) share: a parser and a router
    in place of the direct handler's typed decode and dispatch table. ``_dispatch`` parses the
    frame and routes each message; control messages (acks, pongs, system notices, unknown
    frames) go to the connection hooks and the consumer's ``ParsedMessage`` callbacks
    (:meth:`on`)."""

    architecture = "strategy"

    def _routes(self, parser: MessageParserStrategy) -> MessageRouter:
        """Wire ``parser`` in; returns the router with the control routes set."""
        self.parser = parser
        parser.report = self._count_error  # type: ignore[attr-defined]
        self.symbols = parser.symbols
        self._unified = parser.unified
        self._raw: bytes | str | None = None
        self.router = MessageRouter()
        self.router.on(MessageType.ACK, self._on_ack)
        self.router.on(MessageType.PONG, self._on_pong)
        self.router.on(MessageType.SYSTEM, self._on_system)
        self.router.on(MessageType.UNKNOWN, self._on_unknown)
        self.subscribers = MessageRouter(on_error=self._subscriber_failed)
        return self.router

    def unified(self, venue_symbol: str) -> str:
        return self._unified(venue_symbol)

    def set_symbols(self, symbols: SymbolMap) -> None:
        self.parser.set_symbols(symbols)
        self.symbols = symbols
        self._unified = self.parser.unified

    def on(self, msg_type: MessageType, callback: MessageCallback) -> None:
        """Register a consumer callback for ``ParsedMessage``\\ s of ``msg_type``."""
        self.subscribers.on(msg_type, callback)

    # -- the two steps: parse, then route ------------------------------------------------
    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        self._raw = raw
        route = self.router.route
        try:
            for msg in self.parser.parse(raw, recv_ts):
                route(msg)
        finally:
            self._raw = None

    def _on_ack(self, msg: ParsedMessage) -> None:
        d = msg.data
        self.hooks.on_ack(d["id"], d["channel"], d["ok"], d["message"])  # type: ignore[attr-defined]
        self.subscribers.route(msg)

    def _error_symbol(self, d: dict) -> str:
        """The venue symbol an ERROR message concerns: the one the frame names, else the one of
        the request it answers (asked before its ack settles that request)."""
        return d.get("venue_symbol") or self.hooks.request_symbol(d.get("id"), d["channel"])  # type: ignore[attr-defined]

    def _on_pong(self, msg: ParsedMessage) -> None:
        self.hooks.on_pong()  # type: ignore[attr-defined]
        self.subscribers.route(msg)

    def _on_system(self, msg: ParsedMessage) -> None:
        d = msg.data
        if d.get("reconnect"):
            self.hooks.on_reconnect_requested(d.get("message", ""))  # type: ignore[attr-defined]
        self.subscribers.route(msg)

    def _on_unknown(self, msg: ParsedMessage) -> None:
        self._count_error(msg.data.get("kind", "unknown_frame"), self._raw or b"")  # type: ignore[attr-defined]

    def _subscriber_failed(self, exc: BaseException) -> None:
        self._count_error("callback", b"", exc)  # type: ignore[attr-defined]

    # -- consumer side -------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        super()._emit(event)  # type: ignore[misc]
        if isinstance(event, _DERIVED):
            msg_type = _DERIVED_TYPES[type(event)]
            subscribers = self.subscribers
            if subscribers.has(msg_type):
                subscribers.route(message_from_event(event, self._raw))


class StrategyHandler(RoutedHandler, PublicWebSocketHandler):
    """A venue stream driven by a :class:`MessageParserStrategy` and a :class:`MessageRouter`.

    Same contract and events as the venue's direct handler: ``on_event`` gets typed
    :mod:`cexfeed.models` events; :meth:`on` registers ``ParsedMessage`` callbacks by type
    (``BOOK``/``BOOK_STATUS`` carry the applied book changes, not the raw deltas).
    ``depth`` is the book depth kept (the subscribed depth). Never raises from
    ``_handle_message``.
    """

    def __init__(self, parser: MessageParserStrategy, on_event: EventCallback | None = None, depth: int = 100) -> None:
        super().__init__(on_event, depth)
        self.venue = parser.venue
        self.market = parser.market
        router = self._routes(parser)
        for msg_type, cls in EVENT_CLASSES.items():
            if cls not in _DERIVED_TYPES and not issubclass(cls, AccountEvent):
                router.on(msg_type, self._on_event_message)
        router.on(MessageType.BOOK_DELTA, self._on_book_delta)
        router.on(MessageType.BOOK_SNAPSHOT, self._on_book_snapshot)
        router.on(MessageType.ERROR, self._on_error)

    def _on_event_message(self, msg: ParsedMessage) -> None:
        self._emit(EVENT_CLASSES[msg.type](**msg.data))
        if self.subscribers.has(msg.type):
            self.subscribers.route(msg)

    def _on_book_delta(self, msg: ParsedMessage) -> None:
        d = msg.data
        self._book_delta(
            d["venue_symbol"], d["first_update_id"], d["last_update_id"], d["bids"], d["asks"], d["exchange_ts"], d["recv_ts"]
        )

    def _on_book_snapshot(self, msg: ParsedMessage) -> None:
        d = msg.data
        self._book_full(d["venue_symbol"], d["last_update_id"], d["bids"], d["asks"], d["exchange_ts"], d["recv_ts"])

    def _on_error(self, msg: ParsedMessage) -> None:
        d = msg.data
        self._venue_error(d["code"], d["message"], d["channel"], d["recv_ts"], d["exchange_ts"], self._error_symbol(d))



def describe(handler: Any) -> str:
    """``"direct"`` or ``"strategy"``: which architecture a handler instance runs."""
    return getattr(handler, "architecture", "direct")
