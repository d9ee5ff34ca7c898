"""Futures frames held until their contract multiplier is known (gateio-protocol.md §7.1).

A futures push whose sizes need a multiplier the contract list has not given (the list could not
be fetched yet, or it does not name the contract) is not published with contract counts as
base-currency sizes: the whole frame is held, in arrival order, and handled again when
:meth:`HeldSizes.set_symbols` installs a list that names the contract. The consumer is told
with a :class:`~cexfeed.models.StreamStatus` ``held`` per contract (and a log line), then
``released`` when its frames go out. At most :attr:`HeldSizes.MAX_HELD` frames are kept; beyond
that the oldest go (counted ``held_dropped``; a book missing one of its pushes then resyncs on
the gap as usual, and the ``released`` status says ``dropped``).

Inverse contracts (multiplier ``"0"``: one contract is one unit of the quote currency) are
refused: their size-bearing pushes are counted (``inverse_contract``) and skipped.

Shared by the direct futures handler and its strategy-path twin (a mixin put before the
handler class: it takes the frames ``_dispatch`` raised :class:`MultiplierUnknown` for, through
the handler's ``_failed``; nothing on the path of a frame that succeeds).
"""

from __future__ import annotations

import logging
import time
from collections import deque

from ...models import HELD, RELEASED, StreamStatus
from .contracts import MultiplierUnknown

log = logging.getLogger("cexfeed")


class HeldSizes:
    """Mixin: hold frames that raise :class:`MultiplierUnknown`, release them on
    :meth:`set_symbols`. ``held`` (frames waiting) and ``held_symbols`` are public."""

    MAX_HELD = 5000

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.held: deque[tuple[str, bytes | str, int]] = deque()
        # venue symbol -> frames of it dropped while held (the bound was reached)
        self.held_symbols: dict[str, int] = {}

    def _failed(self, raw, recv_ts: int, exc: Exception) -> None:
        if isinstance(exc, MultiplierUnknown):
            self._hold(exc, raw, recv_ts)
        else:
            super()._failed(raw, recv_ts, exc)

    def _hold(self, exc: MultiplierUnknown, raw, recv_ts: int) -> None:
        venue_symbol = exc.venue_symbol
        if exc.inverse:
            self._count_error("inverse_contract", raw, exc)
            return
        only = self._only
        if only is not None and venue_symbol not in only:  # not subscribed: nothing to wait for
            self._count_error("unknown_symbol", raw, f"a push of {venue_symbol!r}, not subscribed or not listed")
            return
        self.stats.errors["held_no_multiplier"] += 1
        if venue_symbol not in self.held_symbols:
            self.held_symbols[venue_symbol] = 0
            log.warning("%s %s %s: sizes held until the contract list gives its multiplier", self.venue, self.market, venue_symbol)
            self._stream_status(venue_symbol, HELD, "no_multiplier", "contract multiplier unknown: size-bearing pushes held", recv_ts)
        if len(self.held) >= self.MAX_HELD:
            lost, _, _ = self.held.popleft()
            self.stats.errors["held_dropped"] += 1
            self.held_symbols[lost] = self.held_symbols.get(lost, 0) + 1
        self.held.append((venue_symbol, raw, recv_ts))

    def set_symbols(self, symbols) -> None:
        """Install a new contract list and handle the held frames again, in order; the
        contracts it names get ``StreamStatus`` ``released`` first."""
        super().set_symbols(symbols)
        if not self.held_symbols:
            return
        frames = list(self.held)
        self.held.clear()
        waiting = self.held_symbols
        self.held_symbols = {}
        now = time.time_ns()
        for venue_symbol, dropped in waiting.items():
            if symbols.instrument(venue_symbol) is None:
                self.held_symbols[venue_symbol] = dropped
                continue
            reason = "dropped" if dropped else ""
            detail = f"{dropped} held frames were dropped (bound {self.MAX_HELD})" if dropped else ""
            self._stream_status(venue_symbol, RELEASED, reason, detail, now)
        for _, raw, recv_ts in frames:
            try:
                self._dispatch(raw, recv_ts)
            except Exception as exc:  # the handler contract: count (or hold again), never raise
                self._failed(raw, recv_ts, exc)

    def _stream_status(self, venue_symbol: str, status: str, reason: str, detail: str, recv_ts: int) -> None:
        self._emit(self._local(StreamStatus, venue_symbol, recv_ts, channel="", status=status, reason=reason, detail=detail))
