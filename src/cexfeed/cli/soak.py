"""``cexfeed soak``: the integration and resilience run (every venue at once, the consumer
hand-off and its ceiling, load, soak, forced reconnects, the capture fuzz) and its Markdown
report with the fault matrix (:mod:`cexfeed.soak`)."""

from __future__ import annotations

import click

from . import main

PART_NAMES = "every_venue,handoff,ceiling,load,soak,reconnects,fuzz"


@main.command("soak")
@click.option("--quick", is_flag=True, help="Short versions of every part (about two minutes).")
@click.option("--out", type=click.Path(file_okay=False), help="Reports folder; the run writes <out>/<date>/ (default soak/reports in a checkout).")
@click.option("--fault-matrix", type=click.Path(dir_okay=False, exists=True), help="Fault observations (JSON Lines) to render; default $CEXFEED_FAULT_MATRIX.")
@click.option("--only", default=PART_NAMES, show_default=True, help="Comma-separated parts to run.")
@click.option("--captures", type=click.Path(file_okay=False), help="The captures folder for the fuzz (default ../shared/captures).")
@click.option("--fuzz-frames", type=click.IntRange(min=1), help="Frames per venue and path for the fuzz.")
@click.option("--fuzz-results", type=click.Path(dir_okay=False, exists=True), help="Report these fuzz results (python -m cexfeed.soak.fuzz --out FILE) instead of fuzzing.")
@click.option("--every-venue-seconds", type=click.FloatRange(min=1), help="Length of the every-venue run.")
@click.option("--load-seconds", type=click.FloatRange(min=3), help="Length of the load part.")
@click.option("--soak-seconds", type=click.FloatRange(min=10), help="Length of the soak part.")
@click.option("--reconnects", type=click.IntRange(min=1), help="Forced reconnects in a row.")
@click.option("--note", default="", help="A line for the report (e.g. what else ran on the machine).")
def soak_command(quick: bool, out: str | None, fault_matrix: str | None, only: str, captures: str | None, fuzz_frames: int | None,
                 fuzz_results: str | None, every_venue_seconds: float | None, load_seconds: float | None, soak_seconds: float | None,
                 reconnects: int | None, note: str) -> None:
    """Run every venue at once against the simulator and a load endpoint over real sockets,
    and write report.md (figures, fault matrix, rate and RSS plots, machine and versions).

    The summary at the end lists every target as met, NOT MET or NOT MEASURED (the fault
    matrix without --fault-matrix). Exit status: 0 when no target was missed, 1 when one or
    more is NOT MET (the report is written either way), 2 for bad options."""
    from ..soak import run

    parts = [p.strip() for p in only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in run.PARTS]
    if not parts:
        raise click.BadParameter(f"no part named; known: {', '.join(run.PARTS)}", param_hint="--only")
    if unknown:
        raise click.BadParameter(f"unknown parts {unknown}; known: {', '.join(run.PARTS)}", param_hint="--only")
    outcome = run.run(quick=quick, out=out, fault_matrix=fault_matrix, parts=parts, captures=captures,
            overrides={"fuzz_frames": fuzz_frames, "every_venue_s": every_venue_seconds, "load_s": load_seconds, "soak_s": soak_seconds,
                       "reconnects": reconnects},
            note=note, fuzz_results=fuzz_results, log=click.echo)
    if not outcome.met:
        raise SystemExit(1)
