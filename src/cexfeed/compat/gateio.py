"""Gate.io strategies (spot; USDT futures where its direct handler exists).

The parser follows the older two-step style: the frame is decoded once into generic Python
objects (``msgspec.json.decode`` without a type: dicts, lists, strings), then each channel's
builder reads the fields it needs, converts the venue's decimal strings with ``float()`` and
fills a ``ParsedMessage.data`` dict with the fields of the matching event. The field rules are
those of the direct handlers (gateio-protocol.md §2 envelope, §3 heartbeat, §6 spot channels,
§10.1 book sync), so both paths produce equal events.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable

import msgspec

from ..exchanges.gateio.protocol import SPOT_CHANNELS, SPOT_WS_URL, ping, request, spot_payload, spot_symbol_map
from ..models import SPOT
from ..symbols import SymbolMap
from .messages import MessageType, ParsedMessage
from .strategies import ConnectionStrategy, MessageParserStrategy, Subscription, SubscriptionStrategy

_decode = msgspec.json.decode

T = MessageType


def _levels(levels: list) -> list[tuple[float, float]]:
    return [(float(price), float(size)) for price, size in levels]


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


class GateioConnectionStrategy(ConnectionStrategy):
    """Gate endpoint and its application ping (``{"time": s, "channel": "<market>.ping"}``,
    gateio-protocol.md §3). ``url`` defaults to production; pass the simulator's for tests."""

    venue = "gateio"

    def __init__(self, url: str = SPOT_WS_URL, market: str = SPOT, ping_channel: str = "spot.ping", interval: float = 10.0) -> None:
        self._url = url
        self.market = market
        self._ping_channel = ping_channel
        self._interval = interval

    @property
    def url(self) -> str:
        return self._url

    @property
    def ping_interval(self) -> float:
        return self._interval

    def ping_frame(self) -> bytes:
        return ping(self._ping_channel)


class GateioSpotSubscriptionStrategy(SubscriptionStrategy):
    """Spot subscribe/unsubscribe frames (§2.1, payloads §6). ``symbols`` maps unified names
    to ``BTC_USDT``; request ids count up from 1."""

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        self.symbols = symbols if symbols is not None else spot_symbol_map()
        self._next_id = 0

    def _frames(self, subscriptions: Iterable[Subscription], event: str) -> list[bytes]:
        frames: list[bytes] = []
        now = int(time.time())
        for sub in subscriptions:
            channel = SPOT_CHANNELS.get(sub.channel)
            if channel is None:
                raise ValueError(f"gateio spot has no channel {sub.channel!r}")
            self._next_id += 1
            payload = spot_payload(channel, self.symbols.to_venue(sub.symbol), sub.params)
            frames.append(request(channel, event, payload, self._next_id, now))
        return frames

    def subscribe_frames(self, subscriptions: Iterable[Subscription]) -> list[bytes]:
        return self._frames(subscriptions, "subscribe")

    def unsubscribe_frames(self, subscriptions: Iterable[Subscription]) -> list[bytes]:
        return self._frames(subscriptions, "unsubscribe")


class GateioParserStrategy(MessageParserStrategy):
    """Envelope and control frames shared by Gate spot and futures; subclasses fill
    ``_builders`` (channel -> ``(frame_dict, recv_ts) -> list[ParsedMessage]``)."""

    venue = "gateio"
    PONG = ""
    SYSTEM = ""

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._builders: dict[str, Callable[[dict, int], list[ParsedMessage]]] = {}

    def parse(self, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        frame = _decode(raw)
        event = frame.get("event", "")
        channel = frame.get("channel", "")
        if event == "update" or event == "all":
            builder = self._builders.get(channel)
            if builder is None:
                return [ParsedMessage(T.UNKNOWN, self.venue, "", {"kind": "unknown_channel", "channel": channel}, raw)]
            msgs = builder(frame, recv_ts)
            for msg in msgs:
                msg.raw = raw
            return msgs
        return self._control(frame, event, channel, raw, recv_ts)

    def _control(self, frame: dict, event: str, channel: str, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        venue = self.venue
        exchange_ts = frame.get("time_ms") or frame.get("time", 0) * 1000
        error = frame.get("error")
        if event == "subscribe" or event == "unsubscribe":
            if error is None:
                result = frame.get("result")
                status = result.get("status", "") if result is not None else ""
                ok = status in ("success", "")
                return [ParsedMessage(T.ACK, venue, "", {"id": frame.get("id"), "channel": channel, "ok": ok, "message": status}, raw)]
            message = error.get("message", "")
            return [
                ParsedMessage(T.ACK, venue, "", {"id": frame.get("id"), "channel": channel, "ok": False, "message": message}, raw),
                self._error(error, channel, exchange_ts, recv_ts, raw),
            ]
        if channel == self.PONG:
            return [ParsedMessage(T.PONG, venue, "", {}, raw)]
        if error is not None:
            return [self._error(error, channel, exchange_ts, recv_ts, raw)]
        return [ParsedMessage(T.UNKNOWN, venue, "", {"kind": "unknown_frame"}, raw)]

    def _error(self, error: dict, channel: str, exchange_ts: int, recv_ts: int, raw) -> ParsedMessage:
        data = {
            "code": error.get("code", 0),
            "message": error.get("message", ""),
            "channel": channel,
            "exchange_ts": exchange_ts,
            "recv_ts": recv_ts,
        }
        return ParsedMessage(T.ERROR, self.venue, "", data, raw)

    def _system(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        result = frame.get("result") or {}
        upgrade = result.get("type", "") == "upgrade"
        data = {"reconnect": upgrade, "message": result.get("msg", "")}
        return [ParsedMessage(T.SYSTEM, self.venue, "", data, None)]


class GateioSpotParserStrategy(GateioParserStrategy):
    """Gate spot public channels -> ``ParsedMessage``: ``spot.book_ticker`` (BBO),
    ``spot.trades`` (TRADE), ``spot.tickers`` (TICKER), ``spot.candlesticks`` (KLINE),
    ``spot.order_book_update`` (BOOK_DELTA, or BOOK_SNAPSHOT for a ``full`` push)."""

    market = SPOT
    PONG = "spot.pong"
    SYSTEM = "spot.system"

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._builders.update(
            {
                "spot.book_ticker": self._book_ticker,
                "spot.trades": self._trade,
                "spot.tickers": self._ticker,
                "spot.candlesticks": self._candle,
                "spot.order_book_update": self._book_update,
                self.SYSTEM: self._system,
            }
        )

    def default_symbols(self) -> SymbolMap:
        return spot_symbol_map()

    def _book_ticker(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = r["s"]
        symbol = self.unified(venue_symbol)
        u = r.get("u")
        data = {
            "venue": "gateio",
            "market": SPOT,
            "symbol": symbol,
            "venue_symbol": venue_symbol,
            "exchange_ts": int(r["t"]),
            "recv_ts": recv_ts,
            "bid_price": float(r["b"]),
            "bid_size": float(r["B"]),
            "ask_price": float(r["a"]),
            "ask_size": float(r["A"]),
            "update_id": None if u is None else int(u),
        }
        return [ParsedMessage(T.BBO, "gateio", symbol, data, None)]

    def _trade(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = r["currency_pair"]
        symbol = self.unified(venue_symbol)
        create_time_ms = float(r.get("create_time_ms", 0.0))
        data = {
            "venue": "gateio",
            "market": SPOT,
            "symbol": symbol,
            "venue_symbol": venue_symbol,
            "exchange_ts": int(create_time_ms) if create_time_ms else int(r.get("create_time", 0)) * 1000,
            "recv_ts": recv_ts,
            "price": float(r["price"]),
            "size": float(r["amount"]),
            "side": r["side"],
            "trade_id": str(int(r["id"])),
            "contracts": None,
        }
        return [ParsedMessage(T.TRADE, "gateio", symbol, data, None)]

    def _ticker(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = r["currency_pair"]
        symbol = self.unified(venue_symbol)
        data = {
            "venue": "gateio",
            "market": SPOT,
            "symbol": symbol,
            "venue_symbol": venue_symbol,
            "exchange_ts": frame.get("time_ms") or frame.get("time", 0) * 1000,
            "recv_ts": recv_ts,
            "last": _opt_float(r.get("last")),
            "best_bid": _opt_float(r.get("highest_bid")),
            "best_ask": _opt_float(r.get("lowest_ask")),
            "high_24h": _opt_float(r.get("high_24h")),
            "low_24h": _opt_float(r.get("low_24h")),
            "base_volume": _opt_float(r.get("base_volume")),
            "quote_volume": _opt_float(r.get("quote_volume")),
            "change_pct": _opt_float(r.get("change_percentage")),
        }
        return [ParsedMessage(T.TICKER, "gateio", symbol, data, None)]

    def _candle(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        interval, _, venue_symbol = r["n"].partition("_")
        symbol = self.unified(venue_symbol)
        data = {
            "venue": "gateio",
            "market": SPOT,
            "symbol": symbol,
            "venue_symbol": venue_symbol,
            "exchange_ts": frame.get("time_ms") or frame.get("time", 0) * 1000,
            "recv_ts": recv_ts,
            "interval": interval,
            "open_ts": int(r["t"]) * 1000,
            "open": float(r["o"]),
            "high": float(r["h"]),
            "low": float(r["l"]),
            "close": float(r["c"]),
            # spot `v` is quote volume, `a` base amount (gateio-protocol.md §6.4)
            "volume": _opt_float(r.get("a")),
            "quote_volume": _opt_float(r.get("v")),
            "closed": r.get("w"),
        }
        return [ParsedMessage(T.KLINE, "gateio", symbol, data, None)]

    def _book_update(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = r["s"]
        data = {
            "venue_symbol": venue_symbol,
            "first_update_id": int(r["U"]),
            "last_update_id": int(r["u"]),
            "bids": _levels(r.get("b", ())),
            "asks": _levels(r.get("a", ())),
            "exchange_ts": int(r.get("t", 0)) or frame.get("time_ms") or frame.get("time", 0) * 1000,
            "recv_ts": recv_ts,
        }
        msg_type = T.BOOK_SNAPSHOT if r.get("full") else T.BOOK_DELTA
        return [ParsedMessage(msg_type, "gateio", self.unified(venue_symbol), data, None)]


def _spot_set():
    from .registry import StrategySet

    return StrategySet(
        connection=lambda url=None: GateioConnectionStrategy(url or SPOT_WS_URL, SPOT, "spot.ping"),
        subscription=GateioSpotSubscriptionStrategy,
        parser=GateioSpotParserStrategy,
    )


GATEIO_SPOT = _spot_set()
