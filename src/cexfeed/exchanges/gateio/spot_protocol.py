"""Gate.io spot public stream as seen by the network core: the channel table of
``spot_table.py`` plus the REST snapshots and pairs (gateio-protocol.md §1.1, §2.1, §3, §6, §10.1)."""

from __future__ import annotations

from ...net.protocol import Snapshot, Subscription
from ...net.rest import RestClient
from ...symbols import SymbolMap
from . import spot_table as t
from .protocol import GateioProtocol, spot_symbol_map
from .rest import fetch_spot_order_book, fetch_spot_symbols


class GateioSpotProtocol(GateioProtocol):
    """Channels of :data:`~cexfeed.exchanges.gateio.spot_table.TABLE`: ``book`` =
    ``spot.order_book_update`` (``book_interval`` ``100ms`` -> depth 100, or ``20ms`` -> 20)
    synced from REST snapshots; ``book_obu`` = ``spot.obu`` (``obu_level`` 50 or 400, snapshot
    in-band, a broken book recovered by unsubscribe + subscribe); ``trades``, ``bbo``,
    ``ticker``, ``kline`` (``kline_interval``). One book channel per symbol;
    ``book_mode="obu"`` makes ``book`` mean obu. No per-connection subscription cap; app ping
    every 10 s. Raises ``ValueError`` for a parameter outside the table's choices."""

    name = "gateio-spot"
    table = t.TABLE
    ws_url = t.WS_URL
    rest_url = t.REST_URL
    headers: dict[str, str] = {}
    ping_interval = t.PING_INTERVAL_S
    PING = t.PING

    def __init__(self, ws_url: str | None = None, rest_url: str | None = None, book_interval: str = "100ms",
                 kline_interval: str = "1m", obu_level: int | str = 50, book_mode: str = "update") -> None:
        super().__init__(ws_url, rest_url)
        self.set_option("book", book_interval)
        self.set_option("book_obu", str(obu_level))
        self.set_option("kline", kline_interval)
        self._book_mode(book_mode)

    def book_depth(self, sub: Subscription) -> int:
        # obu books keep their stream level; the handler depth stays the REST book's
        interval = sub.params[0] if sub.channel == "book" else self.options["book"][0]
        return t.BOOK_INTERVAL_DEPTH[interval]

    def make_handler(self, on_event, symbols: SymbolMap, depth: int):
        from .spot_public_handler import GateioSpotPublicWebSocketHandler

        return GateioSpotPublicWebSocketHandler(on_event, symbols=symbols, depth=depth)

    def default_symbols(self) -> SymbolMap:
        return spot_symbol_map()

    async def fetch_symbols(self, rest: RestClient) -> SymbolMap:
        return await fetch_spot_symbols(rest)

    async def fetch_snapshot(self, rest: RestClient, venue_symbol: str, depth: int) -> Snapshot:
        return await fetch_spot_order_book(rest, venue_symbol, depth)
