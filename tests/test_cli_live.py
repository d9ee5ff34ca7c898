"""``cexfeed demo`` and ``cexfeed stream`` as a user runs them: real subprocesses, no TTY."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from cexfeed.models import BookUpdate, decode_event
from cexfeed.sim import SimServer

CLI = [sys.executable, "-c", "from cexfeed.cli import main; main()"]


def test_demo_runs_for_its_duration_and_exits_zero():
    proc = subprocess.run(
        CLI + ["demo", "--duration", "5"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "160"},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for symbol in ("BTC/USDT", "ETH/USDT", "SOL/USDT"):
        assert symbol in out
    # one table per simulated venue, every book synced; the perp table shows funding and mark
    for venue in ("gateio-spot", "gateio-perp", "mexc-spot"):
        assert f"cexfeed demo: {venue} simulator" in out
    assert out.count("synced") == 9
    assert "funding" in out and "mark / index" in out and "%" in out
    # and an account panel per venue with private streams (the simulator's test accounts)
    for venue in ("gateio-spot", "gateio-perp", "mexc-spot"):
        assert f"{venue} account (simulator test keys)" in out
    assert out.count("status live") == 3 and "recent fills" in out and "positions" in out
    assert out.count("reconnects 0") == 6 and out.count("errors none") == 6  # 3 market tables, 3 account panels


def test_demo_jsonl_lines_are_events():
    proc = subprocess.run(CLI + ["demo", "--duration", "2", "--format", "jsonl", "--symbols", "ETH/USDT"],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    events = [decode_event(line) for line in proc.stdout.splitlines()]
    # connection status events name no symbol
    assert events and {e.symbol for e in events} - {""} == {"ETH/USDT", "ETH/USDT:USDT"}
    assert {e.venue for e in events} == {"gateio", "mexc"}
    assert {"book", "book_status", "bbo", "funding", "mark_price"} <= {type(e).__struct_config__.tag for e in events}


@pytest.fixture
async def sim():
    server = SimServer(seed=2, rate=40, venues=["gateio-spot"])
    await server.start()
    yield server
    await server.stop()


async def test_stream_jsonl_against_the_simulator(sim):
    proc = await asyncio.create_subprocess_exec(
        *CLI, "stream", "gateio-spot", "--symbols", "BTC/USDT,ETH/USDT", "--channels", "book,trades,bbo,ticker",
        "--url", sim.ws_url("gateio-spot"), "--rest-url", sim.rest_url("gateio-spot"),
        "--duration", "2.5", "--format", "jsonl",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err
    events = [decode_event(line) for line in out.splitlines()]
    kinds = {type(e).__struct_config__.tag for e in events}
    assert {"book", "book_status", "trade", "bbo", "ticker"} <= kinds
    assert {e.symbol for e in events} - {""} == {"BTC/USDT", "ETH/USDT"}
    assert [e.status for e in events if e.symbol == ""][:2] == ["connecting", "connected"]
    books = [e for e in events if isinstance(e, BookUpdate)]
    snapshots = [e for e in books if e.snapshot]
    assert {e.symbol for e in snapshots} == {"BTC/USDT", "ETH/USDT"}
    # deltas after each snapshot continue its ids exactly
    for symbol in ("BTC/USDT", "ETH/USDT"):
        seq = [e for e in books if e.symbol == symbol]
        last = seq[0].last_update_id
        for event in seq[1:]:
            assert event.first_update_id <= last + 1 <= event.last_update_id
            last = event.last_update_id


def test_stream_rejects_unknown_channel():
    proc = subprocess.run(CLI + ["stream", "gateio-spot", "--channels", "orders", "--url", "ws://127.0.0.1:9/ws/v4/",
                                 "--rest-url", "http://127.0.0.1:9/api/v4", "--duration", "1"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    # a usage error like an empty --channels (exit 2), and among known ones too
    assert proc.returncode == 2 and "unknown channel(s) ['orders']" in proc.stderr
    assert "Cannot connect" not in proc.stderr  # checked before any network call
    proc = subprocess.run(CLI + ["stream", "gateio-spot", "--channels", "book,foo", "--url", "ws://127.0.0.1:9/ws/v4/",
                                 "--rest-url", "http://127.0.0.1:9/api/v4", "--duration", "1"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown channel(s) ['foo']" in proc.stderr


def test_sim_command_prints_its_endpoints():
    proc = subprocess.run(CLI + ["sim", "--duration", "1"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines() if line.startswith("gateio-spot ")}
    ws, rest = lines["gateio-spot"]
    assert ws.startswith("ws://127.0.0.1:") and ws.endswith("/ws/v4/") and rest.endswith("/api/v4")
    # the account endpoints and the simulator's test keys (README: test keys in cexfeed.sim.*_private)
    accounts = {line.split()[1].rstrip(":"): line for line in proc.stdout.splitlines() if line.startswith("account ")}
    assert sorted(accounts) == ["gateio-perp", "gateio-spot", "mexc-spot"]
    assert ("GATEIO_API_KEY=cexfeed-sim-key GATEIO_API_SECRET=cexfeed-sim-secret GATEIO_UID=10001 cexfeed account gateio-perp --url ws://127.0.0.1:"
            in accounts["gateio-perp"]) and accounts["gateio-perp"].endswith("/api/v4")
    assert "MEXC_API_KEY=mx0vglcexfeedsimkey MEXC_API_SECRET=cexfeed-sim-mexc-secret cexfeed account mexc-spot --url ws://" in accounts["mexc-spot"]
