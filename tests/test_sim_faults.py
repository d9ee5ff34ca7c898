"""The simulator's fault switches of the fault matrix (cexfeed.sim.faults) through the control
endpoint, and what each does on the wire: ``mute`` keeps answering pings while pushing nothing,
``cross`` pushes a crossing delta with the next id, ``full`` an in-band full book, the
stale/slow snapshots, ``block`` refuses a subscription; and the matrix's results as data."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from cexfeed.resilience.results import FAILED, NOT_APPLICABLE, OK, PENDING, FaultResult, MatrixRun, from_json, render_markdown, to_json
from cexfeed.sim import SimServer
from cexfeed.sim.testing import sim_update_id, wait_until


@pytest.fixture
async def sim():
    server = SimServer(seed=3, rate=40, venues=["gateio-spot"])
    await server.start()
    yield server
    await server.stop()


async def _frames(ws, seconds: float) -> list[dict]:
    out = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        try:
            msg = await ws.receive(timeout=left)
        except asyncio.TimeoutError:
            break
        if msg.type == aiohttp.WSMsgType.TEXT:
            out.append(json.loads(msg.data))
    return out


async def _subscribe(ws, channel: str, payload: list) -> dict:
    await ws.send_str(json.dumps({"time": 1, "channel": channel, "event": "subscribe", "payload": payload, "id": 7}))
    while True:
        frame = json.loads((await ws.receive(timeout=5)).data)
        if frame.get("event") == "subscribe":
            return frame


async def _until(ws, found, seconds: float = 5.0) -> tuple[dict, list[dict]]:
    """Read frames until one for which ``found(frame)`` holds (within ``seconds``); that frame
    and the ones read before it."""
    before: list[dict] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        msg = await ws.receive(timeout=left)
        if msg.type != aiohttp.WSMsgType.TEXT:
            continue
        frame = json.loads(msg.data)
        if found(frame):
            return frame, before
        before.append(frame)
    raise AssertionError(f"no such frame within {seconds} s; read {before}")


def _book_ids(frames: list[dict]) -> list[int]:
    return [f["result"]["u"] for f in frames if f["channel"] == "spot.order_book_update"]


async def test_mute_cross_full_and_block_on_the_wire(sim):
    # conditions with deadlines, not fixed windows: a busy machine delays frames, it must not fail the test;
    # the sim's update ids tell pushes made before a switch (still in flight) from those after it
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(sim.ws_url("gateio-spot")) as ws:
            ack = await _subscribe(ws, "spot.order_book_update", ["BTC_USDT", "100ms"])
            assert ack["result"] == {"status": "success"}
            await _until(ws, lambda f: f["channel"] == "spot.order_book_update")
            # mute: no push, but a ping is answered (muted until switched off below)
            async with http.post(sim.base_url + "/_sim/fault/mute?seconds=60") as resp:
                assert (await resp.json())["affected"] == 1
            muted_at = sim_update_id(sim, "BTC/USDT")
            await ws.send_str(json.dumps({"time": 1, "channel": "spot.ping"}))
            _, early = await _until(ws, lambda f: f["channel"] == "spot.pong")
            assert await wait_until(lambda: sim_update_id(sim, "BTC/USDT") > muted_at + 3, 10)  # steps that were not pushed
            late = await _frames(ws, 0.2)
            assert [f["channel"] for f in early + late if f["channel"] != "spot.order_book_update"] == []
            assert all(u <= muted_at for u in _book_ids(early + late)), (muted_at, _book_ids(early + late))
            async with http.post(sim.base_url + "/_sim/fault/mute?seconds=0") as resp:
                assert (await resp.json())["affected"] == 1
            await _until(ws, lambda f: f["channel"] == "spot.order_book_update" and f["result"]["u"] > muted_at)  # pushes again
            # cross: a bid at the best ask, with the next id; the simulator's book keeps its levels
            sim.pause()
            book = sim.market.books["BTC/USDT"]
            ask = book.price_str(book.best_ask()[0])
            before = sim_update_id(sim, "BTC/USDT")
            async with http.post(sim.base_url + "/_sim/fault/cross?symbol=BTC/USDT") as resp:
                assert (await resp.json())["affected"] == 1
            frame, stale = await _until(ws, lambda f: f["channel"] == "spot.order_book_update" and f["result"]["u"] > before)
            crossing = frame["result"]
            assert all(u <= before for u in _book_ids(stale)) and len(_book_ids(stale)) == len(stale)  # pushed before the pause
            assert (crossing["U"], crossing["u"]) == (before + 1, before + 1) and crossing["b"][0][0] == ask
            assert sim_update_id(sim, "BTC/USDT") == before + 1 and book.price_str(book.best_bid()[0]) < ask
            # full: the whole book in-band, at the current id, and nothing else pushed meanwhile
            async with http.post(sim.base_url + "/_sim/fault/full?symbol=BTC/USDT") as resp:
                assert (await resp.json())["affected"] == 1
            frame, between = await _until(ws, lambda f: f["channel"] == "spot.order_book_update")
            full = frame["result"]
            assert between == [] and full["full"] is True and full["u"] == before + 1 and len(full["b"]) == len(book.bids)
            # block: that channel is refused from now on, others are not
            async with http.post(sim.base_url + "/_sim/fault/block?channel=spot.trades:ETH_USDT") as resp:
                assert (await resp.json())["affected"] == 1
            refused = await _subscribe(ws, "spot.trades", ["ETH_USDT"])
            assert refused["result"] == {"status": "fail"} and "refused" in refused["error"]["message"]
            assert (await _subscribe(ws, "spot.trades", ["BTC_USDT"]))["result"] == {"status": "success"}
            async with http.post(sim.base_url + "/_sim/fault/cross?symbol=NOPE") as resp:
                assert resp.status == 400


async def test_stale_and_slow_snapshots(sim):
    url = sim.rest_url("gateio-spot") + "/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true"
    async with aiohttp.ClientSession() as http:
        async with http.post(sim.base_url + "/_sim/fault/stale_snapshots?count=1") as resp:
            assert resp.status == 200
        held = sim_update_id(sim, "BTC/USDT")
        await asyncio.sleep(0.3)
        assert sim_update_id(sim, "BTC/USDT") > held
        async with http.get(url) as resp:
            assert (await resp.json())["id"] == held  # the book as it was at the switch
        async with http.get(url) as resp:
            assert (await resp.json())["id"] > held
        async with http.post(sim.base_url + "/_sim/fault/slow_snapshots?seconds=0.3&count=1") as resp:
            assert resp.status == 200
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        asked = sim_update_id(sim, "BTC/USDT")
        async with http.get(url) as resp:
            body = await resp.json()
        assert loop.time() - t0 >= 0.29
        # read when asked: older than the book when the answer came
        assert asked <= body["id"] < sim_update_id(sim, "BTC/USDT")


def test_results_render_and_round_trip():
    results = [
        FaultResult(fault="drop", title="connection dropped", column="a", status=OK, survived=True, state_right=True, recover_ms=88.0,
                    samples_ms=[80.0, 88.0, 95.0], repeats=3),
        FaultResult(fault="drop", title="connection dropped", column="b", status=FAILED, survived=False, state_right=None,
                    repeats=3, note="repeat 1: not recovered"),
        FaultResult(fault="gap", title="sequence gap", column="a", status=OK, survived=True, state_right=True, recover_ms=1500.0,
                    repeats=3, timed_from="lifted"),
        FaultResult(fault="gap", title="sequence gap", column="b", status=NOT_APPLICABLE, note="no sequence"),
    ]
    run = MatrixRun(results=results, columns=["a", "b"], faults=["drop", "gap"], settings={"no_data_timeout_s": 1.0})
    assert from_json(to_json(run)) == run
    text = render_markdown(run)
    lines = text.splitlines()
    assert lines[0] == "| fault | a | b |"
    assert lines[2] == "| connection dropped | yes / yes / 88 ms | **no** / - / - [1] |"
    assert lines[3] == "| sequence gap (from the fault lifted) | yes / yes / 1.50 s | n/a [2] |"
    assert "[1] repeat 1: not recovered" in text and "[2] no sequence" in text
    assert "Cells: 2 survived with the right state, 1 failed, 1 n/a, 0 pending" in text
    assert PENDING == "pending"


def _status(status: str, t_s: float, retry_in: float | None = None):
    from cexfeed.models import ConnectionStatus

    return ConnectionStatus(venue="gateio", market="spot", symbol="", venue_symbol="", exchange_ts=None, recv_ts=int(t_s * 1e9),
                            connection="gateio-spot#0", status=status, retry_in=retry_in)


def test_backoff_spacing_check_tells_a_hot_loop_from_a_backoff():
    from cexfeed.resilience.spacing import check_spacing

    def run(waits):
        events, t = [], 0.0
        for wait in waits:
            events += [_status("connecting", t), _status("failed", t + 0.001, wait)]
            t += 0.001 + wait
        return events

    good = run([0.04, 0.07, 0.15, 0.31, 0.22, 0.37])
    assert check_spacing(good, 1.3, initial=0.05, cap=0.4) == []
    # a hot loop: no wait at all, many attempts
    hot = run([0.0] * 50)
    problems = check_spacing(hot, 1.0, initial=0.05, cap=0.4)
    assert any("outside" in p for p in problems) and any("attempts in" in p for p in problems)
    # capped but never jittered
    flat = run([0.05, 0.1, 0.2, 0.4, 0.4, 0.4, 0.4])
    assert any("no jitter" in p for p in check_spacing(flat, 2.0, initial=0.05, cap=0.4))
    # a wait not honoured: the next attempt came at once
    events = run([0.05, 0.1])
    events[2] = _status("connecting", events[1].recv_ts / 1e9 + 0.001)
    assert any("came" in p for p in check_spacing(events, 1.0, initial=0.05, cap=0.4))


def test_the_soak_report_renders_a_matrix_run(tmp_path):
    from cexfeed.soak import matrix as soak_matrix

    results = [
        FaultResult(fault="tcp_reset", title="connection dropped", column="gateio-spot", status=OK, survived=True, state_right=True,
                    recover_ms=90.0, samples_ms=[80.0, 90.0, 200.0], repeats=3),
        FaultResult(fault="sequence_gap", title="sequence gap", column="gateio-spot account", status=NOT_APPLICABLE, note="no sequence"),
        FaultResult(fault="handshake_cut", title="handshake cut", column="mexc-spot", status=FAILED, survived=False, samples_ms=[300.0],
                    repeats=3, note="repeat 2: not recovered"),
    ]
    run = MatrixRun(results=results, columns=["gateio-spot", "gateio-spot account", "mexc-spot"], faults=["tcp_reset", "sequence_gap", "handshake_cut"])
    path = tmp_path / "fault-matrix.json"
    path.write_bytes(to_json(run))
    rows = soak_matrix.load(path)
    assert [r["fault"] for r in rows] == ["tcp_abort"] * 3 + ["sequence_gap", "handshake_cut", "handshake_cut"]
    lines, counts = soak_matrix.table(rows)
    text = "\n".join(lines)
    assert "| connection dropped (TCP abort) | survived, state right · 0.09 s (n=3) |" in text
    sequence = next(line for line in lines if line.startswith("| sequence gap |"))
    assert sequence.split(" | ")[VENUE_INDEX["gateio-spot account"]] == "n/a"
    assert "**FAILED**" in next(line for line in lines if line.startswith("| handshake_cut |"))
    assert counts["failed"] == 1


VENUE_INDEX = {name: i + 1 for i, name in enumerate(["gateio-spot", "gateio-perp", "mexc-spot", "gateio-spot account",
                                                      "gateio-perp account", "mexc-spot account"])}
