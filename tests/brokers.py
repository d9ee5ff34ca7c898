"""Fixtures and helpers of the sink tests: a real ``redis-server`` / ``nats-server -js`` on a free loopback port in a
temporary folder (``.ci/run`` installs both from the system packages), stopped at the end.
Tests skip with the reason when a binary is not installed."""

from __future__ import annotations

import pytest

from cexfeed.models import BookStatus
from cexfeed.net.backoff import Backoff
from cexfeed.sim.testing import sim_levels
from cexfeed.sinks import BookMirror
from cexfeed.sinks.servers import LocalNats, LocalRedis, ServerUnavailable


def fast_backoff() -> Backoff:
    """Reconnect delays for tests: 50 ms doubling to 300 ms."""
    return Backoff(initial=0.05, cap=0.3)


def start(server_class):
    try:
        return server_class().start()
    except ServerUnavailable as exc:
        pytest.skip(f"{exc}: the sink tests need the real server")


@pytest.fixture(scope="module")
def redis_server():
    server = start(LocalRedis)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nats_server():
    server = start(LocalNats)
    yield server
    server.stop()


@pytest.fixture
def own_redis():
    """A Redis server of this test alone (it may be killed and restarted)."""
    server = start(LocalRedis)
    yield server
    server.stop()


@pytest.fixture
def own_nats():
    server = start(LocalNats)
    yield server
    server.stop()


def mirrored_books_match(sim, events, venue: str, symbols) -> BookMirror:
    """Rebuild the books from ``events`` and assert each of ``symbols`` equals the simulator's
    (prices and sizes, best first) at the simulator's update id. The ``stale`` statuses the
    feed published when it closed are left out: the books as they were at that moment."""
    mirror = BookMirror()
    mirror.feed(e for e in events if not (isinstance(e, BookStatus) and e.reason == "closed"))
    for symbol in symbols:
        bids, asks = sim_levels(sim, symbol)
        book = mirror.book(venue, symbol)
        assert book is not None and book.top_bids() == bids and book.top_asks() == asks, symbol
        assert book.last_update_id == sim.market.books[symbol].update_id, symbol
    return mirror
