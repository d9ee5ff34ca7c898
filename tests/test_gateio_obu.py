"""Order Book V2 (``spot.obu`` / ``futures.obu``) on documented and probed frames
(gateio-protocol.md §6.8, §7.7, §10.2; pitfalls #10, #12)."""

from __future__ import annotations

import msgspec
import pytest

from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.futures_public_handler import GateioFuturesPublicWebSocketHandler
from cexfeed.exchanges.gateio.futures_protocol import GateioFuturesProtocol
from cexfeed.net.protocol import Subscription
from cexfeed.exchanges.gateio.obu import parse_obu_stream
from cexfeed.exchanges.gateio.spot_public_handler import GateioSpotPublicWebSocketHandler
from cexfeed.handlers import ConnectionHooks
from cexfeed.models import BookStatus, BookUpdate

CONTRACTS = msgspec.json.encode(
    [
        {"name": "BTC_USDT", "quanto_multiplier": "0.0001", "order_price_round": "0.1", "order_size_min": 1},
        {"name": "ETH_USDT", "quanto_multiplier": "0.01", "order_price_round": "0.01", "order_size_min": "0.1", "enable_decimal": True},
    ]
)


class Hooks(ConnectionHooks):
    def __init__(self) -> None:
        self.resubscribes: list[str] = []
        self.snapshots: list[str] = []
        self.acks: list = []

    def request_resubscribe(self, venue_symbol):
        self.resubscribes.append(venue_symbol)

    def request_snapshot(self, venue_symbol):
        self.snapshots.append(venue_symbol)

    def on_ack(self, request_id, channel, ok, message):
        self.acks.append((channel, ok))


def make(cls, **kw):
    events: list = []
    handler = cls(on_event=events.append, **kw)
    handler.hooks = Hooks()

    def feed(frame: str):
        handler._handle_message(frame.encode(), 1)
        return events

    return handler, events, feed


FULL = '{"time":1789456334,"time_ms":1789456334999,"channel":"futures.obu","event":"update","result":{"t":1789456334981,"full":true,"s":"ob.ETH_USDT.50","u":%d,"b":[["2480.27","2781.6"],["2480.25","1"],["2480.21","201.2"]],"a":[["2480.28","8292"],["2480.29","4"],["2480.33","100"]]}}'
DELTA = '{"time":1789456335,"time_ms":1789456335280,"channel":"futures.obu","event":"update","result":{"t":1789456335280,"s":"ob.ETH_USDT.50","U":%d,"u":%d,"b":[["2480.26","648"]],"a":[["2480.28","0"],["2480.3","3.5"]]}}'
IDONLY = '{"time":1789456335,"time_ms":1789456335301,"channel":"futures.obu","event":"update","result":{"t":1789456335300,"s":"ob.ETH_USDT.50","U":%d,"u":%d}}'


@pytest.fixture
def fut():
    return make(GateioFuturesPublicWebSocketHandler, symbols=futures_symbol_map(CONTRACTS))


def test_stream_names_and_payload():
    assert parse_obu_stream("ob.BTC_USDT.50") == ("BTC_USDT", 50)
    assert parse_obu_stream("ob.BTC_USDT_20260911.400") == ("BTC_USDT_20260911", 400)
    with pytest.raises(ValueError):
        parse_obu_stream("BTC_USDT")
    table = GateioFuturesProtocol.table
    assert table.payload(table.row("book_obu"), "BTC_USDT") == ["ob.BTC_USDT.50"]
    assert table.payload(table.row("book_obu"), "BTC_USDT", ("400",)) == ["ob.BTC_USDT.400"]
    assert table.payload(table.row("book"), "BTC_USDT") == ["BTC_USDT", "100ms", "100"]
    # 20ms allows only level 20 (§7.6): the protocol fills it in
    [sub] = GateioFuturesProtocol(book_interval="20ms").subscriptions(["book"], ["BTC_USDT"])
    assert sub == Subscription("book", "BTC_USDT", ("20ms", "20"))
    assert table.payload(table.row("book"), "BTC_USDT", sub.params) == ["BTC_USDT", "20ms", "20"]


def test_futures_obu_snapshot_deltas_sizes_in_base(fut):
    handler, events, feed = fut
    # the snapshot comes before the ack (§7.7), sizes are contract strings x 0.01
    feed(FULL % 108552472643)
    feed('{"time":1789456334,"time_ms":1789456335000,"conn_id":"c59a","channel":"futures.obu","event":"subscribe","payload":["ob.ETH_USDT.50"],"result":{"status":"success"}}')
    seq = handler.books["ETH_USDT"]
    assert seq.synced and seq.book.depth == 50
    assert seq.book.top_bids() == [(2480.27, 27.816), (2480.25, 0.01), (2480.21, 2.012)]
    assert seq.book.top_asks() == [(2480.28, 82.92), (2480.29, 0.04), (2480.33, 1.0)]
    snap, status = events
    assert isinstance(snap, BookUpdate) and snap.snapshot and snap.symbol == "ETH/USDT:USDT"
    assert isinstance(status, BookStatus) and (status.status, status.reason, status.last_update_id) == ("synced", "full", 108552472643)
    feed(DELTA % (108552472644, 108552472650))
    delta = events[-1]
    assert isinstance(delta, BookUpdate) and not delta.snapshot
    assert (delta.first_update_id, delta.last_update_id) == (108552472644, 108552472650)
    assert delta.bids == [(2480.26, 6.48)] and delta.asks == [(2480.28, 0.0), (2480.3, 0.035)]
    assert seq.book.best_ask() == (2480.29, 0.04) and seq.book.best_bid() == (2480.27, 27.816)
    # id-only increment: advances the id, changes nothing
    feed(IDONLY % (108552472651, 108552472660))
    assert seq.book.last_update_id == 108552472660 and seq.deltas_applied == 2
    assert handler.hooks.resubscribes == [] and handler.hooks.snapshots == []


def test_futures_obu_full_mid_stream_replaces(fut):
    handler, events, feed = fut
    feed(FULL % 1000)
    feed(DELTA % (1001, 1002))
    # a second full push mid-stream: replace, never merge (pitfalls #10)
    feed('{"time":1,"time_ms":2000,"channel":"futures.obu","event":"update","result":{"t":2000,"full":true,"s":"ob.ETH_USDT.50","u":5000,"b":[["2400","10"]],"a":[["2401","20"]]}}')
    seq = handler.books["ETH_USDT"]
    assert seq.book.top_bids() == [(2400.0, 0.1)] and seq.book.top_asks() == [(2401.0, 0.2)]
    assert seq.book.last_update_id == 5000
    feed(IDONLY % (5001, 5003))
    assert seq.book.last_update_id == 5003 and seq.synced
    assert handler.hooks.resubscribes == []
    # the old stream's levels are gone: a delta crossing the new book is a broken book
    feed(DELTA % (5004, 5005))
    assert not seq.synced and events[-1].reason == "crossed"
    assert handler.hooks.resubscribes == ["ETH_USDT"]


def test_futures_obu_gap_resubscribes_that_stream_only(fut):
    handler, events, feed = fut
    feed(FULL % 1000)
    feed(FULL.replace("ETH_USDT", "BTC_USDT") % 7000)
    feed(DELTA % (1002, 1003))  # expected U 1001: gap
    eth = handler.books["ETH_USDT"]
    btc = handler.books["BTC_USDT"]
    assert not eth.synced and btc.synced
    status = events[-1]
    assert isinstance(status, BookStatus) and (status.venue_symbol, status.status, status.reason) == ("ETH_USDT", "resyncing", "gap")
    assert handler.hooks.resubscribes == ["ETH_USDT"] and handler.hooks.snapshots == []
    # increments in flight before the new full are dropped without asking again
    n = len(events)
    feed(DELTA % (1004, 1005))
    assert len(events) == n and handler.hooks.resubscribes == ["ETH_USDT"]
    assert handler.stats.errors["obu_unsynced_delta"] == 1 and handler.stats.errors["book_gap"] == 1
    feed(FULL % 2000)
    assert eth.synced and eth.book.last_update_id == 2000
    assert btc.book.last_update_id == 7000


def test_obu_increment_before_any_snapshot_asks_once(fut):
    handler, events, feed = fut
    feed(DELTA % (10, 11))
    feed(DELTA % (12, 13))
    assert handler.hooks.resubscribes == ["ETH_USDT"]
    (status,) = events
    assert (status.status, status.reason) == ("resyncing", "no_snapshot")
    handler.reset_books()  # reconnect: the connection resubscribes everything
    feed(DELTA % (14, 15))
    assert handler.hooks.resubscribes == ["ETH_USDT", "ETH_USDT"]


def test_obu_book_keeps_stream_level(fut):
    handler, events, feed = fut
    bids = ",".join(f'["{1000 - i}","1"]' for i in range(60))
    feed('{"time":1,"time_ms":1,"channel":"futures.obu","event":"update","result":{"t":1,"full":true,"s":"ob.BTC_USDT.50","u":1,"b":[%s],"a":[["1001","1"]]}}' % bids)
    book = handler.books["BTC_USDT"].book
    assert len(book.bids) == 50 and book.best_bid() == (1000.0, 0.0001)


def test_spot_obu_documented_frames():
    handler, events, feed = make(GateioSpotPublicWebSocketHandler)
    feed('{"channel":"spot.obu","result":{"t":1747054612673,"full":true,"s":"ob.BTC_USDT.50","u":73777715168,"b":[["104027.1","509392"],["104027","477932"]],"a":[["104027.2","44617"],["104027.4","39322"]]},"time_ms":1747054612848,"event":"update"}')
    feed('{"channel":"spot.obu","result":{"t":1747054612695,"s":"ob.BTC_USDT.50","U":73777715169,"u":73777715212,"b":[["104024.5","10343"],["104014.5","509392"]],"a":[["104027.2","0"],["104027.4","0"]]},"time_ms":1747054612925,"event":"update"}')
    seq = handler.books["BTC_USDT"]
    assert seq.synced and seq.book.last_update_id == 73777715212
    assert seq.book.top_bids() == [(104027.1, 509392.0), (104027.0, 477932.0), (104024.5, 10343.0), (104014.5, 509392.0)]
    assert seq.book.top_asks() == []
    assert events[0].symbol == "BTC/USDT" and events[-1].asks == [(104027.2, 0.0), (104027.4, 0.0)]
    # the spot order_book_update path still resyncs through REST
    handler._handle_message(b'{"time":1,"time_ms":1,"channel":"spot.order_book_update","event":"update","result":{"t":1,"full":true,"s":"ETH_USDT","U":1,"u":5,"b":[["1","1"]],"a":[["2","1"]]}}', 1)
    handler._handle_message(b'{"time":1,"time_ms":1,"channel":"spot.order_book_update","event":"update","result":{"t":1,"s":"ETH_USDT","U":9,"u":10,"b":[],"a":[]}}', 1)
    assert handler.hooks.snapshots == ["ETH_USDT"] and handler.hooks.resubscribes == []


