"""Gate.io REST calls the stream needs: spot order-book snapshots and the currency-pair list
(gateio-protocol.md §10.1, §1.1)."""

from __future__ import annotations

import msgspec

from ...net.protocol import Snapshot, SnapshotError
from ...net.rest import RestClient
from ...symbols import SymbolMap
from .protocol import spot_symbol_map


class _SpotOrderBook(msgspec.Struct):
    """``GET /spot/order_book?with_id=true``: ``id`` book id, ``current``/``update`` ms,
    ``asks``/``bids`` ``[[price, amount], ...]`` best first."""

    asks: list[tuple[float, float]] = []
    bids: list[tuple[float, float]] = []
    id: int | None = None
    current: int = 0
    update: int = 0


_order_book = msgspec.json.Decoder(_SpotOrderBook, strict=False)


def parse_spot_order_book(venue_symbol: str, body: bytes) -> Snapshot:
    """A :class:`Snapshot` from a spot order-book body. Raises :class:`SnapshotError` when the
    body has no ``id`` (requested without ``with_id=true``; hummingbot#5424) or does not
    decode."""
    try:
        book = _order_book.decode(body)
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"gateio spot order_book {venue_symbol}: undecodable body: {exc}") from exc
    if book.id is None:
        raise SnapshotError(
            f"gateio spot order_book {venue_symbol}: snapshot has no 'id' (request with_id=true); cannot sequence it"
        )
    return Snapshot(venue_symbol=venue_symbol, update_id=book.id, bids=book.bids, asks=book.asks, exchange_ts=book.update or book.current)


async def fetch_spot_order_book(rest: RestClient, venue_symbol: str, limit: int) -> Snapshot:
    """``GET /spot/order_book?currency_pair=X&limit=N&with_id=true`` -> :class:`Snapshot`.
    Raises ``RestError`` or :class:`SnapshotError`."""
    body = await rest.get("/spot/order_book", {"currency_pair": venue_symbol, "limit": str(limit), "with_id": "true"})
    return parse_spot_order_book(venue_symbol, body)


async def fetch_spot_symbols(rest: RestClient) -> SymbolMap:
    """``GET /spot/currency_pairs`` -> :class:`SymbolMap`. Raises ``RestError`` or
    ``msgspec.DecodeError``."""
    return spot_symbol_map(await rest.get("/spot/currency_pairs"))
