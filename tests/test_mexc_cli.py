"""``cexfeed stream mexc-spot`` against the simulator, as a user runs it (subprocess)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from cexfeed.exchanges.mexc.capture import replay_handler, replay_snapshot
from cexfeed.models import BookUpdate, Trade, decode_event
from cexfeed.sim import SimServer

CLI = [sys.executable, "-c", "from cexfeed.cli import main; main()"]


@pytest.fixture
async def sim():
    server = SimServer(seed=3, rate=30, venues=["mexc-spot"])
    await server.start()
    yield server
    await server.stop()


async def test_stream_mexc_spot_jsonl_against_the_simulator(sim):
    proc = await asyncio.create_subprocess_exec(
        *CLI, "stream", "mexc-spot", "--symbols", "BTC/USDT,ETH/USDT", "--channels", "book,trades,bbo",
        "--url", sim.ws_url("mexc-spot"), "--rest-url", sim.rest_url("mexc-spot"),
        "--duration", "2.5", "--format", "jsonl",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err
    events = [decode_event(line) for line in out.splitlines()]
    assert {e.venue for e in events} == {"mexc"} and {e.symbol for e in events} - {""} == {"BTC/USDT", "ETH/USDT"}
    books = [e for e in events if isinstance(e, BookUpdate)]
    assert any(b.snapshot for b in books) and any(not b.snapshot for b in books)
    assert all(t.side in ("buy", "sell") and t.price > 0 for t in events if isinstance(t, Trade))


def test_replay_support_functions():
    handler = replay_handler(b'{"symbols":[{"symbol":"BTCUSDT","baseAsset":"BTC","quoteAsset":"USDT","status":"1"}]}')
    replay_snapshot(handler, "BTCUSDT", b'{"lastUpdateId":10,"bids":[["1.5","2"]],"asks":[["1.6","3"]]}', 1)
    assert handler.book("BTCUSDT").synced and handler.book("BTCUSDT").book.top_bids() == [(1.5, 2.0)]
