"""Every venue in one process against the simulator (:mod:`cexfeed.sim`), over real sockets.

:func:`every_venue`: Gate.io spot, Gate.io perpetuals and MEXC spot market streams, some on the
direct handlers and some on the strategy path (:data:`STREAMS`), plus the account streams the
simulator serves (:mod:`cexfeed.soak.accounts`), each read by a consumer that does nothing but
``async for e in stream.events()``. While they run, a fault on one venue at a time (sockets
aborted, an update id skipped, a malformed frame, an error frame): the faulted venue must
recover, and every stream of the other venues must not notice (no reconnect, no resync, no
error counted, the same sockets). At the end the market is paused and every book is compared
level by level with the simulator's, every account with its ledger.

:func:`reconnects`: ``count`` forced reconnects in a row (every venue's sockets aborted at
once), each followed by the check of every book against the simulator; the process's sockets,
file descriptors and tasks are the same before and after.
"""

from __future__ import annotations

import asyncio
import logging
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from .probe import Sampler, StreamProbe, resources

log = logging.getLogger("cexfeed.soak")


@dataclass
class StreamSpec:
    """One market stream of the run: ``venue``, unified ``symbols``, ``channels``, ``architecture``."""

    venue: str
    symbols: list[str]
    channels: list[str]
    architecture: str = "direct"

    @property
    def name(self) -> str:
        return f"{self.venue} {self.architecture}"


STREAMS = [
    StreamSpec("gateio-spot", ["BTC/USDT", "ETH/USDT"], ["book", "trades", "bbo", "ticker"], "direct"),
    StreamSpec("gateio-spot", ["SOL/USDT"], ["book", "trades"], "strategy"),
    StreamSpec("gateio-perp", ["BTC/USDT:USDT", "ETH/USDT:USDT"], ["book", "trades", "bbo", "ticker"], "strategy"),
    StreamSpec("gateio-perp", ["SOL/USDT:USDT"], ["book", "trades"], "direct"),
    StreamSpec("mexc-spot", ["BTC/USDT", "ETH/USDT"], ["book", "trades", "bbo"], "direct"),
    StreamSpec("mexc-spot", ["SOL/USDT", "DOGE/USDT"], ["book", "trades"], "strategy"),
]
VENUES = ("gateio-spot", "gateio-perp", "mexc-spot")


def _fast_backoff():
    from ..net.backoff import Backoff

    return Backoff(initial=0.05, cap=0.5)


@dataclass
class Run:
    """The streams of one run and their probes."""

    sim: Any
    feeds: list[tuple[StreamSpec, Any, StreamProbe]] = field(default_factory=list)
    accounts: list[tuple[str, Any, StreamProbe]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    consumers: list[asyncio.Task] = field(default_factory=list)

    @property
    def probes(self) -> list[StreamProbe]:
        return [p for _, _, p in self.feeds] + [p for _, _, p in self.accounts]

    async def open(self, streams: list[StreamSpec], with_accounts: bool = True) -> None:
        from ..architecture import open_feed
        from . import accounts as account_setups

        sim = self.sim
        for spec in streams:
            feed = open_feed(spec.venue, spec.symbols, spec.channels, architecture=spec.architecture, url=sim.ws_url(spec.venue),
                             rest_url=sim.rest_url(spec.venue), reconnect_backoff=_fast_backoff, ack_timeout=5.0)
            probe = StreamProbe(feed, spec.name, spec.architecture).instrument()
            self.feeds.append((spec, feed, probe))
            self.consumers.append(asyncio.ensure_future(probe.consume()))
        for _, feed, _ in self.feeds:
            acks = await feed.start(timeout=15)
            if not acks or not all(a.ok for a in acks):
                raise RuntimeError(f"{feed.venue}: subscriptions not acknowledged: {acks}")
        if not with_accounts:
            return
        venues, self.skipped = account_setups.available(sim)
        for i, venue in enumerate(venues):
            from ..private_feed import Account

            setup = account_setups.SETUPS[venue]
            architecture = "direct" if i % 2 == 0 else "strategy"
            account = Account(venue, setup.credentials(), url=sim.ws_url(venue), rest_url=sim.rest_url(venue), reconnect_backoff=_fast_backoff,
                              architecture=architecture, ack_timeout=5.0, symbols=list(setup.symbols))
            status = await account.start(15.0)
            if status != "live":
                raise RuntimeError(f"{venue} account: {status}")
            probe = StreamProbe(account, f"{venue} account {architecture}", architecture).instrument()
            self.accounts.append((venue, account, probe))
            self.consumers.append(asyncio.ensure_future(probe.consume()))

    async def close(self) -> None:
        for _, stream, _ in self.feeds + self.accounts:  # type: ignore[operator]
            await stream.close()
        for task in self.consumers:
            try:
                await asyncio.wait_for(task, 5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                task.cancel()

    async def books_right(self, timeout: float = 15.0) -> list[str]:
        """Pause the market, wait until every book has caught up with the simulator, compare
        them level by level; the differences ([] = every book right). Resumes the market."""
        from ..sim.testing import sim_levels, sim_update_id, wait_until

        sim = self.sim
        sim.pause()
        try:
            def caught_up() -> bool:
                return all(feed.synced(s) and feed.book(s).last_update_id == sim_update_id(sim, s.split(":")[0], spec.venue)
                           for spec, feed, _ in self.feeds for s in spec.symbols)

            await wait_until(caught_up, timeout)
            wrong = []
            for spec, feed, _ in self.feeds:
                for symbol in spec.symbols:
                    name = symbol.split(":")[0]
                    book = feed.book(symbol)
                    if book is None or not feed.synced(symbol):
                        wrong.append(f"{spec.name} {symbol}: not synced")
                        continue
                    bids, asks = sim_levels(sim, name, venue=spec.venue)
                    if book.last_update_id != sim_update_id(sim, name, spec.venue):
                        wrong.append(f"{spec.name} {symbol}: id {book.last_update_id} != {sim_update_id(sim, name, spec.venue)}")
                    elif book.top_bids() != bids[: book.bid_count] or book.top_asks() != asks[: book.ask_count] or not book.bid_count:
                        wrong.append(f"{spec.name} {symbol}: levels differ from the simulator's")
            return wrong
        finally:
            sim.resume()

    def accounts_right(self) -> list[str]:
        from . import accounts as account_setups

        wrong = []
        for venue, account, _ in self.accounts:
            wrong += [f"{venue} account: {w}" for w in account_setups.SETUPS[venue].check(account, self.sim.venues[venue].private)]
        return wrong


def _snapshot(run: Run) -> dict[str, dict[str, Any]]:
    out = {}
    for probe in run.probes:
        c = probe.counters()
        conns = [id(conn) for conn in (probe.stream.connections if hasattr(probe.stream, "connections") else [probe.stream.connection])]
        out[probe.name] = {"reconnects": c["reconnects"], "resyncs": c["resyncs"], "errors": sum(c["errors"].values()), "sockets": conns}
    return out


async def _fault(run: Run, venue: str, symbol: str) -> None:
    sim = run.sim
    sim.skip_update(symbol, venue)
    await asyncio.sleep(0.3)
    await sim.send_malformed(venue)
    await sim.send_error_frame(venue)
    await asyncio.sleep(0.3)
    sim.drop_connections(venue)


async def _recovered(run: Run, venue: str, before: dict, timeout: float = 15.0) -> float:
    """Seconds until every stream of ``venue`` has reconnected (after the drop) and every
    book of it is synced, every account of it live again."""
    from ..sim.testing import wait_until

    t0 = time.monotonic()
    mine = [(spec, stream, probe) for spec, stream, probe in run.feeds if spec.venue == venue]
    mine += [(None, account, probe) for v, account, probe in run.accounts if v == venue]

    def done() -> bool:
        for spec, stream, probe in mine:
            if probe.counters()["reconnects"] <= before[probe.name]["reconnects"]:
                return False
            if spec is None:
                if stream.status != "live" or not stream.connection.connected:
                    return False
            elif not all(c.connected for c in stream.connections) or not all(stream.synced(s) for s in spec.symbols):
                return False
        return True

    ok = await wait_until(done, timeout, interval=0.005)
    return time.monotonic() - t0 if ok else float("nan")


async def every_venue(duration: float = 20.0, rate: float = 20.0, seed: int = 7, streams: list[StreamSpec] | None = None) -> dict[str, Any]:
    """The every-venue run (module docstring): returns figures per stream, the cross-talk
    table, the book and account checks, and the samples of rate and resources."""
    from ..sim import SimServer

    sim = SimServer(seed=seed, rate=rate, venues=list(VENUES))
    await sim.start()
    run = Run(sim)
    rng = random.Random(seed)
    result: dict[str, Any] = {"duration": duration, "sim_rate": rate}
    sampler: Sampler | None = None
    try:
        await run.open(streams or STREAMS)
        sampler = Sampler(run.probes, 1.0, capacity=int(duration) + 16)
        sampler.start()
        t0 = time.monotonic()
        driver = asyncio.ensure_future(_drive(run, rng))
        crosstalk = []
        # a fault on each venue in turn, in the middle third of the run
        await asyncio.sleep(duration / 3)
        for venue in VENUES:
            before = _snapshot(run)
            symbol = next(s for spec, _, _ in run.feeds if spec.venue == venue for s in spec.symbols).split(":")[0]
            await _fault(run, venue, symbol)
            recover_s = await _recovered(run, venue, before)  # from the drop, the last of the faults
            await asyncio.sleep(0.5)
            after = _snapshot(run)
            others = {}
            for name, b in before.items():
                a = after[name]
                if name.startswith(venue + " "):
                    continue
                others[name] = {k: (a[k] - b[k] if k != "sockets" else a[k] == b[k]) for k in b}
            faulted = {name: {k: after[name][k] - before[name][k] for k in ("reconnects", "resyncs", "errors")}
                       for name in before if name.startswith(venue + " ")}
            clean = all(d["reconnects"] == 0 and d["resyncs"] == 0 and d["errors"] == 0 and d["sockets"] for d in others.values())
            crosstalk.append({"venue": venue, "recover_s": recover_s, "faulted": faulted, "others": others, "no_crosstalk": clean})
        remaining = duration - (time.monotonic() - t0)
        if remaining > 0:
            await asyncio.sleep(remaining)
        driver.cancel()
        try:
            await driver
        except asyncio.CancelledError:
            pass
        elapsed = time.monotonic() - t0
        await sampler.stop()
        result["books_wrong"] = await run.books_right()
        await asyncio.sleep(0.5)
        result["accounts_wrong"] = run.accounts_right()
        result["crosstalk"] = crosstalk
        result["streams"] = [p.figures(elapsed) for p in run.probes]
        result["accounts_skipped"] = run.skipped
        result["samples"] = sampler.samples
        result["elapsed"] = elapsed
    finally:
        if sampler is not None:
            await sampler.stop()
        await run.close()
        await sim.stop()
    return result


async def _drive(run: Run, rng: random.Random) -> None:
    from . import accounts as account_setups

    step = 0
    while True:
        for venue, _, _ in run.accounts:
            try:
                await account_setups.SETUPS[venue].drive(run.sim.venues[venue].private, rng, step)
            except ValueError as exc:  # an action the ledger refuses (e.g. not enough balance): skipped
                log.debug("%s: ledger refused %s", venue, exc)
        step += 1
        await asyncio.sleep(0.4)


async def reconnects(count: int = 100, rate: float = 20.0, seed: int = 11, streams: list[StreamSpec] | None = None) -> dict[str, Any]:
    """``count`` forced reconnects in a row (module docstring). Returns per cycle the seconds
    until every stream had reconnected and every book resynced, the books found wrong, and
    the process's resources before and after."""
    from ..sim import SimServer
    from ..sim.testing import wait_until

    sim = SimServer(seed=seed, rate=rate, venues=list(VENUES))
    await sim.start()
    run = Run(sim)
    cycles: list[float] = []
    wrong: list[str] = []
    try:
        await run.open(streams or STREAMS, with_accounts=False)
        await wait_until(lambda: all(feed.synced(s) for spec, feed, _ in run.feeds for s in spec.symbols), 15)
        wrong += await run.books_right()
        await asyncio.sleep(0.2)
        before = resources()
        for i in range(count):
            connects = {id(feed): sum(c.stats.connects for c in feed.connections) for _, feed, _ in run.feeds}
            t0 = time.monotonic()
            sim.drop_connections()

            def back() -> bool:
                return all(sum(c.stats.connects for c in feed.connections) > connects[id(feed)] and all(c.connected for c in feed.connections)
                           and all(feed.synced(s) for s in spec.symbols) for spec, feed, _ in run.feeds)

            ok = await wait_until(back, 20)
            cycles.append(time.monotonic() - t0 if ok else float("nan"))
            found = await run.books_right()
            wrong += [f"cycle {i + 1}: {w}" for w in found]
        await asyncio.sleep(0.3)
        after = resources()
        figures = [p.figures() for p in run.probes]
    finally:
        await run.close()
        await sim.stop()
    done = [c for c in cycles if c == c]
    return {
        "count": count, "cycles": cycles, "recovered": len(done), "books_wrong": wrong,
        "median_s": statistics.median(done) if done else None, "max_s": max(done) if done else None,
        "before": before, "after": after, "streams": figures,
    }
