"""The Gate.io spot simulator speaks the documented protocol (gateio-protocol.md §2, §3, §6,
§10.1), checked with a plain aiohttp client over a real loopback socket."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from cexfeed.sim import SimServer
from cexfeed.sim.market import SyntheticMarket


@pytest.fixture
async def sim():
    server = SimServer(seed=3, rate=50, venues=["gateio-spot"])
    await server.start()
    yield server
    await server.stop()


async def _recv_json(ws, timeout=2.0):
    msg = await ws.receive(timeout=timeout)
    return json.loads(msg.data)


async def _until(ws, predicate, timeout=3.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await _recv_json(ws, max(0.01, deadline - loop.time()))
        if predicate(frame):
            return frame


async def test_acks_errors_and_pong(sim):
    async with aiohttp.ClientSession() as http, http.ws_connect(sim.ws_url("gateio-spot")) as ws:
        await ws.send_str(json.dumps({"time": 1, "id": 41, "channel": "spot.trades", "event": "subscribe", "payload": ["BTC_USDT"]}))
        ack = await _until(ws, lambda f: f.get("event") == "subscribe")
        assert ack["id"] == 41 and ack["channel"] == "spot.trades" and ack["result"] == {"status": "success"}
        assert "error" not in ack and ack["payload"] == ["BTC_USDT"]

        await ws.send_str(json.dumps({"time": 1, "id": 42, "channel": "spot.book_ticker", "event": "subscribe", "payload": ["NOPE_USDT"]}))
        ack = await _until(ws, lambda f: f.get("id") == 42)
        assert ack["error"] == {"code": 2, "message": "unknown currency pair NOPE_USDT"}
        assert ack["result"] == {"status": "fail"}

        await ws.send_str(json.dumps({"time": 1, "id": 43, "channel": "spot.nope", "event": "subscribe", "payload": ["BTC_USDT"]}))
        ack = await _until(ws, lambda f: f.get("id") == 43)
        assert ack["error"]["code"] == 2 and ack["error"]["message"] == "Unknown channel spot.nope"

        await ws.send_str(json.dumps({"time": 1, "channel": "spot.ping"}))
        pong = await _until(ws, lambda f: f.get("channel") == "spot.pong")
        assert pong["event"] == "" and pong["result"] is None and pong["time_ms"] // 1000 == pong["time"]

        await ws.send_str("not json")
        err = await _until(ws, lambda f: f.get("error") is not None and f.get("channel") == "")
        assert err["error"] == {"code": 1, "message": "request message need json scheme"}

        await ws.send_str(json.dumps({"time": 1, "id": 44, "channel": "spot.trades", "event": "unsubscribe", "payload": ["BTC_USDT"]}))
        ack = await _until(ws, lambda f: f.get("id") == 44)
        assert ack["event"] == "unsubscribe" and ack["result"] == {"status": "success"}


async def test_book_updates_continue_ids_and_match_rest(sim):
    rest = sim.rest_url("gateio-spot")
    async with aiohttp.ClientSession() as http, http.ws_connect(sim.ws_url("gateio-spot")) as ws:
        await ws.send_str(json.dumps({"time": 1, "id": 1, "channel": "spot.order_book_update", "event": "subscribe", "payload": ["ETH_USDT", "100ms"]}))
        await _until(ws, lambda f: f.get("event") == "subscribe")
        first = await _until(ws, lambda f: f.get("channel") == "spot.order_book_update")
        async with http.get(rest + "/spot/order_book", params={"currency_pair": "ETH_USDT", "limit": "100", "with_id": "true"}) as resp:
            snap = await resp.json()
        assert snap["id"] >= first["result"]["u"]
        bids = {p: s for p, s in snap["bids"]}
        asks = {p: s for p, s in snap["asks"]}
        last = snap["id"]
        bridged = False
        for _ in range(60):
            r = (await _until(ws, lambda f: f.get("channel") == "spot.order_book_update"))["result"]
            assert r["s"] == "ETH_USDT" and r["U"] <= r["u"]
            if r["u"] <= last:
                continue
            if not bridged:
                assert r["U"] <= last + 1 <= r["u"]
                bridged = True
            else:
                assert r["U"] == last + 1
            for side, levels in ((bids, r["b"]), (asks, r["a"])):
                for price, size in levels:
                    if float(size) == 0:
                        side.pop(price, None)
                    else:
                        side[price] = size
            last = r["u"]
            assert max(map(float, bids)) < min(map(float, asks)), "simulated book crossed"
        # the rebuilt book equals the simulator's own book at the same id
        async with http.get(rest + "/spot/order_book", params={"currency_pair": "ETH_USDT", "limit": "100", "with_id": "true"}) as resp:
            again = await resp.json()
        if again["id"] == last:
            assert sorted(bids.items()) == sorted((p, s) for p, s in again["bids"])


async def test_rest_endpoints(sim):
    rest = sim.rest_url("gateio-spot")
    async with aiohttp.ClientSession() as http:
        async with http.get(rest + "/spot/currency_pairs") as resp:
            pairs = {p["id"]: p for p in await resp.json()}
        assert set(pairs) == {"BTC_USDT", "ETH_USDT", "SOL_USDT", "DOGE_USDT"}
        assert pairs["BTC_USDT"]["precision"] == 1 and pairs["BTC_USDT"]["amount_precision"] == 4
        async with http.get(rest + "/spot/order_book", params={"currency_pair": "BTC_USDT", "limit": "5"}) as resp:
            body = await resp.json()
        assert "id" not in body and len(body["bids"]) == 5 and len(body["asks"]) == 5
        assert float(body["bids"][0][0]) < float(body["asks"][0][0])
        assert [float(p) for p, _ in body["bids"]] == sorted((float(p) for p, _ in body["bids"]), reverse=True)
        async with http.get(rest + "/spot/order_book", params={"currency_pair": "NOPE_USDT"}) as resp:
            assert resp.status == 400
        sim.fail_snapshots(1)
        async with http.get(rest + "/spot/order_book", params={"currency_pair": "BTC_USDT"}) as resp:
            assert resp.status == 500
        async with http.post(sim.base_url + "/_sim/fault/pause") as resp:
            assert (await resp.json())["fault"] == "pause"
        assert sim.paused


def test_market_is_deterministic_and_never_crossed():
    a = SyntheticMarket(seed=11)
    b = SyntheticMarket(seed=11)
    for _ in range(500):
        sa, sb = a.step("BTC/USDT", 0), b.step("BTC/USDT", 0)
        assert (sa.first, sa.last, sa.bids, sa.asks) == (sb.first, sb.last, sb.bids, sb.asks)
        book = a.books["BTC/USDT"]
        assert book.best_bid()[0] < book.best_ask()[0]
        assert len(book.bids) <= a.levels and len(book.asks) <= a.levels
    assert a.books["BTC/USDT"].update_id > 1_000_500
