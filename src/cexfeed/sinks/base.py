"""The one sink interface and its buffering: :class:`Sink`.

A feed's event callback calls :meth:`Sink.submit`, which only appends the event to a bounded
in-memory buffer; a task of the sink takes batches from it and sends them (one Redis pipeline,
a run of JetStream async publishes, one file write). So publishing never blocks the read loop.

Policy, counted in :meth:`Sink.stats`:

- **falls behind** (the buffer holds ``buffer`` events): the oldest event is dropped and
  counted (``dropped``); a warning is logged once per episode. Before the next event of the same
  stream the sink publishes a :class:`~cexfeed.sinks.codec.SinkGap` (``reason="overflow"``,
  with the count), so a consumer knows where and how much it lost; a dropped book event makes
  the worker resync that book once the sink has caught up, so consumers get a fresh snapshot.
- **goes away** (connection refused or lost): the batch in flight is kept and sent again after
  reconnecting, with capped exponential backoff and jitter (:class:`cexfeed.net.backoff.Backoff`);
  meanwhile events keep buffering within the bound. A batch sent again may be stored twice
  (at-least-once; JetStream drops such repeats by message id, Redis does not).
- **refuses** a batch (a server error that retrying will not fix, e.g. a wrong key type): the
  batch is counted as ``rejected``, logged, and skipped.

Subclasses implement :meth:`_connect`, :meth:`_send`, :meth:`_disconnect` and :meth:`route`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any, Callable

from ..models import BookUpdate, Event
from ..net.backoff import Backoff
from ..tasks import cancel_and_wait, raise_if_cancel_lost
from .codec import GAP_OVERFLOW, GAP_START, SinkGap, encoder, event_type, source

log = logging.getLogger("cexfeed.sinks")

Item = tuple[str, bytes]  # (stream key / subject, encoded event)


class Rejected(Exception):
    """Raised by :meth:`Sink._send` when the server refused the batch for good."""


class SinkUnavailable(Exception):
    """Raised by :meth:`Sink.open`: the sink cannot be opened at all (a file that cannot be
    created, a broker that refuses or does not answer); the message says which and why."""


class Sink:
    """Base of every sink. ``buffer`` is the most events held while the sink is behind or away;
    ``batch`` the most events per send; ``encoding`` ``json`` or ``msgpack``; ``start_notices``
    publishes a ``SinkGap(reason="start")`` before the first event of each stream, symbol and
    event type (see :class:`~cexfeed.sinks.codec.SinkGap`); ``backoff`` makes the reconnect
    delays (default 0.25 s doubling to 10 s, jittered).

    Use: ``await sink.start()``, then ``sink.submit(event)`` from the event callback (or pass the
    sink to :class:`cexfeed.feed.Feed` with ``sinks=[...]``), ``await sink.close()`` at the end
    (sends what is buffered, up to ``timeout`` s)."""

    kind = "sink"

    def __init__(
        self,
        *,
        buffer: int = 100_000,
        batch: int = 1_000,
        encoding: str = "json",
        start_notices: bool = True,
        backoff: Callable[[], Backoff] | None = None,
    ) -> None:
        if buffer < 1 or batch < 1:
            raise ValueError("buffer and batch must be at least 1")
        self.buffer_size = buffer
        self.batch_size = batch
        self.encoding = encoding
        self.encode = encoder(encoding)
        self.start_notices = start_notices
        self._backoff_factory = backoff or (lambda: Backoff(initial=0.25, cap=10.0))
        self._buffer: deque[Event] = deque()
        self._wake = asyncio.Event()
        # (stream, venue_symbol, type) -> [dropped count, an event naming venue/symbol]
        self._lost: dict[tuple[str, str, str], list] = {}
        self._noticed: set[tuple[str, str, str]] = set()
        self._resync_wanted: set[tuple[str, str]] = set()
        self._resync_hooks: dict[str, Callable[[str], Any]] = {}
        self._task: asyncio.Task | None = None
        self._users = 0
        self._closing = False
        self._connected = False
        self._overflowing = False
        self._down = False
        self._logged = ""
        self._batch_seq = 0
        # the batch being sent (kept across a reconnect)
        self._items: list[Item] = []
        self.published = 0
        self.dropped = 0
        self.rejected = 0
        self.batches = 0
        self.send_errors = 0
        self.connect_failures = 0
        self.connects = 0
        self.gap_notices = 0
        self.resyncs_requested = 0
        self.unsent_at_close = 0
        self.last_error = ""

    # -- the interface -------------------------------------------------------------------------
    def submit(self, event: Event) -> None:
        """Queue one event for publishing; never blocks, never raises. When the buffer is full
        the oldest event is dropped and counted."""
        buf = self._buffer
        buf.append(event)
        n = len(buf)
        if n == 1:
            self._wake.set()
        elif n > self.buffer_size:
            self._drop(buf.popleft())

    async def start(self) -> None:
        """Start the publishing task (connecting happens there, retried until it works). Calling
        it again (a sink shared by several feeds) only counts one more user."""
        self._users += 1
        if self._task is None:
            self._closing = False
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"cexfeed-sink-{self.kind}")
            self._task.add_done_callback(self._task_done)

    async def open(self, timeout: float = 5.0) -> None:
        """Connect now, once, within ``timeout`` s: for a caller that must not start when the
        sink cannot work at all (``cexfeed stream --sink``, ``cexfeed run``); the connection is
        then the publishing task's. Raises :class:`SinkUnavailable`. Later outages follow the
        policy above (events buffer, the sink reconnects)."""
        if self._connected:
            return
        try:
            await asyncio.wait_for(self._connect(), timeout)
        except Exception as exc:
            await self._safe_disconnect()
            why = "no answer" if isinstance(exc, asyncio.TimeoutError) else f"{type(exc).__name__}: {exc}"
            raise SinkUnavailable(f"sink {self.describe()} cannot be opened: {why}") from None
        self._connected = True
        self.connects += 1

    def _task_done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("sink %s: publishing stopped: %r", self.describe(), task.exception())

    async def close(self, timeout: float = 5.0) -> None:
        """Send what is buffered (up to ``timeout`` s), then disconnect; events still unsent are
        counted in ``unsent_at_close``. With several users only the last close does this."""
        self._users = max(0, self._users - 1)
        if self._users or self._task is None:
            return
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except asyncio.TimeoutError:
            # cancelled again while it runs on: one cancellation can be lost in the client
            # library on Python 3.11 (cexfeed.tasks), and a sink retrying against a broker that
            # went away would then never return
            if not await cancel_and_wait(task, timeout):
                log.warning("sink %s: publishing task did not stop within %.1f s of its cancellation", self.describe(), timeout)
        except Exception:  # the task died: already logged there
            pass
        self.unsent_at_close += len(self._buffer) + len(self._items)
        self._buffer.clear()
        self._items = []
        await self._safe_disconnect()

    async def drain(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is sent (or dropped); False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._buffer or self._lost or self._items:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def bind_resync(self, venue: str, resync: Callable[[str, str], Any]) -> None:
        """Let the sink ask for a fresh book of ``venue`` (registry name: ``gateio-spot`` ...)
        after it dropped one of its book events: ``resync(unified_symbol, "sink_overflow")``.
        :class:`cexfeed.feed.Feed` binds itself."""
        self._resync_hooks[venue] = resync

    def stats(self) -> dict[str, Any]:
        """Counters: ``published``, ``dropped`` (buffer full), ``rejected`` (refused by the
        server), ``buffered`` now, ``lag_ms`` (age of the oldest buffered event), ``batches``,
        ``connects``, ``connect_failures``, ``send_errors``, ``gap_notices``,
        ``resyncs_requested``, ``unsent_at_close``, ``connected``, ``last_error``; and the keys
        :mod:`cexfeed.metrics` exports: ``name``, ``errors``, ``pending``, ``lag_seconds``."""
        lag = 0.0
        if self._buffer:
            lag = max(0.0, (time.time_ns() - self._buffer[0].recv_ts) / 1e6)
        return {
            "kind": self.kind,
            "target": self.describe(),
            "published": self.published,
            "dropped": self.dropped,
            "rejected": self.rejected,
            "buffered": len(self._buffer),
            "lag_ms": round(lag, 3),
            "batches": self.batches,
            "connects": self.connects,
            "connect_failures": self.connect_failures,
            "send_errors": self.send_errors,
            "gap_notices": self.gap_notices,
            "resyncs_requested": self.resyncs_requested,
            "unsent_at_close": self.unsent_at_close,
            "connected": self._connected,
            "last_error": self.last_error,
            # the keys cexfeed.metrics exports (docs/metrics.md)
            "name": f"{self.kind}:{self.describe()}",
            "errors": self.send_errors + self.rejected,
            "pending": len(self._buffer),
            "lag_seconds": round(lag / 1000, 6),
        }

    # -- for subclasses ------------------------------------------------------------------------
    def route(self, event: Event) -> str:
        """The stream key / subject of an event."""
        return ""

    def describe(self) -> str:
        """Where the sink writes, without credentials (for logs and stats)."""
        return self.kind

    async def _connect(self) -> None:
        """Open the connection; raise on failure (retried with backoff)."""

    async def _send(self, items: list[Item], first_seq: int) -> None:
        """Send one batch of ``(key, payload)``; ``first_seq`` numbers its first item (stable
        across a retry of the same batch). Raise :class:`Rejected` for a permanent refusal, anything else to retry."""
        raise NotImplementedError

    async def _disconnect(self) -> None:
        """Close the connection (errors are ignored by the caller)."""

    # -- machinery -----------------------------------------------------------------------------
    def _drop(self, event: Event) -> None:
        self.dropped += 1
        kind = event_type(event)
        entry = self._lost.get(key := (self.route(event), event.venue_symbol, kind))
        if entry is None:
            self._lost[key] = [1, event]
        else:
            entry[0] += 1
        if type(event) is BookUpdate:
            self._resync_wanted.add((source(event), event.symbol))
        if not self._overflowing:
            self._overflowing = True
            log.warning("sink %s: %d events buffered, dropping the oldest (%s)", self.describe(), self.buffer_size,
                        "not connected" if not self._connected else "publishing slower than the feed")

    def _notice(self, template: Event, kind: str, reason: str, dropped: int) -> SinkGap:
        self.gap_notices += 1
        return SinkGap(venue=template.venue, market=template.market, symbol=template.symbol,
                       venue_symbol=template.venue_symbol, exchange_ts=None, recv_ts=time.time_ns(),
                       channel=kind, reason=reason, dropped=dropped)

    def _take(self) -> list[Item]:
        """The next batch, encoded: overflow notices first (they concern events older than
        anything still buffered), then buffered events, each new stream preceded by its start
        notice. An event that cannot be encoded is counted as ``rejected`` and skipped."""
        items: list[Item] = []
        encode = self.encode
        noticed = self._noticed
        if self._lost:
            for (key, venue_symbol, kind), (count, template) in self._lost.items():
                items.append((key, encode(self._notice(template, kind, GAP_OVERFLOW, count))))
                noticed.add((key, venue_symbol, kind))
            self._lost.clear()
        buf = self._buffer
        route = self.route
        starts = self.start_notices
        for _ in range(min(len(buf), self.batch_size)):
            event = buf.popleft()
            try:
                key = route(event)
                payload = encode(event)
            except Exception as exc:  # a value the encoder refuses: this event only
                self.rejected += 1
                self._note_error("encode", exc)
                continue
            if starts:
                ident = (key, event.venue_symbol, event_type(event))
                if ident not in noticed:
                    noticed.add(ident)
                    items.append((key, encode(self._notice(event, ident[2], GAP_START, 0))))
            items.append((key, payload))
        return items

    async def _run(self) -> None:
        backoff = self._backoff_factory()
        seq = 0
        while True:
            raise_if_cancel_lost()  # close() cancelled this task; the client library swallowed it
            items = self._items
            if not items:
                if not self._buffer and not self._lost:
                    if self._closing:
                        return
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                items = self._items = self._take()
                if not items:
                    continue
                seq = self._batch_seq
                self._batch_seq += len(items)
            if not self._connected:
                try:
                    await self._connect()
                except Exception as exc:
                    self.connect_failures += 1
                    self._down = True
                    self._note_error("connect", exc)
                    await self._safe_disconnect()
                    await self._pause(backoff.next())
                    continue
                self._connected = True
                self.connects += 1
                if self._down:
                    log.warning("sink %s: connected again", self.describe())
                    self._down = False
                    self._logged = ""
            try:
                await self._send(items, seq)
            except Rejected as exc:
                self.rejected += len(items)
                self._note_error("rejected", exc)
                self._items = []
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # connection trouble: keep the batch and send it again once reconnected
                self.send_errors += 1
                self._down = True
                self._note_error("send", exc)
                self._connected = False
                await self._safe_disconnect()
                await self._pause(backoff.next())
                continue
            else:
                self.published += len(items)
                self.batches += 1
                self._items = []
                backoff.reset()
            self._after_batch()

    def _after_batch(self) -> None:
        if self._overflowing and len(self._buffer) <= self.buffer_size // 2:
            self._overflowing = False
            log.warning("sink %s: caught up; %d events dropped so far", self.describe(), self.dropped)
        if self._resync_wanted and not self._overflowing:
            wanted, self._resync_wanted = self._resync_wanted, set()
            for venue, symbol in sorted(wanted):
                hook = self._resync_hooks.get(venue)
                if hook is None:
                    continue
                try:
                    if hook(symbol, "sink_overflow"):
                        self.resyncs_requested += 1
                except Exception as exc:  # a bad hook must not stop publishing
                    log.warning("sink %s: resync of %s %s failed: %s", self.describe(), venue, symbol, exc)

    async def _pause(self, delay: float) -> None:
        # while closing, retries go on until close()'s timeout cancels the task
        await asyncio.sleep(delay)

    def _note_error(self, what: str, exc: BaseException) -> None:
        # logged once until it changes or the sink recovers; always kept in last_error
        text = f"{what}: {type(exc).__name__}: {exc}"[:300]
        if text != self._logged:
            log.warning("sink %s: %s", self.describe(), text)
            self._logged = text
        self.last_error = text

    async def _safe_disconnect(self) -> None:
        self._connected = False
        try:
            await self._disconnect()
        except Exception:
            pass
