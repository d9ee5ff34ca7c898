"""The simulated MEXC private venue over real sockets: signed REST with the venue's refusals,
the listenKey endpoints and their expiry and fault switches, the private WebSocket (an empty
answer and a closed socket on a bad key), and the ledger's protobuf pushes (decoded here with
the protobuf runtime, independently of the client's decoders)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import aiohttp
import pytest

from cexfeed.credentials import Credentials
from cexfeed.exchanges.mexc import auth
from cexfeed.exchanges.mexc.listen_key import ListenKeyRest
from cexfeed.exchanges.mexc.proto.push_pb2 import PushDataV3ApiWrapper
from cexfeed.net.clock import ServerClock
from cexfeed.net.rest import RestClient, RestError
from cexfeed.sim import SimServer
from cexfeed.sim.mexc_private import TEST_KEY, TEST_SECRET

VENUE = "mexc-spot"
CREDS = Credentials(TEST_KEY, TEST_SECRET)
D = Decimal


@pytest.fixture
async def sim():
    server = SimServer(rate=2, venues=[VENUE])
    await server.start()
    yield server
    await server.stop()


def private(sim):
    return sim.venues[VENUE].private


def client(sim, creds: Credentials = CREDS, skew_ms: int = 0):
    rest = RestClient(sim.rest_url(VENUE), retries=0)
    clock = ServerClock(skew_ms)
    mask = auth.KeyMask()
    return rest, ListenKeyRest(rest, lambda m, p, q, b: auth.signed_request(creds, q, b, clock.now_ms()), mask), mask


def code_of(exc: RestError) -> tuple[int, str]:
    return exc.status, auth.error_of(exc.body)[0]


async def test_signed_rest_refusals(sim):
    rest, api, _ = client(sim)
    assert json.loads(await rest.get("/api/v3/time"))["serverTime"] > 0
    body = json.loads(await rest.get("/api/v3/account", sign=api.sign))
    assert body["balances"] == [] and body["accountType"] == "SPOT"
    for creds, skew, expected in (
        (Credentials("unknown-key", TEST_SECRET), 0, (401, "10072")),
        (Credentials(TEST_KEY, "wrong-secret"), 0, (400, "700002")),
        (CREDS, -30_000, (400, "700003")),
        (CREDS, 5_000, (400, "700003")),
    ):
        bad_rest, bad, _ = client(sim, creds, skew)
        with pytest.raises(RestError) as caught:
            await bad.create()
        assert code_of(caught.value) == expected
        await bad_rest.close()
    await private(sim).act("reject_auth", on=True)
    with pytest.raises(RestError) as caught:
        await api.list()
    assert code_of(caught.value) == (401, "10072")
    await rest.close()


async def test_listen_key_endpoints_expiry_and_faults(sim):
    p = private(sim)
    rest, api, mask = client(sim)
    key = await api.create()
    assert len(key) == 64 and await api.list() == [key] and mask.scrub(key) == "***"
    await api.keep_alive(key)
    # the venue's refusals of a PUT
    await p.act("refuse_put", count=1)
    with pytest.raises(RestError) as caught:
        await api.keep_alive(key)
    assert code_of(caught.value) == (400, "730708")
    await p.act("refuse_put", count=1, code="10072")
    with pytest.raises(RestError) as caught:
        await api.keep_alive(key)
    assert code_of(caught.value) == (401, "10072")
    await p.act("fail_put", count=1)
    with pytest.raises(RestError) as caught:
        await api.keep_alive(key)
    assert caught.value.status == 500
    # a PUT within the floor is refused like the venue refused keep-alives every 10 s
    await p.act("put_floor", seconds=60)
    fresh = await api.create()
    await api.keep_alive(fresh)
    with pytest.raises(RestError) as caught:
        await api.keep_alive(fresh)
    assert code_of(caught.value) == (400, "730708")
    # expiry: a short validity lapses the key
    await p.act("put_floor", seconds=0)
    await p.act("validity", seconds=0.3)
    short = await api.create()
    await asyncio.sleep(0.4)
    assert short not in await api.list()
    with pytest.raises(RestError):
        await api.keep_alive(short)
    await api.delete(key)
    await api.delete(fresh)
    assert await api.list() == []
    assert p.key_calls["POST"] == 3 and p.key_calls["DELETE"] == 2
    await rest.close()


async def ws_subscribe(session: aiohttp.ClientSession, url: str, channels: list[str]) -> tuple[aiohttp.ClientWebSocketResponse, list[dict]]:
    ws = await session.ws_connect(url)
    replies = []
    for i, channel in enumerate(channels, 1):
        await ws.send_str(json.dumps({"method": "SUBSCRIPTION", "params": [channel], "id": i}))
        msg = await ws.receive(timeout=5)
        replies.append(json.loads(msg.data))
    return ws, replies


async def receive_pushes(ws, count: int) -> list[PushDataV3ApiWrapper]:
    out = []
    while len(out) < count:
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.BINARY, msg
        out.append(PushDataV3ApiWrapper.FromString(msg.data))
    return out


CHANNELS = ["spot@private.orders.v3.api.pb", "spot@private.deals.v3.api.pb", "spot@private.account.v3.api.pb"]


async def test_private_socket_and_ledger_pushes(sim):
    p = private(sim)
    rest, api, _ = client(sim)
    key = await api.create()
    async with aiohttp.ClientSession() as http:
        # no key, or an unknown one: an empty answer, then the socket is closed
        for url in (sim.ws_url(VENUE), sim.ws_url(VENUE) + "?listenKey=" + "f" * 64):
            ws, replies = await ws_subscribe(http, url, CHANNELS[:1])
            assert replies == [{"id": 1, "code": 0, "msg": ""}]
            msg = await ws.receive(timeout=5)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        ws, replies = await ws_subscribe(http, sim.ws_url(VENUE) + "?listenKey=" + key, CHANNELS)
        assert [r["msg"] for r in replies] == CHANNELS
        await p.act("deposit", currency="USDT", amount="1000")
        placed = await p.act("place", symbol="BTCUSDT", side="BUY", quantity="0.01", price="50000", client_id="c1")
        await p.act("fill", order_id=placed["order_id"], quantity="0.004", maker=True)
        await p.act("cancel", order_id=placed["order_id"])
        pushes = await receive_pushes(ws, 1 + 2 + 4 + 2)
        bodies = [w.WhichOneof("body") for w in pushes]
        assert bodies == ["privateAccount", "privateOrders", "privateAccount", "privateDeals", "privateOrders", "privateAccount",
                          "privateAccount", "privateOrders", "privateAccount"]
        deal = pushes[3]
        assert deal.channel == CHANNELS[1] and deal.symbol == "BTCUSDT" and deal.sendTime > 0
        d = deal.privateDeals
        assert (d.price, d.quantity, d.amount, d.tradeType, d.isMaker, d.orderId, d.clientOrderId, d.feeAmount, d.feeCurrency) == (
            "50000", "0.004", "200", 1, True, placed["order_id"], "c1", "0.000004", "BTC")
        canceled = pushes[7].privateOrders
        assert (canceled.status, canceled.cumulativeQuantity, canceled.remainQuantity) == (5, "0.004", "0.006")
        account = pushes[8]
        assert not account.HasField("symbol") and account.createTime > 0
        assert (account.privateAccount.vcoinName, account.privateAccount.balanceAmount, account.privateAccount.frozenAmount) == ("USDT", "800", "0")
        # the key lapses: its socket is closed and a new one on it is refused
        await p.act("lapse")
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        ws, replies = await ws_subscribe(http, sim.ws_url(VENUE) + "?listenKey=" + key, CHANNELS[:1])
        assert replies[0]["msg"] == ""
        await ws.close()
    # the REST views of the ledger
    ledger = p.ledger()
    assert ledger.totals()["BTC"] == (D("0.003996"), D("0.003996"), D(0))
    trades = json.loads(await rest.get("/api/v3/myTrades", {"symbol": "BTCUSDT", "startTime": 0}, sign=api.sign))
    assert [t["id"] for t in trades] == [ledger.trades[0].id] and trades[0]["isBuyer"] is True
    order = json.loads(await rest.get("/api/v3/order", {"symbol": "BTCUSDT", "orderId": placed["order_id"]}, sign=api.sign))
    assert order["status"] == "PARTIALLY_CANCELED" and order["executedQty"] == "0.004"
    assert json.loads(await rest.get("/api/v3/openOrders", {"symbol": "BTCUSDT"}, sign=api.sign)) == []
    # every symbol's open orders without a symbol; the fault answers as a venue requiring one
    working = await p.act("place", symbol="BTCUSDT", side="BUY", quantity="0.001", price="40000")
    assert [o["orderId"] for o in json.loads(await rest.get("/api/v3/openOrders", sign=api.sign))] == [working["order_id"]]
    await p.act("require_symbol")
    with pytest.raises(RestError) as caught:
        await rest.get("/api/v3/openOrders", sign=api.sign)
    assert code_of(caught.value) == (400, "700004")
    # the order history: created in the window, any status, newest first, at most limit
    now = p.now_ms()
    history = json.loads(await rest.get("/api/v3/allOrders", {"symbol": "BTCUSDT", "startTime": now - 60_000, "endTime": now + 1000},
                                        sign=api.sign))
    assert [(o["orderId"], o["status"]) for o in history] == [(working["order_id"], "NEW"), (placed["order_id"], "PARTIALLY_CANCELED")]
    assert json.loads(await rest.get("/api/v3/allOrders", {"symbol": "BTCUSDT", "startTime": now - 60_000, "endTime": now + 1000, "limit": 1},
                                     sign=api.sign))[0]["orderId"] == working["order_id"]
    assert json.loads(await rest.get("/api/v3/allOrders", {"symbol": "ETHUSDT"}, sign=api.sign)) == []
    with pytest.raises(RestError) as caught:
        await rest.get("/api/v3/allOrders", sign=api.sign)
    assert code_of(caught.value) == (400, "700004")
    # trades of one order
    assert json.loads(await rest.get("/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": working["order_id"]}, sign=api.sign)) == []
    await rest.close()


async def test_five_sockets_per_key(sim):
    rest, api, _ = client(sim)
    key = await api.create()
    url = sim.ws_url(VENUE) + "?listenKey=" + key
    async with aiohttp.ClientSession() as http:
        sockets = []
        for _ in range(5):
            ws, replies = await ws_subscribe(http, url, CHANNELS[:1])
            assert replies[0]["msg"] == CHANNELS[0]
            sockets.append(ws)
        ws, replies = await ws_subscribe(http, url, CHANNELS[:1])
        assert replies[0]["msg"] == ""
        for s in sockets + [ws]:
            await s.close()
    await rest.close()
