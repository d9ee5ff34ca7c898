"""The latest known values of partial events, merged per symbol.

Some venues push only the fields that changed (Gate futures tickers: a push may carry just the
mark price, or just the funding rate); the events of such a push have ``None`` for every field
it did not carry ("not in this push", see :mod:`cexfeed.models`). :class:`Latest` keeps, per
event type and symbol, the last value of every field, so a consumer that wants "the ticker as
it is now" gets it whole::

    latest = Latest()
    async for event in feed.events():
        event = latest.update(event)   # Ticker/FundingRate/MarkPrice/OpenInterest: merged

Only the partial event types are merged (:data:`PARTIAL`); any other event is returned as it
is. ``BestBidOffer`` is not partial: a ``None`` side there means no quote now, which an older
quote must not fill in.
"""

from __future__ import annotations

import msgspec

from .models import Event, FundingRate, MarkPrice, OpenInterest, Ticker

#: event types whose ``None`` fields mean "not in this push"
PARTIAL: tuple[type, ...] = (Ticker, FundingRate, MarkPrice, OpenInterest)
# the fields every event has: never merged (exchange_ts and recv_ts are the push's own)
_HEAD = frozenset(Event.__struct_fields__)


class Latest:
    """Per (event type, venue, market, symbol): the last known value of every field."""

    def __init__(self) -> None:
        self._last: dict[tuple, Event] = {}

    def update(self, event: Event) -> Event:
        """``event`` with each ``None`` field filled from the latest earlier event of its type
        and symbol (a new event, the original is not changed), recorded as the latest; events
        of other types unchanged."""
        if not isinstance(event, PARTIAL):
            return event
        key = (event.__class__, event.venue, event.market, event.symbol)
        previous = self._last.get(key)
        if previous is not None:
            missing = {
                name: getattr(previous, name)
                for name in event.__struct_fields__
                if name not in _HEAD and getattr(event, name) is None and getattr(previous, name) is not None
            }
            if missing:
                event = msgspec.structs.replace(event, **missing)
        self._last[key] = event
        return event

    def get(self, cls: type, venue: str, market: str, symbol: str) -> Event | None:
        """The latest merged event of ``cls`` for ``symbol`` (unified), or ``None``."""
        return self._last.get((cls, venue, market, symbol))
