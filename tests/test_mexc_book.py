"""aggre.depth book sync with MEXC versions (mexc-protocol.md §4.2) through the handler."""

from __future__ import annotations

import pytest
from mexc_helpers import DECODERS, make_handler

from cexfeed.exchanges.mexc.encode import aggre_depth_frame, limit_depth_frame
from cexfeed.models import BookStatus, BookUpdate
from cexfeed.net.protocol import Subscription

V = 82164153436  # a real-sized version (> 2**32)


def _synced(decoder="upb"):
    handler, events, hooks = make_handler(decoder, depth=20)
    handler.apply_snapshot("BTCUSDT", V, [(84270.0, 1.0), (84269.5, 2.0)], [(84270.01, 3.0), (84271.0, 4.0)], exchange_ts=5)
    assert handler.book("BTCUSDT").synced
    events.clear()
    return handler, events, hooks


@pytest.mark.parametrize("decoder", DECODERS)
def test_bridging_push_with_from_equal_v_plus_1_then_continuation(decoder):
    handler, events, hooks = _synced(decoder)
    handler._handle_message(aggre_depth_frame("BTCUSDT", V + 1, V + 4, bids=[(84270.0, 1.5)], asks=[(84270.01, "0")], send_time=10), 1)
    handler._handle_message(aggre_depth_frame("BTCUSDT", V + 5, V + 9, bids=[(84269.9, 0.25)], send_time=11), 2)
    assert [type(e) for e in events] == [BookUpdate, BookUpdate]
    assert (events[0].first_update_id, events[0].last_update_id) == (V + 1, V + 4)
    assert events[0].bids == [(84270.0, 1.5)] and events[0].asks == [(84270.01, 0.0)]
    # send time 11 is read as 11 s (wire.to_ms: by magnitude)
    assert (events[1].first_update_id, events[1].last_update_id, events[1].exchange_ts) == (V + 5, V + 9, 11_000)
    book = handler.book("BTCUSDT").book
    assert book.top_bids() == [(84270.0, 1.5), (84269.9, 0.25), (84269.5, 2.0)]
    assert book.top_asks() == [(84271.0, 4.0)]
    assert book.last_update_id == V + 9
    assert hooks.snapshots == []


def test_bridging_push_that_straddles_the_snapshot():
    handler, events, hooks = _synced()
    # fromVersion <= V+1 <= toVersion is accepted as the first push
    handler._handle_message(aggre_depth_frame("BTCUSDT", V - 3, V + 2, asks=[(84271.0, 0.5)]), 1)
    (update,) = events
    assert update.last_update_id == V + 2
    assert handler.book("BTCUSDT").book.top_asks() == [(84270.01, 3.0), (84271.0, 0.5)]


def test_stale_pushes_are_dropped():
    handler, events, hooks = _synced()
    handler._handle_message(aggre_depth_frame("BTCUSDT", V - 10, V - 1, bids=[(1.0, 1.0)]), 1)
    handler._handle_message(aggre_depth_frame("BTCUSDT", V, V, bids=[(1.0, 1.0)]), 1)
    assert events == [] and hooks.snapshots == []
    assert handler.book("BTCUSDT").deltas_dropped_stale == 2
    assert handler.book("BTCUSDT").book.top_bids() == [(84270.0, 1.0), (84269.5, 2.0)]


def test_gap_resyncs_only_that_symbol():
    handler, events, hooks = _synced()
    handler.apply_snapshot("ETHUSDT", 500, [(3000.0, 1.0)], [(3000.5, 1.0)])
    handler._handle_message(aggre_depth_frame("BTCUSDT", V + 1, V + 2, bids=[(84270.0, 9.0)]), 1)
    events.clear()
    # V+3..V+4 missing
    handler._handle_message(aggre_depth_frame("BTCUSDT", V + 5, V + 6, bids=[(84270.0, 8.0)], send_time=77), 2)
    (status,) = events
    assert isinstance(status, BookStatus) and status.status == "resyncing" and status.reason == "gap"
    assert status.venue_symbol == "BTCUSDT" and status.symbol == "BTC/USDT"
    assert hooks.snapshots == ["BTCUSDT"]
    assert not handler.book("BTCUSDT").synced and handler.stats.errors["book_gap"] == 1
    # the other symbol keeps streaming
    events.clear()
    handler._handle_message(aggre_depth_frame("ETHUSDT", 501, 503, asks=[(3000.5, 2.0)]), 3)
    (eth,) = events
    assert isinstance(eth, BookUpdate) and eth.venue_symbol == "ETHUSDT" and eth.last_update_id == 503
    # more BTC pushes buffer without asking again; the new snapshot bridges them
    events.clear()
    handler._handle_message(aggre_depth_frame("BTCUSDT", V + 7, V + 8, asks=[(84270.01, 1.0)]), 4)
    assert hooks.snapshots == ["BTCUSDT"] and events == []
    handler.apply_snapshot("BTCUSDT", V + 6, [(84270.0, 8.0)], [(84270.02, 5.0)])
    assert handler.book("BTCUSDT").synced
    assert handler.book("BTCUSDT").book.top_asks() == [(84270.01, 1.0), (84270.02, 5.0)]
    assert handler.book("BTCUSDT").book.last_update_id == V + 8
    assert [e.status for e in events if isinstance(e, BookStatus)] == ["synced"]


def test_snapshot_older_than_buffer_is_requested_again():
    handler, events, hooks = make_handler()
    handler._handle_message(aggre_depth_frame("BTCUSDT", V + 10, V + 12, bids=[(1.0, 1.0)]), 1)
    assert hooks.snapshots == ["BTCUSDT"]
    handler.apply_snapshot("BTCUSDT", V, [(1.0, 2.0)], [(2.0, 2.0)])  # V+1 < fromVersion: too old
    assert hooks.snapshots == ["BTCUSDT", "BTCUSDT"] and not handler.book("BTCUSDT").synced
    handler.apply_snapshot("BTCUSDT", V + 11, [(1.0, 2.0)], [(2.0, 2.0)])
    assert handler.book("BTCUSDT").synced and handler.book("BTCUSDT").book.last_update_id == V + 12
    assert handler.book("BTCUSDT").book.top_bids() == [(1.0, 1.0)]


def test_reset_books_on_reconnect_asks_again():
    handler, events, hooks = _synced()
    handler.reset_books("reconnect")
    assert [e.reason for e in events] == ["reconnect"]
    handler._handle_message(aggre_depth_frame("BTCUSDT", V + 100, V + 101), 1)
    assert hooks.snapshots == ["BTCUSDT"]


def test_bad_versions_are_counted():
    handler, events, hooks = _synced()
    handler._handle_message(aggre_depth_frame("BTCUSDT", V + 5, V + 1), 1)
    handler._handle_message(aggre_depth_frame("BTCUSDT", 0, 0), 1)
    assert handler.stats.errors["bad_version"] == 2 and events == []


@pytest.mark.parametrize("decoder", DECODERS)
def test_limit_depth_is_a_full_book(decoder):
    """``limit.depth`` feeds the symbol's one book (table kind ``full``): each push replaces it,
    the first syncs it, a crossed one resyncs it and the next push syncs it again."""
    handler, events, hooks = make_handler(decoder, depth=20)
    frame = limit_depth_frame("BTCUSDT", V + 50, bids=[("84270.00", "0.00638700"), (84269.0, 1.0)], asks=[(84270.01, 2.0)], send_time=9, levels=5)
    handler._handle_message(frame, 1)
    update, status = events
    assert isinstance(status, BookStatus) and status.status == "synced" and status.reason == "full"
    assert update.snapshot and update.bids == [(84270.0, 0.006387), (84269.0, 1.0)] and update.asks == [(84270.01, 2.0)]
    assert update.first_update_id == update.last_update_id == V + 50 and update.exchange_ts == 9_000
    assert handler.book("BTCUSDT").synced and handler.book("BTCUSDT").book.last_update_id == V + 50
    handler._handle_message(limit_depth_frame("BTCUSDT", V + 51, bids=[(7.0, 1.0), (6.0, "0")], asks=[(8.0, 1.0)]), 2)
    assert [type(e) for e in events[2:]] == [BookUpdate] and events[2].bids == [(7.0, 1.0)]  # no status each time
    handler._handle_message(limit_depth_frame("BTCUSDT", V + 52, bids=[(5.0, 1.0)], asks=[(4.0, 1.0)]), 3)
    assert handler.stats.errors["book_crossed"] == 1 and not handler.book("BTCUSDT").synced
    assert [(e.status, e.reason) for e in events[3:]] == [("resyncing", "crossed")]
    handler._handle_message(limit_depth_frame("BTCUSDT", V + 53, bids=[(5.0, 1.0)], asks=[(6.0, 1.0)]), 4)
    assert handler.book("BTCUSDT").synced and events[-1].status == "synced"


def test_limit_book_and_book_are_one_book_per_symbol():
    """The table row says ``limit_book`` feeds a book, so it takes the rule of every book channel
    (README "Books"): a second book channel for a symbol is refused, at start and later."""
    from cexfeed.exchanges.mexc.spot_protocol import MexcSpotProtocol

    protocol = MexcSpotProtocol()
    with pytest.raises(ValueError, match=r"one book channel per symbol.*got \['book', 'limit_book'\]"):
        protocol.subscriptions(["book", "limit_book"], ["BTCUSDT"])
    held = protocol.subscriptions(["limit_book"], ["BTCUSDT"])
    with pytest.raises(ValueError, match="BTCUSDT already has a book from 'limit_book'"):
        protocol.subscriptions(["book"], ["BTCUSDT"], held)
    assert protocol.is_book(held[0]) and not protocol.snapshot_via_rest(held[0])
    deeper = Subscription("limit_book", "BTCUSDT", ("5",))
    with pytest.raises(ValueError, match="one book per symbol at one depth"):
        protocol.subscriptions(["limit_book"], ["BTCUSDT"], [deeper])
