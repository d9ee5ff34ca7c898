"""Build MEXC spot push frames (serialized ``PushDataV3ApiWrapper``) from values.

Used by the simulator, the tests and the benchmark; not on the client's receive path. Prices
and quantities may be given as floats (written with ``repr``, the shortest text giving the
same float back) or as the exact decimal text the venue would send. Times in ms, kline
window bounds in seconds (as on the wire, mexc-protocol.md §2.2).
"""

from __future__ import annotations

from typing import Iterable, Sequence

from .proto.push_pb2 import PushDataV3ApiWrapper
from .spot_table import channel

Num = float | str


def _s(value: Num) -> str:
    return value if isinstance(value, str) else repr(float(value))


def _wrapper(channel: str, symbol: str | None, send_time: int | None, create_time: int | None = None) -> PushDataV3ApiWrapper:
    w = PushDataV3ApiWrapper(channel=channel)
    if symbol is not None:
        w.symbol = symbol
    if send_time is not None:
        w.sendTime = send_time
    if create_time is not None:
        w.createTime = create_time
    return w


def _fill(items, levels: Iterable[Sequence[Num]]) -> None:
    for price, qty in levels:
        item = items.add()
        item.price = _s(price)
        item.quantity = _s(qty)


def aggre_depth_frame(
    symbol: str,
    from_version: int,
    to_version: int,
    bids: Iterable[Sequence[Num]] = (),
    asks: Iterable[Sequence[Num]] = (),
    send_time: int = 0,
    interval: str = "100ms",
    last_order_create_time: int = 0,
) -> bytes:
    """313 ``aggre.depth`` push covering ``from_version..to_version``."""
    w = _wrapper(channel("book", symbol, interval), symbol, send_time)
    body = w.publicAggreDepths
    _fill(body.asks, asks)
    _fill(body.bids, bids)
    body.eventType = f"spot@public.aggre.depth.v3.api.pb@{interval}"
    body.fromVersion = str(from_version)
    body.toVersion = str(to_version)
    body.lastOrderCreateTime = last_order_create_time
    return w.SerializeToString()


def limit_depth_frame(symbol: str, version: int, bids=(), asks=(), send_time: int = 0, levels: int = 20) -> bytes:
    """303 ``limit.depth`` push: a whole top-N book, best first."""
    w = _wrapper(channel("limit_book", symbol, str(levels)), symbol, send_time)
    body = w.publicLimitDepths
    _fill(body.asks, asks)
    _fill(body.bids, bids)
    body.eventType = "spot@public.limit.depth.v3.api.pb"
    body.version = str(version)
    return w.SerializeToString()


def aggre_deals_frame(symbol: str, deals: Iterable[tuple], send_time: int = 0, interval: str = "100ms") -> bytes:
    """314 ``aggre.deals`` push; ``deals`` are ``(price, qty, trade_type, time_ms, trade_id)``
    with trade_type 1 buy / 2 sell (taker); ``trade_id`` may be ``""``."""
    w = _wrapper(channel("trades", symbol, interval), symbol, send_time)
    body = w.publicAggreDeals
    for price, qty, trade_type, time_ms, trade_id in deals:
        d = body.deals.add()
        d.price = _s(price)
        d.quantity = _s(qty)
        d.tradeType = trade_type
        d.time = time_ms
        if trade_id:
            d.tradeId = trade_id
    body.eventType = f"spot@public.aggre.deals.v3.api.pb@{interval}"
    return w.SerializeToString()


def aggre_book_ticker_frame(
    symbol: str, bid_price: Num, bid_qty: Num, ask_price: Num, ask_qty: Num, version: int = 0, send_time: int = 0, interval: str = "100ms"
) -> bytes:
    """315 ``aggre.bookTicker`` push."""
    w = _wrapper(channel("bbo", symbol, interval), symbol, send_time)
    body = w.publicAggreBookTicker
    body.bidPrice = _s(bid_price)
    body.bidQuantity = _s(bid_qty)
    body.askPrice = _s(ask_price)
    body.askQuantity = _s(ask_qty)
    if version:
        body.version = str(version)
    return w.SerializeToString()


def book_ticker_batch_frame(symbol: str, items: Iterable[tuple], version: int = 0, send_time: int = 0) -> bytes:
    """311 ``bookTicker.batch`` push; ``items`` are ``(bid_price, bid_qty, ask_price, ask_qty)``."""
    w = _wrapper(channel("bbo_batch", symbol), symbol, send_time)
    body = w.publicBookTickerBatch
    for bp, bq, ap, aq in items:
        item = body.items.add()
        item.bidPrice, item.bidQuantity, item.askPrice, item.askQuantity = _s(bp), _s(bq), _s(ap), _s(aq)
    if version:
        body.version = str(version)
    return w.SerializeToString()


def kline_frame(
    symbol: str, interval: str, window_start_s: int, open_: Num, high: Num, low: Num, close: Num, volume: Num, amount: Num, create_time: int = 0, window_s: int = 60
) -> bytes:
    """308 ``kline`` push (carries ``createTime``, not ``sendTime``, like the real frames)."""
    w = _wrapper(channel("kline", symbol, interval), symbol, None, create_time)
    k = w.publicSpotKline
    k.interval = interval
    k.windowStart = window_start_s
    k.windowEnd = window_start_s + window_s
    k.openingPrice, k.highestPrice, k.lowestPrice, k.closingPrice = _s(open_), _s(high), _s(low), _s(close)
    k.volume, k.amount = _s(volume), _s(amount)
    return w.SerializeToString()


def _mini(t, symbol: str, price: Num, rate: Num, high: Num, low: Num, volume: Num, quantity: Num) -> None:
    t.symbol = symbol
    t.price, t.rate, t.zonedRate = _s(price), _s(rate), _s(rate)
    t.high, t.low, t.volume, t.quantity = _s(high), _s(low), _s(volume), _s(quantity)


def mini_ticker_frame(symbol: str, price: Num, rate: Num, high: Num, low: Num, volume: Num, quantity: Num, send_time: int = 0, timezone: str = "24H") -> bytes:
    """309 ``miniTicker`` push; ``volume`` is quote turnover, ``quantity`` base volume."""
    w = _wrapper(channel("ticker", symbol, timezone), symbol, send_time)
    _mini(w.publicMiniTicker, symbol, price, rate, high, low, volume, quantity)
    return w.SerializeToString()


def mini_tickers_frame(items: Iterable[tuple], send_time: int = 0, timezone: str = "24H") -> bytes:
    """310 ``miniTickers`` push (no wrapper symbol); ``items`` as :func:`mini_ticker_frame` args."""
    w = _wrapper(channel("tickers_all", "", timezone), None, send_time)
    for item in items:
        _mini(w.publicMiniTickers.items.add(), *item)
    return w.SerializeToString()


# -- private bodies (§2.3): the wrapper's channel is the row's, fields in the proto's names ------
def _private(row: str, body: str, symbol: str | None, send_time: int | None, create_time: int | None, fields: dict) -> bytes:
    from .spot_table import TABLE

    w = _wrapper(TABLE.get(row).venue_channel, symbol, send_time, create_time)
    message = getattr(w, body)
    message.SetInParent()  # an all-default body is still this body
    for name, value in fields.items():
        setattr(message, name, value)
    return w.SerializeToString()


def private_orders_frame(symbol: str | None = None, send_time: int | None = None, create_time: int | None = None, **fields) -> bytes:
    """304 ``spot@private.orders.v3.api.pb`` push; ``fields`` in the proto's names and types
    (``id="C02__1"``, ``price="3.5"``, ``status=2`` ...); a field left out is absent (its
    proto3 default)."""
    return _private("orders", "privateOrders", symbol, send_time, create_time, fields)


def private_deals_frame(symbol: str | None = None, send_time: int | None = None, create_time: int | None = None, **fields) -> bytes:
    """306 ``spot@private.deals.v3.api.pb`` push (``tradeId``, ``orderId``, ``isMaker`` ...)."""
    return _private("fills", "privateDeals", symbol, send_time, create_time, fields)


def private_account_frame(symbol: str | None = None, send_time: int | None = None, create_time: int | None = None, **fields) -> bytes:
    """307 ``spot@private.account.v3.api.pb`` push (``vcoinName``, ``balanceAmount`` ...; the
    venue sends no wrapper symbol here)."""
    return _private("balances", "privateAccount", symbol, send_time, create_time, fields)
