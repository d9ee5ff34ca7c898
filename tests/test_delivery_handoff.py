"""The hand-off to the consumer (``cexfeed.delivery``): every event queued during one read-loop
turn is taken by the consumer in one wake-up, in order, without an await between them; the
oldest go first on overflow and the next read says so; ``close()`` ends a waiting consumer
after what is queued; ``batches()`` gives the same events a list at a time. No network."""

from __future__ import annotations

import asyncio

from cexfeed.delivery import EventDelivery
from cexfeed.models import BookUpdate, EventsDropped, Trade

HEAD = dict(venue="gateio", market="spot", exchange_ts=1, recv_ts=2)


class _Protocol:
    class table:
        venue = "gateio"
        market = "spot"


class Delivery(EventDelivery):
    protocol = _Protocol()

    def __init__(self, queue_size: int = 100) -> None:
        self._init_delivery(None, queue_size)
        self.waits = 0

    async def _wait(self) -> bool:
        self.waits += 1
        return await super()._wait()

    async def close(self) -> None:
        self._closed = True


def trade(i: int) -> Trade:
    return Trade(symbol="BTC/USDT", venue_symbol="BTC_USDT", price=1.0 + i, size=1.0, side="buy", trade_id=str(i), **HEAD)


def book(i: int) -> BookUpdate:
    return BookUpdate(symbol="ETH/USDT", venue_symbol="ETH_USDT", bids=[(1.0, float(i))], asks=[], snapshot=False, first_update_id=i,
                      last_update_id=i, **HEAD)


async def test_one_wake_up_per_read_loop_turn():
    d = Delivery(queue_size=10_000)
    loop = asyncio.get_running_loop()
    got: list[str] = []
    turns = 10
    per_turn = 100

    async def consume():
        async for event in d.events():
            got.append(event.trade_id)

    task = loop.create_task(consume())
    await asyncio.sleep(0)
    for turn in range(turns):
        for i in range(per_turn):
            d._dispatch(trade(turn * per_turn + i))
        await asyncio.sleep(0)  # the read loop gives the loop back after each socket read
    await d.close()
    await asyncio.wait_for(task, 5)
    assert got == [str(i) for i in range(turns * per_turn)]
    # one wait before the first turn, one per turn, and the last one that sees the close
    assert d.waits <= turns + 2
    assert d.queued == 0 and d.dropped == 0 and d.events_total == turns * per_turn


async def test_overflow_drops_the_oldest_and_the_next_read_says_so():
    d = Delivery(queue_size=4)
    for i in range(10):
        d._dispatch(book(i) if i % 3 == 0 else trade(i))
    assert d.queued == 4 and d.dropped == 6
    events = d.events()
    notice = await events.__anext__()
    assert isinstance(notice, EventsDropped) and (notice.count, notice.total, notice.books) == (6, 6, ["ETH/USDT"])
    kept = [await events.__anext__() for _ in range(4)]
    assert [e.last_update_id if isinstance(e, BookUpdate) else int(e.trade_id) for e in kept] == [6, 7, 8, 9]
    # a later overflow while the consumer is between events: the notice comes before the next one
    for i in range(10, 16):
        d._dispatch(trade(i))
    notice = await events.__anext__()
    assert isinstance(notice, EventsDropped) and (notice.count, notice.total, notice.books) == (2, 8, [])
    assert [int((await events.__anext__()).trade_id) for _ in range(4)] == [12, 13, 14, 15]
    await events.aclose()


async def test_close_ends_a_waiting_consumer_after_what_is_queued():
    d = Delivery()
    got: list = []

    async def consume():
        async for event in d.events():
            got.append(event)

    task = asyncio.get_running_loop().create_task(consume())
    await asyncio.sleep(0.01)
    assert not task.done() and d.waits == 1
    d._dispatch(trade(1))
    d._dispatch(trade(2))
    await d.close()
    await asyncio.wait_for(task, 2)
    assert [e.trade_id for e in got] == ["1", "2"]
    # reading a closed delivery returns at once
    assert [e async for e in d.events()] == []


async def test_batches_give_every_queued_event_a_list_at_a_time():
    d = Delivery(queue_size=5)
    for i in range(8):
        d._dispatch(trade(i))
    batches = d.batches(max_events=3)
    first = await batches.__anext__()
    assert isinstance(first[0], EventsDropped) and first[0].count == 3 and [e.trade_id for e in first[1:]] == ["3", "4", "5"]
    assert [e.trade_id for e in await batches.__anext__()] == ["6", "7"]
    waiting = asyncio.ensure_future(batches.__anext__())
    await asyncio.sleep(0.01)
    assert not waiting.done()
    d._dispatch(trade(8))
    d._dispatch(trade(9))
    assert [e.trade_id for e in await asyncio.wait_for(waiting, 2)] == ["8", "9"]
    await d.close()
    assert [b async for b in batches] == []


async def test_two_consumers_both_wake_and_share_the_events():
    d = Delivery()
    got: list[list] = [[], []]

    async def consume(k: int):
        async for event in d.events():
            got[k].append(event.trade_id)
            await asyncio.sleep(0)

    tasks = [asyncio.ensure_future(consume(k)) for k in (0, 1)]
    await asyncio.sleep(0.01)
    for i in range(20):
        d._dispatch(trade(i))
    await asyncio.sleep(0.05)
    await d.close()
    await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert sorted(got[0] + got[1], key=int) == [str(i) for i in range(20)]


async def test_a_cancelled_consumer_leaves_no_waiter_behind():
    d = Delivery()
    task = asyncio.ensure_future(d.events().__anext__())
    await asyncio.sleep(0.01)
    assert len(d._waiters) == 1
    task.cancel()
    await asyncio.sleep(0)
    assert d._waiters == []
    d._dispatch(trade(1))
    assert d.queued == 1
