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
never a zero. Nothing is merged from earlier pushes (:class:`cexfeed.latest.Latest` does that
for a consumer who wants the latest value of every field). A field that is ``""`` or an impossible
number is left out the same way (counted as ``ticker_lenient``). Open interest also comes from
``futures.contract_stats``, stamped to the second of its interval, so the two sources' times
interleave rather than increase.
"""

from __future__ import annotations

from ...models import PERP, BUY, SELL, FundingRate, Liquidation, MarkPrice, OpenInterest, Ticker, Trade
from ...symbols import SymbolMap
from ...wire import MAX_MILLIS, MAX_SECONDS, to_ms
from . import futures_table
from .common import GateioPublicHandler, env_ms, result_prefix, stamp
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
    FAST_ITEMS = {"_on_book_ticker": "bbo", "_on_trades": "perp_trade"}
    CONTRACT_SIZES = True

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
    # items rows: one method per item (GateioPublicHandler._emit_items)
    def _on_trades(self, r, env, recv_ts: int) -> Trade | None:
        signed = r.size
        if signed > 0:
            side = BUY
            contracts = signed
        elif signed < 0:
            side = SELL
            contracts = -signed
        else:
            self._count_error("zero_size_trade", result_prefix(env))
            return None
        t = r.create_time_ms
        if not (t.__class__ is int and MAX_SECONDS <= t < MAX_MILLIS):
            t = to_ms(t) or stamp(r.create_time, env)  # the usual ms time is kept as it is, without the calls
        return Trade("gateio", PERP, self._unified(r.contract), r.contract, t, recv_ts, r.price, self._sizer(r.contract).base(contracts), side,
                     str(r.id), contracts)

    def _book_push(self, frame) -> BookPush:
        r = frame.result
        sizer = self._sizer(r.s)
        return BookPush(r.s, stamp(r.t, frame), r.U, r.u, r.full, sizer.levels(r.b), sizer.levels(r.a))

    def _on_order_book(self, env, recv_ts: int) -> None:
        r = env.result
        if env.event == "update" and r.__class__ is list:
            self._legacy_levels([(lv.c, lv.id, lv.p, lv.s) for lv in r], env_ms(env), recv_ts)
            return
        if env.event != "all" or r.__class__ is list:
            raise ValueError(f"futures.order_book: event {env.event!r} with an {'array' if r.__class__ is list else 'object'}")
        if r.id == 0 and not r.bids and not r.asks:
            # an empty book at id 0 (pitfalls Q4: quiet contracts) is no sync point
            self._count_error("empty_book_snapshot", result_prefix(env))
            return
        sizer = self._sizer(r.contract)
        self._book_periodic(r.contract, r.id, sizer.levels(r.bids), sizer.levels(r.asks), stamp(r.t, env), recv_ts)

    def _legacy_levels(self, items: list, exchange_ts: int | None, recv_ts: int) -> None:
        """Legacy ``futures.order_book`` ``update`` items ``(contract, id, price, signed
        contracts)`` (§7.5): each is one level change applied to the contract's book (the book of
        the ``all`` snapshots) as a delta ``id..id``, so the ids must continue the book's one by
        one (else the book resyncs, as any gap); ``s`` > 0 sets the bid, < 0 the ask, 0 deletes
        the price from both sides (pitfalls Q7). Every size is converted before any is applied."""
        changes = [(contract, update_id, *legacy_level(price, signed, self._sizer, contract)) for contract, update_id, price, signed in items]
        for contract, update_id, bids, asks in changes:
            self._book_delta(contract, update_id, update_id, bids, asks, exchange_ts, recv_ts)

    def _on_tickers(self, r, frame, recv_ts: int) -> list:
        # the reference path: longer frames take the compiled reader when it is built, which
        # gives the same events (tests/test_gateio_fastpush.py)
        contract = r.contract
        return ticker_events(r, self._unified(contract), self._sizer(contract), stamp(r.t, frame), recv_ts)

    def _candle_volumes(self, r, plain: str) -> tuple:
        # v counts contracts (§7.8); no quote volume
        return (self._sizer(plain).base(r.v) if r.v is not None else None), None

    def _on_liquidations(self, r, env, recv_ts: int) -> Liquidation | None:
        signed = r.size
        if signed == 0:
            self._count_error("zero_size_liquidation", result_prefix(env))
            return None
        # Gate's order sign: negative = sell order, i.e. a long being closed (§7.9, §13: the
        # sign is undocumented for this channel)
        contracts = -signed if signed < 0 else signed
        return Liquidation("gateio", PERP, self._unified(r.contract), r.contract, stamp(r.time, env), recv_ts, r.price,
                           self._sizer(r.contract).base(contracts), SELL if signed < 0 else BUY, contracts)

    def _on_contract_stats(self, r, env, recv_ts: int) -> OpenInterest | None:
        if not r.contract:
            # frames before 2025-03 did not name the contract (§7.10)
            self._count_error("stats_without_contract", result_prefix(env))
            return None
        if r.open_interest is None:
            return None
        return OpenInterest("gateio", PERP, self._unified(r.contract), r.contract, stamp(r.time, env), recv_ts,
                            self._sizer(r.contract).base(r.open_interest), r.open_interest, r.open_interest_usd)


def legacy_level(price: float, signed: float, sizer, contract: str) -> tuple[list, list]:
    """``(bids, asks)`` of one legacy ``futures.order_book`` ``update`` row (§7.5): signed
    contracts > 0 set the bid, < 0 the ask (base currency through ``sizer(contract)``), 0
    deletes the price from both sides (pitfalls Q7: the row does not say which)."""
    if signed == 0:
        return [(price, 0.0)], [(price, 0.0)]
    size = sizer(contract).base(signed if signed > 0 else -signed)
    return ([(price, size)], []) if signed > 0 else ([], [(price, size)])


def ticker_events(r: FuturesTicker, symbol: str, sizer: ContractSize, exchange_ts: int | None, recv_ts: int) -> list:
    """The events of one ``futures.tickers`` item (§7.2), only for the fields it carries:
    ``Ticker`` (last, 24 h fields; base volume from ``volume_24h_base`` or contracts x
    multiplier), ``FundingRate`` (current and indicative rate, next apply -> ms), ``MarkPrice``
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
                next_funding_ts=to_ms(next_apply) if next_apply is not None else None,
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
