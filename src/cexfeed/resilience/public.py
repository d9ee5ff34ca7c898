"""Fault scenarios of the market streams (a :class:`~cexfeed.resilience.rig.PublicRig` each).

Each scenario is ``async def scenario(rig, repeat) -> seconds`` : it injects its fault once
(the rig is open unless the fault's row says otherwise), checks that the client reacted as it
should (raises :class:`~cexfeed.resilience.rig.FaultFailed` if not) and returns the time to
recover; the runner then compares the books with the simulator (``rig.check_state``).
"""

from __future__ import annotations

import asyncio
import time

from ..models import REFUSED, RESUBSCRIBED, EventsDropped, StreamStatus, VenueError
from ..sim.testing import wait_until
from . import netfaults
from .rig import HANDSHAKE_TIMEOUT, NO_DATA_TIMEOUT, SUBSCRIPTION_TIMEOUT, FaultFailed, PublicRig
from .spacing import check_spacing

MUTE_S = SUBSCRIPTION_TIMEOUT + 0.8
REFUSE_S = 1.0
LATENCY_S = 0.15
# bytes/s per direction: about 1.3 times what the rig's stream needs on Gate (19 kB/s)
BANDWIDTH = 24_000
SLOW_SNAPSHOT_S = 0.5


def _connects(rig: PublicRig) -> int:
    return sum(c.stats.connects for c in rig.feed.connections)


def _reasons(rig: PublicRig, since: int) -> list[str]:
    return [e.reason for e in rig.connection_events("reconnecting")[since:]]


def rest_symbols(rig: PublicRig) -> list[str]:
    """The symbols whose book comes from a REST snapshot (not an in-band stream)."""
    return [s for s in rig.symbols if s == rig.symbols[0] or rig.setup.second_book == "book"]


async def _reconnect(rig: PublicRig, inject, reason: str | None, timeout: float = 10.0) -> float:
    before = _connects(rig)
    seen = len(rig.connection_events("reconnecting"))
    mark = rig.mark()
    t0 = time.monotonic()
    await inject()
    took = await rig.recovered(mark, t0, timeout)
    if not await wait_until(lambda: _connects(rig) > before, 1.0):
        raise FaultFailed("the connection was not opened again")
    if reason is not None and reason not in _reasons(rig, seen):
        raise FaultFailed(f"reconnect reason {_reasons(rig, seen)}, expected {reason!r}")
    return took


async def tcp_reset(rig: PublicRig, i: int) -> float:
    return await _reconnect(rig, lambda: netfaults.tcp_reset(rig), "dropped")


async def close_frame(rig: PublicRig, i: int) -> float:
    return await _reconnect(rig, lambda: netfaults.close_frame(rig), "closed")


async def reset_mid_frame(rig: PublicRig, i: int) -> float:
    async def inject() -> None:
        resets = rig.proxy.resets
        await rig.proxy.reset(mid_frame=True)
        if rig.proxy.resets == resets:
            raise FaultFailed("no frame to cut")
    return await _reconnect(rig, inject, "dropped")


async def half_open(rig: PublicRig, i: int) -> float:
    drops = sum(c.stats.watchdog_drops for c in rig.feed.connections)
    took = await _reconnect(rig, lambda: netfaults.half_open(rig), "no_data", timeout=NO_DATA_TIMEOUT * 6)
    if sum(c.stats.watchdog_drops for c in rig.feed.connections) <= drops:
        raise FaultFailed("the heartbeat did not notice the half-open connection")
    return took


async def silent_with_pongs(rig: PublicRig, i: int) -> float:
    """The venue pushes nothing but answers pings: each subscription is reported silent
    (``no_data``; books ``stale``), the socket is kept; when the pushes resume the books resync
    (their ids jumped) and are right again. Timed from the end of the silence."""
    conn_drops = sum(c.stats.watchdog_drops for c in rig.feed.connections)
    pongs = sum(c.stats.pongs for c in rig.feed.connections)
    stale_before = {s: rig.statuses(s).count(("stale", "no_data")) for s in rig.symbols}
    rig.sim.mute(MUTE_S, rig.venue)
    await asyncio.sleep(MUTE_S)
    mark = rig.mark()
    t0 = time.monotonic()
    if sum(c.stats.pongs for c in rig.feed.connections) <= pongs:
        raise FaultFailed("no pong while the venue was silent")
    for s in rig.symbols:
        if rig.statuses(s).count(("stale", "no_data")) <= stale_before[s]:
            raise FaultFailed(f"{s}: silence not reported (book statuses {rig.statuses(s)[-4:]})")
    took = await rig.recovered(mark, t0)
    if sum(c.stats.watchdog_drops for c in rig.feed.connections) != conn_drops:
        raise FaultFailed("the connection was dropped although the venue answered pings")
    return took


async def _degraded(rig: PublicRig, switch: str, on, off, what: str) -> float:
    """The proxy's ``switch`` set to ``on`` (then ``off`` again): the books stay synced, no
    reconnect; timed until a push sent after the switch is applied."""
    before = _connects(rig)
    setattr(rig.proxy, switch, on)
    try:
        mark = rig.mark()
        t0 = time.monotonic()
        took = await rig.recovered(mark, t0)
        await asyncio.sleep(NO_DATA_TIMEOUT)
        if _connects(rig) != before:
            raise FaultFailed(f"reconnected under {what}: {_reasons(rig, 0)}")
        problems = await rig.check_state()
        if problems:
            raise FaultFailed(f"books wrong under {what}: {problems}")
        return took
    finally:
        setattr(rig.proxy, switch, off)


async def latency(rig: PublicRig, i: int) -> float:
    """150 ms added each way."""
    return await _degraded(rig, "latency", LATENCY_S, 0.0, "latency")


async def bandwidth(rig: PublicRig, i: int) -> float:
    """The pipe limited to :data:`BANDWIDTH` bytes/s each way."""
    return await _degraded(rig, "bandwidth", BANDWIDTH, None, "the bandwidth limit")


async def _resync(rig: PublicRig, inject, reason: str, symbols: list[str] | None = None) -> float:
    """Inject a book fault on ``symbols`` (default all); each must say ``resyncing``/``reason``,
    resync and come back past the simulator's id at the fault."""
    symbols = symbols or rig.symbols
    counts = {s: rig.statuses(s).count(("resyncing", reason)) for s in symbols}
    before = _connects(rig)
    mark = rig.mark()
    t0 = time.monotonic()
    await inject(symbols)
    took = await rig.recovered(mark, t0)
    for s in symbols:
        if rig.statuses(s).count(("resyncing", reason)) <= counts[s]:
            raise FaultFailed(f"{s}: no resync for {reason} (statuses {rig.statuses(s)[-4:]})")
    if _connects(rig) != before:
        raise FaultFailed("a book fault reconnected the socket")
    return took


async def sequence_gap(rig: PublicRig, i: int) -> float:
    async def inject(symbols: list[str]) -> None:
        for s in symbols:
            rig.sim.skip_update(rig.sim_symbol(s), rig.venue)
    return await _resync(rig, inject, "gap")


async def crossed_book(rig: PublicRig, i: int) -> float:
    async def inject(symbols: list[str]) -> None:
        for s in symbols:
            if await rig.sim.cross_book(rig.sim_symbol(s), rig.venue) != 1:
                raise FaultFailed("the crossing delta was not sent")
    return await _resync(rig, inject, "crossed")


async def full_snapshot(rig: PublicRig, i: int) -> float:
    """An in-band full book mid-stream replaces the book (``synced``/``full``), no resync."""
    counts = {s: rig.statuses(s).count(("synced", "full")) for s in rig.symbols}
    resyncs = {s: rig.feed.sequencer(s).resyncs for s in rig.symbols}
    mark = rig.mark()
    t0 = time.monotonic()
    for s in rig.symbols:
        if await rig.sim.full_snapshot(rig.sim_symbol(s), rig.venue) < 1:
            raise FaultFailed("no full push sent")
    took = await rig.recovered(mark, t0)
    for s in rig.symbols:
        if rig.statuses(s).count(("synced", "full")) <= counts[s]:
            raise FaultFailed(f"{s}: the full push did not replace the book ({rig.statuses(s)[-3:]})")
        if rig.feed.sequencer(s).resyncs != resyncs[s]:
            raise FaultFailed(f"{s}: a full push made the book resync")
    return took


async def _bad_frames(rig: PublicRig, send, kind: str, count: int = 1) -> float:
    """Send bad frames: counted as ``kind`` (``a|b``: either), the socket and books kept."""
    before = _connects(rig)
    kinds = kind.split("|")

    def counted() -> int:
        errors = rig.feed.stats()["errors"]
        return sum(errors.get(k, 0) for k in kinds)
    errors = counted()
    mark = rig.mark()
    t0 = time.monotonic()
    await send()
    took = await rig.recovered(mark, t0)
    if not await wait_until(lambda: counted() >= errors + count, 2.0):
        raise FaultFailed(f"not counted as {kind}: {rig.feed.stats()['errors']}")
    if _connects(rig) != before:
        raise FaultFailed(f"a {kind} frame reconnected the socket")
    return took


async def malformed_frame(rig: PublicRig, i: int) -> float:
    async def send() -> None:
        await rig.sim.send_malformed(rig.venue)
        if rig.venue == "mexc-spot":  # and binary frames that are no protobuf message
            venue = rig.sim.venues[rig.venue]
            await venue.broadcast(venue.garbage_frame())
    return await _bad_frames(rig, send, "malformed", 2 if rig.venue == "mexc-spot" else 1)


async def unknown_channel(rig: PublicRig, i: int) -> float:
    async def send() -> None:
        await rig.sim.send_unknown_channel(rig.venue)
    return await _bad_frames(rig, send, "unknown_channel|unknown_frame")


async def error_frame(rig: PublicRig, i: int) -> float:
    seen = len([e for e in rig.events if isinstance(e, VenueError)])

    async def send() -> None:
        await rig.sim.send_error_frame(rig.venue)
    took = await _bad_frames(rig, send, "venue_error")
    if len([e for e in rig.events if isinstance(e, VenueError)]) <= seen:
        raise FaultFailed("the error frame was not told to the consumer")
    return took


def _trades_channel(rig: PublicRig, symbol: str) -> str:
    venue_symbol = rig.feed.symbol_map.to_venue(symbol) if rig.feed else symbol.split(":")[0].replace("/", "_")
    if rig.venue == "mexc-spot":
        return f"spot@public.aggre.deals.v3.api.pb@100ms@{venue_symbol.replace('_', '')}"
    prefix = "spot" if rig.venue == "gateio-spot" else "futures"
    return f"{prefix}.trades:{venue_symbol}"


async def subscription_refused(rig: PublicRig, i: int) -> float:
    """The venue refuses one stream (trades of the second symbol) at the start: one refused
    ack and one ``VenueError`` for it, every book syncs anyway. Timed from the start."""
    if rig.feed is not None:
        await rig.close_client()
    rig.sim.block("", rig.venue)
    rig.sim.block(_trades_channel(rig, rig.symbols[1]), rig.venue)
    seen = len([e for e in rig.events if isinstance(e, VenueError)])
    t0 = time.monotonic()
    acks = await rig.open()
    took = time.monotonic() - t0
    refused = [a for a in acks if not a.ok]
    if len(refused) != 1 or refused[0].status != "refused":
        raise FaultFailed(f"expected one refused subscription, got {refused}")
    if len([e for e in rig.events if isinstance(e, VenueError)]) != seen + 1:
        raise FaultFailed("the refusal was not told as one VenueError")
    return took


def _book_channel(rig: PublicRig) -> str:
    """The simulator's ``block`` key of the first symbol's (REST-synced) book stream."""
    if rig.venue == "mexc-spot":
        return "spot@public.aggre.depth.v3.api.pb@100ms@" + rig.symbols[0].split(":")[0].replace("/", "")
    return "spot.order_book_update" if rig.venue == "gateio-spot" else "futures.order_book_update"


def _stream_statuses(rig: PublicRig, status: str) -> int:
    return sum(1 for e in rig.events if isinstance(e, StreamStatus) and e.status == status and e.symbol == rig.symbols[0])


async def refused_on_resubscribe(rig: PublicRig, i: int) -> float:
    """The venue accepted the first symbol's book, then refuses it on the replay after a drop:
    it is kept and told (``StreamStatus`` ``refused``, ``BookStatus`` ``stale``/``refused``),
    the other streams recover, and it is asked again with a backoff; once the venue accepts it
    again the book syncs (``resubscribed``). Timed from the venue accepting again."""
    symbol = rig.symbols[0]
    refused, resubscribed = _stream_statuses(rig, REFUSED), _stream_statuses(rig, RESUBSCRIBED)
    stale = rig.statuses(symbol).count(("stale", "refused"))
    rig.sim.block(_book_channel(rig), rig.venue)
    try:
        await rig.proxy.reset()
        if not await wait_until(lambda: _stream_statuses(rig, REFUSED) > refused, 5.0):
            raise FaultFailed("the refusal on the replay was not told")
        if rig.statuses(symbol).count(("stale", "refused")) <= stale:
            raise FaultFailed(f"the refused book was not said stale: {rig.statuses(symbol)[-3:]}")
        if not await wait_until(lambda: rig.feed.synced(rig.symbols[1]), 5.0):
            raise FaultFailed("the other book did not recover")
    finally:
        rig.sim.block("", rig.venue)
    mark = rig.mark()
    t0 = time.monotonic()
    took = await rig.recovered(mark, t0, 5.0)
    if _stream_statuses(rig, RESUBSCRIBED) <= resubscribed:
        raise FaultFailed("no resubscribed status")
    return took


async def upgrade_notice(rig: PublicRig, i: int) -> float:
    async def inject() -> None:
        if await rig.sim.send_upgrade_notice(rig.venue) == 0:
            raise FaultFailed("no upgrade notice sent")
    return await _reconnect(rig, inject, "upgrade")


async def snapshot_failing(rig: PublicRig, i: int) -> float:
    """The next REST snapshots answer 500 while a gap forces a resync: retried while the
    deltas buffer, then synced."""
    symbols = rest_symbols(rig)
    failed = rig.feed.stats()["errors"].get("snapshot_failed", 0)
    rest_failures = rig.feed.rest.failures

    async def inject(symbols: list[str]) -> None:
        rig.sim.fail_snapshots(2 * len(symbols), rig.venue)
        for s in symbols:
            rig.sim.skip_update(rig.sim_symbol(s), rig.venue)
    took = await _resync(rig, inject, "gap", symbols)
    if rig.feed.rest.failures <= rest_failures and rig.feed.stats()["errors"].get("snapshot_failed", 0) <= failed:
        raise FaultFailed("no snapshot failed")
    return took


async def snapshot_slow(rig: PublicRig, i: int) -> float:
    symbols = rest_symbols(rig)

    async def inject(symbols: list[str]) -> None:
        rig.sim.slow_snapshots(SLOW_SNAPSHOT_S, len(symbols), rig.venue)
        for s in symbols:
            rig.sim.skip_update(rig.sim_symbol(s), rig.venue)
    return await _resync(rig, inject, "gap", symbols)


async def snapshot_stale(rig: PublicRig, i: int) -> float:
    """The snapshot is older than the deltas buffered since the gap: refused as too old and
    fetched again."""
    symbols = rest_symbols(rig)
    too_old = rig.feed.stats()["errors"].get("snapshot_too_old", 0)
    rig.sim.stale_snapshots(len(symbols), rig.venue)
    marks = rig.mark()
    if not await wait_until(lambda: all(rig.sim_id(s) > marks[s] + 2 for s in symbols), 3.0):
        raise FaultFailed("the market did not move")

    async def inject(symbols: list[str]) -> None:
        for s in symbols:
            rig.sim.skip_update(rig.sim_symbol(s), rig.venue)
    took = await _resync(rig, inject, "gap", symbols)
    if rig.feed.stats()["errors"].get("snapshot_too_old", 0) < too_old + len(symbols):
        raise FaultFailed(f"a stale snapshot was not refused: {rig.feed.stats()['errors']}")
    return took


async def handshake_cut(rig: PublicRig, i: int) -> float:
    """After a drop the next two handshakes are reset in the middle of the upgrade answer:
    each is reported as a failed attempt (``handshake``) and retried. Timed from the drop."""
    return await _handshake(rig, cut=True)


async def handshake_hang(rig: PublicRig, i: int) -> float:
    """After a drop the handshakes get no answer for a while: each attempt times out after the
    handshake timeout (``timeout``) and is retried. Timed from the drop."""
    return await _handshake(rig, cut=False)


async def _handshake(rig: PublicRig, cut: bool) -> float:
    since = len(rig.connection_events())
    mark = rig.mark()
    t0 = time.monotonic()
    if cut:
        rig.proxy.cut_handshakes = 2
        await rig.proxy.reset()
    else:
        rig.proxy.blackhole = True
        await rig.proxy.reset()
        await asyncio.sleep(HANDSHAKE_TIMEOUT * 2.5)
        rig.proxy.blackhole = False
    try:
        took = await rig.recovered(mark, t0, 10.0)
    finally:
        rig.proxy.cut_handshakes = 0
    failed = [e.reason for e in rig.connection_events()[since:] if e.status == "failed"]
    if ("handshake" if cut else "timeout") not in failed:
        raise FaultFailed(f"failed attempts reported: {failed}")
    return took


async def _refused_connects(rig: PublicRig, since: int) -> list[str]:
    await asyncio.sleep(REFUSE_S)
    events = rig.connection_events()[since:]
    return check_spacing(events, REFUSE_S)


async def refused_at_start(rig: PublicRig, i: int) -> float:
    """Connects refused when the feed starts; the attempts back off (capped, jittered, never
    a hot loop); timed from when connects are accepted again."""
    if rig.feed is not None:
        await rig.close_client()
    since = len(rig.connection_events())
    rig.proxy.refuse()
    start = asyncio.ensure_future(rig.open(timeout=REFUSE_S + 10.0))
    try:
        problems = await _refused_connects(rig, since)
        await rig.proxy.accept()
        t0 = time.monotonic()
        await start
    finally:
        if rig.proxy.refusing:
            await rig.proxy.accept()
    if problems:
        raise FaultFailed("; ".join(problems))
    return time.monotonic() - t0 if rig.all_synced() else await rig.recovered(rig.mark(), t0)


async def refused_on_reconnect(rig: PublicRig, i: int) -> float:
    since = len(rig.connection_events())
    rig.proxy.refuse()
    try:
        await rig.proxy.reset()
        problems = await _refused_connects(rig, since)
    finally:
        mark = rig.mark()
        await rig.proxy.accept()
    t0 = time.monotonic()
    if problems:
        raise FaultFailed("; ".join(problems))
    return await rig.recovered(mark, t0)


async def slow_consumer(rig: PublicRig, i: int) -> float:
    """A consumer of ``events()`` that reads one event per 50 ms while the feed produces far
    more, until 20 were dropped: the read loop keeps going (frames handled, books synced, no reconnect), the queue
    drops the oldest (counted), the consumer is told (``EventsDropped``) and catches up. Timed
    from when the consumer reads at full speed until it has caught up."""
    feed = rig.feed
    if feed is None or feed._on_event is not None:
        await rig.close_client()
        await rig.open(on_event=None, queue_size=50)
        feed = rig.feed
    before = _connects(rig)
    dropped_at_start = feed.dropped
    dropped = feed.dropped - feed._lost  # dropped and already told before this repeat
    frames = feed.stats()["frames"]
    told: list[EventsDropped] = []
    events = feed.events()
    loop = asyncio.get_running_loop()
    until = loop.time() + 4.0
    while feed.dropped < dropped_at_start + 20 and loop.time() < until:  # until a good many went
        event = await events.__anext__()
        if isinstance(event, EventsDropped):
            told.append(event)
        await asyncio.sleep(0.05)
    if feed.dropped <= dropped_at_start:
        raise FaultFailed("the queue never overflowed")
    if feed.stats()["frames"] - frames < 20:
        raise FaultFailed("the read loop stalled behind the consumer")
    t0 = time.monotonic()
    while feed.queued > 0 or feed._lost:
        event = await asyncio.wait_for(events.__anext__(), 2.0)
        if isinstance(event, EventsDropped):
            told.append(event)
    took = time.monotonic() - t0
    told_count, counted = sum(e.count for e in told), feed.dropped - dropped  # before the next await
    await events.aclose()
    if told_count != counted:
        raise FaultFailed(f"told {told_count} dropped events, counted {counted}")
    if _connects(rig) != before:
        raise FaultFailed(f"the slow consumer disturbed the stream: reconnected {_reasons(rig, 0)}")
    return took
