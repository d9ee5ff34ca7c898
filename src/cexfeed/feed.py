"""The user-facing live client.

::

    feed = Feed("gateio-spot", ["BTC/USDT", "ETH/USDT"], ["book", "trades", "bbo", "ticker"])
    await feed.start()
    async for event in feed.events():      # or Feed(..., on_event=callback)
        ...
    feed.book("BTC/USDT").top_bids(5)
    await feed.close()

Events are :mod:`cexfeed.models` structs (``Trade``, ``BestBidOffer``, ``BookUpdate``,
``Ticker``, ``Kline``, ``BookStatus``, ``VenueError``, and the status events
``ConnectionStatus``, ``StreamStatus``, ``EventsDropped``). ``on_event`` is called inline on the
read loop (must not block).

Slow consumers: :meth:`Feed.events` reads a bounded queue (``queue_size``). When it is full the
oldest event is dropped (the read loop never waits for the consumer) and counted
(``stats()["dropped"]``); the next event the consumer reads is preceded by one
``EventsDropped`` saying how many went and which books had updates among them. The local books
are never affected: ``feed.book(symbol)`` is always the current book, so a consumer that fell
behind reads those books again instead of replaying deltas. :meth:`Feed.batches` gives the same
events a list at a time; how the hand-off works: :mod:`cexfeed.delivery`.

The instrument list: :meth:`Feed.start` loads it first and checks every symbol against it
(:func:`cexfeed.symbols.resolve_symbols`). When it cannot be fetched the feed still starts:
symbols are checked by form only, the REST failure is reported (``ConnectionStatus``
``rest``/``failed`` and a warning), and the list is fetched again in the background with a
capped, jittered backoff until it arrives; then every handler gets it, symbols it does not list
are reported (``StreamStatus`` ``unlisted``), and futures pushes held for want of a contract
multiplier are released (``StreamStatus`` ``held``/``released``).

The older strategy architecture (:mod:`cexfeed.compat`) runs behind the same class:
:func:`cexfeed.architecture.open_feed` picks ``direct`` or ``strategy`` per venue from the
configuration.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from .book import L2Book
from .channels import UnknownChannel
from .delivery import EventDelivery
from .handlers import PublicWebSocketHandler
from .models import FAILED, ConnectionStatus, Event, StreamStatus, encode_event
from .net.backoff import Backoff
from .net.requests import AckResult
from .net.pool import ConnectionPool
from .net.protocol import Subscription, VenueProtocol
from .net.rest import RestClient, RestError
from .net.tap import FEED, STATUS, Tap
from .symbols import SymbolError, SymbolMap, resolve_symbols
from .venues import protocol_class

if TYPE_CHECKING:  # pragma: no cover
    from .sinks import Sink

log = logging.getLogger("cexfeed.feed")

DEFAULT_CHANNELS = ("book", "trades", "bbo", "ticker")


async def load_symbol_map(protocol: VenueProtocol, rest: Any, venue: str) -> SymbolMap:
    """The venue's instrument list through ``rest`` (a :class:`RestClient`, or a recorded
    one in replay); the protocol's pattern-based map when it cannot be had (logged)."""
    try:
        return await protocol.fetch_symbols(rest)
    except Exception as exc:  # name splitting still works; say so once
        log.warning("%s: instrument list unavailable (%s); mapping names by pattern", venue, exc)
        return protocol.default_symbols()


async def check_symbols(venue: str, symbols: Sequence[str], rest_url: str | None = None, protocol_options: dict[str, Any] | None = None) -> None:
    """Check ``symbols`` against ``venue``'s instrument list, every name at once: raises one
    :class:`~cexfeed.symbols.SymbolError` naming each bad one (form, market, listed,
    tradable), with hints from the list. Only the form is checked when the list cannot be had.
    What ``Feed(...)`` (forms) and :meth:`Feed.start` (listed) check in two steps, for a caller
    that wants a single answer (``cexfeed stream``)."""
    protocol = protocol_class(venue)(None, rest_url, **(protocol_options or {}))
    rest = RestClient(protocol.rest_url, headers=protocol.headers, timeout=5.0, retries=1)
    try:
        smap = await protocol.fetch_symbols(rest)
        listed = True
    except Exception:  # no list: the forms alone
        smap, listed = protocol.default_symbols(), False
    finally:
        await rest.close()
    resolve_symbols(symbols, smap, venue=venue, market=protocol.table.market, settle=getattr(protocol, "settle", None), listed=listed)


class Feed(EventDelivery):
    """Live market data of one venue stream.

    Parameters
      ``venue``            registry name (``gateio-spot``; see :mod:`cexfeed.venues`)
      ``symbols``          unified names (``BTC/USDT``; perpetuals ``BTC/USDT:USDT``, or
                           ``BTC/USDT`` for the venue's settle currency), checked against the
                           venue's instrument list (Gate REST ``/spot/currency_pairs``)
      ``channels``         ``book``, ``trades``, ``bbo``, ``ticker``, ``kline`` (venue permitting)
      ``url``/``rest_url`` override the venue's production endpoints (e.g. the simulator)
      ``on_event``         sync callback per event (inline; exceptions are counted, not raised)
      ``queue_size``       bound of the :meth:`events` queue (see the module docstring)
      ``no_data_timeout``  s without any frame before a connection is dropped and reopened
      ``subscription_timeout`` s without anything on one subscription (since its ack or its
                           last push) before it is reported (``StreamStatus`` ``no_data``);
                           ``None``: never
      ``ping_interval``    s between app-level pings (default: the venue's)
      ``ack_timeout``      s to wait for each subscribe ack
      ``handshake_timeout`` s a WebSocket opening handshake may take before the attempt counts
                           as failed (``timeout``) and is retried
      ``load_symbols``     fetch the instrument list at start (else names are checked by form
                           only, and a perpetual feed holds its sized pushes until
                           :meth:`set_symbols` gives the contract list)
      ``instrument_retry`` makes the :class:`Backoff` of the instrument-list retries
      ``protocol``         a ready :class:`VenueProtocol` instead of ``venue``/``url``/``rest_url``
      ``protocol_options`` extra keyword arguments of the venue protocol (Gate: ``book_interval``)
      ``max_subscriptions`` per-connection cap override (``None``: the venue's)
      ``tap``              a recorder (:class:`cexfeed.record.Recorder`, any
                           :class:`~cexfeed.net.tap.Tap`) told every frame, request, REST
                           response and connection event of this feed
      ``sinks``            :class:`cexfeed.sinks.Sink` s every event is also submitted to
                           (started and closed with the feed; see :mod:`cexfeed.sinks`)
    """

    def __init__(
        self,
        venue: str = "gateio-spot",
        symbols: Sequence[str] = ("BTC/USDT",),
        channels: Sequence[str] = DEFAULT_CHANNELS,
        *,
        url: str | None = None,
        rest_url: str | None = None,
        on_event: Callable[[Event], None] | None = None,
        queue_size: int = 10_000,
        no_data_timeout: float = 30.0,
        ping_interval: float | None = None,
        ack_timeout: float = 5.0,
        load_symbols: bool = True,
        protocol: VenueProtocol | None = None,
        protocol_options: dict[str, Any] | None = None,
        max_subscriptions: int | None = None,
        reconnect_backoff: Callable[[], Backoff] | None = None,
        snapshot_wait: float = 1.0,
        tap: Tap | None = None,
        sinks: Sequence["Sink"] = (),
        subscription_timeout: float | None = 60.0,
        instrument_retry: Callable[[], Backoff] | None = None,
        handshake_timeout: float = 10.0,
    ) -> None:
        self.venue = venue
        self.symbols = list(symbols)
        self.channels = list(channels)
        for value, schemes, what in ((url, ("ws://", "wss://"), "url"), (rest_url, ("http://", "https://"), "rest_url")):
            if value is not None and not value.startswith(schemes):
                raise ValueError(f"{what} must start with {' or '.join(schemes)}: {value!r}")
        self.protocol = protocol or protocol_class(venue)(url, rest_url, **(protocol_options or {}))
        if not self.channels:
            raise ValueError(f"{venue}: no channel given; this venue has {list(self.protocol.channels)}")
        unknown = [c for c in channels if c not in self.protocol.channels]
        if unknown:
            raise UnknownChannel(f"{venue}: unknown channel(s) {unknown}; this venue has {list(self.protocol.channels)}")
        self.protocol.subscriptions(self.channels, ())  # two book channels, or bbo and bbo_batch: refused before any network call
        self.rest = RestClient(self.protocol.rest_url, headers=self.protocol.headers, tap=tap)
        self._tap = tap
        if tap is not None:
            tap.describe(
                {
                    "venue": venue,
                    "ws_url": self.protocol.ws_url,
                    "rest_url": self.protocol.rest_url,
                    "symbols": self.symbols,
                    "channels": self.channels,
                    "protocol_options": dict(protocol_options or {}),
                }
            )
        self.rest.on_state = self._rest_state
        self.load_symbols = load_symbols
        self.symbol_map: SymbolMap = self.protocol.default_symbols()
        # whether symbol_map is the venue's instrument list (else names map by pattern)
        self.listed = False
        # the form of every name is checked now, before any network call (raises SymbolError)
        self._venue_of = self._resolve(self.symbols)
        self._init_delivery(on_event, queue_size, sinks)
        self.ack_results: list[AckResult] = []
        self._subs: list[Subscription] = []
        self._pool = ConnectionPool(
            self.protocol,
            self._make_handler,
            self.rest,
            max_subscriptions=max_subscriptions,
            backoff=reconnect_backoff,
            no_data_timeout=no_data_timeout,
            ping_interval=ping_interval,
            ack_timeout=ack_timeout,
            handshake_timeout=handshake_timeout,
            snapshot_wait=snapshot_wait,
            tap=tap,
            subscription_timeout=subscription_timeout,
        )
        self._instrument_retry = instrument_retry or (lambda: Backoff(initial=1.0, cap=60.0))
        self._instruments_task: asyncio.Task | None = None
        self._depth = 100
        for sink in self.sinks:
            sink.bind_resync(venue, self.resync)

    # -- wiring --------------------------------------------------------------------------------
    def _make_handler(self) -> PublicWebSocketHandler:
        return self.protocol.make_handler(self._dispatch, self.symbol_map, self._depth)

    def _report(self, event: Event) -> None:
        """Deliver a status event the feed raised itself, and record it (a replay delivers it
        again in its place)."""
        self._dispatch(event)
        if self._tap is not None:
            self._tap.event(FEED, STATUS, event.recv_ts, {"event": encode_event(event).decode()})

    def _rest_state(self, status: str, reason: str, detail: str) -> None:
        """The REST endpoint started failing, or works again: tell the consumer."""
        level = logging.WARNING if status == FAILED else logging.INFO
        log.log(level, "%s: REST endpoint %s %s%s%s", self.venue, self.rest.base_url, status, f" ({reason})" if reason else "",
                f": {detail}" if detail else "")
        self._report(self._local(ConnectionStatus, connection="rest", status=status, reason=reason, detail=detail, url=self.rest.base_url))

    def _resolve(self, symbols: Iterable[str]) -> dict[str, str]:
        table = self.protocol.table
        settle = getattr(self.protocol, "settle", None)
        return resolve_symbols(symbols, self.symbol_map, venue=self.venue, market=table.market, settle=settle, listed=self.listed)

    def _venue(self, symbol: str) -> str:
        venue_symbol = self._venue_of.get(symbol)
        return venue_symbol if venue_symbol is not None else self.symbol_map.to_venue(symbol)

    async def _load_instruments(self) -> None:
        try:
            smap = await self.protocol.fetch_symbols(self.rest)
        except Exception as exc:
            self._instruments_failed(exc)
            self._instruments_task = asyncio.get_running_loop().create_task(self._retry_instruments(), name=f"cexfeed:{self.venue}:instruments")
            return
        self.symbol_map = smap
        self.listed = True

    def _instruments_failed(self, exc: BaseException) -> None:
        held = " and futures sizes held" if self.protocol.table.market == "perp" else ""
        log.warning("%s: instrument list unavailable from %s (%s); symbols checked by form only%s until it arrives; retrying",
                    self.venue, self.rest.base_url, exc, held)
        if not isinstance(exc, RestError):  # a REST failure is reported by the client itself
            self._report(self._local(ConnectionStatus, connection="rest", status=FAILED, reason="bad_body",
                                       detail=f"instrument list: {exc}", url=self.rest.base_url))

    async def _retry_instruments(self) -> None:
        backoff = self._instrument_retry()
        while not self._closed:
            await asyncio.sleep(backoff.next())
            try:
                smap = await self.protocol.fetch_symbols(self.rest)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("%s: instrument list still unavailable: %s", self.venue, exc)
                continue
            self.set_symbols(smap)
            return

    def set_symbols(self, smap: SymbolMap) -> None:
        """Install the venue's instrument list (it arrived after the start, or comes from
        elsewhere): every handler gets it (held futures pushes are released), and symbols it
        does not list are reported (``StreamStatus`` ``unlisted`` and a warning)."""
        self.symbol_map = smap
        self.listed = True
        self.protocol.set_symbols(smap)
        log.info("%s: instrument list loaded (%d instruments)", self.venue, len(smap))
        for conn in self._pool.connections:
            conn.handler.set_symbols(smap)
        for symbol in self.symbols:
            try:
                self._resolve([symbol])
            except SymbolError as exc:
                log.warning("%s: %s", self.venue, exc)
                self._report(self._local(StreamStatus, symbol=symbol, venue_symbol=self._venue(symbol), channel="",
                                           status="unlisted", reason="unlisted", detail=str(exc)))

    # -- public API ----------------------------------------------------------------------------
    async def start(self, timeout: float = 15.0) -> list[AckResult]:
        """Load the instrument list, check the symbols against it, connect, subscribe, and
        wait (up to ``timeout`` s) for the acks. Returns the :class:`AckResult` of each
        subscription; refusals and timeouts are also delivered as ``VenueError`` events.
        Raises :class:`~cexfeed.symbols.SymbolError` (a ``ValueError``) naming every symbol
        the venue does not serve, with a hint. When the list cannot be fetched the feed starts
        anyway (see the module docstring)."""
        for sink in self.sinks:
            await sink.start()
        if self.load_symbols:
            await self._load_instruments()
            if self.listed:
                self._venue_of = self._resolve(self.symbols)
        self._subs = self.protocol.subscriptions(self.channels, [self._venue_of[s] for s in self.symbols])
        for sub in self._subs:
            if self.protocol.is_book(sub):
                self._depth = self.protocol.book_depth(sub)
        task = asyncio.ensure_future(self._pool.subscribe(self._subs))
        try:
            self.ack_results = await asyncio.wait_for(asyncio.shield(task), timeout)
        except asyncio.TimeoutError:
            log.warning("%s: not all subscriptions acknowledged within %.1f s; continuing", self.venue, timeout)
            self.ack_results = []
        return self.ack_results

    def book(self, symbol: str) -> L2Book | None:
        """The local book of ``symbol`` (unified), or ``None`` when not subscribed. It is the
        current book (not the book as of the last event you read); use it only while
        :meth:`synced` is true (a ``BookStatus`` event says when that changes)."""
        venue_symbol = self._venue(symbol)
        handler = self._pool.book_handler(venue_symbol)
        if handler is None:
            return None
        seq = handler.books.get(venue_symbol)
        return seq.book if seq is not None else None

    def synced(self, symbol: str) -> bool:
        venue_symbol = self._venue(symbol)
        handler = self._pool.book_handler(venue_symbol)
        seq = handler.books.get(venue_symbol) if handler is not None else None
        return bool(seq is not None and seq.synced)

    def sequencer(self, symbol: str):
        """The :class:`~cexfeed.book.BookSequencer` of ``symbol`` (counters), or ``None``."""
        venue_symbol = self._venue(symbol)
        handler = self._pool.book_handler(venue_symbol)
        return handler.books.get(venue_symbol) if handler is not None else None

    def resync(self, symbol: str, reason: str = "requested") -> bool:
        """Drop the local book of ``symbol`` (unified) and fetch it again: a ``resyncing``
        ``BookStatus`` now, a snapshot ``BookUpdate`` when it is back. False when the book is
        not subscribed or not synced. Sinks call it after dropping one of its book events."""
        venue_symbol = self.symbol_map.to_venue(symbol)
        handler = self._pool.book_handler(venue_symbol)
        return bool(handler is not None and handler.resync_book(venue_symbol, reason, "events of this book were lost downstream"))

    @property
    def connections(self):
        return self._pool.connections

    def stats(self) -> dict[str, Any]:
        """Counters: events, queue ``dropped``/``queued``, per-connection state and counters,
        handler frames/events/errors summed, per-symbol book counters, REST attempts and
        failures."""
        connections = self._pool.stats()
        errors: dict[str, int] = {}
        frames = 0
        for conn in connections:
            frames += conn["handler"]["frames"]
            for kind, n in conn["handler"]["errors"].items():
                errors[kind] = errors.get(kind, 0) + n
        books = {}
        for symbol in self.symbols:
            seq = self.sequencer(symbol)
            if seq is not None:
                books[symbol] = {
                    "synced": seq.synced,
                    "last_update_id": seq.book.last_update_id,
                    "deltas_applied": seq.deltas_applied,
                    "deltas_dropped_stale": seq.deltas_dropped_stale,
                    "resyncs": seq.resyncs,
                    "snapshots": seq.snapshots,
                }
        return {
            "venue": self.venue,
            "events": self.events_total,
            "dropped": self.dropped,
            "queued": self.queued,
            "frames": frames,
            "errors": errors,
            "connections": connections,
            "books": books,
            # REST calls (snapshots, instruments): attempts made, and attempts that failed (retried or not)
            "rest": {"requests": self.rest.requests, "failures": self.rest.failures},
            "sinks": [sink.stats() for sink in self.sinks],
        }

    async def subscribe(self, symbols: Iterable[str], channels: Iterable[str]) -> list[AckResult]:
        """Add streams to a running feed. Raises :class:`~cexfeed.symbols.SymbolError` like
        :meth:`start`, and ``ValueError`` for a book channel of a symbol whose book already
        comes from another book channel or depth (one book per symbol: unsubscribe it first)."""
        symbols = list(symbols)
        resolved = self._resolve(symbols)
        venue_symbols = [resolved[s] for s in symbols]
        subs = self.protocol.subscriptions(list(channels), venue_symbols, self._subs)
        self._venue_of.update(resolved)
        self._subs.extend(s for s in subs if s not in self._subs)
        for s in symbols:
            if s not in self.symbols:
                self.symbols.append(s)
        return await self._pool.subscribe(subs)

    async def unsubscribe(self, symbols: Iterable[str], channels: Iterable[str]) -> list[AckResult]:
        """Remove streams from a running feed. An unsubscribed book is forgotten at once
        (``book()`` is ``None``, pushes still in flight are dropped); subscribing it again
        starts from a new snapshot."""
        venue_symbols = [self._venue(s) for s in symbols]
        subs = self.protocol.subscriptions(list(channels), venue_symbols)
        self._subs = [s for s in self._subs if s not in subs]
        return await self._pool.unsubscribe(subs)

    async def close(self) -> None:
        """Close every connection gracefully and the REST session."""
        self._closed = True
        if self._instruments_task is not None:
            self._instruments_task.cancel()
        await self._pool.close()
        await self.rest.close()
        for sink in self.sinks:
            await sink.close()
