"""What a venue module supplies to the network core (the "protocol" object).

The core (:mod:`cexfeed.net.connection`, :mod:`cexfeed.net.pool`) knows nothing about any venue:
URLs, handshake headers, the heartbeat frame, request frames, REST snapshots and the handler
class all come from a :class:`VenueProtocol` subclass living in ``exchanges/<venue>/``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Iterable, NamedTuple, Sequence

import msgspec

from ..channels import BOOK_REST, Channel, Table
from ..symbols import SymbolMap

if TYPE_CHECKING:  # pragma: no cover
    from ..account import AccountSnapshot, AccountState
    from ..credentials import Credentials
    from ..handlers import EventCallback, PrivateWebSocketHandler, PublicWebSocketHandler
    from .clock import ServerClock
    from .rest import RestClient, RestError


class Subscription(NamedTuple):
    """One stream of one symbol: ``channel`` is our channel name (``book``, ``trades``,
    ``bbo``, ``ticker``, ``kline``, or a venue's extra ones), ``venue_symbol`` the venue's name
    (``BTC_USDT``), ``params`` venue parameters (Gate book interval ``("100ms",)``, kline
    interval ``("1m",)``). Hashable: the core keeps the current set of these."""

    channel: str
    venue_symbol: str
    params: tuple[str, ...] = ()


class Snapshot(msgspec.Struct):
    """A REST order-book snapshot, normalized: ``bids``/``asks`` ``[price, size]`` best first
    (price quote currency, size base currency), ``update_id`` the venue sequence id the book
    is taken at, ``exchange_ts`` ms (``None`` when the venue sends none)."""

    venue_symbol: str
    update_id: int
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    exchange_ts: int | None = None


class SnapshotError(Exception):
    """A snapshot body that cannot be used (e.g. no sequence id). Never retried as is."""


class VenueProtocol:
    """Base class of a venue stream's protocol; subclasses fill in the class attributes and
    the methods marked "must override". Channels, subscriptions, book kinds and ack matching
    come from the market's channel :attr:`table` (:mod:`cexfeed.channels`).

    Class attributes:
      ``name``                 registry name (``gateio-spot``)
      ``table``                the market's :class:`~cexfeed.channels.Table`
      ``ws_url``/``rest_url``  production endpoints (the constructor can override both)
      ``headers``              extra handshake (and REST) headers, e.g. ``X-Gate-Size-Decimal``
      ``ping_interval``        seconds between app-level pings (``ping_frame``)
      ``max_subscriptions``    subscriptions one connection may hold (``None`` = unlimited);
                               the pool opens more connections beyond it (MEXC: 30)
      ``rest_snapshots``       False turns off REST snapshots for ``rest`` book rows (tests)
      ``settle``               perpetuals: the settle currency of the contracts (``USDT``)

    Instance attributes set by subclasses' constructors: ``options`` (our channel name -> the
    parameter values given, the rest defaulting from the row) and ``renames`` (our channel name
    -> the one it stands for, e.g. Gate ``book`` -> ``book_obu`` in obu mode).
    """

    name: str = ""
    table: Table | None = None
    ws_url: str = ""
    rest_url: str = ""
    headers: dict[str, str] = {}
    ping_interval: float = 10.0
    max_subscriptions: int | None = None
    rest_snapshots: bool = True
    # the settle currency of a perpetual stream's contracts (None on spot)
    settle: str | None = None
    # an authenticated account stream: its channels are the table's private rows
    private: bool = False

    def __init__(self, ws_url: str | None = None, rest_url: str | None = None) -> None:
        if ws_url:
            self.ws_url = ws_url
        if rest_url:
            self.rest_url = rest_url
        self.options: dict[str, tuple[str, ...]] = {}
        self.renames: dict[str, str] = {}

    @property
    def channels(self) -> tuple[str, ...]:
        """Our channel names this protocol accepts (from the table: its public rows, or its
        private rows on an account stream)."""
        if self.table is None:
            return ()
        return self.table.private_names if self.private else self.table.names

    def set_option(self, channel: str, *values: str) -> None:
        """Parameters of our channel ``channel`` (in the row's order). Raises ``ValueError`` for
        a value outside the row's choices."""
        self.table.params(channel, values)  # type: ignore[union-attr]
        self.options[channel] = tuple(str(v) for v in values)

    def row(self, sub: Subscription) -> Channel:
        """The table row of a subscription. Raises ``ValueError`` for an unknown channel."""
        return self.table.row(sub.channel, self.private)  # type: ignore[union-attr]

    # -- requests ------------------------------------------------------------------------------
    def request(self, row: Channel, sub: Subscription, event: str, request_id: int) -> bytes:
        """The text frame of ``event`` (``subscribe``/``unsubscribe``) for ``sub`` (must override)."""
        raise NotImplementedError

    def subscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        """The text frame that subscribes ``sub``, carrying ``request_id`` (int32)."""
        return self.request(self.row(sub), sub, "subscribe", request_id)

    def unsubscribe_frame(self, sub: Subscription, request_id: int) -> bytes:
        """The text frame that unsubscribes ``sub``."""
        return self.request(self.row(sub), sub, "unsubscribe", request_id)

    def ack_channel(self, sub: Subscription) -> str:
        """What the handler passes as ``channel`` to ``hooks.on_ack`` for this subscription
        (the venue channel, templates filled in); used to match an ack that carries no request
        id (MEXC may answer ``"id":0``)."""
        return self.table.channel(self.row(sub), sub.venue_symbol, sub.params)  # type: ignore[union-attr]

    def ping_frame(self) -> bytes | None:
        """The app-level ping text frame, or ``None`` for none."""
        return None

    def already_subscribed(self, message: str) -> bool:
        """Whether a refused subscribe's ``message`` means the venue holds the stream already
        (then it is kept as acked). None by default."""
        return False

    def session_refusal(self, message: str) -> bool:
        """Whether a refused subscribe's ``message`` refuses the session rather than the channel
        (MEXC: an empty answer on a listenKey that is no longer valid); the subscription then
        stays in the set and is replayed on the next session. None by default."""
        return False

    def redact(self, text: str) -> str:
        """``text`` without secrets (credentials, a session token in the URL) before it is
        logged or reported; unchanged by default."""
        return text

    def ws_logger(self) -> Any:
        """What the WebSocket library logs through: a logger name, or a logger-like object
        (a private stream's removes its secrets, :class:`RedactingLogger`)."""
        return "cexfeed"

    # -- subscriptions ---------------------------------------------------------------------
    def subscriptions(self, channels: Iterable[str], venue_symbols: Iterable[str], held: Iterable[Subscription] = ()) -> list[Subscription]:
        """One subscription per (table row, symbol), parameters from :attr:`options` and the
        row's defaults; names served by one row (aliases) subscribe once, under the row's name.
        Raises ``ValueError`` for an unknown channel or for two book channels (one book per
        symbol, at one depth): in one call, or beside a book subscription of the same symbol
        among ``held`` (the subscriptions a running feed holds) that is another channel or
        depth; the same for two rows of one ``exclusive`` group (MEXC ``bbo``/``bbo_batch``)."""
        table = self.table
        if table is None:
            raise ValueError(f"{self.name}: no channel table")
        rows: list[Channel] = []
        for name in channels:
            row = table.row(self.renames.get(name, name), self.private)
            if row not in rows:
                rows.append(row)
        books = [row.name for row in rows if row.book]
        if len(books) > 1:
            kinds = ", ".join(f"{r.name!r} ({r.venue_channel}, {r.book})" for r in table.books())
            raise ValueError(f"{self.name}: one book channel per symbol, one of {kinds}; got {books}")
        symbols = list(venue_symbols)
        out = []
        for row in rows:
            params = table.params(row.name, self.options.get(row.name, ()))
            out.extend(Subscription(row.name, s, params) for s in symbols)
        groups = [row for row in rows if row.exclusive]
        for row in groups:
            same = [r.name for r in groups if r.exclusive == row.exclusive]
            if len(same) > 1:
                raise ValueError(f"{self.name}: {' and '.join(map(repr, same))} deliver the same {row.exclusive} events; "
                                 f"subscribe one of them per symbol (both would publish every quote twice)")
        held_books = {sub.venue_symbol: sub for sub in held if table.get(sub.channel) is not None and table.get(sub.channel).book}
        held_groups = {}
        for sub in held:
            row = table.get(sub.channel)
            if row is not None and row.exclusive:
                held_groups[(sub.venue_symbol, row.exclusive)] = sub
        for sub in out:
            row = self.row(sub)
            other = held_books.get(sub.venue_symbol)
            if other is not None and other != sub and row.book:
                raise ValueError(
                    f"{self.name}: {sub.venue_symbol} already has a book from {other.channel!r} {other.params}; one book per symbol "
                    f"at one depth: unsubscribe it before subscribing {sub.channel!r} {sub.params}"
                )
            other = held_groups.get((sub.venue_symbol, row.exclusive)) if row.exclusive else None
            if other is not None and other.channel != sub.channel:
                raise ValueError(f"{self.name}: {sub.venue_symbol} already has {row.exclusive} events from {other.channel!r}; "
                                 f"unsubscribe it before subscribing {sub.channel!r}")
        return out

    def is_book(self, sub: Subscription) -> bool:
        """Whether ``sub`` feeds the handler's book sequencer."""
        return bool(self.row(sub).book)

    def snapshot_via_rest(self, sub: Subscription) -> bool:
        """Whether the book of ``sub`` is seeded by a REST snapshot after the subscribe ack
        (a ``rest`` book row); False means the stream sends its own full push and a broken book
        is recovered by unsubscribe + subscribe."""
        return self.rest_snapshots and self.row(sub).book == BOOK_REST

    def book_depth(self, sub: Subscription) -> int:
        """Levels per side the book subscription maintains (and the snapshot limit)."""
        return 100

    # -- handler and REST ------------------------------------------------------------------
    def make_handler(self, on_event: "EventCallback | None", symbols: SymbolMap, depth: int) -> "PublicWebSocketHandler":
        """A fresh handler for one connection (must override)."""
        raise NotImplementedError

    def default_symbols(self) -> SymbolMap:
        """A name map used when the instrument list cannot be fetched (must override)."""
        raise NotImplementedError

    def set_symbols(self, symbols: SymbolMap) -> None:
        """The instrument list the feed now uses (a protocol that needs it for REST snapshots
        keeps it). Nothing by default."""

    async def fetch_symbols(self, rest: "RestClient") -> SymbolMap:
        """The venue's instrument list as a :class:`SymbolMap`. Raises ``RestError``."""
        return self.default_symbols()

    async def fetch_snapshot(self, rest: "RestClient", venue_symbol: str, depth: int) -> Snapshot:
        """A REST book snapshot at ``depth`` levels. Raises ``RestError`` (transport, already
        retried) or :class:`SnapshotError` (unusable body)."""
        raise NotImplementedError


class PrivateProtocol(VenueProtocol):
    """An authenticated account stream as seen by the network core (venue-free contract: Gate
    spot and futures, MEXC spot). Its channels are the table's private rows.

    Instance attributes: ``credentials`` (:class:`~cexfeed.credentials.Credentials`), ``clock``
    (:class:`~cexfeed.net.clock.ServerClock`, server time for signatures).

    What a venue supplies:

    - :meth:`request` builds (and signs) a request frame when called; the core calls it at the
      moment each frame is sent, replays after a reconnect included, so no signed frame is
      ever reused;
    - :meth:`sign_rest` returns the headers of a signed REST request (called per attempt);
    - :meth:`server_time_ms` reads the venue's clock (for ``clock``);
    - :meth:`prepare` runs before the first connect and again before each reconnect's replay
      (MEXC: create or keep alive the listenKey and point ``ws_url`` at it); nothing by default;
    - :meth:`fetch_account` loads the REST :class:`~cexfeed.account.AccountSnapshot`, given the
      current state (whose open orders say what to ask for) and the time from which missed
      trades are fetched;
    - :meth:`refusal` classifies a refused request or REST call: ``("auth", code, message)``
      (credentials refused: no retry), ``("clock", code, message)`` (the request time was
      outside the venue's window: measure the clock again and retry once) or ``None``;
    - :meth:`make_private_handler` builds the :class:`~cexfeed.handlers.PrivateWebSocketHandler`;
    - a stream whose connection rides on a session token (MEXC's listenKey) also supplies
      :meth:`renew_session` (a new token after the venue refused the old one), tells the account
      through :attr:`session_listener` when the token changed on its own (``("renew", reason,
      code, message)``: the account goes ``stale`` with that reason, reconnects at once and
      reconciles; ``("auth", reason, code, message)``: the credentials were refused), ends it in
      :meth:`close_session`, and may set :attr:`max_connection_age_s` (the account reconnects
      before the venue's connection lifetime runs out).
    """

    private = True
    #: seconds after which the account replaces its socket (``None``: never)
    max_connection_age_s: float | None = None
    #: set by the account: ``listener(kind, reason, code, message)`` (see the class docstring)
    session_listener: Callable[[str, str, str, str], None] | None = None
    #: venue symbols the account follows (set by :class:`~cexfeed.private_feed.Account`);
    #: empty: every symbol. :meth:`fetch_account` asks the REST history for these.
    followed: tuple[str, ...] = ()

    def __init__(self, ws_url: str | None = None, rest_url: str | None = None, *, credentials: "Credentials",
                 clock: "ServerClock | None" = None) -> None:
        from .clock import ServerClock

        super().__init__(ws_url, rest_url)
        self.credentials = credentials
        self.clock = clock if clock is not None else ServerClock()

    def sign_rest(self, method: str, path: str, query: str, body: bytes) -> dict[str, str]:
        """Headers of a signed REST request (must override)."""
        raise NotImplementedError

    async def server_time_ms(self, rest: "RestClient") -> int:
        """The venue's time in ms (must override). Raises ``RestError``."""
        raise NotImplementedError

    async def prepare(self, rest: "RestClient") -> None:
        """Before connecting (and before each reconnect): nothing by default."""

    async def fetch_account(self, rest: "RestClient", state: "AccountState", since_ms: int | None) -> "AccountSnapshot":
        """The REST snapshot of the account (must override): balances, open orders, positions,
        the final state of orders ``state`` holds open that are gone, and, since ``since_ms``
        (server ms; ``None``: none, on the first seeding), own trades and the orders that
        finished (of :attr:`followed` symbols): an order placed and ended while disconnected
        is reported too. Raises ``RestError`` or ``ValueError``/``msgspec`` errors on an
        unusable body."""
        raise NotImplementedError

    def refusal(self, message: str, code: int | str = 0) -> tuple[str, str, str] | None:
        """``(kind, code, message)`` of a venue refusal (``kind`` ``auth``, ``clock`` or ``key``:
        the session token was refused, see :meth:`renew_session`), or ``None`` for any other
        refusal."""
        return None

    async def renew_session(self, rest: "RestClient", reason: str, code: str, message: str, stale_url: str) -> bool:
        """Make new session data after the venue refused the session the socket at
        ``stale_url`` rode on; returns whether ``ws_url`` changed. Raises ``RestError``. None
        (False) by default."""
        return False

    async def close_session(self, rest: "RestClient") -> None:
        """The account closes: end the session (MEXC: delete the listenKey). Nothing by default."""

    def ws_logger(self) -> Any:
        return RedactingLogger(logging.getLogger("picows.cexfeed"), self.redact)

    def rest_refusal(self, error: "RestError") -> tuple[str, str, str] | None:
        """:meth:`refusal` of a failed REST call."""
        return None

    def redact(self, text: str) -> str:
        """``text`` without the credentials (for venue answers that echo a request)."""
        return self.credentials.scrub(text)

    def default_channels(self) -> tuple[str, ...]:
        """Our private channel names subscribed when none are given: every offered row."""
        return self.channels

    def make_private_handler(self, on_event: "EventCallback | None", symbols: SymbolMap, state: "AccountState") -> "PrivateWebSocketHandler":
        """A fresh private handler feeding ``state`` (must override)."""
        raise NotImplementedError


class RedactingLogger(logging.LoggerAdapter):
    """A logger for the WebSocket library that passes every line through ``redact`` (the
    library logs the upgrade request, URL path and query included)."""

    def __init__(self, logger: logging.Logger, redact: Callable[[str], str]) -> None:
        super().__init__(logger, {})
        self.redact = redact

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            text = str(msg) % args if args else str(msg)
            kwargs.pop("exc_info", None)  # a traceback could quote the URL: the line says what happened
            self.logger.log(level, "%s", self.redact(text), **kwargs)


def venue_symbols(smap: SymbolMap, symbols: Sequence[str]) -> list[str]:
    """Unified names -> venue names through ``smap``; raises ``KeyError`` for unknown ones."""
    return [smap.to_venue(s) for s in symbols]
