"""``cexfeed bench``: the comparative benchmark suite (``bench/`` in a source checkout).

The harness and its peers (ccxt.pro, cryptofeed, matplotlib: the ``bench`` extra) are loaded
only when the command runs; the library never imports them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import main

# src/cexfeed/cli/bench.py -> the checkout root holding bench/
_CHECKOUT = Path(__file__).resolve().parents[3]


def _harness():
    if not (_CHECKOUT / "bench" / "run.py").exists():
        raise click.ClickException("the benchmark harness lives in bench/ of a cexfeed source checkout; run from one")
    if str(_CHECKOUT) not in sys.path:
        sys.path.insert(0, str(_CHECKOUT))
    from bench import run

    return run


@main.command("bench")
@click.option("--quick", is_flag=True, help="A run under one minute.")
@click.option("--out", type=click.Path(file_okay=False), help="Report folder (default bench/reports/<date>/).")
@click.option("--no-latest", is_flag=True, help="Do not refresh bench/reports/latest.md (a --quick run never does).")
@click.option("--no-e2e", is_flag=True, help="Skip the end-to-end throughput run.")
@click.option("--contenders", default="direct,strategy,decode,ccxt.pro,cryptofeed", show_default=True, help="Comma-separated subset.")
@click.option("--frames", type=int, help="Frames per round and frame type.")
@click.option("--rounds", type=int, help="Interleaved rounds.")
@click.option("--e2e-seconds", type=float, help="Seconds per end-to-end client run.")
def bench_command(quick: bool, out: str | None, no_latest: bool, no_e2e: bool, contenders: str, frames: int | None, rounds: int | None, e2e_seconds: float | None) -> None:
    """Per-frame latency and allocations (direct, strategy, decode floor, ccxt.pro, cryptofeed)
    and loopback throughput; writes Markdown, PNG charts and JSON under bench/reports/."""
    run = _harness()
    names = [c.strip() for c in contenders.split(",") if c.strip()]
    unknown = [c for c in names if c not in run.CONTENDERS]
    if unknown:
        raise click.BadParameter(f"unknown contenders {unknown}", param_hint="--contenders")
    run.run(
        quick=quick,
        out=out,
        latest=not (no_latest or quick),  # a quick run never replaces the committed full report
        e2e=not no_e2e,
        contenders=names,
        overrides={"frames": frames, "rounds": rounds, "e2e_seconds": e2e_seconds},
        log=click.echo,
    )
