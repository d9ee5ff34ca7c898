"""Gate.io USDT perpetual futures: the channel table, the wire shapes of its pushes, and the venue
facts beside it (gateio-protocol.md §1.2 endpoint, §3 heartbeat, §5.2 decimal sizes, §7 public
channels, §10 book sync).

Sizes on the wire count contracts (JSON integers, or decimal strings under
``X-Gate-Size-Decimal: 1``); handlers turn them into base currency with the contract multiplier
(:mod:`cexfeed.exchanges.gateio.contracts`). ``futures.tickers`` serves three of our names
(``ticker``, ``funding``, ``mark_price``) with one subscription; ``open_interest`` comes from
``futures.contract_stats`` and also from the tickers' ``total_size``.
"""

from __future__ import annotations

from typing import Union

import msgspec

from ...channels import BOOK_FULL, BOOK_INBAND, BOOK_REST, Channel, Table
from ...models import BestBidOffer, BookStatus, BookUpdate, FundingRate, Kline, Liquidation, MarkPrice, OpenInterest, Ticker, Trade
from ...wire import Name, Price, QuoteValue, SeqId, Signed, Size, Time
from .protocol import candle_name
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
        candle_name(self.n)  # a name without a pair makes the item malformed


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
    ],
)
