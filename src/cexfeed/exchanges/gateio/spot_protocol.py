"""Gate.io spot public stream as seen by the network core (gateio-protocol.md §1.1, §2.1,
§3, §6, §10.1): endpoint, request frames, ``spot.ping``, REST snapshots and pairs."""

from __future__ import annotations

from typing import Iterable

from ...net.protocol import Snapshot, Subscription, VenueProtocol
from ...net.rest import RestClient
from ...symbols import SymbolMap
from .obu import OBU_LEVELS, book_channels, obu_stream
from .protocol import REST_URL, SPOT_BOOK_INTERVAL_DEPTH, SPOT_CHANNELS, SPOT_WS_URL, ping, request, spot_payload, spot_symbol_map
from .rest import fetch_spot_order_book, fetch_spot_symbols


class GateioSpotProtocol(VenueProtocol):
    """``book`` = ``spot.order_book_update`` (params ``("100ms",)`` -> depth 100, or
    ``("20ms",)`` -> 20) synced from REST snapshots; ``book_obu`` = ``spot.obu``
    (``["ob.<pair>.<level>"]``, ``obu_level`` 50 or 400, snapshot in-band, a broken book
    recovered by unsubscribe + subscribe); ``trades``, ``bbo``, ``ticker``, ``kline`` (params
    ``("1m",)``). One book channel per symbol; ``book_mode="obu"`` makes ``book`` mean obu.
    No per-connection subscription cap. App ping every 10 s."""

    name = "gateio-spot"
    ws_url = SPOT_WS_URL
    rest_url = REST_URL
    headers: dict[str, str] = {}
    ping_interval = 10.0
    max_subscriptions = None
    book_channel = "book"
    rest_snapshots = True
    channels = tuple(SPOT_CHANNELS) + ("book_obu",)

    def __init__(self, ws_url: str | None = None, rest_url: str | None = None, book_interval: str = "100ms",
                 kline_interval: str = "1m", obu_level: int | str = 50, book_mode: str = "update") -> None:
        super().__init__(ws_url, rest_url)
        if book_interval not in SPOT_BOOK_INTERVAL_DEPTH:
            raise ValueError(f"gateio spot book interval must be one of {sorted(SPOT_BOOK_INTERVAL_DEPTH)}")
        if int(obu_level) not in OBU_LEVELS:
            raise ValueError(f"gateio obu level must be one of {OBU_LEVELS}")
        self.book_interval = book_interval
        self.kline_interval = kline_interval
        self.obu_level = int(obu_level)
        self.book_mode = book_mode

    def subscriptions(self, channels: Iterable[str], venue_symbols: Iterable[str]) -> list[Subscription]:
        subs = super().subscriptions(book_channels(self, list(channels), self.book_mode), venue_symbols)
        out = []
        for sub in subs:
            if sub.channel == "book":
                sub = sub._replace(params=(self.book_interval,))
            elif sub.channel == "book_obu":
                sub = sub._replace(params=(str(self.obu_level),))
            elif sub.channel == "kline":
                sub = sub._replace(params=(self.kline_interval,))
            out.append(sub)
        return out

    def is_book(self, sub: Subscription) -> bool:
        return sub.channel == "book" or sub.channel == "book_obu"

    def snapshot_via_rest(self, sub: Subscription) -> bool:
        return self.rest_snapshots and sub.channel == "book"

    def book_depth(self, sub: Subscription) -> int:
        # obu books keep their stream level; the handler depth stays the REST book's
        interval = sub.params[0] if sub.params and sub.channel == "book" else self.book_interval
        return SPOT_BOOK_INTERVAL_DEPTH.get(interval, 100)

    def _request(self, sub: Subscription, event: str, request_id: int) -> bytes:
        if sub.channel == "book_obu":
            return request("spot.obu", event, [obu_stream(sub.venue_symbol, sub.params[0] if sub.params else self.obu_level)], request_id)
        channel = SPOT_CHANNELS[sub.channel]
        return request(channel, event, spot_payload(channel, sub.venue_symbol, sub.params), request_id)

    def subscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        return self._request(sub, "subscribe", request_id)

    def unsubscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        return self._request(sub, "unsubscribe", request_id)

    def ack_channel(self, sub: Subscription) -> str:
        return "spot.obu" if sub.channel == "book_obu" else SPOT_CHANNELS[sub.channel]

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
