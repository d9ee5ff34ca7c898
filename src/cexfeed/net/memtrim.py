"""Give the heap freed by a resync back to the operating system (glibc ``malloc_trim``).

While a book resyncs, its deltas are buffered until the REST snapshot arrives (thousands at a
high rate), then applied and freed. glibc keeps freed heap memory for reuse and returns it to
the system only from the top of the heap, so after every reconnect the process's RSS kept a
little more (about 0.8 MiB per drop at 55,000 frames/s: a soak's RSS crept up with no object
left alive). After a book is synced from a snapshot the network core calls :func:`after_resync`,
which runs ``malloc_trim(0)`` on the event loop a moment later, at most once every
:data:`MIN_INTERVAL` s for the process. Elsewhere than glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import time
from typing import Callable

# s between two trims at most once (a reconnect resyncs every book of the connection)
MIN_INTERVAL = 5.0
# s after the resync: the buffered deltas are freed by then
DELAY = 0.5

_trim: Callable[[int], int] | None | bool = None  # resolved on first use; False: not available
_last = -MIN_INTERVAL
_pending: asyncio.TimerHandle | None = None  # the trim due, on the loop that runs it
_pending_loop: asyncio.AbstractEventLoop | None = None
trims = 0  # trims made in this process (for tests and reports)


def _resolve() -> Callable[[int], int] | bool:
    global _trim
    if _trim is None:
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _trim = libc.malloc_trim
            _trim.argtypes = [ctypes.c_size_t]
            _trim.restype = ctypes.c_int
        except (OSError, AttributeError):
            _trim = False
    return _trim


def trim() -> bool:
    """``malloc_trim(0)`` now; whether it ran (False where glibc is not the allocator)."""
    global _last, trims
    fn = _resolve()
    if not fn:
        return False
    fn(0)
    _last = time.monotonic()
    trims += 1
    return True


def _run() -> None:
    global _pending, _pending_loop
    _pending = _pending_loop = None
    trim()


def after_resync() -> None:
    """A book was just synced from a snapshot: trim :data:`DELAY` s later unless a trim ran or
    is due within :data:`MIN_INTERVAL` s. Call on the event loop."""
    global _pending, _pending_loop
    loop = asyncio.get_running_loop()
    # one due on this loop covers this resync (one due on a loop since closed never runs)
    if (_pending is not None and _pending_loop is loop and not _pending.cancelled()) or _resolve() is False:
        return
    wait = max(DELAY, _last + MIN_INTERVAL - time.monotonic())
    _pending_loop = loop
    _pending = loop.call_later(wait, _run)
