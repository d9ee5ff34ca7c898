"""Event delivery to the consumer, shared by the market :class:`~cexfeed.feed.Feed` and the
:class:`~cexfeed.private_feed.Account`: an inline callback, optional sinks, and a bounded queue
read by ``events()`` that never makes the read loop wait.

When the queue is full the oldest event is dropped and counted (``dropped``); the next event
the consumer reads is preceded by one :class:`~cexfeed.models.EventsDropped` saying how many
went and which books had updates among them.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Callable, Sequence

from .models import BookUpdate, Event, EventsDropped, local_event


class EventDelivery:
    """What a stream hands its events through. A subclass calls :meth:`_init_delivery` in its
    ``__init__``, has a ``protocol`` (whose ``table`` names the venue and market of events it
    raises itself) and defines ``start()`` and ``close()`` (``async with`` runs them)."""

    protocol: Any

    def _init_delivery(self, on_event: Callable[[Event], None] | None, queue_size: int, sinks: Sequence[Any] = ()) -> None:
        self._on_event = on_event
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=queue_size)
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
            queue = self._queue
            if queue.full():
                # drop the oldest: a slow consumer sees fresh data, then an EventsDropped notice
                old = queue.get_nowait()
                self.dropped += 1
                self._lost += 1
                if old.__class__ is BookUpdate:
                    self._lost_books.add(old.symbol)
            queue.put_nowait(event)

    def _local(self, cls: type, **fields: Any) -> Event:
        """A status event raised by the stream itself (no symbol unless given)."""
        table = self.protocol.table
        return local_event(cls, table.venue, table.market, **fields)

    def set_callback(self, on_event: Callable[[Event], None] | None) -> None:
        """Replace the inline callback; with one set (or sinks) the queue stays off until
        :meth:`events`."""
        self._on_event = on_event
        self._queue_on = on_event is None and not self.sinks

    async def events(self) -> AsyncIterator[Event]:
        """Events in arrival order until ``close()``. With an ``on_event`` callback the queue
        is switched on at the first call. After an overflow the next event is preceded by an
        :class:`~cexfeed.models.EventsDropped` (see the module docstring)."""
        self._queue_on = True
        queue = self._queue
        while not self._closed or not queue.empty():
            try:
                event = await asyncio.wait_for(queue.get(), 0.5)
            except asyncio.TimeoutError:
                continue
            if self._lost:
                yield self.drop_notice()
            yield event

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
