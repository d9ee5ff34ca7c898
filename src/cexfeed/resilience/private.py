"""Fault scenarios of the account streams (an :class:`~cexfeed.resilience.rig.AccountRig`
each), in the shape of :mod:`cexfeed.resilience.public`: orders and fills happen around each
fault (some while the socket is down), and afterwards the account must equal the simulated
ledger with every fill published exactly once (``rig.check_state``).
"""

from __future__ import annotations

import asyncio
import time

from ..models import EventsDropped, VenueError
from ..sim.testing import wait_until
from . import netfaults
from .public import BANDWIDTH, LATENCY_S, MUTE_S, REFUSE_S
from .rig import HANDSHAKE_TIMEOUT, NO_DATA_TIMEOUT, AccountRig, FaultFailed
from .spacing import check_spacing


def _connects(rig: AccountRig) -> int:
    return rig.account.connection.stats.connects


async def _reconnect(rig: AccountRig, inject, reason: str | None, during=None, timeout: float = 10.0) -> float:
    """Activity, the fault, ``during`` (default: more activity) while the client recovers;
    waits for the next session to be live with every fill."""
    await rig.activity()
    before = _connects(rig)
    seen = len(rig.connection_events("reconnecting"))
    t0 = time.monotonic()
    await inject()
    if during is not None:
        await during()
    else:
        await rig.activity()
    took = await rig.recovered(t0, timeout, connects=before + 1)
    reasons = [e.reason for e in rig.connection_events("reconnecting")[seen:]]
    if reason is not None and reason not in reasons:
        raise FaultFailed(f"reconnect reasons {reasons}, expected {reason!r}")
    return took


async def tcp_reset(rig: AccountRig, i: int) -> float:
    return await _reconnect(rig, lambda: netfaults.tcp_reset(rig), "dropped")


async def close_frame(rig: AccountRig, i: int) -> float:
    return await _reconnect(rig, lambda: netfaults.close_frame(rig), "closed")


async def reset_mid_frame(rig: AccountRig, i: int) -> float:
    """The reset lands inside the next frame: the pushes of a fill (or a pong)."""
    async def inject() -> None:
        resets = rig.proxy.resets
        cut = asyncio.ensure_future(rig.proxy.reset(mid_frame=True))
        await asyncio.sleep(0)
        await rig.activity()
        await cut
        if rig.proxy.resets == resets:
            raise FaultFailed("no frame to cut")
    return await _reconnect(rig, inject, "dropped")


async def half_open(rig: AccountRig, i: int) -> float:
    return await _reconnect(rig, lambda: netfaults.half_open(rig), "no_data", timeout=NO_DATA_TIMEOUT * 6)


async def silent_with_pongs(rig: AccountRig, i: int) -> float:
    """The venue stops pushing (pings still answered) while orders fill, then pushes again:
    the fills it never pushed reach the account at its next periodic reconcile (the row's
    ``reconcile_interval``). Timed from the fills the venue did not push."""
    await rig.activity()
    rig.sim.mute(MUTE_S, rig.venue)
    await rig.activity()
    t0 = time.monotonic()
    took = await rig.recovered(t0, 5.0)
    await asyncio.sleep(max(0.0, MUTE_S - (time.monotonic() - t0)))
    await rig.activity()
    await rig.recovered(time.monotonic(), 5.0)
    return took


async def _degraded(rig: AccountRig, switch: str, on, off, what: str, check: bool) -> float:
    """The proxy's ``switch`` set to ``on`` (then ``off``) while orders fill: no reconnect;
    ``check``: the account is compared with the ledger while still degraded."""
    setattr(rig.proxy, switch, on)
    before = _connects(rig)
    try:
        t0 = time.monotonic()
        await rig.activity()
        took = await rig.recovered(t0)
        await asyncio.sleep(NO_DATA_TIMEOUT)
        if _connects(rig) != before:
            raise FaultFailed(f"reconnected under {what}")
        if check:
            problems = await rig.check_state()
            if problems:
                raise FaultFailed(f"account wrong under {what}: {problems}")
        return took
    finally:
        setattr(rig.proxy, switch, off)


async def latency(rig: AccountRig, i: int) -> float:
    return await _degraded(rig, "latency", LATENCY_S, 0.0, "latency", check=True)


async def bandwidth(rig: AccountRig, i: int) -> float:
    """The pipe limited as in the market row while orders fill: no reconnect, state right."""
    return await _degraded(rig, "bandwidth", BANDWIDTH, None, "the bandwidth limit", check=False)


async def _bad_frame(rig: AccountRig, send, kind: str) -> float:
    """Send a bad frame: counted as ``kind`` (``a|b``: either), the socket and state kept."""
    before = _connects(rig)

    def counted() -> int:
        errors = rig.account.handler.stats.errors
        return sum(errors.get(k, 0) for k in kind.split("|"))
    errors = counted()
    t0 = time.monotonic()
    await send()
    await rig.activity()
    took = await rig.recovered(t0)
    if not await wait_until(lambda: counted() > errors, 2.0):
        raise FaultFailed(f"not counted as {kind}: {dict(rig.account.handler.stats.errors)}")
    if _connects(rig) != before:
        raise FaultFailed(f"a {kind} frame reconnected the socket")
    return took


async def malformed_frame(rig: AccountRig, i: int) -> float:
    async def send() -> None:
        await rig.sim.send_malformed(rig.venue)
    return await _bad_frame(rig, send, "malformed")


async def unknown_channel(rig: AccountRig, i: int) -> float:
    async def send() -> None:
        await rig.sim.send_unknown_channel(rig.venue)
    return await _bad_frame(rig, send, "unknown_channel|unknown_frame")


async def error_frame(rig: AccountRig, i: int) -> float:
    seen = len([e for e in rig.events if isinstance(e, VenueError)])

    async def send() -> None:
        await rig.sim.send_error_frame(rig.venue)
    took = await _bad_frame(rig, send, "venue_error")
    if len([e for e in rig.events if isinstance(e, VenueError)]) <= seen:
        raise FaultFailed("the error frame was not told to the consumer")
    return took


async def upgrade_notice(rig: AccountRig, i: int) -> float:
    async def inject() -> None:
        if await rig.sim.send_upgrade_notice(rig.venue) == 0:
            raise FaultFailed("no upgrade notice sent")
    return await _reconnect(rig, inject, "upgrade")


async def snapshot_failing(rig: AccountRig, i: int) -> float:
    """The account's REST snapshot answers 500 a few times while it reconciles after a drop."""
    failures = rig.account.rest.failures

    async def inject() -> None:
        await rig.private.act("fail_rest", count=2)
        await rig.proxy.reset()
    took = await _reconnect(rig, inject, "dropped")
    if rig.account.rest.failures <= failures:
        raise FaultFailed("no REST snapshot failed")
    return took


async def snapshot_slow_stale(rig: AccountRig, i: int) -> float:
    """The REST snapshot is read when asked and answered late, while orders fill: the pushes
    buffered meanwhile are newer than the snapshot and must be applied on top of it."""
    async def inject() -> None:
        await rig.private.act("slow_rest", count=3, seconds=0.3)
        await rig.proxy.reset()

    async def during() -> None:
        await asyncio.sleep(0.2)  # the client reconnected and asked for its snapshot
        await rig.activity()
    return await _reconnect(rig, inject, "dropped", during)


async def handshake_cut(rig: AccountRig, i: int) -> float:
    """As the market row: the next two handshakes cut in the upgrade answer."""
    return await _handshake(rig, cut=True)


async def handshake_hang(rig: AccountRig, i: int) -> float:
    """As the market row: handshakes unanswered for a while (timed out, retried)."""
    return await _handshake(rig, cut=False)


async def _handshake(rig: AccountRig, cut: bool) -> float:
    since = len(rig.connection_events())

    async def inject() -> None:
        if cut:
            rig.proxy.cut_handshakes = 2
            await rig.proxy.reset()
        else:
            rig.proxy.blackhole = True
            await rig.proxy.reset()

    async def during() -> None:
        await rig.activity()
        if not cut:
            await asyncio.sleep(HANDSHAKE_TIMEOUT * 2.5)
            rig.proxy.blackhole = False
    try:
        took = await _reconnect(rig, inject, "dropped", during)
    finally:
        rig.proxy.cut_handshakes = 0
        rig.proxy.blackhole = False
    failed = [e.reason for e in rig.connection_events()[since:] if e.status == "failed"]
    if ("handshake" if cut else "timeout") not in failed:
        raise FaultFailed(f"failed handshakes reported: {failed}")
    return took


async def _refused_connects(rig: AccountRig, since: int) -> list[str]:
    await asyncio.sleep(REFUSE_S)
    return check_spacing(rig.connection_events()[since:], REFUSE_S)


async def refused_at_start(rig: AccountRig, i: int) -> float:
    if rig.account is not None:
        await rig.close_client()
    rig.proxy.refuse()
    start = asyncio.ensure_future(rig.open(timeout=REFUSE_S + 10.0))
    try:
        problems = await _refused_connects(rig, 0)
        await rig.activity()
    finally:
        await rig.proxy.accept()
    t0 = time.monotonic()
    await start
    if problems:
        raise FaultFailed("; ".join(problems))
    return await rig.recovered(t0)


async def refused_on_reconnect(rig: AccountRig, i: int) -> float:
    since = len(rig.connection_events())
    before = _connects(rig)
    rig.proxy.refuse()
    try:
        await rig.proxy.reset()
        await rig.activity()
        problems = await _refused_connects(rig, since)
    finally:
        await rig.proxy.accept()
    t0 = time.monotonic()
    if problems:
        raise FaultFailed("; ".join(problems))
    return await rig.recovered(t0, connects=before + 1)


async def slow_consumer(rig: AccountRig, i: int) -> float:
    """``events()`` read slowly while many orders fill: the oldest events are dropped and
    counted, the consumer is told, the account state itself stays right."""
    if rig.account is None or rig.account._on_event is not None:
        await rig.close_client()
        await rig.open(on_event=None, queue_size=20)
    account = rig.account
    dropped_at_start = account.dropped
    dropped = account.dropped - account._lost
    told: list[EventsDropped] = []
    events = account.events()
    producer = asyncio.ensure_future(_burst(rig, 8))
    try:
        while not producer.done():
            event = await asyncio.wait_for(events.__anext__(), 5.0)
            if isinstance(event, EventsDropped):
                told.append(event)
            await asyncio.sleep(0.02)
        await producer
    finally:
        producer.cancel()
    if account.dropped <= dropped_at_start:
        raise FaultFailed("the queue never overflowed")
    t0 = time.monotonic()
    while account.queued > 0 or account._lost:
        event = await asyncio.wait_for(events.__anext__(), 2.0)
        if isinstance(event, EventsDropped):
            told.append(event)
    took = time.monotonic() - t0
    told_count, counted = sum(e.count for e in told), account.dropped - dropped  # before the next await
    await events.aclose()
    if told_count != counted:
        raise FaultFailed(f"told {told_count} dropped events, counted {counted}")
    return took


async def _burst(rig: AccountRig, rounds: int) -> None:
    for _ in range(rounds):
        await rig.activity()
        await asyncio.sleep(0.01)


async def auth_failure(rig: AccountRig, i: int) -> float:
    """The venue refuses the key: ``auth_failed`` is published, nothing is retried (one
    connection, no further subscribe). Timed until it is reported."""
    if rig.account is not None:
        await rig.close_client()
    await rig.private.act("reject_auth", on=True)
    try:
        t0 = time.monotonic()
        status = await rig.open(expect="auth_failed")
        took = time.monotonic() - t0
        conn = rig.account.connection
        sessions, calls = conn.stats.connects, rig.private.private_rest_calls
        await asyncio.sleep(0.5)
        if conn.stats.connects != sessions or rig.private.private_rest_calls != calls:
            raise FaultFailed(f"retried after {status}: {conn.stats.connects - sessions} connects, "
                              f"{rig.private.private_rest_calls - calls} private REST calls")
    finally:
        await rig.private.act("reject_auth", on=False)
    return took


async def key_revoked(rig: AccountRig, i: int) -> float:
    """The key stops working mid-session (revoked, or expired): the replay after a drop is
    refused, ``auth_failed`` is published, no reconnect loop. Timed until it is reported."""
    if rig.account is None or rig.account.status != "live":
        await rig.close_client()
        await rig.open()
    await rig.private.act("reject_auth", on=True)
    try:
        t0 = time.monotonic()
        await rig.proxy.reset()
        if not await rig.account.wait_status(("auth_failed",), 5.0):
            raise FaultFailed(f"no auth_failed after the key was refused: {rig.account.status}")
        took = time.monotonic() - t0
        conn = rig.account.connection
        sessions = conn.stats.connects
        await asyncio.sleep(0.5)
        if conn.stats.connects != sessions:
            raise FaultFailed("kept reconnecting with a refused key")
    finally:
        await rig.private.act("reject_auth", on=False)
    await rig.close_client()  # the next repeat (and the state check) start a fresh account
    await rig.open()
    return took


async def key_lapsed(rig: AccountRig, i: int) -> float:
    """MEXC: the listenKey expires mid-session while orders fill; the venue closes the socket
    and refuses the old key: a new key, a new socket, reconciled (each missed fill once)."""
    async def inject() -> None:
        await rig.act("lapse")
    return await _reconnect(rig, inject, None)


async def drop_during_fills(rig: AccountRig, i: int) -> float:
    """The venue aborts the connection in the middle of the pushes of a fill."""
    async def inject() -> None:
        await rig.activity(drop_after=1 + i % 3)
    return await _reconnect(rig, inject, "dropped")
