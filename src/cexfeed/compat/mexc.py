"""MEXC spot strategies (mexc-protocol.md §1.3 requests, §1.4 replies, §1.6 channels, §2 schema,
§4 book sync).

The parser follows the older two-step style: a binary frame is parsed whole into the protobuf
runtime's ``PushDataV3ApiWrapper`` (upb), the body is picked by ``WhichOneof`` name, its values
read by the decoder's rules (:func:`~cexfeed.exchanges.mexc.decode.read_body`, the hot bodies
with the frame as on the direct path) and put into a ``ParsedMessage.data`` dict (no
``MessageToDict``); a text
frame is decoded into a generic dict. The handler then builds events from those dicts and
applies ``aggre.depth`` books through the same sequencer rules as the direct handler.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import msgspec

from ..exchanges.mexc.decode import (
    BookTickerBody,
    DealsBody,
    DepthBody,
    KlineBody,
    book_ticker,
    classify_bad_frame,
    deals_body,
    depth_at_version,
    each,
    mini_ticker,
    push_time,
    read_body,
    unknown_body_number,
)
from ..exchanges.mexc.decode import version as _version
from ..exchanges.mexc.proto.push_pb2 import PushDataV3ApiWrapper
from ..exchanges.mexc.protocol import (
    ACK_EMPTY,
    ACK_OK,
    ACK_PONG,
    PING_FRAME,
    Reply,
    classify_reply,
    subscribe,
    unsubscribe,
)
from ..exchanges.mexc.books import MexcBooks
from ..exchanges.mexc.rest import spot_symbol_map
from ..exchanges.mexc.spot_table import PING_INTERVAL_S, RECONNECT_AFTER_S, TABLE, WS_URL, ChannelBodies, channel_symbol, kline_interval
from ..exchanges.mexc.trades import DealIds, deal_trades
from ..models import SPOT
from ..symbols import SymbolMap
from .messages import MessageType, ParsedMessage, message_from_event
from .strategies import ConnectionStrategy, MessageParserStrategy, StrategyHandler, Subscription, SubscriptionStrategy

T = MessageType
_from_string = PushDataV3ApiWrapper.FromString
_json = msgspec.json.decode


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
    ``wrong_type``, ``unknown_body``, ``unknown_channel``, ``channel_mismatch``,
    ``bad_version``, ``unknown_side``, ``empty_ack``, ``unknown_frame``, ``malformed_item``: one
    bad item of a multi-item push, left out)."""

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
        self._channel_bodies = ChannelBodies()
        self._deal_ids = DealIds()

    def default_symbols(self) -> SymbolMap:
        return spot_symbol_map()

    #: the body of the wrapper's oneof ``name`` as the builders take it (raises ``ValueError``)
    _read_body = staticmethod(read_body)

    def parse(self, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        if type(raw) is str or raw[:1] == b"{":
            return self._text(raw, recv_ts)
        try:
            m = _from_string(raw)
            number = unknown_body_number(m) if m.WhichOneof("body") is None else 0
            ts = push_time(m)
        except Exception as exc:
            self.report(classify_bad_frame(bytes(raw)), raw, exc)
            return []
        name = m.WhichOneof("body")
        builder = self._builders.get(name) if name is not None else None
        if builder is None:
            number = number if name is None else -1
            self.report("wrong_type" if number == 0 else "unknown_body", raw, f"body field {number}")
            return []
        try:
            # a hot body's values are read with the frame, as the direct decoder reads them
            body = self._read_body(name, getattr(m, name))
        except ValueError as exc:
            self.report("malformed", raw, exc)
            return []
        if self._channel_bodies[m.channel] != m.DESCRIPTOR.fields_by_name[name].number:
            self.report(self._channel_bodies.wrong(m.channel), raw, f"body {name} on channel {m.channel[:60]!r}")
            return []
        symbol = m.symbol or channel_symbol(m.channel)
        try:
            msgs = builder(body, symbol, ts, recv_ts)
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
                self._error(reply.id, reply.code, text, "", recv_ts, raw),
                ParsedMessage(T.ACK, "mexc", "", {"id": reply.id, "channel": "", "ok": False, "message": text}, raw),
            ]
        for channel in channels or [""]:
            # the error first: its symbol may come from the request the ack then settles
            out.append(self._error(reply.id, reply.code, msg, channel, recv_ts, raw))
            out.append(ParsedMessage(T.ACK, "mexc", "", {"id": reply.id, "channel": channel, "ok": False, "message": msg}, raw))
        return out

    def _error(self, request_id: int, code: int, message: str, channel: str, recv_ts: int, raw) -> ParsedMessage:
        """An ERROR message about the symbol ``channel`` names (the handler falls back to the
        request ``request_id`` answers)."""
        venue_symbol = channel_symbol(channel)
        symbol = self.unified(venue_symbol) if venue_symbol else ""
        data = {"code": code, "message": message, "channel": channel, "exchange_ts": None, "recv_ts": recv_ts,
                "venue_symbol": venue_symbol, "id": request_id}
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

    def _aggre_depth(self, b: DepthBody, symbol: str, ts: int | None, recv_ts: int) -> list[ParsedMessage]:
        return self._delta(symbol, b.from_version, b.to_version, b.bids, b.asks, ts, recv_ts)

    def _increase_item(self, item, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        if item.to_version <= 0:
            self.report("bad_version", b"", "missing version")
            return []
        return self._delta(symbol, item.from_version, item.to_version, item.bids, item.asks, ts, recv_ts)

    def _increase_depth(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        return self._increase_item(depth_at_version(b), symbol, ts, recv_ts)

    def _increase_depth_batch(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        items, bad = each(b.items, depth_at_version)
        self._bad_items(bad)
        out: list[ParsedMessage] = []
        for item in items:
            out.extend(self._increase_item(item, symbol, ts, recv_ts))
        return out

    def _bad_items(self, bad: int) -> None:
        for _ in range(bad):
            self.report("malformed_item", b"", "an item with an impossible value left out")

    def _limit_depth(self, b: DepthBody, symbol: str, ts: int | None, recv_ts: int) -> list[ParsedMessage]:
        data = {
            "venue_symbol": symbol,
            "first_update_id": b.from_version,
            "last_update_id": b.to_version,
            "bids": b.bids,
            "asks": b.asks,
            "exchange_ts": ts,
            "recv_ts": recv_ts,
            "limit": True,
        }
        return [ParsedMessage(T.BOOK_SNAPSHOT, "mexc", self.unified(symbol), data, None)]

    # -- trades --------------------------------------------------------------------------------
    def _deals(self, body, symbol: str, ts: int | None, recv_ts: int) -> list[ParsedMessage]:
        self._bad_items(body.bad)
        trades = deal_trades(body.deals, symbol, self.unified(symbol), ts, recv_ts, self._deal_ids, self.report, b"")
        return [message_from_event(trade) for trade in trades]

    def _aggre_deals(self, b: DealsBody, symbol: str, ts: int | None, recv_ts: int) -> list[ParsedMessage]:
        return self._deals(b, symbol, ts, recv_ts)

    def _plain_deals(self, b, symbol: str, ts: int | None, recv_ts: int) -> list[ParsedMessage]:
        return self._deals(deals_body(b.deals), symbol, ts, recv_ts)

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
            "bid_price": b.bid_price,
            "bid_size": b.bid_qty,
            "ask_price": b.ask_price,
            "ask_size": b.ask_qty,
            "update_id": update_id,
        }
        return ParsedMessage(T.BBO, "mexc", unified, data, None)

    def _aggre_book_ticker(self, b: BookTickerBody, symbol: str, ts: int | None, recv_ts: int) -> list[ParsedMessage]:
        return [self._bbo(symbol, ts, recv_ts, b, b.version or None)]

    def _plain_book_ticker(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        return [self._bbo(symbol, ts, recv_ts, book_ticker(b), None)]

    def _book_ticker_batch(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        version = _version(b.version) or None
        items, bad = each(b.items, book_ticker)
        self._bad_items(bad)
        return [self._bbo(symbol, ts, recv_ts, item, version) for item in items]

    # -- kline and tickers ---------------------------------------------------------------------
    def _kline(self, k: KlineBody, symbol: str, ts: int | None, recv_ts: int) -> list[ParsedMessage]:
        interval = kline_interval(k)  # raises ValueError (malformed) as the direct handler counts it
        unified = self.unified(symbol)
        data = {
            "venue": "mexc",
            "market": SPOT,
            "symbol": unified,
            "venue_symbol": symbol,
            "exchange_ts": ts,
            "recv_ts": recv_ts,
            "interval": interval,
            "open_ts": k.open_ts,
            "open": k.open,
            "high": k.high,
            "low": k.low,
            "close": k.close,
            "volume": k.volume,
            "quote_volume": k.quote_volume,
            "closed": None,
        }
        return [ParsedMessage(T.KLINE, "mexc", unified, data, None)]

    def _ticker(self, symbol: str, ts: int, recv_ts: int, t) -> ParsedMessage:
        symbol = t.symbol or symbol
        unified = self.unified(symbol)
        data = {
            "venue": "mexc",
            "market": SPOT,
            "symbol": unified,
            "venue_symbol": symbol,
            "exchange_ts": ts,
            "recv_ts": recv_ts,
            "last": t.last,
            "best_bid": None,
            "best_ask": None,
            "high_24h": t.high,
            "low_24h": t.low,
            "base_volume": t.base_volume,
            "quote_volume": t.quote_volume,
            "change_pct": t.change_pct,
        }
        return ParsedMessage(T.TICKER, "mexc", unified, data, None)

    def _mini_ticker(self, t, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        return [self._ticker(symbol, ts, recv_ts, mini_ticker(t))]

    def _mini_tickers(self, b, symbol: str, ts: int, recv_ts: int) -> list[ParsedMessage]:
        items, bad = each((item for item in b.items if item.symbol), mini_ticker)
        self._bad_items(bad)
        return [self._ticker(symbol, ts, recv_ts, item) for item in items]


class MexcStrategyHandler(MexcBooks, StrategyHandler):
    """Strategy-path handler of MEXC spot: the generic :class:`StrategyHandler` plus MEXC's
    book and connection rules through the direct handler's own code
    (:class:`~cexfeed.exchanges.mexc.books.MexcBooks`, §4.2, §1.5, §7)."""

    def __init__(self, parser: MexcParserStrategy, on_event=None, depth: int = 100, max_connection_age: float = RECONNECT_AFTER_S) -> None:
        super().__init__(parser, on_event, depth)
        self._init_books(max_connection_age)

    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        if recv_ts > self._age_deadline:
            self._check_age(recv_ts)
        super()._dispatch(raw, recv_ts)

    def _on_system(self, msg: ParsedMessage) -> None:
        if "reply" in msg.data:
            return
        super()._on_system(msg)

    def _on_book_delta(self, msg: ParsedMessage) -> None:
        super()._on_book_delta(msg)
        self._depth_applied(msg.data["venue_symbol"])

    def _on_book_snapshot(self, msg: ParsedMessage) -> None:
        d = msg.data
        self._limit_book(d["venue_symbol"], d["last_update_id"], d["bids"], d["asks"], d["exchange_ts"], d["recv_ts"], msg.raw or b"")


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
