"""Differential test on simulator sessions: a live direct feed records every frame and REST
snapshot its handlers receive (with a gap, a malformed frame and an error frame injected), then
the recording is replayed through both architectures: the strategy path produces the same
events, in the same order, with the same values (``recv_ts`` aside) as the direct path, and
both equal what the live feed emitted."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from cexfeed.compat import build_handler
from cexfeed.feed import Feed
from cexfeed.models import ConnectionStatus, StreamStatus
from cexfeed.net import Backoff
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
CHANNELS = {
    "gateio-spot": ["book", "trades", "bbo", "ticker"],
    "gateio-perp": ["book", "trades", "bbo", "ticker"],
    "mexc-spot": ["book", "trades", "bbo", "kline"],
}


def _comparable(event) -> dict:
    data = msgspec.structs.asdict(event)
    data.pop("recv_ts")
    data["type"] = type(event).__name__
    return data


class Recorded:
    """One live handler: what it received (frames and snapshots, in order) and emitted."""

    def __init__(self, handler) -> None:
        self.handler = handler
        self.log: list[tuple] = []
        self.events: list = []
        frame, snapshot, on_event = handler._handle_message, handler.apply_snapshot, handler._on_event

        def on_frame(raw, recv_ts=None):
            self.log.append(("frame", bytes(raw) if not isinstance(raw, str) else raw, recv_ts))
            frame(raw, recv_ts)

        def on_snapshot(venue_symbol, update_id, bids, asks, exchange_ts=0, recv_ts=None):
            self.log.append(("snapshot", venue_symbol, update_id, list(bids), list(asks), exchange_ts, recv_ts))
            return snapshot(venue_symbol, update_id, bids, asks, exchange_ts, recv_ts)

        def on_emit(event):
            self.events.append(event)
            if on_event is not None:
                on_event(event)

        handler._handle_message = on_frame
        handler.apply_snapshot = on_snapshot
        handler.set_callback(on_emit)
        # what the connection calls besides frames and snapshots (reconnect, unsubscribe)
        for name in ("reset_books", "close_book", "open_book"):
            setattr(handler, name, self._recorder(name, getattr(handler, name)))

    def _recorder(self, name, method):
        def call(*args, **kwargs):
            self.log.append(("call", name, args, kwargs))
            return method(*args, **kwargs)

        return call


def replay(stream: str, recorded: Recorded, architecture: str):
    events: list = []
    live = recorded.handler
    handler = build_handler(stream, architecture, events.append, symbols=live.symbols, depth=live.depth)
    for item in recorded.log:
        if item[0] == "frame":
            handler._handle_message(item[1], item[2])
        elif item[0] == "snapshot":
            handler.apply_snapshot(*item[1:])
        else:
            getattr(handler, item[1])(*item[2], **item[3])
    return [_comparable(e) for e in events], handler.stats.as_dict()


@pytest.mark.parametrize("stream", sorted(CHANNELS))
async def test_simulator_session_identical(stream):
    sim = SimServer(seed=9, rate=40, venues=[stream])
    await sim.start()
    recordings: list[Recorded] = []
    feed = Feed(stream, SYMBOLS, CHANNELS[stream], url=sim.ws_url(stream), rest_url=sim.rest_url(stream), reconnect_backoff=lambda: Backoff(initial=0.05, cap=0.5))
    make = feed._pool.handler_factory

    def factory():
        rec = Recorded(make())
        recordings.append(rec)
        return rec.handler

    feed._pool.handler_factory = factory
    try:
        await feed.start(timeout=15)
        assert await wait_until(lambda: all(feed.synced(s) for s in SYMBOLS), 10.0)
        await asyncio.sleep(0.5)
        sim.skip_update("BTC/USDT")
        await sim.send_malformed()
        await sim.send_error_frame()
        await asyncio.sleep(0.3)
        assert await wait_until(lambda: all(feed.synced(s) for s in SYMBOLS), 10.0)
        await asyncio.sleep(0.5)
    finally:
        await feed.close()
        await sim.stop()
    assert recordings and sum(len(r.log) for r in recordings) > 100
    kinds = set()
    for rec in recordings:
        # connection state and silence come from the connection, not from the frames
        live = [_comparable(e) for e in rec.events if not isinstance(e, (ConnectionStatus, StreamStatus))]
        direct, direct_stats = replay(stream, rec, "direct")
        strategy, strategy_stats = replay(stream, rec, "strategy")
        assert direct == live
        assert strategy == direct
        assert strategy_stats == direct_stats
        kinds |= {e["type"] for e in direct}
        if direct:
            assert direct_stats["errors"].get("malformed", 0) + direct_stats["errors"].get("truncated", 0) >= 1
    assert {"BookUpdate", "BookStatus", "Trade", "BestBidOffer"} <= kinds
