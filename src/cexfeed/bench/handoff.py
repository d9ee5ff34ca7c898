"""What handing events to a consumer costs: ``async for e in feed.events()`` with a consumer
that does nothing, against the inline callback (no hand-off at all: the ceiling of what the
handlers parse on one core), the batch form ``feed.batches()``, and the hand-off cexfeed had
before (an ``asyncio.Queue`` read with ``asyncio.wait_for(queue.get(), 0.5)`` per event, the
oldest dropped when full), kept here as the reference it is measured against.

Two rows, every consumer side by side in one run:

- ``micro``: in this process, no sockets. A read loop hands ``per_turn`` real frames (the
  benchmark's Gate spot trades and 20x20 book updates, :mod:`cexfeed.bench.frames`) to a
  handler per loop turn, as the network core does (at most 64 frames a turn,
  :mod:`cexfeed.net.listener`); the consumer reads until every event is taken. Figures: CPU µs per event for the whole run (parse + hand-off + consumer), and the
  hand-off alone (that minus the callback run).
- ``e2e``: :mod:`cexfeed.bench.blaster` pushes Gate spot book updates as fast as the client
  reads for ``seconds``; the client is a :class:`~cexfeed.feed.Feed` whose consumer does
  nothing. Figures: frames parsed per second, events read per second by the consumer, events
  dropped by the bounded queue (``queue_size`` 10,000).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

CONSUMERS = ("callback", "events", "batches", "legacy-queue")


class LegacyQueue:
    """The hand-off cexfeed used before: a bounded ``asyncio.Queue``, the oldest event dropped
    when full, read by ``wait_for(queue.get(), 0.5)`` once per event."""

    def __init__(self, size: int = 10_000) -> None:
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=size)
        self.dropped = 0
        self.closed = False

    def put(self, event: Any) -> None:
        queue = self.queue
        if queue.full():
            queue.get_nowait()
            self.dropped += 1
        queue.put_nowait(event)

    async def events(self):
        queue = self.queue
        while not self.closed or not queue.empty():
            try:
                event = await asyncio.wait_for(queue.get(), 0.5)
            except asyncio.TimeoutError:
                continue
            yield event


def _micro_frames(kind: str, count: int):
    from .frames import gate_spot_cases

    case = next(c for c in gate_spot_cases(count) if c.kind == kind)
    return case


async def _micro_one(consumer: str, case, per_turn: int, repeat: int) -> dict[str, Any]:
    from ..compat import build_handler
    from ..delivery import EventDelivery

    class _Protocol:
        class table:
            venue, market = "gateio", "spot"

    class _Sink(EventDelivery):
        protocol = _Protocol()

        def __init__(self) -> None:
            self._init_delivery(None, 10_000)

    delivery = _Sink()
    legacy = LegacyQueue()
    counts = {"read": 0}
    if consumer == "callback":
        delivery.set_callback(lambda event: None)
    elif consumer == "legacy-queue":
        delivery.set_callback(legacy.put)
    handler = build_handler("gateio-spot", "direct", delivery._dispatch, depth=100)
    if case.snapshot is not None:
        update_id, bids, asks = case.snapshot
        handler.apply_snapshot(case.symbol, update_id, [(float(p), float(s)) for p, s in bids], [(float(p), float(s)) for p, s in asks], 0, 1)
    frames = case.frames
    loop = asyncio.get_running_loop()
    finished = loop.create_future()

    async def consume() -> None:
        n = 0
        if consumer == "events":
            async for _ in delivery.events():
                n += 1
        elif consumer == "batches":
            async for batch in delivery.batches():
                n += len(batch)
        elif consumer == "legacy-queue":
            async for _ in legacy.events():
                n += 1
        counts["read"] = n

    task = loop.create_task(consume()) if consumer != "callback" else None
    await asyncio.sleep(0)
    handle = handler._handle_message
    total = len(frames) * repeat  # repeat > 1 only for frames without ids (trades)
    state = {"at": 0}

    def read_turn() -> None:
        # one socket read: per_turn frames handed to the handler inline, then back to the loop
        at = state["at"]
        end = min(at + per_turn, total)
        n = len(frames)
        for i in range(at, end):
            handle(frames[i % n], 1)
        state["at"] = end
        if end < total:
            loop.call_soon(read_turn)
        else:
            finished.set_result(None)

    cpu0 = time.process_time()
    loop.call_soon(read_turn)
    await finished
    delivery._closed = True
    legacy.closed = True
    if task is not None:
        await task
    cpu = time.process_time() - cpu0
    events = delivery.events_total
    read = events if consumer == "callback" else counts["read"]
    dropped = delivery.dropped + legacy.dropped
    return {"frames": total, "events": events, "read": read, "dropped": dropped, "cpu_us_per_event": cpu / max(1, events) * 1e6}


async def micro(per_turns: tuple[int, ...] = (16, 64), frames: int = 20_000, rounds: int = 3) -> dict[str, Any]:
    """The in-process row (see the module docstring): per frame kind, frames per read-loop turn
    and consumer, the best of ``rounds`` interleaved runs over ``frames`` frames (book updates
    continue each other, so each is applied once)."""
    out: dict[str, Any] = {"frames": frames, "rows": []}
    for kind in ("trades", "book"):
        case = _micro_frames(kind, frames)
        for per_turn in per_turns:
            out["rows"].append(await _micro_kind(case, per_turn, rounds))
    return out


async def _micro_kind(case, per_turn: int, rounds: int) -> dict[str, Any]:
        best: dict[str, dict] = {}
        for _ in range(rounds):
            for consumer in CONSUMERS:
                row = await _micro_one(consumer, case, per_turn, 1)
                if consumer not in best or row["cpu_us_per_event"] < best[consumer]["cpu_us_per_event"]:
                    best[consumer] = row
        floor = best["callback"]["cpu_us_per_event"]
        for row in best.values():
            row["handoff_us_per_event"] = row["cpu_us_per_event"] - floor
        return {"label": case.label, "per_turn": per_turn, "consumers": best}


async def _e2e_one(consumer: str, seconds: float) -> dict[str, Any]:
    from ..architecture import open_feed
    from .e2e import _start_blaster, _stop

    proc, port = await _start_blaster(seconds + 20)
    legacy = LegacyQueue()
    counts = {"read": 0}
    on_event: Callable | None = None
    if consumer == "callback":
        on_event = lambda event: None  # noqa: E731
    elif consumer == "legacy-queue":
        on_event = legacy.put
    feed = open_feed("gateio-spot", ["BTC/USDT"], ["book"], architecture="direct", url=f"ws://127.0.0.1:{port}/ws/v4/",
                     rest_url=f"http://127.0.0.1:{port}/api/v4", on_event=on_event, protocol_options={"book_interval": "20ms"})

    async def consume() -> None:
        if consumer == "events":
            async for _ in feed.events():
                counts["read"] += 1
        elif consumer == "batches":
            async for batch in feed.batches():
                counts["read"] += len(batch)
        elif consumer == "legacy-queue":
            async for _ in legacy.events():
                counts["read"] += 1

    task = asyncio.ensure_future(consume()) if consumer != "callback" else None
    try:
        await feed.start(timeout=15)
        deadline = time.monotonic() + 15
        while feed.stats()["frames"] < 10 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        stats0 = feed.stats()
        read0 = counts["read"]
        dropped0 = feed.dropped + legacy.dropped
        wall0, cpu0 = time.perf_counter(), time.process_time()
        await asyncio.sleep(seconds)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        stats = feed.stats()
        frames = stats["frames"] - stats0["frames"]
        events = stats["events"] - stats0["events"]
        read = (counts["read"] - read0) if consumer != "callback" else events
        dropped = feed.dropped + legacy.dropped - dropped0
        return {"status": "ok" if frames else "failed: no frames", "frames_per_s": frames / wall, "events_per_s": events / wall,
                "read_per_s": read / wall, "dropped": dropped, "dropped_share": dropped / events if events else 0.0,
                "cpu_us_per_frame": cpu / frames * 1e6 if frames else None, "seconds": wall}
    except Exception as exc:
        return {"status": f"failed: {type(exc).__name__}: {exc}"}
    finally:
        await feed.close()
        legacy.closed = True
        if task is not None:
            task.cancel()
            try:
                await task
            except BaseException:
                pass
        await _stop(proc)


async def e2e(seconds: float = 3.0, repeats: int = 1) -> dict[str, Any]:
    """The loopback row (see the module docstring): the best of ``repeats`` runs per consumer,
    consumers alternating."""
    runs: dict[str, list] = {c: [] for c in CONSUMERS}
    for _ in range(repeats):
        for consumer in CONSUMERS:
            runs[consumer].append(await _e2e_one(consumer, seconds))
    best = {}
    for consumer, rows in runs.items():
        ok = [r for r in rows if r.get("status") == "ok"]
        best[consumer] = max(ok, key=lambda r: r["read_per_s"]) if ok else rows[-1]
    return {"seconds": seconds, "repeats": repeats, "consumers": best}


def report_lines(result: dict[str, Any] | None) -> list[str]:
    """Markdown tables of a :func:`run` result."""
    if not result:
        return []
    lines = ["## Hand-off to the consumer", "", __doc__.split("\n\n")[0].replace("\n", " "), ""]
    m = result.get("micro")
    if m:
        lines += [f"In process, {m['frames']:,} frames per run (best of interleaved runs); frames handed to the handler per loop turn as the "
                  "network core does (at most 64, fewer at a moderate rate):", "",
                  "| frames | frames per read | consumer | CPU µs per event | hand-off µs per event | events read | dropped |", "|---|---|---|---|---|---|---|"]
        for block in m["rows"]:
            for consumer, row in block["consumers"].items():
                lines.append(f"| {block['label']} | {block['per_turn']} | {consumer} | {row['cpu_us_per_event']:.2f} | {row['handoff_us_per_event']:.2f} | "
                             f"{row['read']:,} of {row['events']:,} | {row['dropped']:,} |")
        lines.append("")
    e = result.get("e2e")
    if e:
        lines += [f"Over loopback from the blaster, {e['seconds']:.0f} s per consumer (best of {e['repeats']}):", "",
                  "| consumer | frames parsed/s | events read/s | dropped | CPU µs per frame |", "|---|---|---|---|---|"]
        for consumer, row in e["consumers"].items():
            if row.get("status") != "ok":
                lines.append(f"| {consumer} | {row.get('status')} | | | |")
                continue
            lines.append(f"| {consumer} | {row['frames_per_s']:,.0f} | {row['read_per_s']:,.0f} | {row['dropped']:,} ({row['dropped_share']:.0%}) | {row['cpu_us_per_frame']:.2f} |")
        lines.append("")
    return lines


async def run(seconds: float = 3.0, repeats: int = 1, frames: int = 20_000) -> dict[str, Any]:
    """Both rows."""
    return {"micro": await micro(frames=frames), "e2e": await e2e(seconds, repeats)}


if __name__ == "__main__":  # pragma: no cover - a manual run
    import json
    import sys

    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    result = asyncio.run(run(seconds))
    print("\n".join(report_lines(result)))
    print(json.dumps(result, indent=1, default=str))
