"""Per-subscription silence: every subscription of a connection, whatever its channel, is
reported when nothing arrived on it for ``timeout`` seconds since its subscribe ack or since
its last push, and again when it speaks.

A connection-wide watchdog cannot see this: pongs and other channels keep the socket busy
while one channel says nothing (an unknown obu level acked with success, a MEXC channel the
venue stopped serving, a symbol with no trades). What counts as "something arrived":

- any event of the classes its table row emits (``Channel.emits``, status events left out)
  for its venue symbol, from the handler's ``seen`` record;
- for a book subscription also any change of its sequencer (a delta buffered while the book
  waits for its snapshot is data too).

Reports go to the consumer as :class:`~cexfeed.models.StreamStatus` (``no_data`` /
``data_resumed``), for books also as :class:`~cexfeed.models.BookStatus` (``stale``/``no_data``,
``synced``/``data_resumed``), counted as ``no_data`` in the handler's stats and logged.
The check runs from the connection's heartbeat, never on the data path.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from ..handlers import PublicWebSocketHandler
from ..models import DATA_RESUMED, NO_DATA, STALE, SYNCED, BookStatus, StreamStatus, VenueError
from .protocol import Subscription, VenueProtocol

log = logging.getLogger("cexfeed.net")

# status events are not data
_NOT_DATA = (BookStatus, StreamStatus, VenueError)


class _Watched:
    __slots__ = ("since", "last", "signature", "silent")

    def __init__(self, since: int) -> None:
        self.since = since  # ns of the ack
        self.last = 0  # ns of the last activity seen through a sequencer change
        self.signature: tuple | None = None
        self.silent = False


def _book_signature(seq: Any) -> tuple:
    buffer = seq.buffer
    return (seq.deltas_applied, seq.deltas_dropped_stale, seq.snapshots, seq.resyncs, buffer[-1][1] if buffer else None)


class SubscriptionWatch:
    """The silence check of one connection's subscriptions. ``timeout`` s (``None``: off).

    The connection calls :meth:`arm` on a successful subscribe ack, :meth:`disarm` on
    unsubscribe, :meth:`clear` when the socket goes, and :meth:`check` periodically.
    """

    def __init__(self, protocol: VenueProtocol, handler: PublicWebSocketHandler, timeout: float | None) -> None:
        self.protocol = protocol
        self.handler = handler
        self.timeout_ns = int(timeout * 1e9) if timeout else 0
        self.watched: dict[Subscription, _Watched] = {}
        self._classes: dict[str, tuple[type, ...]] = {}
        # told (sub, status, detail, now_ns) after each report (the connection's recorder)
        self.on_report: Callable[[Subscription, str, str, int], None] | None = None

    @property
    def enabled(self) -> bool:
        return self.timeout_ns > 0

    def arm(self, sub: Subscription, now_ns: int) -> None:
        """Start watching ``sub`` (acked at ``now_ns``); a sub already watched keeps its state."""
        if self.timeout_ns and sub not in self.watched:
            self.watched[sub] = _Watched(now_ns)

    def disarm(self, sub: Subscription) -> None:
        self.watched.pop(sub, None)

    def clear(self) -> None:
        self.watched.clear()

    def _data_classes(self, sub: Subscription) -> tuple[type, ...]:
        classes = self._classes.get(sub.channel)
        if classes is None:
            emits = self.protocol.row(sub).emits
            classes = self._classes[sub.channel] = tuple(cls for cls in emits if not issubclass(cls, _NOT_DATA))
        return classes

    def last_activity(self, sub: Subscription, watched: _Watched, now_ns: int) -> int:
        """ns of the last sign of life of ``sub`` (its ack at the earliest)."""
        handler = self.handler
        seen = handler.seen
        last = watched.since
        for cls in self._data_classes(sub):
            ts = seen[cls].get(sub.venue_symbol, 0) if cls in seen else 0
            if ts > last:
                last = ts
        if self.protocol.is_book(sub):
            seq = handler.books.get(sub.venue_symbol)
            if seq is not None:
                signature = _book_signature(seq)
                if signature != watched.signature:
                    if watched.signature is not None:
                        watched.last = now_ns
                    watched.signature = signature
            if watched.last > last:
                last = watched.last
        return last

    def check(self, now_ns: int) -> list[Subscription]:
        """Report every watched subscription that went silent or spoke again since the last
        check; returns the silent ones."""
        if not self.watched:
            return []
        limit = self.timeout_ns
        silent = []
        for sub, watched in self.watched.items():
            last = self.last_activity(sub, watched, now_ns)
            idle = now_ns - last
            if idle >= limit:
                silent.append(sub)
                if not watched.silent:
                    watched.silent = True
                    after = "the subscribe ack" if last == watched.since else "its last push"
                    self._report(sub, NO_DATA, f"nothing for {idle / 1e9:.1f} s since {after}", now_ns)
            elif watched.silent:
                watched.silent = False
                self._report(sub, DATA_RESUMED, "", now_ns)
        return silent

    def _report(self, sub: Subscription, status: str, detail: str, now_ns: int) -> None:
        report_silence(self.protocol, self.handler, sub.channel, sub.venue_symbol, status, detail, now_ns)
        if self.on_report is not None:
            self.on_report(sub, status, detail, now_ns)


def report_silence(protocol: VenueProtocol, handler: PublicWebSocketHandler, channel: str, venue_symbol: str, status: str, detail: str,
                   now_ns: int) -> None:
    """Tell the consumer that the subscription ``channel``/``venue_symbol`` went silent
    (``no_data``: a ``StreamStatus`` and, for a book, ``BookStatus`` ``stale``; counted) or is
    back (``data_resumed``). The live watch and the replay of a capture both call it."""
    if status == NO_DATA:
        handler.stats.errors["no_data"] += 1
    log.info("%s %s %s %s: %s%s", handler.venue, handler.market, channel, venue_symbol, status, f" ({detail})" if detail else "")
    handler._emit(handler._local(StreamStatus, venue_symbol, now_ns, channel=channel, status=status, reason=status, detail=detail))
    if protocol.table.row(channel).book:
        seq = handler.books.get(venue_symbol)
        synced = seq is not None and seq.synced
        if status == NO_DATA:
            last_id = seq.book.last_update_id if synced else None
            handler._status(venue_symbol, STALE, NO_DATA, last_id, 0, now_ns, detail)
        elif synced:
            handler._status(venue_symbol, SYNCED, DATA_RESUMED, seq.book.last_update_id, 0, now_ns)
