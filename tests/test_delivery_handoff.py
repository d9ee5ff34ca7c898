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


class _Frame:
    def __init__(self, payload: bytes) -> None:
        from picows import WSMsgType

        self.msg_type = WSMsgType.TEXT
        self.fin = True
        self._payload = payload

    def get_payload_as_bytes(self) -> bytes:
        return self._payload


class _Underlying:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


class _Transport:
    is_disconnected = False

    def __init__(self) -> None:
        self.underlying_transport = _Underlying()


class _Handler:
    def __init__(self) -> None:
        self.got: list[bytes] = []

    def _handle_message(self, payload: bytes, recv_ts: int) -> None:
        self.got.append(payload)


class _Conn:
    def __init__(self) -> None:
        self.handler = _Handler()
        self.tap = None
        self.tap_id = 0
        self._last_rx_ns = 0


async def test_a_large_read_is_handled_over_several_loop_turns_in_order():
    """One socket read of many frames: FRAMES_PER_TURN handled at once, the rest in later loop
    turns (the consumer reads in between), in arrival order; past MAX_PENDING waiting frames the
    socket is not read until they are handled; frames still waiting when the socket goes are
    handled before the connection resets its books."""
    from cexfeed.net import listener as L

    conn = _Conn()
    listener = L._Listener(conn)
    transport = _Transport()
    listener.on_ws_connected(transport)
    total = L.MAX_PENDING + 3 * L.FRAMES_PER_TURN
    for i in range(total):  # one read: every frame arrives in the same loop turn
        listener.on_ws_frame(transport, _Frame(b"%d" % i))
    got = conn.handler.got
    assert len(got) == L.FRAMES_PER_TURN
    assert transport.underlying_transport.calls == ["pause"]
    turns = 0
    while len(got) < total:
        await asyncio.sleep(0)
        turns += 1
        assert turns < 10 * total // L.FRAMES_PER_TURN
    assert got == [b"%d" % i for i in range(total)]
    assert turns >= total // L.FRAMES_PER_TURN - 1
    assert transport.underlying_transport.calls == ["pause", "resume"]
    # the next turn hands new frames over at once again
    await asyncio.sleep(0)
    listener.on_ws_frame(transport, _Frame(b"next"))
    assert got[-1] == b"next"
    # frames waiting when the socket goes are handled then, in order
    await asyncio.sleep(0)
    for i in range(L.FRAMES_PER_TURN + 5):
        listener.on_ws_frame(transport, _Frame(b"late%d" % i))
    assert len(got) == total + 1 + L.FRAMES_PER_TURN
    listener.on_ws_disconnected(transport)
    assert got[-5:] == [b"late%d" % i for i in range(L.FRAMES_PER_TURN, L.FRAMES_PER_TURN + 5)]
    await asyncio.sleep(0)
    assert len(got) == total + 1 + L.FRAMES_PER_TURN + 5


async def test_handoff_bench_rows_read_every_event():
    """The bench row (cexfeed.bench.handoff) on real frames: every consumer kind of the new
    hand-off reads every event the handler produced, nothing dropped (figures are the bench's)."""
    from cexfeed.bench import handoff

    r = await handoff.micro(per_turns=(16, 64), frames=600, rounds=1)
    assert [block["label"] for block in r["rows"]] == ["Gate spot trade", "Gate spot trade", "Gate spot book update 20x20", "Gate spot book update 20x20"]
    for block in r["rows"]:
        for consumer in ("callback", "events", "batches"):
            row = block["consumers"][consumer]
            assert row["read"] == row["events"] >= 600 and row["dropped"] == 0, (block["label"], consumer, row)


async def test_a_slow_consumer_gives_the_read_loop_a_turn_every_few_hundred_events():
    """A consumer that works synchronously on each event still lets the read loop run (at
    least every YIELD_EVERY events), so it cannot keep the socket from being read."""
    from cexfeed import delivery

    d = Delivery(queue_size=10_000)
    for i in range(3 * delivery.YIELD_EVERY):
        d._dispatch(trade(i))
    loop_turns: list[int] = []
    read = 0

    def read_loop_turn():
        loop_turns.append(read)
        if read < 3 * delivery.YIELD_EVERY:
            asyncio.get_running_loop().call_soon(read_loop_turn)

    asyncio.get_running_loop().call_soon(read_loop_turn)
    async for _ in d.events():
        read += 1
        if read == 3 * delivery.YIELD_EVERY:
            break
    # the read loop ran while the consumer was working through the queue, not only after
    assert any(0 < n < 3 * delivery.YIELD_EVERY for n in loop_turns), loop_turns
