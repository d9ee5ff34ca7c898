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

from ..book import CROSSED
from ..exchanges.gateio.contracts import ONE as _ONE
from ..exchanges.gateio.contracts import ContractSize, ContractSizes, futures_symbol_map
from ..exchanges.gateio.futures_public_handler import FUTURES_CHANNELS, FUTURES_PONG_CHANNEL, FUTURES_WS_URL, futures_payload
from ..exchanges.gateio.obu import ObuBooks, parse_obu_stream
from ..exchanges.gateio.protocol import SPOT_CHANNELS, SPOT_WS_URL, ping, request, spot_payload, spot_symbol_map
from ..models import BUY, PERP, RESYNCING, SELL, SPOT, BookUpdate
from ..symbols import SymbolMap
from ..wire import seq_id
from .messages import MessageType, ParsedMessage
from .strategies import ConnectionStrategy, MessageParserStrategy, StrategyHandler, Subscription, SubscriptionStrategy

_decode = msgspec.json.decode

T = MessageType


# the venue-value bounds of cexfeed.wire, applied after float(): a price is positive and finite,
# a size non-negative and finite, a signed quantity finite, a side "buy"/"sell"; anything else
# makes the frame malformed (ValueError), as the typed decode does on the direct path
_FINITE = 1e300


def _price(value: Any) -> float:
    x = float(value)
    if not 0.0 < x < _FINITE:
        raise ValueError(f"impossible price {value!r}")
    return x


def _size(value: Any) -> float:
    x = float(value)
    if not 0.0 <= x < _FINITE:
        raise ValueError(f"impossible size {value!r}")
    return x


def _signed(value: Any) -> float:
    x = float(value)
    if not -_FINITE < x < _FINITE:
        raise ValueError(f"impossible quantity {value!r}")
    return x


def _seconds(value: Any) -> int:
    x = int(value)
    if not 0 <= x < 10**11:
        raise ValueError(f"impossible time {value!r} s")
    return x


def _millis(value: Any) -> int:
    x = int(value)
    if not 0 <= x < 10**14:
        raise ValueError(f"impossible time {value!r} ms")
    return x


def _book_ids(r: dict) -> tuple[int, int]:
    """``(U, u)`` of a book push (ids by wire.seq_id); ``U <= u`` on a delta; a ``full`` push may
    come without ``U`` (then ``(u, u)``)."""
    first, last = r.get("U"), seq_id(r["u"])
    if first is not None:
        first = seq_id(first)
    elif r.get("full"):
        first = last
    if first is None or (not r.get("full") and first > last):
        raise ValueError(f"impossible book ids U={first} u={last}")
    return first, last


def _env_ts(frame: dict) -> int:
    """The envelope time in ms: ``time_ms``, else ``time`` s."""
    return _millis(frame.get("time_ms", 0)) or _seconds(frame.get("time", 0)) * 1000


def _side(value: Any) -> str:
    if value != "buy" and value != "sell":
        raise ValueError(f"unknown side {value!r}")
    return value


def _levels(levels: list) -> list[tuple[float, float]]:
    return [(_price(price), _size(size)) for price, size in levels]


def _optional(convert: Callable[[Any], float], value: Any) -> float | None:
    return None if value is None else convert(value)


def _numbers(r: dict, fields: dict[str, Callable[[Any], Any]], lenient: bool, absent: Any = None) -> dict[str, Any]:
    """The numbers of one ticker item by field (``absent`` where not sent); a value that does
    not convert (``""``, an impossible number) raises ``ValueError``, or is ``absent`` when
    ``lenient``."""
    values: dict[str, Any] = {}
    for name, convert in fields.items():
        value = r.get(name)
        if value is None:
            value = absent
        else:
            try:
                value = convert(value)
            except (TypeError, ValueError):
                if not lenient:
                    raise
                value = absent
        values[name] = value
    return values


# spot.tickers numbers and the bound each must meet (as the direct path's SpotTicker)
_SPOT_TICKER_NUMBERS = {
    "last": _price,
    "highest_bid": _price,
    "lowest_ask": _price,
    "high_24h": _price,
    "low_24h": _price,
    "base_volume": _size,
    "quote_volume": _size,
    "change_percentage": _signed,
}


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


class GateioSubscriptionStrategy(SubscriptionStrategy):
    """Gate subscribe/unsubscribe frames (§2.1): our channel names map through ``CHANNELS`` to
    the venue's, ``PAYLOAD`` builds each payload; request ids count up from 1. Subclasses set
    ``MARKET``, ``CHANNELS``, ``PAYLOAD`` and ``default_symbols``."""

    MARKET = ""
    CHANNELS: dict[str, str] = {}
    PAYLOAD: Any = None

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        self.symbols = symbols if symbols is not None else self.default_symbols()
        self._next_id = 0

    def default_symbols(self) -> SymbolMap:
        raise NotImplementedError

    def _frames(self, subscriptions: Iterable[Subscription], event: str, request_id: int | None = None) -> list[bytes]:
        frames: list[bytes] = []
        now = int(time.time())
        payload_of = type(self).PAYLOAD
        for sub in subscriptions:
            channel = self.CHANNELS.get(sub.channel)
            if channel is None:
                raise ValueError(f"gateio {self.MARKET} has no channel {sub.channel!r}")
            self._next_id += 1
            payload = payload_of(channel, self.symbols.to_venue(sub.symbol), sub.params)
            frames.append(request(channel, event, payload, self._next_id if request_id is None else request_id, now))
        return frames

    def subscribe_frames(self, subscriptions: Iterable[Subscription], request_id: int | None = None) -> list[bytes]:
        return self._frames(subscriptions, "subscribe", request_id)

    def unsubscribe_frames(self, subscriptions: Iterable[Subscription], request_id: int | None = None) -> list[bytes]:
        return self._frames(subscriptions, "unsubscribe", request_id)


class GateioSpotSubscriptionStrategy(GateioSubscriptionStrategy):
    """Spot subscribe/unsubscribe frames (payloads §6); ``symbols`` maps unified names to
    ``BTC_USDT``."""

    MARKET = "spot"
    CHANNELS = SPOT_CHANNELS
    PAYLOAD = staticmethod(spot_payload)

    def default_symbols(self) -> SymbolMap:
        return spot_symbol_map()


class GateioParserStrategy(MessageParserStrategy):
    """Envelope and control frames shared by Gate spot and futures; subclasses fill
    ``_builders`` (channel -> ``(frame_dict, recv_ts) -> list[ParsedMessage]``)."""

    venue = "gateio"
    PONG = ""
    SYSTEM = ""
    BOOK_CHANNEL = ""  # the REST-synced book channel

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._builders: dict[str, Callable[[dict, int], list[ParsedMessage]]] = {}

    def lost_book_symbol(self, raw: bytes | str) -> str | None:
        """The pair of a book push that failed to parse, when the frame still names one."""
        try:
            frame = _decode(raw)
        except msgspec.DecodeError:
            return None
        if not isinstance(frame, dict) or frame.get("channel") != self.BOOK_CHANNEL or frame.get("event") != "update":
            return None
        result = frame.get("result")
        symbol = result.get("s") if isinstance(result, dict) else None
        return symbol if isinstance(symbol, str) and symbol else None

    def parse(self, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        frame = _decode(raw)
        event = frame.get("event", "")
        channel = frame.get("channel", "")
        if event == "update" or event == "all":
            builder = self._builders.get(channel)
            if builder is None:
                return [ParsedMessage(T.UNKNOWN, self.venue, "", {"kind": "unknown_channel", "channel": channel}, raw)]
            _env_ts(frame)  # an impossible envelope time makes the push malformed
            msgs = builder(frame, recv_ts)
            for msg in msgs:
                msg.raw = raw
            return msgs
        return self._control(frame, event, channel, raw, recv_ts)

    def _control(self, frame: dict, event: str, channel: str, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        venue = self.venue
        exchange_ts = _env_ts(frame)
        error = frame.get("error")
        if event == "subscribe" or event == "unsubscribe":
            if error is None:
                result = frame.get("result")
                status = result.get("status", "") if result is not None else ""
                ok = status in ("success", "")
                data = {"id": frame.get("id"), "channel": channel, "ok": ok, "message": status, "event": event, "payload": frame.get("payload"), "recv_ts": recv_ts}
                return [ParsedMessage(T.ACK, venue, "", data, raw)]
            message = error.get("message", "")
            return [
                ParsedMessage(T.ACK, venue, "", {"id": frame.get("id"), "channel": channel, "ok": False, "message": message, "event": event}, raw),
                self._error(error, channel, exchange_ts, recv_ts, raw),
            ]
        if channel == self.PONG:
            return [ParsedMessage(T.PONG, venue, "", {}, raw)]
        if error is not None:
            return [self._error(error, channel, exchange_ts, recv_ts, raw)]
        return [ParsedMessage(T.UNKNOWN, venue, "", {"kind": "unknown_frame"}, raw)]

    def sizer(self, venue_symbol: str):
        """Contract -> base size converter of a symbol (spot: identity)."""
        return _ONE

    def _obu(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        """``spot.obu``/``futures.obu`` (§6.8, §7.7): BOOK_SNAPSHOT for ``full``, else
        BOOK_DELTA, with the stream name in ``obu_stream``."""
        r = frame["result"]
        stream = r["s"]
        venue_symbol, level = parse_obu_stream(stream)
        base = self.sizer(venue_symbol).base
        data = {
            "venue_symbol": venue_symbol,
            "obu_stream": stream,
            "first_update_id": int(r.get("U", 0)),
            "last_update_id": int(r["u"]),
            "bids": [(_price(p), base(_size(q))) for p, q in r.get("b", ())],
            "asks": [(_price(p), base(_size(q))) for p, q in r.get("a", ())],
            "exchange_ts": _millis(r.get("t", 0)) or _env_ts(frame),
            "recv_ts": recv_ts,
        }
        msg_type = T.BOOK_SNAPSHOT if r.get("full") else T.BOOK_DELTA
        return [ParsedMessage(msg_type, self.venue, self.unified(venue_symbol), data, None)]

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
    BOOK_CHANNEL = "spot.order_book_update"

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._builders.update(
            {
                "spot.book_ticker": self._book_ticker,
                "spot.trades": self._trade,
                "spot.tickers": self._ticker,
                "spot.candlesticks": self._candle,
                "spot.order_book_update": self._book_update,
                "spot.obu": self._obu,
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
            "exchange_ts": _millis(r["t"]),
            "recv_ts": recv_ts,
            "bid_price": _price(r["b"]),
            "bid_size": _size(r["B"]),
            "ask_price": _price(r["a"]),
            "ask_size": _size(r["A"]),
            "update_id": None if u is None else int(u),
        }
        return [ParsedMessage(T.BBO, "gateio", symbol, data, None)]

    def _trade(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = r["currency_pair"]
        symbol = self.unified(venue_symbol)
        create_time_ms = float(r.get("create_time_ms", 0.0))
        if not 0.0 <= create_time_ms < 1e14:
            raise ValueError(f"impossible time {create_time_ms!r} ms")
        data = {
            "venue": "gateio",
            "market": SPOT,
            "symbol": symbol,
            "venue_symbol": venue_symbol,
            "exchange_ts": int(create_time_ms) if create_time_ms else _seconds(r.get("create_time", 0)) * 1000,
            "recv_ts": recv_ts,
            "price": _price(r["price"]),
            "size": _size(r["amount"]),
            "side": _side(r["side"]),
            "trade_id": str(int(r["id"])),
            "contracts": None,
        }
        if data["size"] == 0:
            self.report("zero_size_trade", b"", None)
            return []
        return [ParsedMessage(T.TRADE, "gateio", symbol, data, None)]

    def _ticker(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = r["currency_pair"]
        if not isinstance(venue_symbol, str) or not venue_symbol:
            raise ValueError(f"ticker pair {venue_symbol!r}")
        symbol = self.unified(venue_symbol)
        try:
            v = _numbers(r, _SPOT_TICKER_NUMBERS, False)
        except (TypeError, ValueError):
            # a field that does not fit ("" on quiet pairs, an impossible number): keep the rest
            self.report("ticker_lenient", b"", None)
            v = _numbers(r, _SPOT_TICKER_NUMBERS, True)
        data = {
            "venue": "gateio",
            "market": SPOT,
            "symbol": symbol,
            "venue_symbol": venue_symbol,
            "exchange_ts": _env_ts(frame),
            "recv_ts": recv_ts,
            "last": v["last"],
            "best_bid": v["highest_bid"],
            "best_ask": v["lowest_ask"],
            "high_24h": v["high_24h"],
            "low_24h": v["low_24h"],
            "base_volume": v["base_volume"],
            "quote_volume": v["quote_volume"],
            "change_pct": v["change_percentage"],
        }
        return [ParsedMessage(T.TICKER, "gateio", symbol, data, None)]

    def _candle(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        interval, _, venue_symbol = r["n"].partition("_")
        if not venue_symbol:
            raise ValueError(f"candle without a pair: {r['n']!r}")
        symbol = self.unified(venue_symbol)
        data = {
            "venue": "gateio",
            "market": SPOT,
            "symbol": symbol,
            "venue_symbol": venue_symbol,
            "exchange_ts": _env_ts(frame),
            "recv_ts": recv_ts,
            "interval": interval,
            "open_ts": _seconds(r["t"]) * 1000,
            "open": _price(r["o"]),
            "high": _price(r["h"]),
            "low": _price(r["l"]),
            "close": _price(r["c"]),
            # spot `v` is quote volume, `a` base amount (gateio-protocol.md §6.4)
            "volume": _optional(_size, r.get("a")),
            "quote_volume": _optional(_size, r.get("v")),
            "closed": r.get("w"),
        }
        return [ParsedMessage(T.KLINE, "gateio", symbol, data, None)]

    def _book_update(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = r["s"]
        first, last = _book_ids(r)
        data = {
            "venue_symbol": venue_symbol,
            "first_update_id": first,
            "last_update_id": last,
            "bids": _levels(r.get("b", ())),
            "asks": _levels(r.get("a", ())),
            "exchange_ts": _millis(r.get("t", 0)) or _env_ts(frame),
            "recv_ts": recv_ts,
        }
        msg_type = T.BOOK_SNAPSHOT if r.get("full") else T.BOOK_DELTA
        return [ParsedMessage(msg_type, "gateio", self.unified(venue_symbol), data, None)]


class GateioStrategyHandler(ObuBooks, StrategyHandler):
    """Strategy-path handler of a Gate stream: :class:`StrategyHandler` plus Gate's Order Book
    V2 rules, sharing the direct handlers' obu state (:class:`ObuBooks`): in-band ``full``
    snapshots, a gap or an increment before any snapshot -> ``BookStatus`` and a per-symbol
    resubscribe, ``expect_book``/``check_no_data`` for silent subscriptions."""

    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        try:
            super()._dispatch(raw, recv_ts)
        except Exception:
            # a book push that cannot be parsed: drop that book now (the direct path does too)
            symbol = self.parser.lost_book_symbol(raw)
            if symbol is not None:
                self._book_lost(symbol, recv_ts)
            raise

    def _on_book_delta(self, msg: ParsedMessage) -> None:
        d = msg.data
        stream = d.get("obu_stream")
        if stream is not None:
            venue_symbol = self._obu_streams.get(stream) or self._obu_register(stream)
            if not self.books[venue_symbol].synced:
                self.stats.errors["obu_unsynced_delta"] += 1
                if venue_symbol not in self._obu_pending:
                    detail = f"increment {d['first_update_id']}-{d['last_update_id']} before any full push"
                    self._status(venue_symbol, RESYNCING, "no_snapshot", None, d["exchange_ts"], d["recv_ts"], detail)
                    self._resync(venue_symbol)
                return
        super()._on_book_delta(msg)

    def _on_book_snapshot(self, msg: ParsedMessage) -> None:
        stream = msg.data.get("obu_stream")
        if stream is not None:
            venue_symbol = self._obu_streams.get(stream) or self._obu_register(stream)
            self._obu_pending.discard(venue_symbol)
            self._expected.pop(venue_symbol, None)
        super()._on_book_snapshot(msg)

    def _on_ack(self, msg: ParsedMessage) -> None:
        super()._on_ack(msg)
        d = msg.data
        # newer acks echo the payload: arm the no-data timer for each obu stream
        if d.get("event") == "subscribe" and d["ok"] is not False and d.get("payload") and d["channel"].endswith(".obu"):
            for stream in d["payload"]:
                try:
                    venue_symbol, _ = parse_obu_stream(stream)
                except (ValueError, AttributeError):
                    continue
                self.expect_book(venue_symbol, d.get("recv_ts"))


def _spot_set():
    from .registry import StrategySet

    return StrategySet(
        connection=lambda url=None: GateioConnectionStrategy(url or SPOT_WS_URL, SPOT, "spot.ping"),
        subscription=GateioSpotSubscriptionStrategy,
        parser=GateioSpotParserStrategy,
        handler=GateioStrategyHandler,
    )


GATEIO_SPOT = _spot_set()


# -- USDT perpetual futures -------------------------------------------------------------------


# futures.tickers numbers and the bound each must meet (as the direct path's FuturesTicker)
_TICKER_NUMBERS = {
    "last": _price,
    "change_percentage": _signed,
    "high_24h": _price,
    "low_24h": _price,
    "volume_24h": _size,
    "volume_24h_base": _size,
    "volume_24h_quote": _size,
    "funding_rate": _signed,
    "funding_rate_indicative": _signed,
    "mark_price": _price,
    "index_price": _price,
    "total_size": _size,
}


def _items(result: Any) -> list:
    return result if isinstance(result, list) else [result]


class GateioFuturesSubscriptionStrategy(GateioSubscriptionStrategy):
    """USDT futures subscribe/unsubscribe frames (payloads §7); ``book`` params are
    ``(frequency, level)``."""

    MARKET = "futures"
    CHANNELS = FUTURES_CHANNELS
    PAYLOAD = staticmethod(futures_payload)

    def default_symbols(self) -> SymbolMap:
        return futures_symbol_map()


class GateioFuturesParserStrategy(GateioParserStrategy):
    """Gate USDT perpetual channels (§7) -> ``ParsedMessage``. Sizes: contracts x the
    contract's ``quanto_multiplier`` from ``symbols`` (``contracts`` keeps the count); a contract
    missing from the map is reported once as ``no_multiplier`` and left in contracts.
    Book messages carry ``obu_stream`` for ``futures.obu`` and ``periodic`` for the legacy
    ``futures.order_book`` full pushes."""

    market = PERP
    PONG = FUTURES_PONG_CHANNEL
    SYSTEM = "futures.system"
    BOOK_CHANNEL = "futures.order_book_update"

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self.sizer = ContractSizes(self.symbols, self._no_multiplier)
        self._builders.update(
            {
                "futures.book_ticker": self._book_ticker,
                "futures.trades": self._trades,
                "futures.order_book_update": self._book_update,
                "futures.order_book": self._order_book,
                "futures.obu": self._obu,
                "futures.tickers": self._tickers,
                "futures.candlesticks": self._candles,
                "futures.public_liquidates": self._liquidations,
                "futures.contract_stats": self._contract_stats,
                self.SYSTEM: self._system,
            }
        )

    def default_symbols(self) -> SymbolMap:
        return futures_symbol_map()

    def _no_multiplier(self, venue_symbol: str) -> None:
        self.report("no_multiplier", venue_symbol, "contract not in the contract list, sizes left in contracts")

    def _levels(self, levels: list, sizer: ContractSize) -> list[tuple[float, float]]:
        if sizer.is_one:
            return [(_price(lv["p"]), _size(lv["s"])) for lv in levels]
        base = sizer.base
        return [(_price(lv["p"]), base(_size(lv["s"]))) for lv in levels]

    def _book_ticker(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = r["s"]
        sizer = self.sizer(venue_symbol)
        bid = r.get("b", "")
        ask = r.get("a", "")
        u = r.get("u")
        symbol = self.unified(venue_symbol)
        data = {
            "venue": "gateio",
            "market": PERP,
            "symbol": symbol,
            "venue_symbol": venue_symbol,
            "exchange_ts": _millis(r.get("t", 0)) or _env_ts(frame),
            "recv_ts": recv_ts,
            "bid_price": _price(bid) if bid != "" else 0.0,
            "bid_size": sizer.base(_size(r.get("B", 0.0))) if bid != "" else 0.0,
            "ask_price": _price(ask) if ask != "" else 0.0,
            "ask_size": sizer.base(_size(r.get("A", 0.0))) if ask != "" else 0.0,
            "update_id": None if u is None else int(u),
        }
        return [ParsedMessage(T.BBO, "gateio", symbol, data, None)]

    def _trades(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        out = []
        # every item is checked before any is used: one impossible value spoils the frame
        checked = [(_signed(r["size"]), _price(r["price"]), r) for r in frame["result"]]
        for signed, price, r in checked:
            if signed > 0:
                side, contracts = BUY, signed
            elif signed < 0:
                side, contracts = SELL, -signed
            else:
                self.report("zero_size_trade", b"", None)
                continue
            venue_symbol = r["contract"]
            symbol = self.unified(venue_symbol)
            data = {
                "venue": "gateio",
                "market": PERP,
                "symbol": symbol,
                "venue_symbol": venue_symbol,
                "exchange_ts": _millis(r.get("create_time_ms", 0)) or _seconds(r.get("create_time", 0)) * 1000,
                "recv_ts": recv_ts,
                "price": price,
                "size": self.sizer(venue_symbol).base(contracts),
                "side": side,
                "trade_id": str(int(r["id"])),
                "contracts": contracts,
            }
            out.append(ParsedMessage(T.TRADE, "gateio", symbol, data, None))
        return out

    def _book_update(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        r = frame["result"]
        venue_symbol = r["s"]
        sizer = self.sizer(venue_symbol)
        first, last = _book_ids(r)
        data = {
            "venue_symbol": venue_symbol,
            "first_update_id": first,
            "last_update_id": last,
            "bids": self._levels(r.get("b", ()), sizer),
            "asks": self._levels(r.get("a", ()), sizer),
            "exchange_ts": _millis(r.get("t", 0)) or _env_ts(frame),
            "recv_ts": recv_ts,
        }
        msg_type = T.BOOK_SNAPSHOT if r.get("full") else T.BOOK_DELTA
        return [ParsedMessage(msg_type, "gateio", self.unified(venue_symbol), data, None)]

    def _order_book(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        if frame.get("event") != "all":
            # legacy signed single-level updates (§7.5): no continuity rule known
            self.report("legacy_book_update", b"", None)
            return []
        r = frame["result"]
        venue_symbol = r["contract"]
        update_id = int(r["id"])
        if update_id == 0 and not r.get("bids") and not r.get("asks"):
            # an empty book at id 0 (pitfalls Q4: quiet contracts) is no sync point
            self.report("empty_book_snapshot", b"", None)
            return []
        sizer = self.sizer(venue_symbol)
        data = {
            "venue_symbol": venue_symbol,
            "first_update_id": update_id,
            "last_update_id": update_id,
            "bids": self._levels(r.get("bids", ()), sizer),
            "asks": self._levels(r.get("asks", ()), sizer),
            "exchange_ts": _millis(r.get("t", 0)) or _env_ts(frame),
            "recv_ts": recv_ts,
            "periodic": True,
        }
        return [ParsedMessage(T.BOOK_SNAPSHOT, "gateio", self.unified(venue_symbol), data, None)]

    def _tickers(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        items = _items(frame["result"])
        try:
            values = [self._ticker_numbers(r, False) for r in items]
        except (TypeError, ValueError):
            # a field that does not fit ("" on quiet contracts, an impossible number): keep the rest
            self.report("ticker_lenient", b"", None)
            values = [self._ticker_numbers(r, True) for r in items]
        env_ts = _env_ts(frame)
        out = []
        for r, v in zip(items, values):
            contract = r["contract"]
            if not isinstance(contract, str) or not contract:
                raise ValueError(f"ticker contract {contract!r}")
            symbol = self.unified(contract)
            sizer = self.sizer(contract)
            exchange_ts = v["t"] or env_ts
            head = {"venue": "gateio", "market": PERP, "symbol": symbol, "venue_symbol": contract, "exchange_ts": exchange_ts, "recv_ts": recv_ts}
            if any(
                v[name] is not None
                for name in ("last", "change_percentage", "high_24h", "low_24h", "volume_24h_base", "volume_24h", "volume_24h_quote")
            ):
                base_volume = v["volume_24h_base"]
                if base_volume is None and v["volume_24h"] is not None:
                    base_volume = sizer.base(v["volume_24h"])
                data = dict(
                    head,
                    last=v["last"],
                    best_bid=None,
                    best_ask=None,
                    high_24h=v["high_24h"],
                    low_24h=v["low_24h"],
                    base_volume=base_volume,
                    quote_volume=v["volume_24h_quote"],
                    change_pct=v["change_percentage"],
                )
                out.append(ParsedMessage(T.TICKER, "gateio", symbol, data, None))
            next_apply = v["funding_next_apply"]
            if v["funding_rate"] is not None or v["funding_rate_indicative"] is not None or next_apply is not None:
                data = dict(
                    head,
                    rate=v["funding_rate"],
                    predicted_rate=v["funding_rate_indicative"],
                    next_funding_ts=next_apply * 1000 if next_apply else None,
                )
                out.append(ParsedMessage(T.FUNDING, "gateio", symbol, data, None))
            if v["mark_price"] is not None or v["index_price"] is not None:
                data = dict(head, mark_price=v["mark_price"], index_price=v["index_price"])
                out.append(ParsedMessage(T.MARK_PRICE, "gateio", symbol, data, None))
            total = v["total_size"]
            if total is not None:
                # total_size: open interest in contracts (§7.2)
                data = dict(head, open_interest=sizer.base(total), contracts=total, open_interest_usd=None)
                out.append(ParsedMessage(T.OPEN_INTEREST, "gateio", symbol, data, None))
        return out

    @staticmethod
    def _ticker_numbers(r: dict, lenient: bool) -> dict[str, Any]:
        """:func:`_numbers` of a futures ticker item, plus ``funding_next_apply`` (s) and ``t``
        (ms, 0 when absent)."""
        values = _numbers(r, _TICKER_NUMBERS, lenient)
        values.update(_numbers(r, {"funding_next_apply": _seconds}, lenient))
        values.update(_numbers(r, {"t": _millis}, lenient, absent=0))
        return values

    def _candles(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        out = []
        env_ts = _env_ts(frame)
        for r in _items(frame["result"]):
            interval, _, contract = r["n"].partition("_")
            # mark_/index_ price candles (§7.8): no volume, symbol of the contract
            plain = contract
            if contract.startswith("mark_"):
                plain = contract[5:]
            elif contract.startswith("index_"):
                plain = contract[6:]
            if not plain:
                raise ValueError(f"candle without a contract: {r['n']!r}")
            symbol = self.unified(plain)
            v = r.get("v")
            data = {
                "venue": "gateio",
                "market": PERP,
                "symbol": symbol,
                "venue_symbol": contract,
                "exchange_ts": env_ts,
                "recv_ts": recv_ts,
                "interval": interval,
                "open_ts": _seconds(r["t"]) * 1000,
                "open": _price(r["o"]),
                "high": _price(r["h"]),
                "low": _price(r["l"]),
                "close": _price(r["c"]),
                # v counts contracts (§7.8)
                "volume": self.sizer(plain).base(_size(v)) if v is not None else None,
                "quote_volume": None,
                "closed": r.get("w"),
            }
            out.append(ParsedMessage(T.KLINE, "gateio", symbol, data, None))
        return out

    def _liquidations(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        out = []
        env_ts = _env_ts(frame)
        for r in _items(frame["result"]):
            signed = _signed(r["size"])
            if signed == 0:
                self.report("zero_size_liquidation", b"", None)
                continue
            side = SELL if signed < 0 else BUY
            contracts = -signed if signed < 0 else signed
            contract = r["contract"]
            symbol = self.unified(contract)
            data = {
                "venue": "gateio",
                "market": PERP,
                "symbol": symbol,
                "venue_symbol": contract,
                "exchange_ts": _millis(r.get("time", 0)) or env_ts,
                "recv_ts": recv_ts,
                "price": _price(r["price"]),
                "size": self.sizer(contract).base(contracts),
                "side": side,
                "contracts": contracts,
            }
            out.append(ParsedMessage(T.LIQUIDATION, "gateio", symbol, data, None))
        return out

    def _contract_stats(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        out = []
        for r in _items(frame["result"]):
            contract = r.get("contract", "")
            if not contract:
                # frames before 2025-03 did not name the contract (§7.10)
                self.report("stats_without_contract", b"", None)
                continue
            oi = r.get("open_interest")
            if oi is None:
                continue
            oi = _size(oi)
            stamp = _seconds(r.get("time", 0))
            symbol = self.unified(contract)
            usd = r.get("open_interest_usd")
            data = {
                "venue": "gateio",
                "market": PERP,
                "symbol": symbol,
                "venue_symbol": contract,
                "exchange_ts": stamp * 1000 if stamp else _env_ts(frame),
                "recv_ts": recv_ts,
                "open_interest": self.sizer(contract).base(oi),
                "contracts": oi,
                "open_interest_usd": _optional(_size, usd),
            }
            out.append(ParsedMessage(T.OPEN_INTEREST, "gateio", symbol, data, None))
        return out


class GateioFuturesStrategyHandler(GateioStrategyHandler):
    """Strategy-path handler of Gate USDT futures: :class:`GateioStrategyHandler` plus the
    legacy periodic ``futures.order_book`` full books and REST snapshots in contracts."""

    def apply_rest_snapshot(self, venue_symbol: str, body: bytes | str, recv_ts: int | None = None) -> int:
        """Same as the direct handler's: a ``GET /futures/usdt/order_book?with_id=true`` body,
        contracts -> base currency. Raises ``ValueError``/``msgspec`` errors on a bad body."""
        from ..exchanges.gateio.contracts import decode_futures_snapshot

        snap = decode_futures_snapshot(body, self.parser.sizer(venue_symbol))
        return self.apply_snapshot(venue_symbol, snap.update_id, snap.bids, snap.asks, snap.exchange_ts, recv_ts)

    def _on_book_snapshot(self, msg: ParsedMessage) -> None:
        if msg.data.get("periodic"):
            self._periodic_full(msg.data)
            return
        super()._on_book_snapshot(msg)

    def _periodic_full(self, d: dict) -> None:
        venue_symbol = d["venue_symbol"]
        seq = self.book(venue_symbol)
        exchange_ts, recv_ts, update_id = d["exchange_ts"], d["recv_ts"], d["last_update_id"]
        if not seq.synced:
            self._book_full(venue_symbol, update_id, d["bids"], d["asks"], exchange_ts, recv_ts)
            return
        if seq.on_full(update_id, d["bids"], d["asks"]) == CROSSED:
            self._broken(venue_symbol, seq, CROSSED, exchange_ts, recv_ts, None)
            return
        seq.book.exchange_ts = exchange_ts
        book = seq.book
        self._emit(
            BookUpdate(
                venue="gateio",
                market=PERP,
                symbol=self._unified(venue_symbol),
                venue_symbol=venue_symbol,
                exchange_ts=exchange_ts,
                recv_ts=recv_ts,
                bids=book.top_bids(),
                asks=book.top_asks(),
                snapshot=True,
                first_update_id=update_id,
                last_update_id=update_id,
            )
        )


def _futures_set():
    from .registry import StrategySet

    return StrategySet(
        connection=lambda url=None: GateioConnectionStrategy(url or FUTURES_WS_URL, PERP, "futures.ping"),
        subscription=GateioFuturesSubscriptionStrategy,
        parser=GateioFuturesParserStrategy,
        handler=GateioFuturesStrategyHandler,
    )


GATEIO_PERP = _futures_set()
