"""Load and soak against :mod:`cexfeed.soak.loadgen` (a separate process): one client process,
one :class:`~cexfeed.feed.Feed` per venue (Gate.io spot, Gate.io perpetuals, MEXC spot: book,
trades and best bid/offer of BTC and ETH), each read by a consumer that does nothing.

:func:`run` drives one measurement: the endpoint pushes ``rate`` frames/s summed over the
venues (0: as fast as the client reads) for ``duration`` s, optionally dropping every socket
every ``drop_every`` s; the client's rates, drops, latencies and resources are sampled each
second. At the end the endpoint pauses, the client catches up, and every book is compared with
the endpoint's (:func:`cexfeed.soak.loadgen.expected_book`).

``consumer``: ``events`` (``async for e in feed.events()``), ``batches``
(``feed.batches()``) or ``callback`` (``on_event``, no hand-off: the parse ceiling).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

from ..sim.testing import wait_until
from . import loadgen
from .probe import Sampler, StreamProbe, resources

PATHS = {"gateio-spot": ("/ws/v4/", "/api/v4"), "gateio-perp": ("/v4/ws/usdt", "/api/v4"), "mexc-spot": ("/ws", "")}


async def start_endpoint(rate: float) -> tuple[asyncio.subprocess.Process, int]:
    """Start the load endpoint process; ``(process, port)``."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "cexfeed.soak.loadgen", "--rate", str(rate),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    if not line.startswith(b"PORT "):
        proc.kill()
        raise RuntimeError(f"load endpoint did not start: {line!r}")
    return proc, int(line.split()[1])


async def stop_endpoint(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


async def control(port: int, action: str, **query: Any) -> dict:
    """``POST /_load/<action>`` (``GET`` for ``state``) on the endpoint; its JSON answer."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{port}/_load/{action}"
        method = session.get if action == "state" else session.post
        async with method(url, params={k: str(v) for k, v in query.items()}) as response:
            return await response.json()


def _feed(venue: str, port: int, consumer: str, probe_box: list, architecture: str):
    from ..architecture import open_feed
    from ..net.backoff import Backoff

    ws_path, rest_prefix = PATHS[venue]
    symbols = [f"{b}/USDT:USDT" if venue == "gateio-perp" else f"{b}/USDT" for b, _ in loadgen.BASES]
    on_event = (lambda event: probe_box[0].on_event(event)) if consumer == "callback" else None
    return open_feed(venue, symbols, ["book", "trades", "bbo"], architecture=architecture, url=f"ws://127.0.0.1:{port}{ws_path}",
                     rest_url=f"http://127.0.0.1:{port}{rest_prefix}", on_event=on_event,
                     reconnect_backoff=lambda: Backoff(initial=0.05, cap=0.5))


async def _consume(probe: StreamProbe, consumer: str) -> None:
    if consumer == "events":
        await probe.consume()
    elif consumer == "batches":
        on_event = probe.on_event
        async for batch in probe.stream.batches():
            for event in batch:
                on_event(event)


async def _books_right(feeds: list, port: int, timeout: float = 30.0) -> tuple[list[str], dict]:
    """Pause the endpoint, wait for every book to reach the endpoint's last id, compare."""
    await control(port, "pause")
    await asyncio.sleep(0.2)
    state = await control(port, "state")

    def last(feed, symbol):
        base = symbol.split("/")[0]
        return state["venues"][feed.venue]["last_ids"][loadgen.venue_symbol(feed.venue, base)]

    await wait_until(lambda: all(feed.synced(s) and feed.book(s).last_update_id == last(feed, s) for feed in feeds for s in feed.symbols), timeout)
    wrong = []
    for feed in feeds:
        for symbol in feed.symbols:
            book = feed.book(symbol)
            if book is None or not feed.synced(symbol) or book.last_update_id != last(feed, symbol):
                wrong.append(f"{feed.venue} {symbol}: not caught up ({book.last_update_id if book else None} vs {last(feed, symbol)})")
                continue
            bids, asks = loadgen.expected_book(feed.venue, symbol.split("/")[0], last(feed, symbol))
            if book.top_bids() != bids or book.top_asks() != asks:
                wrong.append(f"{feed.venue} {symbol}: levels differ from the endpoint's")
    await control(port, "resume")
    return wrong, state


def rss_after_warmup(steady: list[dict]) -> dict[str, Any]:
    """RSS growth after warm-up, from the samples of the steady part: the median RSS over its
    last window against the median over its first window (each a tenth of the steady part,
    5-60 s), and the lowest RSS of each window. A leak raises every sample, so both medians
    move; a CPU stall (the backlog read at once) lifts RSS for a few samples, which moves
    neither median unless it covers half a window."""
    none = {"rss_start": None, "rss_end_window": None, "rss_growth": None, "rss_window_s": None,
            "rss_floor_start": None, "rss_floor_end": None, "rss_floor_growth": None}
    if len(steady) < 2:
        return none
    t0, t1 = steady[0]["t"], steady[-1]["t"]
    span = min(60.0, max(5.0, (t1 - t0) / 10))
    first = [s["rss"] for s in steady if s["t"] <= t0 + span]
    last = [s["rss"] for s in steady if s["t"] >= t1 - span]
    a, b = median(first), median(last)
    return {"rss_start": a, "rss_end_window": b, "rss_growth": (b - a) / a if a else None, "rss_window_s": span,
            "rss_floor_start": min(first), "rss_floor_end": min(last),
            "rss_floor_growth": (min(last) - min(first)) / min(first) if min(first) else None}


async def _settled(warm: dict, timeout: float = 5.0) -> dict[str, int]:
    """fds, sockets and tasks once every book is caught up: polled until none is above its
    figure after warm-up, or ``timeout`` s (a socket or task still open then was left behind; one
    closing, or a reconnect's snapshot task finishing, is not)."""
    keys = ("fds", "sockets", "tasks")
    now: dict[str, int] = {}

    def back() -> bool:
        now.update({k: v for k, v in resources().items() if k in keys})
        return all(now[k] <= warm[k] for k in keys)

    await wait_until(back, timeout, 0.05)
    return dict(now)


def _window_rates(samples: list[dict], start: int) -> list[float]:
    """Frames/s summed over the streams between consecutive samples from index ``start``."""
    out = []
    for a, b in zip(samples[start:], samples[start + 1:]):
        dt = b["t"] - a["t"]
        if dt > 0:
            out.append((sum(b["frames"].values()) - sum(a["frames"].values())) / dt)
    return out


async def run(rate: float, duration: float, consumer: str = "events", drop_every: float | None = None, warmup: float | None = None,
              architecture: str = "direct", interval: float = 1.0) -> dict[str, Any]:
    """One load or soak measurement (module docstring). ``warmup`` s (default 10 % of the run,
    at least 2 s) are left out of rates and of the growth of RSS, sockets, fds and tasks."""
    warmup = max(2.0, duration * 0.1) if warmup is None else warmup
    proc, port = await start_endpoint(rate)
    feeds, probes, consumers = [], [], []
    sampler: Sampler | None = None
    result: dict[str, Any] = {"rate": rate, "duration": duration, "consumer": consumer, "drop_every": drop_every, "warmup": warmup,
                              "architecture": architecture}
    try:
        for venue in loadgen.VENUES:
            box: list = []
            feed = _feed(venue, port, consumer, box, architecture)
            probe = StreamProbe(feed, venue, architecture).instrument()
            box.append(probe)
            feeds.append(feed)
            probes.append(probe)
            consumers.append(asyncio.ensure_future(_consume(probe, consumer)))
        for feed in feeds:
            await feed.start(timeout=15)
        # every book synced (its snapshot fetched, the REST connection open) before the clock starts
        await wait_until(lambda: all(feed.synced(s) for feed in feeds for s in feed.symbols), 15)
        sampler = Sampler(probes, interval, capacity=int(duration / interval) + 16)
        sampler.start()
        t0 = time.monotonic()
        cpu0 = time.process_time()
        drops = 0
        next_drop = t0 + drop_every if drop_every else None
        while (now := time.monotonic()) - t0 < duration:
            if next_drop is not None and now >= next_drop:
                # a drop is of live connections: every book synced again since the last one
                await wait_until(lambda: all(feed.synced(s) for feed in feeds for s in feed.symbols), 15)
                await control(port, "drop")
                drops += 1
                next_drop += drop_every
            await asyncio.sleep(min(0.25, max(0.0, duration - (now - t0))))
        elapsed = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        await sampler.stop()
        samples = sampler.samples
        wrong, state = await _books_right(feeds, port)
        start = next((i for i, s in enumerate(samples) if s["t"] >= warmup), 0)
        settled = await _settled(samples[start])
        steady = samples[start:]
        windows = _window_rates(samples, start)
        span = steady[-1]["t"] - steady[0]["t"] if len(steady) > 1 else 0.0
        frames_steady = sum(steady[-1]["frames"].values()) - sum(steady[0]["frames"].values()) if len(steady) > 1 else 0
        warm, end = steady[0], steady[-1]
        streams = [p.figures(elapsed) for p in probes]
        for row in streams:  # rates over the steady part (after the warm-up)
            for key in ("frames", "events", "read"):
                row[f"{key}_per_s"] = (steady[-1][key][row["stream"]] - steady[0][key][row["stream"]]) / span if span else None
        result.update({
            "elapsed": elapsed,
            "cpu_share": cpu / elapsed if elapsed else None,
            "frames_per_s": frames_steady / span if span else None,
            "min_window_frames_per_s": min(windows) if windows else None,
            "streams": streams,
            "events_per_s": sum(r["events_per_s"] or 0 for r in streams),
            "read_per_s": sum(r["read_per_s"] or 0 for r in streams),
            "dropped": sum(r["dropped"] for r in streams),
            "books_wrong": wrong,
            "drops": drops,
            "endpoint": state,
            "rss_warm": warm["rss"], "rss_end": end["rss"], "rss_max": max(s["rss"] for s in steady),
            "queued_max": max(sum(s["queued"].values()) for s in samples),
            # one sample at each end of the steady part (shown beside the window medians, not judged)
            "rss_end_sample_growth": (end["rss"] - warm["rss"]) / warm["rss"] if warm["rss"] else None,
            **rss_after_warmup(steady),
            "resources_warm": {k: warm[k] for k in ("fds", "sockets", "tasks")},
            "resources_end": {k: end[k] for k in ("fds", "sockets", "tasks")},
            "resources_settled": settled,
            "samples": samples,
        })
        return result
    finally:
        if sampler is not None:
            await sampler.stop()
        for feed in feeds:
            await feed.close()
        for task in consumers:
            try:
                await asyncio.wait_for(task, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                task.cancel()
        await stop_endpoint(proc)


async def run_isolated(rate: float, duration: float, drop_every: float | None = None, warmup: float | None = None,
                       consumer: str = "events") -> dict[str, Any]:
    """:func:`run` in a fresh Python process (``python -m cexfeed.soak.load``): its RSS is the
    run's own, not the high-water mark of whatever this process ran before; the same result.

    Raises RuntimeError when the process fails (its last lines of stderr in the message)."""
    with tempfile.TemporaryDirectory(prefix="cexfeed-soak-") as folder:
        out = Path(folder) / "result.json"
        args = ["--rate", str(rate), "--duration", str(duration), "--consumer", consumer, "--out", str(out)]
        if drop_every:
            args += ["--drop-every", str(drop_every)]
        if warmup is not None:
            args += ["--warmup", str(warmup)]
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "cexfeed.soak.load", *args,
                                                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            _, err = await proc.communicate()
        except BaseException:
            # interrupted: SIGINT lets the run's own cleanup stop its load endpoint process
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(proc.wait(), 15)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    proc.kill()
            raise
        if proc.returncode or not out.is_file():
            tail = b"\n".join(err.strip().splitlines()[-5:]).decode("utf-8", "replace")
            raise RuntimeError(f"the isolated run exited {proc.returncode}: {tail}")
        return json.loads(out.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    """``python -m cexfeed.soak.load --rate R --duration S [--drop-every S] [--warmup S]
    [--consumer events|batches|callback] --out FILE``: one :func:`run`, its result as JSON."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m cexfeed.soak.load",
                                     description="One load or soak run against the load endpoint (three venues, BTC and ETH: "
                                                 "book, trades, best bid/offer), its result as JSON.")
    parser.add_argument("--rate", type=float, required=True, help="frames/s summed over the venues (0: as fast as the client reads)")
    parser.add_argument("--duration", type=float, required=True, help="seconds, more than the warm-up")
    parser.add_argument("--drop-every", type=float, help="drop every socket every this many seconds (default: never)")
    parser.add_argument("--warmup", type=float, help="seconds left out of the figures (default 10%% of the run, at least 2)")
    parser.add_argument("--consumer", choices=("events", "batches", "callback"), default="events",
                        help="how the events are read: feed.events(), feed.batches() or an inline callback")
    parser.add_argument("--out", required=True, help="write the result here (JSON)")
    a = parser.parse_args(argv)
    warmup = max(2.0, a.duration * 0.1) if a.warmup is None else a.warmup
    if a.rate < 0:
        parser.error("--rate must be 0 or above")
    if a.drop_every is not None and a.drop_every <= 0:
        parser.error("--drop-every must be above 0")
    if a.warmup is not None and a.warmup < 0:
        parser.error("--warmup must be 0 or above")
    if a.duration <= warmup:
        parser.error(f"--duration must be longer than the warm-up ({warmup:g} s)")
    if not Path(a.out).resolve().parent.is_dir():
        parser.error(f"--out: no folder {str(Path(a.out).resolve().parent)!r}")
    result = asyncio.run(run(a.rate, a.duration, consumer=a.consumer, drop_every=a.drop_every, warmup=a.warmup))
    Path(a.out).write_text(json.dumps(result), encoding="utf-8")
    print(f"{result['frames_per_s'] or 0:,.0f} frames/s, {result['drops']} drops, books wrong {len(result['books_wrong'])}: {a.out}")
    return 0


def keeps_up(r: dict[str, Any]) -> bool:
    """A run kept up: the rate asked was parsed (97 %; any rate when pushed as fast as the
    client reads), the consumer read every event, nothing was dropped, the endpoint dropped no
    slow client, every book is right."""
    parsed = bool(r["frames_per_s"]) and (r["rate"] == 0 or r["frames_per_s"] >= 0.97 * r["rate"])
    return bool(parsed and r["dropped"] == 0 and r["endpoint"]["slow_drops"] == 0 and not r["books_wrong"]
                and abs(r["read_per_s"] - r["events_per_s"]) <= 0.03 * r["events_per_s"])


async def ceiling(rates: tuple[float, ...] = (100_000, 150_000, 200_000, 250_000), seconds: float = 4.0,
                  consumers: tuple[str, ...] = ("callback", "events")) -> dict[str, Any]:
    """Per consumer kind: the paced rates in increasing order until one is not kept up
    (:func:`keeps_up`), then the endpoint pushing as fast as the client reads (rate 0). The
    ceiling is the most frames/s of a run kept up; per run the client's CPU share (one core =
    1.0), so ``frames_per_s / cpu_share`` estimates what one core parses."""
    out: dict[str, Any] = {"seconds": seconds, "consumers": {}}
    for consumer in consumers:
        runs = []
        for rate in tuple(rates) + (0,):
            r = await run(rate, seconds, consumer=consumer, warmup=1.0)
            row = {k: r[k] for k in ("rate", "frames_per_s", "events_per_s", "read_per_s", "dropped", "cpu_share", "books_wrong")}
            row["slow_drops"] = r["endpoint"]["slow_drops"]
            row["kept_up"] = keeps_up(r)
            row["per_core"] = r["frames_per_s"] / r["cpu_share"] if r["cpu_share"] else None
            runs.append(row)
            if not row["kept_up"] and rate:
                # the paced rates stop here; the last run pushes as fast as the client reads
                r = await run(0, seconds, consumer=consumer, warmup=1.0)
                row = {k: r[k] for k in ("rate", "frames_per_s", "events_per_s", "read_per_s", "dropped", "cpu_share", "books_wrong")}
                row.update(slow_drops=r["endpoint"]["slow_drops"], kept_up=keeps_up(r),
                           per_core=r["frames_per_s"] / r["cpu_share"] if r["cpu_share"] else None)
                runs.append(row)
                break
        kept = [row["frames_per_s"] for row in runs if row["kept_up"]]
        out["consumers"][consumer] = {"runs": runs, "ceiling": max(kept) if kept else None}
    return out


if __name__ == "__main__":
    sys.exit(main())
