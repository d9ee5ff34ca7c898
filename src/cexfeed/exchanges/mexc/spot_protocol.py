"""MEXC spot public stream as seen by the network core: the channel table of ``spot_table.py``
plus the REST snapshot and symbols (mexc-protocol.md §1.1 endpoint, §1.3 requests, §1.4 acks,
§1.5 limits, §1.6 channels, §4 REST snapshot)."""

from __future__ import annotations

import msgspec

from ...channels import Channel
from ...net.protocol import Snapshot, SnapshotError, Subscription, VenueProtocol
from ...net.rest import RestClient
from ...symbols import SymbolMap
from . import protocol as p
from . import spot_table as t
from .rest import DEPTH_PATH, EXCHANGE_INFO_PATH, parse_depth_snapshot, spot_symbol_map


class MexcSpotProtocol(VenueProtocol):
    """Channels of :data:`~cexfeed.exchanges.mexc.spot_table.TABLE`: ``book`` = ``aggre.depth``
    synced from REST ``/api/v3/depth`` snapshots by version; ``trades`` = ``aggre.deals``,
    ``bbo`` = ``aggre.bookTicker`` (``interval`` ``100ms`` or ``10ms`` for all three),
    ``kline`` (``kline_interval`` ``Min1`` or ``1m`` style), ``ticker`` = ``miniTicker``
    (time zone ``24H``), ``limit_book`` = ``limit.depth`` (``limit_levels`` 5, 10 or 20, full
    pushes), ``bbo_batch`` = ``bookTicker.batch``. At most 30 subscriptions per connection (the
    pool opens more), JSON ``PING`` every 20 s (the venue sends no pings), one channel per
    request with an id the venue echoes. Raises ``ValueError`` for a parameter outside the
    table's choices.
    """

    name = "mexc-spot"
    table = t.TABLE
    ws_url = t.WS_URL
    rest_url = t.REST_URL
    headers: dict[str, str] = {}
    ping_interval = t.PING_INTERVAL_S
    max_subscriptions = t.MAX_SUBSCRIPTIONS_PER_CONNECTION

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
        for name in ("book", "trades", "bbo"):
            self.set_option(name, interval)
        self.set_option("kline", t.KLINE_INTERVALS_REVERSE.get(kline_interval, kline_interval))
        self.set_option("limit_book", str(limit_levels))
        self.depth = depth

    def channel_name(self, sub: Subscription) -> str:
        """The venue channel string of ``sub`` (what the ack echoes)."""
        return self.ack_channel(sub)

    def request(self, row: Channel, sub: Subscription, event: str, request_id: int) -> bytes:
        build = p.subscribe if event == "subscribe" else p.unsubscribe
        return build([self.table.channel(row, sub.venue_symbol, sub.params)], request_id)

    def book_depth(self, sub: Subscription) -> int:
        return self.depth

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
        return Snapshot(venue_symbol=venue_symbol, update_id=snap.lastUpdateId, bids=snap.bids, asks=snap.asks, exchange_ts=snap.exchange_ts)
