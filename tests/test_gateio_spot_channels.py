"""Every Gate spot channel on a real or documented frame (gateio-protocol.md §2, §3, §6)."""

from __future__ import annotations


import pytest

from cexfeed.exchanges.gateio.protocol import spot_symbol_map
from cexfeed.exchanges.gateio.spot_public_handler import GateioSpotPublicWebSocketHandler
from cexfeed.handlers import ConnectionHooks
from cexfeed.models import BestBidOffer, BookUpdate, Kline, Ticker, Trade, VenueError


class Hooks(ConnectionHooks):
    def __init__(self) -> None:
        self.acks: list = []
        self.pongs = 0
        self.reconnects: list[str] = []

    def on_ack(self, request_id, channel, ok, message):
        self.acks.append((request_id, channel, ok, message))

    def on_pong(self):
        self.pongs += 1

    def on_reconnect_requested(self, reason):
        self.reconnects.append(reason)


@pytest.fixture
def run():
    events: list = []
    handler = GateioSpotPublicWebSocketHandler(on_event=events.append)
    hooks = Hooks()
    handler.hooks = hooks

    def feed(frame: str | bytes):
        handler._handle_message(frame.encode() if isinstance(frame, str) else frame, 123)
        return events

    feed.handler = handler
    feed.hooks = hooks
    return feed


def test_book_ticker_real_frame(run):
    # real frame, crypto-msg-parser tests (2022)
    events = run('{"time":1654029559,"channel":"spot.book_ticker","event":"update","result":{"t":1654029559473,"u":6765708346,"s":"BTC_USDT","b":"31738.93","B":"2.3039","a":"31738.94","A":"0.335"}}')
    (bbo,) = events
    assert isinstance(bbo, BestBidOffer)
    assert (bbo.symbol, bbo.venue_symbol, bbo.market) == ("BTC/USDT", "BTC_USDT", "spot")
    assert (bbo.bid_price, bbo.bid_size, bbo.ask_price, bbo.ask_size) == (31738.93, 2.3039, 31738.94, 0.335)
    assert bbo.update_id == 6765708346 and bbo.exchange_ts == 1654029559473 and bbo.recv_ts == 123


def test_trade_real_frame_taker_side_and_ms(run):
    # real frame, 2026-09-02 (gateio-protocol.md §6.2): ns-precision create_time_ms string
    events = run('{"time":1788336082,"time_ms":1788336082402,"channel":"spot.trades","event":"update","result":{"id":217831625,"id_market":217831625,"create_time":1788336082,"create_time_ms":"1788336082402.208000","side":"sell","currency_pair":"BTC_USDT","amount":"0.000021","price":"77474","range":"217831625-217831625","stock":"BTC","money":"USDT","trade_mode":0}}')
    (trade,) = events
    assert isinstance(trade, Trade)
    assert (trade.price, trade.size, trade.side, trade.trade_id) == (77474.0, 0.000021, "sell", "217831625")
    assert trade.exchange_ts == 1788336082402 and trade.contracts is None


def test_ticker_real_frame(run):
    events = run('{"time":1619093533,"channel":"spot.tickers","event":"update","result":{"currency_pair":"NEO_BTC","last":"0.0018716","lowest_ask":"0.0018734","highest_bid":"0.0018697","change_percentage":"2.9256","base_volume":"1138.01640718","quote_volume":"2.048263365803126","high_24h":"0.0018754","low_24h":"0.0017148"}}')
    (t,) = events
    assert isinstance(t, Ticker)
    assert t.symbol == "NEO/BTC" and t.exchange_ts == 1619093533000
    assert (t.last, t.best_bid, t.best_ask) == (0.0018716, 0.0018697, 0.0018734)
    assert (t.high_24h, t.low_24h, t.change_pct) == (0.0018754, 0.0017148, 2.9256)
    assert (t.base_volume, t.quote_volume) == (1138.01640718, 2.048263365803126)


def test_candlestick_real_frame_volumes(run):
    events = run('{"time":1662803082,"channel":"spot.candlesticks","event":"update","result":{"t":"1662803040","v":"3272.187909","c":"21342.41","h":"21352.26","l":"21342.41","o":"21352.26","n":"1m_BTC_USDT","a":"0.1533"}}')
    (k,) = events
    assert isinstance(k, Kline)
    assert (k.symbol, k.interval, k.open_ts) == ("BTC/USDT", "1m", 1662803040000)
    assert (k.open, k.high, k.low, k.close) == (21352.26, 21352.26, 21342.41, 21342.41)
    assert k.volume == 0.1533 and k.quote_volume == 3272.187909 and k.closed is None


def test_order_book_update_documented_full_frame(run):
    events = run('{"time":1606294781,"time_ms":1606294781236,"channel":"spot.order_book_update","event":"update","result":{"t":1606294781123,"full":true,"l":"100","e":"depthUpdate","E":1606294781,"s":"BTC_USDT","U":48776301,"u":48776306,"b":[["19137.74","0.0001"],["19088.37","0"]],"a":[["19137.75","0.6135"]]}}')
    book = run.handler.books["BTC_USDT"].book
    assert book.top_bids() == [(19137.74, 0.0001)] and book.top_asks() == [(19137.75, 0.6135)]
    assert book.last_update_id == 48776306
    update = next(e for e in events if isinstance(e, BookUpdate))
    assert update.snapshot and update.exchange_ts == 1606294781123


def test_order_book_update_real_delta_applies_after_snapshot(run):
    run.handler.apply_snapshot("DOGE_USDT", 4153443402, [(0.077641, 5.0), (0.0782, 1.0)], [(0.0783, 2.0)])
    events = run('{"time":1673280813,"time_ms":1673280813940,"channel":"spot.order_book_update","event":"update","result":{"t":1673280813774,"e":"depthUpdate","E":1673280813,"s":"DOGE_USDT","U":4153443403,"u":4153443403,"b":[["0.078249","1000"],["0.077641","0"],["0.078228","127.86"],["0.077992","9778.57"]],"a":[]}}')
    update = events[-1]
    assert isinstance(update, BookUpdate) and not update.snapshot
    assert (update.first_update_id, update.last_update_id) == (4153443403, 4153443403)
    book = run.handler.books["DOGE_USDT"].book
    assert book.top_bids() == [(0.078249, 1000.0), (0.078228, 127.86), (0.0782, 1.0), (0.077992, 9778.57)]


def test_subscribe_ack_with_id_and_pong(run):
    run('{"time":1611541000,"time_ms":1611541000001,"id":7,"channel":"spot.trades","event":"subscribe","error":null,"result":{"status":"success"}}')
    run('{"time":1545404023,"channel":"spot.pong","event":"","error":null,"result":null}')
    assert run.hooks.acks == [(7, "spot.trades", True, "success")]
    assert run.hooks.pongs == 1


def test_failed_subscribe_is_error_event_and_refused_ack(run):
    events = run('{"time":1747391482,"time_ms":1747391482960,"id":1,"conn_id":"d9db9373dc5e081e","channel":"spot.trades","event":"subscribe","payload":["NOPE_USDT"],"error":{"code":2,"message":"unknown currency pair NOPE_USDT"},"result":{"status":"fail"}}')
    (err,) = events
    assert isinstance(err, VenueError)
    assert (err.code, err.message, err.channel) == (2, "unknown currency pair NOPE_USDT", "spot.trades")
    assert run.hooks.acks == [(1, "spot.trades", False, "unknown currency pair NOPE_USDT")]


def test_already_subscribed_refusal_is_no_error_event(run):
    # pitfalls #10: "Alert sub" = the connection holds the stream already; the connection keeps
    # it (tests/test_subscriptions_live.py), the handler only passes the ack on and counts it
    events = run('{"time":1747391482,"time_ms":1747391482960,"id":"1","conn_id":"d9db9373dc5e081e","channel":"spot.obu","event":"subscribe","payload":["ob.BTC_USDT.400"],"error":{"code":2,"message":"Alert sub ob.BTC_USDT.400"},"result":{"status":"fail"}}')
    assert events == []
    # the id echoed as a numeric string is read as the number of the request
    assert run.hooks.acks == [(1, "spot.obu", False, "Alert sub ob.BTC_USDT.400")]
    assert run.handler.stats.errors == {"already_subscribed": 1}


def test_captured_error_frames_are_counted_not_raised(run, captures_dir):
    lines = (captures_dir / "gateio" / "error-frames_various.jsonl").read_text().splitlines()
    for line in lines:
        run(line)
    errors = [e for e in run.handler.stats.errors.elements()]
    assert run.handler.stats.errors["venue_error"] == 5, errors
    codes = sorted(e.code for e in run.handler._on_event.__self__ if isinstance(e, VenueError))
    assert codes == [2, 2, 2, 4, 11]


def test_malformed_unknown_and_upgrade_notice_do_not_stop_stream(run):
    run(b'{"time":1,"channel":"spot.trades","event":"update","result":{"id":')  # truncated
    run(b"\x00\x01garbage")
    run('{"time":1,"time_ms":1000,"channel":"spot.nope","event":"update","result":{}}')
    run('{"time":1,"channel":"spot.trades","event":"update","result":{"id":"x"}}')  # wrong type
    run('{"time":1784800711,"time_ms":1784800711140,"channel":"spot.system","event":"update","result":{"type":"upgrade","msg":"The connection will soon be closed for a service upgrade. Please reconnect."}}')
    events = run('{"time":1654029559,"channel":"spot.book_ticker","event":"update","result":{"t":1,"u":2,"s":"ETH_USDT","b":"1","B":"2","a":"3","A":"4"}}')
    stats = run.handler.stats
    assert stats.errors["malformed"] == 3
    assert stats.errors["unknown_channel"] == 1
    assert run.hooks.reconnects and "upgrade" in run.hooks.reconnects[0]
    assert stats.frames == 6
    assert isinstance(events[-1], BestBidOffer) and events[-1].ask_size == 4.0


def test_symbol_map_from_captured_currency_pairs(captures_dir):
    from cexfeed.capture import read_instruments

    smap = spot_symbol_map(read_instruments(captures_dir / "gateio" / "GATEIO.0"))
    inst = smap.instrument("BTC_USDC")
    assert inst is not None and inst.symbol == "BTC/USDC"
    assert smap.to_venue("NEO/BTC") == "NEO_BTC"
    assert smap.unified("NOT_LISTED") == "NOT/LISTED"  # fallback keeps the stream alive
    ink = smap.instrument("INK_USDT")
    assert ink.price_precision is not None and ink.tick_size == float(f"1e-{ink.price_precision}")


@pytest.mark.parametrize(
    "frame",
    [
        # reported by a user trial: NaN price, negative amount and an unknown side got through
        '{"time":1,"channel":"spot.trades","event":"update","result":{"id":1,"currency_pair":"BTC_USDT","side":"sideways","amount":"-1","price":"NaN"}}',
        '{"time":1,"channel":"spot.trades","event":"update","result":{"id":1,"currency_pair":"BTC_USDT","side":"buy","amount":"1","price":"NaN"}}',
        '{"time":1,"channel":"spot.book_ticker","event":"update","result":{"t":1,"u":2,"s":"BTC_USDT","b":"inf","B":"1","a":"-inf","A":"1"}}',
        '{"time":1,"channel":"spot.order_book_update","event":"update","result":{"t":1,"s":"BTC_USDT","U":1,"u":1,"b":[["100","-2"]],"a":[]}}',
    ],
)
def test_impossible_numbers_are_malformed_not_events(run, frame):
    events = run(frame)
    assert events == []
    assert run.handler.stats.errors["malformed"] == 1


def test_empty_pair_name_is_malformed(run):
    # reported by a user trial: a trade with "currency_pair":"" came out with symbol ""
    events = run('{"time":1,"channel":"spot.trades","event":"update","result":{"id":1,"currency_pair":"","side":"buy","amount":"1","price":"2"}}')
    assert events == [] and run.handler.stats.errors["malformed"] == 1
