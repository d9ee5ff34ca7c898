"""Gate.io spot strategies: subscription frames and the parser of the rows of
:data:`~cexfeed.exchanges.gateio.spot_table.TABLE` (gateio-protocol.md §6), builders named as
the direct handler's methods."""

from __future__ import annotations

from .. import wire
from ..exchanges.gateio import spot_table
from ..exchanges.gateio.common import candle_name
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
    levels,
    numbers,
    optional,
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

    def _head(self, venue_symbol: str, exchange_ts: int, recv_ts: int) -> dict:
        return {
            "venue": "gateio",
            "market": SPOT,
            "symbol": self.unified(venue_symbol),
            "venue_symbol": venue_symbol,
            "exchange_ts": exchange_ts,
            "recv_ts": recv_ts,
        }

    def _on_book_ticker(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        data = self._head(wire.name(r["s"]), wire.millis(r["t"]), recv_ts)
        data.update(
            bid_price=wire.price(r["b"]),
            bid_size=wire.size(r["B"]),
            ask_price=wire.price(r["a"]),
            ask_size=wire.size(r["A"]),
            update_id=optional(wire.seq_id, r.get("u")),
        )
        return [ParsedMessage(T.BBO, "gateio", data["symbol"], data, None)]

    def _on_trade(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        create_time_ms = wire.number(r.get("create_time_ms", 0.0))
        if not 0.0 <= create_time_ms < wire.MAX_MILLIS:
            raise ValueError(f"impossible time {create_time_ms!r} ms")
        create_time = wire.seconds(r.get("create_time", 0))
        exchange_ts = int(create_time_ms) if create_time_ms else create_time * 1000
        data = self._head(wire.name(r["currency_pair"]), exchange_ts, recv_ts)
        data.update(
            price=wire.price(r["price"]),
            size=wire.size(r["amount"]),
            side=wire.side(r["side"]),
            trade_id=str(wire.seq_id(r["id"])),
            contracts=None,
        )
        if data["size"] == 0:
            self.report("zero_size_trade", b"", None)
            return []
        return [ParsedMessage(T.TRADE, "gateio", data["symbol"], data, None)]

    def _on_ticker(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        data = self._head(wire.name(r["currency_pair"]), env_ts(frame), recv_ts)
        try:
            v = numbers(r, _TICKER_NUMBERS, False)
        except (TypeError, ValueError):
            # a field that does not fit ("" on quiet pairs, an impossible number): keep the rest
            self.report("ticker_lenient", b"", None)
            v = numbers(r, _TICKER_NUMBERS, True)
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
        return [ParsedMessage(T.TICKER, "gateio", data["symbol"], data, None)]

    def _on_candle(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        interval, venue_symbol, _ = candle_name(r["n"])
        data = self._head(venue_symbol, env_ts(frame), recv_ts)
        data.update(
            interval=interval,
            open_ts=wire.seconds(r["t"]) * 1000,
            open=wire.price(r["o"]),
            high=wire.price(r["h"]),
            low=wire.price(r["l"]),
            close=wire.price(r["c"]),
            # spot `v` is quote volume, `a` base amount (gateio-protocol.md §6.4)
            volume=optional(wire.size, r.get("a")),
            quote_volume=optional(wire.size, r.get("v")),
            closed=optional(wire.flag, r.get("w")),
        )
        return [ParsedMessage(T.KLINE, "gateio", data["symbol"], data, None)]

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
            "exchange_ts": wire.millis(r.get("t", 0)) or env_ts(frame),
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
