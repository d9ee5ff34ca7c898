"""MEXC spot public streams (mexc-protocol.md §1.6 channels, §2 schema, §4 book sync).

Binary frames are one ``PushDataV3ApiWrapper`` each and are routed by the wrapper's body
field number (the frame starts with the channel string, not a type code); text frames are the
JSON control replies (acks, ``PONG``, refusals).

| body | channel                                   | events                       |
|------|-------------------------------------------|------------------------------|
| 313  | aggre.depth (10ms/100ms), versions        | BookUpdate, BookStatus       |
| 303  | limit.depth (5/10/20), full top-N         | BookUpdate (snapshot=True)   |
| 314  | aggre.deals                               | Trade (one per deal)         |
| 301  | deals (refused by the venue today)        | Trade                        |
| 315  | aggre.bookTicker                          | BestBidOffer                 |
| 311  | bookTicker.batch                          | BestBidOffer (one per item)  |
| 305  | bookTicker (refused by the venue today)   | BestBidOffer                 |
| 308  | kline (all intervals)                     | Kline                        |
| 309  | miniTicker                                | Ticker                       |
| 310  | miniTickers                               | Ticker (one per item)        |
| 302/312 | increase.depth(.batch), one version each | BookUpdate, BookStatus     |
"""

from __future__ import annotations

from functools import partial
from typing import Callable

from ...handlers import EventCallback, PublicWebSocketHandler, WebSocketHandler
from ...models import SPOT, BestBidOffer, Kline, Ticker
from ...symbols import SymbolMap
from .decode import (DepthBody, book_ticker, classify_bad_frame, deals_body, decode_push, decode_push_compiled, depth_at_version, each, mini_ticker,
                     parse_wrapper, unknown_body_number, version)
from .protocol import BODY_NAMES
from .replies import MexcReplies
from .books import MexcBooks
from .rest import spot_symbol_map
from .spot_table import RECONNECT_AFTER_S, TABLE, ChannelBodies, channel_symbol, kline_interval
from .trades import DealIds, deal_trades

try:  # compiled _handle_message: the hot bodies turned into events and published in C
    from ._fasthandle import MexcHandle
except ImportError:  # pragma: no cover - no compiler, or CEXFEED_PURE_PYTHON
    MexcHandle = None


class MexcPublicWebSocketHandler(MexcReplies, MexcBooks, PublicWebSocketHandler):
    """MEXC spot market data: raw frame -> :mod:`cexfeed.models` events.

    ``symbols`` maps ``BTCUSDT`` <-> ``BTC/USDT`` (from ``/api/v3/exchangeInfo`` via
    :func:`cexfeed.exchanges.mexc.rest.spot_symbol_map`; default: split a known quote suffix).
    ``depth`` is the number of levels kept per side of each ``aggre.depth`` book; it should not
    exceed the REST snapshot ``limit``. ``max_connection_age`` (s, default 23 h) asks the
    connection to reconnect (``hooks.on_reconnect_requested``) before the venue's 24 h cut.
    ``decoder`` overrides the frame decoder (default: the compiled one when built, else upb;
    see :mod:`cexfeed.exchanges.mexc.decode`). A silent channel (PONGs keep a MEXC socket alive
    while a channel says nothing, §7 pitfall 3) is reported by the connection's
    per-subscription silence check (:mod:`cexfeed.net.watch`).

    Units: prices quote currency, sizes base currency, ``exchange_ts`` ms (wrapper
    ``sendTime``/``createTime``; trades carry the deal ``time``; klines ``open_ts`` is
    ``windowStart``; each read in ms whatever its unit, :func:`cexfeed.wire.to_ms`). Book ids
    are MEXC versions. A push is handled only as the channel its wrapper names: a body that is
    not that channel's (deals on a kline channel) is counted ``channel_mismatch``, a channel in
    no table row ``unknown_channel``, and skipped. Deals: :mod:`~cexfeed.exchanges.mexc.trades`
    (unknown side codes kept, ids for deals without one); a book ticker side without a price
    and a size above 0 is no quote (``None``).

    ``aggre.depth`` books follow §4.2: the first push of a symbol (or a gap) asks
    ``hooks.request_snapshot(symbol)`` once; the connection fetches ``GET /api/v3/depth`` and
    calls :meth:`apply_snapshot` with ``lastUpdateId``. ``limit.depth`` pushes are complete
    top-N books and are emitted as ``BookUpdate(snapshot=True)`` without touching the
    sequenced book of the same symbol.

    Skipped frames are counted in ``stats.errors`` by kind: ``malformed`` (bad wire data,
    bad number text, unparsable JSON, a kline against :func:`cexfeed.wire.check_candle`: prices
    out of order or an interval not documented), ``truncated`` (a field runs past the frame end),
    ``wrong_type`` (parses but carries no wrapper body), ``unknown_body`` (body field number
    we do not handle), ``unknown_frame`` (JSON that is not a spot reply), ``malformed_item``
    (one item of a multi-item push - a deal, a batch ticker - with an impossible value: left
    out, the other items are kept), ``bad_version``, ``unknown_channel``, ``channel_mismatch``,
    ``crossed_snapshot``, ``unsorted_snapshot`` (a limit depth push whose sides are not strictly
    ordered best first), ``empty_ack``, ``venue_error``; and kept but notable:
    ``unknown_side``, ``zero_size_trade`` (left out).
    """

    venue = "mexc"
    market = SPOT
    #: body methods the compiled _handle_message does itself -> its kind (a subclass overriding
    #: one must leave it out)
    FAST_BODIES = {"_on_deals": "deals", "_on_book_ticker": "bbo", "_on_aggre_depth": "depth"}

    def __init__(
        self,
        on_event: EventCallback | None = None,
        symbols: SymbolMap | None = None,
        depth: int = 100,
        decoder: Callable | None = None,
        max_connection_age: float = RECONNECT_AFTER_S,
    ) -> None:
        super().__init__(on_event, depth)
        self._init_books(max_connection_age)
        self.symbols = symbols if symbols is not None else spot_symbol_map()
        self._unified = self.symbols.unified
        self._names: dict[str, str] = {}  # venue symbol -> unified, filled on first use
        self._decode = decoder if decoder is not None else decode_push
        # body field number -> bound handler, from the channel table
        self._table: dict[int, Callable] = {number: getattr(self, row.handler) for number, row in TABLE.by_result.items() if not row.private}
        self._channel_bodies = ChannelBodies()
        self._deal_ids = DealIds()
        self.use_compiled(True)

    def use_compiled(self, on: bool) -> None:
        """Take the pushes of the bodies of :attr:`FAST_BODIES` through the compiled
        ``_handle_message`` (``_fasthandle.MexcHandle``) when it is built (the default): it reads
        a frame only while the decoder is the compiled one; off: the pure-Python path alone (its
        twin, for the comparison tests)."""
        try:
            del self._handle_message
        except AttributeError:
            pass
        if not on or MexcHandle is None or decode_push_compiled is None:
            return
        bodies = {number: self.FAST_BODIES[row.handler] for number, row in TABLE.by_result.items() if not row.private and row.handler in self.FAST_BODIES}
        handle = MexcHandle(self, bodies, decode_push_compiled, partial(WebSocketHandler._handle_message, self))
        self._handle_message = handle.handle_message

    def unified(self, venue_symbol: str) -> str:
        name = self._names.get(venue_symbol)
        if name is None:
            name = self._names[venue_symbol] = self._unified(venue_symbol)
        return name

    def set_symbols(self, symbols: SymbolMap) -> None:
        self.symbols = symbols
        self._unified = symbols.unified
        self._names.clear()

    # -- routing ---------------------------------------------------------------------------
    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        if recv_ts > self._age_deadline:
            self._check_age(recv_ts)
        if type(raw) is str or raw[:1] == b"{":
            self._on_text(raw, recv_ts)
            return
        try:
            number, symbol, ts, body, channel = self._decode(raw)
        except Exception as exc:  # DecodeError / ValueError / UnicodeDecodeError
            self._count_error(classify_bad_frame(bytes(raw)), raw, exc)
            return
        handler = self._table.get(number)
        if handler is None:
            # a body this stream does not read: still whole protobuf (the upb reading), else malformed
            unknown_body_number(parse_wrapper(raw))
            self._count_error("wrong_type" if number == 0 else "unknown_body", raw, f"body field {number}")
            return
        if body is None:
            # a body the compiled decoder leaves to upb: the whole frame is read before any check
            body = self._cold_body(raw, number)
        if self._channel_bodies[channel] != number:
            self._count_error(self._channel_bodies.wrong(channel), raw, f"body field {number} on channel {channel[:60]!r}")
            return
        if not symbol:
            symbol = channel_symbol(channel)
        handler(symbol, ts, body, raw, recv_ts)

    def _cold_body(self, raw, number: int):
        """The upb sub-message of a body the compiled decoder leaves to upb."""
        return getattr(parse_wrapper(raw), BODY_NAMES[number])

    # -- books (§4) ----------------------------------------------------------------------------
    def _on_aggre_depth(self, symbol: str, ts: int, body, raw, recv_ts: int) -> None:
        asks, bids, first, last = body
        if last <= 0 or first > last:
            self._count_error("bad_version", raw, f"fromVersion {first} toVersion {last}")
            return
        self._book_delta(symbol, first, last, bids, asks, ts, recv_ts)
        seq = self.books.get(symbol)
        if seq is not None and not seq.synced:  # (a synced book needs no snapshot: no call)
            self._depth_applied(symbol)

    def _on_increase_depth(self, symbol: str, ts: int, body, raw, recv_ts: int) -> None:
        self._increase(symbol, ts, body, raw, recv_ts)

    def _on_increase_depth_batch(self, symbol: str, ts: int, body, raw, recv_ts: int) -> None:
        items, bad = each(body.items, depth_at_version)
        self._bad_items(bad, raw)
        for item in items:
            self._increase(symbol, ts, item, raw, recv_ts)

    def _increase(self, symbol: str, ts: int, item, raw, recv_ts: int) -> None:
        if not isinstance(item, DepthBody):
            item = depth_at_version(item)
        if item.to_version <= 0:
            self._count_error("bad_version", raw, "missing version")
            return
        self._on_aggre_depth(symbol, ts, item, raw, recv_ts)

    def _bad_items(self, bad: int, raw) -> None:
        for _ in range(bad):
            self._count_error("malformed_item", raw, "an item with an impossible value left out")

    def _on_limit_depth(self, symbol: str, ts: int, body, raw, recv_ts: int) -> None:
        asks, bids, version, _ = body
        self._limit_book(symbol, version, bids, asks, ts, recv_ts, raw)

    def open_book(self, venue_symbol: str) -> None:
        super().open_book(venue_symbol)
        self._snapshot_pending.discard(venue_symbol)

    # -- trades -----------------------------------------------------------------------------------
    def _on_deals(self, symbol: str, ts: int | None, body, raw, recv_ts: int) -> None:
        deals, bad = body
        if bad:
            self._bad_items(bad, raw)
        unified = self._names.get(symbol) or self.unified(symbol)  # (unified(), without its call once known)
        self._emit_all(deal_trades(deals, symbol, unified, ts, recv_ts, self._deal_ids, self._count_error, raw))

    def _on_plain_deals(self, symbol: str, ts: int, body, raw, recv_ts: int) -> None:
        self._on_deals(symbol, ts, deals_body(body.deals), raw, recv_ts)

    # -- best bid/offer -----------------------------------------------------------------------------
    def _on_plain_book_ticker(self, symbol: str, ts: int, body, raw, recv_ts: int) -> None:
        self._on_book_ticker(symbol, ts, book_ticker(body), raw, recv_ts)

    def _on_book_ticker(self, symbol: str, ts: int | None, body, raw, recv_ts: int) -> None:
        bid_price, bid_qty, ask_price, ask_qty, update_id = body
        unified = self._names.get(symbol) or self.unified(symbol)  # (unified(), without its call once known)
        # BestBidOffer's fields in order: venue, market, symbol, venue_symbol, exchange_ts, recv_ts, bid, ask, update id
        self._emit(BestBidOffer("mexc", SPOT, unified, symbol, ts, recv_ts, bid_price, bid_qty, ask_price, ask_qty, update_id or None))

    def _on_book_ticker_batch(self, symbol: str, ts: int, body, raw, recv_ts: int) -> None:
        update_id = version(body.version) or None
        unified = self.unified(symbol)
        items, bad = each(body.items, book_ticker)
        self._bad_items(bad, raw)
        for b in items:
            bid_price, bid_qty, ask_price, ask_qty = b[:4]
            self._emit(
                BestBidOffer(
                    venue="mexc",
                    market=SPOT,
                    symbol=unified,
                    venue_symbol=symbol,
                    exchange_ts=ts,
                    recv_ts=recv_ts,
                    bid_price=bid_price,
                    bid_size=bid_qty,
                    ask_price=ask_price,
                    ask_size=ask_qty,
                    update_id=update_id,
                )
            )

    # -- kline and tickers ---------------------------------------------------------------------------
    def _on_kline(self, symbol: str, ts: int, body, raw, recv_ts: int) -> None:
        k = body
        try:
            interval = kline_interval(k)
        except ValueError as exc:  # prices out of order, an interval not documented
            self._count_error("malformed", raw, exc)
            return
        self._emit(
            Kline(
                venue="mexc",
                market=SPOT,
                symbol=self.unified(symbol),
                venue_symbol=symbol,
                exchange_ts=ts,
                recv_ts=recv_ts,
                interval=interval,
                open_ts=k.open_ts,
                open=k.open,
                high=k.high,
                low=k.low,
                close=k.close,
                volume=k.volume,
                quote_volume=k.quote_volume,
                closed=None,
            )
        )

    def _on_mini_ticker(self, symbol: str, ts: int, body, raw, recv_ts: int) -> None:
        self._ticker(symbol, ts, mini_ticker(body), recv_ts)

    def _on_mini_tickers(self, symbol: str, ts: int, body, raw, recv_ts: int) -> None:
        items, bad = each((item for item in body.items if item.symbol), mini_ticker)
        self._bad_items(bad, raw)
        for item in items:
            self._ticker(symbol, ts, item, recv_ts)

    def _ticker(self, symbol: str, ts: int, t, recv_ts: int) -> None:
        symbol = t.symbol or symbol
        self._emit(
            Ticker(
                venue="mexc",
                market=SPOT,
                symbol=self.unified(symbol),
                venue_symbol=symbol,
                exchange_ts=ts,
                recv_ts=recv_ts,
                last=t.last,
                high_24h=t.high,
                low_24h=t.low,
                base_volume=t.base_volume,
                quote_volume=t.quote_volume,
                change_pct=t.change_pct,
            )
        )
