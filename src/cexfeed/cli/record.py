"""``cexfeed record``: stream from a venue and record the session in cexfeed's capture format;
and the replay of such a capture (``cexfeed replay FILE.cxf`` calls :func:`replay_capture`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from ..record import CaptureReplay, Recorder
from ..record.format import part_path
from . import main
from .live import metrics_options, run_stream, stream_options


@main.command()
@stream_options
@click.option("--out", required=True, help="Capture name: parts are OUT.00000.cxf, OUT.00001.cxf, ... (a trailing .cxf is dropped).")
@click.option("--rotate-mb", type=click.FloatRange(min=0), default=256.0, show_default=True, help="Start a new part after this many compressed MiB (0: never).")
@click.option("--rotate-seconds", type=click.FloatRange(min=0), default=3600.0, show_default=True, help="Start a new part after this many seconds (0: never).")
@click.option("--format", "fmt", type=click.Choice(["none", "table", "jsonl"]), default="none", show_default=True, help="Also show the events while recording.")
@metrics_options
def record(venue: str, symbols: str, channels: str, url: str | None, rest_url: str | None, duration: float | None,
           no_data_timeout: float, subscription_timeout: float, architecture: Any, out: str, rotate_mb: float,
           rotate_seconds: float, fmt: str, metrics_port: int | None, metrics_host: str) -> None:
    """Record a live session of VENUE: every frame as received, every request sent, every REST
    response and connection event, in zstd-compressed, append-only, rotated parts
    (docs/capture-format.md). Replay it with `cexfeed replay OUT.00000.cxf`."""
    first = part_path(out, 0)
    if first.exists():
        raise click.ClickException(f"{first} exists; a capture is never appended to or overwritten")
    first.parent.mkdir(parents=True, exist_ok=True)
    recorder = Recorder(out, rotate_bytes=int(rotate_mb * (1 << 20)), rotate_seconds=rotate_seconds)
    try:
        run_stream(venue, symbols, channels, url, rest_url, duration, no_data_timeout, subscription_timeout, architecture, fmt,
                   (metrics_host, metrics_port), tap=recorder)
    finally:
        recorder.close()
        stats = recorder.stats()
        paths = ", ".join(str(p) for p in recorder.paths)
        print(f"recorded {stats['published']} records, {stats['raw_bytes'] / 1e6:.2f} MB -> {stats['bytes'] / 1e6:.2f} MB "
              f"in {paths}" + (f"; dropped {stats['dropped']}" if stats["dropped"] else "") + (f"; error: {stats['error']}" if stats["error"] else ""),
              file=sys.stderr)


def replay_capture(path: Path, fmt: str, speed: float | None, print_table: Callable[[dict, str, dict], None], jsonl_writer: Callable[[Any], Any]) -> None:
    """``cexfeed replay`` of a cexfeed capture: events as ``jsonl``, or the books as
    ``summary``/``summary-json``; torn or corrupt blocks are reported on stderr with the records
    lost. A capture from which nothing could be decoded (damaged, too short, empty) exits 1."""
    on_event = jsonl_writer(sys.stdout.buffer) if fmt == "jsonl" else None
    rep = CaptureReplay(on_event, speed=speed)
    try:
        rep.replay_file(path)
    except ValueError as exc:
        raise click.ClickException(f"cannot replay {path}: {exc}") from None
    report = rep.report
    for torn_path, offset in report.torn:
        print(f"{torn_path}: torn block at byte {offset} skipped (the capture ends there)", file=sys.stderr)
    for bad_path, offset, skipped in report.corrupt:
        print(f"{bad_path}: corrupt block at byte {offset}, {skipped} bytes skipped; reading on at the next block", file=sys.stderr)
    if report.damaged():
        lost = report.describe_loss()
        print(f"replay: {report.records} records read, {lost or 'an unknown number of records'} lost to damage", file=sys.stderr)
    for problem, n in rep.problems.items():
        print(f"replay: {problem}: {n}", file=sys.stderr)
    stats = rep.stats()
    if fmt == "jsonl":
        sys.stdout.buffer.flush()
    elif rep.header is not None:  # (without it there is no venue, nothing to show)
        books = rep.summary()
        if fmt == "summary-json":
            click.echo(json.dumps(books, indent=2, sort_keys=True))
        else:
            print_table(books, rep.venue, stats)
    if rep.header is None or not stats["events"]:
        # nothing decoded, as for any replay: say why, and fail
        if rep.header is None:
            why = "damaged or too short: no session header could be read" if report.damaged() or report.records else "empty"
        else:
            why = f"no frame decoded ({stats['frames']} frames)"
        raise click.ClickException(f"nothing decodable in {path}: the capture is {why}" if rep.header is None
                                   else f"nothing decodable in {path}: {why}")
