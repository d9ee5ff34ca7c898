"""Issue #10 item 14: connection state reaches the consumer as events in the stream and as INFO
log lines (connecting, connected, reconnecting with the reason, failed, closed; resyncs too);
HTTP 429 on the WebSocket upgrade honours ``Retry-After``; a dead REST endpoint is said
clearly. On both architectures, against the simulator."""

from __future__ import annotations

import logging
import socket

import pytest

from cexfeed.compat import open_feed
from cexfeed.models import BookStatus, ConnectionStatus, decode_event, encode_event
from cexfeed.net import Backoff
from cexfeed.net.listener import connect_failure
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until


def _states(events):
    return [(e.status, e.reason) for e in events if isinstance(e, ConnectionStatus) and e.connection != "rest"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
async def test_connection_states_reasons_and_retry_after(architecture, caplog):
    sim = SimServer(seed=8, rate=30, venues=["gateio-spot"])
    await sim.start()
    sim.reject_upgrades(1, status=429, retry_after=1)
    events: list = []
    caplog.set_level(logging.INFO, logger="cexfeed")
    feed = open_feed("gateio-spot", ["BTC/USDT"], ["book", "trades"], architecture=architecture, url=sim.ws_url("gateio-spot"),
                     rest_url=sim.rest_url("gateio-spot"), on_event=events.append, no_data_timeout=1.0, ping_interval=0.2,
                     reconnect_backoff=lambda: Backoff(initial=0.05, cap=0.1))
    try:
        assert all(r.ok for r in await feed.start())
        assert _states(events)[:4] == [("connecting", ""), ("failed", "http_429"), ("connecting", ""), ("connected", "")]
        status = [e for e in events if isinstance(e, ConnectionStatus)]
        failed, again = status[1], status[2]
        # the backoff alone would wait at most 0.05 s: Retry-After asked for 1 s
        assert failed.retry_in >= 1.0 and (again.recv_ts - failed.recv_ts) / 1e9 >= 0.95
        assert (failed.attempt, again.attempt) == (1, 2) and failed.url == sim.ws_url("gateio-spot") and "429" in failed.detail
        assert decode_event(encode_event(failed)) == failed  # in the JSON stream with its type tag
        assert b'"type":"connection"' in encode_event(failed)
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 5.0)
        # a dropped socket, a close frame, a silent server: each reconnect says why
        sim.drop_connections()
        assert await wait_until(lambda: _states(events)[-1] == ("connected", "") and len(_states(events)) == 7, 5.0)
        await sim.close_connections(1012)
        assert await wait_until(lambda: _states(events)[-1] == ("connected", "") and len(_states(events)) == 10, 5.0)
        sim.go_silent(3.0)
        assert await wait_until(lambda: _states(events)[-1] == ("connected", "") and len(_states(events)) == 13, 8.0)
        reconnects = [e for e in events if isinstance(e, ConnectionStatus) and e.status == "reconnecting"]
        assert [e.reason for e in reconnects] == ["dropped", "closed", "no_data"]
        assert "1012" in reconnects[1].detail and reconnects[2].retry_in is not None
        # and as log lines
        assert "gateio-spot#0: connected" in caplog.text and "reconnecting (no_data)" in caplog.text
        assert "failed (http_429)" in caplog.text and "next attempt in 1.0 s" in caplog.text
        # a resync is logged too
        assert await wait_until(lambda: feed.synced("BTC/USDT"), 5.0)
        sim.skip_update("BTC/USDT")
        assert await wait_until(lambda: any(isinstance(e, BookStatus) and e.reason == "gap" for e in events), 5.0)
        assert "BTC_USDT: book resyncing (gap)" in caplog.text
    finally:
        await feed.close()
        await sim.stop()
    assert _states(events)[-1] == ("closed", "close")


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
async def test_dead_rest_endpoint_is_said_clearly(architecture, caplog):
    sim = SimServer(seed=8, rate=30, venues=["gateio-spot"])
    await sim.start()
    dead = f"http://127.0.0.1:{_free_port()}/api/v4"
    events: list = []
    caplog.set_level(logging.INFO, logger="cexfeed")
    feed = open_feed("gateio-spot", ["BTC/USDT"], ["book"], architecture=architecture, url=sim.ws_url("gateio-spot"), rest_url=dead,
                     on_event=events.append)
    try:
        await feed.start()
        (rest,) = [e for e in events if isinstance(e, ConnectionStatus) and e.connection == "rest"]
        assert (rest.status, rest.reason, rest.url) == ("failed", "refused", dead)
        assert dead in rest.detail and "Cannot connect" in rest.detail
        assert f"REST endpoint {dead} failed (refused)" in caplog.text
        assert await wait_until(lambda: feed.stats()["rest"]["failures"] >= 8, 10.0)
        # told once, not once per attempt; the book never syncs
        assert len([e for e in events if isinstance(e, ConnectionStatus) and e.connection == "rest"]) == 1
        assert not feed.synced("BTC/USDT")
    finally:
        await feed.close()
        await sim.stop()


def test_connect_failure_reasons():
    assert connect_failure(ConnectionRefusedError()) == ("refused", None)
    assert connect_failure(TimeoutError()) == ("timeout", None)
    assert connect_failure(OSError("x")) == ("error", None)
