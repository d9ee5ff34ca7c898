"""Sink throughput: events/s one process publishes to Redis Streams and to NATS JetStream (and
a JSONL file for reference), bytes per event on the bus, CPU per event in this process and in
the broker; and one worker end to end (the simulator's frames through a Feed into a Redis sink).

Each broker is a real local server (``cexfeed.sinks.servers``: ``redis-server``,
``nats-server -js``) on a loopback port, started for the run and stopped after. The publish
rows submit a fixed mix of events (per 10: 5 book deltas of 3 levels, 3 best bid/offers,
2 trades, over 200 symbols) as fast as the sink takes them, with a buffer large enough that
nothing is dropped, and time until the broker acknowledged the last one.

``python -m cexfeed.bench.sinks [--events N] [--seconds S]`` prints the table and writes
``bench/reports/sinks.json`` (from a checkout); ``cexfeed bench --sinks`` adds the rows to the main report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from cexfeed.models import BestBidOffer, BookUpdate, Event, Trade
from cexfeed.sinks import SinkConfig, make_sink
from cexfeed.sinks.codec import encoder
from cexfeed.sinks.servers import LocalNats, LocalRedis, ServerUnavailable

REPORTS = Path("bench") / "reports"


def event_mix(n: int, symbols: int = 200) -> list[Event]:
    """``n`` events: per 10, 5 book deltas (3 levels), 3 bbo, 2 trades; symbols round robin."""
    out: list[Event] = []
    now = time.time_ns()
    for i in range(n):
        k = i % symbols
        base = dict(venue="gateio", market="spot", symbol=f"C{k}/USDT", venue_symbol=f"C{k}_USDT",
                    exchange_ts=1_780_000_000_000 + i, recv_ts=now + i)
        slot = i % 10
        price = 100.0 + (i % 997) / 100
        if slot < 5:
            out.append(BookUpdate(**base, bids=[(price, 1.25), (price - 0.01, 0.0)], asks=[(price + 0.02, 3.5)], snapshot=False,
                                  first_update_id=1_000_000 + i, last_update_id=1_000_000 + i))
        elif slot < 8:
            out.append(BestBidOffer(**base, bid_price=price, bid_size=1.25, ask_price=price + 0.02, ask_size=3.5, update_id=1_000_000 + i))
        else:
            out.append(Trade(**base, price=price, size=0.125, side="buy" if i % 2 else "sell", trade_id=str(500_000_000 + i)))
    return out


def bytes_per_event(events: list[Event]) -> dict[str, dict[str, float]]:
    """Mean encoded size by event type and encoding (what one entry carries on the bus)."""
    out: dict[str, dict[str, float]] = {}
    for encoding in ("json", "msgpack"):
        encode = encoder(encoding)
        sizes: dict[str, list[int]] = {}
        for event in events[:1000]:
            sizes.setdefault(type(event).__name__, []).append(len(encode(event)))
        out[encoding] = {k: sum(v) / len(v) for k, v in sizes.items()}
        out[encoding]["mix"] = sum(sum(v) for v in sizes.values()) / sum(len(v) for v in sizes.values())
    return out


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def publish_rate(config: SinkConfig, events: list[Event], broker_pid: int | None) -> dict[str, Any]:
    sink = make_sink(config, buffer=len(events) + 10)
    await sink.start()
    # connect (and create the JetStream stream) before timing
    sink.submit(events[0])
    await sink.drain(30)
    broker0 = _cpu_of(broker_pid) if broker_pid else 0.0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for event in events:
        sink.submit(event)
    ok = await sink.drain(300)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    broker = _cpu_of(broker_pid) - broker0 if broker_pid else None
    stats = sink.stats()
    await sink.close()
    n = len(events)
    return {
        "status": "ok" if ok and stats["dropped"] == 0 else f"failed: drained={ok} dropped={stats['dropped']}",
        "events": n,
        "seconds": wall,
        "events_per_s": n / wall,
        "client_cpu_us": cpu / n * 1e6,
        "broker_cpu_us": broker / n * 1e6 if broker is not None else None,
        "batches": stats["batches"],
    }


async def _start_sim() -> tuple[asyncio.subprocess.Process, dict[str, tuple[str, str]]]:
    """``cexfeed sim --rate 0`` (as fast as it can) in its own process; its URLs by venue."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "cexfeed", "sim", "--rate", "0", stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL)
    urls = {}
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().split()
        if not line or line[0] == "faults:":
            return proc, urls
        urls[line[0]] = (line[1], line[2])


async def worker_rate(sink_url: str, seconds: float) -> dict[str, Any]:
    """One worker end to end: the simulator (another process, as fast as it can) -> Feed
    (Gate spot, 4 symbols, book + trades + bbo) -> Redis sink (msgpack). Counts events in,
    events Redis acknowledged, drops, and this process's CPU per event: the worker's capacity
    is about ``events_per_s / cpu_share`` (the simulator, not the worker, sets the pace)."""
    from cexfeed.feed import Feed

    proc, urls = await _start_sim()
    ws, rest = urls["gateio-spot"]
    sink = make_sink(SinkConfig(url=sink_url, encoding="msgpack", maxlen=100_000, prefix="bench-worker"))
    feed = Feed("gateio-spot", ["BTC/USDT", "ETH/USDT", "SOL/USDT", "DOGE/USDT"], ["book", "trades", "bbo"], url=ws, rest_url=rest, sinks=[sink])
    try:
        await feed.start(timeout=15)
        deadline = time.monotonic() + 15
        while sink.published < 100 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        events0, published0, dropped0, frames0 = feed.events_total, sink.published, sink.dropped, feed.stats()["frames"]
        wall0, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.sleep(seconds)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        events, published, dropped = feed.events_total - events0, sink.published - published0, sink.dropped - dropped0
        frames = feed.stats()["frames"] - frames0
    finally:
        await feed.close()
        proc.terminate()
        await proc.wait()
    return {"status": "ok" if published else "failed: nothing published", "events_per_s": events / wall, "frames_per_s": frames / wall,
            "published_per_s": published / wall, "dropped": dropped, "cpu_us_per_event": cpu / events * 1e6 if events else None,
            "cpu_us_per_frame": cpu / frames * 1e6 if frames else None, "cpu_share": cpu / wall}


async def run(events: int = 100_000, seconds: float = 3.0, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every row; a broker whose binary is missing gives ``status: missing``."""
    mix = event_mix(events)
    results: dict[str, Any] = {"events": events, "bytes_per_event": bytes_per_event(mix), "rows": [], "worker": None}
    servers: list[tuple[str, Any]] = [("redis", LocalRedis), ("nats", LocalNats)]
    for name, server_class in servers:
        try:
            server = server_class().start()
        except ServerUnavailable as exc:
            results["rows"].append({"sink": name, "status": f"missing: {exc}"})
            continue
        try:
            url = server.url + ("/0" if name == "redis" else "")
            for encoding in ("json", "msgpack"):
                config = SinkConfig(url=url, encoding=encoding, prefix=f"bench-{encoding}", stream=f"BENCH{encoding.upper()}", maxlen=100_000)
                row = {"sink": name, "encoding": encoding, **await publish_rate(config, mix, server.proc.pid)}
                results["rows"].append(row)
                log(f"  sink {name:5s} {encoding:7s} {row['events_per_s']:10,.0f} events/s  client {row['client_cpu_us']:.1f} us/event"
                    f"  broker {row['broker_cpu_us'] or 0:.1f} us/event")
            if name == "redis" and seconds:
                results["worker"] = await worker_rate(url, seconds)
                w = results["worker"]
                log(f"  worker (simulator -> Feed -> Redis): {w['frames_per_s']:,.0f} frames/s, {w['events_per_s']:,.0f} events/s, "
                    f"published {w['published_per_s']:,.0f}/s, dropped {w['dropped']}, {w['cpu_us_per_frame'] or 0:.1f} us CPU/frame, "
                    f"{w['cpu_share'] * 100:.0f} % of a core")
        finally:
            server.stop()
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        row = {"sink": "jsonl file", "encoding": "json",
               **await publish_rate(SinkConfig(url=f"jsonl:{folder}/events.jsonl"), mix, None)}
        results["rows"].append(row)
        log(f"  sink jsonl  json    {row['events_per_s']:10,.0f} events/s  client {row['client_cpu_us']:.1f} us/event")
    return results


def markdown_rows(results: dict[str, Any]) -> list[str]:
    """The report section (Markdown lines)."""
    sizes = results["bytes_per_event"]
    lines = ["## Sinks", "",
             f"One process publishing {results['events']:,} events (per 10: 5 book deltas of 3 levels, 3 bbo, 2 trades; 200 symbols) "
             "to a local broker; CPU per event in this process and in the broker process.", "",
             "| sink | encoding | events/s | client CPU µs/event | broker CPU µs/event | bytes/event |", "|---|---|---|---|---|---|"]
    for row in results["rows"]:
        if "events_per_s" not in row:
            lines.append(f"| {row['sink']} | | {row['status']} | | | |")
            continue
        broker = f"{row['broker_cpu_us']:.1f}" if row.get("broker_cpu_us") is not None else "n/a"
        lines.append(f"| {row['sink']} | {row['encoding']} | {row['events_per_s']:,.0f} | {row['client_cpu_us']:.1f} | {broker} | "
                     f"{sizes[row['encoding']]['mix']:.0f} |")
    lines += ["", "Bytes per event by type: " + "; ".join(
        f"{enc}: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(s.items()) if k != "mix") for enc, s in sizes.items()), ""]
    w = results.get("worker")
    if w and w.get("status") == "ok":
        lines += [f"One worker end to end (the simulator in another process, as fast as it goes → Feed, Gate spot 4 symbols, "
                  f"book + trades + bbo → Redis sink, msgpack): {w['frames_per_s']:,.0f} frames/s, {w['events_per_s']:,.0f} events/s in, "
                  f"{w['published_per_s']:,.0f}/s acknowledged by Redis, {w['dropped']} dropped; {w['cpu_us_per_frame']:.1f} µs CPU per frame, "
                  f"{w['cpu_us_per_event']:.1f} per event, {w['cpu_share'] * 100:.0f} % of one core.", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cexfeed.bench.sinks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events per publish row")
    parser.add_argument("--seconds", type=float, default=3.0, help="worker end-to-end run (0: skip)")
    parser.add_argument("--out", default=str(REPORTS / "sinks.json"))
    a = parser.parse_args(argv)
    results = asyncio.run(run(a.events, a.seconds))
    from .run import meta

    results["meta"] = meta({"events": a.events, "seconds": a.seconds})
    Path(a.out).write_text(json.dumps(results, indent=1))
    print("\n".join(markdown_rows(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
