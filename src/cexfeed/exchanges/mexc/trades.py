"""MEXC deals -> trade values, shared by the direct handler and its strategy-path twin
(mexc-protocol.md §2.2 deals):

- the taker side comes from ``tradeType`` (1 buy, 2 sell); another code (one the venue added
  later, or none) keeps the trade, with side ``unknown`` and the code as ``raw_side``;
- a deal of size 0 is counted (``zero_size_trade``) and left out;
- a deal's time is its own ``time``, else the push's;
- a deal without a ``tradeId`` (the older schema) gets ``"<time ms>-<n>"``, ``n`` counting such
  deals of the symbol on this handler: unique across pushes, not only within one (two deals
  in the same millisecond of two pushes no longer collide), and the same on a replay.
"""

from __future__ import annotations

from typing import Callable, Iterable

from ...models import BUY, SELL, SPOT, UNKNOWN, Trade
from .decode import Deal
from .protocol import TRADE_TYPE_BUY, TRADE_TYPE_SELL


class DealIds:
    """Ids for the deals a venue sends without one, per symbol (see the module docstring)."""

    __slots__ = ("_count",)

    def __init__(self) -> None:
        self._count: dict[str, int] = {}

    def __call__(self, symbol: str, time_ms: int | None) -> str:
        n = self._count.get(symbol, 0) + 1
        self._count[symbol] = n
        return f"{time_ms or 0}-{n}"


def deal_trades(deals: Iterable[Deal], symbol: str, unified: str, push_ts: int | None, recv_ts: int, ids: DealIds, count: Callable, raw: bytes) -> list[Trade]:
    """The :class:`~cexfeed.models.Trade` of each deal to publish, in order (``symbol`` the
    venue's name, ``unified`` ours); ``count(kind, raw, detail)`` is told of each deal left
    out or marked."""
    out = []
    for price, qty, trade_type, time_ms, trade_id in deals:
        if qty == 0.0:
            count("zero_size_trade", raw, "")
            continue
        raw_side = None
        if trade_type == TRADE_TYPE_BUY:
            side = BUY
        elif trade_type == TRADE_TYPE_SELL:
            side = SELL
        else:
            side = UNKNOWN
            raw_side = str(trade_type)
            count("unknown_side", raw, f"tradeType {trade_type}")
        exchange_ts = time_ms or push_ts
        out.append(Trade("mexc", SPOT, unified, symbol, exchange_ts, recv_ts, price, qty, side, trade_id or ids(symbol, exchange_ts), None, raw_side))
    return out
