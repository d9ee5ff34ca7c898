"""Gate.io USDT perpetual futures public channels: the small handlers of the rows of
:data:`~cexfeed.exchanges.gateio.futures_table.TABLE` (gateio-protocol.md §1.2, §5, §7, §10).

Every size on an event is base currency = contracts x ``quanto_multiplier`` of the contract
(from :func:`~cexfeed.exchanges.gateio.contracts.futures_symbol_map`); where the venue speaks
contracts the raw unsigned count is kept in ``contracts``. A push of a contract whose multiplier
is not known yet is held until it is (:mod:`~cexfeed.exchanges.gateio.held`); inverse
contracts are refused. Each channel method builds all the events of a push before emitting
any, so a push is either held whole or emitted whole. Sizes arrive as
JSON integers, or as decimal strings (``"-108.5"``, ``"1e-3"``) when the connection sent
``X-Gate-Size-Decimal: 1``; both are accepted (§5.2).

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

from ...models import PERP, BUY, SELL, BestBidOffer, FundingRate, Kline, Liquidation, MarkPrice, OpenInterest, Ticker, Trade
from ...symbols import SymbolMap
from . import futures_table
from .common import GateioPublicHandler, candle_name, result_prefix
from .contracts import ContractSize, ContractSizes, decode_futures_snapshot, futures_symbol_map
from .book_push import BookPush
from .futures_table import FuturesTicker
from .held import HeldSizes
from .obu import ObuBooks


class GateioFuturesPublicWebSocketHandler(HeldSizes, ObuBooks, GateioPublicHandler):
    """Gate.io USDT perpetual market data: raw frame -> :mod:`cexfeed.models` events.

    ``symbols``: a :class:`SymbolMap` from :func:`futures_symbol_map` (REST contracts), which
    supplies each contract's multiplier; without it names map ``BTC_USDT`` -> ``BTC/USDT:USDT``
    and the pushes of a contract it does not list are held (``StreamStatus`` ``held``, counted
    ``held_no_multiplier``) until :meth:`set_symbols` gives its multiplier. ``depth``:
    book depth kept for ``order_book_update``, equal to the subscribed level and REST ``limit``
    (obu books keep their stream level). REST snapshots: :meth:`apply_rest_snapshot`.
    """

    market = PERP
    TABLE = futures_table.TABLE
    PONG = futures_table.PONG
    SYSTEM = futures_table.SYSTEM
    FAST_TICKERS = True

    def __init__(self, on_event=None, symbols: SymbolMap | None = None, depth: int = 100) -> None:
        super().__init__(on_event, symbols, depth)
        self._sizer = ContractSizes(self.symbols)

    def _contract_context(self, venue_symbol: str) -> tuple[float, float, bool, str]:
        sizer = self._sizer(venue_symbol)
        return float(sizer.num), float(sizer.den), sizer.is_one, self._unified(venue_symbol)

    def _default_symbols(self) -> SymbolMap:
        return futures_symbol_map()

    def set_symbols(self, symbols: SymbolMap) -> None:
        """Replace the contract metadata (e.g. the list arrived after the stream started);
        multipliers are re-read and held pushes handled again."""
        self._sizer = ContractSizes(symbols)
        super().set_symbols(symbols)

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
        events = []
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
            events.append(
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
        self._emit_all(events)

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
        self._book_periodic(r.contract, r.id, sizer.levels(r.bids), sizer.levels(r.asks), exchange_ts, recv_ts)

    def _on_tickers(self, frame, recv_ts: int) -> None:
        # the reference path: longer frames take the compiled reader when it is built, which
        # gives the same events (tests/test_gateio_fastpush.py)
        items = frame.result
        env_ts = frame.time_ms or frame.time * 1000
        events: list = []
        for r in items if items.__class__ is list else (items,):
            contract = r.contract
            events += ticker_events(r, self._unified(contract), self._sizer(contract), r.t or env_ts, recv_ts)
        self._emit_all(events)

    def _on_candles(self, env, recv_ts: int) -> None:
        items = env.result
        if not isinstance(items, list):
            items = (items,)
        events = []
        for r in items:
            interval, contract, plain = candle_name(r.n)
            events.append(
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
        self._emit_all(events)

    def _on_liquidations(self, env, recv_ts: int) -> None:
        items = env.result
        if not isinstance(items, list):
            items = (items,)
        env_ts = env.time_ms or env.time * 1000
        events = []
        for r in items:
            signed = r.size
            if signed == 0:
                self._count_error("zero_size_liquidation", result_prefix(env))
                continue
            # Gate's order sign: negative = sell order, i.e. a long being closed (§7.9, §13: the
            # sign is undocumented for this channel)
            side = SELL if signed < 0 else BUY
            contracts = -signed if signed < 0 else signed
            events.append(
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
        self._emit_all(events)

    def _on_contract_stats(self, env, recv_ts: int) -> None:
        items = env.result
        if not isinstance(items, list):
            items = (items,)
        events = []
        for r in items:
            if not r.contract:
                # frames before 2025-03 did not name the contract (§7.10)
                self._count_error("stats_without_contract", result_prefix(env))
                continue
            if r.open_interest is None:
                continue
            events.append(
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
        self._emit_all(events)


def ticker_events(r: FuturesTicker, symbol: str, sizer: ContractSize, exchange_ts: int, recv_ts: int) -> list:
    """The events of one ``futures.tickers`` item (§7.2), only for the fields it carries:
    ``Ticker`` (last, 24 h fields; base volume from ``volume_24h_base`` or contracts x
    multiplier), ``FundingRate`` (current and indicative rate, next apply s -> ms), ``MarkPrice``
    (mark, index), ``OpenInterest`` (``total_size`` contracts -> base). Shared by the direct and
    compat paths; the compiled reader gives the same (tests/test_gateio_fastpush.py)."""
    contract = r.contract
    events: list = []
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
        events.append(
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
        events.append(
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
        events.append(MarkPrice("gateio", PERP, symbol, contract, exchange_ts, recv_ts, mark_price=r.mark_price, index_price=r.index_price))
    total = r.total_size
    if total is not None:
        # total_size: open interest in contracts (§7.2)
        events.append(OpenInterest("gateio", PERP, symbol, contract, exchange_ts, recv_ts, open_interest=sizer.base(total), contracts=total))
    return events


# -- capture replay (cexfeed.capture.ReplaySupport shape) ------------------------------------


def replay_handler(instruments: bytes | None) -> GateioFuturesPublicWebSocketHandler:
    """A futures handler for replay, its multipliers from a REST contracts body (``NAME.0``
    beside a cryptofeed capture), or name-only when ``None``."""
    return GateioFuturesPublicWebSocketHandler(symbols=futures_symbol_map(instruments))


def replay_apply_snapshot(handler: GateioFuturesPublicWebSocketHandler, venue_symbol: str, body: bytes, recv_ts: int) -> None:
    """Apply one recorded ``/futures/usdt/order_book?with_id=true`` body (sizes -> base).
    Raises ``ValueError`` (no ``id``) or ``msgspec.DecodeError`` on a bad body."""
    handler.apply_rest_snapshot(venue_symbol, body, recv_ts)
