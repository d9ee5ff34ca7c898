"""The picows listener of a :class:`~cexfeed.net.connection.WsConnection` (data frames go to
the handler inline, fragments are reassembled, a close frame is answered) and how a failed
connect attempt is classified.

One socket read can hold thousands of frames (picows grows its read buffer to whatever the
kernel has queued, megabytes once the client has fallen behind for a moment). Handling them
all in one loop turn would queue their events for the consumer all at once: past the
``events()`` bound they are dropped, and a large backlog of live events is slow to go
through. So at most :data:`FRAMES_PER_TURN` frames are handled per loop turn; the rest of the
read waits, in order, for the next turns (the consumer reads in between), and while more than
:data:`MAX_PENDING` frames wait the socket is not read (the kernel and TCP hold the rest, as
they do for a client busy parsing). Every frame keeps the ``recv_ts`` of its arrival."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from picows import WSHandshakeError, WSListener, WSMsgType, WSTransport

from . import readcap

if TYPE_CHECKING:  # pragma: no cover
    from .connection import WsConnection

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CLOSE = WSMsgType.CLOSE
_CONTINUATION = WSMsgType.CONTINUATION

# the longest Retry-After of a refused upgrade we wait (a venue asking for more is retried then)
MAX_RETRY_AFTER_S = 300.0
# frames handled per loop turn before the rest of a read waits for the next turn
FRAMES_PER_TURN = 64
# frames waiting beyond which the socket is not read until they are handled
MAX_PENDING = 16 * FRAMES_PER_TURN


class _Listener(WSListener):
    """picows callbacks -> the connection. Data frames go straight to the handler, inline."""

    def __init__(self, conn: "WsConnection") -> None:
        self.conn = conn
        self.handle = conn.handler._handle_message
        self.tap = conn.tap
        self.tap_id = conn.tap_id
        self._parts: list[bytes] | None = None
        self._parts_binary = False
        # frames handled in this loop turn, and those waiting for a later turn (payload, recv_ts)
        self._turn = 0
        self._pending: deque[tuple[bytes, int]] = deque()
        self._transport: WSTransport | None = None
        self._paused = False
        self._loop = asyncio.get_running_loop()
        self.readcap: readcap.ReadCap | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.conn._last_rx_ns = time.time_ns()
        self._transport = transport
        # picows' read buffer would keep the size of the largest backlog read (readcap)
        self.readcap = readcap.install(transport, readcap.READ_LIMIT)

    def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
        msg_type = frame.msg_type
        if (msg_type is _TEXT or msg_type is _BINARY) and frame.fin:
            recv_ts = time.time_ns()
            self.conn._last_rx_ns = recv_ts
            payload = frame.get_payload_as_bytes()
            if self.tap is not None:
                self.tap.frame(self.tap_id, msg_type is _BINARY, payload, recv_ts)
            turn = self._turn
            if turn < FRAMES_PER_TURN and not self._pending:
                if not turn:
                    self._loop.call_soon(self._next_turn)
                self._turn = turn + 1
                self.handle(payload, recv_ts)
            else:
                self._defer(payload, recv_ts)
            return
        self._slow_path(transport, frame, msg_type)

    def _deliver(self, payload: bytes, recv_ts: int) -> None:
        """Hand a reassembled message over in arrival order (after any frames waiting)."""
        if self._pending:
            self._defer(payload, recv_ts)
        else:
            self.handle(payload, recv_ts)

    def _next_turn(self) -> None:
        self._turn = 0

    def _defer(self, payload: bytes, recv_ts: int) -> None:
        pending = self._pending
        if not pending:
            self._loop.call_soon(self._drain)
        pending.append((payload, recv_ts))
        if len(pending) > MAX_PENDING and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.underlying_transport.pause_reading()

    def _drain(self) -> None:
        """Handle up to FRAMES_PER_TURN waiting frames; come back next turn for the rest."""
        pending = self._pending
        handle = self.handle
        popleft = pending.popleft
        for _ in range(min(FRAMES_PER_TURN, len(pending))):
            payload, recv_ts = popleft()
            handle(payload, recv_ts)
        if pending:
            self._loop.call_soon(self._drain)
        if self._paused and len(pending) <= FRAMES_PER_TURN:
            self._paused = False
            transport = self._transport
            if transport is not None and not transport.is_disconnected:
                transport.underlying_transport.resume_reading()

    def _flush(self) -> None:
        """Handle every waiting frame now (the socket went: they belong to this session)."""
        pending = self._pending
        handle = self.handle
        while pending:
            payload, recv_ts = pending.popleft()
            handle(payload, recv_ts)

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
                self._deliver(payload, recv_ts)
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
        self._flush()
        # picows' protocol holds this listener: without these the closed transport, its read
        # cap and picows' read buffer stay in a reference cycle until a full garbage collection
        self._transport = None
        self.readcap = None


class HandshakeClosed(ConnectionError):
    """The socket closed before the opening handshake completed (picows then hands back a
    transport that is already disconnected instead of raising)."""


def connect_failure(exc: BaseException) -> tuple[str, float | None]:
    """``(reason, retry_after s or None)`` of a failed connect attempt: ``http_<status>`` for an
    upgrade the server refused (429/503 with ``Retry-After`` in seconds, capped at
    :data:`MAX_RETRY_AFTER_S`), ``refused``, ``timeout``, ``handshake`` (no valid answer to the
    upgrade, or the socket closed during it) or ``error``."""
    if isinstance(exc, HandshakeClosed):
        return "handshake", None
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
