"""Per-frame micro benchmark: every contender on every case, interleaved in one run.

For each case the contenders take turns round by round (the order rotates every round); each
turn resets the book to the case snapshot (untimed) and processes the same frames, timing each
frame with ``time.perf_counter_ns`` (the timer's own cost, ~0.05 us, is included for everyone
and reported). Then allocations are measured per frame on a slice of the frames (see
:mod:`cexfeed.bench.alloc`). A contender that raises, or whose book did not advance by exactly the
frames given, is reported as failed instead of timed.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from .alloc import count_allocations, peak_bytes
from .contenders import CONTENDERS, make_runner
from .frames import Case


def _percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return float(sorted_values[index])


def timer_overhead_ns(samples: int = 20000) -> float:
    pc = time.perf_counter_ns
    values = []
    for _ in range(samples):
        t0 = pc()
        t1 = pc()
        values.append(t1 - t0)
    return float(statistics.median(values))


def run_case(case: Case, frames_per_round: int, rounds: int, alloc_frames: int, contenders=CONTENDERS, progress=None) -> dict[str, Any]:
    """Results of one case: ``{"label", "stream", "kind", "frames", "rows": {contender: row}}``;
    a row has ``median_us``, ``p99_us``, ``mean_us``, ``samples``, ``blocks``, ``bytes``,
    ``peak_bytes`` and ``status`` (``ok``, ``n/a``, ``missing: ...``, ``failed: ...``)."""
    frames = case.frames[:frames_per_round]
    runners: dict[str, Any] = {}
    rows: dict[str, dict[str, Any]] = {}
    for name in contenders:
        try:
            runner = make_runner(name, case)
        except ImportError as exc:
            rows[name] = {"status": f"missing: {exc.name or exc}"}
            continue
        except Exception as exc:
            rows[name] = {"status": f"failed: {type(exc).__name__}: {exc}"}
            continue
        if runner is None:
            rows[name] = {"status": "n/a"}
            continue
        runners[name] = runner
        rows[name] = {"status": "ok"}
    samples: dict[str, list[int]] = {name: [] for name in runners}
    pc = time.perf_counter_ns
    names = list(runners)
    # warm-up turn (not recorded): first-call costs, caches
    for name in names:
        _turn(runners[name], frames[: min(50, len(frames))], None, rows[name])
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)] if names else []
        for name in order:
            if rows[name]["status"] != "ok":
                continue
            gc.collect()
            _turn(runners[name], frames, samples[name], rows[name], pc)
        if progress:
            progress()
    for name in names:
        row = rows[name]
        if row["status"] != "ok":
            continue
        values = sorted(samples[name])
        row.update(
            median_us=_percentile(values, 0.5) / 1000,
            p99_us=_percentile(values, 0.99) / 1000,
            mean_us=(sum(values) / len(values) / 1000) if values else float("nan"),
            samples=len(values),
        )
        alloc_slice = frames[:alloc_frames]
        runner = runners[name]
        runner.reset()
        counted = count_allocations(runner.process, alloc_slice)
        if counted is not None:
            row["blocks"], row["bytes"] = counted
        runner.reset()
        row["peak_bytes"] = peak_bytes(runner.process, alloc_slice)
    return {"label": case.label, "stream": case.stream, "kind": case.kind, "frames": len(frames), "rounds": rounds, "rows": rows}


def _turn(runner, frames, sink, row, pc=time.perf_counter_ns) -> None:
    process = runner.process
    try:
        runner.reset()
        before = runner.applied() if runner.applied is not None else None
        if sink is None:
            for raw in frames:
                process(raw)
        else:
            append = sink.append
            for raw in frames:
                t0 = pc()
                process(raw)
                append(pc() - t0)
        if before is not None:
            advanced = runner.applied() - before
            # cexfeed counts applied deltas, the peers expose the book's last sequence id
            if advanced <= 0:
                row["status"] = f"failed: book did not advance ({advanced})"
    except Exception as exc:
        row["status"] = f"failed: {type(exc).__name__}: {exc}"


def ratios(case_result: dict[str, Any]) -> dict[str, float | None]:
    """Median time of each contender divided by direct's (``None`` when either is missing)."""
    rows = case_result["rows"]
    base = rows.get("direct", {}).get("median_us")
    out: dict[str, float | None] = {}
    for name, row in rows.items():
        value = row.get("median_us")
        out[name] = (value / base) if (value is not None and base) else None
    return out
