"""Fixtures: a real ``redis-server`` / ``nats-server -js`` on a free loopback port in a
temporary folder (``.ci/run`` installs both from the system packages), stopped at the end.
Tests skip with the reason when a binary is not installed."""

from __future__ import annotations

import pytest

from cexfeed.sinks.servers import LocalNats, LocalRedis, ServerUnavailable


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
