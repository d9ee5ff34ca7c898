"""Gate.io REST calls the stream needs: spot order-book snapshots and the currency-pair list
(gateio-protocol.md §10.1, §1.1)."""

from __future__ import annotations

import msgspec

from ...net.protocol import Snapshot, SnapshotError
from ...net.rest import RestClient
from ...symbols import SymbolMap
from .protocol import parse_spot_snapshot, spot_symbol_map


def parse_spot_order_book(venue_symbol: str, body: bytes) -> Snapshot:
    """A :class:`Snapshot` from a spot order-book body, through the one decoder of it
    (:func:`~cexfeed.exchanges.gateio.protocol.parse_spot_snapshot`: bounded prices, sizes and
    id). Raises :class:`SnapshotError` when the body has no ``id`` (requested without
    ``with_id=true``; hummingbot#5424), holds an impossible value, or does not decode."""
    try:
        book = parse_spot_snapshot(body)
    except msgspec.ValidationError as exc:
        raise SnapshotError(f"gateio spot order_book {venue_symbol}: {exc}") from exc
    except msgspec.DecodeError as exc:
        raise SnapshotError(f"gateio spot order_book {venue_symbol}: undecodable body: {exc}") from exc
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
