"""One WebSocket connection of the network core (picows).

Lifecycle of a :class:`WsConnection`::

    connect (extra headers) -> replay the CURRENT subscription set -> read frames inline into
    ``handler._handle_message(payload, recv_ts_ns)`` -> on drop / silence / upgrade notice:
    ``handler.connection_lost()``, wait a capped exponential backoff with jitter, connect again.

* Heartbeat: the venue's app-level ping every ``ping_interval`` s; a watchdog drops the socket
  when no frame at all (data, ack or pong) arrived for ``no_data_timeout`` s.
* Requests carry int32 ids; each subscribe/unsubscribe waits for its ack up to ``ack_timeout``.
  A refused subscription is dropped from the set (never replayed) and reported as a
  :class:`~cexfeed.models.VenueError` by the handler; an unacked one is reported as a
  ``VenueError`` with ``code=-1`` and stays in the set.
* Only the current subscription set is replayed after a reconnect, never past requests.
* Book snapshots (``request_snapshot``) are fetched by a task off the read loop, with bounded
  retries, then handed to ``handler.apply_snapshot``.
* Private (authenticated) streams: every request frame is built by the protocol at the moment
  it is sent (``subscribe_frame``), so a replay after a reconnect carries a fresh signature;
  ``on_replayed(conn, results)`` is called once the replayed set of a session is answered (the
  account stream then loads its REST snapshot and reconciles).

The connection is the handler's :class:`~cexfeed.handlers.ConnectionHooks`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Iterable

from picows import WSCloseCode, WSListener, WSMsgType, WSTransport, ws_connect

from ..handlers import ConnectionHooks, PublicWebSocketHandler
from ..models import VenueError
from .backoff import Backoff
from .protocol import Subscription, VenueProtocol
from .rest import RestClient

log = logging.getLogger("cexfeed.net")

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CLOSE = WSMsgType.CLOSE
_CONTINUATION = WSMsgType.CONTINUATION

# connection states
IDLE = "idle"
CONNECTING = "connecting"
CONNECTED = "connected"
BACKOFF = "backoff"
CLOSED = "closed"


class RequestIds:
    """Request ids shared by the connections of one pool: 1, 2, ... wrapping inside int32
    (Gate requires int32 ids, gateio-protocol.md §2.1)."""

    __slots__ = ("_next",)

    def __init__(self, start: int = 1) -> None:
        self._next = start

    def __call__(self) -> int:
        value = self._next
        self._next = value + 1 if value < 0x7FFFFFFF else 1
        return value


class AckResult:
    """Outcome of one subscribe/unsubscribe: ``ok``; ``status`` ``acked``/``refused``/
    ``timeout``/``closed``; ``message`` the venue's text (or ours)."""

    __slots__ = ("sub", "event", "ok", "status", "message")

    def __init__(self, sub: Subscription, event: str, ok: bool, status: str, message: str = "") -> None:
        self.sub = sub
        self.event = event
        self.ok = ok
        self.status = status
        self.message = message

    def __repr__(self) -> str:
        return f"AckResult({self.event} {self.sub.channel} {self.sub.venue_symbol}: {self.status} {self.message!r})"


class _Pending:
    __slots__ = ("sub", "event", "future", "timer", "ack_channel")

    def __init__(self, sub: Subscription, event: str, future: asyncio.Future, ack_channel: str) -> None:
        self.sub = sub
        self.event = event
        self.future = future
        self.timer: asyncio.TimerHandle | None = None
        self.ack_channel = ack_channel


class ConnectionStats:
    """Counters of one connection (public, for metrics)."""

    __slots__ = (
        "connects", "disconnects", "connect_failures", "watchdog_drops", "pings_sent", "pongs",
        "acks_ok", "acks_refused", "ack_timeouts", "acks_unmatched", "snapshots", "snapshot_errors",
        "resubscribes",
    )

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, 0)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


class _Listener(WSListener):
    """picows callbacks -> the connection. Data frames go straight to the handler, inline."""

    def __init__(self, conn: "WsConnection") -> None:
        self.conn = conn
        self.handle = conn.handler._handle_message
        self._parts: list[bytes] | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.conn._last_rx_ns = time.time_ns()

    def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
        msg_type = frame.msg_type
        if (msg_type is _TEXT or msg_type is _BINARY) and frame.fin:
            recv_ts = time.time_ns()
            self.conn._last_rx_ns = recv_ts
            self.handle(frame.get_payload_as_bytes(), recv_ts)
            return
        self._slow_path(transport, frame, msg_type)

    def _slow_path(self, transport: WSTransport, frame: Any, msg_type: Any) -> None:
        conn = self.conn
        recv_ts = time.time_ns()
        conn._last_rx_ns = recv_ts
        if msg_type is _TEXT or msg_type is _BINARY:  # first fragment of a fragmented message
            self._parts = [frame.get_payload_as_bytes()]
        elif msg_type is _CONTINUATION:
            if self._parts is None:
                return
            self._parts.append(frame.get_payload_as_bytes())
            if frame.fin:
                payload = b"".join(self._parts)
                self._parts = None
                self.handle(payload, recv_ts)
        elif msg_type is _CLOSE:
            # answer the venue's close frame, then drop; the run loop decides about reconnecting
            try:
                transport.send_close(frame.get_close_code(), frame.get_close_message())
            except Exception:  # the socket may already be gone
                pass
            transport.disconnect()
        # PING is answered by picows (enable_auto_pong); PONG only counts as traffic

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._parts = None


class WsConnection(ConnectionHooks):
    """One venue WebSocket with its handler, subscription set, heartbeat and reconnects.

    Parameters: ``protocol`` (:class:`VenueProtocol`), ``handler`` (a fresh
    :class:`PublicWebSocketHandler` owned by this connection; its ``hooks`` is set to the
    connection), ``rest`` (shared :class:`RestClient` for snapshots), ``ids`` (shared
    :class:`RequestIds`), ``no_data_timeout`` s, ``ping_interval`` s (default: the protocol's),
    ``ack_timeout`` s, ``backoff`` (reconnect delays), ``snapshot_wait`` s (how long a snapshot
    fetch waits for the first buffered delta, so the snapshot can be checked against it).

    Use: ``conn.start()``; ``await conn.subscribe(subs)`` -> ``list[AckResult]``;
    ``await conn.unsubscribe(subs)``; ``await conn.close()``.
    """

    def __init__(
        self,
        protocol: VenueProtocol,
        handler: PublicWebSocketHandler,
        rest: RestClient | None = None,
        *,
        ids: RequestIds | None = None,
        name: str = "",
        no_data_timeout: float = 30.0,
        ping_interval: float | None = None,
        ack_timeout: float = 5.0,
        backoff: Backoff | None = None,
        snapshot_wait: float = 1.0,
        handshake_timeout: float = 10.0,
        on_state: Callable[["WsConnection", str], None] | None = None,
        on_replayed: Callable[["WsConnection", list[AckResult]], Any] | None = None,
    ) -> None:
        self.protocol = protocol
        self.handler = handler
        handler.hooks = self
        self.rest = rest
        self.ids = ids or RequestIds()
        self.name = name or protocol.name
        self.no_data_timeout = no_data_timeout
        self.ping_interval = ping_interval if ping_interval is not None else protocol.ping_interval
        self.ack_timeout = ack_timeout
        self.backoff = backoff or Backoff()
        self.snapshot_wait = snapshot_wait
        self.handshake_timeout = handshake_timeout
        self.on_state = on_state
        self.on_replayed = on_replayed
        self.stats = ConnectionStats()
        self.state = IDLE
        # the current subscription set, in subscription order (dict as ordered set)
        self.subscriptions: dict[Subscription, None] = {}
        self._pending: dict[int, _Pending] = {}
        # subscribe futures waiting for a (re)sent request after a reconnect
        self._awaiting_replay: dict[Subscription, asyncio.Future] = {}
        self._snapshot_tasks: dict[str, asyncio.Task] = {}
        self._snapshot_retries: dict[str, int] = {}
        self._tasks: set[asyncio.Task] = set()
        self._transport: WSTransport | None = None
        self._run_task: asyncio.Task | None = None
        self._session = 0
        self._closing = False
        self._reconnect_now = False
        self._last_rx_ns = 0
        self._connected = asyncio.Event()
        self.last_error = ""

    # -- public API --------------------------------------------------------------------------
    def start(self) -> None:
        """Start the connect/read/reconnect loop in the background (idempotent)."""
        if self._run_task is None:
            self._run_task = asyncio.get_running_loop().create_task(self._run(), name=f"cexfeed:{self.name}")

    @property
    def connected(self) -> bool:
        return self.state == CONNECTED

    async def wait_connected(self, timeout: float | None = None) -> bool:
        """True once connected, False after ``timeout`` s."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def subscribe(self, subs: Iterable[Subscription]) -> list[AckResult]:
        """Add ``subs`` to the current set and wait for their acks (each bounded by
        ``ack_timeout`` once sent; while disconnected they wait for the next connect).
        Already held subscriptions are acknowledged at once. Never raises for venue refusals."""
        futures = []
        loop = asyncio.get_running_loop()
        for sub in subs:
            if sub in self.subscriptions:
                done = loop.create_future()
                done.set_result(AckResult(sub, "subscribe", True, "acked", "already subscribed"))
                futures.append(done)
                continue
            self.subscriptions[sub] = None
            future = loop.create_future()
            futures.append(future)
            if self.connected:
                self._send_request(sub, "subscribe", future)
            else:
                self._awaiting_replay[sub] = future
        return list(await asyncio.gather(*futures))

    async def unsubscribe(self, subs: Iterable[Subscription]) -> list[AckResult]:
        """Remove ``subs`` from the set and, when connected, unsubscribe on the venue."""
        futures = []
        loop = asyncio.get_running_loop()
        for sub in subs:
            self.subscriptions.pop(sub, None)
            waiting = self._awaiting_replay.pop(sub, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(AckResult(sub, "subscribe", False, "closed", "unsubscribed before sent"))
            future = loop.create_future()
            futures.append(future)
            if self.connected:
                self._send_request(sub, "unsubscribe", future)
            else:
                future.set_result(AckResult(sub, "unsubscribe", True, "acked", "not connected"))
        return list(await asyncio.gather(*futures))

    async def close(self, timeout: float = 2.0) -> None:
        """Graceful close: close frame, wait for the socket to go, stop every task."""
        self._closing = True
        transport = self._transport
        if transport is not None and not transport.is_disconnected:
            try:
                transport.send_close(WSCloseCode.OK)
            except Exception:
                pass
            transport.disconnect()
            try:
                await asyncio.wait_for(transport.wait_disconnected(), timeout)
            except asyncio.TimeoutError:
                transport.disconnect(graceful=False)
        if self._run_task is not None:
            self._run_task.cancel()
            try:
                await self._run_task
            except (asyncio.CancelledError, Exception):
                pass
        for task in list(self._tasks) + list(self._snapshot_tasks.values()):
            task.cancel()
        self._fail_pending("closed")
        self._set_state(CLOSED)

    def drop(self) -> None:
        """Abort the socket now (tests, upgrade notices); the loop reconnects."""
        transport = self._transport
        if transport is not None:
            transport.disconnect(graceful=False)

    def book_subscription(self, venue_symbol: str) -> Subscription | None:
        """The subscription feeding ``venue_symbol``'s book on this connection, if any."""
        is_book = self.protocol.is_book
        for sub in self.subscriptions:
            if sub.venue_symbol == venue_symbol and is_book(sub):
                return sub
        return None

    def holds_book(self, venue_symbol: str) -> bool:
        return self.book_subscription(venue_symbol) is not None

    # -- ConnectionHooks ---------------------------------------------------------------------
    def on_ack(self, request_id: int | None, channel: str, ok: bool, message: str) -> None:
        pending = self._pending.pop(request_id, None) if request_id else None
        if pending is None:
            # acks without our id (MEXC answers "id":0): the oldest request on that channel
            for rid, candidate in self._pending.items():
                if candidate.ack_channel == channel:
                    pending = self._pending.pop(rid)
                    break
        if pending is None:
            self.stats.acks_unmatched += 1
            return
        if pending.timer is not None:
            pending.timer.cancel()
        sub = pending.sub
        if ok:
            self.stats.acks_ok += 1
            result = AckResult(sub, pending.event, True, "acked", message)
            if pending.event == "subscribe" and self.protocol.is_book(sub) and self.protocol.snapshot_via_rest(sub):
                self.request_snapshot(sub.venue_symbol)
        else:
            self.stats.acks_refused += 1
            result = AckResult(sub, pending.event, False, "refused", message)
            if pending.event == "subscribe":
                # refused: never replay it
                self.subscriptions.pop(sub, None)
            log.warning("%s: %s %s %s refused: %s", self.name, pending.event, sub.channel, sub.venue_symbol, message)
        if not pending.future.done():
            pending.future.set_result(result)

    def on_pong(self) -> None:
        self.stats.pongs += 1

    def request_snapshot(self, venue_symbol: str) -> None:
        sub = self.book_subscription(venue_symbol)
        if sub is None:
            return
        if self.rest is None or not self.protocol.snapshot_via_rest(sub):
            self.request_resubscribe(venue_symbol)
            return
        task = self._snapshot_tasks.get(venue_symbol)
        if task is not None and not task.done():
            return
        retry = self._snapshot_retries.get(venue_symbol, 0)
        self._snapshot_retries[venue_symbol] = retry + 1
        # a repeated request (snapshot too old, gatews#51) waits a little longer each time
        delay = min(2.0, 0.05 * (2 ** retry)) if retry else 0.0
        self._snapshot_tasks[venue_symbol] = asyncio.get_running_loop().create_task(
            self._snapshot(venue_symbol, self._session, delay)
        )

    def request_resubscribe(self, venue_symbol: str) -> None:
        sub = self.book_subscription(venue_symbol)
        if sub is not None:
            self.stats.resubscribes += 1
            self._spawn(self._resubscribe(sub))

    def on_reconnect_requested(self, reason: str) -> None:
        log.info("%s: venue asks to reconnect: %s", self.name, reason)
        self._reconnect_now = True
        self.drop()

    # -- internals ---------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        self.state = state
        if state == CONNECTED:
            self._connected.set()
        else:
            self._connected.clear()
        if self.on_state is not None:
            try:
                self.on_state(self, state)
            except Exception:
                log.exception("%s: state callback failed", self.name)

    def _spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _send(self, payload: bytes) -> bool:
        transport = self._transport
        if transport is None or self.state != CONNECTED:
            return False
        try:
            transport.send(_TEXT, payload)
            return True
        except Exception as exc:  # socket closing under us: the run loop reconnects
            self.last_error = f"send failed: {exc}"
            return False

    def _send_request(self, sub: Subscription, event: str, future: asyncio.Future) -> None:
        request_id = self.ids()
        if event == "subscribe":
            frame = self.protocol.subscribe_frame(sub, request_id)
        else:
            frame = self.protocol.unsubscribe_frame(sub, request_id)
        pending = _Pending(sub, event, future, self.protocol.ack_channel(sub))
        self._pending[request_id] = pending
        pending.timer = asyncio.get_running_loop().call_later(self.ack_timeout, self._ack_timeout, request_id)
        if not self._send(frame):
            # not sent: a subscribe waits for the replay after the reconnect
            self._pending.pop(request_id, None)
            pending.timer.cancel()
            if event == "subscribe" and sub in self.subscriptions:
                self._awaiting_replay[sub] = future
            elif not future.done():
                future.set_result(AckResult(sub, event, True, "acked", "not connected"))

    def _ack_timeout(self, request_id: int) -> None:
        pending = self._pending.pop(request_id, None)
        if pending is None:
            return
        self.stats.ack_timeouts += 1
        sub = pending.sub
        message = f"no ack for {pending.event} {sub.channel} {sub.venue_symbol} within {self.ack_timeout:g} s"
        log.warning("%s: %s", self.name, message)
        self.handler._emit(
            VenueError(
                venue=self.handler.venue,
                market=self.handler.market,
                symbol=self.handler.unified(sub.venue_symbol),
                venue_symbol=sub.venue_symbol,
                exchange_ts=0,
                recv_ts=time.time_ns(),
                code=-1,
                message=message,
                channel=pending.ack_channel,
            )
        )
        if not pending.future.done():
            pending.future.set_result(AckResult(sub, pending.event, False, "timeout", message))

    def _fail_pending(self, status: str) -> None:
        for pending in self._pending.values():
            if pending.timer is not None:
                pending.timer.cancel()
            if not pending.future.done():
                pending.future.set_result(AckResult(pending.sub, pending.event, False, status, status))
        self._pending.clear()
        for sub, future in self._awaiting_replay.items():
            if not future.done():
                future.set_result(AckResult(sub, "subscribe", False, status, status))
        self._awaiting_replay.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        protocol = self.protocol
        while not self._closing:
            self._set_state(CONNECTING)
            try:
                # the outer bound also covers DNS and TCP connect, which picows does not time
                transport, _ = await asyncio.wait_for(
                    ws_connect(
                        lambda: _Listener(self),
                        protocol.ws_url,
                        extra_headers=protocol.headers or None,
                        websocket_handshake_timeout=self.handshake_timeout,
                        enable_auto_pong=True,
                        logger_name="cexfeed",
                    ),
                    self.handshake_timeout * 2,
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stats.connect_failures += 1
                self.last_error = f"connect failed: {type(exc).__name__}: {exc}"
                log.warning("%s: %s", self.name, self.last_error)
                await self._sleep_backoff()
                continue
            self._session += 1
            session = self._session
            self._transport = transport
            self._last_rx_ns = time.time_ns()
            frames_before = self.handler.stats.frames
            started = loop.time()
            self.stats.connects += 1
            self._set_state(CONNECTED)
            self._replay()
            heartbeat = loop.create_task(self._heartbeat(transport, session))
            try:
                await transport.wait_disconnected()
            finally:
                heartbeat.cancel()
            self._transport = None
            self.stats.disconnects += 1
            self._after_disconnect()
            if self._closing:
                break
            if self.handler.stats.frames > frames_before or loop.time() - started > 5.0:
                # the session worked: start the backoff over
                self.backoff.reset()
            if self._reconnect_now:
                self._reconnect_now = False
                continue
            await self._sleep_backoff()
        self._set_state(CLOSED)

    async def _sleep_backoff(self) -> None:
        self._set_state(BACKOFF)
        await asyncio.sleep(self.backoff.next())

    def _replay(self) -> None:
        """Send the current subscription set (only it) on a fresh socket."""
        loop = asyncio.get_running_loop()
        sent = []
        for sub in list(self.subscriptions):
            future = self._awaiting_replay.pop(sub, None) or loop.create_future()
            self._send_request(sub, "subscribe", future)
            sent.append(future)
        for sub, future in list(self._awaiting_replay.items()):
            if not future.done():
                future.set_result(AckResult(sub, "subscribe", False, "closed", "no longer subscribed"))
        self._awaiting_replay.clear()
        if self.on_replayed is not None:
            self._spawn(self._replayed(sent, self._session))

    async def _replayed(self, futures: list[asyncio.Future], session: int) -> None:
        results = list(await asyncio.gather(*futures))
        if session == self._session and self.connected and self.on_replayed is not None:
            outcome = self.on_replayed(self, results)
            if asyncio.iscoroutine(outcome):
                await outcome

    def _after_disconnect(self) -> None:
        self._set_state(BACKOFF if not self._closing else CLOSED)
        # requests in flight are answered on the next socket (the set is replayed); keep
        # their waiters, drop the request ids
        for pending in self._pending.values():
            if pending.timer is not None:
                pending.timer.cancel()
            if pending.event == "subscribe" and pending.sub in self.subscriptions and not pending.future.done():
                self._awaiting_replay[pending.sub] = pending.future
            elif not pending.future.done():
                pending.future.set_result(AckResult(pending.sub, pending.event, True, "acked", "connection closed"))
        self._pending.clear()
        for task in self._snapshot_tasks.values():
            task.cancel()
        self._snapshot_tasks.clear()
        self._snapshot_retries.clear()
        self.handler.connection_lost("closed" if self._closing else "reconnect")

    async def _heartbeat(self, transport: WSTransport, session: int) -> None:
        ping = self.protocol.ping_frame()
        interval = self.ping_interval
        timeout = self.no_data_timeout
        tick = max(0.05, min(interval, timeout) / 4)
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + interval
        while session == self._session and not transport.is_disconnected:
            await asyncio.sleep(tick)
            now = loop.time()
            if ping is not None and now >= next_ping:
                next_ping = now + interval
                if self._send(self.protocol.ping_frame() or ping):
                    self.stats.pings_sent += 1
            idle = (time.time_ns() - self._last_rx_ns) / 1e9
            if idle > timeout:
                self.stats.watchdog_drops += 1
                self.last_error = f"no frame for {idle:.1f} s"
                log.warning("%s: %s, reconnecting", self.name, self.last_error)
                transport.disconnect(graceful=False)
                return

    async def _snapshot(self, venue_symbol: str, session: int, delay: float) -> None:
        handler = self.handler
        protocol = self.protocol
        loop = asyncio.get_running_loop()
        try:
            if delay:
                await asyncio.sleep(delay)
            # wait for the first buffered delta so the snapshot can be checked against it (§10.1)
            seq = handler.book(venue_symbol)
            deadline = loop.time() + self.snapshot_wait
            while not seq.buffer and loop.time() < deadline and session == self._session:
                await asyncio.sleep(0.01)
            depth = handler.depth
            backoff = Backoff(initial=0.2, cap=5.0)
            while session == self._session and not self._closing:
                try:
                    snap = await protocol.fetch_snapshot(self.rest, venue_symbol, depth)  # type: ignore[arg-type]
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # keep buffering and try again (gocryptotrader PR #1989)
                    self.stats.snapshot_errors += 1
                    handler._count_error("snapshot_failed", b"", exc)
                    await asyncio.sleep(backoff.next())
                    continue
                if session != self._session or not self.holds_book(venue_symbol):
                    return
                self.stats.snapshots += 1
                # leave the in-flight slot before applying: a too-old snapshot asks again
                self._snapshot_tasks.pop(venue_symbol, None)
                handler.apply_snapshot(venue_symbol, snap.update_id, snap.bids, snap.asks, snap.exchange_ts)
                if handler.book(venue_symbol).synced:
                    self._snapshot_retries.pop(venue_symbol, None)
                return
        finally:
            if self._snapshot_tasks.get(venue_symbol) is asyncio.current_task():
                del self._snapshot_tasks[venue_symbol]

    async def _resubscribe(self, sub: Subscription) -> None:
        loop = asyncio.get_running_loop()
        if sub not in self.subscriptions or not self.connected:
            return
        unsub = loop.create_future()
        self._send_request(sub, "unsubscribe", unsub)
        await unsub
        if sub in self.subscriptions and self.connected:
            again = loop.create_future()
            self._send_request(sub, "subscribe", again)
            await again
