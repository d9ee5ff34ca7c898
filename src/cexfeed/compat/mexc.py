"""MEXC spot strategies (mexc-protocol.md §1.3 requests, §1.4 replies, §1.6 channels, §2 schema,
§4 book sync).

The parser follows the older two-step style: a binary frame is parsed whole into the protobuf
runtime's ``PushDataV3ApiWrapper`` (upb), the body is picked by ``WhichOneof`` name, and its
fields are read one by one into a ``ParsedMessage.data`` dict (no ``MessageToDict``); a text
frame is decoded into a generic dict. The handler then builds events from those dicts and
applies ``aggre.depth`` books through the same sequencer rules as the direct handler.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import msgspec

from ..exchanges.mexc.decode import checked, classify_bad_frame, side_value, unknown_body_number
from ..exchanges.mexc.decode import levels as _levels
from ..exchanges.mexc.decode import num as _f
from ..exchanges.mexc.decode import num_or_none as _opt
from ..exchanges.mexc.decode import price as _price
from ..exchanges.mexc.decode import price_or_none as _price_or_none
from ..exchanges.mexc.decode import seconds as _seconds
from ..exchanges.mexc.decode import signed_or_none as _signed
from ..exchanges.mexc.proto.push_pb2 import PushDataV3ApiWrapper
from ..exchanges.mexc.protocol import (
    ACK_EMPTY,
    ACK_OK,
    ACK_PONG,
    PING_FRAME,
    TRADE_TYPE_BUY,
    TRADE_TYPE_SELL,
    Reply,
    classify_reply,
    subscribe,
    unsubscribe,
)
from ..exchanges.mexc.rest import spot_symbol_map
from ..exchanges.mexc.spot_table import KLINE_INTERVALS, PING_INTERVAL_S, RECONNECT_AFTER_S, TABLE, WS_URL, channel_symbol
from ..models import BUY, SELL, SPOT, BookUpdate, VenueError
from ..symbols import SymbolMap
from ..wire import MAX_MILLIS
from .messages import MessageType, ParsedMessage
from .strategies import ConnectionStrategy, MessageParserStrategy, StrategyHandler, Subscription, SubscriptionStrategy

T = MessageType
_from_string = PushDataV3ApiWrapper.FromString
_json = msgspec.json.decode
_SIDES = {TRADE_TYPE_BUY: BUY, TRADE_TYPE_SELL: SELL}


class MexcConnectionStrategy(ConnectionStrategy):
    """``wss://wbs-api.mexc.com/ws`` (or the simulator's URL) and ``{"method":"PING"}`` every
    20 s (§1.5)."""

    venue = "mexc"
    market = SPOT

    def __init__(self, url: str = WS_URL, interval: float = PING_INTERVAL_S) -> None:
        self._url = url
        self._interval = interval

    @property
    def url(self) -> str:
        return self._url

    @property
    def ping_interval(self) -> float:
        return self._interval

    def ping_frame(self) -> bytes:
        return PING_FRAME


class MexcSubscriptionStrategy(SubscriptionStrategy):
    """``{"method":"SUBSCRIPTION","params":[channel, ...],"id":n}`` (§1.3); one frame per call
    carrying every channel, each the row's template of the channel table filled with the
    subscription's ``params`` (book interval ``"100ms"``/``"10ms"``, kline ``"Min1"`` ...)."""

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        self.symbols = symbols if symbols is not None else spot_symbol_map()
        self._next_id = 0

    def channels(self, subscriptions: Iterable[Subscription]) -> list[str]:
        out = []
        for sub in subscriptions:
            row = TABLE.row(sub.channel)
            out.append(TABLE.channel(row, self.symbols.to_venue(sub.symbol), TABLE.params(row.name, sub.params)))
        return out

    def subscribe_frames(self, subscriptions: Iterable[Subscription], request_id: int | None = None) -> list[bytes]:
        self._next_id += 1
        return [subscribe(self.channels(subscriptions), self._next_id if request_id is None else request_id)]

    def unsubscribe_frames(self, subscriptions: Iterable[Subscription], request_id: int | None = None) -> list[bytes]:
        self._next_id += 1
        return [unsubscribe(self.channels(subscriptions), self._next_id if request_id is None else request_id)]


class MexcParserStrategy(MessageParserStrategy):
    """MEXC spot frames -> ``ParsedMessage``: ``aggre.depth``/``increase.depth`` (BOOK_DELTA),
    ``limit.depth`` (BOOK_SNAPSHOT with ``limit``), deals (TRADE per deal), book tickers (BBO),
    kline (KLINE), mini tickers (TICKER); text replies -> ACK/PONG/ERROR. Bad frames are
    reported by kind as the direct handler counts them (``truncated``, ``malformed``,
    ``wrong_type``, ``unknown_body``, ``bad_version``, ``unknown_side``, ``empty_ack``,
    ``unknown_frame``)."""

    venue = "mexc"
    market = SPOT

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._builders: dict[str, Callable[[Any, str, int, int], list[ParsedMessage]]] = {
            "publicAggreDepths": self._aggre_depth,
            "publicIncreaseDepths": self._increase_depth,
            "publicIncreaseDepthsBatch": self._increase_depth_batch,
            "publicLimitDepths": self._limit_depth,
            "publicAggreDeals": self._aggre_deals,
            "publicDeals": self._plain_deals,
            "publicAggreBookTicker": self._aggre_book_ticker,
            "publicBookTicker": self._plain_book_ticker,
            "publicBookTickerBatch": self._book_ticker_batch,
            "publicSpotKline": self._kline,
            "publicMiniTicker": self._mini_ticker,
            "publicMiniTickers": self._mini_tickers,
        }

    def default_symbols(self) -> SymbolMap:
        return spot_symbol_map()

    def parse(self, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        if type(raw) is str or raw[:1] == b"{":
            return self._text(raw, recv_ts)
        try:
            m = _from_string(raw)
        except Exception as exc:
            self.report(classify_bad_frame(bytes(raw)), raw, exc)
            return []
        name = m.WhichOneof("body")
        builder = self._builders.get(name) if name is not None else None
        if builder is None:
            number = unknown_body_number(m) if name is None else -1
            self.report("wrong_type" if number == 0 else "unknown_body", raw, f"body field {number}")
            return []
        symbol = m.symbol or channel_symbol(m.channel)
        try:
            ts = m.sendTime or m.createTime
            if not 0 <= ts < MAX_MILLIS:
                raise ValueError(f"impossible push time {ts} ms")
            msgs = builder(getattr(m, name), symbol, ts, recv_ts)
        except ValueError as exc:  # a number string that is not a number
            self.report("malformed", raw, exc)
            return []
        for msg in msgs:
            msg.raw = raw
        return msgs

    # -- text replies (§1.4) -------------------------------------------------------------------
    def _text(self, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        frame = _json(raw)
        msg = frame.get("msg") if isinstance(frame, dict) else None
        if not isinstance(msg, str):
            self.report("unknown_frame", raw, "not a spot reply")
            return []
        reply = Reply(msg, int(frame.get("id") or 0), int(frame.get("code") or 0))
        kind, channels = classify_reply(reply)
        # first: "a control reply arrived" (its kind and time)
        out = [ParsedMessage(T.SYSTEM, "mexc", "", {"reply": kind, "recv_ts": recv_ts}, raw)]
        if kind == ACK_OK:
            return out + [ParsedMessage(T.ACK, "mexc", "", {"id": reply.id, "channel": c, "ok": True, "message": msg}, raw) for c in channels]
        if kind == ACK_PONG:
            return out + [ParsedMessage(T.PONG, "mexc", "", {}, raw)]
        if kind == ACK_EMPTY:
            self.report("empty_ack", raw, "subscription not effective")
            text = "empty ack: subscription not effective"
            return out + [
                ParsedMessage(T.ACK, "mexc", "", {"id": reply.id, "channel": "", "ok": False, "message": text}, raw),
                self._error(reply.code, text, "", recv_ts, raw),
            ]
        for channel in channels or [""]:
            out.append(ParsedMessage(T.ACK, "mexc", "", {"id": reply.id, "channel": channel, "ok": False, "message": msg}, raw))
            out.append(self._error(reply.code, msg, channel, recv_ts, raw))
        return out

    def _error(self, code: int, message: str, channel: str, recv_ts: int, raw) -> ParsedMessage:
        venue_symbol = channel_symbol(channel) if channel else ""
        symbol = self.unified(venue_symbol) if venue_symbol else ""
        data = {
            "venue": "mexc",
            "market": SPOT,
            "symbol": symbol,
            "venue_symbol": venue_symbol,
            "exchange_ts": 0,
            "recv_ts": recv_ts,
            "code": code,
            "message": message,
            "channel": channel,
        }
        return ParsedMessage(T.ERROR, "mexc", symbol, data, raw)

    # -- books ---------------------------------------------------------------------------------
    def _delta(self, symbol: str, first: int, last: int, bids, asks, ts: int, recv_ts: int) -> list[ParsedMessage]:
        if last <= 0 or first > last:
            self.report("bad_version", b"", f"fromVersion {first} toVersion {last}")
            return []
        data = {
            "venue_symbol": symbol,
            "first_update_id": first,
            "last_update_id": last,
            "bids": bids,
            "asks": asks,
            "exchange_ts": ts,
            "recv_ts": recv_ts,
        }
        return [ParsedMessage(T.BOOK_DELTA, "mexc", self.unified(symbol), data, None)]

    def _aggre_depth(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        first = int(b.fromVersion) if b.fromVersion else 0
        last = int(b.toVersion) if b.toVersion else 0
        return self._delta(symbol, first, last, _levels(b.bids), _levels(b.asks), ts, recv_ts)

    def _increase_item(self, item, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        version = int(item.version) if item.version else 0
        if version <= 0:
            self.report("bad_version", b"", "missing version")
            return []
        return self._delta(symbol, version, version, _levels(item.bids), _levels(item.asks), ts, recv_ts)

    def _increase_depth(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        return self._increase_item(b, symbol, ts, recv_ts)

    def _increase_depth_batch(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        out: list[ParsedMessage] = []
        for item in b.items:
            out.extend(self._increase_item(item, symbol, ts, recv_ts))
        return out

    def _limit_depth(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        version = int(b.version) if b.version else 0
        data = {
            "venue_symbol": symbol,
            "first_update_id": version,
            "last_update_id": version,
            "bids": _levels(b.bids),
            "asks": _levels(b.asks),
            "exchange_ts": ts,
            "recv_ts": recv_ts,
            "limit": True,
        }
        return [ParsedMessage(T.BOOK_SNAPSHOT, "mexc", self.unified(symbol), data, None)]

    # -- trades --------------------------------------------------------------------------------
    def _deals(self, deals: list, symbol: str, recv_ts: int) -> list[ParsedMessage]:
        unified = self.unified(symbol)
        out = []
        for index, (price, qty, trade_type, time_ms, trade_id) in enumerate(deals):
            side = _SIDES.get(trade_type)
            if side is None:
                self.report("unknown_side", b"", f"tradeType {trade_type}")
                continue
            if not 0 <= time_ms < MAX_MILLIS:
                raise ValueError(f"impossible deal time {time_ms} ms")
            if qty == 0:
                self.report("zero_size_trade", b"", None)
                continue
            data = {
                "venue": "mexc",
                "market": SPOT,
                "symbol": unified,
                "venue_symbol": symbol,
                "exchange_ts": time_ms,
                "recv_ts": recv_ts,
                "price": price,
                "size": qty,
                "side": side,
                # deals without a tradeId (older schema): time + position in the push
                "trade_id": trade_id or f"{time_ms}-{index}",
                "contracts": None,
            }
            out.append(ParsedMessage(T.TRADE, "mexc", unified, data, None))
        return out

    def _aggre_deals(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        deals = [(*checked(_f(d.price), _f(d.quantity)), d.tradeType, d.time, d.tradeId) for d in b.deals]
        return self._deals(deals, symbol, recv_ts)

    def _plain_deals(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        deals = [(*checked(_f(d.price), _f(d.quantity)), d.tradeType, d.time, "") for d in b.deals]
        return self._deals(deals, symbol, recv_ts)

    # -- best bid/offer ------------------------------------------------------------------------
    def _bbo(self, symbol: str, ts: int, recv_ts: int, b, update_id: int | None) -> ParsedMessage:
        unified = self.unified(symbol)
        data = {
            "venue": "mexc",
            "market": SPOT,
            "symbol": unified,
            "venue_symbol": symbol,
            "exchange_ts": ts,
            "recv_ts": recv_ts,
            "bid_price": side_value(b.bidPrice),
            "bid_size": side_value(b.bidQuantity),
            "ask_price": side_value(b.askPrice),
            "ask_size": side_value(b.askQuantity),
            "update_id": update_id,
        }
        return ParsedMessage(T.BBO, "mexc", unified, data, None)

    def _aggre_book_ticker(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        version = int(b.version) if b.version else 0
        return [self._bbo(symbol, ts, recv_ts, b, version or None)]

    def _plain_book_ticker(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        return [self._bbo(symbol, ts, recv_ts, b, None)]

    def _book_ticker_batch(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        version = int(b.version) if b.version else None
        return [self._bbo(symbol, ts, recv_ts, item, version) for item in b.items]

    # -- kline and tickers ---------------------------------------------------------------------
    def _kline(self, k, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        unified = self.unified(symbol)
        data = {
            "venue": "mexc",
            "market": SPOT,
            "symbol": unified,
            "venue_symbol": symbol,
            "exchange_ts": ts,
            "recv_ts": recv_ts,
            "interval": KLINE_INTERVALS.get(k.interval, k.interval),
            "open_ts": _seconds(k.windowStart) * 1000,  # seconds on the wire (§2.2)
            "open": _price(k.openingPrice),
            "high": _price(k.highestPrice),
            "low": _price(k.lowestPrice),
            "close": _price(k.closingPrice),
            "volume": _opt(k.volume),  # kline volume = base, amount = quote
            "quote_volume": _opt(k.amount),
            "closed": None,
        }
        return [ParsedMessage(T.KLINE, "mexc", unified, data, None)]

    def _ticker(self, symbol: str, ts: int, recv_ts: int, t) -> ParsedMessage:
        unified = self.unified(symbol)
        rate = t.zonedRate or t.rate
        data = {
            "venue": "mexc",
            "market": SPOT,
            "symbol": unified,
            "venue_symbol": symbol,
            "exchange_ts": ts,
            "recv_ts": recv_ts,
            "last": _price_or_none(t.price),
            "best_bid": None,
            "best_ask": None,
            "high_24h": _price_or_none(t.high),
            "low_24h": _price_or_none(t.low),
            # mini ticker: quantity = base volume, volume = quote turnover (§2.2)
            "base_volume": _opt(t.quantity),
            "quote_volume": _opt(t.volume),
            "change_pct": _signed(rate) * 100.0 if rate else None,
        }
        return ParsedMessage(T.TICKER, "mexc", unified, data, None)

    def _mini_ticker(self, t, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        return [self._ticker(t.symbol or symbol, ts, recv_ts, t)]

    def _mini_tickers(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        return [self._ticker(item.symbol, ts, recv_ts, item) for item in b.items if item.symbol]


class MexcStrategyHandler(StrategyHandler):
    """Strategy-path handler of MEXC spot: the generic :class:`StrategyHandler` plus MEXC's
    book and connection rules, as the direct handler applies them (§4.2, §1.5, §7):

    - the first ``aggre.depth`` push of a symbol or a gap asks ``hooks.request_snapshot`` once;
    - ``limit.depth`` pushes are whole top-N books emitted as ``BookUpdate(snapshot=True)``
      without touching the sequenced book;
    - ``max_connection_age`` s after the first frame the connection is asked to reconnect.
    """

    def __init__(self, parser: MexcParserStrategy, on_event=None, depth: int = 100, max_connection_age: float = RECONNECT_AFTER_S) -> None:
        super().__init__(parser, on_event, depth)
        self._snapshot_pending: set[str] = set()
        self._max_age_ns = int(max_connection_age * 1e9)
        self._age_deadline = 0

    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        if recv_ts > self._age_deadline:
            armed = self._age_deadline != 0
            self._age_deadline = recv_ts + self._max_age_ns
            if armed:
                self.hooks.on_reconnect_requested("connection older than the venue's 24 h limit allows")
        super()._dispatch(raw, recv_ts)

    def _on_system(self, msg: ParsedMessage) -> None:
        if "reply" in msg.data:
            return
        super()._on_system(msg)

    def _on_book_delta(self, msg: ParsedMessage) -> None:
        super()._on_book_delta(msg)
        symbol = msg.data["venue_symbol"]
        seq = self.books.get(symbol)
        if seq is not None and not seq.synced and symbol not in self._snapshot_pending:
            self._resync(symbol)

    def _on_book_snapshot(self, msg: ParsedMessage) -> None:
        d = msg.data
        bids, asks = d["bids"], d["asks"]
        if bids and asks and bids[0][0] >= asks[0][0]:
            self._count_error("crossed_snapshot", msg.raw or b"", f"bid {bids[0][0]} >= ask {asks[0][0]}")
            return
        symbol = d["venue_symbol"]
        self._emit(
            BookUpdate(
                venue="mexc",
                market=SPOT,
                symbol=self._unified(symbol),
                venue_symbol=symbol,
                exchange_ts=d["exchange_ts"],
                recv_ts=d["recv_ts"],
                bids=bids,
                asks=asks,
                snapshot=True,
                first_update_id=d["first_update_id"],
                last_update_id=d["last_update_id"],
            )
        )

    def _on_error(self, msg: ParsedMessage) -> None:
        self.stats.errors["venue_error"] += 1
        self._emit(VenueError(**msg.data))

    def apply_snapshot(self, venue_symbol: str, update_id: int, bids, asks, exchange_ts: int = 0, recv_ts: int | None = None) -> int:
        """Install a ``GET /api/v3/depth`` snapshot (``lastUpdateId``) and replay the buffer,
        exactly as the direct handler does. Returns the sequencer code."""
        self._snapshot_pending.discard(venue_symbol)
        code = super().apply_snapshot(venue_symbol, update_id, bids, asks, exchange_ts, recv_ts)
        seq = self.books.get(venue_symbol)
        if seq is not None and not seq.synced:
            self._snapshot_pending.add(venue_symbol)
        return code

    def _resync(self, venue_symbol: str) -> None:
        self._snapshot_pending.add(venue_symbol)
        self.hooks.request_snapshot(venue_symbol)

    def reset_books(self, reason: str = "reconnect") -> None:
        self._snapshot_pending.clear()
        self._age_deadline = 0
        super().reset_books(reason)

    def open_book(self, venue_symbol: str) -> None:
        super().open_book(venue_symbol)
        self._snapshot_pending.discard(venue_symbol)


def _mexc_set():
    from .registry import StrategySet

    return StrategySet(
        connection=lambda url=None: MexcConnectionStrategy(url or WS_URL),
        subscription=MexcSubscriptionStrategy,
        parser=MexcParserStrategy,
        handler=MexcStrategyHandler,
    )


MEXC_SPOT = _mexc_set()

__all__ = [
    "MEXC_SPOT",
    "MexcConnectionStrategy",
    "MexcParserStrategy",
    "MexcStrategyHandler",
    "MexcSubscriptionStrategy",
]
