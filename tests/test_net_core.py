"""Network core pieces: backoff, request ids, REST retries, Gate spot request frames, and a bare
WsConnection (headers, unsubscribe, graceful close, connect failures) over loopback sockets."""

from __future__ import annotations

import asyncio
import random
import socket

import msgspec
import pytest

from cexfeed.exchanges.gateio.rest import parse_spot_order_book
from cexfeed.exchanges.gateio.spot_protocol import GateioSpotProtocol
from cexfeed.models import Trade
from cexfeed.net import Backoff, RequestIds, RestClient, RestError, SnapshotError, Subscription, WsConnection
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until


@pytest.fixture
async def sim():
    server = SimServer(seed=9, rate=40, venues=["gateio-spot"])
    await server.start()
    yield server
    await server.stop()


def test_backoff_grows_is_capped_and_jittered():
    b = Backoff(initial=0.5, factor=2.0, cap=4.0, jitter=0.5, rng=random.Random(1))
    delays = [b.next() for _ in range(8)]
    bases = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    for delay, base in zip(delays, bases):
        assert base * 0.5 <= delay <= base
    assert len(set(delays)) == len(delays)  # jittered
    b.reset()
    assert b.next() <= 0.5
    with pytest.raises(ValueError):
        Backoff(initial=2.0, cap=1.0)


def test_request_ids_stay_int32():
    ids = RequestIds(start=0x7FFFFFFE)
    assert [ids(), ids(), ids()] == [0x7FFFFFFE, 0x7FFFFFFF, 1]


def test_gate_spot_request_frames():
    proto = GateioSpotProtocol("ws://x/ws/v4/", "http://x/api/v4", book_interval="20ms")
    subs = proto.subscriptions(["book", "kline", "trades"], ["BTC_USDT"])
    assert subs == [
        Subscription("book", "BTC_USDT", ("20ms",)),
        Subscription("kline", "BTC_USDT", ("1m",)),
        Subscription("trades", "BTC_USDT", ()),
    ]
    assert proto.book_depth(subs[0]) == 20
    book = msgspec.json.decode(proto.subscribe_frame(subs[0], 7))
    assert book["channel"] == "spot.order_book_update" and book["event"] == "subscribe"
    assert book["id"] == 7 and book["payload"] == ["BTC_USDT", "20ms"] and isinstance(book["time"], int)
    kline = msgspec.json.decode(proto.unsubscribe_frame(subs[1], 8))
    assert (kline["channel"], kline["event"], kline["payload"]) == ("spot.candlesticks", "unsubscribe", ["1m", "BTC_USDT"])
    ping = msgspec.json.decode(proto.ping_frame())
    assert ping["channel"] == "spot.ping" and "event" not in ping
    assert proto.ack_channel(subs[2]) == "spot.trades"
    with pytest.raises(ValueError):
        proto.subscriptions(["orders"], ["BTC_USDT"])
    with pytest.raises(ValueError):
        GateioSpotProtocol(book_interval="1000ms")


def test_snapshot_without_id_is_rejected_clearly():
    body = b'{"current":1700000000123,"update":1700000000100,"asks":[["101.5","2"]],"bids":[["101.4","3"]]}'
    with pytest.raises(SnapshotError, match="no 'id'"):
        parse_spot_order_book("BTC_USDT", body)
    snap = parse_spot_order_book("BTC_USDT", body.replace(b'{"current"', b'{"id":77,"current"'))
    assert (snap.update_id, snap.bids, snap.asks, snap.exchange_ts) == (77, [(101.4, 3.0)], [(101.5, 2.0)], 1700000000100)
    with pytest.raises(SnapshotError, match="undecodable"):
        parse_spot_order_book("BTC_USDT", b"<html>")


async def test_rest_client_retries_then_gives_up(sim):
    rest = RestClient(sim.rest_url("gateio-spot"), retries=2, backoff=Backoff(initial=0.01, cap=0.05))
    try:
        sim.fail_snapshots(2)
        body = await rest.get("/spot/order_book", {"currency_pair": "BTC_USDT", "limit": "3", "with_id": "true"})
        snap = parse_spot_order_book("BTC_USDT", body)
        assert len(snap.bids) == 3 and snap.update_id >= 1_000_000
        assert rest.failures == 2 and rest.requests == 3
        sim.fail_snapshots(3)
        with pytest.raises(RestError) as info:
            await rest.get("/spot/order_book", {"currency_pair": "BTC_USDT"})
        assert info.value.status == 500
        with pytest.raises(RestError) as info:  # 4xx is not retried
            await rest.get("/spot/order_book", {"currency_pair": "NOPE_USDT"})
        assert info.value.status == 400 and rest.requests == 7
    finally:
        await rest.close()


class _HeaderProtocol(GateioSpotProtocol):
    headers = {"X-Gate-Size-Decimal": "1"}


async def test_connection_headers_unsubscribe_and_graceful_close(sim):
    events: list = []
    proto = _HeaderProtocol(sim.ws_url("gateio-spot"), sim.rest_url("gateio-spot"))
    conn = WsConnection(proto, proto.make_handler(events.append, proto.default_symbols(), 100), None, ack_timeout=2.0)
    conn.start()
    try:
        assert await conn.wait_connected(3.0)
        session = next(iter(sim.venues["gateio-spot"].sessions))
        assert session.request.headers["X-Gate-Size-Decimal"] == "1"
        sub = Subscription("trades", "BTC_USDT")
        (result,) = await conn.subscribe([sub])
        assert result.ok and result.status == "acked"
        (again,) = await conn.subscribe([sub])
        assert again.ok and again.message == "already subscribed" and conn.stats.acks_ok == 1
        assert await wait_until(lambda: any(isinstance(e, Trade) for e in events), 5.0)
        (result,) = await conn.unsubscribe([sub])
        assert result.ok and result.event == "unsubscribe" and conn.subscriptions == {}
        assert session.subs["spot.trades"] == set()
    finally:
        await conn.close()
    assert conn.state == "closed"
    assert await wait_until(lambda: not sim.venues["gateio-spot"].sessions, 2.0)


async def test_connect_failures_back_off_until_closed():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proto = GateioSpotProtocol(f"ws://127.0.0.1:{port}/ws/v4/", f"http://127.0.0.1:{port}/api/v4")
    conn = WsConnection(proto, proto.make_handler(None, proto.default_symbols(), 100), None,
                        backoff=Backoff(initial=0.02, cap=0.1))
    conn.start()
    try:
        assert await wait_until(lambda: conn.stats.connect_failures >= 3, 3.0)
        assert conn.stats.connects == 0 and "connect failed" in conn.last_error
        assert not await conn.wait_connected(0.05)
    finally:
        await asyncio.wait_for(conn.close(), 2.0)
    assert conn.state == "closed"


class _InBandProtocol(GateioSpotProtocol):
    """As if the book stream brought its own full push (Gate obu): recover by resubscribing."""

    rest_snapshots = False


async def test_resubscribe_replaces_one_stream_only(sim):
    proto = _InBandProtocol(sim.ws_url("gateio-spot"), sim.rest_url("gateio-spot"))
    conn = WsConnection(proto, proto.make_handler(None, proto.default_symbols(), 100), None)
    conn.start()
    try:
        subs = proto.subscriptions(["book", "trades"], ["BTC_USDT", "ETH_USDT"])
        assert all(r.ok for r in await conn.subscribe(subs))
        assert conn.stats.acks_ok == 4 and conn.stats.snapshots == 0  # no REST snapshot asked
        conn.handler.hooks.request_snapshot("ETH_USDT")  # what the handler does on a gap
        assert await wait_until(lambda: conn.stats.acks_ok == 6, 3.0)
        assert conn.stats.resubscribes == 1
        session = next(iter(sim.venues["gateio-spot"].sessions))
        assert session.subs["spot.order_book_update"] == {"BTC_USDT", "ETH_USDT"}
        assert session.received == 6  # 4 subscribes + 1 unsubscribe + 1 subscribe
        assert list(conn.subscriptions) == subs
    finally:
        await conn.close()
