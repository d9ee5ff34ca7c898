"""Gate.io spot: the channel table, the wire shapes of its pushes, and the venue facts beside it
(gateio-protocol.md §1.1 endpoint, §3 heartbeat, §6 public channels, §8 private channels, §10
book sync).

Read a row as: our channel name -> Gate channel, request payload (and its parameters), the type
the push's ``result`` decodes to, the handler method, what it feeds, the events it emits. Numbers
follow :mod:`cexfeed.wire` (prices in the quote currency, sizes in the base currency); account
values (private rows) are exact ``Decimal`` (:data:`cexfeed.wire.Amount`). Private rows need the
``auth`` of gateio-protocol.md §4.1; their payload is a pair or ``!all`` (balances: none).
"""

from __future__ import annotations

import msgspec

from ...channels import BOOK_INBAND, BOOK_REST, Channel, Table
from ...models import SPOT, Balance, BestBidOffer, BookStatus, BookUpdate, Fill, Kline, Order, Ticker, Trade
from ...wire import (AccountItem, Amount, Currency, CurrencyOrEmpty, Name, PositiveAmount, Price, QuoteValue, SeqId, Signed, Size, Time,
                     UnsignedAmount, check_amounts)
from .protocol import read_candle
from .obu import OBU_LEVELS, ObuUpdate

# -- venue facts ---------------------------------------------------------------------------------
WS_URL = "wss://api.gateio.ws/ws/v4/"
REST_URL = "https://api.gateio.ws/api/v4"
PING = "spot.ping"
PONG = "spot.pong"
SYSTEM = "spot.system"
PING_INTERVAL_S = 10.0
# spot.order_book_update interval -> the depth it maintains (§6.6), = REST snapshot limit
BOOK_INTERVAL_DEPTH = {"20ms": 20, "100ms": 100}
ORDER_BOOK_PATH = "/spot/order_book"
PAIRS_PATH = "/spot/currency_pairs"
# private REST (APIv4, signed): account snapshot and reconciliation
TIME_PATH = "/spot/time"
ACCOUNTS_PATH = "/spot/accounts"
OPEN_ORDERS_PATH = "/spot/open_orders"
ORDER_PATH = "/spot/orders/{order_id}"
# orders by status (``finished``: those that ended; ``from`` s; ``currency_pair`` optional)
ORDERS_PATH = "/spot/orders"
MY_TRADES_PATH = "/spot/my_trades"
# "all pairs" in a private payload
ALL = "!all"


# -- wire shapes (the `result` of each push) ------------------------------------------------------
class BookTicker(msgspec.Struct, gc=False):
    """``spot.book_ticker`` (§6.5): ``t`` time (ms), ``u`` book id, ``s`` pair, ``b``/``B``
    best bid price/size, ``a``/``A`` best ask; a side without a price and a size above 0 is no
    quote (:func:`cexfeed.wire.quotes`)."""

    s: Name
    t: Time = 0
    b: QuoteValue = ""
    B: QuoteValue = ""
    a: QuoteValue = ""
    A: QuoteValue = ""
    u: SeqId | None = None


class SpotTrade(msgspec.Struct, gc=False):
    """``spot.trades`` (§6.2): ``side`` is the taker side (another value is kept as unknown),
    ``amount`` base currency, ``create_time`` s, ``create_time_ms`` ms with a fraction."""

    id: SeqId
    currency_pair: Name
    side: str
    amount: Size
    price: Price
    create_time: Time = 0
    create_time_ms: Time = 0


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

    t: Time
    o: Price
    h: Price
    l: Price  # noqa: E741 - venue field name
    c: Price
    n: str
    v: Size | None = None
    a: Size | None = None
    w: bool | None = None

    def __post_init__(self) -> None:
        read_candle(SPOT, self.n, self.o, self.h, self.l, self.c)  # a name without a pair, an interval or prices out of rule: malformed


class SpotBookUpdate(msgspec.Struct, gc=False):
    """``spot.order_book_update`` (§6.6): ``U``/``u`` first/last id (``U`` needed on a delta,
    not on a ``full`` push), ``full`` a whole book, ``b``/``a`` ``[price, size]`` absolute sizes
    (0 removes the level)."""

    s: Name
    u: SeqId
    U: SeqId | None = None
    t: Time = 0
    full: bool = False
    b: list[tuple[Price, Size]] = []
    a: list[tuple[Price, Size]] = []


# -- private wire shapes (§8); REST bodies share them (an order's REST ``status`` stands in for the
# push's ``event``) -------------------------------------------------------------------------------
#: REST spot order status -> the ``finish_as`` it stands for when the body has none
REST_FINISHED = {"closed": "filled", "cancelled": "cancelled", "canceled": "cancelled"}


class SpotOrderPush(AccountItem, gc=False):
    """One ``spot.orders``/``spot.orders_v2`` item (§8.1, §8.2), or an order of the REST API.
    ``id`` a string (an integer on older servers); ``amount`` base currency, or quote currency
    for a market buy; ``left`` in the same unit; ``filled_amount`` base, ``filled_total``
    quote; ``event`` ``put``/``update``/``finish``; ``finish_as`` see the status table of the
    private handler; times s / ms (strings, read as numbers). Kinds (:class:`cexfeed.wire.AmountKind`):
    ``amount`` above 0; ``price``/``avg_deal_price`` 0 or above (0: none, a market order or
    nothing filled), ``left``/``filled_*`` 0 or above, ``left`` at most ``amount``; ``fee`` any
    sign (a rebate). A finished order is not ``filled`` with nothing filled and something left:
    ``event`` ``finish`` (REST ``status`` closed) with ``finish_as`` ``filled`` while ``left`` >
    0 and its fill values prove nothing filled (``filled_amount`` 0, or without it ``amount`` -
    ``left`` = 0 on an order counted in base; ``filled_total`` 0 or absent; a market buy, counted
    in quote, proves nothing without ``filled_amount``/``filled_total``) contradicts itself and is
    malformed: neither ``filled`` nor a guess at the status its fields suggest (a fill could be
    what the frame lost), the REST reconcile gives the order's final state."""

    id: str | int
    currency_pair: Name
    side: str
    amount: PositiveAmount
    event: str = ""
    status: str = ""
    finish_as: str = ""
    type: str = "limit"
    account: str = "spot"
    text: str = ""
    price: UnsignedAmount | None = None
    left: UnsignedAmount | None = None
    filled_amount: UnsignedAmount | None = None
    filled_total: UnsignedAmount | None = None
    avg_deal_price: UnsignedAmount | None = None
    fee: Amount | None = None
    fee_currency: CurrencyOrEmpty | None = None  # a currency code (cexfeed.wire.currency); "": none
    time_in_force: str = ""
    create_time_ms: Time | None = None
    update_time_ms: Time | None = None
    create_time: Time | None = None
    update_time: Time | None = None

    def __post_init__(self) -> None:
        check_amounts(self)
        left = self.left
        if left is not None and left > self.amount:
            raise ValueError(f"left {left} above the order's amount {self.amount}")
        if left:
            event = self.event or self.status
            # finished "filled" (finished_status of private_common: with something left only
            # finish_as filled gives filled)
            if (event == "finish" or event in REST_FINISHED) and (self.finish_as or REST_FINISHED.get(event, "")) == "filled":
                filled = self.filled_amount
                if filled is None and not (self.type == "market" and self.side == "buy"):
                    filled = self.amount - left  # (both bounded: exact)
                total = self.filled_total
                if (filled is not None or total is not None) and not filled and not total:
                    raise ValueError(f"finished filled with nothing filled and {left} left")


class SpotUserTrade(AccountItem, gc=False):
    """One ``spot.usertrades``/``spot.usertrades_v2`` item (§8.3), or a REST ``my_trades``
    entry: ``amount`` base currency, ``price`` quote, ``role`` maker/taker, ``fee`` in
    ``fee_currency`` (absent on ``_v2``), ``create_time_ms`` ms with a fraction. ``amount`` and
    ``price`` above 0, ``fee`` any sign; ``fee_currency`` a currency code (``""``: none)."""

    id: str | int
    order_id: str | int
    currency_pair: Name
    side: str
    amount: PositiveAmount
    price: PositiveAmount
    role: str = ""
    fee: Amount | None = None
    fee_currency: CurrencyOrEmpty | None = None
    text: str = ""
    create_time_ms: Time | None = None
    create_time: Time | None = None


class SpotBalancePush(AccountItem, gc=False):
    """One ``spot.balances`` item (§8.4): absolute ``total``/``available``/``freeze`` and the
    ``change`` that caused it (all strings), ``change_type`` (order-create, order-match,
    deposit ...), ``timestamp_ms``. Older servers leave out ``freeze``/``total``. Balances 0 or
    above, ``change`` any sign; ``currency`` a currency code (:func:`cexfeed.wire.currency`)."""

    currency: Currency
    total: UnsignedAmount | None = None
    available: UnsignedAmount | None = None
    freeze: UnsignedAmount | None = None
    change: Amount | None = None
    change_type: str | None = None
    timestamp_ms: Time | None = None
    timestamp: Time | None = None


TABLE = Table(
    "gateio",
    "spot",
    [
        Channel(
            name="book", venue_channel="spot.order_book_update",
            payload=("{symbol}", "{interval}"), params=(("interval", "100ms"),),
            choices=(("interval", tuple(BOOK_INTERVAL_DEPTH)),),
            result=SpotBookUpdate, handler="_on_book_update", book=BOOK_REST,
            emits=(BookUpdate, BookStatus), doc="§6.6, §10.1",
        ),
        Channel(
            name="book_obu", venue_channel="spot.obu",
            payload=("ob.{symbol}.{level}",), params=(("level", "50"),), choices=(("level", OBU_LEVELS),),
            result=ObuUpdate, handler="_on_obu", book=BOOK_INBAND,
            emits=(BookUpdate, BookStatus), doc="§6.8, §10.2",
        ),
        Channel(
            name="trades", venue_channel="spot.trades",
            result=SpotTrade, items=True, handler="_on_trade", emits=(Trade,), doc="§6.2",
        ),
        Channel(
            name="bbo", venue_channel="spot.book_ticker",
            result=BookTicker, items=True, handler="_on_book_ticker", emits=(BestBidOffer,), doc="§6.5",
        ),
        Channel(
            name="ticker", venue_channel="spot.tickers",
            result=SpotTicker, items=True, handler="_on_ticker", emits=(Ticker,), lenient="ticker_lenient", doc="§6.1",
        ),
        Channel(
            name="kline", venue_channel="spot.candlesticks",
            payload=("{interval}", "{symbol}"), params=(("interval", "1m"),),
            result=Candle, items=True, handler="_on_candle", emits=(Kline,), doc="§6.4",
        ),
        # -- private (§8), signed per request (§4.1) --
        Channel(
            name="orders", venue_channel="spot.orders",
            result=SpotOrderPush, items=True, handler="_on_orders", emits=(Order,), private=True, doc="§8.1",
        ),
        Channel(
            name="orders_v2", venue_channel="spot.orders_v2",
            result=SpotOrderPush, items=True, handler="_on_orders", emits=(Order,), private=True, doc="§8.2",
        ),
        Channel(
            name="fills", venue_channel="spot.usertrades",
            result=SpotUserTrade, items=True, handler="_on_usertrades", emits=(Fill,), private=True, doc="§8.3",
        ),
        Channel(
            name="fills_v2", venue_channel="spot.usertrades_v2",
            result=SpotUserTrade, items=True, handler="_on_usertrades", emits=(Fill,), private=True, doc="§8.3",
        ),
        Channel(
            name="balances", venue_channel="spot.balances", payload=(),
            result=SpotBalancePush, items=True, handler="_on_balances", emits=(Balance,),
            private=True, doc="§8.4",
        ),
    ],
)
#: the private channels an account stream subscribes by default (the _v2 rows are the same
#: data with fewer fields)
PRIVATE_DEFAULT = ("orders", "fills", "balances")
