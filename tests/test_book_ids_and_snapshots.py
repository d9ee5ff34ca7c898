"""Book ids and REST snapshots, on both book twins (compiled ``cexfeed._book`` and ``PyL2Book``):

- ids are integers in [0, 2**63 - 1] (cexfeed.wire.SeqId): the sequencer refuses a bigger one
  before any change (an outside fuzz run found the compiled book raising OverflowError from
  ``apply_snapshot`` with a buffered ``u`` >= 2**63, after marking the book synced with it
  applied, while the pure book took it);
- a crossed REST snapshot (best bid >= best ask) is refused, counted and fetched again;
- the REST snapshot decoders read bounded values: ``["nan", "1"]`` or ``["-3", "inf"]`` never
  reach a book.
"""

from __future__ import annotations

import msgspec
import pytest

from cexfeed import book as book_module
from cexfeed.book import SNAPSHOT_CROSSED, SYNCED, BookSequencer, PyL2Book
from cexfeed.exchanges.gateio import protocol as gate_protocol
from cexfeed.exchanges.gateio.contracts import decode_futures_snapshot
from cexfeed.exchanges.gateio.rest import parse_spot_order_book
from cexfeed.exchanges.gateio.spot_public_handler import GateioSpotPublicWebSocketHandler, replay_apply_snapshot
from cexfeed.exchanges.mexc.rest import parse_depth_snapshot
from cexfeed.handlers import ConnectionHooks
from cexfeed.net.protocol import SnapshotError

TWINS = ["compiled", "pure"]


@pytest.fixture(params=TWINS)
def twin(request, monkeypatch):
    if request.param == "compiled":
        if book_module.L2Book is PyL2Book:
            pytest.skip("compiled book not built")
    else:
        monkeypatch.setattr(book_module, "L2Book", PyL2Book)
    return request.param


class Hooks(ConnectionHooks):
    def __init__(self) -> None:
        self.snapshots: list[str] = []

    def request_snapshot(self, venue_symbol) -> None:
        self.snapshots.append(venue_symbol)


def test_an_id_beyond_int64_is_refused_before_any_change(twin):
    seq = BookSequencer(10)
    seq.on_delta(101, 102, [(99.0, 1.0)], [])
    with pytest.raises(ValueError):
        seq.on_delta(103, 2**63, [(98.0, 5.0)], [])
    assert len(seq.buffer) == 1
    assert seq.on_snapshot(100, [(99.5, 1.0)], [(100.5, 1.0)]) == SYNCED
    assert seq.synced and seq.book.last_update_id == 102
    assert seq.book.top_bids() == [(99.5, 1.0), (99.0, 1.0)]
    with pytest.raises(ValueError):
        seq.on_delta(103, 2**64 + 5, [(98.0, 5.0)], [])
    with pytest.raises(ValueError):
        seq.on_full(2**63, [], [])
    with pytest.raises(ValueError):
        seq.on_snapshot(-1, [], [])
    assert seq.synced and seq.book.last_update_id == 102 and seq.book.top_bids() == [(99.5, 1.0), (99.0, 1.0)]
    assert seq.on_delta(103, 2**63 - 1, [(98.0, 5.0)], []) == book_module.APPLIED
    assert seq.book.last_update_id == 2**63 - 1


def test_the_gate_handler_counts_such_a_push_malformed(twin):
    handler = GateioSpotPublicWebSocketHandler()
    frame = b'{"time":1,"channel":"spot.order_book_update","event":"update","result":{"t":1,"s":"BTC_USDT","U":5,"u":9223372036854775808,"b":[["1","1"]],"a":[]}}'
    handler._handle_message(frame, 1)
    assert handler.stats.errors["malformed"] == 1
    assert handler.apply_snapshot("BTC_USDT", 4, [(1.0, 1.0)], [(2.0, 1.0)], 0, 1) == SYNCED
    assert handler.book("BTC_USDT").book.last_update_id == 4


def test_a_crossed_rest_snapshot_is_refused_counted_and_fetched_again(twin):
    events: list = []
    handler = GateioSpotPublicWebSocketHandler(on_event=events.append)
    handler.hooks = hooks = Hooks()
    code = handler.apply_snapshot("BTC_USDT", 100, [(101.0, 1.0), (99.0, 1.0)], [(100.5, 2.0)], 0, 1)
    assert code == SNAPSHOT_CROSSED
    seq = handler.book("BTC_USDT")
    assert not seq.synced and seq.book.top_bids() == [] and seq.book.top_asks() == []
    assert handler.stats.errors["book_crossed_snapshot"] == 1 and seq.crossed == 1
    assert hooks.snapshots == ["BTC_USDT"]
    assert [(type(e).__name__, e.status, e.reason) for e in events] == [("BookStatus", "resyncing", "crossed_snapshot")]
    # a bid equal to the ask is crossed too; a good snapshot then syncs, buffered deltas kept
    handler._handle_message(b'{"time":1,"channel":"spot.order_book_update","event":"update","result":{"t":1,"s":"BTC_USDT","U":101,"u":102,"b":[["99.5","3"]],"a":[]}}', 1)
    assert handler.apply_snapshot("BTC_USDT", 100, [(100.0, 1.0)], [(100.0, 2.0)], 0, 1) == SNAPSHOT_CROSSED
    assert len(seq.buffer) == 1
    assert handler.apply_snapshot("BTC_USDT", 100, [(99.0, 1.0)], [(100.5, 2.0)], 0, 1) == SYNCED
    assert seq.synced and seq.book.top_bids() == [(99.5, 3.0), (99.0, 1.0)] and seq.book.last_update_id == 102


def test_a_crossed_rest_snapshot_on_mexc_asks_again(twin):
    from mexc_helpers import make_handler

    handler, events, hooks = make_handler("upb")
    assert handler.apply_snapshot("BTCUSDT", 10, [(5.0, 1.0)], [(4.0, 1.0)], recv_ts=1) == SNAPSHOT_CROSSED
    assert not handler.book("BTCUSDT").synced and hooks.snapshots == ["BTCUSDT"]
    assert "BTCUSDT" in handler._snapshot_pending


BAD_LEVELS = [b'["nan","1"]', b'["-3","inf"]', b'["0","1"]', b'["1","-1"]', b'["1e400","1"]', b'["+1","1"]', b'["1_000","1"]']


@pytest.mark.parametrize("level", BAD_LEVELS)
def test_rest_snapshot_decoders_refuse_impossible_levels(level):
    spot = b'{"id":7,"current":1,"update":1,"asks":[["2","1"]],"bids":[%s]}' % level
    with pytest.raises(SnapshotError):
        parse_spot_order_book("BTC_USDT", spot)
    with pytest.raises(ValueError):
        replay_apply_snapshot(GateioSpotPublicWebSocketHandler(), "BTC_USDT", spot, 1)
    p, s = msgspec.json.decode(level)
    futures = msgspec.json.encode({"id": 7, "current": 1.5, "update": 1.5, "asks": [{"p": "2", "s": 1}], "bids": [{"p": p, "s": s}]})
    with pytest.raises(ValueError):
        decode_futures_snapshot(futures, "0.0001")
    mexc = b'{"lastUpdateId":7,"bids":[%s],"asks":[["2","1"]]}' % level
    with pytest.raises(ValueError):
        parse_depth_snapshot(mexc)


@pytest.mark.parametrize("bad_id", [b"9223372036854775808", b"-1", b'"1_000"', b"1.5", b"true"])
def test_rest_snapshot_decoders_refuse_impossible_ids(bad_id):
    with pytest.raises(SnapshotError):
        parse_spot_order_book("BTC_USDT", b'{"id":%s,"asks":[["2","1"]],"bids":[["1","1"]]}' % bad_id)
    with pytest.raises(ValueError):
        decode_futures_snapshot(b'{"id":%s,"asks":[{"p":"2","s":1}],"bids":[]}' % bad_id)
    with pytest.raises(ValueError):
        parse_depth_snapshot(b'{"lastUpdateId":%s,"bids":[],"asks":[]}' % bad_id)


def test_rest_snapshot_decoders_read_the_right_values():
    snap = parse_spot_order_book("BTC_USDT", b'{"id":9223372036854775807,"current":1700000000123,"update":1700000000100,"asks":[["101.5","2"]],"bids":[["101.4","0.30"]]}')
    assert (snap.update_id, snap.bids, snap.asks, snap.exchange_ts) == (2**63 - 1, [(101.4, 0.3)], [(101.5, 2.0)], 1700000000100)
    fut = decode_futures_snapshot(b'{"id":12,"current":1700000000.5,"update":1700000000.25,"asks":[{"p":"101.5","s":3}],"bids":[{"p":"101.4","s":"20"}]}', "0.1")
    assert (fut.update_id, fut.bids, fut.asks, fut.exchange_ts) == (12, [(101.4, 2.0)], [(101.5, 0.3)], 1700000000250)
    mexc = parse_depth_snapshot(b'{"lastUpdateId":82164153436,"bids":[["84270.00","0.5"]],"asks":[["84270.01","1"]],"timestamp":1}')
    assert (mexc.lastUpdateId, mexc.bids, mexc.asks) == (82164153436, [(84270.0, 0.5)], [(84270.01, 1.0)])


def test_one_gate_spot_snapshot_decoder_for_live_and_replay():
    # the live REST path and replay read the body through the same function
    import inspect

    from cexfeed.exchanges.gateio import rest, spot_public_handler

    assert "parse_spot_snapshot(body)" in inspect.getsource(rest.parse_spot_order_book)
    assert "parse_spot_snapshot(body)" in inspect.getsource(spot_public_handler.replay_apply_snapshot)
    assert not hasattr(rest, "_SpotOrderBook") and hasattr(gate_protocol, "parse_spot_snapshot")
