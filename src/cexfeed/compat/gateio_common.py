"""Gate.io strategies, the parts spot and futures share: connection, subscription frames from
the market's channel table, the envelope and control frames, and the strategy-path handler.

The parser follows the older two-step style: the frame is decoded once into generic Python
objects (``msgspec.json.decode`` without a type: dicts, lists, strings), then each channel's
builder reads the fields it needs through the value rules of :mod:`cexfeed.wire` (the same
grammar and bounds as the direct path's typed decode) and fills a ``ParsedMessage.data`` dict
with the fields of the matching event. Builders are named like the direct handler's methods and
found through the channel table (gateio-protocol.md §2 envelope, §3 heartbeat, §10 book sync).
Book state (obu streams, periodic full books) is applied by the same shared handler code as on
the direct path.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable

import msgspec

from .. import wire
from ..channels import Table
from ..exchanges.gateio.frame_json import error_symbol, lost_book_symbol, plain_json, result_items
from ..exchanges.gateio.contracts import ONE, MultiplierUnknown
from ..exchanges.gateio.obu import ObuBooks, parse_obu_stream
from ..exchanges.gateio.protocol import already_subscribed, candle_name, ping, request
from ..symbols import SymbolMap
from .messages import MessageType, ParsedMessage
from .strategies import ConnectionStrategy, MessageParserStrategy, StrategyHandler, Subscription, SubscriptionStrategy

_decode = plain_json.decode

T = MessageType


def book_ids(r: dict) -> tuple[int | None, int]:
    """``(U, u)`` of a book push: a delta needs ``U <= u``; a ``full`` push may omit ``U``
    (``None``). Raises ``ValueError`` otherwise."""
    last = wire.seq_id(r["u"])
    first = optional(wire.seq_id, r.get("U"))
    if not wire.flag(r.get("full", False)) and (first is None or first > last):
        raise ValueError(f"impossible book ids U={first} u={last}")
    return first, last


def envelope(frame: Any) -> tuple[str, str, int | None, dict | None]:
    """``(channel, event, id, error)`` of a frame, each of the type the envelope allows
    (gateio-protocol.md §2: strings, an integer id, an error object ``{code, message}``, a list
    payload). Raises ``ValueError`` for a frame that is no Gate envelope."""
    if not isinstance(frame, dict):
        raise ValueError("not a Gate frame")
    channel = frame.get("channel", "")
    event = frame.get("event", "")
    if channel.__class__ is not str or event.__class__ is not str:
        raise ValueError("channel and event must be strings")
    env_ts(frame)  # an impossible envelope time makes the frame malformed
    request_id = optional(wire.seq_id, frame.get("id"))
    error = frame.get("error")
    if error is not None:
        if not isinstance(error, dict):
            raise ValueError("error must be an object")
        message = error.get("message", "")
        if message.__class__ is not str:
            raise ValueError("error message must be a string")
        error = {"code": wire.integer(error.get("code", 0)), "message": message}
    payload = frame.get("payload")
    if payload is not None and not isinstance(payload, list):
        raise ValueError("payload must be a list")
    return channel, event, request_id, error


def env_ts(frame: dict) -> int | None:
    """The envelope time in ms: ``time_ms``, else ``time`` (each in any unit, read by
    :func:`cexfeed.wire.to_ms`; both must be possible); ``None`` when neither is given."""
    ms = wire.to_ms(frame.get("time_ms", 0))
    seconds = wire.to_ms(frame.get("time", 0))
    return ms or seconds


def item_ts(r: dict, key: str, frame: dict) -> int | None:
    """The time of an item in ms: its own ``key`` (any unit), else the envelope's."""
    return wire.to_ms(r.get(key, 0)) or env_ts(frame)


def quote_values(r: dict) -> tuple:
    """A book ticker item's ``(bid price, bid size, ask price, ask size)`` by the rule of
    :func:`cexfeed.wire.quotes` (each value :func:`cexfeed.wire.quote_value`, ``""`` when
    absent; ``None``/``None`` for a side that is not quoted)."""
    return wire.quotes(*(wire.quote_value(r.get(key, "")) for key in ("b", "B", "a", "A")))


def trade_ts(r: dict, frame: dict) -> int | None:
    """A trade item's time in ms: ``create_time_ms``, else ``create_time``, else the
    envelope's (each in any unit; both item times must be possible)."""
    ms = wire.to_ms(r.get("create_time_ms", 0))
    seconds = wire.to_ms(r.get("create_time", 0))
    return ms or seconds or env_ts(frame)


def text(value: Any) -> str:
    """``value`` when it is a ``str`` (possibly empty); raises ``ValueError`` otherwise."""
    if value.__class__ is not str:
        raise ValueError(f"not a string: {value!r:.40}")
    return value


def levels(pairs: Any) -> list[tuple[float, float]]:
    """``[[price, size], ...]`` -> ``[(price, size)]``. Raises ``ValueError`` unless it is a list
    of two-item lists of possible values."""
    return [(wire.price(p), wire.size(q)) for p, q in (pair(item) for item in array(pairs))]


def array(value: Any) -> list:
    """``value`` when it is a JSON array; raises ``ValueError`` otherwise."""
    if value.__class__ is not list:
        raise ValueError(f"not an array: {value!r:.40}")
    return value


def obj(value: Any) -> dict:
    """``value`` when it is a JSON object; raises ``ValueError`` otherwise."""
    if value.__class__ is not dict:
        raise ValueError(f"not an object: {value!r:.40}")
    return value


def pair(value: Any) -> list:
    """A ``[price, size]`` level: a two-item array; raises ``ValueError`` otherwise."""
    if value.__class__ is not list or len(value) != 2:
        raise ValueError(f"not a [price, size] level: {value!r:.40}")
    return value


def optional(convert: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else convert(value)


def numbers(r: dict, fields: dict[str, Callable[[Any], Any]], lenient: bool, absent: Any = None) -> dict[str, Any]:
    """The numbers of one item by field (``absent`` where not sent); a value that does not
    convert (``""``, an impossible number) raises ``ValueError``, or is ``absent`` when
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


def ack_status(result: Any) -> str:
    """The ``status`` of an ack's ``result`` (``""`` when there is none). Raises ``ValueError``
    for a result that is no object or a status that is no string."""
    if result is None:
        return ""
    if not isinstance(result, dict):
        raise ValueError("ack result must be an object")
    status = result.get("status", "")
    if status.__class__ is not str:
        raise ValueError("ack status must be a string")
    return status




class GateioConnectionStrategy(ConnectionStrategy):
    """Gate endpoint and its application ping (``{"time": s, "channel": "<market>.ping"}``,
    gateio-protocol.md §3). ``url`` is the production endpoint unless given (the simulator's
    for tests)."""

    venue = "gateio"

    def __init__(self, url: str, market: str, ping_channel: str, interval: float = 10.0) -> None:
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
    """Gate subscribe/unsubscribe frames (§2.1) from the market's channel table: our channel
    names map through ``TABLE`` to the venue's, the row's payload template builds each payload;
    request ids count up from 1. Subclasses set ``TABLE`` and ``default_symbols``."""

    TABLE: Table

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        self.symbols = symbols if symbols is not None else self.default_symbols()
        self._next_id = 0

    def default_symbols(self) -> SymbolMap:
        raise NotImplementedError

    def _frames(self, subscriptions: Iterable[Subscription], event: str, request_id: int | None = None) -> list[bytes]:
        frames: list[bytes] = []
        now = int(time.time())
        table = self.TABLE
        for sub in subscriptions:
            row = table.row(sub.channel)
            self._next_id += 1
            payload = table.payload(row, self.symbols.to_venue(sub.symbol), table.params(row.name, sub.params))
            frames.append(request(row.venue_channel, event, payload, self._next_id if request_id is None else request_id, now))
        return frames

    def subscribe_frames(self, subscriptions: Iterable[Subscription], request_id: int | None = None) -> list[bytes]:
        return self._frames(subscriptions, "subscribe", request_id)

    def unsubscribe_frames(self, subscriptions: Iterable[Subscription], request_id: int | None = None) -> list[bytes]:
        return self._frames(subscriptions, "unsubscribe", request_id)


class GateioParserStrategy(MessageParserStrategy):
    """Envelope and control frames shared by Gate spot and futures. Subclasses set ``TABLE``,
    ``PONG`` and ``SYSTEM`` and define one builder ``(frame_dict, recv_ts) ->
    list[ParsedMessage]`` per table row, named as the row's ``handler``."""

    venue = "gateio"
    TABLE: Table
    # which rows of the table it serves (the private parser serves the private ones)
    PRIVATE = False
    PONG = ""
    SYSTEM = ""
    # the generic decode of a frame (the private parser keeps JSON floats exact as Decimals)
    _decode_frame = staticmethod(_decode)

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._builders: dict[str, Callable[[dict, int], list[ParsedMessage]]] = {
            row.venue_channel: getattr(self, row.handler) for row in self.TABLE if row.private == self.PRIVATE
        }
        self._builders[self.SYSTEM] = self._system
        books = [row.venue_channel for row in self.TABLE.books()]
        self._book_channels = frozenset(books)

    def lost_book_symbol(self, raw: bytes | str) -> str | None:
        """The pair of a book push that failed to parse, when the frame still names one."""
        try:
            return lost_book_symbol(_decode(raw), self._book_channels)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return None

    def items(self, frame: dict, read: Callable[[Any], Any]) -> list:
        """``read(item)`` of every item of the push's ``result`` (one object, an array, or an
        array of arrays: :func:`~cexfeed.exchanges.gateio.frame_json.result_items`): one object
        that does not read raises (the frame is malformed); a bad item of an array is reported
        ``malformed_item`` and left out, the others are kept."""
        found, single = result_items(frame["result"])
        if single:
            return [read(found[0])]
        out = []
        for item in found:
            try:
                out.append(read(item))
            except (TypeError, ValueError, KeyError) as exc:
                self.report("malformed_item", b"", exc)
        return out

    def lenient(self, read: Callable[[Any, bool], Any], counter: str) -> Callable[[Any], Any]:
        """``read(item, lenient)`` as a one-argument reader: strict first; an item with a field
        that does not fit is read again leaving such fields out, and reported under
        ``counter`` (when that succeeds)."""

        def reader(item: Any) -> Any:
            try:
                return read(item, False)
            except (TypeError, ValueError):
                value = read(item, True)
                self.report(counter, b"", None)
                return value

        return reader

    def parse(self, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        frame = self._decode_frame(raw)
        channel, event, request_id, error = envelope(frame)
        if event == "update" or event == "all":
            builder = self._builders.get(channel)
            if builder is None:
                return [ParsedMessage(T.UNKNOWN, self.venue, "", {"kind": "unknown_channel", "channel": channel}, raw)]
            msgs = builder(frame, recv_ts)
            for msg in msgs:
                msg.raw = raw
            return msgs
        return self._control(frame, event, channel, request_id, error, raw, recv_ts)

    def _control(self, frame: dict, event: str, channel: str, request_id: int | None, error: dict | None, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        venue = self.venue
        exchange_ts = env_ts(frame)
        if event == "subscribe" or event == "unsubscribe":
            if error is None:
                result = frame.get("result")
                status = ack_status(result)
                ok = status in ("success", "")
                data = {"id": request_id, "channel": channel, "ok": ok, "message": status, "event": event, "payload": frame.get("payload"), "recv_ts": recv_ts}
                return [ParsedMessage(T.ACK, venue, "", data, raw)]
            ack = ParsedMessage(T.ACK, venue, "", {"id": request_id, "channel": channel, "ok": False, "message": error["message"], "event": event}, raw)
            if already_subscribed(error["message"]):
                # the stream is held already: no error for the consumer (the connection keeps it)
                self.report("already_subscribed", b"", None)
                return [ack]
            # the error first: its symbol may come from the request the ack then settles
            return [self._error(error, channel, exchange_ts, recv_ts, raw, frame.get("payload"), request_id), ack]
        if channel == self.PONG:
            return [ParsedMessage(T.PONG, venue, "", {}, raw)]
        if error is not None:
            return [self._error(error, channel, exchange_ts, recv_ts, raw, frame.get("payload"), request_id)]
        return [ParsedMessage(T.UNKNOWN, venue, "", {"kind": "unknown_frame"}, raw)]

    def sizer(self, venue_symbol: str):
        """Contract -> base size converter of a symbol (spot: identity)."""
        return ONE

    def _head(self, venue_symbol: str, exchange_ts: int | None, recv_ts: int) -> dict:
        """The fields every event has, as a ``ParsedMessage.data`` dict."""
        return {
            "venue": "gateio",
            "market": self.market,
            "symbol": self.unified(venue_symbol),
            "venue_symbol": venue_symbol,
            "exchange_ts": exchange_ts,
            "recv_ts": recv_ts,
        }

    def _on_book_ticker(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        """``spot.book_ticker`` / ``futures.book_ticker`` (§6.5, §7.4): every item read first,
        then sizes of quoted sides converted (contracts -> base on futures)."""

        def read(r: Any) -> dict:
            r = obj(r)
            data = self._head(wire.name(r["s"]), item_ts(r, "t", frame), recv_ts)
            bid_price, bid_size, ask_price, ask_size = quote_values(r)
            data.update(bid_price=bid_price, bid_size=bid_size, ask_price=ask_price, ask_size=ask_size,
                        update_id=optional(wire.seq_id, r.get("u")))
            return data

        out = []
        for data in self.items(frame, read):
            if data["bid_price"] is not None or data["ask_price"] is not None:
                base = self.sizer(data["venue_symbol"]).base
                if data["bid_price"] is not None:
                    data["bid_size"] = base(data["bid_size"])
                if data["ask_price"] is not None:
                    data["ask_size"] = base(data["ask_size"])
            out.append(ParsedMessage(T.BBO, "gateio", data["symbol"], data, None))
        return out

    def _on_candle(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        """``spot.candlesticks`` / ``futures.candlesticks`` (§6.4, §7.8): every item read first,
        then its volumes by the market (:meth:`_candle_volumes`)."""
        exchange_ts = env_ts(frame)

        def read(r: Any) -> tuple:
            r = obj(r)
            interval, venue_symbol, plain = candle_name(text(r["n"]))
            data = self._head(venue_symbol, exchange_ts, recv_ts)
            data.update(
                symbol=self.unified(plain),
                interval=interval,
                open_ts=wire.to_ms(r["t"]),
                open=wire.price(r["o"]),
                high=wire.price(r["h"]),
                low=wire.price(r["l"]),
                close=wire.price(r["c"]),
                closed=optional(wire.flag, r.get("w")),
            )
            return plain, optional(wire.size, r.get("v")), optional(wire.size, r.get("a")), data

        out = []
        for plain, v, a, data in self.items(frame, read):
            data["volume"], data["quote_volume"] = self._candle_volumes(plain, v, a)
            out.append(ParsedMessage(T.KLINE, "gateio", data["symbol"], data, None))
        return out

    def _candle_volumes(self, plain: str, v: float | None, a: float | None) -> tuple[float | None, float | None]:
        """``(volume base, quote volume)`` from a candle's ``v`` and ``a`` (must override)."""
        raise NotImplementedError

    def _on_obu(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        """``spot.obu``/``futures.obu`` (§6.8, §7.7): BOOK_SNAPSHOT for ``full``, else
        BOOK_DELTA, with the stream name in ``obu_stream``."""
        r = frame["result"]
        stream = r["s"]
        venue_symbol, _ = parse_obu_stream(stream)
        first, last = book_ids(r)
        bids = levels(r.get("b", []))
        asks = levels(r.get("a", []))
        pairs = self.sizer(venue_symbol).pairs
        data = {
            "venue_symbol": venue_symbol,
            "obu_stream": stream,
            "first_update_id": first,
            "last_update_id": last,
            "bids": pairs(bids),
            "asks": pairs(asks),
            "exchange_ts": item_ts(r, "t", frame),
            "recv_ts": recv_ts,
        }
        msg_type = T.BOOK_SNAPSHOT if wire.flag(r.get("full", False)) else T.BOOK_DELTA
        return [ParsedMessage(msg_type, self.venue, self.unified(venue_symbol), data, None)]

    def _error(self, error: dict, channel: str, exchange_ts: int | None, recv_ts: int, raw, payload: Any, request_id: int | None) -> ParsedMessage:
        """An ERROR message; ``venue_symbol`` the symbol the echoed ``payload`` names (the
        handler falls back to the request ``id`` answers)."""
        venue_symbol = error_symbol(self.TABLE, channel, payload)
        data = {
            "code": error.get("code", 0),
            "message": error.get("message", ""),
            "channel": channel,
            "exchange_ts": exchange_ts,
            "recv_ts": recv_ts,
            "venue_symbol": venue_symbol,
            "id": request_id,
        }
        return ParsedMessage(T.ERROR, self.venue, self.unified(venue_symbol) if venue_symbol else "", data, raw)

    def _system(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        result = frame.get("result")
        result = obj(result) if result is not None else {}
        kind = result.get("type", "")
        message = result.get("msg", "")
        if kind.__class__ is not str or message.__class__ is not str:
            raise ValueError("system notice fields must be strings")
        data = {"reconnect": kind == "upgrade", "message": message}
        return [ParsedMessage(T.SYSTEM, self.venue, "", data, None)]


class GateioStrategyHandler(ObuBooks, StrategyHandler):
    """Strategy-path handler of a Gate stream: :class:`StrategyHandler` plus Gate's Order Book
    V2 rules through the direct handlers' own obu code (:class:`ObuBooks`): in-band ``full``
    snapshots, a gap or an increment before any snapshot -> ``BookStatus`` and a per-symbol
    resubscribe."""

    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        try:
            super()._dispatch(raw, recv_ts)
        except MultiplierUnknown:
            raise  # held by the futures handler, not lost
        except Exception:
            # a book push that cannot be parsed: drop that book now (the direct path does too)
            symbol = self.parser.lost_book_symbol(raw)
            if symbol is not None:
                self._book_lost(symbol, recv_ts)
            raise

    def _on_book_delta(self, msg: ParsedMessage) -> None:
        d = msg.data
        stream = d.get("obu_stream")
        if stream is None:
            super()._on_book_delta(msg)
            return
        self._obu_push(self._obu_symbol(stream), False, d["first_update_id"], d["last_update_id"], d["bids"], d["asks"], d["exchange_ts"], d["recv_ts"])

    def _on_book_snapshot(self, msg: ParsedMessage) -> None:
        d = msg.data
        stream = d.get("obu_stream")
        if stream is not None:
            self._obu_push(self._obu_symbol(stream), True, d["first_update_id"], d["last_update_id"], d["bids"], d["asks"], d["exchange_ts"], d["recv_ts"])
        elif d.get("periodic"):
            self._book_periodic(d["venue_symbol"], d["last_update_id"], d["bids"], d["asks"], d["exchange_ts"], d["recv_ts"])
        else:
            super()._on_book_snapshot(msg)

