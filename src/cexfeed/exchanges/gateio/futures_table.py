"""Gate.io USDT perpetual futures: the channel table, the wire shapes of its pushes, and the venue
facts beside it (gateio-protocol.md §1.2 endpoint, §3 heartbeat, §5.2 decimal sizes, §7 public
channels, §10 book sync).

Sizes on the wire count contracts (JSON integers, or decimal strings under
``X-Gate-Size-Decimal: 1``); handlers turn them into base currency with the contract multiplier
(:mod:`cexfeed.exchanges.gateio.contracts`). ``futures.tickers`` serves three of our names
(``ticker``, ``funding``, ``mark_price``) with one subscription; ``open_interest`` comes from
``futures.contract_stats`` and also from the tickers' ``total_size``.

Private rows (§9, signed per request §4.1) take ``[uid, contract | "!all"]`` (balances ``[uid]``,
trigger orders ``[contract]`` as the 2026 docs have it); their account values are exact
``Decimal`` (:data:`cexfeed.wire.Amount`), read from strings or from the JSON numbers the venue
uses for prices, fees and pnl.
"""

from __future__ import annotations

from typing import Union

import msgspec

from ...channels import BOOK_FULL, BOOK_INBAND, BOOK_REST, Channel, Table
from ...models import (
    AccountNotice,
    Balance,
    BestBidOffer,
    BookStatus,
    BookUpdate,
    Fill,
    FundingRate,
    Kline,
    Liquidation,
    MarkPrice,
    OpenInterest,
    PERP,
    Order,
    Position,
    Ticker,
    Trade,
)
from ...wire import (AccountItem, Amount, Currency, Name, NonZeroAmount, PositiveAmount, Price, QuoteValue, SeqId, Signed, Size, Time,
                    UnsignedAmount, check_amounts, check_contracts)
from .protocol import read_candle
from .obu import OBU_LEVELS, ObuUpdate

# -- venue facts ---------------------------------------------------------------------------------
WS_URL = "wss://fx-ws.gateio.ws/v4/ws/usdt"
REST_URL = "https://api.gateio.ws/api/v4"
# Sent on the WebSocket handshake and on every REST call: sizes become decimal strings (§5.2).
SIZE_DECIMAL_HEADER = ("X-Gate-Size-Decimal", "1")
HEADERS = {SIZE_DECIMAL_HEADER[0]: SIZE_DECIMAL_HEADER[1]}
PING = "futures.ping"
PONG = "futures.pong"
SYSTEM = "futures.system"
PING_INTERVAL_S = 10.0
CONTRACTS_PATH = "/futures/usdt/contracts"
ORDER_BOOK_PATH = "/futures/usdt/order_book"
SETTLE = "USDT"
BOOK_LEVELS = ("100", "50", "20")
# private REST (APIv4, signed)
ACCOUNTS_PATH = "/futures/usdt/accounts"
POSITIONS_PATH = "/futures/usdt/positions"
ORDERS_PATH = "/futures/usdt/orders"
ORDER_PATH = "/futures/usdt/orders/{order_id}"
MY_TRADES_PATH = "/futures/usdt/my_trades"
ALL = "!all"


def order_book_query(venue_symbol: str, depth: int = 100) -> dict[str, str]:
    """Query of the REST snapshot ``GET /futures/usdt/order_book`` (§10.1): ``limit`` equals the
    WS level, ``with_id=true`` so the body has the sequence ``id``."""
    return {"contract": venue_symbol, "limit": str(depth), "with_id": "true"}


# -- wire shapes (the `result` of each push) ------------------------------------------------------
class FuturesBookTicker(msgspec.Struct):
    """``futures.book_ticker`` result (§7.4): ``t`` time (ms), ``u`` book id, ``s`` contract,
    ``b``/``a`` price (``""`` when the side is empty), ``B``/``A`` size in contracts (int or
    str, 0 when the side is empty); a side without a price and a size above 0 is no quote
    (:func:`cexfeed.wire.quotes`)."""

    s: Name
    t: Time = 0
    u: SeqId | None = None
    b: QuoteValue = ""
    a: QuoteValue = ""
    B: QuoteValue = ""
    A: QuoteValue = ""


class FuturesTrade(msgspec.Struct):
    """One ``futures.trades`` item (§7.3): ``size`` signed contracts (< 0 taker sell),
    ``create_time`` s, ``create_time_ms`` ms, ``price`` quote currency."""

    id: SeqId
    contract: Name
    size: Signed
    price: Price
    create_time: Time = 0
    create_time_ms: Time = 0
    is_internal: bool = False


class Level(msgspec.Struct, gc=False):
    """A futures book level ``{"p": price str, "s": contracts int|str}`` (absolute size).
    Floats only, no reference cycles: the GC need not track it."""

    p: Price
    s: Size


class FuturesBookUpdate(msgspec.Struct, gc=False):
    """``futures.order_book_update`` result (§7.6): ``U``/``u`` ids, ``full`` only when true,
    ``b``/``a`` changed levels in contracts, ``t`` ms."""

    s: Name
    u: SeqId
    U: SeqId | None = None
    t: Time = 0
    full: bool = False
    b: list[Level] = []
    a: list[Level] = []


class FuturesBookSnapshot(msgspec.Struct):
    """Legacy ``futures.order_book`` event ``all`` (§7.5): a whole top-N book at ``id``."""

    contract: str
    id: SeqId
    t: Time = 0
    asks: list[Level] = []
    bids: list[Level] = []


class LegacyBookLevel(msgspec.Struct):
    """One item of a legacy ``futures.order_book`` event ``update`` (§7.5, seen 2021): ``p``
    price, ``s`` signed contracts (> 0 bid, < 0 ask, 0 deletes the price from both sides:
    pitfalls Q7), ``c`` contract, ``id`` update id: one id per level change, continuing the
    ``id`` of the ``all`` snapshot one by one (each is applied as a delta ``id..id``)."""

    p: Price
    s: Signed
    c: Name
    id: SeqId


class FuturesTicker(msgspec.Struct, gc=False):
    """One ``futures.tickers`` item (§7.2); every field but ``contract`` may be missing.
    Prices quote currency; ``change_percentage`` percent; funding rates fractions;
    ``total_size`` (open interest) and ``volume_24h`` contracts, ``volume_24h_base`` base,
    ``volume_24h_quote`` quote; ``funding_next_apply`` s; ``t`` ms. Fields in the order Gate
    sends them."""

    contract: Name
    last: Price | None = None
    change_percentage: Signed | None = None
    funding_rate: Signed | None = None
    funding_rate_indicative: Signed | None = None
    mark_price: Price | None = None
    index_price: Price | None = None
    total_size: Size | None = None
    volume_24h: Size | None = None
    volume_24h_base: Size | None = None
    volume_24h_quote: Size | None = None
    low_24h: Price | None = None
    high_24h: Price | None = None
    funding_next_apply: Time | None = None
    t: Time = 0


class FuturesCandle(msgspec.Struct):
    """One ``futures.candlesticks`` item (§7.8): ``t`` window start s, ``v`` contracts,
    ``n`` ``<interval>_<contract>`` (contract may carry a ``mark_``/``index_`` prefix)."""

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
        read_candle(PERP, self.n, self.o, self.h, self.l, self.c)  # a name without a pair, an interval or prices out of rule: malformed


class FuturesLiquidation(msgspec.Struct):
    """One ``futures.public_liquidates`` item (§7.9): ``size`` signed contracts, ``time`` ms."""

    contract: Name
    price: Price
    size: Signed
    time: Time = 0


class FuturesContractStats(msgspec.Struct):
    """One ``futures.contract_stats`` item (§7.10): ``time`` s, ``open_interest`` contracts,
    ``open_interest_usd`` USD."""

    time: Time = 0
    contract: str = ""
    open_interest: Size | None = None
    open_interest_usd: Size | None = None


# -- private wire shapes (§9); REST bodies share them --------------------------------------------
#: the position modes of §9.3: one-way, and the two legs of dual (hedge) mode
POSITION_MODES = frozenset({"", "single", "dual_long", "dual_short"})

class FuturesOrderPush(AccountItem, gc=False):
    """One ``futures.orders`` item (§9.1) or REST order: ``size``/``left`` signed contracts
    (int, or decimal string under the size header), ``price``/``fill_price`` (num or str, 0 =
    market / nothing filled), ``status`` ``open``/``finished`` with ``finish_as``, ``update_id``
    a per-order sequence, ``update_time`` ms, REST ``create_time``/``finish_time`` s. Kinds:
    ``size``/``left`` any sign (the sign is the side), ``size`` 0 only on a close-position order
    (``is_close``: Gate's "size 0, close"), else ``|left|`` at most ``|size|``; prices 0 or
    above; ``fee`` any sign. ``left`` of the other sign than ``size`` is malformed."""

    id: str | int
    contract: Name
    size: Amount
    id_string: str | None = None
    left: Amount | None = None
    price: UnsignedAmount | None = None
    fill_price: UnsignedAmount | None = None
    status: str = ""
    finish_as: str = ""
    tif: str = ""
    text: str = ""
    is_reduce_only: bool | None = None
    is_close: bool | None = None
    fee: Amount | None = None
    update_id: SeqId | None = None
    update_time: Time | None = None
    finish_time_ms: Time | None = None
    finish_time: Time | None = None
    create_time_ms: Time | None = None
    create_time: Time | None = None

    def __post_init__(self) -> None:
        check_amounts(self)
        size = self.size
        check_contracts("size", size)
        check_contracts("left", self.left)
        if not size:
            if self.is_close is not True:
                raise ValueError("an order of size 0 that is not a close-position order")
        elif self.left is not None and abs(self.left) > abs(size):
            raise ValueError(f"left {self.left} beyond the order's size {size}")
        elif self.left and (self.left < 0) != (size < 0):
            # left carries the side's sign as size does: an opposite sign is no order's remainder
            raise ValueError(f"left {self.left} of the other sign than the order's size {size}")


class FuturesUserTrade(AccountItem, gc=False):
    """One ``futures.usertrades`` item (§9.2) or REST ``my_trades`` entry: ``size`` signed
    contracts (< 0 sell, never 0), ``price`` quote (above 0), ``fee`` settle currency (a JSON
    number, any sign)."""

    id: str | int
    order_id: str | int
    contract: Name
    size: NonZeroAmount
    price: PositiveAmount
    role: str = ""
    text: str = ""
    fee: Amount | None = None
    create_time_ms: Time | None = None
    create_time: Time | None = None

    def __post_init__(self) -> None:
        check_amounts(self)
        check_contracts("size", self.size)


class FuturesPositionPush(AccountItem, gc=False):
    """One ``futures.positions`` item (§9.3) or REST position: ``size`` signed contracts,
    ``mode`` single/dual_long/dual_short, prices and margin/pnl JSON numbers (strings on REST),
    ``update_id`` the user's position sequence. Prices (0: none), margin and leverage (0:
    cross) 0 or above; ``size`` and pnl any sign, ``size`` within :data:`cexfeed.wire.MAX_CONTRACTS`;
    a ``mode`` not in :data:`POSITION_MODES` is malformed (never a third key of the state), and
    so is a ``dual_long`` size below 0 or a ``dual_short`` size above 0 (the sign is the side)."""

    contract: Name
    size: Amount
    mode: str = "single"
    entry_price: UnsignedAmount | None = None
    mark_price: UnsignedAmount | None = None
    liq_price: UnsignedAmount | None = None
    margin: UnsignedAmount | None = None
    leverage: UnsignedAmount | None = None
    realised_pnl: Amount | None = None
    unrealised_pnl: Amount | None = None
    update_id: SeqId | None = None
    time_ms: Time | None = None
    time: Time | None = None
    update_time: Time | None = None

    def __post_init__(self) -> None:
        check_amounts(self)
        check_contracts("size", self.size)
        if self.mode not in POSITION_MODES:
            # a position is kept under (contract, mode): an unknown mode would be a third key
            raise ValueError(f"unknown position mode {self.mode[:40]!r}")
        if (self.mode == "dual_long" and self.size < 0) or (self.mode == "dual_short" and self.size > 0):
            # in dual mode the size's sign is the side: a long with a short size cannot be
            raise ValueError(f"{self.mode} position with size {self.size} of the other sign")


class FuturesBalancePush(AccountItem, gc=False):
    """One ``futures.balances`` item (§9.4): ``balance`` after the change, ``change``,
    ``type`` (dnw, pnl, fee, fund ...), ``currency`` (lower case on the wire, required, a currency
    code by :func:`cexfeed.wire.currency`: a balance of no currency or a damaged one is malformed,
    never taken for the settle currency); ``balance`` 0 or above, ``change`` any sign."""

    currency: Currency
    balance: UnsignedAmount | None = None
    change: Amount | None = None
    type: str | None = None
    text: str = ""
    time_ms: Time | None = None
    time: Time | None = None


class FuturesLiquidatePush(AccountItem, gc=False):
    """One ``futures.liquidates`` item (§9.5): own liquidation; ``size`` the position."""

    contract: Name
    order_id: str | int | None = None
    fill_price: UnsignedAmount | None = None
    size: Amount | None = None
    left: Amount | None = None
    time_ms: Time | None = None
    time: Time | None = None


class FuturesAdlPush(AccountItem, gc=False):
    """One ``futures.auto_deleverages`` item (§9.6)."""

    contract: Name
    fill_price: UnsignedAmount | None = None
    trade_size: Amount | None = None
    position_size: Amount | None = None
    time_ms: Time | None = None
    time: Time | None = None


class FuturesPositionClosePush(AccountItem, gc=False):
    """One ``futures.position_closes`` item (§9.7): ``side`` long/short, ``pnl``."""

    contract: Name
    side: str = ""
    pnl: Amount | None = None
    text: str = ""
    time_ms: Time | None = None
    time: Time | None = None


class AutoInitial(AccountItem, frozen=True, gc=False):
    contract: str = ""
    size: Amount | None = None
    price: UnsignedAmount | None = None


class AutoTrigger(AccountItem, frozen=True, gc=False):
    price: UnsignedAmount | None = None
    rule: int | None = None


class FuturesAutoOrderPush(AccountItem, gc=False):
    """One ``futures.autoorders`` item (§9.8): a price-triggered order."""

    id: str | int
    status: str = ""
    reason: str = ""
    finish_as: str = ""
    order_type: str = ""
    initial: AutoInitial = AutoInitial()
    trigger: AutoTrigger = AutoTrigger()
    create_time: Time | None = None
    finish_time: Time | None = None


_USER = ("{uid}", "{symbol}")
_UID = (("uid", ""),)


TABLE = Table(
    "gateio",
    "perp",
    [
        Channel(
            name="book", venue_channel="futures.order_book_update",
            payload=("{symbol}", "{interval}", "{level}"), params=(("interval", "100ms"), ("level", "100")),
            choices=(("interval", ("100ms", "20ms")), ("level", BOOK_LEVELS)),
            result=FuturesBookUpdate, handler="_on_book_update", book=BOOK_REST,
            emits=(BookUpdate, BookStatus), doc="§7.6, §10.1",
        ),
        Channel(
            name="book_obu", venue_channel="futures.obu",
            payload=("ob.{symbol}.{level}",), params=(("level", "50"),), choices=(("level", OBU_LEVELS),),
            result=ObuUpdate, handler="_on_obu", book=BOOK_INBAND,
            emits=(BookUpdate, BookStatus), doc="§7.7, §10.2",
        ),
        Channel(
            # event "all": a snapshot object; the legacy "update" event an array of level changes,
            # applied to the same book (a book push: applied whole or not at all)
            name="book_snapshots", venue_channel="futures.order_book",
            payload=("{symbol}", "{limit}", "0"), params=(("limit", "20"),),
            choices=(("limit", ("100", "50", "20", "10", "5", "1")),),
            result=Union[FuturesBookSnapshot, list[LegacyBookLevel]], handler="_on_order_book", book=BOOK_FULL,
            emits=(BookUpdate, BookStatus), doc="§7.5, §10.3",
        ),
        Channel(
            name="trades", venue_channel="futures.trades",
            result=FuturesTrade, items=True, handler="_on_trades", emits=(Trade,), doc="§7.3",
        ),
        Channel(
            name="bbo", venue_channel="futures.book_ticker",
            result=FuturesBookTicker, items=True, handler="_on_book_ticker", emits=(BestBidOffer,), doc="§7.4",
        ),
        Channel(
            name="ticker", aliases=("funding", "mark_price"), venue_channel="futures.tickers",
            result=FuturesTicker, items=True, handler="_on_tickers",
            emits=(Ticker, FundingRate, MarkPrice, OpenInterest), lenient="ticker_lenient", doc="§7.2",
        ),
        Channel(
            name="kline", venue_channel="futures.candlesticks",
            payload=("{interval}", "{symbol}"), params=(("interval", "1m"),),
            result=FuturesCandle, items=True, handler="_on_candle", emits=(Kline,), doc="§7.8",
        ),
        Channel(
            name="liquidations", venue_channel="futures.public_liquidates",
            result=FuturesLiquidation, items=True, handler="_on_liquidations",
            emits=(Liquidation,), doc="§7.9",
        ),
        Channel(
            name="open_interest", venue_channel="futures.contract_stats",
            payload=("{symbol}", "{interval}"), params=(("interval", "1m"),),
            result=FuturesContractStats, items=True, handler="_on_contract_stats",
            emits=(OpenInterest,), doc="§7.10",
        ),
        # -- private (§9), signed per request (§4.1) --
        Channel(
            name="orders", venue_channel="futures.orders", payload=_USER, params=_UID,
            result=FuturesOrderPush, items=True, handler="_on_orders", emits=(Order,), private=True, doc="§9.1",
        ),
        Channel(
            name="fills", venue_channel="futures.usertrades", payload=_USER, params=_UID,
            result=FuturesUserTrade, items=True, handler="_on_usertrades", emits=(Fill,), private=True, doc="§9.2",
        ),
        Channel(
            name="positions", venue_channel="futures.positions", payload=_USER, params=_UID,
            result=FuturesPositionPush, items=True, handler="_on_positions", emits=(Position,), private=True, doc="§9.3",
        ),
        Channel(
            name="balances", venue_channel="futures.balances", payload=("{uid}",), params=_UID,
            result=FuturesBalancePush, items=True, handler="_on_balances", emits=(Balance,), private=True, doc="§9.4",
        ),
        Channel(
            name="own_liquidations", venue_channel="futures.liquidates", payload=_USER, params=_UID,
            result=FuturesLiquidatePush, items=True, handler="_on_liquidates", emits=(AccountNotice,), private=True, doc="§9.5",
        ),
        Channel(
            name="auto_deleverages", venue_channel="futures.auto_deleverages", payload=_USER, params=_UID,
            result=FuturesAdlPush, items=True, handler="_on_auto_deleverages", emits=(AccountNotice,), private=True, doc="§9.6",
        ),
        Channel(
            name="position_closes", venue_channel="futures.position_closes", payload=_USER, params=_UID,
            result=FuturesPositionClosePush, items=True, handler="_on_position_closes", emits=(AccountNotice,), private=True, doc="§9.7",
        ),
        Channel(
            name="trigger_orders", venue_channel="futures.autoorders",
            result=FuturesAutoOrderPush, items=True, handler="_on_autoorders", emits=(AccountNotice,), private=True, doc="§9.8",
        ),
    ],
)
#: the private channels an account stream subscribes by default
PRIVATE_DEFAULT = ("orders", "fills", "positions", "balances", "own_liquidations", "auto_deleverages", "position_closes", "trigger_orders")
