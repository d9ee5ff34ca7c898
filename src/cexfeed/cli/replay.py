"""``cexfeed replay``: run a capture through the real handlers and print events or book summaries.

A replay that decoded nothing (no event, no delta buffered) prints its counters and exits 1; a
folder is a folder of MEXC ``.bin`` frames (another ``--venue`` is refused). When no book ever
synced, the summary says how many deltas wait for a snapshot and how to give one
(``--snapshots``)."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import click
import msgspec

from ..capture import (
    FRAME,
    REPLAY_VENUES,
    CaptureItem,
    Replay,
    detect_venue,
    instruments_file_beside,
    is_cryptofeed_capture,
    merged,
    read_http_file,
    read_instruments,
    read_raw_frames,
    snapshot_files_beside,
    summary,
)
from ..models import encode_event
from ..venues import VENUES
from . import main
from .common import format_counts

# the venue of .bin frames (one serialized PushDataV3ApiWrapper each)
BIN_VENUE = "mexc-spot"


def _items_and_venue(path: Path, venue: str | None, snapshots: tuple[str, ...]):
    if path.is_dir() or path.suffix == ".bin":
        if venue is not None and venue != BIN_VENUE:
            raise click.UsageError(f"{path}: .bin frames (and folders of them) are {BIN_VENUE} pushes, not {venue}")
        files = sorted(path.glob("*.bin")) if path.is_dir() else [path]
        if not files:
            raise click.UsageError(f"no .bin frames in {path}")
        snaps = [item for s in snapshots for item in read_http_file(s)]
        return itertools.chain(snaps, (CaptureItem(FRAME, 0.0, f.read_bytes()) for f in files)), BIN_VENUE
    if is_cryptofeed_capture(path):
        venue = venue or detect_venue(path)
        if venue is None:
            raise click.UsageError(f"cannot tell the venue of {path}; pass --venue")
        snaps = [Path(s) for s in snapshots] if snapshots else snapshot_files_beside(path)
        return merged(path, snaps), venue
    if venue is None:
        raise click.UsageError("a plain frame file needs --venue")
    # plain frames carry no times: the given snapshots are installed first, then the frames
    # run (deltas older than a snapshot are dropped as stale, the next one must bridge it)
    snaps = [item for s in snapshots for item in read_http_file(s)]
    return itertools.chain(snaps, read_raw_frames(path)), venue


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--snapshots", multiple=True, type=click.Path(exists=True), help="REST snapshot file(s); default: NAME.http.* beside a .ws. capture.")
@click.option("--instruments", type=click.Path(exists=True, path_type=Path), help="Instrument list body; default: NAME.0 beside a .ws. capture.")
@click.option("--venue", type=click.Choice(sorted(VENUES)), help="Venue of the frames (detected for .ws. captures and .bin files).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "summary", "summary-json"]), default="summary", show_default=True)
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), default=None, help="cexfeed captures: replay at this multiple of the recorded pace (1: as recorded; default: as fast as possible).")
def replay(path: Path, snapshots: tuple[str, ...], instruments: Path | None, venue: str | None, fmt: str, speed: float | None) -> None:
    """Replay PATH (a cexfeed capture .cxf, a cryptofeed .ws. capture, a .bin frame or folder
    of them, or a file of raw frames one per line) through the venue's handler."""
    from ..record import is_capture

    if is_capture(path):
        from .record import replay_capture

        return replay_capture(path, fmt, speed, _print_table, _jsonl_writer)
    if not path.exists():
        raise click.BadParameter(f"Path '{path}' does not exist.", param_hint="'PATH'")
    if speed is not None:
        raise click.UsageError("--speed applies to cexfeed captures (.cxf) only")
    items, venue = _items_and_venue(path, venue, snapshots)
    if venue not in REPLAY_VENUES:
        raise click.UsageError(f"replay of {venue} is not available in this build")
    if instruments is None and is_cryptofeed_capture(path):
        instruments = instruments_file_beside(path)
    if instruments is None and venue == "gateio-perp":
        # without multipliers sizes would be contract counts, not base currency
        raise click.UsageError("gateio-perp replay needs the contracts list: pass --instruments (REST /futures/usdt/contracts body)")
    out = sys.stdout.buffer
    on_event = _jsonl_writer(out) if fmt == "jsonl" else None
    try:
        body = read_instruments(instruments) if instruments else None
        rep = Replay(venue, body, on_event)
        rep.feed(items)
    except (ValueError, UnicodeDecodeError, msgspec.DecodeError) as exc:
        # a file that is not what --venue/--instruments say it is
        raise click.ClickException(f"cannot replay {path} as {venue}: {exc}") from None
    stats = rep.handler.stats
    books = summary(rep.handler, rep.full_books)
    if fmt == "jsonl":
        out.flush()
    elif fmt == "summary-json":
        click.echo(json.dumps(_with_account(books, rep.private), indent=2, sort_keys=True))
    else:
        _print_table(books, rep.venue, stats.as_dict(), rep.private)
    account_events = rep.private.stats.events if rep.private is not None else 0
    if not stats.events and not account_events and not any(b["buffered"] for b in books.values()):
        # nothing decoded: say what was counted, and fail
        raise click.ClickException(f"nothing decodable in {path} as {venue}: {_counts(rep)}")
    hint = _snapshot_hint(books)
    if hint:
        click.echo(hint, err=True)


def _with_account(books: dict, private: Any) -> dict:
    """The books' summary, plus under ``account`` (when private frames were replayed) the
    account handler's counters and state counts (no symbol is spelled ``account``)."""
    if private is None or not private.stats.frames:
        return books
    stats = private.stats.as_dict()
    account = {"frames": stats["frames"], "events": stats["events"], "errors": dict(stats["errors"]), **private.state.summary()}
    return {**books, "account": account}


def _counts(rep: Replay) -> str:
    """The replay's counters, as every command prints them: the market handler's, then (when
    account frames were replayed) the account handler's (``account frames N ...``), whose
    malformed and refused frames count as much as the market ones."""
    line = counts_line(rep.handler.stats.as_dict())
    private = rep.private
    if private is not None and private.stats.frames:
        line += f"; account {counts_line(private.stats.as_dict())}"
    return line


def counts_line(stats: dict) -> str:
    """``frames N  events N  errors ...`` of a stats dict (``frames``, ``events``, ``errors``)."""
    return f"frames {stats['frames']}  events {stats['events']}  errors {format_counts(stats['errors'])}"


def _snapshot_hint(books: dict) -> str:
    """When no sequenced book ever synced: how many deltas wait for a snapshot, and how to give
    one."""
    sequenced = [b for b in books.values() if b["kind"] == "sequenced"]
    if not sequenced or any(b["synced"] or b["last_update_id"] for b in sequenced):
        return ""
    waiting = sum(b["buffered"] for b in sequenced)
    return (f"no book synced: {waiting} deltas buffered waiting for a snapshot; "
            "pass --snapshots FILE (REST order-book bodies, NAME.http.* beside a capture) to seed the books")


def _jsonl_writer(out):
    def write(event) -> None:
        try:
            out.write(encode_event(event) + b"\n")
        except BrokenPipeError:
            # the reader went away (e.g. `| head`): stop quietly
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
            raise SystemExit(0) from None

    return write


def _print_table(books: dict, venue: str, stats: dict, private: Any = None) -> None:
    """The books' table and the counters (``private``: the account handler of the replay, whose
    state is summarized when it saw frames)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{venue} replay")
    for col in ("symbol", "bid size", "bid", "ask", "ask size", "last id", "applied", "stale", "buffered", "resyncs", "levels"):
        table.add_column(col, justify="right" if col != "symbol" else "left")
    for symbol, b in books.items():
        table.add_row(
            symbol,
            b["best_bid_size"] or "-",
            b["best_bid"] or "-",
            b["best_ask"] or "-",
            b["best_ask_size"] or "-",
            str(b["last_update_id"]),
            str(b["deltas_applied"]),
            str(b["deltas_dropped_stale"]),
            str(b["buffered"]),
            str(b["resyncs"]),
            f"{b['bid_levels']}/{b['ask_levels']}",
        )
    console = Console() if sys.stdout.isatty() else Console(width=160)
    console.print(table)
    console.print(counts_line(stats))
    if private is not None and private.stats.frames:
        counts = ", ".join(f"{k} {v}" for k, v in private.state.summary().items())
        console.print(f"account {counts_line(private.stats.as_dict())}  {counts}")
