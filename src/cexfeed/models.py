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
"""

from __future__ import annotations

import enum
import time
from decimal import Decimal
from typing import Union

import msgspec

from .wire import UNKNOWN_SIDE

# Side is the taker side for public trades.
BUY = "buy"
SELL = "sell"
UNKNOWN = UNKNOWN_SIDE  # a side code the venue added later (Trade.raw_side keeps it)

SPOT = "spot"
PERP = "perp"

# BookStatus.status values
SYNCED = "synced"
RESYNCING = "resyncing"
STALE = "stale"


class Event(msgspec.Struct, tag_field="type"):
    """Fields common to every event (see the module docstring for units).

    Every event type takes these six first, then its own fields, by keyword or by position (the
    compiled Gate reader builds ticker events positionally and checks the field order when it
    loads). Event types whose fields are all scalars are not tracked by the garbage collector
    (``gc=False``: they cannot be part of a reference cycle)."""

    venue: str
    market: str
    symbol: str
    venue_symbol: str
    exchange_ts: int | None
    recv_ts: int


class Trade(Event, tag="trade", gc=False):
    """One public trade. ``side`` is the taker side (``buy``/``sell``), or ``unknown`` when the
    venue sent a side or trade type code we do not know (added later): the trade is kept and
    ``raw_side`` holds the venue's value as text (Gate ``side``, MEXC ``tradeType``), else
    ``None``. ``size`` is base currency; ``contracts`` the unsigned contract count on futures
    venues, ``None`` on spot.

    ``trade_id`` is the venue's trade id. When the venue sends none (MEXC deals of the older
    schema) it is ``"<time ms>-<n>"``, ``n`` counting such trades of the symbol on this stream:
    unique across pushes for the life of the handler, and the same on every replay of the same
    frames.
    """

    price: float
    size: float
    side: str
    trade_id: str
    contracts: float | None = None
    raw_side: str | None = None


class BestBidOffer(Event, tag="bbo", gc=False):
    """Best bid/offer (book ticker). Prices quote currency, sizes base currency; ``update_id``
    is the venue's book sequence id when it sends one (Gate ``u``), else ``None``.

    A side with no quote (an empty or one-sided book, an inactive contract: Gate sends ``""``
    and size 0, MEXC leaves the fields out) has its price and size ``None``, the same on every
    venue: a side is quoted only when the venue gives a price and a size both above 0. Unlike
    other events, ``None`` here means "no quote now", not "not in this push"."""

    bid_price: float | None
    bid_size: float | None
    ask_price: float | None
    ask_size: float | None
    update_id: int | None = None


class BookUpdate(Event, tag="book"):
    """An applied change to the local L2 book.

    ``bids``/``asks`` are ``[price, size]`` pairs; size is the new absolute level size in base
    currency and ``0.0`` removes the level. ``snapshot`` is true when the book was replaced as a
    whole (REST snapshot, in-band full push, or venue snapshot channel): then the lists hold the
    whole book, best first, and never a level of size 0. ``first_update_id``/``last_update_id`` are the venue's sequence ids
    (Gate ``U``/``u``, MEXC ``fromVersion``/``toVersion``).
    """

    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    snapshot: bool
    first_update_id: int
    last_update_id: int


class Ticker(Event, tag="ticker", gc=False):
    """Rolling 24 h ticker. Any field the venue did not send is ``None``.

    ``base_volume`` is in base currency, ``quote_volume`` in quote currency,
    ``change_pct`` is the 24 h change in percent (``-7.45`` for a 7.45 % fall).
    """

    last: float | None = None
    best_bid: float | None = None
    best_ask: float | None = None
    high_24h: float | None = None
    low_24h: float | None = None
    base_volume: float | None = None
    quote_volume: float | None = None
    change_pct: float | None = None


class Kline(Event, tag="kline", gc=False):
    """One candlestick window. ``interval`` is the venue's interval name normalized to
    ``1m``, ``1h`` ...; ``open_ts`` is the window start in ms (``None`` when not given). ``volume`` is base currency,
    ``quote_volume`` quote currency (``None`` when not sent); ``closed`` is ``None`` when the
    venue does not say whether the window is final."""

    interval: str
    open_ts: int | None
    open: float
    high: float
    low: float
    close: float
    volume: float | None = None
    quote_volume: float | None = None
    closed: bool | None = None


class BookStatus(Event, tag="book_status", gc=False):
    """State change of one symbol's local book: ``synced``, ``resyncing`` (a gap, crossed book
    or reconnect: do not use the book until ``synced`` again) or ``stale`` (no data for too
    long). ``reason`` is a short machine-readable cause (``gap``, ``crossed``, ``snapshot``,
    ``reconnect``, ``no_data`` ...) and ``detail`` a readable note."""

    status: str
    reason: str
    last_update_id: int | None = None
    detail: str = ""


# StreamStatus.status values
NO_DATA = "no_data"
DATA_RESUMED = "data_resumed"
HELD = "held"
RELEASED = "released"
REFUSED = "refused"
RESUBSCRIBED = "resubscribed"


class StreamStatus(Event, tag="stream_status", gc=False):
    """State change of one subscription (``channel`` our channel name, ``""`` for every
    channel of the symbol):

    - ``no_data``: nothing arrived on it for the feed's ``subscription_timeout`` s since the
      subscribe ack or since its last push (``detail`` says which); ``data_resumed`` when it
      speaks again;
    - ``held``: its size-bearing pushes are held because the contract multiplier is not known
      yet (futures; no contract count is ever published as a base-currency size); ``released``
      once the instrument list gave it (the held pushes follow, in order), with ``reason``
      ``dropped`` when some had to be let go (the bound was reached);
    - ``refused``: the venue refused it after having accepted it before (the replay after a
      reconnect); it is asked again with a capped backoff (``detail`` says when), and
      ``resubscribed`` once accepted (a book then syncs again).
    """

    channel: str
    status: str
    reason: str = ""
    detail: str = ""


# ConnectionStatus.status values
CONNECTING = "connecting"
CONNECTED = "connected"
RECONNECTING = "reconnecting"
FAILED = "failed"
CLOSED = "closed"


class ConnectionStatus(Event, tag="connection", gc=False):
    """State of one connection of the feed (``symbol``/``venue_symbol`` empty):

    - ``connection``: the WebSocket's name (``gateio-spot#0``) or ``rest`` for the REST
      endpoint (snapshots, instrument list); ``url`` where it goes (no credentials);
    - ``status``: ``connecting`` (``attempt`` 1, 2 ... since the last success), ``connected``,
      ``reconnecting`` (an open socket was lost: ``reason`` ``dropped``, ``closed``,
      ``no_data``, ``upgrade``, ``max_age`` ...), ``failed`` (a connect attempt or a REST call
      failed: ``reason`` ``http_429``, ``http_503``, ``refused``, ``timeout``, ``error``),
      ``closed`` (closed by us);
    - ``retry_in``: seconds until the next attempt (``reconnecting``/``failed``), else ``None``;
    - ``detail``: a readable note (the error text).
    """

    connection: str
    status: str
    reason: str = ""
    detail: str = ""
    url: str = ""
    attempt: int = 0
    retry_in: float | None = None


class EventsDropped(Event, tag="dropped"):
    """The consumer's bounded :meth:`cexfeed.feed.Feed.events` queue overflowed: ``count``
    events (the oldest) were dropped just before this one (``total`` since the start). The
    books whose updates were among them are in ``books`` (unified symbols): their
    ``BookUpdate`` deltas are incomplete, so read them again with ``feed.book(symbol)`` (the
    local book itself is always complete and current). ``symbol`` is empty."""

    count: int
    total: int
    books: list[str] = []


class FundingRate(Event, tag="funding", gc=False):
    """Perpetual funding. ``rate`` is the current period's rate (fraction, 0.0001 = 0.01 %),
    ``predicted_rate`` the venue's indicative next rate, ``next_funding_ts`` ms; ``None`` for
    what the push did not carry."""

    rate: float | None = None
    predicted_rate: float | None = None
    next_funding_ts: int | None = None


class MarkPrice(Event, tag="mark_price", gc=False):
    """Mark and index price of a perpetual, quote currency; ``None`` where not sent."""

    mark_price: float | None = None
    index_price: float | None = None


class Liquidation(Event, tag="liquidation", gc=False):
    """A public liquidation order. ``side`` is the side of the liquidation order
    (``sell`` closes a long), ``size`` base currency, ``contracts`` unsigned contract count."""

    price: float
    size: float
    side: str
    contracts: float | None = None


class OpenInterest(Event, tag="open_interest", gc=False):
    """Open interest: ``open_interest`` base currency, ``contracts`` raw count,
    ``open_interest_usd`` in USD where the venue sends it."""

    open_interest: float
    contracts: float | None = None
    open_interest_usd: float | None = None


class VenueError(Event, tag="error", gc=False):
    """An error the venue reported (refused subscription, error frame). ``symbol`` and
    ``venue_symbol`` name the symbol it concerns when the frame says it (Gate: the request
    payload it echoes; MEXC: the channel it names) or the refused request did; empty otherwise.
    ``channel`` is the venue channel the error belongs to."""

    code: int
    message: str
    channel: str = ""


# -- account events (private streams) ------------------------------------------------------------


class OrderStatus(str, enum.Enum):
    """One order lifecycle for every venue. ``new``: accepted, not yet working (or working, when
    the venue does not tell the two apart: then ``open``); ``open``: working, nothing filled;
    ``partially_filled``: working with ``filled > 0``; terminal: ``filled``, ``canceled`` (also
    after a partial fill: then ``filled > 0``), ``rejected``, ``expired``; ``unknown``: a venue
    value not in the venue's table (the raw value is on the event; it never changes what the
    account state believes about the order's lifecycle)."""

    NEW = "new"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def working(self) -> bool:
        return self in _WORKING


_TERMINAL = frozenset((OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED))
_WORKING = frozenset((OrderStatus.NEW, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED))

# AccountStatus.status values
SEEDING = "seeding"
LIVE = "live"
RECONCILING = "reconciling"
AUTH_FAILED = "auth_failed"
REFUSED = "refused"
# (STALE, above, is shared with BookStatus)

# Position.mode values (Gate: single / dual_long / dual_short)
SINGLE = "single"
DUAL_LONG = "dual_long"
DUAL_SHORT = "dual_short"
LONG = "long"
SHORT = "short"


class AccountEvent(Event, gc=False):
    """Base of account events (``gc=False`` as every event: they cannot be part of a reference
    cycle). Units: every money value and quantity is an exact
    ``decimal.Decimal`` read from the venue's text; quantities in the base currency, with the
    raw contract count beside them on futures (``contracts``); a base quantity is ``None``
    where the venue's count cannot be turned into one (an inverse contract, an unknown
    multiplier) and ``None`` is never a zero. ``exchange_ts`` is ``None`` when the venue gave no
    time, and on ``AccountStatus`` (raised locally like every status event).
    ``symbol``/``venue_symbol`` are empty for account-wide events (balances, status)."""


class Order(AccountEvent, tag="order"):
    """The state of one own order after an update (not a delta).

    - ``status``: :class:`OrderStatus`; ``raw_status``: the venue's own value(s) that decided it
      (Gate spot ``event/finish_as``, ``finish/filled``; futures ``status/finish_as``);
    - ``price``: limit price (quote currency), ``None`` for a market order;
    - ``amount``: order size in base currency; ``None`` when the venue states it in the quote
      currency (a Gate spot market buy: then ``quote_amount``) or in contracts it cannot convert;
    - ``filled``/``left``: base currency executed / still to execute (``left`` in quote currency
      is ``quote_left``, for a market buy); ``filled_quote``: quote currency executed;
    - ``contracts``/``filled_contracts``/``left_contracts``: futures counts (unsigned);
    - ``avg_price``: average fill price; ``fee`` in ``fee_currency`` (cumulative);
    - ``created_ts``/``updated_ts``: ms; ``update_id``: the venue's per-order sequence if any;
    - ``side``: ``buy``/``sell`` (futures: ``close`` for a close-position order of size 0), or
      ``unknown`` for a value the venue added later, kept in ``raw_side`` (else ``None``).
    """

    order_id: str
    side: str
    order_type: str
    status: OrderStatus
    raw_status: str
    price: Decimal | None = None
    amount: Decimal | None = None
    filled: Decimal | None = None
    left: Decimal | None = None
    quote_amount: Decimal | None = None
    quote_left: Decimal | None = None
    filled_quote: Decimal | None = None
    contracts: Decimal | None = None
    filled_contracts: Decimal | None = None
    left_contracts: Decimal | None = None
    avg_price: Decimal | None = None
    fee: Decimal | None = None
    fee_currency: str | None = None
    client_order_id: str | None = None
    time_in_force: str | None = None
    reduce_only: bool | None = None
    created_ts: int | None = None
    updated_ts: int | None = None
    update_id: int | None = None
    raw_side: str | None = None


class Fill(AccountEvent, tag="fill"):
    """One own trade (maker or taker). ``amount`` base currency (``None`` when not convertible),
    ``contracts`` the unsigned futures count, ``price`` quote currency, ``role``
    ``maker``/``taker`` (``None`` when not sent), ``fee`` in ``fee_currency``; ``side``
    ``buy``/``sell``, or ``unknown`` with the venue's value in ``raw_side``."""

    trade_id: str
    order_id: str
    side: str
    price: Decimal
    amount: Decimal | None = None
    contracts: Decimal | None = None
    role: str | None = None
    fee: Decimal | None = None
    fee_currency: str | None = None
    client_order_id: str | None = None
    raw_side: str | None = None


class Balance(AccountEvent, tag="balance"):
    """The balance of one currency after a change: ``total`` = ``available`` + ``frozen`` as the
    venue states them (a field the venue does not send is ``None``, never derived); ``change``
    the signed change that caused the update and ``change_type`` the venue's reason when sent;
    ``frozen_change`` the signed change of ``frozen`` where the venue states it apart (MEXC
    ``frozenAmountChange``; ``change`` is then the change of ``available``).
    ``symbol``/``venue_symbol`` are empty."""

    currency: str
    total: Decimal | None = None
    available: Decimal | None = None
    frozen: Decimal | None = None
    change: Decimal | None = None
    change_type: str | None = None
    frozen_change: Decimal | None = None


class Position(AccountEvent, tag="position"):
    """One futures position after an update. Keyed by (``symbol``, ``mode``): ``mode``
    ``single``, ``dual_long`` or ``dual_short``. ``contracts`` is the signed contract count
    (< 0 short), ``size`` the signed base-currency size (``None`` when not convertible),
    ``side`` ``long``/``short`` (for a closed position: the side it had). ``closed`` is true
    when the size went to 0; the position then leaves the account state. Prices quote currency,
    ``margin`` and pnl in the settle currency; ``leverage`` 0 = cross."""

    mode: str
    side: str | None
    contracts: Decimal
    size: Decimal | None = None
    entry_price: Decimal | None = None
    mark_price: Decimal | None = None
    liq_price: Decimal | None = None
    margin: Decimal | None = None
    leverage: Decimal | None = None
    realised_pnl: Decimal | None = None
    unrealised_pnl: Decimal | None = None
    update_id: int | None = None
    closed: bool = False


class AccountStatus(AccountEvent, tag="account_status"):
    """State of an account stream: ``seeding`` (first REST snapshot loading, pushes buffered),
    ``live``, ``reconciling`` (after a reconnect: snapshot and missed changes loading),
    ``auth_failed`` (the venue refused the credentials; ``code``/``message`` are the venue's,
    nothing is retried until the user acts), ``refused`` (the venue refused a private
    subscription for another reason, e.g. a wrong user id; ``message`` names the refused
    channels with the venue's text; not retried either) or ``stale`` (disconnected, or closed).
    ``reason`` is a short machine-readable cause."""

    status: str
    reason: str = ""
    code: str = ""
    message: str = ""


class AccountNotice(AccountEvent, tag="account_notice"):
    """Another account happening the venue reports on its own channel: ``kind``
    ``liquidation``, ``auto_deleverage``, ``position_close`` or ``trigger_order``, with the
    values it carries (quote-currency prices, signed ``contracts``, base ``size`` where
    convertible, ``pnl`` in the settle currency, ``status`` for trigger orders)."""

    kind: str
    order_id: str | None = None
    side: str | None = None
    price: Decimal | None = None
    contracts: Decimal | None = None
    size: Decimal | None = None
    pnl: Decimal | None = None
    status: str | None = None
    detail: str = ""


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
