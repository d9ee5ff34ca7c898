"""``cexfeed record`` and ``cexfeed replay`` of its capture, as a user runs them: real
subprocesses against the simulator; the metrics endpoint of ``record`` scraped while it runs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from cexfeed.models import decode_event
from cexfeed.sim import SimServer

CLI = [sys.executable, "-c", "from cexfeed.cli import main; main()"]


async def test_record_then_replay_prints_the_same_events(tmp_path):
    venue = "mexc-spot"
    out = tmp_path / "caps" / "mexc"
    async with SimServer(seed=4, rate=40, venues=[venue]) as sim:
        proc = await asyncio.create_subprocess_exec(
            *CLI, "record", venue, "--symbols", "BTC/USDT,ETH/USDT", "--channels", "book,trades,bbo",
            "--url", sim.ws_url(venue), "--rest-url", sim.rest_url(venue), "--out", str(out),
            "--duration", "3", "--format", "jsonl", "--metrics-port", "0",
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert line.startswith(b"metrics: http://127.0.0.1:"), line
        url = line.split()[1].decode()
        await asyncio.sleep(1.5)
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            assert resp.status == 200
            scraped = {s.name: s for f in text_string_to_metric_families(await resp.text()) for s in f.samples}
        assert scraped["cexfeed_frames_total"].value > 0 and scraped["cexfeed_frames_total"].labels == {"venue": venue}
        assert scraped["cexfeed_sink_published_total"].labels == {"sink": "record:mexc"}
        live, err = await asyncio.wait_for(proc.communicate(), 60)
        sim.drop_connections()
    assert proc.returncode == 0, err
    assert b"recorded " in err and b"mexc.00000.cxf" in err
    part = tmp_path / "caps" / "mexc.00000.cxf"
    assert part.is_file()

    # the capture replays to the very same JSON lines (recv_ts included)
    replayed = subprocess.run(CLI + ["replay", str(out), "--format", "jsonl"], stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == live and len(live.splitlines()) > 50
    kinds = {type(decode_event(l)).__struct_config__.tag for l in live.splitlines()}
    assert {"book", "book_status", "trade", "bbo"} <= kinds

    summary = subprocess.run(CLI + ["replay", str(part), "--format", "summary-json"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert summary.returncode == 0, summary.stderr
    books = json.loads(summary.stdout)
    assert set(books) == {"BTC/USDT", "ETH/USDT"} and all(b["deltas_applied"] > 0 for b in books.values())

    table = subprocess.run(CLI + ["replay", str(part), "--speed", "50"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert table.returncode == 0, table.stderr
    assert "mexc-spot replay" in table.stdout and "BTC/USDT" in table.stdout

    # a torn tail is reported, not fatal
    data = part.read_bytes()
    torn = tmp_path / "torn.00000.cxf"
    torn.write_bytes(data[: len(data) - 7])
    cut = subprocess.run(CLI + ["replay", str(torn), "--format", "jsonl"], stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    assert cut.returncode == 0, cut.stderr
    assert b"torn block at byte" in cut.stderr and live.startswith(cut.stdout) and cut.stdout

    # never overwrites
    again = subprocess.run(CLI + ["record", venue, "--url", "ws://127.0.0.1:9/ws", "--rest-url", "http://127.0.0.1:9", "--out", str(out), "--duration", "1"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert again.returncode != 0 and "exists" in again.stderr


def test_speed_only_for_own_captures(tmp_path):
    frames = tmp_path / "frames.txt"
    frames.write_text("{}\n")
    proc = subprocess.run(CLI + ["replay", str(frames), "--venue", "gateio-spot", "--speed", "1"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "--speed applies to cexfeed captures" in proc.stderr
    missing = subprocess.run(CLI + ["replay", str(tmp_path / "nope")], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "does not exist" in missing.stderr
