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
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Sequence

from .account import AccountState
from .credentials import Credentials
from .delivery import EventDelivery
from .handlers import PrivateWebSocketHandler
from .models import AUTH_FAILED, LIVE, REFUSED, AccountStatus, Balance, Event, Fill, Order, Position
from .net.backoff import Backoff
from .net.connection import CONNECTED, WsConnection
from .net.requests import AckResult
from .net.protocol import PrivateProtocol
from .net.rest import RestClient, RestError
from .symbols import SymbolMap, resolve_symbols
from .venues import load, private_protocol_class, spec

log = logging.getLogger("cexfeed.account")


class Account(EventDelivery):
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

    def _spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _measure_clock(self) -> None:
        try:
            await self.protocol.clock.measure(lambda: self.protocol.server_time_ms(self.rest))
        except Exception as exc:  # signatures then use the local clock; a skew is retried once
            log.warning("%s: server time unavailable (%s); signing with the local clock", self.venue, exc)

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

    # -- keeping the account right -----------------------------------------------------------
    def _on_state(self, conn: WsConnection, state: str) -> None:
        handler = self.handler
        if state != CONNECTED and handler is not None and handler.status == LIVE:
            # everything up to now arrived live: missed trades start here
            self._covered_ms = self.protocol.clock.now_ms()
        if self._rotation is not None:
            self._rotation.cancel()
            self._rotation = None
        age = self.protocol.max_connection_age_s
        if state == CONNECTED and age:
            self._rotation = asyncio.get_running_loop().call_later(age, self._rotate, conn, conn._session)

    def _rotate(self, conn: WsConnection, session: int) -> None:
        """The socket nears the venue's lifetime limit: a new one now, reconciled."""
        if session == conn._session and conn.connected and not self._closed:
            self._replace_socket(conn, "rotate", "", "connection lifetime limit")

    def _replace_socket(self, conn: WsConnection, reason: str, code: str, message: str) -> None:
        handler = self.handler
        if handler is not None and handler.status not in (AUTH_FAILED, REFUSED):
            if handler.status == LIVE:
                self._covered_ms = self.protocol.clock.now_ms()
            handler.connection_lost(reason, code=code, message=self.protocol.redact(message))
        self._sync_reason = "key_changed" if reason.startswith("key") else reason
        conn.reconnect_now(reason, self.protocol.redact(f"{code} {message}".strip()))

    def _on_session(self, kind: str, reason: str, code: str = "", message: str = "") -> None:
        """The protocol's session changed on its own (see :class:`PrivateProtocol`)."""
        conn = self.connection
        if self._closed or conn is None:
            return
        if kind == "auth":
            self._stop_auth(("auth", code, message), message)
            self._spawn(conn.close())
            return
        self._replace_socket(conn, reason, code, message)

    async def _renew(self, conn: WsConnection, reason: str, code: str, message: str, stale_url: str) -> None:
        """The venue refused the session the socket rode on (the account is ``stale`` with
        ``reason`` already): new session data, then a new socket unless one is up on it."""
        backoff = Backoff(initial=0.5, cap=30.0)
        while not self._closed:
            try:
                await self.protocol.renew_session(self.rest, reason, code, message, stale_url)
            except RestError as exc:
                found = self.protocol.rest_refusal(exc)
                if found is not None and found[0] == "auth":
                    self._on_session("auth", "auth", found[1], found[2])
                    return
                await asyncio.sleep(backoff.next())
                continue
            if conn.session_url != self.protocol.ws_url or not conn.connected:
                conn.reconnect_now(reason, self.protocol.redact(f"{code} {message}".strip()))
            return  # (a socket on the new data that is up already syncs on its own)

    def _on_replayed(self, conn: WsConnection, results: list[AckResult]) -> None:
        """The subscriptions of a new session are answered: reconcile (or stop on a refusal)."""
        self.ack_results = results
        if self._stopped:
            return  # refused before: the refused channels are not replayed, the state stays incomplete
        refused = [(r, self.protocol.refusal(r.message)) for r in results if r.status == "refused"]
        denied = [(r, k) for r, k in refused if k is not None and k[0] == "auth"]
        if denied:  # the refused channels are not replayed
            self._stop_auth(denied[0][1], self._refused_text(denied[0][1][2], [r for r, _ in denied], len(results)))
            return
        session = [k for _, k in refused if k is not None and k[0] == "key"]
        if session:
            # the subscriptions stay in the set (protocol.session_refusal): replayed on the new socket
            _, code, message = session[0]
            if self.handler is not None:
                self.handler.connection_lost("key_refused", code=code, message=self.protocol.redact(message))
            self._sync_reason = "key_changed"
            self._spawn(self._renew(conn, "key_refused", code, message, conn.session_url))
            return
        clock = [r.sub for r, k in refused if k is not None and k[0] == "clock"]
        if clock:
            if not self._clock_retried:
                self._clock_retried = True
                self._spawn(self._retry_clock(conn, clock, [r for r, k in refused if k is None]))
                return
            found = next(k for _, k in refused if k is not None)
            self._stop_auth(found, f"request time refused after measuring the clock again: {found[2]}")
            return
        if not self._stop_refused([r for r, _ in refused]):
            self._start_sync(conn)

    async def _retry_clock(self, conn: WsConnection, subs: list, other: list[AckResult]) -> None:
        await self._measure_clock()
        results = await conn.subscribe(subs)
        refused = [(r, self.protocol.refusal(r.message)) for r in results if r.status == "refused"]
        found = next((k for _, k in refused if k is not None), None)
        if found is not None and self.handler is not None:
            if found[0] == "clock":
                self._stop_auth(found, f"request time refused after measuring the clock again: {found[2]}")
            else:
                self._stop_auth(found, found[2])
            return
        if not self._stop_refused(other + [r for r, _ in refused]):
            self._start_sync(conn)

    def _stop_auth(self, found: tuple[str, str, str], message: str) -> None:
        self._stopped = True
        if self.handler is not None:
            self.handler.auth_failed(found[1], message)

    def _refused_text(self, message: str, refused: list[AckResult], total: int) -> str:
        """The venue's text, then which of the ``total`` subscriptions it refused."""
        names = ", ".join(f"{r.sub.channel}{' ' + r.sub.venue_symbol if r.sub.venue_symbol else ''}" for r in refused)
        return f"{self.protocol.redact(message)} ({len(refused)} of {total} private subscriptions refused: {names})"

    def _stop_refused(self, refused: list[AckResult]) -> bool:
        """Any private subscription refused (not for the credentials or the clock): the account
        is ``refused``, never ``live``, with the venue's text for each refused channel. True when
        it stopped."""
        if not refused:
            return False
        self._stopped = True
        if self.handler is not None:
            redact = self.protocol.redact
            names = "; ".join(f"{r.sub.channel}{' ' + r.sub.venue_symbol if r.sub.venue_symbol else ''}: {redact(r.message)}" for r in refused)
            self.refused = f"{len(refused)} of {len(self.ack_results)} private subscriptions refused: {names}"
            self.handler.subscription_refused("", self.refused)
        return True

    def _start_sync(self, conn: WsConnection, reason: str = "") -> None:
        if self._sync_task is not None and not self._sync_task.done():
            self._sync_task.cancel()
        self._sync_task = self._spawn(self._sync(conn, conn._session, reason))

    async def _periodic(self, interval: float) -> None:
        """Reconcile with REST every ``interval`` s while live (pushes the venue never sent are
        found and published once, like those missed while disconnected)."""
        while not self._closed:
            await asyncio.sleep(interval)
            conn, handler = self.connection, self.handler
            if conn is None or handler is None or not conn.connected or handler.status != LIVE:
                continue
            if self._sync_task is None or self._sync_task.done():
                self._start_sync(conn, "periodic")

    async def _sync(self, conn: WsConnection, session: int, reason: str = "") -> None:
        handler = self.handler
        assert handler is not None
        protocol = self.protocol
        reason, self._sync_reason = reason or self._sync_reason, ""
        handler.begin_sync(reason or ("reconnect" if self.syncs else "start"))
        backoff = Backoff(initial=0.2, cap=5.0)
        clock_retry = True
        while not self._closed:
            since = protocol.since(self._covered_ms) if self._covered_ms is not None else None
            taken = protocol.clock.now_ms()
            try:
                snapshot = await protocol.fetch_account(self.rest, self.state, since)
            except asyncio.CancelledError:
                raise
            except RestError as exc:
                self.sync_failures += 1
                found = protocol.rest_refusal(exc)
                if found is not None and found[0] == "auth":
                    self._stop_auth(found, found[2])
                    return
                if found is not None and found[0] == "clock" and clock_retry:
                    clock_retry = False
                    await self._measure_clock()
                    continue
                handler._count_error("snapshot_failed", b"", exc)
                await asyncio.sleep(backoff.next())
                continue
            except Exception as exc:  # an unusable body: counted, tried again
                self.sync_failures += 1
                handler._count_error("snapshot_failed", b"", protocol.redact(f"{type(exc).__name__}: {exc}"))
                await asyncio.sleep(backoff.next())
                continue
            if session != conn._session or not conn.connected:
                return  # the connection this snapshot belongs to is gone; the next one syncs
            self.syncs += 1
            if handler.finish_sync(snapshot):
                self._covered_ms = taken
                self._clock_retried = False
                return
            handler.begin_sync("buffer_overflow")
