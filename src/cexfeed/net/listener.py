"""The picows listener of a :class:`~cexfeed.net.connection.WsConnection` (data frames go to
the handler inline, fragments are reassembled, a close frame is answered) and how a failed
connect attempt is classified."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from picows import WSHandshakeError, WSListener, WSMsgType, WSTransport

if TYPE_CHECKING:  # pragma: no cover
    from .connection import WsConnection

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CLOSE = WSMsgType.CLOSE
_CONTINUATION = WSMsgType.CONTINUATION

# the longest Retry-After of a refused upgrade we wait (a venue asking for more is retried then)
MAX_RETRY_AFTER_S = 300.0


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
