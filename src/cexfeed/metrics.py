"""Prometheus metrics of one process: ``await serve(port, feeds)`` (off unless called).

Almost everything is read at scrape time from the counters the feeds already keep (handler,
connection, sequencer, REST client and queue counters) by a custom collector running on the
event loop, so metrics add nothing to the read loop. The one exception is the event latency
histogram: one event in ``sample_every`` (default 16) is timed from its frame's ``recv_ts`` to
its delivery to the consumer.

Names, types and labels are listed in docs/metrics.md; an example Grafana dashboard is in
docs/grafana-dashboard.json.

Sinks (anything with a ``stats()`` mapping: the recorder, the Redis/NATS publishers) are
exported under ``cexfeed_sink_*`` from these optional keys: ``name`` (the ``sink`` label),
``published``, ``dropped``, ``errors``, ``bytes`` (counters), ``pending``, ``lag_seconds``
(gauges).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Callable, Iterable, Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, GCCollector, Histogram, PlatformCollector, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .feed import Feed
from .models import Event

LATENCY_BUCKETS = (5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 0.5, 1.0)

# (name, help) of the per-connection counters, from ConnectionStats
_CONNECTION_COUNTERS = (
    ("connects", "cexfeed_connects", "WebSocket connections established"),
    ("connect_failures", "cexfeed_connect_failures", "Failed connect attempts"),
    ("watchdog_drops", "cexfeed_watchdog_drops", "Connections dropped after no frame for no_data_timeout"),
    ("ack_timeouts", "cexfeed_ack_timeouts", "Subscribe/unsubscribe requests without an ack in time"),
    ("acks_refused", "cexfeed_acks_refused", "Requests the venue refused"),
    ("snapshots", "cexfeed_snapshot_fetches", "REST book snapshots fetched and applied"),
    ("snapshot_errors", "cexfeed_snapshot_failures", "REST book snapshot fetches that failed (retried)"),
)


class _Family:
    """Samples of one metric, summed by label values (two feeds of one venue add up)."""

    def __init__(self, kind: type, name: str, doc: str, labels: tuple[str, ...]) -> None:
        self.kind, self.name, self.doc, self.labels = kind, name, doc, labels
        self.values: dict[tuple[str, ...], float] = {}

    def add(self, labels: tuple[str, ...], value: float) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + value

    def metric(self) -> Metric:
        family = self.kind(self.name, self.doc, labels=self.labels)
        for labels, value in self.values.items():
            family.add_metric(labels, value)
        return family


class FeedCollector:
    """The custom collector: ``feeds`` (:class:`~cexfeed.feed.Feed`) and ``sinks`` (objects with
    ``stats()``) may be added after creation (:meth:`add_feed`, :meth:`add_sink`)."""

    def __init__(self, feeds: Iterable[Feed] = (), sinks: Iterable[Any] = ()) -> None:
        self.feeds = list(feeds)
        self.sinks = list(sinks)

    def add_feed(self, feed: Feed) -> None:
        self.feeds.append(feed)

    def add_sink(self, sink: Any) -> None:
        self.sinks.append(sink)

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        c, g = CounterMetricFamily, GaugeMetricFamily
        venue = ("venue",)
        conn_l = ("venue", "connection")
        sym_l = ("venue", "symbol")
        fams = {
            "frames": _Family(c, "cexfeed_frames", "Data frames received and handed to a handler", venue),
            "events": _Family(c, "cexfeed_events", "Events delivered to the consumer", venue),
            "errors": _Family(c, "cexfeed_errors", "Skipped frames and notable conditions, by kind", ("venue", "kind")),
            "reconnects": _Family(c, "cexfeed_reconnects", "Connections re-established after the first", conn_l),
            "up": _Family(g, "cexfeed_connection_up", "1 while the WebSocket is connected", conn_l),
            "subs": _Family(g, "cexfeed_subscriptions", "Subscriptions held by the connection", conn_l),
            "resyncs": _Family(c, "cexfeed_resyncs", "Book resyncs (gap, crossed book, lost push)", sym_l),
            "book_snapshots": _Family(c, "cexfeed_book_snapshots", "Snapshots (REST or in-band) installed in the book", sym_l),
            "deltas": _Family(c, "cexfeed_book_deltas", "Book deltas applied", sym_l),
            "synced": _Family(g, "cexfeed_book_synced", "1 while the book is in sync", sym_l),
            "age": _Family(g, "cexfeed_book_age_seconds", "Now minus the exchange time of the book's last update (synced books)", sym_l),
            "rest": _Family(c, "cexfeed_rest_requests", "REST attempts (instrument lists, snapshots)", venue),
            "rest_fail": _Family(c, "cexfeed_rest_failures", "REST attempts that failed (retried or not)", venue),
            "queued": _Family(g, "cexfeed_queue_events", "Events waiting in the Feed.events() queue", venue),
            "qdropped": _Family(c, "cexfeed_queue_dropped", "Events dropped from a full Feed.events() queue (oldest first)", venue),
        }
        conn_fams = [(attr, _Family(c, name, doc, conn_l)) for attr, name, doc in _CONNECTION_COUNTERS]
        now_ms = time.time_ns() // 1_000_000
        for feed in self.feeds:
            v = (feed.venue,)
            fams["events"].add(v, feed.events_total)
            fams["rest"].add(v, feed.rest.requests)
            fams["rest_fail"].add(v, feed.rest.failures)
            fams["queued"].add(v, feed.queued)
            fams["qdropped"].add(v, feed.dropped)
            errors: Counter[str] = Counter()
            frames = 0
            for conn in feed.connections:
                handler = conn.handler
                frames += handler.stats.frames
                errors.update(handler.stats.errors)
                labels = (feed.venue, conn.name)
                stats = conn.stats
                fams["reconnects"].add(labels, max(0, stats.connects - 1))
                fams["up"].add(labels, 1.0 if conn.connected else 0.0)
                fams["subs"].add(labels, len(conn.subscriptions))
                for attr, fam in conn_fams:
                    fam.add(labels, getattr(stats, attr))
                for seq in handler.books.values():
                    labels = (feed.venue, seq.symbol)
                    fams["resyncs"].add(labels, seq.resyncs)
                    fams["book_snapshots"].add(labels, seq.snapshots)
                    fams["deltas"].add(labels, seq.deltas_applied)
                    fams["synced"].add(labels, 1.0 if seq.synced else 0.0)
                    if seq.synced and seq.book.exchange_ts:
                        fams["age"].add(labels, max(0.0, (now_ms - seq.book.exchange_ts) / 1e3))
            fams["frames"].add(v, frames)
            for kind, n in errors.items():
                fams["errors"].add((feed.venue, kind), n)
        for fam in fams.values():
            yield fam.metric()
        for _, fam in conn_fams:
            yield fam.metric()
        # private streams are not there yet: the family is declared so dashboards can use it
        yield GaugeMetricFamily("cexfeed_account_up", "1 while an account stream is connected and in sync (no account streams yet)", labels=("venue", "account"))
        yield from self._sinks()

    def _sinks(self) -> Iterator[Metric]:
        c, g = CounterMetricFamily, GaugeMetricFamily
        sink = ("sink",)
        fams = {
            "published": _Family(c, "cexfeed_sink_published", "Items a sink delivered", sink),
            "dropped": _Family(c, "cexfeed_sink_dropped", "Items a sink dropped (fell behind, unavailable)", sink),
            "errors": _Family(c, "cexfeed_sink_errors", "Sink errors", sink),
            "bytes": _Family(c, "cexfeed_sink_bytes", "Bytes a sink wrote", sink),
            "pending": _Family(g, "cexfeed_sink_pending", "Items accepted but not yet delivered", sink),
            "lag_seconds": _Family(g, "cexfeed_sink_lag_seconds", "Age of the oldest undelivered item", sink),
        }
        for index, obj in enumerate(self.sinks):
            stats = obj.stats()
            labels = (str(stats.get("name") or f"sink{index}"),)
            for key, fam in fams.items():
                value = stats.get(key)
                if isinstance(value, (int, float)):
                    fam.add(labels, value)
        for fam in fams.values():
            yield fam.metric()


class _LatencySampler:
    """``Feed.observer``: times one event in ``every`` from ``recv_ts`` to delivery."""

    __slots__ = ("left", "every", "observe")

    def __init__(self, observe: Callable[[float], None], every: int) -> None:
        self.observe = observe
        self.every = max(1, every)
        self.left = self.every

    def __call__(self, event: Event) -> None:
        left = self.left - 1
        if left:
            self.left = left
            return
        self.left = self.every
        self.observe((time.time_ns() - event.recv_ts) / 1e9)


class MetricsServer:
    """The running endpoint: ``port``, ``url`` (``.../metrics``), ``registry``; add feeds and
    sinks started later with :meth:`add_feed` / :meth:`add_sink`; stop with :meth:`close`."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, registry: CollectorRegistry, collector: FeedCollector, latency: Histogram, sample_every: int) -> None:
        self._runner = runner
        self.host = host
        self.port = port
        self.registry = registry
        self.collector = collector
        self._latency = latency
        self._sample_every = sample_every

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def add_feed(self, feed: Feed) -> None:
        """Export ``feed`` too (and sample its event latency)."""
        self.collector.add_feed(feed)
        if self._sample_every:
            feed.observer = _LatencySampler(self._latency.labels(feed.venue).observe, self._sample_every)

    def add_sink(self, sink: Any) -> None:
        self.collector.add_sink(sink)

    async def close(self) -> None:
        await self._runner.cleanup()


async def serve(port: int, feeds: Iterable[Feed] = (), *, host: str = "127.0.0.1", sinks: Iterable[Any] = (), sample_every: int = 16) -> MetricsServer:
    """Serve ``GET /metrics`` (Prometheus text format) on ``host:port`` (``0``: a free port)
    from the running event loop, for ``feeds`` and ``sinks``; ``sample_every`` = 0 turns the
    latency histogram off. Returns the :class:`MetricsServer`. Raises ``OSError`` when the
    port cannot be bound. Call it from the loop the feeds run on (the collector reads their
    counters there, without locks)."""
    registry = CollectorRegistry(auto_describe=False)
    collector = FeedCollector()
    registry.register(collector)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    latency = Histogram(
        "cexfeed_event_latency_seconds",
        "Sampled time from a frame's receipt (recv_ts) to its event's delivery to the consumer",
        ("venue",),
        registry=registry,
        buckets=LATENCY_BUCKETS,
    )

    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1]
    server = MetricsServer(runner, host, bound, registry, collector, latency, sample_every)
    for feed in feeds:
        server.add_feed(feed)
    for sink in sinks:
        server.add_sink(sink)
    return server
