"""Mixed architecture against the simulator over real loopback sockets: MEXC spot on the direct
handlers and Gate.io spot + futures on the strategy architecture in one process (chosen by a
configuration file), ParsedMessage callbacks on both, then Gate.io spot switched back to
direct -- its own feed closed and reopened -- while the MEXC feed keeps streaming untouched.
Books are compared with the simulator's, level by level, on both architectures."""

from __future__ import annotations

import json

import pytest

from cexfeed.compat import ArchitectureConfig, MessageType, ParsedMessageAdapter, StrategyHandler, load_config
from cexfeed.architecture import StrategyConnectionManager, architecture_of, open_feed
from cexfeed.models import BookStatus, BookUpdate, Trade
from cexfeed.net import Backoff
from cexfeed.sim import SimServer
from cexfeed.sim.testing import sim_levels, sim_update_id, wait_until

SYMBOLS = ["BTC/USDT", "ETH/USDT"]


@pytest.fixture
async def sim():
    server = SimServer(seed=5, rate=25, venues=["gateio-spot", "mexc-spot", "gateio-perp"])
    await server.start()
    yield server
    await server.stop()


def _feed(sim, stream, config, events, channels=("book", "trades", "bbo")):
    return open_feed(
        stream,
        SYMBOLS,
        list(channels),
        config=config,
        url=sim.ws_url(stream),
        rest_url=sim.rest_url(stream),
        on_event=events.append,
        reconnect_backoff=lambda: Backoff(initial=0.05, cap=0.5),
    )


async def _books_equal_sim(sim, feed, symbols=SYMBOLS):
    sim.pause()
    try:
        ok = await wait_until(lambda: all(feed.synced(s) and feed.book(s).last_update_id == sim_update_id(sim, s, feed.venue) for s in symbols), 8.0)
        assert ok
        for symbol in symbols:
            bids, asks = sim_levels(sim, symbol, venue=feed.venue)
            book = feed.book(symbol)
            n = len(book.top_bids())
            assert book.top_bids() == bids[:n] and book.top_asks() == asks[: len(book.top_asks())], symbol
            assert n > 0
    finally:
        sim.resume()


async def test_mexc_direct_gate_strategy_then_gate_back_to_direct(sim, tmp_path):
    path = tmp_path / "architecture.json"
    path.write_text(json.dumps({"architecture": {"default": "direct", "gateio": "strategy"}}))
    config = load_config(path)
    assert config.architecture("gateio-spot") == "strategy" and config.architecture("mexc-spot") == "direct"

    mexc_events: list = []
    gate_events: list = []
    mexc = _feed(sim, "mexc-spot", config, mexc_events)
    gate = _feed(sim, "gateio-spot", config, gate_events)
    assert architecture_of(mexc) == "direct" and architecture_of(gate) == "strategy"
    gate_messages: list = []
    gate.protocol.on(MessageType.TRADE, gate_messages.append)
    gate.protocol.on(MessageType.BOOK, gate_messages.append)
    try:
        acks = await mexc.start(timeout=15)
        assert acks and all(a.ok for a in acks)
        acks = await gate.start(timeout=15)
        assert acks and all(a.ok for a in acks)
        assert all(isinstance(c.handler, StrategyHandler) for c in gate.connections)
        assert not any(isinstance(c.handler, StrategyHandler) for c in mexc.connections)
        # ParsedMessage consumer on the direct MEXC handler, through the adapter
        mexc_messages: list = []
        for conn in mexc.connections:
            adapter = ParsedMessageAdapter(conn.handler, on_event=mexc._dispatch)
            adapter.on(MessageType.BOOK, mexc_messages.append)
        assert await wait_until(lambda: all(gate.synced(s) and mexc.synced(s) for s in SYMBOLS), 10.0)
        assert await wait_until(lambda: any(isinstance(e, Trade) for e in gate_events) and mexc_messages and gate_messages, 10.0)
        await _books_equal_sim(sim, gate)
        await _books_equal_sim(sim, mexc)
        msg = next(m for m in gate_messages if m.type is MessageType.BOOK)
        assert msg.venue == "gateio" and msg.symbol in SYMBOLS and msg.data["venue_symbol"] in ("BTC_USDT", "ETH_USDT")
        assert all(m.venue == "mexc" and m.type is MessageType.BOOK for m in mexc_messages)

        # roll Gate.io back to direct: only its feed is closed and reopened
        mexc_connections = list(mexc.connections)
        mexc_before = len(mexc_events)
        await gate.close()
        config = config.with_overrides(gateio="direct")
        gate_events.clear()
        gate = _feed(sim, "gateio-spot", config, gate_events)
        assert architecture_of(gate) == "direct"
        acks = await gate.start(timeout=15)
        assert acks and all(a.ok for a in acks)
        assert not any(isinstance(c.handler, StrategyHandler) for c in gate.connections)
        assert await wait_until(lambda: all(gate.synced(s) for s in SYMBOLS), 10.0)
        assert await wait_until(lambda: len(mexc_events) > mexc_before + 20, 10.0)
        # MEXC never restarted: same connections, never resynced
        assert mexc.connections == mexc_connections
        assert all(c.stats.connects == 1 and c.stats.disconnects == 0 for c in mexc.connections)
        assert not any(isinstance(e, BookStatus) and e.status == "resyncing" for e in mexc_events)
        await _books_equal_sim(sim, gate)
        await _books_equal_sim(sim, mexc)
        assert any(isinstance(e, BookUpdate) and not e.snapshot for e in gate_events)
    finally:
        await gate.close()
        await mexc.close()


async def test_gate_futures_on_strategies_matches_simulator(sim):
    events: list = []
    feed = _feed(sim, "gateio-perp", ArchitectureConfig(choices={"gateio-perp": "strategy"}), events, channels=("book", "trades", "bbo", "ticker"))
    assert architecture_of(feed) == "strategy"
    try:
        acks = await feed.start(timeout=15)
        assert acks and all(a.ok for a in acks)
        assert await wait_until(lambda: all(feed.synced(s) for s in SYMBOLS), 10.0)
        assert await wait_until(lambda: any(isinstance(e, Trade) for e in events), 10.0)
        trade = next(e for e in events if isinstance(e, Trade))
        assert trade.market == "perp" and trade.symbol.endswith(":USDT") and trade.contracts and trade.size > 0
    finally:
        await feed.close()


async def test_strategy_connection_manager_routes_parsed_messages(sim):
    """The strategy-driven connection manager on its own: ParsedMessages by type, control
    messages (acks, pongs) included, alongside the typed events."""
    events: list = []
    by_type: dict = {}
    manager = StrategyConnectionManager(
        "mexc-spot", SYMBOLS, ["book", "trades", "bbo"], url=sim.ws_url("mexc-spot"), rest_url=sim.rest_url("mexc-spot"), on_event=events.append, ping_interval=0.2
    )
    for msg_type in (MessageType.ACK, MessageType.PONG, MessageType.TRADE, MessageType.BBO, MessageType.BOOK, MessageType.BOOK_STATUS):
        manager.on(msg_type, lambda m, t=msg_type: by_type.setdefault(t, []).append(m))
    assert manager.connection.url == sim.ws_url("mexc-spot")
    try:
        acks = await manager.start(timeout=15)
        assert len(acks) == 6 and all(a.ok for a in acks)
        assert await wait_until(lambda: all(manager.feed.synced(s) for s in SYMBOLS), 10.0)
        assert await wait_until(lambda: all(by_type.get(t) for t in (MessageType.PONG, MessageType.TRADE, MessageType.BBO, MessageType.BOOK)), 10.0)
        acked = {m.data["channel"] for m in by_type[MessageType.ACK]}
        assert "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT" in acked and all(m.data["ok"] for m in by_type[MessageType.ACK])
        trade = by_type[MessageType.TRADE][0]
        assert trade.venue == "mexc" and trade.symbol in SYMBOLS and trade.data["side"] in ("buy", "sell") and trade.data["price"] > 0
        assert isinstance(trade.raw, bytes) and trade.raw[:1] != b"{"
        statuses = [(m.symbol, m.data["status"]) for m in by_type[MessageType.BOOK_STATUS]]
        assert ("BTC/USDT", "synced") in statuses
        # the typed events carry the same trades
        assert any(isinstance(e, Trade) and e.trade_id == trade.data["trade_id"] for e in events)
    finally:
        await manager.close()
