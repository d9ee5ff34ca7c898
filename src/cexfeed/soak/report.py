"""The soak report: Markdown with the figures of a :func:`cexfeed.soak.run.run`, plots of the rate
and the RSS over time (matplotlib, when installed: the ``bench`` extra), ``results.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import matrix


def _n(x: Any, fmt: str = ",.0f") -> str:
    return "—" if x is None else format(x, fmt)


def _us(d: dict | None, key: str) -> str:
    v = (d or {}).get(key)
    return "—" if v is None else f"{v:,.1f}"


def _plot(path: Path, series: list[tuple[str, list[float], list[float]]], ylabel: str, title: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for label, xs, ys in series:
        ax.plot(xs, ys, label=label, linewidth=1.2)
    ax.set_xlabel("s")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _rates(samples: list[dict], key: str = "frames") -> list[tuple[str, list[float], list[float]]]:
    names = list(samples[0][key]) if samples else []
    out = []
    for name in names + ["all"]:
        xs, ys = [], []
        for a, b in zip(samples, samples[1:]):
            dt = b["t"] - a["t"]
            if dt <= 0:
                continue
            get = (lambda s: sum(s[key].values())) if name == "all" else (lambda s: s[key][name])
            xs.append(b["t"])
            ys.append((get(b) - get(a)) / dt)
        out.append((name, xs, ys))
    return out


def _stream_table(streams: list[dict]) -> list[str]:
    lines = ["| stream | path | frames | frames/s | events | read by consumer | dropped | resyncs | reconnects | errors by kind | handler µs p50 / p99 / max | queue lag µs p50 / p99 / max |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in streams:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(s["errors"].items())) or "none"
        h, q = s.get("handler_us"), s.get("queue_lag_us")
        lines.append(f"| {s['stream']} | {s['architecture']} | {s['frames']:,} | {_n(s.get('frames_per_s'))} | {s['events']:,} | {s['read']:,} | "
                     f"{s['dropped']:,} | {s['resyncs']} | {s['reconnects']} | {errors} | {_us(h, 'p50')} / {_us(h, 'p99')} / {_us(h, 'max')} | "
                     f"{_us(q, 'p50')} / {_us(q, 'p99')} / {_us(q, 'max')} |")
    return lines


def _verdict(ok: bool | None) -> str:
    return {True: "**met**", False: "**NOT MET**", None: "**not measured**"}[ok]


def res(d: dict[str, Any] | None) -> str:
    """``rss 48.2 MiB, fds 9, sockets 3, tasks 5`` (whichever the dict has)."""
    return ", ".join(f"{k} {_mib(v)}" if k == "rss" else f"{k} {v:,}" for k, v in (d or {}).items()) or "—"


def _listed(items: list[str], most: int = 5) -> str:
    """`` (a; b)`` of the first ``most`` items, ``""`` for none."""
    return f" ({'; '.join(str(i) for i in items[:most])})" if items else ""


def _mib(x: float | None) -> str:
    return "—" if x is None else f"{x / 2**20:,.1f} MiB"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:+.1%}"


def _arg(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float, list, tuple)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "/".join(_arg(x) for x in v)
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def _args(args: dict[str, Any]) -> str:
    """The run's settings, one ``name value`` each (seconds ``_s``, rates frames/s)."""
    return ", ".join(f"{k} {_arg(v)}" for k, v in args.items()) or "—"


def _rss(x: dict[str, Any]) -> str:
    """RSS after warm-up: the medians of the steady part's first and last windows, their growth,
    and the samples at the two ends."""
    if x.get("rss_start") is None:
        return f"RSS {_mib(x.get('rss_warm'))} → {_mib(x.get('rss_end'))} ({_pct(x.get('rss_growth'))})"
    return (f"RSS median of the first {x['rss_window_s']:.0f} s after warm-up {_mib(x['rss_start'])}, of the last {x['rss_window_s']:.0f} s "
            f"{_mib(x['rss_end_window'])} (**{_pct(x['rss_growth'])}**; lowest {_mib(x['rss_floor_start'])} → {_mib(x['rss_floor_end'])}); "
            f"samples {_mib(x.get('rss_warm'))} after warm-up, {_mib(x.get('rss_end'))} at the end, max {_mib(x.get('rss_max'))}")


def headline(r: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, figure, met) rows of the report's first table."""
    rows: list[tuple[str, str, bool | None]] = []
    ev = r.get("every_venue")
    if ev:
        clean = all(c["no_crosstalk"] for c in ev["crosstalk"])
        rows.append(("every venue in one process, mixed architecture: books and accounts right, a fault on one venue changes nothing on the others",
                     f"{len(ev['streams'])} streams, {ev['elapsed']:.0f} s; books wrong {len(ev['books_wrong'])}, accounts wrong {len(ev['accounts_wrong'])}, "
                     f"cross-talk {'none' if clean else 'FOUND'}", not ev["books_wrong"] and not ev["accounts_wrong"] and clean))
    ce = r.get("ceiling")
    if ce:
        cb, evs = ce["consumers"].get("callback", {}), ce["consumers"].get("events", {})
        ran = bool(evs.get("runs"))
        per_core = {name: max((x["per_core"] for x in block.get("runs", []) if x.get("per_core")), default=None)
                    for name, block in (("events", evs), ("callback", cb))}
        lost = sum(x["dropped"] for x in evs.get("runs", []))
        ok = None if not ran else bool(per_core["events"] and per_core["callback"]) and lost == 0 and per_core["events"] >= 0.75 * per_core["callback"]
        rows.append(("a do-nothing `async for e in feed.events()` consumer keeps up with what one core parses",
                     f"frames/s one core parses (parsed ÷ CPU share), every event read: events() {_n(per_core['events'])}, inline callback (no "
                     f"hand-off) {_n(per_core['callback'])}; events dropped in the events() runs: {lost}; most pushed and read in this run: "
                     f"events() {_n(evs.get('ceiling'))}, callback {_n(cb.get('ceiling'))} frames/s (the load endpoint shares the 2 cores)", ok))
    ld = r.get("load")
    if ld:
        ok = ld["frames_per_s"] is not None and ld["frames_per_s"] >= 100_000 and not ld["books_wrong"] and ld["dropped"] == 0
        rows.append((f"≥ 100,000 frames/s summed over the venues for {ld['duration']:.0f} s", f"{_n(ld['frames_per_s'])} frames/s parsed and read (slowest second "
                     f"{_n(ld['min_window_frames_per_s'])}), dropped {ld['dropped']}, books wrong {len(ld['books_wrong'])}, client CPU {ld['cpu_share']:.0%}", ok))
    sk = r.get("soak")
    if sk:
        after = sk.get("resources_settled") or sk["resources_end"]
        same = all(after[k] <= sk["resources_warm"][k] for k in sk["resources_warm"])  # no growth
        ok = sk["rss_growth"] is not None and sk["rss_growth"] < 0.05 and same and not sk["books_wrong"] and (sk["frames_per_s"] or 0) >= 50_000
        length = f"{sk['duration'] / 60:g}-minute" if sk["duration"] >= 120 else f"{sk['duration']:g}-second"
        rows.append((f"{length} soak at ≥ 50,000 frames/s: RSS growth < 5 % after warm-up, no growth in sockets, tasks, fds",
                     f"{_n(sk['frames_per_s'])} frames/s, {sk['drops']} drops, {sk['warmup']:g} s warm-up (the first drop and its recovery); "
                     f"{_rss(sk)}; {res(sk['resources_warm'])} after warm-up → {res(after)} at the end (books checked, settled)", ok))
    rc = r.get("reconnects")
    if rc:
        rows.append((f"{rc['count']} forced reconnects in a row, every book right afterwards",
                     f"{rc['recovered']}/{rc['count']} recovered, median {_n(rc['median_s'], '.2f')} s, max {_n(rc['max_s'], '.2f')} s; books wrong "
                     f"{len(rc['books_wrong'])}; sockets {rc['before']['sockets']:,} → {rc['after']['sockets']:,}, tasks {rc['before']['tasks']:,} → {rc['after']['tasks']:,}",
                     rc["recovered"] == rc["count"] and not rc["books_wrong"] and rc["before"]["sockets"] == rc["after"]["sockets"]))
    fz = r.get("fuzz")
    if fz:
        runs = [x for x in fz["runs"] if not x.get("skipped")]
        bad = sum(x.get("crashes", 0) + x.get("unexpected", 0) + x.get("wrong_books", 0) for x in runs)
        per_venue = {}
        for x in runs:
            per_venue[x["stream"]] = per_venue.get(x["stream"], 0) + x.get("frames", 0)
        rows.append(("capture fuzz: 0 uncaught exceptions, 0 wrong books",
                     "; ".join(f"{v} {n:,} frames" for v, n in per_venue.items()) + f" (every path); crashes + bugs + wrong books: {bad}", bad == 0))
    mx = r.get("matrix_counts")
    if mx:
        figure = (f"{mx['measured']:,} of {mx['cells']:,} cells measured, {mx['failed']:,} failed" if mx["measured"] else
                  f"0 of {mx['cells']:,} cells measured: no fault observations given to this run (`--fault-matrix FILE`)")
        unread = mx.get("unread", 0)
        if unread:  # a row left out may be a failed run: the target is not met on what was read
            figure += f"; {unread:,} rows of the observations could not be read (left out)"
        rows.append(("fault matrix: every cell survived with the right state", figure,
                     None if not mx["measured"] else mx["failed"] == 0 and mx["measured"] == mx["cells"] and not unread))
    return rows


_WORDS = {True: "met", False: "NOT MET", None: "NOT MEASURED"}


def summary(r: dict[str, Any]) -> tuple[list[str], bool]:
    """The terminal summary: one line per target with its verdict (``met``, ``NOT MET``, ``NOT
    MEASURED``) and figure, and whether no target was missed (a target not measured is not a
    miss; it is said so)."""
    rows = headline(r)
    lines = ["targets:"]
    for target, figure, ok in rows:
        lines.append(f"  [{_WORDS[ok]}] {target.replace('`', '').replace('**', '')}: {figure.replace('`', '').replace('**', '')}")
    missed = [t for t, _, ok in rows if ok is False]
    lines.append(f"{len(missed)} of {len(rows)} targets NOT MET" if missed else f"every target measured is met ({sum(ok is True for *_, ok in rows)} of {len(rows)})")
    return lines, not missed


def write(r: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write ``report.md``, the plots and ``results.json`` into ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    meta = r.get("meta", {})
    lines = ["# cexfeed soak report", "", f"- date: {meta.get('date', '')}", f"- machine: {meta.get('machine', '')}",
             f"- python: {meta.get('python', '')}", "- versions: " + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items()),
             f"- run: {_args(meta.get('args', {}))}", ""]
    if meta.get("note"):
        lines += [f"> {meta['note']}", ""]
    lines += ["Reproduce: `cexfeed soak` (full) or `cexfeed soak --quick` (about two minutes); `--out DIR` for the folder. "
              "How each figure is made: `src/cexfeed/soak/` (module docstrings).", "",
              "## Targets", "", "| target | measured | verdict |", "|---|---|---|"]
    for target, figure, ok in headline(r):
        lines.append(f"| {target} | {figure} | {_verdict(ok)} |")
    lines.append("")

    ev = r.get("every_venue")
    if ev:
        lines += ["## Every venue in one process", "", f"Simulator at {ev['sim_rate']:g} market steps/s per symbol, {ev['elapsed']:.0f} s; each stream read by a "
                  "consumer doing nothing but `async for e in stream.events()`. Handler time: one frame in 16 timed around `_handle_message`; queue lag: "
                  "now minus the frame's receive time when the consumer reads the event (one in 16).", ""]
        lines += _stream_table(ev["streams"]) + [""]
        if ev.get("accounts_skipped"):
            lines += ["Account streams not in the run: " + "; ".join(ev["accounts_skipped"]) + ".", ""]
        lines += ["Cross-talk: a fault on one venue (an update id skipped, a malformed frame, an error frame, then its sockets aborted); the change of "
                  "every counter of the other venues' streams over the fault and its recovery (reconnects, resyncs, errors; same sockets):", "",
                  "| venue faulted | its streams (reconnects/resyncs/errors) | recovered in | the other streams | no cross-talk |", "|---|---|---|---|---|"]
        for c in ev["crosstalk"]:
            mine = "; ".join(f"{n}: {d['reconnects']}/{d['resyncs']}/{d['errors']}" for n, d in c["faulted"].items())
            others = "; ".join(f"{n}: {d['reconnects']}/{d['resyncs']}/{d['errors']}{'' if d['sockets'] else ' (new socket)'}" for n, d in c["others"].items())
            lines.append(f"| {c['venue']} | {mine} | {_n(c['recover_s'], '.2f')} s | {others} | {'yes' if c['no_crosstalk'] else '**NO**'} |")
        lines += ["", f"Books compared level by level with the simulator's at the end: {len(ev['books_wrong'])} wrong{_listed(ev['books_wrong'])}; accounts "
                  f"compared with the ledger: {len(ev['accounts_wrong'])} wrong{_listed(ev['accounts_wrong'])}.", ""]

    ce = r.get("ceiling")
    hm = r.get("handoff")
    if ce or hm:
        lines += ["## Hand-off to the consumer and the ceiling", "",
                  "`events()` reads a deque: every event the read loop queued since the consumer last ran is taken in one wake-up, without an await "
                  "between events, and a socket read is handled at most 64 frames per loop turn (the consumer runs in between). The old hand-off "
                  "(an `asyncio.Queue` read with `wait_for(get(), 0.5)` per event) is kept in `cexfeed.bench.handoff` as the reference.", ""]
    if hm:
        from ..bench.handoff import report_lines

        lines += report_lines({"micro": hm.get("micro")})[4:]
    if ce:
        lines += [f"Load endpoint (`cexfeed.soak.loadgen`, another process) pushing a set rate over the three venues, {ce['seconds']:g} s per run; a rate is "
                  "kept up when it is parsed, every event is read, nothing is dropped and every book is right at the end. CPU share: this process's CPU "
                  "time / wall time (1.0 = one core).", "", "| consumer | rate asked | frames/s parsed | events read/s | dropped | client CPU | frames/s per core | kept up |",
                  "|---|---|---|---|---|---|---|---|"]
        for consumer, block in ce["consumers"].items():
            for row in block["runs"]:
                asked = f"{row['rate']:,.0f}" if row["rate"] else "as fast as read"
                lines.append(f"| {consumer} | {asked} | {_n(row['frames_per_s'])} | {_n(row['read_per_s'])} | {row['dropped']:,} | "
                             f"{row['cpu_share']:.0%} | {_n(row['per_core'])} | {'yes' if row['kept_up'] else 'no'} |")
        lines.append("")

    for key, title in (("load", "Load"), ("soak", "Soak")):
        x = r.get(key)
        if not x:
            continue
        drops = f", every socket dropped every {x['drop_every']:g} s ({x['drops']} drops)" if x.get("drop_every") else ""
        lines += [f"## {title}: {x['rate']:,.0f} frames/s for {x['duration']:.0f} s{drops}", "",
                  f"One `Feed` per venue (BTC and ETH: book, trades, best bid/offer; {x['architecture']} handlers) on the load endpoint; frame mix per venue: "
                  "12 book deltas (1-10 levels a side), 5 trades, 3 best bid/offer in 20. Rates over the steady part (after "
                  f"{x['warmup']:g} s of warm-up): {_n(x['frames_per_s'])} frames/s summed, slowest second {_n(x['min_window_frames_per_s'])}; "
                  f"client CPU {x['cpu_share']:.0%} of one core; books compared with the endpoint's at the end: {len(x['books_wrong'])} wrong. "
                  f"{_rss(x)}; events waiting for the consumers at most {x.get('queued_max', 0):,} at once (RSS keeps the high-water "
                  f"mark of what waited: the allocator keeps freed memory); {res(x['resources_warm'])} after warm-up → "
                  f"{res(x.get('resources_settled') or x['resources_end'])} at the end, once the books were checked and reconnects settled.", ""]
        lines += _stream_table(x["streams"]) + [""]
        samples = x.get("samples") or []
        if samples and _plot(out / f"{key}_rate.png", _rates(samples), "frames/s", f"{title}: frames/s per venue and summed"):
            lines += [f"![{key} rate]({key}_rate.png)", ""]
            paths[f"{key}_rate"] = out / f"{key}_rate.png"
        if samples and _plot(out / f"{key}_rss.png", [("RSS MiB", [s["t"] for s in samples], [s["rss"] / 2**20 for s in samples])], "MiB", f"{title}: RSS"):
            lines += [f"![{key} RSS]({key}_rss.png)", ""]
            paths[f"{key}_rss"] = out / f"{key}_rss.png"

    rc = r.get("reconnects")
    if rc:
        done = [c for c in rc["cycles"] if c == c]
        lines += [f"## {rc['count']} forced reconnects in a row", "",
                  "Every venue's sockets aborted at once (TCP reset) by the simulator, then: every stream reconnected and every book synced again "
                  "(time below), the market paused and every book compared level by level with the simulator's.", "",
                  f"Recovered {rc['recovered']}/{rc['count']}; seconds to recover: median {_n(rc['median_s'], '.3f')}, max {_n(rc['max_s'], '.3f')}, "
                  f"min {_n(min(done) if done else None, '.3f')}; books wrong: {len(rc['books_wrong'])}{_listed(rc['books_wrong'])}; before → after: "
                  f"{res(rc['before'])} → {res(rc['after'])}.", ""]

    fz = r.get("fuzz")
    if fz:
        lines += [f"## Capture fuzz ({fz['frames_per_path']:,} frames per venue and path)", "",
                  "Every real capture in `shared/captures` replayed with damage through every handler of its venue (see `cexfeed.soak.fuzz`); books "
                  "checked after every event and, on clean passes, against an independent rebuild from the frames.", "",
                  "| venue | path | frames | events | book checks | reference checks | errors counted | crashes | bugs swallowed | wrong books | s |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for x in fz["runs"]:
            if x.get("skipped"):
                lines.append(f"| {x['stream']} | {x['path']} | {x['skipped']} | | | | | | | | |")
                continue
            lines.append(f"| {x['stream']} | {x['path']} | {x.get('frames', 0):,} | {x.get('events', 0):,} | {x.get('book_checks', 0):,} | "
                         f"{x.get('reference_checks', 0):,} | {sum(x.get('error_kinds', {}).values()):,} | {x.get('crashes', 0)} | {x.get('unexpected', 0)} | "
                         f"{x.get('wrong_books', 0)} | {x.get('seconds', 0):.0f} |")
        lines.append("")

    lines += ["## Fault matrix", ""]
    source = r.get("matrix_source")
    lines.append(f"Observations from `{source}`." if source else "**Not measured in this run.** No fault observations were given (`--fault-matrix "
                 "FILE`, written by the fault tests with `CEXFEED_FAULT_MATRIX=FILE`), so every cell below reads \"not measured\": the table shows "
                 "which faults apply where, not whether they were survived. The last long run of the fault tests is in "
                 "`soak/reports/fault-matrix.md` of the source checkout.")
    unread = r.get("matrix_unread") or []
    if unread:
        shown = "; ".join(unread[:5]) + ("; …" if len(unread) > 5 else "")
        lines.append(f"**{len(unread):,} rows of it could not be read and are left out of the table** ({shown}).")
    lines += ["", "Each cell: survived, state right afterwards · median time to recover (n = runs).", ""]
    rows, _ = matrix.table(r.get("matrix_rows") or [])
    lines += rows + [""]

    report = out / "report.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    paths["report"] = report
    slim = {k: v for k, v in r.items() if k != "matrix_rows"}
    (out / "results.json").write_text(json.dumps(slim, indent=1, default=str), encoding="utf-8")
    paths["results"] = out / "results.json"
    return paths
