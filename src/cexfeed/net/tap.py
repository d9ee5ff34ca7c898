"""The recording tap of the network core: what a recorder is told about one live session.

:class:`~cexfeed.net.connection.WsConnection` and :class:`~cexfeed.net.rest.RestClient` hold an
optional ``tap`` (``None`` by default: the only cost then is one ``is None`` check per frame).
Every method is called inline on the event loop thread, in the order things happened, and must
return quickly without blocking (buffer and write elsewhere: see :mod:`cexfeed.record`).

Connection event kinds (``kind`` of :meth:`Tap.event`, ``detail`` keys in brackets):

``open``             a connection object was created with its handler [``name``, ``depth``]
``connect``          the WebSocket handshake succeeded [``url``]
``connect_failed``   the connect attempt failed [``error``]
``disconnect``       the socket is gone; the handler's books were reset [``reset``: ``reconnect``
                     or ``closed`` (the argument of ``connection_lost``), ``why``: close code and
                     message, watchdog, venue upgrade notice ...]
``snapshot``         a REST book snapshot was applied now [``venue_symbol``]; its body is the
                     last ``rest`` record with status 200 for the same request
``snapshot_failed``  a snapshot fetch failed and will be retried [``venue_symbol``, ``error``]
``ack_timeout``      a request got no ack; a ``VenueError`` was emitted [``venue_symbol``,
                     ``channel``, ``message``]
``silence``          the subscription watch reported a subscription silent or back
                     [``venue_symbol``, ``channel``, ``status``, ``detail``]
``status``           a status event the core or the feed raised itself (``ConnectionStatus`` ...)
                     [``event``: its JSON]; on connection :data:`FEED` when the feed raised it

``ts`` is ``time.time_ns()``; it is also the ``recv_ts`` of any event the core emitted for it.
"""

from __future__ import annotations

from typing import Any, Mapping

OPEN = "open"
CONNECT = "connect"
CONNECT_FAILED = "connect_failed"
DISCONNECT = "disconnect"
SNAPSHOT = "snapshot"
SNAPSHOT_FAILED = "snapshot_failed"
ACK_TIMEOUT = "ack_timeout"
SILENCE = "silence"
STATUS = "status"
#: the connection id of what the feed itself (not one connection) reports
FEED = 0xFFFF


class Tap:
    """Base of a recording tap; every method does nothing here."""

    def describe(self, session: Mapping[str, Any]) -> None:
        """The session about to run: ``venue``, ``ws_url``, ``rest_url``, ``symbols``,
        ``channels``, ``protocol_options`` (JSON-able values). Called once, before any other."""

    def connection(self, name: str, depth: int) -> int:
        """A new connection (and its handler, keeping ``depth`` levels); returns the small
        integer id the connection passes to the other methods (0, 1, ... < 65535)."""
        return 0

    def frame(self, conn: int, binary: bool, payload: bytes, recv_ts: int) -> None:
        """A data frame as received (the reassembled message if fragmented), before the
        handler sees it; ``recv_ts`` is the one the handler gets."""

    def sent(self, conn: int, payload: bytes, ts: int) -> None:
        """A text frame the client sent (subscribe, unsubscribe, ping)."""

    def event(self, conn: int, kind: str, ts: int, detail: Mapping[str, Any]) -> None:
        """A connection event (module docstring)."""

    def rest(self, ts: int, url: str, path: str, params: Mapping[str, Any] | None, status: int, body: bytes, error: str) -> None:
        """One REST attempt: ``status`` the HTTP status (0: transport error, then ``error``
        says what), ``body`` the response body (empty on a transport error)."""
