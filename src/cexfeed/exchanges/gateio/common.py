"""What Gate spot and futures public handlers share: :class:`GateioPublicHandler` (books, the
book ticker and candle items of both markets, and the compiled parts in front of the typed
decode) on the frame path every Gate handler shares (:mod:`.frames`, :mod:`.frame_json`;
gateio-protocol.md §2, §3). The names of those modules are importable from here too.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import msgspec

from ...channels import BOOK_REST
from ...handlers import EventCallback, PublicWebSocketHandler, WebSocketHandler
from ...models import BestBidOffer, Kline
from ...symbols import SymbolMap
from ...wire import MAX_MILLIS, MAX_SECONDS, to_ms
from .book_push import BookPush
from .frame_json import (
    Overflow,
    _last_wins,
    book_symbol,
    check_utf8,
    convert_item,
    error_symbol,
    frame_struct,
    lenient_item,
    lost_book_symbol,
    named_symbol,
    plain_json,
    result_items,
    result_prefix,
    typed,
)
from .frames import GateioFrames, SystemNotice
from .protocol import candle_name, env_ms, stamp

# importable from here as before the frame path had modules of its own
__all__ = [
    "GateioPublicHandler", "GateioFrames", "SystemNotice", "Overflow", "_last_wins", "book_symbol", "check_utf8", "convert_item",
    "error_symbol", "frame_struct", "lenient_item", "lost_book_symbol", "named_symbol", "plain_json", "result_items",
    "result_prefix", "typed", "env_ms", "stamp", "PushReader", "PushHandler",
]

try:  # compiled reader of book updates and futures tickers; the msgspec path is its reference
    from ._fastpush import PushReader
except ImportError:
    PushReader = None
try:  # compiled _handle_message: the hot item rows read and every hot push published in C
    from ._fastitems import PushHandler
except ImportError:
    PushHandler = None

# book updates and full tickers are longer; trades, book tickers and partial tickers are shorter
# and never pay for the compiled reader's channel check
_FAST_MIN_LEN = 300


class GateioPublicHandler(GateioFrames, PublicWebSocketHandler):
    """A Gate public stream: :class:`GateioFrames` plus books, the book ticker and candle items
    both markets share, and the compiled parts in front of the typed decode (see
    :meth:`use_compiled`): the reader of the REST-synced book channel and futures tickers, and
    the compiled ``_handle_message`` that also reads the item rows of :attr:`FAST_ITEMS`."""

    # what the compiled reader serves: the REST-synced book channel (b"" = none), futures.tickers
    FAST_BOOK_CHANNEL = b""
    FAST_BOOK_ARRAYS = False  # its levels are [price, size] arrays (spot), not {p, s} objects
    FAST_TICKERS = False
    # item methods the compiled _handle_message reads itself -> its row kind (the methods of
    # this module's concrete handlers: a subclass overriding one must leave it out)
    FAST_ITEMS: dict[str, str] = {}
    CONTRACT_SIZES = False  # sizes count contracts (futures): converted through _sizer
    BOOK_CHANNELS: frozenset[str] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("TABLE")
        if table is not None:
            books = table.books(BOOK_REST)
            cls.FAST_BOOK_CHANNEL = books[0].venue_channel.encode() if books else b""
            cls.BOOK_CHANNELS = frozenset(row.venue_channel for row in table.books())

    def __init__(self, on_event: EventCallback | None = None, symbols: SymbolMap | None = None, depth: int = 100) -> None:
        super().__init__(on_event, depth)
        self.symbols = symbols if symbols is not None else self._default_symbols()
        self._unified = self.symbols.lookup
        self._bind_channels()
        # symbol -> (num, den, one, unified name): its size multiplier, for the compiled reader
        self._contracts: dict[str, tuple[float, float, bool, str]] = {}
        self._reader = None
        # class facts read on every book ticker, as instance attributes (a faster lookup)
        self._market = self.market
        self._contract_sizes = self.CONTRACT_SIZES
        self.use_compiled(True)

    def use_compiled(self, on: bool) -> None:
        """Read the hot pushes with the compiled parts when they are built (the default): the
        :class:`PushReader` of the book channel and futures tickers, and the compiled
        ``_handle_message`` (:class:`PushHandler`), which also reads the item rows of
        :attr:`FAST_ITEMS` and publishes in C; off: the pure-Python path alone (their twin,
        for the comparison tests). Setting ``_reader`` to ``None`` turns both off too."""
        self.__dict__.pop("_handle_message", None)
        self._reader = None
        if not on or PushReader is None or not (self.FAST_BOOK_CHANNEL or self.FAST_TICKERS or self.FAST_ITEMS):
            return
        self._reader = PushReader(self.FAST_BOOK_CHANNEL, self.FAST_BOOK_ARRAYS, self.FAST_TICKERS, self._contracts)
        if PushHandler is not None:
            items = {channel: self.FAST_ITEMS[name] for channel, (name, _) in self.CHANNELS.items() if name in self.FAST_ITEMS}
            if self.FAST_BOOK_CHANNEL:
                items[self.FAST_BOOK_CHANNEL.decode()] = "reader"
            if self.FAST_TICKERS:
                items["futures.tickers"] = "reader"
            handler = PushHandler(self._reader, items, self._contracts, self, partial(WebSocketHandler._handle_message, self))
            self._handle_message = handler.handle_message

    def _default_symbols(self) -> SymbolMap:
        raise NotImplementedError

    def unified(self, venue_symbol: str) -> str:
        return self._unified(venue_symbol)

    def set_symbols(self, symbols: SymbolMap) -> None:
        self.symbols = symbols
        self._unified = symbols.lookup
        self._contracts.clear()

    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        check_utf8(raw)
        reader = self._reader
        if reader is not None and len(raw) > _FAST_MIN_LEN and raw.__class__ is bytes:
            r = reader.read(raw, recv_ts)
            while r.__class__ is str:  # first push of this symbol: learn its multiplier and name
                self._contracts[r] = self._contract_context(r)
                r = reader.read(raw, recv_ts)
            if r.__class__ is list:
                self._emit_all(r)
                return
            if r is not None:
                self._apply_book_update(r, recv_ts)
                return
            # another channel, or a shape the compiled reader does not know: msgspec path
        self._decode(raw, recv_ts)

    def _on_book_ticker(self, r: Any, env: Any, recv_ts: int) -> BestBidOffer:
        """A ``spot.book_ticker`` / ``futures.book_ticker`` item (§6.5, §7.4): a side is quoted
        only with a price and a size above 0, else ``None`` (:func:`cexfeed.wire.quotes`);
        futures sizes contracts -> base."""
        # the rule of wire.quotes, inline on this hot path: a side needs a price and a size above 0
        bid_price = r.b
        bid_size = r.B
        if not (bid_price and bid_size):
            bid_price = bid_size = None
        ask_price = r.a
        ask_size = r.A
        if not (ask_price and ask_size):
            ask_price = ask_size = None
        if self._contract_sizes and (bid_price is not None or ask_price is not None):
            base = self._sizer(r.s).base  # type: ignore[attr-defined]
            bid_size = base(bid_size) if bid_price is not None else None
            ask_size = base(ask_size) if ask_price is not None else None
        t = r.t
        if not (t.__class__ is int and MAX_SECONDS <= t < MAX_MILLIS):
            t = stamp(t, env)  # the usual ms time is kept as it is (what stamp gives), without the call
        return BestBidOffer("gateio", self._market, self._unified(r.s), r.s, t, recv_ts, bid_price, bid_size, ask_price, ask_size, r.u)

    def _on_candle(self, r: Any, env: Any, recv_ts: int) -> Kline:
        """A ``spot.candlesticks`` / ``futures.candlesticks`` item (§6.4, §7.8): ``n`` names the
        interval and the pair (a futures mark/index candle's prefix is kept in
        ``venue_symbol``); volumes by the market (:meth:`_candle_volumes`)."""
        interval, venue_symbol, plain = candle_name(r.n)
        volume, quote_volume = self._candle_volumes(r, plain)
        return Kline("gateio", self.market, self._unified(plain), venue_symbol, env_ms(env), recv_ts, interval, to_ms(r.t),
                     r.o, r.h, r.l, r.c, volume, quote_volume, r.w)

    def _candle_volumes(self, r: Any, plain: str) -> tuple[float | None, float | None]:
        """``(volume base, quote volume)`` of a candle item (must override)."""
        raise NotImplementedError

    # -- order_book_update (REST-synced book), shared by spot and futures ----------------------
    def _contract_context(self, venue_symbol: str) -> tuple[float, float, bool, str]:
        """``(num, den, one, unified)``: sizes are ``size * num / den`` (spot: unchanged)."""
        return 1.0, 1.0, True, self._unified(venue_symbol)

    def _book_push(self, frame: Any) -> BookPush:
        """The :class:`BookPush` of a typed ``order_book_update`` frame, sizes normalized."""
        r = frame.result
        return BookPush(r.s, stamp(r.t, frame), r.U, r.u, r.full, r.b, r.a)

    def _on_book_update(self, frame: Any, recv_ts: int) -> None:
        r = frame.result
        self._check_ids(r.s, r.full, r.U, r.u, recv_ts)  # before any size is converted
        self._apply_book_update(self._book_push(frame), recv_ts)

    def _apply_book_update(self, push: BookPush, recv_ts: int) -> None:
        """Apply one book push (from the compiled reader or the msgspec path). An increment
        needs ``U <= u``; a ``full`` push may come without ``U`` (§6.6, §7.6). Raises
        ``ValueError`` (counted as malformed; the book resyncs) otherwise."""
        symbol, exchange_ts, first, last, full, bids, asks = push
        self._check_ids(symbol, full, first, last, recv_ts)
        if full:
            self._book_full(symbol, last, bids, asks, exchange_ts, recv_ts)
        else:
            self._book_delta(symbol, first, last, bids, asks, exchange_ts, recv_ts)

    def _bad_push(self, raw: bytes | str, recv_ts: int) -> None:
        """When it is a book push naming its symbol, drop that book now rather than wait for
        the next delta to show the gap."""
        try:
            symbol = lost_book_symbol(plain_json.decode(raw), self.BOOK_CHANNELS)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return
        if symbol is not None:
            self._book_lost(symbol, recv_ts)

