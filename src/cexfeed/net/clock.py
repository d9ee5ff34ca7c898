"""Server time for signed requests (venue-free).

Signed requests carry the venue's notion of now (Gate: seconds, refused beyond 60 s of server
time, pitfalls D.1 #24). :class:`ServerClock` keeps ``offset_ms`` = server time - local time,
measured from one REST call with the round trip's midpoint, and gives ``now_ms``/``now_s``.
"""

from __future__ import annotations

import time
from typing import Awaitable, Callable


class ServerClock:
    """``offset_ms`` is added to the local clock (0 until :meth:`measure`); ``measurements``
    counts how often it was measured."""

    __slots__ = ("offset_ms", "measurements", "round_trip_ms")

    def __init__(self, offset_ms: int = 0) -> None:
        self.offset_ms = offset_ms
        self.measurements = 0
        self.round_trip_ms = 0

    def now_ms(self) -> int:
        """Server time in ms since the epoch (local time + offset)."""
        return time.time_ns() // 1_000_000 + self.offset_ms

    def now_s(self) -> int:
        """Server time in whole seconds."""
        return self.now_ms() // 1000

    async def measure(self, server_ms: Callable[[], Awaitable[int]]) -> int:
        """Set the offset from one call of ``server_ms()`` (the venue's time in ms), taken
        against the midpoint of the call. Returns the offset. Raises what ``server_ms`` raises."""
        t0 = time.time_ns()
        server = await server_ms()
        t1 = time.time_ns()
        self.round_trip_ms = (t1 - t0) // 1_000_000
        self.offset_ms = int(server) - (t0 + t1) // 2_000_000
        self.measurements += 1
        return self.offset_ms
