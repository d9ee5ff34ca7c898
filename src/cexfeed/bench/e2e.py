"""End-to-end throughput over loopback: :mod:`cexfeed.bench.blaster` (a separate process) pushes Gate.io
spot 20x20 book updates as fast as the client reads them for a fixed time; the client runs in
this process on one thread (one core), and we count the book updates it applied, the wall time,
and this process's CPU time.

Clients:

- ``direct`` / ``strategy``: :func:`cexfeed.feed.open_feed` (picows network core, REST
  snapshot, sequencer) on ``spot.order_book_update``; counted: applied ``BookUpdate`` deltas;
- ``ccxt.pro``: ``gate.watch_order_book("BTC/USDT")`` in the usual ``while True: await``
  loop, its WebSocket URL pointed at the same endpoint (ccxt subscribes Gate spot books on
  ``spot.obu``, which the endpoint serves with the same 20x20 deltas); counted: frames its
  ``handle_message`` processed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any


async def _start_blaster(seconds: float) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cexfeed.bench.blaster", "--seconds", str(seconds), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    line = await asyncio.wait_for(proc.stdout.readline(), 20)
    if not line.startswith(b"PORT "):
        raise RuntimeError(f"blaster did not start: {line!r}")
    return proc, int(line.split()[1])


async def _stop(proc: asyncio.subprocess.Process) -> int:
    sent = 0
    try:
        proc.terminate()
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
        for line in out.splitlines():
            if line.startswith(b"SENT "):
                sent += int(line.split()[1])
    except Exception:
        proc.kill()
    return sent


async def _cexfeed(architecture: str, port: int, seconds: float) -> dict[str, Any]:
    from cexfeed.architecture import open_feed
    from cexfeed.models import BookStatus, BookUpdate

    counts = {"updates": 0, "resyncs": 0}

    def on_event(event) -> None:
        if type(event) is BookUpdate:
            if not event.snapshot:
                counts["updates"] += 1
        elif type(event) is BookStatus and event.status == "resyncing":
            counts["resyncs"] += 1

    feed = open_feed(
        "gateio-spot",
        ["BTC/USDT"],
        ["book"],
        architecture=architecture,
        url=f"ws://127.0.0.1:{port}/ws/v4/",
        rest_url=f"http://127.0.0.1:{port}/api/v4",
        on_event=on_event,
        protocol_options={"book_interval": "20ms"},
    )
    try:
        await feed.start(timeout=15)
        # measure from the first applied update
        deadline = time.monotonic() + 15
        while counts["updates"] == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        return await _measure(lambda: counts["updates"], seconds, extra=lambda: {"resyncs": counts["resyncs"]})
    finally:
        await feed.close()


async def _ccxt(port: int, seconds: float) -> dict[str, Any]:
    import ccxt.pro as ccxtpro

    from .contenders import _CCXT_MARKETS

    exchange = ccxtpro.gate({"newUpdates": False})
    exchange.urls["api"]["spot"] = f"ws://127.0.0.1:{port}/ws/v4/"
    exchange.set_markets(_CCXT_MARKETS["gate"])
    counts = {"frames": 0}
    handle = exchange.handle_message

    def counting(client, message) -> None:
        counts["frames"] += 1
        handle(client, message)

    exchange.handle_message = counting
    stop = asyncio.Event()

    async def consume() -> None:
        while not stop.is_set():
            await exchange.watch_order_book("BTC/USDT")

    task = asyncio.ensure_future(consume())
    try:
        deadline = time.monotonic() + 15
        while counts["frames"] < 3 and time.monotonic() < deadline and not task.done():
            await asyncio.sleep(0.005)
        if task.done():
            task.result()
        return await _measure(lambda: counts["frames"], seconds)
    finally:
        stop.set()
        task.cancel()
        try:
            await task
        except BaseException:
            pass
        await exchange.close()


async def _measure(counter, seconds: float, extra=None) -> dict[str, Any]:
    start_count = counter()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    n = counter() - start_count
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    out = {
        "messages": n,
        "seconds": wall,
        "msgs_per_s": n / wall if wall else 0.0,
        "cpu_s": cpu,
        "cpu_us_per_msg": (cpu / n * 1e6) if n else None,
        "cpu_share": cpu / wall if wall else None,
    }
    if extra is not None:
        out.update(extra())
    return out


async def run_client(client: str, seconds: float) -> dict[str, Any]:
    """One throughput measurement of ``client`` (``direct``, ``strategy``, ``ccxt.pro``) on a
    fresh endpoint; ``{"status": ...}`` explains a client that could not run."""
    proc, port = await _start_blaster(seconds + 20)
    try:
        if client == "ccxt.pro":
            result = await _ccxt(port, seconds)
        else:
            result = await _cexfeed(client, port, seconds)
        result["status"] = "ok" if result["messages"] else "failed: no messages"
    except ImportError as exc:
        result = {"status": f"missing: {exc.name or exc}"}
    except Exception as exc:
        result = {"status": f"failed: {type(exc).__name__}: {exc}"}
    finally:
        result_sent = await _stop(proc)
    result["endpoint_sent"] = result_sent
    return result


async def run(seconds: float, clients=("direct", "strategy", "ccxt.pro"), repeats: int = 1) -> dict[str, Any]:
    """Throughput of every client; with ``repeats`` > 1 the clients alternate and the best run
    of each is kept (the machine is shared: the best run is the least disturbed)."""
    results: dict[str, list[dict[str, Any]]] = {c: [] for c in clients}
    for _ in range(repeats):
        for client in clients:
            results[client].append(await run_client(client, seconds))
    best: dict[str, Any] = {}
    for client, runs in results.items():
        ok = [r for r in runs if r.get("status") == "ok"]
        best[client] = max(ok, key=lambda r: r["msgs_per_s"]) if ok else runs[-1]
        best[client]["runs"] = [r.get("msgs_per_s") for r in runs]
    return {"seconds": seconds, "repeats": repeats, "clients": best}
