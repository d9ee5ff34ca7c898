"""Sequencer rules (gateio-protocol.md §10.1, pitfalls D.1 #1-#5) through the Gate spot handler."""

from __future__ import annotations

import json

from cexfeed.book import APPLIED, BUFFERED, GAP, SNAPSHOT_IGNORED, SNAPSHOT_TOO_OLD, STALE, SYNCED, BookSequencer, L2Book
from cexfeed.exchanges.gateio.spot_public_handler import GateioSpotPublicWebSocketHandler
from cexfeed.handlers import ConnectionHooks
from cexfeed.models import BookStatus, BookUpdate


class Hooks(ConnectionHooks):
    def __init__(self) -> None:
        self.snapshots: list[str] = []

    def request_snapshot(self, venue_symbol: str) -> None:
        self.snapshots.append(venue_symbol)


def delta(symbol: str, first: int, last: int, bids=(), asks=(), full: bool = False) -> bytes:
    result = {"t": 1700000000123, "e": "depthUpdate", "E": 1700000000, "s": symbol, "U": first, "u": last,
              "b": [list(level) for level in bids], "a": [list(level) for level in asks]}
    if full:
        result["full"] = True
    return json.dumps({"time": 1700000000, "time_ms": 1700000000124, "channel": "spot.order_book_update",
                       "event": "update", "result": result}).encode()


def make():
    events: list = []
    handler = GateioSpotPublicWebSocketHandler(on_event=events.append, depth=5)
    hooks = Hooks()
    handler.hooks = hooks
    return handler, hooks, events


SNAP_BIDS = [(100.0, 1.0), (99.0, 2.0)]
SNAP_ASKS = [(101.0, 1.5), (102.0, 3.0)]


def synced_handler(symbol: str = "BTC_USDT", snapshot_id: int = 10):
    handler, hooks, events = make()
    handler.apply_snapshot(symbol, snapshot_id, SNAP_BIDS, SNAP_ASKS)
    events.clear()
    return handler, hooks, events


def test_deltas_buffer_until_snapshot_then_stale_dropped_and_bridge_applied():
    handler, hooks, events = make()
    handler._handle_message(delta("BTC_USDT", 5, 9, bids=[("100", "7")]))  # stale against id 10
    handler._handle_message(delta("BTC_USDT", 10, 12, bids=[("100", "4")]))  # bridges 11
    assert events == []  # nothing published before the snapshot
    code = handler.apply_snapshot("BTC_USDT", 10, SNAP_BIDS, SNAP_ASKS)
    assert code == SYNCED
    seq = handler.books["BTC_USDT"]
    assert seq.deltas_dropped_stale == 1
    assert seq.deltas_applied == 1
    assert seq.book.last_update_id == 12
    assert seq.book.best_bid() == (100.0, 4.0)
    status = [e for e in events if isinstance(e, BookStatus)]
    assert [(s.status, s.reason, s.last_update_id) for s in status] == [("synced", "snapshot", 12)]


def test_snapshot_too_old_keeps_buffer_and_asks_again():
    handler, hooks, events = make()
    handler._handle_message(delta("BTC_USDT", 20, 22, bids=[("100", "4")]))
    assert handler.apply_snapshot("BTC_USDT", 10, SNAP_BIDS, SNAP_ASKS) == SNAPSHOT_TOO_OLD
    assert hooks.snapshots == ["BTC_USDT"]
    assert not handler.books["BTC_USDT"].synced
    # a newer snapshot bridges the kept delta
    assert handler.apply_snapshot("BTC_USDT", 21, SNAP_BIDS, SNAP_ASKS) == SYNCED
    assert handler.books["BTC_USDT"].book.last_update_id == 22


def test_first_delta_after_snapshot_may_bridge_then_exact_continuation():
    handler, hooks, events = synced_handler(snapshot_id=10)
    handler._handle_message(delta("BTC_USDT", 8, 13, asks=[("101", "0")]))  # U <= 11 <= u
    handler._handle_message(delta("BTC_USDT", 14, 14, asks=[("101.5", "2")]))
    book = handler.books["BTC_USDT"].book
    assert book.last_update_id == 14
    assert book.best_ask() == (101.5, 2.0)
    updates = [e for e in events if isinstance(e, BookUpdate)]
    assert [(u.first_update_id, u.last_update_id, u.snapshot) for u in updates] == [(8, 13, False), (14, 14, False)]
    assert updates[1].asks == [(101.5, 2.0)]


def test_stale_delta_after_sync_is_dropped_not_applied():
    handler, hooks, events = synced_handler(snapshot_id=10)
    handler._handle_message(delta("BTC_USDT", 9, 10, bids=[("100", "99")]))
    seq = handler.books["BTC_USDT"]
    assert seq.deltas_dropped_stale == 1
    assert seq.book.best_bid() == (100.0, 1.0)
    assert events == []


def test_gap_resyncs_only_that_symbol_and_emits_status():
    handler, hooks, events = make()
    handler.apply_snapshot("BTC_USDT", 10, SNAP_BIDS, SNAP_ASKS)
    handler.apply_snapshot("ETH_USDT", 50, [(10.0, 1.0)], [(11.0, 1.0)])
    events.clear()
    handler._handle_message(delta("BTC_USDT", 11, 11))
    handler._handle_message(delta("BTC_USDT", 13, 14, bids=[("100", "5")]))  # 12 missing
    handler._handle_message(delta("ETH_USDT", 51, 51, bids=[("10", "2")]))
    btc, eth = handler.books["BTC_USDT"], handler.books["ETH_USDT"]
    assert not btc.synced and btc.resyncs == 1 and btc.gaps == 1
    assert len(btc.book.bids) == 0  # broken book is never kept
    assert eth.synced and eth.book.best_bid() == (10.0, 2.0)
    assert hooks.snapshots == ["BTC_USDT"]
    status = [e for e in events if isinstance(e, BookStatus)]
    assert [(s.venue_symbol, s.status, s.reason) for s in status] == [("BTC_USDT", "resyncing", "gap")]
    assert handler.stats.errors["book_gap"] == 1
    # the delta after the gap is kept: a snapshot at 12 bridges it
    assert handler.apply_snapshot("BTC_USDT", 12, SNAP_BIDS, SNAP_ASKS) == SYNCED
    assert btc.book.last_update_id == 14 and btc.book.best_bid() == (100.0, 5.0)


def test_full_push_replaces_book():
    handler, hooks, events = synced_handler(snapshot_id=10)
    handler._handle_message(delta("BTC_USDT", 100, 120, bids=[("90", "1")], asks=[("95", "2")], full=True))
    book = handler.books["BTC_USDT"].book
    assert book.top_bids() == [(90.0, 1.0)] and book.top_asks() == [(95.0, 2.0)]
    assert book.last_update_id == 120
    snap = [e for e in events if isinstance(e, BookUpdate)]
    assert snap[0].snapshot and snap[0].last_update_id == 120
    handler._handle_message(delta("BTC_USDT", 121, 121, bids=[("91", "1")]))
    assert book.best_bid() == (91.0, 1.0)


def test_empty_delta_advances_id():
    handler, hooks, events = synced_handler(snapshot_id=10)
    handler._handle_message(delta("BTC_USDT", 11, 15))
    handler._handle_message(delta("BTC_USDT", 16, 16, bids=[("100", "3")]))
    seq = handler.books["BTC_USDT"]
    assert seq.book.last_update_id == 16 and seq.resyncs == 0
    assert seq.book.best_bid() == (100.0, 3.0)


def test_crossed_book_is_not_published_and_resyncs():
    handler, hooks, events = synced_handler(snapshot_id=10)
    handler._handle_message(delta("BTC_USDT", 11, 11, bids=[("101.5", "1")]))  # bid above best ask 101
    seq = handler.books["BTC_USDT"]
    assert not seq.synced and seq.crossed == 1 and len(seq.book.bids) == 0
    assert hooks.snapshots == ["BTC_USDT"]
    status = [e for e in events if isinstance(e, BookStatus)]
    assert [(s.status, s.reason) for s in status] == [("resyncing", "crossed")]


def test_sequencer_codes_and_depth_truncation():
    seq = BookSequencer(depth=2)
    assert seq.on_delta(1, 1, [], []) == BUFFERED
    assert seq.on_snapshot(1, [(1.0, 1.0), (2.0, 1.0), (3.0, 1.0)], [(4.0, 1.0), (5.0, 1.0), (6.0, 1.0)]) == SYNCED
    assert seq.book.top_bids() == [(3.0, 1.0), (2.0, 1.0)]
    assert seq.book.top_asks() == [(4.0, 1.0), (5.0, 1.0)]
    assert seq.on_delta(2, 2, [(3.5, 2.0)], []) == APPLIED
    assert seq.book.top_bids() == [(3.5, 2.0), (3.0, 1.0)]
    assert seq.on_delta(2, 2, [], []) == STALE
    assert seq.on_delta(4, 4, [], []) == GAP


def test_l2book_zero_size_removes_level():
    book = L2Book(depth=10)
    book.replace([(1.0, 1.0), (2.0, 0.0)], [(3.0, 1.0)], 7)
    assert book.top_bids() == [(1.0, 1.0)]
    book.apply([(1.0, 0.0)], [])
    assert book.best_bid() is None and book.last_update_id == 7


def test_late_rest_snapshot_after_full_push_is_ignored():
    handler, hooks, events = make()
    handler._handle_message(delta("BTC_USDT", 100, 120, bids=[("90", "1")], asks=[("95", "2")], full=True))
    handler._handle_message(delta("BTC_USDT", 121, 121, bids=[("91", "1")]))
    events.clear()
    assert handler.apply_snapshot("BTC_USDT", 110, SNAP_BIDS, SNAP_ASKS) == SNAPSHOT_IGNORED
    book = handler.books["BTC_USDT"].book
    assert book.last_update_id == 121 and book.best_bid() == (91.0, 1.0)
    assert events == [] and handler.stats.errors["snapshot_ignored"] == 1


def test_malformed_book_push_resyncs_that_symbol_at_once():
    # reported by a user trial: a skipped NaN delta left the book "synced" but missing an update
    handler, hooks, events = synced_handler(snapshot_id=10)
    handler.apply_snapshot("ETH_USDT", 50, [(10.0, 1.0)], [(11.0, 1.0)])
    events.clear()
    handler._handle_message(delta("BTC_USDT", 11, 11, bids=[("NaN", "1")]))
    btc = handler.books["BTC_USDT"]
    assert not btc.synced and btc.resyncs == 1 and btc.book.bid_count == 0
    assert handler.books["ETH_USDT"].synced
    assert hooks.snapshots == ["BTC_USDT"]
    assert handler.stats.errors["malformed"] == 1 and handler.stats.errors["book_malformed"] == 1
    status = [e for e in events if isinstance(e, BookStatus)]
    assert [(s.venue_symbol, s.status, s.reason) for s in status] == [("BTC_USDT", "resyncing", "malformed")]
