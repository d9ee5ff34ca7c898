"""Market-data events and the base of every event (see :mod:`cexfeed.models` for the units,
which names every event; import them from there)."""

from __future__ import annotations

import msgspec

from ..wire import UNKNOWN_SIDE

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
