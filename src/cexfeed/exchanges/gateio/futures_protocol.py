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

from ...net.protocol import Snapshot, SnapshotError, Subscription
from ...net.rest import RestClient
from ...symbols import SymbolMap
from . import futures_table as t
from .contracts import ONE, ContractSize, ContractSizes, decode_futures_snapshot, futures_symbol_map
from .protocol import GateioProtocol


class GateioFuturesProtocol(GateioProtocol):
    """``gateio-perp``: USDT perpetuals, the channels of
    :data:`~cexfeed.exchanges.gateio.futures_table.TABLE`: ``book``, ``book_obu``,
    ``book_snapshots`` (legacy ``futures.order_book``), ``trades``, ``bbo``,
    ``ticker``/``funding``/``mark_price`` (all ``futures.tickers``, subscribed once), ``kline``,
    ``liquidations``, ``open_interest``.

    ``book_interval`` ``100ms``/``20ms`` and ``book_level`` (``100``/``50``/``20``; ``20ms``
    forces 20) for ``order_book_update``; ``obu_level`` 50 or 400; ``kline_interval``;
    ``book_mode`` ``"update"`` (default) or ``"obu"``. App ping every 10 s. The contract list
    (multipliers) is remembered from :meth:`fetch_symbols`/:meth:`make_handler` to normalize
    REST snapshots. Raises ``ValueError`` for a parameter outside the table's choices.
    """

    name = "gateio-perp"
    table = t.TABLE
    ws_url = t.WS_URL
    rest_url = t.REST_URL
    headers = dict(t.HEADERS)
    ping_interval = t.PING_INTERVAL_S
    PING = t.PING
    settle = t.SETTLE

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
        # §7.6: with 20ms only level 20 exists
        level = "20" if book_interval == "20ms" else str(book_level or 100)
        self.set_option("book", book_interval, level)
        self.set_option("book_obu", str(obu_level))
        self.set_option("kline", kline_interval)
        self.set_option("open_interest", kline_interval)
        self._book_mode(book_mode)
        self.headers = dict(t.HEADERS)
        self.symbols: SymbolMap | None = None

    def book_depth(self, sub: Subscription) -> int:
        """The handler depth (and REST ``limit``): the ``order_book_update`` level. obu books
        keep their stream's level (50/400) whatever this says, so obu subscriptions report the
        same value and never shrink the REST-synced books of other symbols."""
        params = sub.params if sub.channel == "book" else self.options["book"]
        return int(params[1])

    # -- handler and REST ------------------------------------------------------------------
    def make_handler(self, on_event, symbols: SymbolMap, depth: int):
        from .futures_public_handler import GateioFuturesPublicWebSocketHandler

        self.symbols = symbols
        return GateioFuturesPublicWebSocketHandler(on_event, symbols=symbols, depth=depth)

    def set_symbols(self, symbols: SymbolMap) -> None:
        """The contract list (multipliers) REST snapshots are converted with."""
        self.symbols = symbols

    def default_symbols(self) -> SymbolMap:
        return futures_symbol_map()

    async def fetch_symbols(self, rest: RestClient) -> SymbolMap:
        """``GET /futures/usdt/contracts`` -> :class:`SymbolMap` with multipliers. Raises
        ``RestError`` or ``msgspec`` errors."""
        self.symbols = futures_symbol_map(await rest.get(t.CONTRACTS_PATH))
        return self.symbols

    def sizer(self, venue_symbol: str) -> ContractSize:
        """The contract's size converter. Raises
        :class:`~cexfeed.exchanges.gateio.contracts.MultiplierUnknown` while the contract list
        has not given its multiplier (or for an inverse contract)."""
        return ContractSizes(self.symbols if self.symbols is not None else futures_symbol_map())(venue_symbol)

    async def fetch_snapshot(self, rest: RestClient, venue_symbol: str, depth: int) -> Snapshot:
        """``GET /futures/usdt/order_book?contract=X&limit=depth&with_id=true`` -> :class:`Snapshot`
        in base units. Raises ``RestError``, :class:`SnapshotError` (no ``id``, bad body) or
        ``MultiplierUnknown`` (before any request: the contract list has not given the
        multiplier yet; the connection retries until it has)."""
        sizer = self.sizer(venue_symbol)
        body = await rest.get(t.ORDER_BOOK_PATH, t.order_book_query(venue_symbol, depth))
        return parse_futures_rest_snapshot(venue_symbol, body, sizer)


def parse_futures_rest_snapshot(venue_symbol: str, body: bytes, sizer: ContractSize = ONE) -> Snapshot:
    """A core :class:`Snapshot` of a futures REST book body. Raises :class:`SnapshotError`."""
    try:
        snap = decode_futures_snapshot(body, sizer)
    except Exception as exc:  # ValueError (no id) or msgspec errors: unusable body
        raise SnapshotError(f"gateio futures order_book {venue_symbol}: {exc}") from exc
    return Snapshot(venue_symbol=venue_symbol, update_id=snap.update_id, bids=snap.bids, asks=snap.asks, exchange_ts=snap.exchange_ts)
