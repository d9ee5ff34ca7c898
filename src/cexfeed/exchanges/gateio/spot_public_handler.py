"""Gate.io spot public channels (gateio-protocol.md §6, book sync §10.1).

| channel                  | result (one object per push)                     | events                |
|--------------------------|--------------------------------------------------|-----------------------|
| spot.book_ticker         | t ms, u, s, b/B bid, a/A ask                     | BestBidOffer          |
| spot.trades              | id, create_time_ms (str ms), side (taker), amount | Trade                 |
| spot.tickers             | last, lowest_ask, highest_bid, 24h stats         | Ticker                |
| spot.candlesticks        | t (str s), o/h/l/c, v quote vol, a base vol, n   | Kline                 |
| spot.order_book_update   | t ms, full?, s, U, u, b/a [[price, size]]        | BookUpdate, BookStatus|
| spot.obu                 | t ms, full?, s "ob.X.50", U, u, b/a (see obu.py) | BookUpdate, BookStatus|
"""

from __future__ import annotations

import msgspec

from ...models import SPOT, BestBidOffer, Kline, Ticker, Trade
from ...symbols import SymbolMap
from ...wire import FractionalMillis, Millis, Name, Price, Seconds, SeqId, Side, Signed, Size
from .common import GateioPublicHandler, result_prefix
from .obu import ObuBooks, ObuUpdate
from .protocol import parse_spot_snapshot, spot_symbol_map


class BookTicker(msgspec.Struct, gc=False):
    t: Millis
    s: Name
    b: Price
    B: Size
    a: Price
    A: Size
    u: SeqId | None = None


class SpotTrade(msgspec.Struct, gc=False):
    id: int
    currency_pair: Name
    side: Side
    amount: Size
    price: Price
    create_time: Seconds = 0
    create_time_ms: FractionalMillis = 0.0


class SpotTicker(msgspec.Struct, gc=False):
    """``spot.tickers`` result (§6.1): prices quote currency (``highest_bid``/``lowest_ask``
    the best bid/offer), ``change_percentage`` percent, ``base_volume``/``quote_volume``."""

    currency_pair: Name
    last: Price | None = None
    lowest_ask: Price | None = None
    highest_bid: Price | None = None
    change_percentage: Signed | None = None
    base_volume: Size | None = None
    quote_volume: Size | None = None
    high_24h: Price | None = None
    low_24h: Price | None = None


class Candle(msgspec.Struct, gc=False):
    """``spot.candlesticks`` result (§6.4): ``t`` window start s, ``v`` quote volume, ``a``
    base amount, ``w`` window closed, ``n`` ``<interval>_<pair>``."""

    t: Seconds
    o: Price
    h: Price
    l: Price  # noqa: E741 - venue field name
    c: Price
    n: str
    v: Size | None = None
    a: Size | None = None
    w: bool | None = None


class SpotBookUpdate(msgspec.Struct, gc=False):
    """``spot.order_book_update`` result (§6.6); ``U`` may be absent only on a ``full`` push."""

    s: Name
    u: SeqId
    U: SeqId | None = None
    t: Millis = 0
    full: bool = False
    b: list[tuple[Price, Size]] = []
    a: list[tuple[Price, Size]] = []




class GateioSpotPublicWebSocketHandler(ObuBooks, GateioPublicHandler):
    """Gate.io spot market data: raw frame -> :mod:`cexfeed.models` events.

    ``symbols`` maps ``BTC_USDT`` <-> ``BTC/USDT`` (default: split on ``_``); ``depth`` is the
    book depth kept, which must equal the subscribed ``order_book_update`` level (100 for
    ``100ms``, 20 for ``20ms``) and the REST snapshot ``limit``.
    """

    market = SPOT
    PONG = "spot.pong"
    SYSTEM = "spot.system"
    CHANNELS = {
        "spot.book_ticker": ("_on_book_ticker", BookTicker),
        "spot.trades": ("_on_trade", SpotTrade),
        "spot.tickers": ("_on_ticker", SpotTicker),
        "spot.candlesticks": ("_on_candle", Candle),
        # GateioPublicHandler._on_book_update (long frames go to the compiled reader first)
        "spot.order_book_update": ("_on_book_update", SpotBookUpdate),
        # Order Book V2, in-band snapshots (obu.py, gateio-protocol.md §6.8)
        "spot.obu": ("_on_obu", ObuUpdate),
    }
    FAST_BOOK_CHANNEL = b"spot.order_book_update"
    FAST_BOOK_ARRAYS = True
    # a ticker field sent as "" (quiet pairs) or an impossible number is left out (None)
    LENIENT = {"spot.tickers": "ticker_lenient"}

    def __init__(self, on_event=None, symbols: SymbolMap | None = None, depth: int = 100) -> None:
        super().__init__(on_event, symbols, depth)

    def _default_symbols(self) -> SymbolMap:
        return spot_symbol_map()

    def _on_book_ticker(self, env, recv_ts: int) -> None:
        r = env.result
        self._emit(
            BestBidOffer(
                venue="gateio",
                market=SPOT,
                symbol=self._unified(r.s),
                venue_symbol=r.s,
                exchange_ts=r.t,
                recv_ts=recv_ts,
                bid_price=r.b,
                bid_size=r.B,
                ask_price=r.a,
                ask_size=r.A,
                update_id=r.u,
            )
        )

    def _on_trade(self, env, recv_ts: int) -> None:
        r = env.result
        if r.amount == 0:
            self._count_error("zero_size_trade", result_prefix(env))
            return
        self._emit(
            Trade(
                venue="gateio",
                market=SPOT,
                symbol=self._unified(r.currency_pair),
                venue_symbol=r.currency_pair,
                exchange_ts=int(r.create_time_ms) if r.create_time_ms else r.create_time * 1000,
                recv_ts=recv_ts,
                price=r.price,
                size=r.amount,
                side=r.side,
                trade_id=str(r.id),
            )
        )

    def _on_ticker(self, env, recv_ts: int) -> None:
        r = env.result
        self._emit(
            Ticker(
                venue="gateio",
                market=SPOT,
                symbol=self._unified(r.currency_pair),
                venue_symbol=r.currency_pair,
                exchange_ts=env.time_ms or env.time * 1000,
                recv_ts=recv_ts,
                last=r.last,
                best_bid=r.highest_bid,
                best_ask=r.lowest_ask,
                high_24h=r.high_24h,
                low_24h=r.low_24h,
                base_volume=r.base_volume,
                quote_volume=r.quote_volume,
                change_pct=r.change_percentage,
            )
        )

    def _on_candle(self, env, recv_ts: int) -> None:
        r = env.result
        interval, _, pair = r.n.partition("_")
        if not pair:
            raise ValueError(f"candle without a pair: {r.n!r}")
        self._emit(
            Kline(
                venue="gateio",
                market=SPOT,
                symbol=self._unified(pair),
                venue_symbol=pair,
                exchange_ts=env.time_ms or env.time * 1000,
                recv_ts=recv_ts,
                interval=interval,
                open_ts=r.t * 1000,
                open=r.o,
                high=r.h,
                low=r.l,
                close=r.c,
                # spot `v` is quote volume, `a` base amount (gateio-protocol.md §6.4)
                volume=r.a,
                quote_volume=r.v,
                closed=r.w,
            )
        )


# -- capture replay (cexfeed.capture.ReplaySupport) -------------------------------------------


def replay_handler(instruments: bytes | None) -> GateioSpotPublicWebSocketHandler:
    """A spot handler for replay, named from a REST ``/spot/currency_pairs`` body (``NAME.0``
    beside a cryptofeed capture), or by splitting on ``_`` when ``None``."""
    return GateioSpotPublicWebSocketHandler(symbols=spot_symbol_map(instruments))


def replay_apply_snapshot(handler: GateioSpotPublicWebSocketHandler, venue_symbol: str, body: bytes, recv_ts: int) -> None:
    """Apply one recorded ``/spot/order_book?with_id=true`` body (the live stream's decoder).
    Raises ``msgspec.DecodeError`` (a ``ValueError``) on a bad body or a missing ``id``."""
    snap = parse_spot_snapshot(body)
    handler.apply_snapshot(venue_symbol, snap.id, snap.bids, snap.asks, snap.update or snap.current, recv_ts)
