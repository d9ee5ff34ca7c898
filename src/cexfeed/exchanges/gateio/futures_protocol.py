"""Gate.io USDT perpetual futures public stream as seen by the network core
(gateio-protocol.md §1.2, §2.1, §3, §5.2, §7, §10): endpoint ``/v4/ws/usdt``, the
``X-Gate-Size-Decimal: 1`` header on the handshake and on REST, ``futures.ping``, request frames,
contracts and REST order-book snapshots.

Book mode, picked per subscription (the core asks :meth:`GateioFuturesProtocol.is_book` and
:meth:`GateioFuturesProtocol.snapshot_via_rest` for each one):

- channel ``book`` -> ``futures.order_book_update`` (params ``(frequency, level)``, default
  ``("100ms", "100")``), synced from REST ``/futures/usdt/order_book?with_id=true`` snapshots;
- channel ``book_obu`` -> ``futures.obu`` (params ``(level,)``, ``50`` default or ``400``), the
  snapshot in-band, a broken book recovered by unsubscribe + subscribe of that one stream;
- channel ``book_snapshots`` -> legacy ``futures.order_book`` (a full book every ~100 ms).

One symbol's book comes from one of them: asking for two for the same symbol raises
``ValueError``; different symbols of one stream may use different modes. ``book_mode="obu"`` at
construction makes the plain ``book`` channel mean obu. Gate spot offers the same
(``spot.obu``) in :class:`~cexfeed.exchanges.gateio.spot_protocol.GateioSpotProtocol`.
"""

from __future__ import annotations

from typing import Iterable

from ...net.protocol import Snapshot, SnapshotError, Subscription, VenueProtocol
from ...net.rest import RestClient
from ...symbols import SymbolMap
from .contracts import ONE, ContractSize, decode_futures_snapshot, futures_symbol_map
from .futures_public_handler import (
    CONTRACTS_PATH,
    FUTURES_CHANNELS,
    FUTURES_HEADERS,
    FUTURES_PING_CHANNEL,
    FUTURES_REST_URL,
    FUTURES_WS_URL,
    ORDER_BOOK_PATH,
    futures_payload,
    order_book_query,
)
from .obu import BOOK_CHANNELS, OBU_LEVELS, book_channels
from .protocol import ping, request

class GateioFuturesProtocol(VenueProtocol):
    """``gateio-perp``: USDT perpetuals. Channels: ``book``, ``book_obu``, ``book_snapshots``
    (legacy ``futures.order_book``), ``trades``, ``bbo``, ``ticker``/``funding``/``mark_price``
    (all ``futures.tickers``, subscribed once), ``kline``, ``liquidations``, ``open_interest``.

    ``book_interval`` ``100ms``/``20ms`` and ``book_level`` (``100``/``50``/``20``; ``20ms``
    forces 20) for ``order_book_update``; ``obu_level`` 50 or 400; ``kline_interval``;
    ``book_mode`` ``"update"`` (default) or ``"obu"``. App ping every 10 s. The contract list
    (multipliers) is remembered from :meth:`fetch_symbols`/:meth:`make_handler` to normalize
    REST snapshots.
    """

    name = "gateio-perp"
    ws_url = FUTURES_WS_URL
    rest_url = FUTURES_REST_URL
    headers = dict(FUTURES_HEADERS)
    ping_interval = 10.0
    max_subscriptions = None
    book_channel = "book"
    rest_snapshots = True
    channels = tuple(FUTURES_CHANNELS)

    def __init__(
        self,
        ws_url: str | None = None,
        rest_url: str | None = None,
        book_interval: str = "100ms",
        book_level: int | str | None = None,
        obu_level: int | str = 50,
        kline_interval: str = "1m",
        book_mode: str = "update",
    ) -> None:
        super().__init__(ws_url, rest_url)
        if book_interval not in ("100ms", "20ms"):
            raise ValueError("gateio futures book interval must be '100ms' or '20ms'")
        level = 20 if book_interval == "20ms" else int(book_level or 100)
        if level not in (20, 50, 100):
            raise ValueError("gateio futures book level must be 20, 50 or 100")
        if int(obu_level) not in OBU_LEVELS:
            raise ValueError(f"gateio obu level must be one of {OBU_LEVELS}")
        if book_mode not in ("update", "obu"):
            raise ValueError("book_mode must be 'update' or 'obu'")
        self.headers = dict(FUTURES_HEADERS)
        self.book_interval = book_interval
        self.book_level = level
        self.obu_level = int(obu_level)
        self.kline_interval = kline_interval
        self.book_mode = book_mode
        self.symbols: SymbolMap | None = None

    # -- subscriptions ---------------------------------------------------------------------
    def subscriptions(self, channels: Iterable[str], venue_symbols: Iterable[str]) -> list[Subscription]:
        channels = book_channels(self, list(channels), self.book_mode)
        subs = super().subscriptions(channels, venue_symbols)
        out: list[Subscription] = []
        seen: set[tuple[str, str]] = set()
        for sub in subs:
            gate = FUTURES_CHANNELS[sub.channel]
            if (gate, sub.venue_symbol) in seen:
                continue  # ticker/funding/mark_price share futures.tickers
            seen.add((gate, sub.venue_symbol))
            if sub.channel == "book":
                sub = sub._replace(params=(self.book_interval, str(self.book_level)))
            elif sub.channel == "book_obu":
                sub = sub._replace(params=(str(self.obu_level),))
            elif sub.channel == "kline" or sub.channel == "open_interest":
                sub = sub._replace(params=(self.kline_interval,))
            out.append(sub)
        return out

    def is_book(self, sub: Subscription) -> bool:
        return sub.channel in BOOK_CHANNELS

    def snapshot_via_rest(self, sub: Subscription) -> bool:
        return sub.channel == "book"

    def book_depth(self, sub: Subscription) -> int:
        """The handler depth (and REST ``limit``): the ``order_book_update`` level. obu books
        keep their stream's level (50/400) whatever this says, so obu subscriptions report the
        same value and never shrink the REST-synced books of other symbols."""
        if sub.channel == "book":
            return int(sub.params[1]) if len(sub.params) > 1 else self.book_level
        return self.book_level

    def subscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        channel = FUTURES_CHANNELS[sub.channel]
        return request(channel, "subscribe", futures_payload(channel, sub.venue_symbol, sub.params), request_id)

    def unsubscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        channel = FUTURES_CHANNELS[sub.channel]
        return request(channel, "unsubscribe", futures_payload(channel, sub.venue_symbol, sub.params), request_id)

    def ack_channel(self, sub: Subscription) -> str:
        return FUTURES_CHANNELS[sub.channel]

    def ping_frame(self) -> bytes:
        return ping(FUTURES_PING_CHANNEL)

    # -- handler and REST ------------------------------------------------------------------
    def make_handler(self, on_event, symbols: SymbolMap, depth: int):
        from .futures_public_handler import GateioFuturesPublicWebSocketHandler

        self.symbols = symbols
        return GateioFuturesPublicWebSocketHandler(on_event, symbols=symbols, depth=depth)

    def default_symbols(self) -> SymbolMap:
        return futures_symbol_map()

    async def fetch_symbols(self, rest: RestClient) -> SymbolMap:
        """``GET /futures/usdt/contracts`` -> :class:`SymbolMap` with multipliers. Raises
        ``RestError`` or ``msgspec`` errors."""
        self.symbols = futures_symbol_map(await rest.get(CONTRACTS_PATH))
        return self.symbols

    def sizer(self, venue_symbol: str) -> ContractSize:
        inst = self.symbols.instrument(venue_symbol) if self.symbols is not None else None
        return ContractSize(inst.contract_multiplier) if inst is not None else ONE

    async def fetch_snapshot(self, rest: RestClient, venue_symbol: str, depth: int) -> Snapshot:
        """``GET /futures/usdt/order_book?contract=X&limit=depth&with_id=true`` -> :class:`Snapshot`
        in base units. Raises ``RestError`` or :class:`SnapshotError` (no ``id``, bad body)."""
        body = await rest.get(ORDER_BOOK_PATH, order_book_query(venue_symbol, depth))
        return parse_futures_rest_snapshot(venue_symbol, body, self.sizer(venue_symbol))


def parse_futures_rest_snapshot(venue_symbol: str, body: bytes, sizer: ContractSize = ONE) -> Snapshot:
    """A core :class:`Snapshot` of a futures REST book body. Raises :class:`SnapshotError`."""
    try:
        snap = decode_futures_snapshot(body, sizer)
    except Exception as exc:  # ValueError (no id) or msgspec errors: unusable body
        raise SnapshotError(f"gateio futures order_book {venue_symbol}: {exc}") from exc
    return Snapshot(venue_symbol=venue_symbol, update_id=snap.update_id, bids=snap.bids, asks=snap.asks, exchange_ts=snap.exchange_ts)
