"""What recording (and metrics) cost beside the plain stream: the same end-to-end run as
:mod:`bench.e2e` (the blaster pushes Gate.io spot 20x20 book updates as fast as the client
reads them), with a plain :class:`cexfeed.feed.Feed`, the same feed recording to a capture
(:class:`cexfeed.record.Recorder`), and the same feed with the metrics endpoint on. Process CPU
includes the recorder's writer thread (compression, file writes).

A micro row times the tap call the read loop makes per frame (``Recorder.frame`` with a real
20x20 frame, hand-overs to the writer thread included), alone.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from .e2e import _measure, _start_blaster, _stop

MODES = ("plain", "recording", "metrics")


async def _client(mode: str, port: int, seconds: float, folder: Path) -> dict[str, Any]:
    from cexfeed.feed import Feed
    from cexfeed.models import BookUpdate

    counts = {"updates": 0}

    def on_event(event) -> None:
        if type(event) is BookUpdate and not event.snapshot:
            counts["updates"] += 1

    recorder = None
    if mode == "recording":
        from cexfeed.record import Recorder

        recorder = Recorder(folder / "bench")
    feed = Feed("gateio-spot", ["BTC/USDT"], ["book"], url=f"ws://127.0.0.1:{port}/ws/v4/", rest_url=f"http://127.0.0.1:{port}/api/v4",
                on_event=on_event, protocol_options={"book_interval": "20ms"}, tap=recorder)
    server = None
    if mode == "metrics":
        from cexfeed.metrics import serve

        server = await serve(0, [feed])
    try:
        await feed.start(timeout=15)
        deadline = time.monotonic() + 15
        while counts["updates"] == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        result = await _measure(lambda: counts["updates"], seconds)
        if recorder is not None:
            stats = recorder.stats()
            result["capture_bytes_per_update"] = stats["bytes"] / max(1, stats["published"])
            # records the writer could not keep up with (bounded backlog), share of all
            result["dropped_share"] = stats["dropped"] / max(1, stats["dropped"] + stats["published"])
        return result
    finally:
        await feed.close()
        if recorder is not None:
            await recorder.aclose()
        if server is not None:
            await server.close()


def micro_costs(frames: int = 200_000) -> dict[str, float]:
    """Median ns per frame over 5 batches of 20x20 Gate spot update frames (each frame a
    different one): ``tap_ns`` the ``Recorder.frame`` call the read loop makes (hand-overs
    included), ``writer_ns`` what the writer thread then spends on it (encode, zstd, CRC, block
    head; file write excluded)."""
    from cexfeed.record import Recorder
    from cexfeed.record.format import block, new_compressor
    from cexfeed.record.writer import _encode

    from .frames import all_cases

    payloads = next(c for c in all_cases(1000) if c.stream == "gateio-spot" and c.kind == "book").frames
    tap_runs, writer_runs = [], []
    with tempfile.TemporaryDirectory() as folder:
        recorder = Recorder(Path(folder) / "tap", flush_interval=0)
        recorder.connection("bench#0", 20)
        frame = recorder.frame
        ts = time.time_ns()
        batch = payloads * (frames // len(payloads))
        for _ in range(5):
            t0 = time.perf_counter_ns()
            for payload in batch:
                frame(0, False, payload, ts)
            tap_runs.append((time.perf_counter_ns() - t0) / len(batch))
        recorder.close()
    compressor = new_compressor()
    per_block = 1000  # about the 1 MiB block of the recorder
    parts = [(2, 0, ts, p) for p in payloads[:per_block]]
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for _ in range(20):
            block(_encode(parts), len(parts), compressor)
        writer_runs.append((time.perf_counter_ns() - t0) / (20 * len(parts)))
    tap_runs.sort()
    writer_runs.sort()
    return {"tap_ns": tap_runs[2], "writer_ns": writer_runs[2], "frame_bytes": sum(map(len, payloads)) / len(payloads)}


async def run(seconds: float, repeats: int = 1) -> dict[str, Any]:
    """End-to-end rate of each mode (best of ``repeats``, alternating) and the tap micro cost."""
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(repeats):
            for mode in MODES:
                folder = Path(tmp) / f"{mode}{index}"
                folder.mkdir()
                proc, port = await _start_blaster(seconds + 20)
                try:
                    row = await _client(mode, port, seconds, folder)
                    row["status"] = "ok" if row["messages"] else "failed: no messages"
                except Exception as exc:
                    row = {"status": f"failed: {type(exc).__name__}: {exc}"}
                finally:
                    await _stop(proc)
                results[mode].append(row)
    best = {}
    for mode, runs in results.items():
        ok = [r for r in runs if r.get("status") == "ok"]
        best[mode] = max(ok, key=lambda r: r["msgs_per_s"]) if ok else runs[-1]
    return {"seconds": seconds, "repeats": repeats, "modes": best, "micro": micro_costs()}


def report_lines(result: dict[str, Any] | None) -> list[str]:
    """The report section (Markdown lines); empty when not run."""
    if not result:
        return []
    modes = result["modes"]
    lines = [
        "",
        "## Recording and metrics cost",
        "",
        "The end-to-end run above with `cexfeed.feed.Feed` alone, recording every frame to a capture "
        "(`cexfeed.record.Recorder`, zstd level 1, CPU of the writer thread included; records beyond its 256 MiB "
        "backlog are dropped and counted), and with the metrics endpoint on "
        f"(one event in 16 timed); {result['seconds']:.0f} s per run, best of {result['repeats']}.",
        "",
        "| feed | book updates/s | CPU µs per update | extra CPU µs per update | capture bytes per update | records dropped |",
        "|---|---|---|---|---|---|",
    ]
    plain = modes.get("plain", {})
    for mode in MODES:
        row = modes.get(mode, {})
        if row.get("status") != "ok":
            lines.append(f"| {mode} | {row.get('status')} | | | | |")
            continue
        extra = ""
        if mode != "plain" and plain.get("status") == "ok":
            extra = f"{row['cpu_us_per_msg'] - plain['cpu_us_per_msg']:+.2f}"
        size = f"{row['capture_bytes_per_update']:.0f}" if "capture_bytes_per_update" in row else ""
        dropped = f"{row['dropped_share'] * 100:.1f}%" if "dropped_share" in row else ""
        lines.append(f"| {mode} | {row['msgs_per_s']:,.0f} | {row['cpu_us_per_msg']:.2f} | {extra} | {size} | {dropped} |")
    micro = result["micro"]
    lines += [
        "",
        f"Per recorded frame (20x20 book updates, {micro['frame_bytes']:.0f} bytes on average), measured alone: the read loop's "
        f"tap call (`Recorder.frame`) {micro['tap_ns']:.0f} ns; the writer thread's encoding, zstd and CRC "
        f"{micro['writer_ns'] / 1000:.2f} µs, on another core when one is free (here the blaster and the client already "
        "take both: the writer shares theirs). A writer that falls behind merges the waiting buffers into larger blocks; "
        "what still exceeds its backlog is dropped, counted above and marked in the capture.",
    ]
    return lines
