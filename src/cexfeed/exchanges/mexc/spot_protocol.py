"""MEXC spot public stream as seen by the network core (mexc-protocol.md §1.1 endpoint, §1.3
requests, §1.4 acks, §1.5 limits, §1.6 channels, §4 REST snapshot)."""

from __future__ import annotations

from typing import Iterable

import msgspec

from ...net.protocol import Snapshot, SnapshotError, Subscription, VenueProtocol
from ...net.rest import RestClient
from ...symbols import SymbolMap
from . import protocol as p
from .rest import DEPTH_PATH, EXCHANGE_INFO_PATH, parse_depth_snapshot, spot_symbol_map

# our channel name -> (channel builder, default parameter)
_CHANNELS = {
    "book": (p.aggre_depth_channel, "100ms"),
    "trades": (p.aggre_deals_channel, "100ms"),
    "bbo": (p.aggre_book_ticker_channel, "100ms"),
    "kline": (p.kline_channel, "Min1"),
    "ticker": (p.mini_ticker_channel, "24H"),
    "limit_book": (p.limit_depth_channel, "20"),
    "bbo_batch": (p.book_ticker_batch_channel, None),
}


class MexcSpotProtocol(VenueProtocol):
    """``book`` = ``aggre.depth`` (params ``("100ms",)`` or ``("10ms",)``) synced from REST
    ``/api/v3/depth`` snapshots by version; ``trades`` = ``aggre.deals``, ``bbo`` =
    ``aggre.bookTicker`` (both ``100ms`` unless ``interval`` says otherwise), ``kline``
    (``("Min1",)`` or ``1m`` style), ``ticker`` = ``miniTicker`` (time zone ``24H``),
    ``limit_book`` = ``limit.depth`` (``("20",)``: 5, 10 or 20 levels, full pushes),
    ``bbo_batch`` = ``bookTicker.batch``. At most 30 subscriptions per connection (the pool
    opens more), JSON ``PING`` every 20 s (the venue sends no pings), one channel per request
    with an id the venue echoes.
    """

    name = "mexc-spot"
    ws_url = p.WS_URL
    rest_url = p.REST_URL
    headers: dict[str, str] = {}
    ping_interval = p.PING_INTERVAL_S
    max_subscriptions = p.MAX_SUBSCRIPTIONS_PER_CONNECTION
    book_channel = "book"
    rest_snapshots = True
    channels = tuple(_CHANNELS)

    def __init__(
        self,
        ws_url: str | None = None,
        rest_url: str | None = None,
        interval: str = "100ms",
        kline_interval: str = "Min1",
        limit_levels: int = 20,
        depth: int = 100,
    ) -> None:
        super().__init__(ws_url, rest_url)
        if interval not in ("100ms", "10ms"):
            raise ValueError("mexc spot interval must be '100ms' or '10ms'")
        if limit_levels not in (5, 10, 20):
            raise ValueError("mexc spot limit.depth levels must be 5, 10 or 20")
        self.interval = interval
        self.kline_interval = p.KLINE_INTERVALS_REVERSE.get(kline_interval, kline_interval)
        self.limit_levels = limit_levels
        self.depth = depth

    def subscriptions(self, channels: Iterable[str], venue_symbols: Iterable[str]) -> list[Subscription]:
        defaults = {"book": self.interval, "trades": self.interval, "bbo": self.interval, "kline": self.kline_interval, "limit_book": str(self.limit_levels)}
        out = []
        for sub in super().subscriptions(channels, venue_symbols):
            param = defaults.get(sub.channel, _CHANNELS[sub.channel][1])
            out.append(sub._replace(params=(param,)) if param is not None else sub)
        return out

    def channel_name(self, sub: Subscription) -> str:
        """The venue channel string of ``sub`` (what the ack echoes)."""
        build, default = _CHANNELS[sub.channel]
        param = sub.params[0] if sub.params else default
        if param is None:
            return build(sub.venue_symbol)
        if sub.channel == "limit_book":
            return build(sub.venue_symbol, int(param))
        return build(sub.venue_symbol, param)

    def book_depth(self, sub: Subscription) -> int:
        return self.depth

    def subscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        return p.subscribe([self.channel_name(sub)], request_id)

    def unsubscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        return p.unsubscribe([self.channel_name(sub)], request_id)

    def ack_channel(self, sub: Subscription) -> str:
        return self.channel_name(sub)

    def ping_frame(self) -> bytes:
        return p.ping()

    def make_handler(self, on_event, symbols: SymbolMap, depth: int):
        from .public_handler import MexcPublicWebSocketHandler

        return MexcPublicWebSocketHandler(on_event, symbols=symbols, depth=depth)

    def default_symbols(self) -> SymbolMap:
        return spot_symbol_map()

    async def fetch_symbols(self, rest: RestClient) -> SymbolMap:
        """``GET /api/v3/exchangeInfo`` -> :class:`SymbolMap`. Raises ``RestError`` or
        ``msgspec.DecodeError``."""
        return spot_symbol_map(await rest.get(EXCHANGE_INFO_PATH))

    async def fetch_snapshot(self, rest: RestClient, venue_symbol: str, depth: int) -> Snapshot:
        """``GET /api/v3/depth?symbol=X&limit=N`` (N at most 5000) -> :class:`Snapshot` at
        ``lastUpdateId``. Raises ``RestError`` or :class:`SnapshotError`."""
        body = await rest.get(DEPTH_PATH, {"symbol": venue_symbol, "limit": str(min(max(depth, 1), 5000))})
        try:
            snap = parse_depth_snapshot(body)
        except msgspec.DecodeError as exc:
            raise SnapshotError(f"mexc depth snapshot of {venue_symbol}: {exc}") from exc
        return Snapshot(venue_symbol=venue_symbol, update_id=snap.lastUpdateId, bids=snap.bids, asks=snap.asks, exchange_ts=snap.timestamp)
