"""Event delivery to the consumer, shared by the market :class:`~cexfeed.feed.Feed` and the
:class:`~cexfeed.private_feed.Account`: an inline callback, optional sinks, and a bounded queue
read by ``events()`` that never makes the read loop wait.

When the queue is full the oldest event is dropped and counted (``dropped``); the next event
the consumer reads is preceded by one :class:`~cexfeed.models.EventsDropped` saying how many
went and which books had updates among them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, AsyncIterator, Callable, Sequence

from .models import BookUpdate, Event, EventsDropped, local_event

# events handed over in a row before the consumer gives the read loop a turn
YIELD_EVERY = 256


class EventDelivery:
    """What a stream hands its events through. A subclass calls :meth:`_init_delivery` in its
    ``__init__``, has a ``protocol`` (whose ``table`` names the venue and market of events it
    raises itself) and defines ``start()`` and ``close()`` (``async with`` runs them); setting
    ``_closed`` true ends :meth:`events` once the queue is read.

    The queue is a deque and a waiting consumer is woken once per read-loop turn, not once per
    event: the read loop hands over every event of the frames it read in one go (one socket
    read), and the consumer takes them without awaiting between them, but for a loop turn
    every :data:`YIELD_EVERY` events, so a consumer slow to handle each event cannot keep the
    read loop from reading (the bounded queue then drops the oldest, as documented)."""

    protocol: Any

    def _init_delivery(self, on_event: Callable[[Event], None] | None, queue_size: int, sinks: Sequence[Any] = ()) -> None:
        self._on_event = on_event
        self._buffer: deque[Event] = deque()
        self.queue_size = queue_size
        # futures of consumers waiting for the next event (usually one); set once, then cleared
        self._waiters: list[asyncio.Future] = []
        # with sinks or a callback the queue stays off until events() is called
        self._queue_on = on_event is None and not sinks
        self.dropped = 0
        self.events_total = 0
        # set by cexfeed.metrics: called with each event (it samples latencies)
        self.observer: Callable[[Event], None] | None = None
        # events dropped since the consumer last read, and the books among them
        self._lost = 0
        self._lost_books: set[str] = set()
        self.sinks = list(sinks)
        self._sink_submits = [sink.submit for sink in self.sinks]
        self._closed = False
        self._ended = False  # the stream ended on its own (an account refused): events() ends

    @property
    def _closed(self) -> bool:
        return self._is_closed

    @_closed.setter
    def _closed(self, value: bool) -> None:
        self._is_closed = value
        if value:
            self._wake()

    def _wake(self) -> None:
        waiters = self._waiters
        self._waiters = []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _dispatch(self, event: Event) -> None:
        self.events_total += 1
        if self.observer is not None:
            self.observer(event)
        for submit in self._sink_submits:
            submit(event)
        callback = self._on_event
        if callback is not None:
            callback(event)
        if self._queue_on:
            buffer = self._buffer
            if len(buffer) >= self.queue_size:
                # drop the oldest: a slow consumer sees fresh data, then an EventsDropped notice
                old = buffer.popleft()
                self.dropped += 1
                self._lost += 1
                if old.__class__ is BookUpdate:
                    self._lost_books.add(old.symbol)
            buffer.append(event)
            if self._waiters:
                self._wake()

    def _local(self, cls: type, **fields: Any) -> Event:
        """A status event raised by the stream itself (no symbol unless given)."""
        table = self.protocol.table
        return local_event(cls, table.venue, table.market, **fields)

    def set_callback(self, on_event: Callable[[Event], None] | None) -> None:
        """Replace the inline callback; with one set (or sinks) the queue stays off until
        :meth:`events`."""
        self._on_event = on_event
        self._queue_on = on_event is None and not self.sinks

    @property
    def queued(self) -> int:
        """Events waiting in the :meth:`events` queue."""
        return len(self._buffer)

    async def _wait(self) -> bool:
        """Wait for the next event; False when closed and nothing is left."""
        while not self._buffer:
            if self._is_closed or self._ended:
                return False
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return True

    async def events(self) -> AsyncIterator[Event]:
        """Events in arrival order until ``close()`` (the events queued by then are still
        read). With an ``on_event`` callback the queue is switched on at the first call. After
        an overflow the next event is preceded by an :class:`~cexfeed.models.EventsDropped`
        (see the module docstring)."""
        self._queue_on = True
        buffer = self._buffer
        popleft = buffer.popleft
        sleep = asyncio.sleep
        while True:
            # the events already queued are handed over without an await between them
            count = 0
            while buffer:
                if self._lost:
                    yield self.drop_notice()
                yield popleft()
                count += 1
                if count == YIELD_EVERY and buffer:
                    count = 0
                    await sleep(0)  # the read loop's turn
            if not await self._wait():
                return

    async def batches(self, max_events: int | None = None) -> AsyncIterator[list[Event]]:
        """Like :meth:`events`, a list at a time: every event queued when the consumer comes
        to read (at most ``max_events``), oldest first, an
        :class:`~cexfeed.models.EventsDropped` first after an overflow. Never an empty list.
        The read loop waits while the consumer handles a batch: a consumer slow per event
        keeps them small with ``max_events``."""
        self._queue_on = True
        buffer = self._buffer
        while True:
            if not buffer and not await self._wait():
                return
            if max_events is None or len(buffer) <= max_events:
                batch = list(buffer)
                buffer.clear()
            else:
                batch = [buffer.popleft() for _ in range(max_events)]
            if self._lost:
                batch.insert(0, self.drop_notice())
            yield batch

    def drop_notice(self) -> EventsDropped:
        """The :class:`EventsDropped` of the events dropped since the last notice (and resets
        that count); :meth:`events` yields it by itself."""
        notice = self._local(EventsDropped, count=self._lost, total=self.dropped, books=sorted(self._lost_books))
        self._lost = 0
        self._lost_books = set()
        return notice

    async def start(self, timeout: float = 15.0) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self):
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
