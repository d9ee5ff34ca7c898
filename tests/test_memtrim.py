"""The heap freed by a resync goes back to the system (``cexfeed.net.memtrim``): a synced
snapshot schedules one ``malloc_trim`` a moment later, requests in between share it, and a
book resynced over a real socket (the simulator) triggers it."""

from __future__ import annotations

import asyncio

import pytest

from cexfeed.net import memtrim

glibc = pytest.mark.skipif(memtrim._resolve() is False, reason="malloc_trim needs glibc")


@glibc
async def test_resyncs_close_together_share_one_trim(monkeypatch):
    from cexfeed.sim.testing import wait_until

    monkeypatch.setattr(memtrim, "DELAY", 0.01)
    monkeypatch.setattr(memtrim, "MIN_INTERVAL", 600.0)
    monkeypatch.setattr(memtrim, "_last", -1000.0)
    before = memtrim.trims
    for _ in range(5):
        memtrim.after_resync()
    assert await wait_until(lambda: memtrim.trims > before, 5)
    await asyncio.sleep(0.05)
    assert memtrim.trims == before + 1
    # within MIN_INTERVAL of the last trim: one is due later, and further resyncs share it
    memtrim.after_resync()
    due = memtrim._pending
    memtrim.after_resync()
    assert due is not None and memtrim._pending is due and due.when() - asyncio.get_running_loop().time() > 500
    due.cancel()
    assert memtrim.trims == before + 1


@glibc
async def test_a_book_synced_from_a_snapshot_schedules_a_trim(monkeypatch):
    from cexfeed.architecture import open_feed
    from cexfeed.sim import SimServer
    from cexfeed.sim.testing import wait_until

    monkeypatch.setattr(memtrim, "DELAY", 0.01)
    monkeypatch.setattr(memtrim, "_last", -1000.0)
    monkeypatch.setattr(memtrim, "_pending", None)
    before = memtrim.trims
    sim = SimServer(seed=4, rate=40, venues=["gateio-spot"])
    await sim.start()
    try:
        feed = open_feed("gateio-spot", ["BTC/USDT"], ["book"], url=sim.ws_url("gateio-spot"), rest_url=sim.rest_url("gateio-spot"))
        await feed.start(timeout=10)
        try:
            assert await wait_until(lambda: feed.synced("BTC/USDT"), 10)
            assert await wait_until(lambda: memtrim.trims > before, 5)
        finally:
            await feed.close()
    finally:
        await sim.stop()
