"""Gate.io USDT perpetual strategies: subscription frames and the parser of the rows of
:data:`~cexfeed.exchanges.gateio.futures_table.TABLE` (gateio-protocol.md §7), builders named as
the direct handler's methods. Sizes: contracts x the contract's ``quanto_multiplier`` from
``symbols`` (``contracts`` keeps the count); the ticker rule is the direct path's
:func:`~cexfeed.exchanges.gateio.futures_public_handler.ticker_events`."""

from __future__ import annotations

from typing import Any

from .. import wire
from ..exchanges.gateio import futures_table
from ..exchanges.gateio.common import candle_name
from ..exchanges.gateio.contracts import ContractSizes, decode_futures_snapshot, futures_symbol_map
from ..exchanges.gateio.futures_public_handler import ticker_events
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
    items,
    numbers,
    obj,
    optional,
)
from .messages import MessageType, ParsedMessage, message_from_event
from .registry import StrategySet

T = MessageType

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
    "funding_next_apply": wire.seconds,
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

    def _head(self, venue_symbol: str, exchange_ts: int, recv_ts: int) -> dict:
        return {
            "venue": "gateio",
            "market": PERP,
            "symbol": self.unified(venue_symbol),
            "venue_symbol": venue_symbol,
            "exchange_ts": exchange_ts,
            "recv_ts": recv_ts,
        }

    @staticmethod
    def _levels(levels: Any) -> list[tuple[float, float]]:
        """``[{"p", "s"}, ...]`` -> ``[(price, contracts)]``, every value checked."""
        return [(wire.price(lv["p"]), wire.size(lv["s"])) for lv in (obj(item) for item in array(levels))]

    # every builder reads and checks all values first and converts contracts last: a contract
    # missing from the contract list is only reported for a push that is used

    def _on_book_ticker(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = wire.name(r["s"])
        bid = r.get("b", "")
        ask = r.get("a", "")
        data = self._head(venue_symbol, wire.millis(r.get("t", 0)) or env_ts(frame), recv_ts)
        bid_size = wire.size(r.get("B", 0.0))
        ask_size = wire.size(r.get("A", 0.0))
        data.update(
            bid_price=wire.price(bid) if bid != "" else 0.0,
            ask_price=wire.price(ask) if ask != "" else 0.0,
            update_id=optional(wire.seq_id, r.get("u")),
        )
        base = self.sizer(venue_symbol).base
        data.update(bid_size=base(bid_size) if bid != "" else 0.0, ask_size=base(ask_size) if ask != "" else 0.0)
        return [ParsedMessage(T.BBO, "gateio", data["symbol"], data, None)]

    def _on_trades(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        checked = []
        for r in array(frame["result"]):
            r = obj(r)
            signed = wire.signed(r["size"])
            price = wire.price(r["price"])
            venue_symbol = wire.name(r["contract"])
            create_time_ms = wire.millis(r.get("create_time_ms", 0))
            create_time = wire.seconds(r.get("create_time", 0))
            trade_id = str(wire.seq_id(r["id"]))
            optional(wire.flag, r.get("is_internal"))
            checked.append((signed, price, venue_symbol, create_time_ms or create_time * 1000, trade_id))
        out = []
        for signed, price, venue_symbol, exchange_ts, trade_id in checked:
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
            "exchange_ts": wire.millis(r.get("t", 0)) or env_ts(frame),
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
        r = frame["result"]
        if r.__class__ is list:
            for item in r:  # the shape of futures_table.LegacyBookLevel
                item = obj(item)
                wire.price(item["p"]), wire.signed(item["s"]), wire.name(item["c"]), wire.seq_id(item["id"])
            if frame.get("event") != "all":
                # legacy signed single-level updates (§7.5): no continuity rule known
                self.report("legacy_book_update", b"", None)
                return []
            raise ValueError("a futures.order_book snapshot is an object")
        r = obj(r)
        venue_symbol = r["contract"]
        if venue_symbol.__class__ is not str:
            raise ValueError("contract must be a string")
        update_id = wire.seq_id(r["id"])
        data = {
            "venue_symbol": venue_symbol,
            "first_update_id": update_id,
            "last_update_id": update_id,
            "bids": self._levels(r.get("bids", [])),
            "asks": self._levels(r.get("asks", [])),
            "exchange_ts": wire.millis(r.get("t", 0)) or env_ts(frame),
            "recv_ts": recv_ts,
            "periodic": True,
        }
        if frame.get("event") != "all":
            self.report("legacy_book_update", b"", None)
            return []
        if update_id == 0 and not data["bids"] and not data["asks"]:
            # an empty book at id 0 (pitfalls Q4: quiet contracts) is no sync point
            self.report("empty_book_snapshot", b"", None)
            return []
        self._to_base(venue_symbol, data)
        return [ParsedMessage(T.BOOK_SNAPSHOT, "gateio", self.unified(venue_symbol), data, None)]

    def _on_tickers(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        results = items(frame["result"])
        try:
            values = [self._ticker(r, False) for r in results]
        except (TypeError, ValueError):
            # a field that does not fit ("" on quiet contracts, an impossible number): keep the rest
            values = [self._ticker(r, True) for r in results]
            self.report("ticker_lenient", b"", None)
        frame_ts = env_ts(frame)
        out = []
        for r in values:
            for event in ticker_events(r, self.unified(r.contract), self.sizer(r.contract), r.t or frame_ts, recv_ts):
                out.append(message_from_event(event))
        return out

    @staticmethod
    def _ticker(r: Any, lenient: bool) -> FuturesTicker:
        """One ticker item read field by field (``lenient``: a field that does not convert is
        left out)."""
        r = obj(r)
        contract = wire.name(r["contract"])
        values: dict[str, Any] = numbers(r, _TICKER_NUMBERS, lenient)
        values.update(numbers(r, {"t": wire.millis}, lenient, absent=0))
        return FuturesTicker(contract=contract, **values)

    def _on_candles(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        checked = []
        frame_ts = env_ts(frame)
        for r in items(frame["result"]):
            r = obj(r)
            interval, contract, plain = candle_name(r["n"])
            data = self._head(contract, frame_ts, recv_ts)
            data.update(
                symbol=self.unified(plain),
                interval=interval,
                open_ts=wire.seconds(r["t"]) * 1000,
                open=wire.price(r["o"]),
                high=wire.price(r["h"]),
                low=wire.price(r["l"]),
                close=wire.price(r["c"]),
                # v counts contracts (§7.8)
                volume=optional(wire.size, r.get("v")),
                quote_volume=None,
                closed=optional(wire.flag, r.get("w")),
            )
            optional(wire.size, r.get("a"))
            checked.append((plain, data))
        out = []
        for plain, data in checked:
            if data["volume"] is not None:
                data["volume"] = self.sizer(plain).base(data["volume"])
            out.append(ParsedMessage(T.KLINE, "gateio", data["symbol"], data, None))
        return out

    def _on_liquidations(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        checked = []
        frame_ts = env_ts(frame)
        for r in items(frame["result"]):
            r = obj(r)
            contract = wire.name(r["contract"])
            price = wire.price(r["price"])
            signed = wire.signed(r["size"])
            checked.append((contract, price, signed, wire.millis(r.get("time", 0)) or frame_ts))
        out = []
        for contract, price, signed, exchange_ts in checked:
            if signed == 0:
                self.report("zero_size_liquidation", b"", None)
                continue
            data = self._head(contract, exchange_ts, recv_ts)
            contracts = -signed if signed < 0 else signed
            data.update(price=price, size=self.sizer(contract).base(contracts), side=SELL if signed < 0 else BUY, contracts=contracts)
            out.append(ParsedMessage(T.LIQUIDATION, "gateio", data["symbol"], data, None))
        return out

    def _on_contract_stats(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        checked = []
        for r in items(frame["result"]):
            r = obj(r)
            contract = r.get("contract", "")
            if contract.__class__ is not str:
                raise ValueError("contract must be a string")
            stamp = wire.seconds(r.get("time", 0))
            oi = optional(wire.size, r.get("open_interest"))
            usd = optional(wire.size, r.get("open_interest_usd"))
            checked.append((contract, stamp, oi, usd))
        out = []
        for contract, stamp, oi, usd in checked:
            if not contract:
                # frames before 2025-03 did not name the contract (§7.10)
                self.report("stats_without_contract", b"", None)
                continue
            if oi is None:
                continue
            data = self._head(contract, stamp * 1000 if stamp else env_ts(frame), recv_ts)
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
