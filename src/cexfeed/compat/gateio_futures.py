"""Gate.io USDT perpetual strategies: subscription frames and the parser of the rows of
:data:`~cexfeed.exchanges.gateio.futures_table.TABLE` (gateio-protocol.md §7), builders named as
the direct handler's methods. Sizes: contracts x the contract's ``quanto_multiplier`` from
``symbols`` (``contracts`` keeps the count); the ticker rule is the direct path's
:func:`~cexfeed.exchanges.gateio.futures_public_handler.ticker_events`."""

from __future__ import annotations

from typing import Any

from .. import wire
from ..exchanges.gateio import futures_table
from ..exchanges.gateio.contracts import ContractSizes, decode_futures_snapshot, futures_symbol_map
from ..exchanges.gateio.futures_public_handler import legacy_level, ticker_events
from ..exchanges.gateio.futures_table import FuturesTicker
from ..exchanges.gateio.held import HeldSizes
from ..models import BUY, PERP, SELL
from ..symbols import SymbolMap
from .gateio_common import (
    GateioConnectionStrategy,
    GateioParserStrategy,
    GateioStrategyHandler,
    GateioSubscriptionStrategy,
    array,
    book_ids,
    env_ts,
    item_ts,
    numbers,
    obj,
    optional,
    text,
    trade_ts,
)
from .messages import MessageType, ParsedMessage, message_from_event
from .registry import StrategySet

T = MessageType


def checked_time(value: Any) -> Any:
    """A venue time kept as sent once :func:`cexfeed.wire.to_ms` accepts it (the event reads it
    in any unit later, as from the typed decode). Raises ``ValueError`` otherwise."""
    wire.to_ms(value)
    return value


# futures.tickers numbers and the bound each must meet (as the direct path's FuturesTicker)
_TICKER_NUMBERS = {
    "last": wire.price,
    "change_percentage": wire.signed,
    "high_24h": wire.price,
    "low_24h": wire.price,
    "volume_24h": wire.size,
    "volume_24h_base": wire.size,
    "volume_24h_quote": wire.size,
    "funding_rate": wire.signed,
    "funding_rate_indicative": wire.signed,
    "mark_price": wire.price,
    "index_price": wire.price,
    "total_size": wire.size,
    "funding_next_apply": checked_time,
}



class GateioFuturesSubscriptionStrategy(GateioSubscriptionStrategy):
    """USDT futures subscribe/unsubscribe frames (payloads §7); ``book`` params are
    ``(frequency, level)``."""

    TABLE = futures_table.TABLE

    def default_symbols(self) -> SymbolMap:
        return futures_symbol_map()


class GateioFuturesParserStrategy(GateioParserStrategy):
    """Gate USDT perpetual channels (§7) -> ``ParsedMessage``. A push of a contract without a
    known multiplier raises :class:`~cexfeed.exchanges.gateio.contracts.MultiplierUnknown`
    (the handler holds it). Book messages carry
    ``obu_stream`` for ``futures.obu`` and ``periodic`` for the legacy ``futures.order_book``
    full pushes."""

    market = PERP
    TABLE = futures_table.TABLE
    PONG = futures_table.PONG
    SYSTEM = futures_table.SYSTEM

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self.sizer = ContractSizes(self.symbols)

    def default_symbols(self) -> SymbolMap:
        return futures_symbol_map()

    def set_symbols(self, symbols: SymbolMap) -> None:
        super().set_symbols(symbols)
        self.sizer = ContractSizes(symbols)

    @staticmethod
    def _levels(levels: Any) -> list[tuple[float, float]]:
        """``[{"p", "s"}, ...]`` -> ``[(price, contracts)]``, every value checked."""
        return [(wire.price(lv["p"]), wire.size(lv["s"])) for lv in (obj(item) for item in array(levels))]

    # every builder reads and checks all values first and converts contracts last: a contract
    # missing from the contract list is only reported for a push that is used

    def _on_trades(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        def read(r: Any) -> tuple:
            r = obj(r)
            signed = wire.signed(r["size"])
            price = wire.price(r["price"])
            venue_symbol = wire.name(r["contract"])
            exchange_ts = trade_ts(r, frame)
            trade_id = str(wire.seq_id(r["id"]))
            wire.flag(r.get("is_internal", False))
            return signed, price, venue_symbol, exchange_ts, trade_id

        out = []
        for signed, price, venue_symbol, exchange_ts, trade_id in self.items(frame, read):
            if signed > 0:
                side, contracts = BUY, signed
            elif signed < 0:
                side, contracts = SELL, -signed
            else:
                self.report("zero_size_trade", b"", None)
                continue
            data = self._head(venue_symbol, exchange_ts, recv_ts)
            data.update(price=price, size=self.sizer(venue_symbol).base(contracts), side=side, trade_id=trade_id, contracts=contracts)
            out.append(ParsedMessage(T.TRADE, "gateio", data["symbol"], data, None))
        return out

    def _on_book_update(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = wire.name(r["s"])
        first, last = book_ids(r)
        data = {
            "venue_symbol": venue_symbol,
            "first_update_id": first,
            "last_update_id": last,
            "bids": self._levels(r.get("b", [])),
            "asks": self._levels(r.get("a", [])),
            "exchange_ts": item_ts(r, "t", frame),
            "recv_ts": recv_ts,
        }
        msg_type = T.BOOK_SNAPSHOT if wire.flag(r.get("full", False)) else T.BOOK_DELTA
        self._to_base(venue_symbol, data)
        return [ParsedMessage(msg_type, "gateio", self.unified(venue_symbol), data, None)]

    def _to_base(self, venue_symbol: str, data: dict) -> None:
        pairs = self.sizer(venue_symbol).pairs
        data["bids"] = pairs(data["bids"])
        data["asks"] = pairs(data["asks"])

    def _on_order_book(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        """Event ``all``: a whole book (BOOK_SNAPSHOT with ``periodic``); the legacy event
        ``update``: signed level changes (§7.5), one BOOK_DELTA ``id..id`` each, on the same
        book (the direct handler's rule, :func:`~cexfeed.exchanges.gateio.futures_public_handler.legacy_level`)."""
        r = frame["result"]
        event = frame.get("event")
        if r.__class__ is list:
            # the shape of futures_table.LegacyBookLevel, every item checked before any is used
            levels = []
            for item in r:
                item = obj(item)
                levels.append((wire.name(item["c"]), wire.seq_id(item["id"]), wire.price(item["p"]), wire.signed(item["s"])))
            if event != "update":
                raise ValueError("a futures.order_book snapshot is an object")
            exchange_ts = env_ts(frame)
            out = []
            for contract, update_id, price, signed in levels:
                bids, asks = legacy_level(price, signed, self.sizer, contract)
                data = {"venue_symbol": contract, "first_update_id": update_id, "last_update_id": update_id,
                        "bids": bids, "asks": asks, "exchange_ts": exchange_ts, "recv_ts": recv_ts}
                out.append(ParsedMessage(T.BOOK_DELTA, "gateio", self.unified(contract), data, None))
            return out
        r = obj(r)
        venue_symbol = text(r["contract"])
        update_id = wire.seq_id(r["id"])
        data = {
            "venue_symbol": venue_symbol,
            "first_update_id": update_id,
            "last_update_id": update_id,
            "bids": self._levels(r.get("bids", [])),
            "asks": self._levels(r.get("asks", [])),
            "exchange_ts": item_ts(r, "t", frame),
            "recv_ts": recv_ts,
            "periodic": True,
        }
        if event != "all":
            raise ValueError("a legacy futures.order_book update is an array")
        if update_id == 0 and not data["bids"] and not data["asks"]:
            # an empty book at id 0 (pitfalls Q4: quiet contracts) is no sync point
            self.report("empty_book_snapshot", b"", None)
            return []
        self._to_base(venue_symbol, data)
        return [ParsedMessage(T.BOOK_SNAPSHOT, "gateio", self.unified(venue_symbol), data, None)]

    def _on_tickers(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        frame_ts = env_ts(frame)
        out = []
        for r, t in self.items(frame, self.lenient(self._ticker, "ticker_lenient")):
            for event in ticker_events(r, self.unified(r.contract), self.sizer(r.contract), t or frame_ts, recv_ts):
                out.append(message_from_event(event))
        return out

    @staticmethod
    def _ticker(r: Any, lenient: bool) -> tuple[FuturesTicker, int | None]:
        """One ticker item read field by field (``lenient``: a field that does not convert is
        left out), and its own time in ms."""
        r = obj(r)
        contract = wire.name(r["contract"])
        values: dict[str, Any] = numbers(r, _TICKER_NUMBERS, lenient)
        try:
            t = wire.to_ms(r.get("t", 0))  # not optional: null does not fit (the typed `t: Time = 0`)
        except ValueError:
            if not lenient:
                raise
            t = None
        return FuturesTicker(contract=contract, **values), t

    def _candle_volumes(self, plain: str, v, a) -> tuple:
        # v counts contracts (§7.8); no quote volume
        return (self.sizer(plain).base(v) if v is not None else None), None

    def _on_liquidations(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        def read(r: Any) -> tuple:
            r = obj(r)
            contract = wire.name(r["contract"])
            price = wire.price(r["price"])
            signed = wire.signed(r["size"])
            return contract, price, signed, item_ts(r, "time", frame)

        out = []
        for contract, price, signed, exchange_ts in self.items(frame, read):
            if signed == 0:
                self.report("zero_size_liquidation", b"", None)
                continue
            data = self._head(contract, exchange_ts, recv_ts)
            contracts = -signed if signed < 0 else signed
            data.update(price=price, size=self.sizer(contract).base(contracts), side=SELL if signed < 0 else BUY, contracts=contracts)
            out.append(ParsedMessage(T.LIQUIDATION, "gateio", data["symbol"], data, None))
        return out

    def _on_contract_stats(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        def read(r: Any) -> tuple:
            r = obj(r)
            contract = text(r.get("contract", ""))
            stamp = item_ts(r, "time", frame)
            oi = optional(wire.size, r.get("open_interest"))
            usd = optional(wire.size, r.get("open_interest_usd"))
            return contract, stamp, oi, usd

        out = []
        for contract, stamp, oi, usd in self.items(frame, read):
            if not contract:
                # frames before 2025-03 did not name the contract (§7.10)
                self.report("stats_without_contract", b"", None)
                continue
            if oi is None:
                continue
            data = self._head(contract, stamp, recv_ts)
            data.update(open_interest=self.sizer(contract).base(oi), contracts=oi, open_interest_usd=usd)
            out.append(ParsedMessage(T.OPEN_INTEREST, "gateio", data["symbol"], data, None))
        return out


class GateioFuturesStrategyHandler(HeldSizes, GateioStrategyHandler):
    """Strategy-path handler of Gate USDT futures: :class:`GateioStrategyHandler` plus REST
    snapshots in contracts and the direct path's holding of pushes whose contract multiplier
    is not known yet (:class:`~cexfeed.exchanges.gateio.held.HeldSizes`)."""

    def apply_rest_snapshot(self, venue_symbol: str, body: bytes | str, recv_ts: int | None = None) -> int:
        """Same as the direct handler's: a ``GET /futures/usdt/order_book?with_id=true`` body,
        contracts -> base currency. Raises ``ValueError``/``msgspec`` errors on a bad body."""
        snap = decode_futures_snapshot(body, self.parser.sizer(venue_symbol))
        return self.apply_snapshot(venue_symbol, snap.update_id, snap.bids, snap.asks, snap.exchange_ts, recv_ts)


GATEIO_PERP = StrategySet(
    connection=lambda url=None: GateioConnectionStrategy(url or futures_table.WS_URL, PERP, futures_table.PING),
    subscription=GateioFuturesSubscriptionStrategy,
    parser=GateioFuturesParserStrategy,
    handler=GateioFuturesStrategyHandler,
)
