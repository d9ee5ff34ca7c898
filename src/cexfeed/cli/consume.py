"""``cexfeed consume``: read what ``cexfeed stream --sink``/``cexfeed run`` published to Redis
Streams or NATS JetStream, through a consumer group, decoded back to typed events."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections import Counter

import click

from ..models import STALE, SYNCED, BookStatus, encode_event
from ..sinks import BookMirror, SinkGap, open_reader
from ..sinks.codec import source
from ..sinks.reader import safe_url
from ..tasks import cancel_and_wait
from . import main


@main.command()
@click.argument("url")
@click.option("--group", default="cexfeed", show_default=True, help="Consumer group (Redis) / durable consumer (NATS). Each group sees every event once.")
@click.option("--consumer", default=None, help="This consumer's name within the group (default: host-pid). The group's consumers share its events.")
@click.option("--filter", "pattern", default="", help="Redis: key pattern (default PREFIX:*); NATS: subject filter (default PREFIX.>).")
@click.option("--prefix", default="cexfeed", show_default=True)
@click.option("--stream", default="CEXFEED", show_default=True, help="JetStream stream name.")
@click.option("--start", type=click.Choice(["all", "new"]), default="all", show_default=True, help="A new group starts at what the broker holds, or at new events only.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "summary"]), default="jsonl", show_default=True,
              help="jsonl: one event per line; summary: counts, gaps and rebuilt books at the end.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--count", "limit", type=click.IntRange(min=1), default=None, help="Stop after this many events.")
def consume(url: str, group: str, consumer: str | None, pattern: str, prefix: str, stream: str, start: str, fmt: str,
            duration: float | None, limit: int | None) -> None:
    """Read events from URL (redis://HOST:PORT/DB or nats://HOST:PORT) as a consumer group member,
    acknowledging each batch once written out."""
    name = consumer or f"{socket.gethostname()}-{os.getpid()}"
    try:
        reader = open_reader(url, group, name, prefix=prefix, stream=stream, filter=pattern, start=start)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from None
    counts: Counter = Counter()
    gaps: Counter = Counter()
    mirror = BookMirror()
    books = _BookStates()
    out = sys.stdout.buffer

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        deadline = loop.time() + duration if duration else None
        seen = 0
        try:
            while not stop.is_set() and (limit is None or seen < limit):
                timeout = None if deadline is None else deadline - loop.time()
                if timeout is not None and timeout <= 0:
                    break
                # with --count, never take more than is left: what is read is this consumer's
                batch = await _first(reader.read(None if limit is None else min(500, limit - seen)), stop, timeout)
                if batch is None:
                    break
                if limit is not None:
                    # Redis counts per stream: what is past --count stays pending for this consumer
                    batch = batch[: limit - seen]
                for _, _, event in batch:
                    counts[type(event).__name__] += 1
                    if isinstance(event, SinkGap):
                        gaps[(source(event), event.symbol, event.channel, event.reason)] += 1
                    elif isinstance(event, BookStatus):
                        books.status(event, mirror)
                    mirror.on_event(event)
                    if fmt == "jsonl":
                        out.write(encode_event(event) + b"\n")
                seen += len(batch)
                if fmt == "jsonl":
                    out.flush()
                await reader.ack(batch)
        finally:
            await reader.close()

    try:
        asyncio.run(run())
    except (OSError, ConnectionError) as exc:
        raise click.ClickException(f"cannot read from {safe_url(url)}: {exc}") from None
    if fmt == "summary":
        click.echo(f"events: {sum(counts.values())}  " + "  ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for (venue, symbol, channel, reason), n in sorted(gaps.items()):
            click.echo(f"gap notice: {venue} {symbol} {channel} {reason} x{n}")
        for key in sorted(mirror.books.keys() | books.last.keys()):
            click.echo(books.line(key, mirror))


class _BookStates:
    """What the summary says of each book besides the mirror: its stream's name (as the gap
    lines name it, ``gateio-spot``), its last status, and its top when it stopped being synced
    (a producer that stopped ends every book with ``stale``/``closed``: the book was good until
    then, it is not waiting for anything)."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, str], str] = {}
        self.last: dict[tuple[str, str], BookStatus] = {}
        self.top_when_lost: dict[tuple[str, str], str] = {}

    def status(self, event: BookStatus, mirror: BookMirror) -> None:
        key = (event.venue, event.symbol)
        self.names[key] = source(event)
        self.last[key] = event
        if event.status != SYNCED and mirror.synced(*key):  # (before the mirror drops it)
            self.top_when_lost[key] = _top(mirror.books[key])

    def line(self, key: tuple[str, str], mirror: BookMirror) -> str:
        name = f"book {self.names.get(key) or _stream_of(key, mirror)} {key[1]}"
        if mirror.synced(*key):
            return f"{name}: {_top(mirror.books[key])}"
        status = self.last.get(key)
        if status is not None and status.status == STALE:
            top = self.top_when_lost.get(key)
            return f"{name}: stale ({status.reason})" + (f"; last synced {top}" if top else "")
        if status is not None and status.status != SYNCED:
            return f"{name}: {status.status} ({status.reason}), waiting for a snapshot"
        return f"{name}: waiting for a snapshot"


def _top(book) -> str:
    return f"id {book.last_update_id}  bid {book.best_bid()}  ask {book.best_ask()}"


def _stream_of(key: tuple[str, str], mirror: BookMirror) -> str:
    # a book seen without a status event: its stream is in its BookUpdate events (kept by the mirror)
    return mirror.sources.get(key, key[0])


async def _first(read, stop: asyncio.Event, timeout: float | None):
    """The result of ``read`` (a coroutine), or ``None`` when ``stop`` is set or ``timeout``
    s pass first (the read is then cancelled)."""
    step = asyncio.ensure_future(read)
    waiter = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({step, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if step in done:
        return step.result()
    await cancel_and_wait(step, None)  # again while it runs on: a lost cancellation (cexfeed.tasks)
    return None
