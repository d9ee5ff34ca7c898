"""One WebSocket connection of the network core (picows).

Lifecycle of a :class:`WsConnection`::

    connect (extra headers) -> replay the CURRENT subscription set -> read frames inline into
    ``handler._handle_message(payload, recv_ts_ns)`` -> on drop / silence / upgrade notice:
    ``handler.reset_books()``, wait a capped exponential backoff with jitter, connect again.

* Heartbeat: the venue's app-level ping every ``ping_interval`` s; a watchdog drops the socket
  when no frame at all (data, ack or pong) arrived for ``no_data_timeout`` s.
* State changes reach the consumer as :class:`~cexfeed.models.ConnectionStatus` events
  (``connecting``, ``connected``, ``reconnecting`` with the reason, ``failed`` with the reason
  and the wait, ``closed``) and as log lines. A refused upgrade (HTTP 429/503) waits what its
  ``Retry-After`` asks, within :data:`MAX_RETRY_AFTER_S`.
* Requests carry int32 ids; each subscribe/unsubscribe waits for its ack up to ``ack_timeout``.
  An ack matches its request by id (an id echoed as a numeric string too), else by channel;
  a success that names another channel than the request's does not count (it is refused).
  A refused subscription is dropped from the set (never replayed) and reported as a
  :class:`~cexfeed.models.VenueError` by the handler; the venue's "already subscribed"
  refusal (``VenueProtocol.already_subscribed``) keeps it, as acked. An unacked one is
  reported as a ``VenueError`` with ``code=-1`` and stays in the set.
* Unsubscribing a book forgets it at once (``handler.close_book``): pushes still in flight are
  dropped, and a later subscribe starts from an empty, unsynced book (``handler.open_book``).
* Every acked subscription is watched for silence (:mod:`cexfeed.net.watch`,
  ``subscription_timeout`` s).
* Only the current subscription set is replayed after a reconnect, never past requests.
* Book snapshots (``request_snapshot``) are fetched by a task off the read loop, with bounded
  retries, then handed to ``handler.apply_snapshot``.
* An optional recording ``tap`` (:class:`~cexfeed.net.tap.Tap`) is told every frame received
  and sent and every connection event; ``None`` (the default) costs one check per frame.

The connection is the handler's :class:`~cexfeed.handlers.ConnectionHooks`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Iterable

from picows import WSCloseCode, WSHandshakeError, WSListener, WSMsgType, WSTransport, ws_connect

from ..handlers import ConnectionHooks, PublicWebSocketHandler
from ..models import CLOSED as STATUS_CLOSED
from ..models import CONNECTED as STATUS_CONNECTED
from ..models import CONNECTING as STATUS_CONNECTING
from ..models import FAILED, RECONNECTING, ConnectionStatus, VenueError, encode_event
from .backoff import Backoff
from .protocol import Subscription, VenueProtocol
from .rest import RestClient
from .tap import ACK_TIMEOUT, CONNECT, CONNECT_FAILED, DISCONNECT, OPEN, SILENCE, SNAPSHOT, SNAPSHOT_FAILED, STATUS, Tap
from .watch import SubscriptionWatch

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

# the longest Retry-After of a refused upgrade we wait (a venue asking for more is retried then)
MAX_RETRY_AFTER_S = 300.0


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


def ack_timeout_error(handler: PublicWebSocketHandler, venue_symbol: str, channel: str, message: str, recv_ts: int | None) -> VenueError:
    """The ``VenueError`` (``code=-1``) reporting a request that got no valid ack (live and
    replay)."""
    return handler._local(VenueError, venue_symbol, recv_ts, code=-1, message=message, channel=channel)


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
        self.tap = conn.tap
        self.tap_id = conn.tap_id
        self._parts: list[bytes] | None = None
        self._parts_binary = False

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.conn._last_rx_ns = time.time_ns()

    def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
        msg_type = frame.msg_type
        if (msg_type is _TEXT or msg_type is _BINARY) and frame.fin:
            recv_ts = time.time_ns()
            self.conn._last_rx_ns = recv_ts
            payload = frame.get_payload_as_bytes()
            if self.tap is not None:
                self.tap.frame(self.tap_id, msg_type is _BINARY, payload, recv_ts)
            self.handle(payload, recv_ts)
            return
        self._slow_path(transport, frame, msg_type)

    def _slow_path(self, transport: WSTransport, frame: Any, msg_type: Any) -> None:
        conn = self.conn
        recv_ts = time.time_ns()
        conn._last_rx_ns = recv_ts
        if msg_type is _TEXT or msg_type is _BINARY:  # first fragment of a fragmented message
            self._parts = [frame.get_payload_as_bytes()]
            self._parts_binary = msg_type is _BINARY
        elif msg_type is _CONTINUATION:
            if self._parts is None:
                return
            self._parts.append(frame.get_payload_as_bytes())
            if frame.fin:
                payload = b"".join(self._parts)
                self._parts = None
                if self.tap is not None:
                    self.tap.frame(self.tap_id, self._parts_binary, payload, recv_ts)
                self.handle(payload, recv_ts)
        elif msg_type is _CLOSE:
            # answer the venue's close frame, then drop; the run loop decides about reconnecting
            if not conn._closing:
                conn._drop_reason = ("closed", f"close frame {frame.get_close_code()} {frame.get_close_message()!r}")
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
    fetch waits for the first buffered delta, so the snapshot can be checked against it),
    ``subscription_timeout`` s of silence before a subscription is reported (``None``: never).

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
        tap: Tap | None = None,
        subscription_timeout: float | None = None,
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
        self.stats = ConnectionStats()
        self.watch = SubscriptionWatch(protocol, handler, subscription_timeout)
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
        # connect attempts since the last success, and why the open socket went (reason, detail)
        self._attempt = 0
        self._drop_reason: tuple[str, str] | None = None
        self._closed_reported = False
        self.tap = tap
        if tap is not None:
            self.watch.on_report = self._silence
        self.tap_id = tap.connection(self.name, handler.depth) if tap is not None else 0
        if tap is not None:
            tap.event(self.tap_id, OPEN, time.time_ns(), {"name": self.name, "depth": handler.depth})

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
            if self.protocol.is_book(sub):
                self.handler.open_book(sub.venue_symbol)
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
            self.watch.disarm(sub)
            if self.protocol.is_book(sub) and not self.holds_book(sub.venue_symbol):
                self.handler.close_book(sub.venue_symbol)
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
        if self._run_task is not None and not self._closed_reported:
            self._closed_reported = True
            self._report(STATUS_CLOSED, "close", "closed by the client")
        self._set_state(CLOSED)

    def drop(self, reason: str = "dropped", detail: str = "") -> None:
        """Abort the socket now (tests, upgrade notices); the loop reconnects and reports
        ``reason``."""
        if self._drop_reason is None:
            self._drop_reason = (reason, detail)
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
    def on_ack(self, request_id: int | str | None, channel: str, ok: bool, message: str) -> None:
        if request_id.__class__ is str:
            # an id echoed back as a numeric string is still our id
            request_id = int(request_id) if request_id.isdigit() else None  # type: ignore[union-attr]
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
        if ok and channel and channel != pending.ack_channel:
            # a success for another channel than the one asked for is no ack of it (pitfalls #59)
            ok = False
            message = f"ack names {channel!r}, the request was for {pending.ack_channel!r}"
            self._ack_error(pending, message)
        elif not ok and self.protocol.already_subscribed(message) and sub in self.subscriptions:
            # the venue holds the stream already: keep it, its book and its place in the set
            ok = True
            message = f"already subscribed ({message})"
        if ok:
            self.stats.acks_ok += 1
            result = AckResult(sub, pending.event, True, "acked", message)
            if pending.event == "subscribe":
                self.watch.arm(sub, time.time_ns())
                if self.protocol.is_book(sub) and self.protocol.snapshot_via_rest(sub):
                    seq = self.handler.books.get(sub.venue_symbol)
                    if seq is None or not seq.synced:
                        self.request_snapshot(sub.venue_symbol)
        else:
            self.stats.acks_refused += 1
            result = AckResult(sub, pending.event, False, "refused", message)
            if pending.event == "subscribe":
                # refused: never replay it
                self.subscriptions.pop(sub, None)
                self.watch.disarm(sub)
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
        self.drop("upgrade", reason)

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

    def _report(self, status: str, reason: str = "", detail: str = "", retry_in: float | None = None) -> None:
        """One :class:`ConnectionStatus` event to the consumer and one log line."""
        level = logging.WARNING if status == FAILED else logging.INFO
        wait = f"; next attempt in {retry_in:.1f} s" if retry_in is not None else ""
        log.log(level, "%s: %s%s%s%s", self.name, status, f" ({reason})" if reason else "", f": {detail}" if detail else "", wait)
        handler = self.handler
        event = handler._local(
            ConnectionStatus,
            connection=self.name,
            status=status,
            reason=reason,
            detail=detail,
            url=self.protocol.ws_url,
            attempt=self._attempt,
            retry_in=None if retry_in is None else round(retry_in, 3),
        )
        handler._emit(event)
        if self.tap is not None:
            self.tap.event(self.tap_id, STATUS, event.recv_ts, {"event": encode_event(event).decode()})

    def _silence(self, sub: Subscription, status: str, detail: str, now_ns: int) -> None:
        """What the subscription watch reported, for the recorder (a replay reports it again)."""
        self.tap.event(self.tap_id, SILENCE, now_ns, {"venue_symbol": sub.venue_symbol, "channel": sub.channel, "status": status, "detail": detail})

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
            if self.tap is not None:
                self.tap.sent(self.tap_id, payload, time.time_ns())
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
        now = time.time_ns()
        if self.tap is not None:
            detail = {"venue_symbol": sub.venue_symbol, "channel": pending.ack_channel, "message": message}
            self.tap.event(self.tap_id, ACK_TIMEOUT, now, detail)
        self._ack_error(pending, message, now)
        if not pending.future.done():
            pending.future.set_result(AckResult(sub, pending.event, False, "timeout", message))

    def _ack_error(self, pending: _Pending, message: str, recv_ts: int | None = None) -> None:
        """A :class:`VenueError` (``code=-1``) about a request that got no valid ack."""
        self.handler._emit(ack_timeout_error(self.handler, pending.sub.venue_symbol, pending.ack_channel, message, recv_ts))

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
            self._attempt += 1
            self._report(STATUS_CONNECTING)
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
                reason, retry_after = connect_failure(exc)
                self.last_error = f"connect failed: {type(exc).__name__}: {exc}"
                if self.tap is not None:
                    self.tap.event(self.tap_id, CONNECT_FAILED, time.time_ns(), {"error": self.last_error})
                delay = self.backoff.next()
                if retry_after is not None:
                    delay = max(delay, retry_after)
                self._report(FAILED, reason, self.last_error, delay)
                await self._sleep(delay)
                continue
            self._session += 1
            session = self._session
            self._transport = transport
            self._last_rx_ns = time.time_ns()
            self._drop_reason = None
            frames_before = self.handler.stats.frames
            started = loop.time()
            self.stats.connects += 1
            self._attempt = 0
            if self.tap is not None:
                self.tap.event(self.tap_id, CONNECT, self._last_rx_ns, {"url": protocol.ws_url})
            self._set_state(CONNECTED)
            self._report(STATUS_CONNECTED)
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
            reason, detail = self._drop_reason or ("dropped", "the socket closed without a close frame")
            if self._reconnect_now:
                self._reconnect_now = False
                self._report(RECONNECTING, reason, detail, 0.0)
                continue
            delay = self.backoff.next()
            self._report(RECONNECTING, reason, detail, delay)
            await self._sleep(delay)
        self._set_state(CLOSED)

    async def _sleep(self, delay: float) -> None:
        self._set_state(BACKOFF)
        await asyncio.sleep(delay)

    def _replay(self) -> None:
        """Send the current subscription set (only it) on a fresh socket."""
        loop = asyncio.get_running_loop()
        for sub in list(self.subscriptions):
            future = self._awaiting_replay.pop(sub, None) or loop.create_future()
            self._send_request(sub, "subscribe", future)
        for sub, future in list(self._awaiting_replay.items()):
            if not future.done():
                future.set_result(AckResult(sub, "subscribe", False, "closed", "no longer subscribed"))
        self._awaiting_replay.clear()

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
        reset = "closed" if self._closing else "reconnect"
        now = time.time_ns()
        if self.tap is not None:
            why = ": ".join(self._drop_reason) if self._drop_reason else ("closed by the client" if self._closing else "connection lost")
            self.tap.event(self.tap_id, DISCONNECT, now, {"reset": reset, "why": why})
        self.watch.clear()
        self.handler.reset_books(reset, now)

    async def _heartbeat(self, transport: WSTransport, session: int) -> None:
        ping = self.protocol.ping_frame()
        interval = self.ping_interval
        timeout = self.no_data_timeout
        watch = self.watch
        quiet = watch.timeout_ns / 1e9 if watch.enabled else timeout
        tick = max(0.05, min(interval, timeout, quiet) / 4)
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + interval
        while session == self._session and not transport.is_disconnected:
            await asyncio.sleep(tick)
            now = loop.time()
            if ping is not None and now >= next_ping:
                next_ping = now + interval
                if self._send(self.protocol.ping_frame() or ping):
                    self.stats.pings_sent += 1
            now_ns = time.time_ns()
            if watch.watched:
                watch.check(now_ns)
            idle = (now_ns - self._last_rx_ns) / 1e9
            if idle > timeout:
                self.stats.watchdog_drops += 1
                self.last_error = f"no frame for {idle:.1f} s"
                self._drop_reason = ("no_data", self.last_error)
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
                    if self.tap is not None:
                        detail = {"venue_symbol": venue_symbol, "error": f"{type(exc).__name__}: {exc}"}
                        self.tap.event(self.tap_id, SNAPSHOT_FAILED, time.time_ns(), detail)
                    await asyncio.sleep(backoff.next())
                    continue
                if session != self._session or not self.holds_book(venue_symbol):
                    return
                self.stats.snapshots += 1
                # leave the in-flight slot before applying: a too-old snapshot asks again
                self._snapshot_tasks.pop(venue_symbol, None)
                now = time.time_ns()
                if self.tap is not None:
                    self.tap.event(self.tap_id, SNAPSHOT, now, {"venue_symbol": venue_symbol})
                handler.apply_snapshot(venue_symbol, snap.update_id, snap.bids, snap.asks, snap.exchange_ts, now)
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


def connect_failure(exc: BaseException) -> tuple[str, float | None]:
    """``(reason, retry_after s or None)`` of a failed connect attempt: ``http_<status>`` for an
    upgrade the server refused (429/503 with ``Retry-After`` in seconds, capped at
    :data:`MAX_RETRY_AFTER_S`), ``refused``, ``timeout``, ``handshake`` or ``error``."""
    if isinstance(exc, WSHandshakeError):
        response = getattr(exc, "response", None)
        status = getattr(response, "status", None)
        if status is None:
            return "handshake", None
        retry_after = None
        value = response.headers.get("Retry-After") if response.headers is not None else None
        if value is not None and value.strip().isdigit():
            retry_after = min(float(value.strip()), MAX_RETRY_AFTER_S)
        return f"http_{int(status)}", retry_after
    if isinstance(exc, ConnectionRefusedError):
        return "refused", None
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout", None
    return "error", None
