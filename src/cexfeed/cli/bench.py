"""``cexfeed bench``: the comparative benchmark suite (:mod:`cexfeed.bench`).

The harness and its peers (ccxt.pro, cryptofeed, matplotlib: the ``bench`` extra) are loaded
only when the command runs; the library never imports them. A peer that is not installed makes
its column ``n/a``.
"""

from __future__ import annotations

import click

from . import main


@main.command("bench")
@click.option("--quick", is_flag=True, help="A run under one minute.")
@click.option("--out", type=click.Path(file_okay=False), help="Reports folder; the run writes <out>/<date>/ (default bench/reports in a checkout, else ./cexfeed-bench-reports).")
@click.option("--no-latest", is_flag=True, help="Do not refresh <out>/latest.md (a --quick run never does).")
@click.option("--no-e2e", is_flag=True, help="Skip the end-to-end throughput run.")
@click.option("--contenders", default="direct,strategy,decode,ccxt.pro,cryptofeed", show_default=True, help="Comma-separated subset.")
@click.option("--frames", type=int, help="Frames per round and frame type.")
@click.option("--rounds", type=int, help="Interleaved rounds.")
@click.option("--e2e-seconds", type=float, help="Seconds per end-to-end client run.")
@click.option("--only", help="Comma-separated row kinds to measure alone (book, trades, bbo, ticker, kline, private); implies --no-e2e and --no-latest.")
def bench_command(quick: bool, out: str | None, no_latest: bool, no_e2e: bool, contenders: str, frames: int | None, rounds: int | None, e2e_seconds: float | None,
                  only: str | None) -> None:
    """Per-frame latency and allocations (direct, strategy, decode floor, ccxt.pro, cryptofeed)
    and loopback throughput; writes Markdown, PNG charts and JSON under the --out folder."""
    from ..bench import run

    names = [c.strip() for c in contenders.split(",") if c.strip()]
    unknown = [c for c in names if c not in run.CONTENDERS]
    if unknown:
        raise click.BadParameter(f"unknown contenders {unknown}", param_hint="--contenders")
    kinds = [k.strip() for k in (only or "").split(",") if k.strip()]
    if [k for k in kinds if k not in run.ROW_KINDS]:
        raise click.BadParameter(f"unknown row kinds {[k for k in kinds if k not in run.ROW_KINDS]}", param_hint="--only")
    run.run(
        quick=quick,
        out=out,
        # a quick run (or some rows alone) never replaces the committed full report
        latest=not (no_latest or quick or kinds),
        e2e=not (no_e2e or kinds),
        contenders=names,
        overrides={"frames": frames, "rounds": rounds, "e2e_seconds": e2e_seconds, "only": kinds or None},
        log=click.echo,
    )
