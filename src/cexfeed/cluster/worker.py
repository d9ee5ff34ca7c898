"""One shard in one process: a :class:`cexfeed.feed.Feed` per config entry of the shard, all
publishing through one sink, until SIGTERM/SIGINT (or ``duration``).

A new worker process starts every book from a snapshot and its sink opens every stream with a
``SinkGap(reason="start")`` notice, so consumers of a restarted shard know where its events
may have a hole and get fresh books right after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from typing import Any

from ..feed import Feed
from ..sinks import Sink, SinkUnavailable, make_sink
from ..symbols import SymbolError
from .config import CONFIG_ERROR, RunConfig, Shard  # noqa: F401 - CONFIG_ERROR: the worker's exit status

log = logging.getLogger("cexfeed.cluster")

class ShardConfigError(ValueError):
    """The shard cannot run as configured (e.g. a symbol its venue does not list); the message
    says which shard, feed and name."""


def build_feeds(shard: Shard, sink: Sink) -> list[Feed]:
    """The feeds of ``shard``, each publishing to ``sink``."""
    return [
        Feed(item.spec.venue, item.symbols, item.spec.channels, url=item.spec.url, rest_url=item.spec.rest_url,
             protocol_options=item.spec.protocol_options or None, max_subscriptions=item.spec.subscriptions_per_connection,
             no_data_timeout=item.spec.no_data_timeout, sinks=[sink])
        for item in shard.feeds
    ]


async def run_shard(config: RunConfig, shard: Shard, *, duration: float | None = None, watch_parent: int | None = None,
                    stats_every: float = 60.0, metrics: tuple[str, int] | None = None) -> dict[str, Any]:
    """Run ``shard`` until a stop signal, ``duration`` s, or (``watch_parent``) the death of
    the supervising process; returns the last stats (feeds and sink; ``interrupted`` when it
    was stopped before its feeds had started). ``metrics`` ``(host,
    port)`` serves this worker's Prometheus metrics (:mod:`cexfeed.metrics`). Raises
    ``OSError`` when that port cannot be bound, :class:`ShardConfigError` when a feed's venue
    does not list one of its symbols or the sink cannot be opened at all."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    sink = make_sink(config.sink)
    try:  # a sink that cannot work at all: a configuration error (no restart helps)
        await sink.open()
    except SinkUnavailable as exc:
        raise ShardConfigError(f"shard {shard.index}: {exc}") from None
    feeds = build_feeds(shard, sink)
    watcher = loop.create_task(_watch_parent(watch_parent, stop)) if watch_parent else None
    server = None
    interrupted = False
    if metrics is not None:
        from ..metrics import serve

        server = await serve(metrics[1], feeds, host=metrics[0], sinks=[sink])
        # the port 0 picked too; one write of the whole line: workers share the supervisor's stderr
        sys.stderr.write(f"shard {shard.index} metrics: {server.url}\n")
        sys.stderr.flush()
    try:
        starting = asyncio.gather(*(feed.start() for feed in feeds))
        waiter = loop.create_task(stop.wait())
        await asyncio.wait({starting, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            try:
                starting.result()
            except SymbolError as exc:  # listed-ness is known only now, from the venue's list
                names = ", ".join(f.venue for f in feeds)
                raise ShardConfigError(f"shard {shard.index} ({names}): {exc}") from None
            log.info("shard %d: %d feeds started (%s)", shard.index, len(feeds), sink.describe())
        deadline = loop.time() + duration if duration else None
        while not stop.is_set():
            timeout = stats_every if deadline is None else min(stats_every, deadline - loop.time())
            if timeout <= 0:
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout)
            if not stop.is_set():
                _log_stats(shard, feeds, sink)
        waiter.cancel()
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(BaseException):
                await starting
            interrupted = True  # stopped before its feeds had started
    finally:
        if watcher is not None:
            watcher.cancel()
        if server is not None:
            await server.close()
        stats = {"shard": shard.index, "feeds": [feed.stats() for feed in feeds], "sink": sink.stats(), "interrupted": interrupted}
        await asyncio.gather(*(feed.close() for feed in feeds), return_exceptions=True)
        stats["sink"] = sink.stats()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return stats


def _log_stats(shard: Shard, feeds: list[Feed], sink: Sink) -> None:
    s = sink.stats()
    events = sum(feed.events_total for feed in feeds)
    log.info("shard %d: events %d, published %d, dropped %d, buffered %d, lag %.1f ms", shard.index, events,
             s["published"], s["dropped"], s["buffered"], s["lag_ms"])


async def _watch_parent(parent: int, stop: asyncio.Event) -> None:
    # a worker whose supervisor died (killed -9) stops rather than run on unsupervised
    while not stop.is_set():
        if os.getppid() != parent:
            log.warning("supervisor %d is gone; stopping", parent)
            stop.set()
            return
        await asyncio.sleep(1.0)
