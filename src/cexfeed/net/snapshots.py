"""REST book snapshots of a :class:`~cexfeed.net.connection.WsConnection`: fetched by a task
off the read loop when the handler asks (``request_snapshot``), after waiting briefly for the
first buffered delta (so the snapshot can be checked against it, gateio-protocol.md §10.1),
retried with capped backoff while deltas keep buffering, then handed to
``handler.apply_snapshot``. A snapshot too old for the buffer is asked again a little later each
time (gatews#51). Streams that bring their own snapshot resubscribe instead.
"""

from __future__ import annotations

import asyncio
import time

from .backoff import Backoff
from .tap import SNAPSHOT, SNAPSHOT_FAILED


class Snapshots:
    """Snapshot fetching, for :class:`~cexfeed.net.connection.WsConnection`."""

    def request_snapshot(self, venue_symbol: str) -> None:
        sub = self.book_subscription(venue_symbol)
        if sub is None:
            return
        if self.rest is None or not self.protocol.snapshot_via_rest(sub):
            self.request_resubscribe(venue_symbol)
            return
        task = self._snapshot_tasks.get(venue_symbol)
        if task is not None and not task.done():
            return
        retry = self._snapshot_retries.get(venue_symbol, 0)
        self._snapshot_retries[venue_symbol] = retry + 1
        # a repeated request (snapshot too old, gatews#51) waits a little longer each time
        delay = min(2.0, 0.05 * (2 ** retry)) if retry else 0.0
        self._snapshot_tasks[venue_symbol] = asyncio.get_running_loop().create_task(
            self._snapshot(venue_symbol, self._session, delay)
        )

    async def _snapshot(self, venue_symbol: str, session: int, delay: float) -> None:
        handler = self.handler
        protocol = self.protocol
        loop = asyncio.get_running_loop()
        try:
            if delay:
                await asyncio.sleep(delay)
            # wait for the first buffered delta so the snapshot can be checked against it (§10.1)
            seq = handler.book(venue_symbol)
            deadline = loop.time() + self.snapshot_wait
            while not seq.buffer and loop.time() < deadline and session == self._session:
                await asyncio.sleep(0.01)
            depth = handler.depth
            backoff = Backoff(initial=0.2, cap=5.0)
            while session == self._session and not self._closing:
                try:
                    snap = await protocol.fetch_snapshot(self.rest, venue_symbol, depth)  # type: ignore[arg-type]
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # keep buffering and try again (gocryptotrader PR #1989)
                    self.stats.snapshot_errors += 1
                    handler._count_error("snapshot_failed", b"", exc)
                    if self.tap is not None:
                        detail = {"venue_symbol": venue_symbol, "error": f"{type(exc).__name__}: {exc}"}
                        self.tap.event(self.tap_id, SNAPSHOT_FAILED, time.time_ns(), detail)
                    await asyncio.sleep(backoff.next())
                    continue
                if session != self._session or not self.holds_book(venue_symbol):
                    return
                self.stats.snapshots += 1
                # leave the in-flight slot before applying: a too-old snapshot asks again
                self._snapshot_tasks.pop(venue_symbol, None)
                now = time.time_ns()
                if self.tap is not None:
                    self.tap.event(self.tap_id, SNAPSHOT, now, {"venue_symbol": venue_symbol})
                handler.apply_snapshot(venue_symbol, snap.update_id, snap.bids, snap.asks, snap.exchange_ts, now)
                if handler.book(venue_symbol).synced:
                    self._snapshot_retries.pop(venue_symbol, None)
                return
        finally:
            if self._snapshot_tasks.get(venue_symbol) is asyncio.current_task():
                del self._snapshot_tasks[venue_symbol]
