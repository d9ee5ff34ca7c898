"""The JSON text replies of a MEXC spot connection (mexc-protocol.md §1.4), the same on a
public and on a private (listenKey) connection: acks, ``PONG``, refusals and error codes, handed
to the connection's hooks; a refusal is also a ``VenueError`` event."""

from __future__ import annotations

import msgspec

from .protocol import ACK_EMPTY, ACK_OK, ACK_PONG, Reply, classify_reply
from .spot_table import channel_symbol

_reply = msgspec.json.Decoder(Reply, strict=False)


class MexcReplies:
    """Mixin of the MEXC handlers (needs the :class:`~cexfeed.handlers.WebSocketHandler`
    counters, hooks and ``_venue_error``). :meth:`_scrub` is where a handler removes secrets
    from a venue message before it is reported (the default keeps it)."""

    def _on_text(self, raw: bytes | str, recv_ts: int) -> None:
        try:
            reply = _reply.decode(raw)
        except msgspec.ValidationError as exc:
            # a field of the wrong type can stop the typed decode before it sees that the JSON
            # is not whole: such a frame is malformed (DecodeError), as on every path
            msgspec.json.decode(raw)
            self._count_error("unknown_frame", raw, exc)  # type: ignore[attr-defined]
            return
        kind, channels = classify_reply(reply)
        hooks = self.hooks  # type: ignore[attr-defined]
        if kind == ACK_OK:
            for channel in channels:
                hooks.on_ack(reply.id, channel, True, reply.msg)
        elif kind == ACK_PONG:
            hooks.on_pong()
        elif kind == ACK_EMPTY:
            self._count_error("empty_ack", raw, "subscription not effective")  # type: ignore[attr-defined]
            if getattr(self, "managed", False):
                # a private socket's key no longer valid: the Account replaces it and says so
                # (stale key_refused); no error event for an expected change
                self.hooks.on_ack(reply.id, "", False, "empty ack: subscription not effective")  # type: ignore[attr-defined]
                return
            self._error_event(reply.id, reply.code, "empty ack: subscription not effective", "", recv_ts)
        else:  # refused ("Blocked", code 0) or error code
            for channel in channels or [""]:
                self._error_event(reply.id, reply.code, self._scrub(reply.msg), channel, recv_ts)

    def _scrub(self, text: str) -> str:
        return text

    def _error_event(self, request_id: int, code: int, message: str, channel: str, recv_ts: int) -> None:
        """A refusal: the ``VenueError`` (about the symbol its channel names, else the one of
        the request it answers), then the ack settles the request."""
        venue_symbol = channel_symbol(channel) or self.hooks.request_symbol(request_id, channel)  # type: ignore[attr-defined]
        self.hooks.on_ack(request_id, channel, False, message)  # type: ignore[attr-defined]
        self._venue_error(code, message, channel, recv_ts, None, venue_symbol)  # type: ignore[attr-defined]
