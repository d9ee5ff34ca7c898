"""What a venue module supplies to the network core (the "protocol" object).

The core (:mod:`cexfeed.net.connection`, :mod:`cexfeed.net.pool`) knows nothing about any venue:
URLs, handshake headers, the heartbeat frame, request frames, REST snapshots and the handler
class all come from a :class:`VenueProtocol` subclass living in ``exchanges/<venue>/``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, NamedTuple, Sequence

import msgspec

from ..symbols import SymbolMap

if TYPE_CHECKING:  # pragma: no cover
    from ..handlers import EventCallback, PublicWebSocketHandler
    from .rest import RestClient


class Subscription(NamedTuple):
    """One stream of one symbol: ``channel`` is our channel name (``book``, ``trades``,
    ``bbo``, ``ticker``, ``kline``, or a venue's extra ones), ``venue_symbol`` the venue's name
    (``BTC_USDT``), ``params`` venue parameters (Gate book interval ``("100ms",)``, kline
    interval ``("1m",)``). Hashable: the core keeps the current set of these."""

    channel: str
    venue_symbol: str
    params: tuple[str, ...] = ()


class Snapshot(msgspec.Struct):
    """A REST order-book snapshot, normalized: ``bids``/``asks`` ``[price, size]`` best first
    (price quote currency, size base currency), ``update_id`` the venue sequence id the book
    is taken at, ``exchange_ts`` ms (0 when the venue sends none)."""

    venue_symbol: str
    update_id: int
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    exchange_ts: int = 0


class SnapshotError(Exception):
    """A snapshot body that cannot be used (e.g. no sequence id). Never retried as is."""


class VenueProtocol:
    """Base class of a venue stream's protocol; subclasses fill in the class attributes and
    the methods marked "must override".

    Class attributes:
      ``name``                 registry name (``gateio-spot``)
      ``ws_url``/``rest_url``  production endpoints (the constructor can override both)
      ``headers``              extra handshake (and REST) headers, e.g. ``X-Gate-Size-Decimal``
      ``ping_interval``        seconds between app-level pings (``ping_frame``)
      ``max_subscriptions``    subscriptions one connection may hold (``None`` = unlimited);
                               the pool opens more connections beyond it (MEXC: 30)
      ``book_channel``         our channel name of the incremental book stream
      ``rest_snapshots``       True: after subscribing the book, fetch a REST snapshot
                               (Gate ``order_book_update``); False: the stream brings its own
                               full push (``obu``), a broken book is recovered by resubscribing
      ``channels``             our channel names this protocol accepts
    """

    name: str = ""
    ws_url: str = ""
    rest_url: str = ""
    headers: dict[str, str] = {}
    ping_interval: float = 10.0
    max_subscriptions: int | None = None
    book_channel: str = "book"
    rest_snapshots: bool = True
    channels: tuple[str, ...] = ()

    def __init__(self, ws_url: str | None = None, rest_url: str | None = None) -> None:
        if ws_url:
            self.ws_url = ws_url
        if rest_url:
            self.rest_url = rest_url

    # -- requests (must override) ------------------------------------------------------------
    def subscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        """The text frame that subscribes ``sub``, carrying ``request_id`` (int32)."""
        raise NotImplementedError

    def unsubscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        """The text frame that unsubscribes ``sub``."""
        raise NotImplementedError

    def ack_channel(self, sub: Subscription) -> str:
        """What the handler passes as ``channel`` to ``hooks.on_ack`` for this subscription;
        used to match an ack that carries no request id (MEXC may answer ``"id":0``)."""
        raise NotImplementedError

    def ping_frame(self) -> bytes | None:
        """The app-level ping text frame, or ``None`` for none."""
        return None

    # -- subscriptions ---------------------------------------------------------------------
    def subscriptions(self, channels: Iterable[str], venue_symbols: Iterable[str]) -> list[Subscription]:
        """Default: one subscription per (channel, symbol) with no parameters. Raises
        ``ValueError`` for a channel not in :attr:`channels`."""
        out = []
        symbols = list(venue_symbols)
        for channel in channels:
            if channel not in self.channels:
                raise ValueError(f"{self.name}: unknown channel {channel!r} (known: {', '.join(self.channels)})")
            out.extend(Subscription(channel, s) for s in symbols)
        return out

    def is_book(self, sub: Subscription) -> bool:
        """Whether ``sub`` feeds the handler's book sequencer (default: ``book_channel``)."""
        return sub.channel == self.book_channel

    def snapshot_via_rest(self, sub: Subscription) -> bool:
        """Whether the book of ``sub`` is seeded by a REST snapshot after the subscribe ack
        (default :attr:`rest_snapshots`); False means the stream sends its own full push and a
        broken book is recovered by unsubscribe + subscribe."""
        return self.rest_snapshots

    def book_depth(self, sub: Subscription) -> int:
        """Levels per side the book subscription maintains (and the snapshot limit)."""
        return 100

    # -- handler and REST ------------------------------------------------------------------
    def make_handler(self, on_event: "EventCallback | None", symbols: SymbolMap, depth: int) -> "PublicWebSocketHandler":
        """A fresh handler for one connection (must override)."""
        raise NotImplementedError

    def default_symbols(self) -> SymbolMap:
        """A name map used when the instrument list cannot be fetched (must override)."""
        raise NotImplementedError

    async def fetch_symbols(self, rest: "RestClient") -> SymbolMap:
        """The venue's instrument list as a :class:`SymbolMap`. Raises ``RestError``."""
        return self.default_symbols()

    async def fetch_snapshot(self, rest: "RestClient", venue_symbol: str, depth: int) -> Snapshot:
        """A REST book snapshot at ``depth`` levels. Raises ``RestError`` (transport, already
        retried) or :class:`SnapshotError` (unusable body)."""
        raise NotImplementedError


def venue_symbols(smap: SymbolMap, symbols: Sequence[str]) -> list[str]:
    """Unified names -> venue names through ``smap``; raises ``KeyError`` for unknown ones."""
    return [smap.to_venue(s) for s in symbols]
