"""Gate.io USDT perpetual futures public channels (gateio-protocol.md §1.2, §5, §7, §10).

Every size on an event is base currency = contracts x ``quanto_multiplier`` of the contract
(from :func:`~cexfeed.exchanges.gateio.contracts.futures_symbol_map`; ``"0"`` counts as 1);
where the venue speaks contracts the raw unsigned count is kept in ``contracts``. Sizes arrive as
JSON integers, or as decimal strings (``"-108.5"``, ``"1e-3"``) when the connection sent
``X-Gate-Size-Decimal: 1``; both are accepted (§5.2).

| channel                    | result                                              | events                     |
|----------------------------|-----------------------------------------------------|----------------------------|
| futures.book_ticker        | object: t ms, u, s, b/a price ("" = none), B/A size | BestBidOffer               |
| futures.trades             | array: id, contract, size (signed: <0 taker sell)   | Trade                      |
| futures.order_book_update  | object: t, full?, s, U, u, b/a [{p, s}]             | BookUpdate, BookStatus     |
| futures.order_book         | event ``all``: t, contract, id, asks/bids [{p, s}]  | BookUpdate (snapshot)      |
| futures.obu                | object: t, full?, s "ob.X.50", U, u, b/a [[p, s]]   | BookUpdate, BookStatus     |
| futures.tickers            | array (or object) of partial tickers                | Ticker, FundingRate, MarkPrice, OpenInterest |
| futures.candlesticks       | array: t s, o/h/l/c, v contracts, n "1m_X"          | Kline                      |
| futures.public_liquidates  | object or array: price, size (signed), time ms      | Liquidation                |
| futures.contract_stats     | array: time s, contract, open_interest contracts    | OpenInterest               |

Ticker pushes may carry only the fields that changed (§7.2): each push emits only the events
whose fields it carries (``Ticker`` for last/24h fields, ``FundingRate`` for
funding_rate/funding_rate_indicative/funding_next_apply, ``MarkPrice`` for mark/index,
``OpenInterest`` for total_size), and a field the push did not carry is ``None`` on the event,
never a zero. Nothing is merged from earlier pushes. A field that is ``""`` or an impossible
number is left out the same way (counted as ``ticker_lenient``). Open interest also comes from
``futures.contract_stats``, stamped to the second of its interval, so the two sources' times
interleave rather than increase.
"""

from __future__ import annotations

from typing import Literal, Union

import msgspec

from ...book import CROSSED
from ...models import PERP, BUY, SELL, BestBidOffer, BookUpdate, FundingRate, Kline, Liquidation, MarkPrice, OpenInterest, Ticker, Trade
from ...symbols import SymbolMap
from ...wire import Millis, Name, Price, Seconds, SeqId, Signed, Size
from .book_push import BookPush
from .common import GateioPublicHandler, result_prefix
from .contracts import ContractSizes, decode_futures_snapshot, futures_symbol_map
from .obu import ObuBooks, ObuUpdate, obu_stream
from .protocol import FUTURES_USDT_WS_URL, REST_URL

# -- protocol facts (§1.2, §3, §5.2, §7, §10.1) -----------------------------------------------

FUTURES_WS_URL = FUTURES_USDT_WS_URL
FUTURES_REST_URL = REST_URL
# Sent on the WebSocket handshake and on every REST call: sizes become decimal strings (§5.2).
SIZE_DECIMAL_HEADER = ("X-Gate-Size-Decimal", "1")
FUTURES_HEADERS = {SIZE_DECIMAL_HEADER[0]: SIZE_DECIMAL_HEADER[1]}
FUTURES_PING_CHANNEL = "futures.ping"
FUTURES_PONG_CHANNEL = "futures.pong"
CONTRACTS_PATH = "/futures/usdt/contracts"
ORDER_BOOK_PATH = "/futures/usdt/order_book"

# Our channel names -> Gate futures channels. ``book`` = REST snapshot + deltas, ``book_obu`` =
# Order Book V2 (in-band snapshot), ``book_snapshots`` = legacy periodic full books.
FUTURES_CHANNELS = {
    "book": "futures.order_book_update",
    "book_obu": "futures.obu",
    "book_snapshots": "futures.order_book",
    "trades": "futures.trades",
    "bbo": "futures.book_ticker",
    "ticker": "futures.tickers",
    "funding": "futures.tickers",
    "mark_price": "futures.tickers",
    "kline": "futures.candlesticks",
    "liquidations": "futures.public_liquidates",
    "open_interest": "futures.contract_stats",
}


def futures_payload(channel: str, venue_symbol: str, params: tuple = ()) -> list[str]:
    """Payload of one futures subscription (§7):

    - ``futures.order_book_update``: ``[contract, frequency, level]``, default ``100ms``/``100``
      (``20ms`` forces level ``20``); the handler depth and REST ``limit`` must equal the level;
    - ``futures.obu``: ``["ob.<contract>.<level>"]``, level ``50`` (default) or ``400``;
    - ``futures.order_book``: ``[contract, limit, "0"]``, default limit ``20``;
    - ``futures.candlesticks``: ``[interval, contract]``, default ``1m``;
    - ``futures.contract_stats``: ``[contract, interval]``, default ``1m``;
    - others: ``[contract]``.
    """
    if channel == "futures.order_book_update":
        frequency = params[0] if params else "100ms"
        level = params[1] if len(params) > 1 else ("20" if frequency == "20ms" else "100")
        return [venue_symbol, frequency, str(level)]
    if channel == "futures.obu":
        return [obu_stream(venue_symbol, params[0] if params else 50)]
    if channel == "futures.order_book":
        return [venue_symbol, str(params[0]) if params else "20", "0"]
    if channel == "futures.candlesticks":
        return [params[0] if params else "1m", venue_symbol]
    if channel == "futures.contract_stats":
        return [venue_symbol, params[0] if params else "1m"]
    return [venue_symbol]


def order_book_query(venue_symbol: str, depth: int = 100) -> dict[str, str]:
    """Query of the REST snapshot ``GET /futures/usdt/order_book`` (§10.1): ``limit`` equals the
    WS level, ``with_id=true`` so the body has the sequence ``id``."""
    return {"contract": venue_symbol, "limit": str(depth), "with_id": "true"}


# -- wire shapes ------------------------------------------------------------------------------


class FuturesBookTicker(msgspec.Struct):
    """``futures.book_ticker`` result (§7.4): ``t`` ms, ``u`` book id, ``s`` contract, ``b``/``a``
    price (``""`` when the side is empty), ``B``/``A`` size in contracts (int or str)."""

    s: Name
    t: Millis = 0
    u: SeqId | None = None
    # prices are "" when the side is empty
    b: Price | Literal[""] = ""
    a: Price | Literal[""] = ""
    B: Size = 0.0
    A: Size = 0.0


class FuturesTrade(msgspec.Struct):
    """One ``futures.trades`` item (§7.3): ``size`` signed contracts (< 0 taker sell),
    ``create_time`` s, ``create_time_ms`` ms, ``price`` quote currency."""

    id: int
    contract: Name
    size: Signed
    price: Price
    create_time: Seconds = 0
    create_time_ms: Millis = 0
    is_internal: bool = False


class Level(msgspec.Struct, gc=False):
    """A futures book level ``{"p": price str, "s": contracts int|str}`` (absolute size).
    Floats only, no reference cycles: the GC need not track it."""

    p: Price
    s: Size


class FuturesBookUpdate(msgspec.Struct, gc=False):
    """``futures.order_book_update`` result (§7.6): ``U``/``u`` ids (``U`` may be absent only on
    a ``full`` push), ``full`` only when true, ``b``/``a`` changed levels in contracts, ``t`` ms."""

    s: Name
    u: SeqId
    U: SeqId | None = None
    t: Millis = 0
    full: bool = False
    b: list[Level] = []
    a: list[Level] = []


class FuturesBookSnapshot(msgspec.Struct):
    """Legacy ``futures.order_book`` event ``all`` (§7.5): a whole top-N book at ``id``."""

    contract: str
    id: SeqId
    t: Millis = 0
    asks: list[Level] = []
    bids: list[Level] = []


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
    funding_next_apply: Seconds | None = None
    t: Millis = 0


class FuturesCandle(msgspec.Struct):
    """One ``futures.candlesticks`` item (§7.8): ``t`` window start s, ``v`` contracts,
    ``n`` ``<interval>_<contract>`` (contract may carry a ``mark_``/``index_`` prefix)."""

    t: Seconds
    o: Price
    h: Price
    l: Price  # noqa: E741 - venue field name
    c: Price
    n: str
    v: Size | None = None
    a: Size | None = None
    w: bool | None = None


class FuturesLiquidation(msgspec.Struct):
    """One ``futures.public_liquidates`` item (§7.9): ``size`` signed contracts, ``time`` ms."""

    contract: Name
    price: Price
    size: Signed
    time: Millis = 0


class FuturesContractStats(msgspec.Struct):
    """One ``futures.contract_stats`` item (§7.10): ``time`` s, ``open_interest`` contracts,
    ``open_interest_usd`` USD."""

    time: Seconds = 0
    contract: str = ""
    open_interest: Size | None = None
    open_interest_usd: Size | None = None



class GateioFuturesPublicWebSocketHandler(ObuBooks, GateioPublicHandler):
    """Gate.io USDT perpetual market data: raw frame -> :mod:`cexfeed.models` events.

    ``symbols``: a :class:`SymbolMap` from :func:`futures_symbol_map` (REST contracts), which
    supplies each contract's multiplier; without it names map ``BTC_USDT`` -> ``BTC/USDT:USDT``
    and sizes are left in contracts (counted once per symbol as ``no_multiplier``). ``depth``:
    book depth kept for ``order_book_update``, equal to the subscribed level and REST ``limit``
    (obu books keep their stream level). REST snapshots: :meth:`apply_rest_snapshot`.
    """

    market = PERP
    PONG = FUTURES_PONG_CHANNEL
    SYSTEM = "futures.system"
    CHANNELS = {
        "futures.book_ticker": ("_on_book_ticker", FuturesBookTicker),
        "futures.trades": ("_on_trades", list[FuturesTrade]),
        # GateioPublicHandler._on_book_update (long frames go to the compiled reader first)
        "futures.order_book_update": ("_on_book_update", FuturesBookUpdate),
        # event "all": a snapshot object; the legacy "update" event carries an array
        "futures.order_book": ("_on_order_book", Union[FuturesBookSnapshot, list]),
        "futures.obu": ("_on_obu", ObuUpdate),
        "futures.tickers": ("_on_tickers", Union[list[FuturesTicker], FuturesTicker]),
        "futures.candlesticks": ("_on_candles", Union[list[FuturesCandle], FuturesCandle]),
        "futures.public_liquidates": ("_on_liquidations", Union[list[FuturesLiquidation], FuturesLiquidation]),
        "futures.contract_stats": ("_on_contract_stats", Union[list[FuturesContractStats], FuturesContractStats]),
    }
    # a ticker field sent as "" (quiet contracts) or an impossible number is left out (None)
    LENIENT = {"futures.tickers": "ticker_lenient"}
    FAST_BOOK_CHANNEL = b"futures.order_book_update"
    FAST_TICKERS = True

    def __init__(self, on_event=None, symbols: SymbolMap | None = None, depth: int = 100) -> None:
        super().__init__(on_event, symbols, depth)
        self._sizer = ContractSizes(self.symbols, self._no_multiplier)

    def _contract_context(self, venue_symbol: str) -> tuple[float, float, bool, str]:
        sizer = self._sizer(venue_symbol)
        return float(sizer.num), float(sizer.den), sizer.is_one, self._unified(venue_symbol)

    def _default_symbols(self) -> SymbolMap:
        return futures_symbol_map()

    def set_symbols(self, symbols: SymbolMap) -> None:
        """Replace the contract metadata (e.g. after a REST refresh); multipliers are re-read."""
        self.symbols = symbols
        self._unified = symbols.unified
        self._sizer = ContractSizes(symbols, self._no_multiplier)
        self._contracts.clear()

    def _no_multiplier(self, venue_symbol: str) -> None:
        self._count_error("no_multiplier", venue_symbol, "contract not in the contract list, sizes left in contracts")

    # -- REST snapshot ---------------------------------------------------------------------
    def apply_rest_snapshot(self, venue_symbol: str, body: bytes | str, recv_ts: int | None = None) -> int:
        """Decode a ``GET /futures/usdt/order_book?with_id=true`` body for ``venue_symbol``
        (contracts -> base with its multiplier) and install it with :meth:`apply_snapshot`.
        Returns the sequencer code. Raises ``ValueError`` (no ``id``) or ``msgspec`` errors on
        a bad body."""
        snap = decode_futures_snapshot(body, self._sizer(venue_symbol))
        return self.apply_snapshot(venue_symbol, snap.update_id, snap.bids, snap.asks, snap.exchange_ts, recv_ts)

    # -- channels --------------------------------------------------------------------------
    def _on_book_ticker(self, env, recv_ts: int) -> None:
        r = env.result
        sizer = self._sizer(r.s)
        bid = r.b
        ask = r.a
        self._emit(
            BestBidOffer(
                venue="gateio",
                market=PERP,
                symbol=self._unified(r.s),
                venue_symbol=r.s,
                exchange_ts=r.t or env.time_ms or env.time * 1000,
                recv_ts=recv_ts,
                bid_price=0.0 if bid == "" else bid,
                bid_size=sizer.base(r.B) if bid != "" else 0.0,
                ask_price=0.0 if ask == "" else ask,
                ask_size=sizer.base(r.A) if ask != "" else 0.0,
                update_id=r.u,
            )
        )

    def _on_trades(self, env, recv_ts: int) -> None:
        for r in env.result:
            signed = r.size
            if signed > 0:
                side = BUY
                contracts = signed
            elif signed < 0:
                side = SELL
                contracts = -signed
            else:
                self._count_error("zero_size_trade", result_prefix(env))
                continue
            self._emit(
                Trade(
                    venue="gateio",
                    market=PERP,
                    symbol=self._unified(r.contract),
                    venue_symbol=r.contract,
                    exchange_ts=r.create_time_ms or r.create_time * 1000,
                    recv_ts=recv_ts,
                    price=r.price,
                    size=self._sizer(r.contract).base(contracts),
                    side=side,
                    trade_id=str(r.id),
                    contracts=contracts,
                )
            )

    def _book_push(self, frame) -> BookPush:
        r = frame.result
        sizer = self._sizer(r.s)
        return BookPush(r.s, r.t, r.U, r.u, r.full, sizer.levels(r.b), sizer.levels(r.a), frame.time, frame.time_ms)

    def _on_order_book(self, env, recv_ts: int) -> None:
        if env.event != "all":
            # legacy signed single-level updates (§7.5, last seen 2021): no continuity rule known
            self._count_error("legacy_book_update", result_prefix(env))
            return
        r = env.result
        if r.id == 0 and not r.bids and not r.asks:
            # an empty book at id 0 (pitfalls Q4: quiet contracts) is no sync point
            self._count_error("empty_book_snapshot", result_prefix(env))
            return
        sizer = self._sizer(r.contract)
        exchange_ts = r.t or env.time_ms or env.time * 1000
        bids = sizer.levels(r.bids)
        asks = sizer.levels(r.asks)
        seq = self.book(r.contract)
        if not seq.synced:
            self._book_full(r.contract, r.id, bids, asks, exchange_ts, recv_ts)
            return
        # a periodic full book: replace and publish it, no status event every ~100 ms
        if seq.on_full(r.id, bids, asks) == CROSSED:
            self._broken(r.contract, seq, CROSSED, exchange_ts, recv_ts, None)
            return
        seq.book.exchange_ts = exchange_ts
        book = seq.book
        self._emit(
            BookUpdate(
                venue="gateio",
                market=PERP,
                symbol=self._unified(r.contract),
                venue_symbol=r.contract,
                exchange_ts=exchange_ts,
                recv_ts=recv_ts,
                bids=book.top_bids(),
                asks=book.top_asks(),
                snapshot=True,
                first_update_id=r.id,
                last_update_id=r.id,
            )
        )

    def _on_tickers(self, frame, recv_ts: int) -> None:
        # the reference path: longer frames take the compiled reader when it is built, which
        # gives the same events (tests/test_gateio_fastpush.py)
        items = frame.result
        env_ts = frame.time_ms or frame.time * 1000
        events = []
        emit = events.append
        for r in items if items.__class__ is list else (items,):
            contract = r.contract
            symbol = self._unified(contract)
            sizer = self._sizer(contract)
            exchange_ts = r.t or env_ts
            if (
                r.last is not None
                or r.change_percentage is not None
                or r.high_24h is not None
                or r.low_24h is not None
                or r.volume_24h_base is not None
                or r.volume_24h is not None
                or r.volume_24h_quote is not None
            ):
                base_volume = r.volume_24h_base
                if base_volume is None and r.volume_24h is not None:
                    base_volume = sizer.base(r.volume_24h)
                emit(
                    Ticker(
                        "gateio",
                        PERP,
                        symbol,
                        contract,
                        exchange_ts,
                        recv_ts,
                        last=r.last,
                        high_24h=r.high_24h,
                        low_24h=r.low_24h,
                        base_volume=base_volume,
                        quote_volume=r.volume_24h_quote,
                        change_pct=r.change_percentage,
                    )
                )
            next_apply = r.funding_next_apply
            if r.funding_rate is not None or r.funding_rate_indicative is not None or next_apply is not None:
                emit(
                    FundingRate(
                        "gateio",
                        PERP,
                        symbol,
                        contract,
                        exchange_ts,
                        recv_ts,
                        rate=r.funding_rate,
                        predicted_rate=r.funding_rate_indicative,
                        next_funding_ts=next_apply * 1000 if next_apply else None,
                    )
                )
            if r.mark_price is not None or r.index_price is not None:
                emit(MarkPrice("gateio", PERP, symbol, contract, exchange_ts, recv_ts, mark_price=r.mark_price, index_price=r.index_price))
            total = r.total_size
            if total is not None:
                # total_size: open interest in contracts (§7.2)
                emit(OpenInterest("gateio", PERP, symbol, contract, exchange_ts, recv_ts, open_interest=sizer.base(total), contracts=total))
        self._emit_all(events)

    def _on_candles(self, env, recv_ts: int) -> None:
        items = env.result
        if not isinstance(items, list):
            items = (items,)
        for r in items:
            interval, _, contract = r.n.partition("_")
            # mark_/index_ price candles (§7.8): symbol of the contract, venue_symbol keeps the
            # prefix, no volume
            plain = contract
            if contract.startswith("mark_"):
                plain = contract[5:]
            elif contract.startswith("index_"):
                plain = contract[6:]
            if not plain:
                raise ValueError(f"candle without a contract: {r.n!r}")
            self._emit(
                Kline(
                    venue="gateio",
                    market=PERP,
                    symbol=self._unified(plain),
                    venue_symbol=contract,
                    exchange_ts=env.time_ms or env.time * 1000,
                    recv_ts=recv_ts,
                    interval=interval,
                    open_ts=r.t * 1000,
                    open=r.o,
                    high=r.h,
                    low=r.l,
                    close=r.c,
                    # v counts contracts (§7.8)
                    volume=self._sizer(plain).base(r.v) if r.v is not None else None,
                    quote_volume=None,
                    closed=r.w,
                )
            )

    def _on_liquidations(self, env, recv_ts: int) -> None:
        items = env.result
        if not isinstance(items, list):
            items = (items,)
        env_ts = env.time_ms or env.time * 1000
        for r in items:
            signed = r.size
            if signed == 0:
                self._count_error("zero_size_liquidation", result_prefix(env))
                continue
            # Gate's order sign: negative = sell order, i.e. a long being closed (§7.9, §13: the
            # sign is undocumented for this channel)
            side = SELL if signed < 0 else BUY
            contracts = -signed if signed < 0 else signed
            self._emit(
                Liquidation(
                    venue="gateio",
                    market=PERP,
                    symbol=self._unified(r.contract),
                    venue_symbol=r.contract,
                    exchange_ts=r.time or env_ts,
                    recv_ts=recv_ts,
                    price=r.price,
                    size=self._sizer(r.contract).base(contracts),
                    side=side,
                    contracts=contracts,
                )
            )

    def _on_contract_stats(self, env, recv_ts: int) -> None:
        items = env.result
        if not isinstance(items, list):
            items = (items,)
        for r in items:
            if not r.contract:
                # frames before 2025-03 did not name the contract (§7.10)
                self._count_error("stats_without_contract", result_prefix(env))
                continue
            if r.open_interest is None:
                continue
            self._emit(
                OpenInterest(
                    venue="gateio",
                    market=PERP,
                    symbol=self._unified(r.contract),
                    venue_symbol=r.contract,
                    exchange_ts=r.time * 1000 if r.time else env.time_ms or env.time * 1000,
                    recv_ts=recv_ts,
                    open_interest=self._sizer(r.contract).base(r.open_interest),
                    contracts=r.open_interest,
                    open_interest_usd=r.open_interest_usd,
                )
            )


# -- capture replay (cexfeed.capture.ReplaySupport shape) ------------------------------------


def replay_handler(instruments: bytes | None) -> GateioFuturesPublicWebSocketHandler:
    """A futures handler for replay, its multipliers from a REST contracts body (``NAME.0``
    beside a cryptofeed capture), or name-only when ``None``."""
    return GateioFuturesPublicWebSocketHandler(symbols=futures_symbol_map(instruments))


def replay_apply_snapshot(handler: GateioFuturesPublicWebSocketHandler, venue_symbol: str, body: bytes, recv_ts: int) -> None:
    """Apply one recorded ``/futures/usdt/order_book?with_id=true`` body (sizes -> base).
    Raises ``ValueError`` (no ``id``) or ``msgspec.DecodeError`` on a bad body."""
    handler.apply_rest_snapshot(venue_symbol, body, recv_ts)
