"""Helpers for tests (and other helpers' tests) that run clients against the simulator."""

from __future__ import annotations

import asyncio
from typing import Callable

from .server import SimServer


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until true; False after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if predicate():
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(interval)


def _market(sim: SimServer, venue: str | None):
    return sim.market if venue is None else sim.market_of(venue)


def sim_levels(sim: SimServer, symbol: str, n: int | None = None, venue: str | None = None) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The simulator's own book of ``symbol`` (unified) on ``venue`` (default: the one venue
    served) as float ``[price, size]`` lists, best first, parsed from the same strings the venue
    puts on the wire."""
    book = _market(sim, venue).books[symbol]
    count = n if n is not None else max(len(book.bids), len(book.asks))
    bids = [(float(book.price_str(p)), float(book.size_str(s))) for p, s in book.top_bids(count)]
    asks = [(float(book.price_str(p)), float(book.size_str(s))) for p, s in book.top_asks(count)]
    return bids, asks


def sim_update_id(sim: SimServer, symbol: str, venue: str | None = None) -> int:
    return _market(sim, venue).books[symbol].update_id
