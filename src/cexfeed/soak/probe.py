"""Figures of running streams, per venue: what :mod:`cexfeed.soak` reports.

- :class:`StreamProbe` on one :class:`~cexfeed.feed.Feed` or
  :class:`~cexfeed.private_feed.Account`: frames, events, resyncs, reconnects, errors by kind
  (read from the counters the streams keep), the handler's time per frame (one frame in
  ``sample_every`` timed around ``_handle_message``) and the queue lag (now minus the frame's
  ``recv_ts`` when the consumer reads an event, one in ``sample_every``).
- :func:`resources`: this process's RSS, open file descriptors, sockets and asyncio tasks.

Percentiles come from the samples kept (at most ``keep`` per probe, a uniform reservoir).
"""

from __future__ import annotations

import asyncio
import os
from array import array
import random
import time
from collections import Counter
from typing import Any, Iterable


def percentiles(values: Iterable[float], points: tuple[float, ...] = (50, 99, 99.9)) -> dict[str, float | None]:
    """``{"p50": ..., "p99": ..., "p99.9": ..., "max": ...}`` of ``values`` (nearest rank);
    ``None`` each when there are none."""
    data = sorted(values)
    out: dict[str, float | None] = {}
    for p in points:
        out[f"p{p:g}"] = data[min(len(data) - 1, int(len(data) * p / 100))] if data else None
    out["max"] = data[-1] if data else None
    return out


class Reservoir:
    """A uniform sample of at most ``keep`` integer values (ns) out of every value added. Its
    storage is allocated at once, so filling it adds nothing to RSS during a run."""

    __slots__ = ("keep", "_data", "_n", "seen", "_rng")

    def __init__(self, keep: int = 20_000) -> None:
        self.keep = keep
        self._data = array("q", bytes(8 * keep))
        self._n = 0
        self.seen = 0
        self._rng = random.Random(1)

    @property
    def values(self) -> list[int]:
        """The values kept."""
        return self._data[: self._n].tolist()

    def add(self, value: int) -> None:
        self.seen += 1
        if self._n < self.keep:
            self._data[self._n] = value
            self._n += 1
        else:
            slot = self._rng.randrange(self.seen)
            if slot < self.keep:
                self._data[slot] = value


def _handlers(stream: Any) -> list:
    if hasattr(stream, "connections"):
        return [conn.handler for conn in stream.connections]
    handler = getattr(stream, "handler", None)
    return [handler] if handler is not None else []


def _connections(stream: Any) -> list:
    if hasattr(stream, "connections"):
        return list(stream.connections)
    conn = getattr(stream, "connection", None)
    return [conn] if conn is not None else []


class StreamProbe:
    """Per-stream figures. ``name`` labels the stream (``gateio-spot``, ``gateio-perp account``
    ...), ``architecture`` its path. Call :meth:`instrument` before the stream starts (it wraps
    the handler factory, so handlers made on reconnects are timed too) and :meth:`consume` as
    the consumer (or :meth:`on_event` from a callback)."""

    def __init__(self, stream: Any, name: str, architecture: str = "direct", sample_every: int = 16, keep: int = 20_000) -> None:
        self.stream = stream
        self.name = name
        self.architecture = architecture
        self.sample_every = sample_every
        self.handler_ns = Reservoir(keep)
        self.lag_ns = Reservoir(keep)
        self.read = 0
        self._timed: set[int] = set()

    # -- instrumentation -----------------------------------------------------------------------
    def _time(self, handler: Any) -> None:
        if id(handler) in self._timed:
            return
        self._timed.add(id(handler))
        inner = handler._handle_message
        every = self.sample_every
        add = self.handler_ns.add
        clock = time.perf_counter_ns
        state = [0]

        def timed(raw, recv_ts=None):
            state[0] += 1
            if state[0] % every:
                return inner(raw, recv_ts)
            t0 = clock()
            inner(raw, recv_ts)
            add(clock() - t0)

        handler._handle_message = timed

    def instrument(self) -> "StreamProbe":
        """Time the handlers of this stream, present and future."""
        pool = getattr(self.stream, "_pool", None)
        if pool is not None:
            make = pool.handler_factory

            def factory():
                handler = make()
                self._time(handler)
                return handler

            pool.handler_factory = factory
        for handler in _handlers(self.stream):
            self._time(handler)
        return self

    def on_event(self, event: Any) -> None:
        """Count one event read by the consumer (and sample its lag)."""
        self.read += 1
        if self.read % self.sample_every == 0:
            self.lag_ns.add(time.time_ns() - event.recv_ts)

    async def consume(self) -> None:
        """A consumer that does nothing but read ``events()`` (counted, lag sampled)."""
        on_event = self.on_event
        async for event in self.stream.events():
            on_event(event)

    # -- figures -------------------------------------------------------------------------------
    def counters(self) -> dict[str, Any]:
        """Cumulative counters now."""
        frames = events_handled = resyncs = 0
        errors: Counter[str] = Counter()
        for handler in _handlers(self.stream):
            frames += handler.stats.frames
            errors.update(handler.stats.errors)
            for seq in getattr(handler, "books", {}).values():
                resyncs += seq.resyncs
        connects = sum(conn.stats.connects for conn in _connections(self.stream))
        return {
            "frames": frames,
            "events": self.stream.events_total,
            "read": self.read,
            "dropped": self.stream.dropped,
            "queued": self.stream.queued,
            "resyncs": resyncs,
            "reconnects": max(0, connects - len(_connections(self.stream))),
            "connects": connects,
            "errors": dict(errors),
        }

    def figures(self, seconds: float | None = None) -> dict[str, Any]:
        """Counters plus rates over ``seconds`` and the latency percentiles (µs)."""
        out: dict[str, Any] = {"stream": self.name, "architecture": self.architecture, **self.counters()}
        if seconds:
            out["frames_per_s"] = out["frames"] / seconds
            out["events_per_s"] = out["events"] / seconds
        us = lambda d: {k: (v / 1000 if v is not None else None) for k, v in d.items()}  # noqa: E731
        out["handler_us"] = us(percentiles(self.handler_ns.values))
        out["queue_lag_us"] = us(percentiles(self.lag_ns.values))
        return out


def resources() -> dict[str, int]:
    """``rss`` (bytes), ``fds``, ``sockets`` (fds that are sockets) and ``tasks`` (asyncio,
    when called on a running loop) of this process (Linux ``/proc``)."""
    rss = 0
    try:
        with open("/proc/self/statm") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        pass
    fds = sockets = 0
    try:
        for fd in os.listdir("/proc/self/fd"):
            fds += 1
            try:
                if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                    sockets += 1
            except OSError:
                pass
    except OSError:
        pass
    try:
        tasks = len(asyncio.all_tasks())
    except RuntimeError:
        tasks = 0
    return {"rss": rss, "fds": fds, "sockets": sockets, "tasks": tasks}


class Sampler:
    """Once every ``interval`` s: elapsed s, :func:`resources` and each probe's frames and
    events; :attr:`samples` is the time series the report plots (a list of dicts).

    The samples are kept in columns allocated at once for ``capacity`` samples (more are still
    kept, in columns that grow): a soak measures this process's RSS, so its own record of the
    run must not grow with it (a row of dicts a second is about 2.5 kB, over a megabyte in ten
    minutes)."""

    SCALARS = (("t", "d"), ("cpu", "d"), ("rss", "q"), ("fds", "q"), ("sockets", "q"), ("tasks", "q"))
    COUNTERS = ("frames", "events", "read", "dropped", "queued", "reconnects", "resyncs")

    def __init__(self, probes: list[StreamProbe], interval: float = 1.0, capacity: int = 1024) -> None:
        self.probes = probes
        self.interval = interval
        self._n = 0
        self._columns = {name: array(code, bytes(8 * capacity)) for name, code in self.SCALARS}
        self._columns.update({(key, p.name): array("q", bytes(8 * capacity)) for key in self.COUNTERS for p in probes})
        self._task: asyncio.Task | None = None
        self._t0 = 0.0

    def _row(self, i: int) -> dict[str, Any]:
        cols = self._columns
        row: dict[str, Any] = {name: cols[name][i] for name, _ in self.SCALARS}
        for key in self.COUNTERS:
            row[key] = {p.name: cols[key, p.name][i] for p in self.probes}
        return row

    @property
    def samples(self) -> list[dict[str, Any]]:
        """Every sample so far, oldest first: ``t`` (s since :meth:`start`), ``cpu`` (process
        time, s), ``rss`` (bytes), ``fds``, ``sockets``, ``tasks`` and per counter a dict of
        stream name -> value."""
        return [self._row(i) for i in range(self._n)]

    def sample(self) -> dict[str, Any]:
        """Take one sample now; the sample."""
        now = {"t": time.monotonic() - self._t0, "cpu": time.process_time(), **resources()}
        i = self._n
        cols = self._columns
        for name, _ in self.SCALARS:
            col = cols[name]
            if i < len(col):
                col[i] = now[name]
            else:
                col.append(now[name])
        for p in self.probes:
            c = p.counters()
            for key in self.COUNTERS:
                col = cols[key, p.name]
                if i < len(col):
                    col[i] = c[key]
                else:
                    col.append(c[key])
        self._n = i + 1
        return self._row(i)

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="cexfeed-soak-sampler")

    async def stop(self) -> None:
        """The last sample (taken while the sampler's own task still counts), then stop."""
        if self._task is None:
            return
        self.sample()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
