"""The benchmark run: micro (per frame, interleaved), end to end, report. Entry points:
``cexfeed bench`` and ``python -m cexfeed.bench`` (both call :func:`run`).

Reports go to an ``--out`` folder: ``bench/reports`` of the source checkout this package runs
from (an editable install), else ``./cexfeed-bench-reports``. Each run writes ``<out>/<date>/``
(``report.md``, ``micro.png``, ``e2e.png``, ``results.json``); a full run also refreshes
``<out>/latest.md`` + ``latest_*.png`` (the figures the README quotes in a checkout)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Sequence

from . import micro
from .alloc import counter_error
from .contenders import CONTENDERS, close_peers, ensure_loop
from .frames import all_cases

#: the kinds of benchmark rows (``--only``)
ROW_KINDS = ("book", "trades", "bbo", "ticker", "kline", "private")
from .report import write

OUT_OF_CHECKOUT = "cexfeed-bench-reports"


def default_out(package_dir: Path = Path(__file__).resolve().parent, cwd: Path | None = None) -> Path:
    """``bench/reports`` of the checkout holding this package (``src/cexfeed/bench``), else
    ``./cexfeed-bench-reports`` in ``cwd`` (default: the current directory)."""
    root = package_dir.parents[2]
    if (root / "pyproject.toml").is_file() and (root / "bench" / "reports").is_dir():
        return root / "bench" / "reports"
    return (cwd or Path.cwd()) / OUT_OF_CHECKOUT

QUICK = {"frames": 200, "rounds": 3, "alloc_frames": 50, "e2e_seconds": 1.5, "e2e_repeats": 1, "sink_events": 20_000, "reauth_rounds": 10}
FULL = {"frames": 1000, "rounds": 15, "alloc_frames": 200, "e2e_seconds": 5.0, "e2e_repeats": 2, "sink_events": 100_000, "reauth_rounds": 50}


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _versions() -> dict[str, str]:
    out = {}
    for name in ("cexfeed", "msgspec", "protobuf", "picows", "aiohttp", "ccxt", "cryptofeed", "orjson", "matplotlib"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    try:
        from cexfeed.exchanges.mexc.decode import COMPILED

        out["cexfeed MEXC decoder"] = "compiled" if COMPILED else "upb"
    except Exception:
        pass
    try:
        from cexfeed import book

        out["cexfeed L2Book"] = "compiled" if book.L2Book is not book.PyL2Book else "python"
    except Exception:
        pass
    return out


def meta(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{_cpu()}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}",
        "python": sys.version.split()[0] + " " + platform.python_implementation(),
        "versions": _versions(),
        "args": args,
    }


def _preload() -> None:
    # everything the run needs, imported before the first measurement
    import cexfeed.compat  # noqa: F401
    import cexfeed.feed  # noqa: F401
    from cexfeed import venues

    for name in venues.VENUES:
        venues.handler_class(name)
        venues.protocol_class(name)


async def _run(opts: dict[str, Any], contenders: Sequence[str], e2e: bool, log) -> dict[str, Any]:
    ensure_loop()
    _preload()
    cases = all_cases(opts["frames"])
    if opts.get("only"):  # the rows of the kinds asked for (e.g. ``private``: the account rows)
        cases = [case for case in cases if case.kind in opts["only"]]
    overhead = micro.timer_overhead_ns()
    results: dict[str, Any] = {"micro": []}
    t0 = time.perf_counter()
    for case in cases:
        result = micro.run_case(case, opts["frames"], opts["rounds"], opts["alloc_frames"], contenders)
        results["micro"].append(result)
        d = result["rows"].get("direct", {})
        log(f"  {case.label:34s} direct {d.get('median_us', float('nan')):7.2f} us  " + "  ".join(
            f"{n} {r['median_us'] / d['median_us']:.1f}x" for n, r in result["rows"].items() if n != "direct" and r.get("status") == "ok" and d.get("median_us")
        ))
    await close_peers()
    note = f"{opts['rounds']} interleaved rounds x {opts['frames']} frames per contender and frame type; timer overhead {overhead:.0f} ns per frame included for every contender."
    err = counter_error()
    if err:
        note += f" Allocator counter unavailable ({err}): block counts not measured."
    results["micro_note"] = note
    log(f"micro done in {time.perf_counter() - t0:.1f} s")
    if e2e:
        from .e2e import run as run_e2e

        clients = [c for c in ("direct", "strategy", "ccxt.pro") if c in contenders]
        results["e2e"] = await run_e2e(opts["e2e_seconds"], clients, opts["e2e_repeats"])
        for name, row in results["e2e"]["clients"].items():
            log(f"  e2e {name:10s} {row.get('msgs_per_s', 0):10,.0f} updates/s  {row.get('status')}")
        from .record_cost import run as run_record_cost

        results["record"] = await run_record_cost(opts["e2e_seconds"], opts["e2e_repeats"])
        for name, row in results["record"]["modes"].items():
            log(f"  e2e feed {name:10s} {row.get('msgs_per_s', 0):10,.0f} updates/s  {row.get('status')}")
        from .handoff import run as run_handoff

        results["handoff"] = await run_handoff(opts["e2e_seconds"], opts["e2e_repeats"], frames=opts["frames"] * 20)
        for name, row in results["handoff"]["e2e"]["consumers"].items():
            log(f"  e2e consumer {name:12s} {row.get('read_per_s', 0):10,.0f} events read/s  dropped {row.get('dropped')}  {row.get('status')}")
    else:
        results["e2e"] = None
    from .reauth import run as run_reauth  # MEXC account stream: re-authentication after a drop

    results["reauth"] = await run_reauth(opts["reauth_rounds"])
    if results["reauth"].get("status") == "ok":
        log(f"  re-authentication {results['reauth']['accepted']['median_ms']:.2f} ms median")
    if opts.get("sinks"):  # Redis Streams / NATS JetStream publish rates (cexfeed/bench/sinks.py)
        from .sinks import run as run_sinks

        results["sinks"] = await run_sinks(opts["sink_events"], opts["e2e_seconds"], log)
    return results


def run(
    quick: bool = False,
    out: str | Path | None = None,
    latest: bool = True,
    e2e: bool = True,
    contenders: Sequence[str] = CONTENDERS,
    overrides: dict[str, Any] | None = None,
    log=print,
) -> dict[str, Path]:
    """Run the suite and write the report into ``<out>/<date>/``; returns the written paths.
    ``out`` defaults to :func:`default_out`; ``latest`` also refreshes ``<out>/latest.md``.
    ``overrides`` replaces ``frames``, ``rounds``, ``alloc_frames``, ``e2e_seconds``,
    ``e2e_repeats``; ``only`` (a list of row kinds) measures those rows alone."""
    opts = dict(QUICK if quick else FULL)
    opts.update({k: v for k, v in (overrides or {}).items() if v is not None})
    reports = Path(out) if out is not None else default_out()
    out_dir = reports / dt.date.today().isoformat()
    args = dict(opts, quick=quick, contenders=list(contenders), e2e=e2e)
    log(f"cexfeed bench: {args}")
    results = asyncio.run(_run(opts, contenders, e2e, log))
    results["meta"] = meta(args)
    paths = write(results, out_dir, reports if latest else None)
    for t in results["targets"]:
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[t["met"]]
        log(f"  [{verdict}] {t['target']}: " + "; ".join(t["figures"]))
    log("report: " + ", ".join(str(p) for p in paths.values()))
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cexfeed.bench", description="cexfeed comparative benchmark suite")
    parser.add_argument("--quick", action="store_true", help="a run under one minute")
    parser.add_argument("--out", help=f"reports folder: the run writes <out>/<date>/ (default bench/reports in a checkout, else ./{OUT_OF_CHECKOUT})")
    parser.add_argument("--no-latest", action="store_true", help="do not refresh <out>/latest.md (a --quick run never does)")
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end throughput run")
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated subset of " + ",".join(CONTENDERS))
    parser.add_argument("--frames", type=int, help="frames per round and frame type")
    parser.add_argument("--rounds", type=int, help="interleaved rounds")
    parser.add_argument("--alloc-frames", type=int, help="frames measured for allocations")
    parser.add_argument("--e2e-seconds", type=float, help="seconds per end-to-end client run")
    parser.add_argument("--e2e-repeats", type=int, help="end-to-end runs per client (best kept)")
    parser.add_argument("--sinks", action="store_true", help="also measure publishing to Redis Streams and NATS JetStream (needs redis-server, nats-server)")
    parser.add_argument("--only", help="comma-separated row kinds to measure: " + ",".join(ROW_KINDS) + " (private: the account-stream rows); "
                        "implies --no-e2e and --no-latest")
    a = parser.parse_args(argv)
    contenders = [c.strip() for c in a.contenders.split(",") if c.strip()]
    unknown = [c for c in contenders if c not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contenders: {unknown}")
    only = [k.strip() for k in (a.only or "").split(",") if k.strip()]
    if [k for k in only if k not in ROW_KINDS]:
        parser.error(f"unknown row kinds: {[k for k in only if k not in ROW_KINDS]}; known: {', '.join(ROW_KINDS)}")
    run(
        quick=a.quick,
        out=a.out,
        # the committed latest.md is the full run the README quotes; a quick run never replaces it
        latest=not (a.no_latest or a.quick or only),
        e2e=not (a.no_e2e or only),
        contenders=contenders,
        overrides={"frames": a.frames, "rounds": a.rounds, "alloc_frames": a.alloc_frames, "e2e_seconds": a.e2e_seconds, "e2e_repeats": a.e2e_repeats,
                   "sinks": a.sinks or None, "only": only or None},
    )
    return 0
