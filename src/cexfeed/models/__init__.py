"""Normalized event types shared by every venue.

Units, for every event unless a field says otherwise:
- prices are in the quote currency, as floats parsed from the venue's decimal strings
  (the shortest repr of each float gives back the venue string);
- sizes are in the base currency (futures: contracts x contract multiplier); where the venue
  counts contracts the raw contract count is kept in a ``contracts`` field;
- ``exchange_ts`` is milliseconds since the epoch as the venue stamps the event (the item's own
  time, else the push's), whatever unit the venue sent it in (s, ms, µs or ns, told apart by
  magnitude: :func:`cexfeed.wire.to_ms`); ``None`` (JSON ``null``) when the venue gave no time
  (e.g. a 2021 Gate REST snapshot) and on status events raised locally;
- ``recv_ts`` is nanoseconds since the epoch (``time.time_ns()``) taken once per frame on arrival.

``symbol`` is the unified name (``BTC/USDT`` spot, ``BTC/USDT:USDT`` perpetual), ``venue_symbol``
the venue's own (``BTC_USDT``, ``BTCUSDT``). ``market`` is ``"spot"`` or ``"perp"``.

Every event encodes to JSON with a ``type`` tag (``trade``, ``bbo``, ``book``, ``ticker``,
``kline``, ``book_status``, ...; account events ``order``, ``fill``, ``balance``, ``position``,
``account_status``, ``account_notice``), see :func:`encode_event`.

``None`` on any other field means the same everywhere: the venue did not give that value in
this push. Pushes that carry only what changed (Gate futures tickers, some spot tickers) leave
the rest ``None``; :class:`cexfeed.latest.Latest` merges them into the latest known values per
symbol. One exception, :class:`BestBidOffer`: a ``None`` side there means no quote on that side
right now (see the class).

Besides market data the stream carries status events raised locally, with ``exchange_ts`` None:
``BookStatus`` (one book), ``StreamStatus`` (one subscription: silence, held sizes),
``ConnectionStatus`` (a WebSocket or the REST endpoint) and ``EventsDropped`` (the consumer's
queue overflowed); on account streams ``AccountStatus``.

The events live in two modules, named together here: market data and the base of every event
(:mod:`cexfeed.models.market`) and account events (:mod:`cexfeed.models.account`).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Union

import msgspec

from .account import (
    AUTH_FAILED,
    DUAL_LONG,
    DUAL_SHORT,
    LIVE,
    LONG,
    RECONCILING,
    REFUSED,
    SEEDING,
    SHORT,
    SINGLE,
    AccountEvent,
    AccountNotice,
    AccountStatus,
    Balance,
    Fill,
    Order,
    OrderStatus,
    Position,
)
from .market import (
    BUY,
    CLOSED,
    CONNECTED,
    CONNECTING,
    DATA_RESUMED,
    FAILED,
    HELD,
    NO_DATA,
    PERP,
    RECONNECTING,
    RELEASED,
    RESUBSCRIBED,
    RESYNCING,
    SELL,
    SPOT,
    STALE,
    SYNCED,
    UNKNOWN,
    BestBidOffer,
    BookStatus,
    BookUpdate,
    ConnectionStatus,
    Event,
    EventsDropped,
    FundingRate,
    Kline,
    Liquidation,
    MarkPrice,
    OpenInterest,
    StreamStatus,
    Ticker,
    Trade,
    VenueError,
)

AnyEvent = Union[
    Trade,
    BestBidOffer,
    BookUpdate,
    Ticker,
    Kline,
    BookStatus,
    FundingRate,
    MarkPrice,
    Liquidation,
    OpenInterest,
    VenueError,
    StreamStatus,
    ConnectionStatus,
    EventsDropped,
    Order,
    Fill,
    Balance,
    Position,
    AccountStatus,
    AccountNotice,
]


def local_event(cls: type, venue: str, market: str, symbol: str = "", venue_symbol: str = "", recv_ts: int | None = None, **fields) -> Event:
    """An event raised locally (a status, an error of ours) rather than read from a push:
    ``exchange_ts`` ``None``, ``recv_ts`` now unless given, no symbol unless given."""
    return cls(venue=venue, market=market, symbol=symbol, venue_symbol=venue_symbol, exchange_ts=None,
               recv_ts=time.time_ns() if recv_ts is None else recv_ts, **fields)


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyEvent)


# per event class: the fields that may hold a Decimal (account values)
_DECIMAL_FIELDS: dict[type, tuple[str, ...]] = {}


def _decimal_fields(cls: type) -> tuple[str, ...]:
    found = _DECIMAL_FIELDS.get(cls)
    if found is None:
        hints = getattr(cls, "__annotations__", {})
        found = tuple(f for f in getattr(cls, "__struct_fields__", ()) if "Decimal" in str(hints.get(f, "")))
        _DECIMAL_FIELDS[cls] = found
    return found


def _plain(d: Decimal) -> bool:
    """True when ``str(d)`` is plain decimal text (no exponent: ``8.33E-7``, ``1E+3``)."""
    return not d.is_finite() or (d.as_tuple().exponent <= 0 and d.adjusted() >= -6)


def encode_event(event: Event) -> bytes:
    """JSON bytes of one event, with its ``type`` tag first. Account Decimals are written as
    plain decimal text (``"0.000000833"``, never ``"8.33E-7"``); the value read back is equal."""
    names = _decimal_fields(event.__class__)
    if names:
        texts = {}
        for name in names:
            value = getattr(event, name)
            if value.__class__ is Decimal and not _plain(value):
                texts[name] = format(value, "f")
        if texts:  # a copy for the encoder only (replace does not check types): the event keeps its Decimal
            event = msgspec.structs.replace(event, **texts)
    return _encoder.encode(event)


def decode_event(data: bytes | str) -> Event:
    """Inverse of :func:`encode_event`. Raises ``msgspec.DecodeError`` on bad input."""
    return _decoder.decode(data)

__all__ = [
    "AUTH_FAILED",
    "DUAL_LONG",
    "DUAL_SHORT",
    "LIVE",
    "LONG",
    "RECONCILING",
    "REFUSED",
    "SEEDING",
    "SHORT",
    "SINGLE",
    "AccountEvent",
    "AccountNotice",
    "AccountStatus",
    "Balance",
    "Fill",
    "Order",
    "OrderStatus",
    "Position",
    "BUY",
    "CLOSED",
    "CONNECTED",
    "CONNECTING",
    "DATA_RESUMED",
    "FAILED",
    "HELD",
    "NO_DATA",
    "PERP",
    "RECONNECTING",
    "RELEASED",
    "RESUBSCRIBED",
    "RESYNCING",
    "SELL",
    "SPOT",
    "STALE",
    "SYNCED",
    "UNKNOWN",
    "BestBidOffer",
    "BookStatus",
    "BookUpdate",
    "ConnectionStatus",
    "Event",
    "EventsDropped",
    "FundingRate",
    "Kline",
    "Liquidation",
    "MarkPrice",
    "OpenInterest",
    "StreamStatus",
    "Ticker",
    "Trade",
    "VenueError",
    "Trade",
    "BestBidOffer",
    "BookUpdate",
    "Ticker",
    "Kline",
    "BookStatus",
    "FundingRate",
    "MarkPrice",
    "Liquidation",
    "OpenInterest",
    "VenueError",
    "StreamStatus",
    "ConnectionStatus",
    "EventsDropped",
    "Order",
    "Fill",
    "Balance",
    "Position",
    "AccountStatus",
    "AccountNotice",
    "AnyEvent",
    "local_event",
    "encode_event",
    "decode_event",
]
