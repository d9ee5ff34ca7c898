"""A cap on what one socket read hands to picows, so its read buffer stays small.

picows reads into one buffer of its own and doubles it whenever a read fills it past 90 %; it
never shrinks it. After the process was kept off the CPU for a moment the kernel holds
megabytes for the socket, one read takes them all, and the buffer doubles its way up to that
size and stays there for the life of the connection (RSS that grows in steps with every CPU
stall and never comes back). :class:`ReadCap` sits between the asyncio transport and picows'
protocol and offers picows' buffer at most ``limit`` bytes per read: the backlog is read in
several reads of ``limit`` bytes instead of one, and the buffer only grows past about
``limit / 0.9`` for a frame that does not fit (picows grows it for that frame, as before).
"""

from __future__ import annotations

import asyncio
from typing import Any

# bytes offered to picows per socket read (several hundred frames of the venues' sizes)
READ_LIMIT = 256 * 1024


class ReadCap(asyncio.BufferedProtocol):
    """The protocol the transport reads for: picows' protocol ``inner`` with every read cut to
    ``limit`` bytes (None: not cut, only measured). ``largest``: the most free buffer picows
    offered for one read (bytes), what its read buffer grew to."""

    __slots__ = ("inner", "limit", "largest")

    def __init__(self, inner: Any, limit: int | None = READ_LIMIT) -> None:
        self.inner = inner
        self.limit = limit
        self.largest = 0

    def get_buffer(self, sizehint: int) -> memoryview:
        buf = self.inner.get_buffer(sizehint)
        n = len(buf)
        if n > self.largest:
            self.largest = n
        limit = self.limit
        return buf[:limit] if limit is not None and n > limit else buf

    def buffer_updated(self, nbytes: int) -> None:
        self.inner.buffer_updated(nbytes)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


def install(transport: Any, limit: int | None = READ_LIMIT) -> ReadCap | None:
    """Put a :class:`ReadCap` between picows' WebSocket ``transport`` (a ``WSTransport``) and its
    socket; the cap, or None when the transport does not take another protocol."""
    raw = getattr(transport, "underlying_transport", None)
    if raw is None or not hasattr(raw, "set_protocol"):
        return None
    inner = raw.get_protocol()
    if isinstance(inner, ReadCap):
        return inner
    cap = ReadCap(inner, limit)
    raw.set_protocol(cap)
    return cap
