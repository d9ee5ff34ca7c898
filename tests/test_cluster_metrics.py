"""``cexfeed run CONFIG --shard K --metrics-port P`` serves that worker's Prometheus metrics on
P + K: its feeds' frame counters and its sink's published count, scraped over HTTP."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys

import aiohttp

from cexfeed.sim import SimServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_worker_serves_metrics_on_base_port_plus_shard(tmp_path):
    sim = SimServer(seed=5, rate=30, venues=["gateio-spot"])
    await sim.start()
    config = tmp_path / "run.toml"
    config.write_text(
        f'[sink]\nurl = "jsonl:{tmp_path / "events.jsonl"}"\n\n[cluster]\nworkers = 2\n\n'
        f'[[feed]]\nvenue = "gateio-spot"\nsymbols = ["BTC/USDT", "ETH/USDT"]\nchannels = ["book", "trades"]\n'
        f'url = "{sim.ws_url("gateio-spot")}"\nrest_url = "{sim.rest_url("gateio-spot")}"\n'
    )
    base = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cexfeed", "run", str(config), "--shard", "1", "--metrics-port", str(base - 1), "--duration", "20",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    text = ""
    try:
        async with aiohttp.ClientSession() as session:

            async def scraped() -> bool:
                nonlocal text
                try:
                    async with session.get(f"http://127.0.0.1:{base}/metrics") as resp:
                        text = await resp.text()
                except aiohttp.ClientError:
                    return False
                frames = re.search(r'^cexfeed_frames_total\{venue="gateio-spot"\} ([\d.]+)', text, re.M)
                published = re.search(r"^cexfeed_sink_published_total\{[^}]*\} ([\d.]+)", text, re.M)
                return bool(frames and float(frames.group(1)) > 0 and published and float(published.group(1)) > 0)

            for _ in range(150):
                if await scraped():
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"no frames or published events in the worker's metrics:\n{text[:2000]}")
    finally:
        proc.terminate()
        await proc.wait()
        await sim.stop()
    assert 'cexfeed_book_synced{' in text
