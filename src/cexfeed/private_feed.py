"""The user-facing account stream: :class:`Account`.

::

    account = Account("gateio-spot")          # keys from GATEIO_API_KEY / GATEIO_API_SECRET
    await account.start()                     # seeded from REST, then live
    async for event in account.events():      # Order, Fill, Balance, Position, AccountStatus ...
        ...
    account.balances()["USDT"].available
    account.open_orders(), account.positions()
    await account.close()

How the account stays right (venue-free; the venue's :class:`~cexfeed.net.PrivateProtocol`
supplies signatures and REST): the server clock is measured, the private channels are
subscribed first and their pushes buffered (``seeding``), the REST snapshot is loaded, the
buffered pushes are applied on top, and only then is the account ``live``. After every
reconnect the same happens (``stale`` -> ``reconciling`` -> ``live``), with the own trades and
the finished orders since the connection was lost fetched too, so each fill and order change
missed while disconnected (an order placed and canceled meanwhile included) is published
exactly once. While live the same reconciliation also runs every ``reconcile_interval`` s
(``reconciling``/``periodic``, then ``live``): a venue that stops pushing while it still
answers pings loses no fill for longer than that. A refused key or signature publishes
``auth_failed`` and nothing is retried; any other refusal of a private subscription (a wrong
user id, a channel the key may not use) publishes ``refused`` with the venue's text and the
account is never ``live`` (its state would miss that channel's changes); a refused request time
(clock skew) measures the clock again and retries once; a REST failure while reconciling is
retried with capped backoff, pushes buffering meanwhile.

A stream whose socket rides on a session token (MEXC's listenKey, kept by the protocol) is
told apart from a network loss: when the token is replaced (the venue refused it, its
keep-alive failed) the account publishes ``stale`` with the protocol's reason (``key_refused``,
``key_expired``), reconnects at once on the new token and reconciles (``reconciling`` with
reason ``key_changed``); before the venue's connection lifetime runs out
(``protocol.max_connection_age_s``) the socket is replaced (``rotate``) and reconciled the same
way; :meth:`Account.close` ends the session (deletes the key).

The keeping of the state (sessions, subscription answers, reconciliation) is
:class:`~cexfeed.account_sync.AccountSync`, a mixin of :class:`Account`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Sequence

from .account import AccountState
from .account_sync import AccountSync
from .credentials import Credentials
from .delivery import EventDelivery
from .handlers import PrivateWebSocketHandler
from .models import AUTH_FAILED, LIVE, REFUSED, AccountStatus, Balance, Event, Fill, Order, Position
from .net.backoff import Backoff
from .net.connection import WsConnection
from .net.requests import AckResult
from .net.protocol import PrivateProtocol
from .net.rest import RestClient, RestError
from .symbols import SymbolMap, resolve_symbols
from .venues import load, private_protocol_class, spec

log = logging.getLogger("cexfeed.account")


class Account(AccountSync, EventDelivery):
    """Live account state of one venue stream (``gateio-spot``, ``gateio-perp``, ``mexc-spot``).

    Parameters
      ``venue``              registry name with private streams
      ``credentials``        :class:`~cexfeed.credentials.Credentials`; default from the
                             environment (``GATEIO_API_KEY``, ``GATEIO_API_SECRET``, ``GATEIO_UID``;
                             ``MEXC_API_KEY``, ``MEXC_API_SECRET``)
      ``symbols``            unified symbols to follow (default: all, ``!all``; MEXC: the symbols
                             the REST snapshot asks for, besides those seen on the stream)
      ``channels``           our private channel names (default: the venue's set)
      ``url``/``rest_url``   override the production endpoints (e.g. the simulator)
      ``on_event``           sync callback per event (inline; exceptions counted, not raised)
      ``queue_size``         bound of the :meth:`events` queue (oldest dropped when full)
      ``no_data_timeout``, ``ping_interval``, ``ack_timeout``, ``handshake_timeout``, ``reconnect_backoff``: as for
      :class:`~cexfeed.feed.Feed`
      ``load_symbols``       fetch the instrument list (futures: contract multipliers)
      ``reconcile_interval`` s between REST reconciliations while live (``None``: only after a
                             reconnect); each publishes what the pushes missed, once
      ``architecture``       ``direct`` or ``strategy`` (the compat twin,
                             :mod:`cexfeed.compat.gateio_private`); default: what
                             :func:`cexfeed.compat.load_config` picks for the venue

    Raises :class:`~cexfeed.credentials.CredentialsError` when no keys are given or set, and
    ``ValueError`` for an unknown venue or channel, or (:class:`~cexfeed.symbols.SymbolError`)
    for symbols not in the unified form; :meth:`start` checks them against the instrument list
    too, as :class:`~cexfeed.feed.Feed` does.
    """

    def __init__(
        self,
        venue: str = "gateio-spot",
        credentials: Credentials | None = None,
        *,
        symbols: Sequence[str] = (),
        channels: Sequence[str] | None = None,
        url: str | None = None,
        rest_url: str | None = None,
        on_event: Callable[[Event], None] | None = None,
        queue_size: int = 10_000,
        no_data_timeout: float = 30.0,
        ping_interval: float | None = None,
        ack_timeout: float = 5.0,
        reconnect_backoff: Callable[[], Backoff] | None = None,
        load_symbols: bool = True,
        protocol: PrivateProtocol | None = None,
        architecture: str | None = None,
        handshake_timeout: float = 10.0,
        reconcile_interval: float | None = 300.0,
    ) -> None:
        entry = spec(venue)
        if architecture is None:
            from .compat.selection import load_config

            architecture = load_config().architecture(venue)
        if architecture not in ("direct", "strategy"):
            raise ValueError(f"unknown architecture {architecture!r} (direct or strategy)")
        self.architecture = architecture
        self.venue = venue
        self.market = entry.market
        if protocol is None:
            if credentials is None:
                credentials = Credentials.from_env(entry.credentials_env or "GATEIO")
            protocol = private_protocol_class(venue)(url, rest_url, credentials=credentials)
        self.protocol = protocol
        self.channels = list(channels) if channels is not None else list(protocol.default_channels())
        unknown = [c for c in self.channels if c not in protocol.channels]
        if unknown:
            raise ValueError(f"{venue}: unknown private channel(s) {unknown}; this venue has {list(protocol.channels)}")
        self.symbols = list(symbols)
        self.rest = RestClient(protocol.rest_url, headers=protocol.headers)
        self.rest.redact = protocol.redact
        self.state = AccountState(entry.venue, entry.market)
        self.load_symbols = load_symbols
        self.symbol_map: SymbolMap = protocol.default_symbols()
        self._venue_of = self._resolve(listed=False)  # the form of every name, before any network call
        self._init_delivery(on_event, queue_size)
        self._conn_options = dict(no_data_timeout=no_data_timeout, ping_interval=ping_interval, ack_timeout=ack_timeout,
                                  handshake_timeout=handshake_timeout)
        self._backoff = reconnect_backoff or Backoff
        self.reconcile_interval = reconcile_interval
        self.handler: PrivateWebSocketHandler | None = None
        self.connection: WsConnection | None = None
        self.ack_results: list[AckResult] = []
        self.syncs = 0
        self.sync_failures = 0
        self._sync_task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._clock_retried = False
        self._stopped = False  # auth_failed or refused: nothing is synced again
        self.refused = ""  # what the venue said when it refused private subscriptions
        self.failure = ""  # the venue's code and text of a terminal auth_failed/refused status
        self._covered_ms: int | None = None
        self._status_changed = asyncio.Event()
        # why the next sync runs (a new session token, a rotation), else reconnect/start
        self._sync_reason = ""
        self._rotation: asyncio.TimerHandle | None = None
        protocol.session_listener = self._on_session

    # -- wiring ------------------------------------------------------------------------------
    # event delivery (inline callback, bounded queue dropping the oldest) is the market Feed's
    def _dispatch(self, event: Event) -> None:
        if event.__class__ is AccountStatus:
            self._status_changed.set()
            if event.status in ("auth_failed", "refused"):
                # terminal (README): nothing is retried, so events() ends after this status
                self.failure = " ".join(p for p in (event.code, event.message) if p)
                super()._dispatch(event)
                self._ended = True
                self._wake()
                return
        super()._dispatch(event)

    @property
    def ended(self) -> bool:
        """True once the venue refused the credentials or a private subscription
        (``auth_failed``/``refused``): terminal, :meth:`events` ends after that status."""
        return self._ended

    def _resolve(self, listed: bool) -> dict[str, str]:
        """Unified name -> venue name of each followed symbol. Raises ``SymbolError``."""
        protocol = self.protocol
        return resolve_symbols(self.symbols, self.symbol_map, venue=self.venue, market=self.market, settle=protocol.settle, listed=listed)

    # -- public API --------------------------------------------------------------------------
    async def start(self, timeout: float = 15.0) -> str:
        """Measure the server clock, load the instrument list, connect, subscribe, seed from
        REST; returns the status reached within ``timeout`` s (``live``, ``auth_failed``,
        ``refused``, or
        ``seeding`` while still loading: the account keeps trying in the background)."""
        protocol = self.protocol
        await self._measure_clock()
        if self.load_symbols:
            try:
                self.symbol_map = await protocol.fetch_symbols(self.rest)
            except Exception as exc:
                log.warning("%s: instrument list unavailable (%s); mapping names by pattern", self.venue, exc)
            else:
                self._venue_of = self._resolve(listed=True)
        self._covered_ms = protocol.clock.now_ms()
        if self.architecture == "strategy":
            strategies = load(spec(self.venue).private_strategy)
            handler = strategies.handler(strategies.parser(self.symbol_map), self._dispatch, self.state, protocol.credentials)
        else:
            handler = protocol.make_private_handler(self._dispatch, self.symbol_map, self.state)
        self.handler = handler
        handler.managed = True  # one auth_failed naming every refused channel (_on_replayed)
        handler.begin_sync("start")
        conn = WsConnection(protocol, handler, self.rest, name=f"{protocol.name}/account", backoff=self._backoff(),
                            on_state=self._on_state, on_replayed=self._on_replayed, **self._conn_options)
        self.connection = conn
        venue_symbols = [self._venue_of[s] for s in self.symbols]
        protocol.followed = tuple(venue_symbols)
        subs = protocol.subscriptions(self.channels, venue_symbols)
        acks = self._spawn(conn.subscribe(subs))
        prepared = await self._prepare(timeout)
        if prepared == "ok":
            conn.start()
        elif prepared == "retry":
            self._spawn(self._prepare_later(conn))
        if self.reconcile_interval:
            self._spawn(self._periodic(self.reconcile_interval))
        await self.wait_status((LIVE, AUTH_FAILED, REFUSED), timeout)
        if acks.done():
            self.ack_results = acks.result()
        return handler.status

    async def _prepare(self, timeout: float) -> str:
        """``protocol.prepare`` (e.g. make the listenKey): ``ok``; ``retry`` (in the background)
        when the venue could not be reached; ``auth`` when it refused the credentials (then
        ``auth_failed`` is published and nothing connects)."""
        handler = self.handler
        assert handler is not None
        for attempt in (1, 2):
            try:
                await asyncio.wait_for(self.protocol.prepare(self.rest), timeout)
                return "ok"
            except RestError as exc:
                found = self.protocol.rest_refusal(exc)
                if found is not None and found[0] == "auth":
                    self._stop_auth(found, found[2])
                    return "auth"
                if found is not None and found[0] == "clock" and attempt == 1:
                    await self._measure_clock()
                    continue
                log.warning("%s: session setup failed (%s); retrying in the background", self.venue, self.protocol.redact(str(exc)))
                return "retry"
            except asyncio.TimeoutError:
                return "retry"
        return "retry"

    async def _prepare_later(self, conn: WsConnection) -> None:
        backoff = Backoff(initial=0.5, cap=30.0)
        while not self._closed:
            await asyncio.sleep(backoff.next())
            prepared = await self._prepare(30.0)
            if prepared == "ok":
                conn.start()
            if prepared != "retry":
                return

    async def wait_status(self, statuses: Sequence[str], timeout: float | None = None) -> bool:
        """Wait until the account's status is one of ``statuses``; False after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self.handler is None or self.handler.status not in statuses:
            self._status_changed.clear()
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._status_changed.wait(), remaining)
            except asyncio.TimeoutError:
                return False
        return True

    @property
    def status(self) -> str:
        """``seeding``, ``live``, ``reconciling``, ``stale``, ``auth_failed``, ``refused`` (``""``
        before start)."""
        return self.handler.status if self.handler is not None else ""

    def balances(self) -> dict[str, Balance]:
        """Balances by currency (upper case)."""
        return dict(self.state.balances)

    def open_orders(self) -> dict[str, Order]:
        """Working orders by order id."""
        return dict(self.state.open_orders)

    def positions(self) -> dict[tuple[str, str], Position]:
        """Open positions by (unified symbol, mode)."""
        return dict(self.state.positions)

    def fills(self, limit: int | None = None) -> list[Fill]:
        """Own trades seen, oldest first (the last ``limit`` when given)."""
        fills = list(self.state.fills.values())
        return fills[-limit:] if limit else fills

    def stats(self) -> dict[str, Any]:
        conn = self.connection
        return {
            "venue": self.venue,
            "status": self.status,
            "refused": self.refused,
            "events": self.events_total,
            "dropped": self.dropped,
            "syncs": self.syncs,
            "sync_failures": self.sync_failures,
            "state": self.state.summary(),
            "state_errors": dict(self.state.stats),
            "handler": self.handler.stats.as_dict() if self.handler is not None else {},
            "connection": ({"state": conn.state, "last_error": conn.last_error, **conn.stats.as_dict()} if conn is not None else {}),
            "rest": {"requests": self.rest.requests, "failures": self.rest.failures},
            "clock_offset_ms": self.protocol.clock.offset_ms,
        }

    async def close(self) -> None:
        """Close the connection, stop syncing, end the session (MEXC: delete the listenKey),
        close the REST session; the account is ``stale``."""
        self._closed = True
        if self._rotation is not None:
            self._rotation.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._sync_task is not None:
            self._sync_task.cancel()
        if self.connection is not None:
            await self.connection.close()
        try:
            await self.protocol.close_session(self.rest)
        except Exception as exc:  # the venue lets the session lapse on its own
            log.info("%s: session not ended cleanly: %s", self.venue, self.protocol.redact(str(exc)))
        await self.rest.close()
