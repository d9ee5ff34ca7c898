"""Gate.io spot public channels: the small handlers of the rows of
:data:`~cexfeed.exchanges.gateio.spot_table.TABLE` (gateio-protocol.md §6, book sync §10.1).
The book rows (``spot.order_book_update``, ``spot.obu``) are handled by the shared
:class:`~cexfeed.exchanges.gateio.common.GateioPublicHandler` and
:class:`~cexfeed.exchanges.gateio.obu.ObuBooks`.
"""

from __future__ import annotations

from ...models import BUY, SELL, SPOT, Ticker, Trade
from ...symbols import SymbolMap
from ...wire import MAX_MILLIS, MAX_SECONDS, to_ms, trade_side
from . import spot_table
from .common import GateioPublicHandler, env_ms, result_prefix, stamp
from .obu import ObuBooks
from .protocol import parse_spot_snapshot, spot_symbol_map

# the ms range of wire.to_ms as floats (a float compares faster with a float)
_MS_LOW, _MS_HIGH = float(MAX_SECONDS), float(MAX_MILLIS)


class GateioSpotPublicWebSocketHandler(ObuBooks, GateioPublicHandler):
    """Gate.io spot market data: raw frame -> :mod:`cexfeed.models` events.

    ``symbols`` maps ``BTC_USDT`` <-> ``BTC/USDT`` (default: split on ``_``); ``depth`` is the
    book depth kept, which must equal the subscribed ``order_book_update`` level (100 for
    ``100ms``, 20 for ``20ms``) and the REST snapshot ``limit``.
    """

    market = SPOT
    TABLE = spot_table.TABLE
    PONG = spot_table.PONG
    SYSTEM = spot_table.SYSTEM
    FAST_BOOK_ARRAYS = True
    FAST_ITEMS = {"_on_book_ticker": "bbo", "_on_trade": "trade", "_on_ticker": "ticker"}

    def __init__(self, on_event=None, symbols: SymbolMap | None = None, depth: int = 100) -> None:
        super().__init__(on_event, symbols, depth)

    def _default_symbols(self) -> SymbolMap:
        return spot_symbol_map()

    # items rows: one method per item (GateioPublicHandler._emit_items)
    def _on_trade(self, r, env, recv_ts: int) -> Trade | None:
        if r.amount == 0:
            self._count_error("zero_size_trade", result_prefix(env))
            return None
        side = r.side
        raw_side = None
        if side != BUY and side != SELL:
            side, raw_side = trade_side(side)
            self._count_error("unknown_side", result_prefix(env), f"side {raw_side!r}")
        ms = r.create_time_ms
        if ms.__class__ is float and _MS_LOW <= ms < _MS_HIGH:
            exchange_ts = int(ms)  # the usual case of to_ms (ms with a fraction), without the call
        else:
            exchange_ts = to_ms(ms) or stamp(r.create_time, env)
        return Trade("gateio", SPOT, self._unified(r.currency_pair), r.currency_pair, exchange_ts, recv_ts, r.price, r.amount, side, str(r.id), None, raw_side)

    def _on_ticker(self, r, env, recv_ts: int) -> Ticker:
        return Ticker("gateio", SPOT, self._unified(r.currency_pair), r.currency_pair, env_ms(env), recv_ts, r.last, r.highest_bid, r.lowest_ask,
                      r.high_24h, r.low_24h, r.base_volume, r.quote_volume, r.change_percentage)

    def _candle_volumes(self, r, plain: str) -> tuple:
        # spot `v` is quote volume, `a` base amount (gateio-protocol.md §6.4)
        return r.a, r.v


# -- capture replay (cexfeed.capture.ReplaySupport) -------------------------------------------


def replay_handler(instruments: bytes | None) -> GateioSpotPublicWebSocketHandler:
    """A spot handler for replay, named from a REST ``/spot/currency_pairs`` body (``NAME.0``
    beside a cryptofeed capture), or by splitting on ``_`` when ``None``."""
    return GateioSpotPublicWebSocketHandler(symbols=spot_symbol_map(instruments))


def replay_apply_snapshot(handler: GateioSpotPublicWebSocketHandler, venue_symbol: str, body: bytes, recv_ts: int) -> None:
    """Apply one recorded ``/spot/order_book?with_id=true`` body. Raises ``msgspec.DecodeError``
    (a ``ValueError``) on a bad body or a missing ``id``."""
    snap = parse_spot_snapshot(body)
    handler.apply_snapshot(venue_symbol, snap.id, snap.bids, snap.asks, snap.exchange_ts, recv_ts)
