"""Gate.io spot public stream as seen by the network core (gateio-protocol.md §1.1, §2.1,
§3, §6, §10.1): endpoint, request frames, ``spot.ping``, REST snapshots and pairs."""

from __future__ import annotations

from typing import Iterable

from ...net.protocol import Snapshot, Subscription, VenueProtocol
from ...net.rest import RestClient
from ...symbols import SymbolMap
from .protocol import REST_URL, SPOT_BOOK_INTERVAL_DEPTH, SPOT_CHANNELS, SPOT_WS_URL, ping, request, spot_payload, spot_symbol_map
from .rest import fetch_spot_order_book, fetch_spot_symbols


class GateioSpotProtocol(VenueProtocol):
    """``book`` = ``spot.order_book_update`` (params ``("100ms",)`` -> depth 100, or
    ``("20ms",)`` -> 20) synced from REST snapshots; ``trades``, ``bbo``, ``ticker``, ``kline``
    (params ``("1m",)``). No per-connection subscription cap. App ping every 10 s."""

    name = "gateio-spot"
    ws_url = SPOT_WS_URL
    rest_url = REST_URL
    headers: dict[str, str] = {}
    ping_interval = 10.0
    max_subscriptions = None
    book_channel = "book"
    rest_snapshots = True
    channels = tuple(SPOT_CHANNELS)

    def __init__(self, ws_url: str | None = None, rest_url: str | None = None, book_interval: str = "100ms", kline_interval: str = "1m") -> None:
        super().__init__(ws_url, rest_url)
        if book_interval not in SPOT_BOOK_INTERVAL_DEPTH:
            raise ValueError(f"gateio spot book interval must be one of {sorted(SPOT_BOOK_INTERVAL_DEPTH)}")
        self.book_interval = book_interval
        self.kline_interval = kline_interval

    def subscriptions(self, channels: Iterable[str], venue_symbols: Iterable[str]) -> list[Subscription]:
        subs = super().subscriptions(channels, venue_symbols)
        out = []
        for sub in subs:
            if sub.channel == "book":
                sub = sub._replace(params=(self.book_interval,))
            elif sub.channel == "kline":
                sub = sub._replace(params=(self.kline_interval,))
            out.append(sub)
        return out

    def book_depth(self, sub: Subscription) -> int:
        return SPOT_BOOK_INTERVAL_DEPTH.get(sub.params[0] if sub.params else "100ms", 100)

    def subscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        channel = SPOT_CHANNELS[sub.channel]
        return request(channel, "subscribe", spot_payload(channel, sub.venue_symbol, sub.params), request_id)

    def unsubscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        channel = SPOT_CHANNELS[sub.channel]
        return request(channel, "unsubscribe", spot_payload(channel, sub.venue_symbol, sub.params), request_id)

    def ack_channel(self, sub: Subscription) -> str:
        return SPOT_CHANNELS[sub.channel]

    def ping_frame(self) -> bytes:
        return ping("spot.ping")

    def make_handler(self, on_event, symbols: SymbolMap, depth: int):
        from .spot_public_handler import GateioSpotPublicWebSocketHandler

        return GateioSpotPublicWebSocketHandler(on_event, symbols=symbols, depth=depth)

    def default_symbols(self) -> SymbolMap:
        return spot_symbol_map()

    async def fetch_symbols(self, rest: RestClient) -> SymbolMap:
        return await fetch_spot_symbols(rest)

    async def fetch_snapshot(self, rest: RestClient, venue_symbol: str, depth: int) -> Snapshot:
        return await fetch_spot_order_book(rest, venue_symbol, depth)
