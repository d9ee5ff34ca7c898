"""The Gate USDT futures simulator speaks the documented protocol (gateio-protocol.md §2, §3,
§5.2, §7, §10), checked with a plain aiohttp client over a real loopback socket."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from cexfeed.sim import SimServer

HEADER = {"X-Gate-Size-Decimal": "1"}


@pytest.fixture
async def sim():
    server = SimServer(seed=5, rate=40, venues=["gateio-perp"])
    await server.start()
    yield server
    await server.stop()


async def _until(ws, predicate, timeout=3.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg = await ws.receive(timeout=max(0.01, deadline - loop.time()))
        frame = json.loads(msg.data)
        if predicate(frame):
            return frame


async def _sub(ws, rid, channel, payload):
    await ws.send_str(json.dumps({"time": 1, "id": rid, "channel": channel, "event": "subscribe", "payload": payload}))


async def test_sizes_are_strings_only_with_the_header(sim):
    url = sim.ws_url("gateio-perp")
    assert url.endswith("/v4/ws/usdt")
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url, headers=HEADER) as ws_dec, http.ws_connect(url) as ws_int:
            for ws in (ws_dec, ws_int):
                await _sub(ws, 1, "futures.order_book_update", ["ETH_USDT", "100ms", "20"])
                ack = await _until(ws, lambda f: f.get("event") == "subscribe")
                assert ack["result"] == {"status": "success"} and ack["payload"] == ["ETH_USDT", "100ms", "20"]
            upd_dec = await _until(ws_dec, lambda f: f["channel"] == "futures.order_book_update" and (f["result"]["b"] or f["result"]["a"]))
            upd_int = await _until(ws_int, lambda f: f["channel"] == "futures.order_book_update" and (f["result"]["b"] or f["result"]["a"]))
            level = (upd_dec["result"]["b"] + upd_dec["result"]["a"])[0]
            assert isinstance(level["s"], str) and set(level) == {"p", "s"}
            level = (upd_int["result"]["b"] + upd_int["result"]["a"])[0]
            assert isinstance(level["s"], int)
            assert upd_dec["result"]["l"] == "20"


async def test_signed_trades_tickers_partial_and_pong(sim):
    async with aiohttp.ClientSession() as http, http.ws_connect(sim.ws_url("gateio-perp"), headers=HEADER) as ws:
        await _sub(ws, 1, "futures.trades", ["BTC_USDT", "ETH_USDT", "SOL_USDT", "DOGE_USDT"])
        await _sub(ws, 2, "futures.tickers", ["BTC_USDT"])
        sides = set()
        shapes = set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while (len(sides) < 2 or len(shapes) < 3) and loop.time() < deadline:
            f = await _until(ws, lambda f: f.get("event") == "update")
            if f["channel"] == "futures.trades":
                for t in f["result"]:
                    sides.add(float(t["size"]) > 0)
                    assert isinstance(t["size"], str) and t["create_time_ms"] // 1000 == t["create_time"]
            elif f["channel"] == "futures.tickers":
                shapes.add(tuple(sorted(f["result"][0])))
        assert sides == {True, False}
        assert ("contract", "funding_rate") in shapes
        assert ("contract", "index_price", "mark_price", "t") in shapes
        await ws.send_str(json.dumps({"time": 1, "channel": "futures.ping"}))
        pong = await _until(ws, lambda f: f.get("channel") == "futures.pong")
        assert pong["event"] == "" and pong["result"] is None


async def test_obu_snapshot_before_ack_silent_unknown_and_duplicate(sim):
    async with aiohttp.ClientSession() as http, http.ws_connect(sim.ws_url("gateio-perp"), headers=HEADER) as ws:
        await _sub(ws, 7, "futures.obu", ["ob.BTC_USDT.50", "ob.NOPE_USDT.50", "ob.ETH_USDT.20"])
        first = await _until(ws, lambda f: True)
        assert first["channel"] == "futures.obu" and first["result"]["full"] is True and first["result"]["s"] == "ob.BTC_USDT.50"
        assert all(isinstance(s, str) for _, s in first["result"]["b"])
        ack = await _until(ws, lambda f: f.get("event") == "subscribe")
        assert ack["id"] == 7 and ack["result"] == {"status": "success"} and "error" not in ack
        last_u = first["result"]["u"]
        streams = set()
        for _ in range(20):
            f = await _until(ws, lambda f: f["channel"] == "futures.obu")
            r = f["result"]
            streams.add(r["s"])
            assert "full" not in r and r["U"] == last_u + 1
            last_u = r["u"]
        assert streams == {"ob.BTC_USDT.50"}  # unknown contract and level stay silent
        await _sub(ws, 8, "futures.obu", ["ob.BTC_USDT.50"])
        dup = await _until(ws, lambda f: f.get("id") == 8)
        assert dup["error"] == {"code": 2, "message": "Alert sub ob.BTC_USDT.50"}


async def test_rest_contracts_and_order_book(sim):
    base = sim.rest_url("gateio-perp")
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/futures/usdt/contracts") as resp:
            contracts = {c["name"]: c for c in await resp.json()}
        assert contracts["BTC_USDT"]["quanto_multiplier"] == "0.0001" and contracts["BTC_USDT"]["enable_decimal"] is False
        assert contracts["ETH_USDT"]["quanto_multiplier"] == "0.01" and contracts["ETH_USDT"]["enable_decimal"] is True
        params = {"contract": "ETH_USDT", "limit": "20", "with_id": "true"}
        async with http.get(base + "/futures/usdt/order_book", params=params, headers=HEADER) as resp:
            dec = await resp.json()
        async with http.get(base + "/futures/usdt/order_book", params=params) as resp:
            plain = await resp.json()
        assert isinstance(dec["id"], int) and isinstance(dec["current"], float)
        assert isinstance(dec["bids"][0]["s"], str) and isinstance(plain["bids"][0]["s"], int)
        assert sim.venues["gateio-perp"].last_rest_header is False
        async with http.get(base + "/futures/usdt/order_book", params={"contract": "NOPE_USDT"}) as resp:
            assert resp.status == 400
