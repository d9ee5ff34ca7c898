"""Issue #10 items 2 and 18, on every path (direct with its compiled parts, direct on the pure
twins, strategy) and every venue:

2. a venue time in s, ms, µs or ns becomes ms (told apart by magnitude, ``wire.to_ms``); a frame
   is never dropped, and a book never resynced, because of its time's unit;
18. a time the venue did not give is ``None`` (``null`` in JSON), not 0, on every event type,
   locally raised status events included; an error event names the symbol it concerns where
   the frame or the request says it; partial pushes merge with ``cexfeed.latest.Latest``.
"""

from __future__ import annotations

import json
from decimal import Decimal

import msgspec
import pytest
from paths import run, same_on_every_path

from cexfeed import models, wire
from cexfeed.exchanges.gateio.contracts import decode_futures_snapshot
from cexfeed.exchanges.gateio.protocol import parse_spot_snapshot
from cexfeed.exchanges.mexc.encode import aggre_deals_frame, aggre_depth_frame, kline_frame
from cexfeed.exchanges.mexc.rest import parse_depth_snapshot
from cexfeed.latest import Latest

MS = 1700000000123
# the same instant in each unit, and the ms it must give
UNITS = {
    "s": (1700000000, 1700000000000),
    "ms": (MS, MS),
    "us": (MS * 1000 + 456, MS),
    "ns": (MS * 1000_000 + 456_789, MS),
    "s-text": ("1700000000.123", MS),
    "ms-fraction": ("1700000000123.456", MS),
}


def _gate(channel: str, result, **envelope) -> bytes:
    frame = {"time": 1, "time_ms": 1000, "channel": channel, "event": "update", "result": result}
    frame.update(envelope)
    return json.dumps(frame, separators=(",", ":")).encode()


def _levels(spot: bool, n: int = 20, low: float = 50.0, high: float = 60.0):
    """Enough levels that the frame takes the compiled reader (> 300 bytes)."""
    bids = [[f"{low - i * 0.5}", f"{i + 1}"] for i in range(n)]
    asks = [[f"{high + i * 0.5}", f"{i + 2}"] for i in range(n)]
    if spot:
        return bids, asks
    return [{"p": p, "s": int(s)} for p, s in bids], [{"p": p, "s": int(s)} for p, s in asks]


@pytest.mark.parametrize("unit", UNITS)
@pytest.mark.parametrize("stream", ["gateio-spot", "gateio-perp"])
def test_gate_book_times_in_any_unit_keep_the_book(stream, unit):
    value, ms = UNITS[unit]
    spot = stream == "gateio-spot"
    channel = "spot.order_book_update" if spot else "futures.order_book_update"
    bids, asks = _levels(spot)
    full = _gate(channel, {"t": value, "s": "BTC_USDT", "U": 1, "u": 10, "full": True, "b": bids, "a": asks})
    delta = _gate(channel, {"t": value, "s": "BTC_USDT", "U": 11, "u": 12, "b": bids[:1], "a": []})
    events, errors = same_on_every_path(stream, [full, delta, delta.replace(b'"U":11,"u":12', b'"U":13,"u":13')])
    books = [e for e in events if e["type"] == "BookUpdate"]
    assert [b["exchange_ts"] for b in books] == [ms, ms, ms] and errors == {}
    assert [(e["status"], e["reason"]) for e in events if e["type"] == "BookStatus"] == [("synced", "full")]


@pytest.mark.parametrize("unit", UNITS)
def test_gate_item_times_in_any_unit(unit):
    value, ms = UNITS[unit]
    spot_frames = [
        _gate("spot.trades", {"id": 1, "create_time_ms": value, "side": "buy", "currency_pair": "BTC_USDT", "amount": "1", "price": "2"}),
        _gate("spot.book_ticker", {"t": value, "u": 5, "s": "BTC_USDT", "b": "1", "B": "1", "a": "2", "A": "1"}),
        _gate("spot.candlesticks", {"t": value, "v": "1", "c": "2", "h": "2", "l": "1", "o": "1", "n": "1m_BTC_USDT", "a": "1"}),
        _gate("spot.tickers", {"currency_pair": "BTC_USDT", "last": "2"}, time=value, time_ms=0),
    ]
    events, errors = same_on_every_path("gateio-spot", spot_frames)
    trade, bbo, kline, ticker = events
    assert (trade["exchange_ts"], bbo["exchange_ts"], kline["open_ts"], ticker["exchange_ts"]) == (ms, ms, ms, ms) and errors == {}
    ticker = {"contract": "BTC_USDT", "last": "65000.1", "change_percentage": "-1.5", "funding_rate": "0.0001", "funding_rate_indicative": "0.0002",
              "mark_price": "65000.2", "index_price": "65000.3", "total_size": "1000", "volume_24h": "100", "volume_24h_base": "0.01",
              "volume_24h_quote": "650", "low_24h": "64000", "high_24h": "66000", "funding_next_apply": value, "t": value}
    perp_frames = [
        _gate("futures.tickers", [ticker]),  # long: the compiled reader
        _gate("futures.trades", [{"id": 2, "contract": "BTC_USDT", "size": -3, "price": "65000", "create_time_ms": value}]),
        _gate("futures.public_liquidates", [{"contract": "BTC_USDT", "price": "64000", "size": 5, "time": value}]),
        _gate("futures.contract_stats", [{"contract": "BTC_USDT", "time": value, "open_interest": 7}]),
        _gate("futures.book_ticker", {"t": value, "u": 5, "s": "BTC_USDT", "b": "1", "B": 1, "a": "2", "A": 1}),
    ]
    events, errors = same_on_every_path("gateio-perp", perp_frames)
    assert errors == {} and len(events) == 8
    assert all(e["exchange_ts"] == ms for e in events)
    (funding,) = [e for e in events if e["type"] == "FundingRate"]
    assert funding["next_funding_ts"] == ms


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_mexc_times_in_any_unit_keep_the_book(unit):
    value, ms = UNITS[unit]

    def snapshot(h):
        h.apply_snapshot("BTCUSDT", 10, [(50.0, 1.0)], [(60.0, 1.0)], None, 7)

    steps = [
        snapshot,
        aggre_depth_frame("BTCUSDT", 11, 12, bids=[("51", "2")], send_time=value),
        aggre_depth_frame("BTCUSDT", 13, 13, asks=[("59", "2")], send_time=value),
        aggre_deals_frame("BTCUSDT", [("55", "1", 1, value, "t1")], send_time=value),
        kline_frame("BTCUSDT", "Min1", value, "1", "2", "1", "2", "3", "4", create_time=value),
    ]
    events, errors = same_on_every_path("mexc-spot", steps)
    assert errors == {}
    deltas = [e for e in events if e["type"] == "BookUpdate" and not e["snapshot"]]
    assert [d["exchange_ts"] for d in deltas] == [ms, ms]
    (trade,) = [e for e in events if e["type"] == "Trade"]
    (kline,) = [e for e in events if e["type"] == "Kline"]
    assert (trade["exchange_ts"], kline["exchange_ts"], kline["open_ts"]) == (ms, ms, ms)
    assert [e["status"] for e in events if e["type"] == "BookStatus"] == ["synced"]


def test_rest_snapshot_times_in_any_unit():
    assert parse_spot_snapshot(b'{"id":5,"current":1700000000123,"update":1700000000,"asks":[],"bids":[]}').exchange_ts == 1700000000000
    assert parse_spot_snapshot(b'{"id":5,"current":1700000000123,"asks":[],"bids":[]}').exchange_ts == MS
    assert parse_spot_snapshot(b'{"id":5,"asks":[],"bids":[]}').exchange_ts is None
    assert decode_futures_snapshot(b'{"id":5,"current":1700000000.123,"update":1700000000.123,"asks":[],"bids":[]}').exchange_ts == MS
    assert decode_futures_snapshot(b'{"id":5,"update":1700000000123456,"asks":[],"bids":[]}').exchange_ts == MS
    assert parse_depth_snapshot(b'{"lastUpdateId":5,"timestamp":1700000000123456789}').exchange_ts == MS
    assert parse_depth_snapshot(b'{"lastUpdateId":5}').exchange_ts is None


@pytest.mark.parametrize("value,ms", [(0, None), ("0", None), (1, 1000), (10**11, 10**11), (10**14, 10**11), (10**17, 10**11),
                                      (2**63 - 1, (2**63 - 1) // 10**6), ("1e3", 10**6)])
def test_the_rule_at_its_edges(value, ms):
    assert wire.to_ms(value) == ms
    # the typed decode (direct path) reads the same value: the same ms
    typed = msgspec.json.Decoder(list[wire.Time], strict=False).decode(msgspec.json.encode([value]))[0]
    assert wire.to_ms(typed) == ms


# -- item 18: no time is None -------------------------------------------------------------------


def test_no_time_is_none_on_gate_events():
    spot = [
        b'{"channel":"spot.trades","event":"update","result":{"id":1,"side":"buy","currency_pair":"BTC_USDT","amount":"1","price":"2"}}',
        b'{"channel":"spot.book_ticker","event":"update","result":{"u":5,"s":"BTC_USDT","b":"1","B":"1","a":"2","A":"1"}}',
        b'{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","u":3,"full":true,"b":[["1","1"]],"a":[["2","1"]]}}',
        b'{"channel":"spot.candlesticks","event":"update","result":{"t":0,"c":"2","h":"2","l":"1","o":"1","n":"1m_BTC_USDT"}}',
    ]
    events, errors = same_on_every_path("gateio-spot", spot)
    assert errors == {} and [e["type"] for e in events] == ["Trade", "BestBidOffer", "BookUpdate", "BookStatus", "Kline"]
    assert all(e["exchange_ts"] is None for e in events)
    assert events[-1]["open_ts"] is None
    perp = [b'{"channel":"futures.tickers","event":"update","result":[{"contract":"BTC_USDT","mark_price":"1","funding_next_apply":0}]}']
    events, _ = same_on_every_path("gateio-perp", perp)
    assert [(e["type"], e["exchange_ts"]) for e in events] == [("FundingRate", None), ("MarkPrice", None)]
    assert events[0]["next_funding_ts"] is None


def test_no_time_is_none_on_mexc_events():
    events, errors = same_on_every_path("mexc-spot", [aggre_deals_frame("BTCUSDT", [("55", "1", 2, 0, "t1")], send_time=None)])
    assert errors == {} and [(e["type"], e["exchange_ts"]) for e in events] == [("Trade", None)]


def test_local_status_events_have_no_time_and_round_trip():
    events, _, h = run("gateio-spot", "direct", [b'{"channel":"spot.order_book_update","event":"update","result":{"s":"BTC_USDT","u":3,"full":true,"b":[["1","1"]],"a":[["2","1"]]}}'])
    h.close_book("BTC_USDT")
    stale = events[-1]
    assert isinstance(stale, models.BookStatus) and stale.exchange_ts is None
    local = models.local_event(models.ConnectionStatus, "gateio", "spot", connection="gateio-spot#0", status="connected")
    assert local.exchange_ts is None and b'"exchange_ts":null' in models.encode_event(local)
    # every event type round-trips through the JSON encoding, with None times too
    for event in events + [local]:
        assert models.decode_event(models.encode_event(event)) == event


def test_every_event_type_round_trips_with_none():
    head = dict(venue="gateio", market="perp", symbol="BTC/USDT:USDT", venue_symbol="BTC_USDT", exchange_ts=None, recv_ts=1)
    samples = [
        models.Trade(**head, price=1.0, size=2.0, side="unknown", trade_id="x", raw_side="hold"),
        models.BestBidOffer(**head, bid_price=None, bid_size=None, ask_price=2.0, ask_size=1.0),
        models.BookUpdate(**head, bids=[(1.0, 2.0)], asks=[], snapshot=True, first_update_id=1, last_update_id=1),
        models.Ticker(**head), models.Kline(**head, interval="1m", open_ts=None, open=1.0, high=1.0, low=1.0, close=1.0),
        models.BookStatus(**head, status="synced", reason="full"), models.FundingRate(**head), models.MarkPrice(**head),
        models.Liquidation(**head, price=1.0, size=1.0, side="sell"), models.OpenInterest(**head, open_interest=1.0),
        models.VenueError(**head, code=2, message="x"), models.StreamStatus(**head, channel="", status="no_data"),
        models.ConnectionStatus(**head, connection="c", status="connected"), models.EventsDropped(**head, count=1, total=1),
        # account events: the same time rule, values exact
        models.Order(**head, order_id="1", side="buy", order_type="limit", status=models.OrderStatus.OPEN, raw_status="open",
                     amount=Decimal("0.10"), created_ts=None, updated_ts=None),
        models.Fill(**head, trade_id="2", order_id="1", side="sell", price=Decimal("1.000000000000000000001")),
        models.Balance(**head, currency="USDT", total=Decimal("1e-30")), models.Position(**head, mode="single", side=None, contracts=Decimal(0)),
        models.AccountStatus(**head, status="live"), models.AccountNotice(**head, kind="liquidation", price=Decimal("3.5")),
    ]
    assert {type(e) for e in samples} == set(models.AnyEvent.__args__)
    for event in samples:
        assert models.decode_event(models.encode_event(event)) == event


# -- item 18: error events name their symbol ----------------------------------------------------


def test_gate_error_names_the_symbol_of_its_payload_or_request():
    with_payload = b'{"time":1,"time_ms":1000,"id":3,"channel":"spot.obu","event":"subscribe","payload":["ob.ETH_USDT.50"],"error":{"code":2,"message":"unknown"},"result":{"status":"fail"}}'
    without = b'{"time":1,"time_ms":1000,"id":4,"channel":"spot.trades","event":"subscribe","error":{"code":2,"message":"unknown currency pair"},"result":{"status":"fail"}}'

    def pending(h):
        h.hooks.requests[4] = "XRP_USDT"  # the request the second refusal answers

    events, _ = same_on_every_path("gateio-spot", [pending, with_payload, without])
    assert [(e["type"], e["symbol"], e["venue_symbol"], e["exchange_ts"]) for e in events] == [
        ("VenueError", "ETH/USDT", "ETH_USDT", 1000000), ("VenueError", "XRP/USDT", "XRP_USDT", 1000000)]
    candles = b'{"time":1700000000,"channel":"futures.candlesticks","event":"subscribe","payload":["1m","BTC_USDT"],"error":{"code":2,"message":"x"}}'
    (error,), _ = same_on_every_path("gateio-perp", [candles])
    assert (error["symbol"], error["exchange_ts"]) == ("BTC/USDT:USDT", 1700000000000)


def test_mexc_refusal_names_the_symbol_of_its_channel_or_request():
    refused = '{"id":3,"code":0,"msg":"Not Subscribed successfully! [spot@public.deals.v3.api.pb@ETHUSDT]. Reason： Blocked!"}'
    empty = '{"id":4,"code":0,"msg":""}'

    def pending(h):
        h.hooks.requests[4] = "SOLUSDT"

    events, _ = same_on_every_path("mexc-spot", [pending, refused, empty])
    assert [(e["symbol"], e["venue_symbol"], e["exchange_ts"]) for e in events] == [("ETH/USDT", "ETHUSDT", None), ("SOL/USDT", "SOLUSDT", None)]


# -- item 18: the latest value of partial pushes ------------------------------------------------


def test_latest_merges_partial_pushes_per_symbol():
    frames = [
        b'{"time":1,"time_ms":1700000000000,"channel":"futures.tickers","event":"update","result":[{"contract":"BTC_USDT","mark_price":"100","funding_rate":"0.0001"}]}',
        b'{"time":1,"time_ms":1700000001000,"channel":"futures.tickers","event":"update","result":[{"contract":"BTC_USDT","index_price":"101"}]}',
        b'{"time":1,"time_ms":1700000002000,"channel":"futures.tickers","event":"update","result":[{"contract":"ETH_USDT","mark_price":"5"}]}',
    ]
    events, _, _ = run("gateio-perp", "direct", frames)
    latest = Latest()
    merged = [latest.update(e) for e in events]
    assert (merged[1].mark_price, merged[1].index_price) == (100.0, None)
    assert (merged[2].mark_price, merged[2].index_price, merged[2].exchange_ts) == (100.0, 101.0, 1700000001000)
    assert events[2].mark_price is None  # the event itself is left as the push gave it
    assert merged[3].symbol == "ETH/USDT:USDT" and merged[3].index_price is None
    assert latest.get(models.MarkPrice, "gateio", "perp", "BTC/USDT:USDT") == merged[2]
    bbo = models.BestBidOffer("gateio", "perp", "BTC/USDT:USDT", "BTC_USDT", None, 1, None, None, 2.0, 1.0)
    assert latest.update(bbo) is bbo  # no quote is not "not in this push": never merged
