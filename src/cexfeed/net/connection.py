"""One WebSocket connection of the network core (picows).

Lifecycle of a :class:`WsConnection`::

    connect (extra headers) -> replay the CURRENT subscription set -> read frames inline into
    ``handler._handle_message(payload, recv_ts_ns)`` -> on drop / silence / upgrade notice:
    ``handler.connection_lost()``, wait a capped exponential backoff with jitter, connect again.

* Heartbeat: the venue's app-level ping every ``ping_interval`` s; a watchdog drops the socket
  when no frame at all (data, ack or pong) arrived for ``no_data_timeout`` s.
* State changes reach the consumer as :class:`~cexfeed.models.ConnectionStatus` events
  (``connecting``, ``connected``, ``reconnecting`` with the reason, ``failed`` with the reason
  and the wait, ``closed``) and as log lines. A refused upgrade (HTTP 429/503) waits what its
  ``Retry-After`` asks, within :data:`~cexfeed.net.listener.MAX_RETRY_AFTER_S`.
* Requests carry int32 ids; each subscribe/unsubscribe waits for its ack up to ``ack_timeout``.
  An ack matches its request by id (an id echoed as a numeric string too), else by channel;
  a success that names another channel than the request's does not count (it is refused).
  A refused subscription is dropped from the set (never replayed) and reported as a
  :class:`~cexfeed.models.VenueError` by the handler; the venue's "already subscribed"
  refusal (``VenueProtocol.already_subscribed``) keeps it, as acked. An unacked one is
  reported as a ``VenueError`` with ``code=-1`` and stays in the set. A market subscription
  the venue had accepted and refuses later (on the replay after a reconnect) is kept and asked
  again with a capped backoff (a venue's hiccup must not lose a stream for good), told as a
  ``StreamStatus`` ``refused`` (books: ``BookStatus`` ``stale``/``refused``), then
  ``resubscribed``.
* Unsubscribing a book forgets it at once (``handler.close_book``): pushes still in flight are
  dropped, and a later subscribe starts from an empty, unsynced book (``handler.open_book``).
* Every acked subscription is watched for silence (:mod:`cexfeed.net.watch`,
  ``subscription_timeout`` s).
* Only the current subscription set is replayed after a reconnect, never past requests.
* Book snapshots (``request_snapshot``) are fetched by a task off the read loop, with bounded
  retries, then handed to ``handler.apply_snapshot``.
* Private (authenticated) streams: every request frame is built by the protocol at the moment
  it is sent (``subscribe_frame``), so a replay after a reconnect carries a fresh signature;
  ``on_replayed(conn, results)`` is called once the replayed set of a session is answered (the
  account stream then loads its REST snapshot and reconciles).
* An optional recording ``tap`` (:class:`~cexfeed.net.tap.Tap`) is told every frame received
  and sent and every connection event; ``None`` (the default) costs one check per frame.

The connection is the handler's :class:`~cexfeed.handlers.ConnectionHooks`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

from picows import WSCloseCode, WSMsgType, WSTransport, ws_connect

from ..handlers import ConnectionHooks, PublicWebSocketHandler
from ..models import CLOSED as STATUS_CLOSED
from ..models import CONNECTED as STATUS_CONNECTED
from ..models import CONNECTING as STATUS_CONNECTING
from ..models import FAILED, RECONNECTING, ConnectionStatus, encode_event
from .backoff import Backoff
from .protocol import Subscription, VenueProtocol
from .rest import RestClient
from .listener import HandshakeClosed, _Listener, connect_failure
from .requests import AckResult, RequestIds, Requests, _Pending
from .snapshots import Snapshots
from .tap import CONNECT, CONNECT_FAILED, DISCONNECT, OPEN, SILENCE, STATUS, Tap
from .watch import SubscriptionWatch
from ..tasks import cancel_and_wait

log = logging.getLogger("cexfeed.net")

_TEXT = WSMsgType.TEXT

# connection states
IDLE = "idle"
CONNECTING = "connecting"
CONNECTED = "connected"
BACKOFF = "backoff"
CLOSED = "closed"

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


class WsConnection(Requests, Snapshots, ConnectionHooks):
    """One venue WebSocket with its handler, subscription set, heartbeat and reconnects.

    Parameters: ``protocol`` (:class:`VenueProtocol`), ``handler`` (a fresh
    :class:`PublicWebSocketHandler` owned by this connection; its ``hooks`` is set to the
    connection), ``rest`` (shared :class:`RestClient` for snapshots), ``ids`` (shared
    :class:`RequestIds`), ``no_data_timeout`` s, ``ping_interval`` s (default: the protocol's),
    ``ack_timeout`` s, ``backoff`` (reconnect delays), ``snapshot_wait`` s (how long a snapshot
    fetch waits for the first buffered delta, so the snapshot can be checked against it),
    ``subscription_timeout`` s of silence before a subscription is reported (``None``: never),
    ``on_replayed(conn, results)`` called once the replayed set of each session is answered
    (``results`` its :class:`AckResult` list; may return a coroutine, awaited), ``tap``.
    ``handler`` may be a :class:`~cexfeed.handlers.PrivateWebSocketHandler` (account streams).

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
        self.on_replayed = on_replayed
        self.stats = ConnectionStats()
        self.watch = SubscriptionWatch(protocol, handler, subscription_timeout)
        self.state = IDLE
        # the current subscription set, in subscription order (dict as ordered set)
        self.subscriptions: dict[Subscription, None] = {}
        self._pending: dict[int, _Pending] = {}
        # subscribe futures waiting for a (re)sent request after a reconnect
        self._awaiting_replay: dict[Subscription, asyncio.Future] = {}
        # subscriptions the venue accepted at least once, and the retries of those it refused later
        self._accepted: set[Subscription] = set()
        self._refused_retries: dict[Subscription, asyncio.Task] = {}
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
        # the URL the current (or last) session connected to (may hold a session token: never logged)
        self.session_url = ""
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
            await cancel_and_wait(self._run_task, None)  # again while it runs on (cexfeed.tasks)
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

    def reconnect_now(self, reason: str, detail: str = "") -> None:
        """Replace the socket at once (no backoff wait), reporting ``reason`` (e.g. a new
        session token, or a connection near the venue's lifetime limit)."""
        self._reconnect_now = True
        self.drop(reason, detail)

    def on_pong(self) -> None:
        self.stats.pongs += 1

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
            url=self.protocol.redact(self.protocol.ws_url),
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

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        protocol = self.protocol
        while not self._closing:
            self._set_state(CONNECTING)
            self._attempt += 1
            self._report(STATUS_CONNECTING)
            url = protocol.ws_url
            try:
                # the outer bound also covers DNS and TCP connect, which picows does not time
                transport, _ = await asyncio.wait_for(
                    ws_connect(
                        lambda: _Listener(self),
                        url,
                        extra_headers=protocol.headers or None,
                        websocket_handshake_timeout=self.handshake_timeout,
                        enable_auto_pong=True,
                        logger_name=protocol.ws_logger(),
                    ),
                    self.handshake_timeout * 2,
                )
                if transport.is_disconnected:
                    raise HandshakeClosed("the connection closed during the opening handshake")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stats.connect_failures += 1
                reason, retry_after = connect_failure(exc)
                self.last_error = protocol.redact(f"connect failed: {type(exc).__name__}: {exc}")
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
            self.session_url = url
            self._transport = transport
            self._last_rx_ns = time.time_ns()
            self._drop_reason = None
            frames_before = self.handler.stats.frames
            started = loop.time()
            self.stats.connects += 1
            if self.tap is not None:
                self.tap.event(self.tap_id, CONNECT, self._last_rx_ns, {"url": protocol.redact(protocol.ws_url)})
            self._set_state(CONNECTED)
            self._report(STATUS_CONNECTED)  # with the number of the attempt that worked, as `connecting` said it
            self._attempt = 0
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
        for task in self._refused_retries.values():  # the next socket replays them with the set
            task.cancel()
        self._refused_retries.clear()
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
        self.handler.connection_lost(reset, now)

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


