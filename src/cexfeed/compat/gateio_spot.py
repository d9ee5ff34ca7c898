"""Gate.io spot strategies: subscription frames and the parser of the rows of
:data:`~cexfeed.exchanges.gateio.spot_table.TABLE` (gateio-protocol.md §6), builders named as
the direct handler's methods."""

from __future__ import annotations

from typing import Any

from .. import wire
from ..exchanges.gateio import spot_table
from ..exchanges.gateio.protocol import spot_symbol_map
from ..models import SPOT
from ..symbols import SymbolMap
from .gateio_common import (
    GateioConnectionStrategy,
    GateioParserStrategy,
    GateioStrategyHandler,
    GateioSubscriptionStrategy,
    book_ids,
    env_ts,
    item_ts,
    levels,
    numbers,
    obj,
    trade_ts,
)
from .messages import MessageType, ParsedMessage
from .registry import StrategySet

T = MessageType

# spot.tickers numbers and the bound each must meet (as the direct path's SpotTicker)
_TICKER_NUMBERS = {
    "last": wire.price,
    "highest_bid": wire.price,
    "lowest_ask": wire.price,
    "high_24h": wire.price,
    "low_24h": wire.price,
    "base_volume": wire.size,
    "quote_volume": wire.size,
    "change_percentage": wire.signed,
}


class GateioSpotSubscriptionStrategy(GateioSubscriptionStrategy):
    """Spot subscribe/unsubscribe frames (payloads §6); ``symbols`` maps unified names to
    ``BTC_USDT``."""

    TABLE = spot_table.TABLE

    def default_symbols(self) -> SymbolMap:
        return spot_symbol_map()


class GateioSpotParserStrategy(GateioParserStrategy):
    """Gate spot public channels -> ``ParsedMessage``: ``spot.book_ticker`` (BBO),
    ``spot.trades`` (TRADE), ``spot.tickers`` (TICKER), ``spot.candlesticks`` (KLINE),
    ``spot.order_book_update`` (BOOK_DELTA, or BOOK_SNAPSHOT for a ``full`` push), ``spot.obu``."""

    market = SPOT
    TABLE = spot_table.TABLE
    PONG = spot_table.PONG
    SYSTEM = spot_table.SYSTEM

    def default_symbols(self) -> SymbolMap:
        return spot_symbol_map()

    def _on_trade(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        def read(r: Any) -> dict:
            r = obj(r)
            data = self._head(wire.name(r["currency_pair"]), trade_ts(r, frame), recv_ts)
            side, raw_side = wire.trade_side(r["side"])
            data.update(
                price=wire.price(r["price"]),
                size=wire.size(r["amount"]),
                side=side,
                trade_id=str(wire.seq_id(r["id"])),
                contracts=None,
                raw_side=raw_side,
            )
            return data

        out = []
        for data in self.items(frame, read):
            if data["size"] == 0:
                self.report("zero_size_trade", b"", None)
                continue
            if data["raw_side"] is not None:
                self.report("unknown_side", b"", data["raw_side"])
            out.append(ParsedMessage(T.TRADE, "gateio", data["symbol"], data, None))
        return out

    def _on_ticker(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        exchange_ts = env_ts(frame)

        def read(r: Any, lenient: bool) -> ParsedMessage:
            r = obj(r)
            data = self._head(wire.name(r["currency_pair"]), exchange_ts, recv_ts)
            v = numbers(r, _TICKER_NUMBERS, lenient)
            data.update(
                last=v["last"],
                best_bid=v["highest_bid"],
                best_ask=v["lowest_ask"],
                high_24h=v["high_24h"],
                low_24h=v["low_24h"],
                base_volume=v["base_volume"],
                quote_volume=v["quote_volume"],
                change_pct=v["change_percentage"],
            )
            return ParsedMessage(T.TICKER, "gateio", data["symbol"], data, None)

        return self.items(frame, self.lenient(read, "ticker_lenient"))

    def _candle_volumes(self, plain: str, v, a) -> tuple:
        # spot `v` is quote volume, `a` base amount (gateio-protocol.md §6.4)
        return a, v

    def _on_book_update(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = wire.name(r["s"])
        first, last = book_ids(r)
        data = {
            "venue_symbol": venue_symbol,
            "first_update_id": first,
            "last_update_id": last,
            "bids": levels(r.get("b", [])),
            "asks": levels(r.get("a", [])),
            "exchange_ts": item_ts(r, "t", frame),
            "recv_ts": recv_ts,
        }
        msg_type = T.BOOK_SNAPSHOT if wire.flag(r.get("full", False)) else T.BOOK_DELTA
        return [ParsedMessage(msg_type, "gateio", self.unified(venue_symbol), data, None)]


GATEIO_SPOT = StrategySet(
    connection=lambda url=None: GateioConnectionStrategy(url or spot_table.WS_URL, SPOT, spot_table.PING),
    subscription=GateioSpotSubscriptionStrategy,
    parser=GateioSpotParserStrategy,
    handler=GateioStrategyHandler,
)
