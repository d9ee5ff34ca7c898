"""``cexfeed run``: 3 worker processes share Gate spot, Gate perpetual and MEXC spot from the
simulator, publishing to a real redis-server; 2 consumer groups read every stream. A worker is
killed mid-stream: the supervisor restarts it, its books resync, and the consumers end with
every book equal to the simulator's and every trade id once, the only missing ones inside the
documented window (from the kill to the restarted worker's start notice)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time

import pytest

from brokers import redis_server  # noqa: F401  (fixture)
from cexfeed.cluster import config as cfg
from cexfeed.models import BookUpdate, Trade
from cexfeed.sim import SimServer
from cexfeed.sim.testing import sim_levels, wait_until
from cexfeed.sinks import BookMirror, SinkGap
from cexfeed.sinks.codec import source
from cexfeed.sinks.redis_streams import RedisStreamReader
from cexfeed.tasks import cancel_and_wait

BASES = ["BTC", "ETH", "SOL", "DOGE"]
SOURCES = {"gateio-spot": [f"{b}/USDT" for b in BASES], "gateio-perp": [f"{b}/USDT:USDT" for b in BASES],
           "mexc-spot": [f"{b}/USDT" for b in BASES]}


def trade_number(event: Trade) -> int:
    # Gate: the simulator's global trade id; MEXC: "<n>X0_<n+1>X0", n stepping by 2
    return int(event.trade_id.split("X")[0])


STEP = {"gateio-spot": 1, "gateio-perp": 1, "mexc-spot": 2}


def write_config(path, sim, url) -> None:
    lines = [f'[sink]\nurl = "{url}"\nencoding = "msgpack"\nprefix = "run"\nmaxlen = 0\nbuffer = 50000\n',
             "[cluster]\nworkers = 3\nrestart_delay = 0.2\nrestart_delay_max = 1.0\n"]
    for name, symbols in SOURCES.items():
        lines.append(f'[[feed]]\nvenue = "{name}"\nsymbols = {symbols!r}\nchannels = ["book", "trades"]\n'
                     f'url = "{sim.ws_url(name)}"\nrest_url = "{sim.rest_url(name)}"\n'.replace("'", '"'))
        if name == "gateio-perp":
            lines.append("protocol_options = { book_level = 20 }\n")
    path.write_text("\n".join(lines))


class Consumer:
    """One consumer group's reader, collecting (stream, event, read time) and a book mirror."""

    def __init__(self, url: str, group: str) -> None:
        self.reader = RedisStreamReader(url, group, f"{group}-1", pattern="run:*", rescan=0.5, block_ms=200)
        self.entries: list[tuple[str, object]] = []
        self.mirror = BookMirror()
        self.task: asyncio.Task | None = None

    async def run(self) -> None:
        while True:
            batch = await self.reader.read()
            for stream, _, event in batch:
                self.entries.append((stream, event))
                self.mirror.on_event(event)
            await self.reader.ack(batch)

    def start(self) -> None:
        self.task = asyncio.ensure_future(self.run())

    async def stop(self) -> None:
        # one cancel() could be lost in redis-py on Python 3.11 and the loop then read on for
        # ever: the hang this test had under load (tests/test_cancel_lost.py)
        assert self.task is not None
        assert await cancel_and_wait(self.task, 10), "the consumer's read loop did not stop"
        await asyncio.wait_for(self.reader.close(), 10)

    def events(self, kind):
        return [e for _, e in self.entries if isinstance(e, kind)]

    def all_synced(self) -> bool:
        return all(self.mirror.synced(name.split("-")[0], s) for name, symbols in SOURCES.items() for s in symbols)

    def trades_from_all(self) -> bool:
        seen = {(source(e), e.symbol) for e in self.events(Trade)}
        return all((name, s) in seen for name, symbols in SOURCES.items() for s in symbols)

    def starts(self, name: str, symbol: str, channel: str) -> list[SinkGap]:
        return [e for e in self.events(SinkGap) if source(e) == name and e.symbol == symbol and e.channel == channel and e.reason == "start"]


# a deadline: the test fails, never hangs (its own waits add up to about 3 min at most; the
# pytest-timeout mark is the last resort should the event loop itself be stuck)
DEADLINE = 240


@pytest.mark.timeout(DEADLINE + 60)
async def test_three_workers_two_groups_kill_one_worker(tmp_path, redis_server):
    async with asyncio.timeout(DEADLINE):
        await _three_workers_two_groups_kill_one_worker(tmp_path, redis_server)


async def _three_workers_two_groups_kill_one_worker(tmp_path, redis_server):
    sim = SimServer(seed=21, rate=15, venues=list(SOURCES))
    await sim.start()
    config_path = tmp_path / "run.toml"
    write_config(config_path, sim, redis_server.url + "/0")
    plan = cfg.plan(cfg.load(config_path))
    killed_keys = {(f.spec.venue, s) for f in plan[1].feeds for s in f.symbols}
    assert len(killed_keys) == 4 and len(plan) == 3

    supervisor = await asyncio.create_subprocess_exec(sys.executable, "-m", "cexfeed", "run", str(config_path),
                                                      stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    lines: list[str] = []

    async def read_lines():
        assert supervisor.stdout is not None
        async for raw in supervisor.stdout:
            lines.append(raw.decode().strip())

    line_task = asyncio.ensure_future(read_lines())
    consumers = [Consumer(redis_server.url + "/0", "g1"), Consumer(redis_server.url + "/0", "g2")]
    for consumer in consumers:
        consumer.start()
    try:
        assert await wait_until(lambda: all(c.all_synced() and c.trades_from_all() for c in consumers), 40), \
            (lines, [sorted(k for k, v in c.mirror.live.items() if v) for c in consumers])
        pids = {int(m.group(1)): int(m.group(2)) for m in (re.match(r"shard (\d) pid (\d+) started", line) for line in lines) if m}
        assert sorted(pids) == [0, 1, 2]
        await asyncio.sleep(0.5)

        kill_ms = time.time_ns() // 1_000_000
        os.kill(pids[1], signal.SIGKILL)
        assert await wait_until(lambda: any(line.startswith(f"shard 1 pid {pids[1]} exited") for line in lines), 10), lines
        assert await wait_until(lambda: sum(1 for line in lines if line.startswith("shard 1 pid") and "started" in line) == 2, 10), lines

        # the new worker opens each of its streams with a start notice, then fresh books
        def recovered(c: Consumer) -> bool:
            return all(len(c.starts(name, s, "trade")) == 2 and len(c.starts(name, s, "book")) == 2 for name, s in killed_keys) \
                and c.all_synced()

        assert await wait_until(lambda: all(recovered(c) for c in consumers), 40), lines
        await asyncio.sleep(1.0)

        # stop the market; every consumer catches up with the simulator's book ids
        sim.pause()

        def caught_up(c: Consumer) -> bool:
            return all(c.mirror.synced(name.split("-")[0], s)
                       and c.mirror.books[(name.split("-")[0], s)].last_update_id == sim.market_of(name).books[s.split(":")[0]].update_id
                       for name, symbols in SOURCES.items() for s in symbols)

        assert await wait_until(lambda: all(caught_up(c) for c in consumers), 20)
    finally:
        try:
            for consumer in consumers:
                await consumer.stop()
        finally:
            if supervisor.returncode is None:
                supervisor.send_signal(signal.SIGTERM)
            try:
                rc = await asyncio.wait_for(supervisor.wait(), 30)
                await asyncio.wait_for(line_task, 5)
            finally:
                if supervisor.returncode is None:  # never leave the run (and its workers) behind
                    supervisor.kill()
                await asyncio.wait_for(sim.stop(), 10)
    assert rc == 0
    assert lines[-1] == "restarts: shard 0 0, shard 1 1, shard 2 0", lines

    for consumer in consumers:
        check_consumer(consumer, sim, killed_keys, kill_ms)
    # both groups saw the same events
    assert [e for _, e in consumers[0].entries if not isinstance(e, SinkGap)].__len__() == \
        [e for _, e in consumers[1].entries if not isinstance(e, SinkGap)].__len__()


def check_consumer(consumer: Consumer, sim: SimServer, killed_keys: set, kill_ms: int) -> None:
    # books: equal to the simulator's, for every venue and symbol
    for name, symbols in SOURCES.items():
        for symbol in symbols:
            bids, asks = sim_levels(sim, symbol.split(":")[0], venue=name)
            book = consumer.mirror.book(name.split("-")[0], symbol)
            assert book is not None and book.top_bids() == bids and book.top_asks() == asks, (name, symbol)
    # a restarted shard's symbols got a second snapshot; the others exactly one, no restart notice
    snapshots: dict = {}
    for event in consumer.events(BookUpdate):
        if event.snapshot:
            snapshots[(source(event), event.symbol)] = snapshots.get((source(event), event.symbol), 0) + 1
    for name, symbols in SOURCES.items():
        for symbol in symbols:
            killed = (name, symbol) in killed_keys
            assert snapshots[(name, symbol)] == (2 if killed else 1), (name, symbol, snapshots)
            assert len(consumer.starts(name, symbol, "trade")) == (2 if killed else 1)

    # trades: per stream in increasing order, no id twice; missing ids only inside the window
    back_ms = 0
    gaps = 0
    for name, symbol in killed_keys:
        restart = consumer.starts(name, symbol, "trade")[1]
        after = [e for e in consumer.events(Trade) if source(e) == name and e.symbol == symbol and e.recv_ts > restart.recv_ts]
        assert after, (name, symbol)
        back_ms = max(back_ms, after[0].exchange_ts)
    for name, symbols in SOURCES.items():
        trades = [e for e in consumer.events(Trade) if source(e) == name]
        numbers = [trade_number(t) for t in trades]
        assert len(numbers) == len(set(numbers)), f"{name}: a trade id twice"
        for symbol in symbols:
            mine = [trade_number(t) for t in trades if t.symbol == symbol]
            assert mine == sorted(mine), (name, symbol)
        # from the point every symbol of the venue was flowing to the last trade
        first = max(min(trade_number(t) for t in trades if t.symbol == s) for s in symbols)
        by_number = {trade_number(t): t for t in trades}
        seen = sorted(n for n in by_number if n >= first)
        step = STEP[name]
        missing = [n for a, b in zip(seen, seen[1:]) for n in range(a + step, b, step)]
        for n in missing:
            lo = by_number[max(k for k in seen if k < n)]
            hi = by_number[min(k for k in seen if k > n)]
            # inside the window: between the kill and the restarted worker's first trade
            assert kill_ms - 1500 <= lo.exchange_ts and hi.exchange_ts <= back_ms + 1500, (name, n, lo, hi, kill_ms, back_ms)
        if any(k[0] == name for k in killed_keys):
            gaps += bool(missing)
        else:
            assert not missing
    # the killed worker's trades during its restart cannot have been seen (on a venue that had
    # any in that window: a quiet symbol may have none)
    assert gaps, "no trade was missed while a worker was down: the kill did not test the window"
