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
from ..exchanges.gateio.common import book_symbol
from ..exchanges.gateio.contracts import ONE
from ..exchanges.gateio.obu import ObuBooks, parse_obu_stream
from ..exchanges.gateio.protocol import ping, request
from ..symbols import SymbolMap
from .messages import MessageType, ParsedMessage
from .strategies import ConnectionStrategy, MessageParserStrategy, StrategyHandler, Subscription, SubscriptionStrategy

_decode = msgspec.json.decode

T = MessageType


def book_ids(r: dict) -> tuple[int | None, int]:
    """``(U, u)`` of a book push: a delta needs ``U <= u``; a ``full`` push may omit ``U``
    (``None``). Raises ``ValueError`` otherwise."""
    last = wire.seq_id(r["u"])
    first = wire.seq_id(r["U"]) if "U" in r else None
    if not wire.flag(r.get("full", False)) and (first is None or first > last):
        raise ValueError(f"impossible book ids U={first} u={last}")
    return first, last


def env_ts(frame: dict) -> int:
    """The envelope time in ms: ``time_ms``, else ``time`` s."""
    return wire.millis(frame.get("time_ms", 0)) or wire.seconds(frame.get("time", 0)) * 1000


def levels(pairs: Iterable, base: Callable[[float], float] = ONE.base) -> list[tuple[float, float]]:
    """``[[price, size], ...]`` -> ``[(price, base size)]`` (sizes through ``base``)."""
    return [(wire.price(p), base(wire.size(q))) for p, q in pairs]


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


def items(result: Any) -> list:
    """A result that is one object or an array of them, as a list."""
    return result if isinstance(result, list) else [result]


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
            frame = _decode(raw)
        except msgspec.DecodeError:
            return None
        if not isinstance(frame, dict) or frame.get("channel") not in self._book_channels or frame.get("event") != "update":
            return None
        result = frame.get("result")
        return book_symbol(result.get("s")) if isinstance(result, dict) else None

    def parse(self, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        frame = self._decode_frame(raw)
        if not isinstance(frame, dict):
            raise ValueError("not a Gate frame")
        event = frame.get("event", "")
        channel = frame.get("channel", "")
        if event == "update" or event == "all":
            builder = self._builders.get(channel)
            if builder is None:
                return [ParsedMessage(T.UNKNOWN, self.venue, "", {"kind": "unknown_channel", "channel": channel}, raw)]
            env_ts(frame)  # an impossible envelope time makes the push malformed
            msgs = builder(frame, recv_ts)
            for msg in msgs:
                msg.raw = raw
            return msgs
        return self._control(frame, event, channel, raw, recv_ts)

    def _control(self, frame: dict, event: str, channel: str, raw: bytes | str, recv_ts: int) -> list[ParsedMessage]:
        venue = self.venue
        exchange_ts = env_ts(frame)
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
        return ONE

    def _on_obu(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        """``spot.obu``/``futures.obu`` (§6.8, §7.7): BOOK_SNAPSHOT for ``full``, else
        BOOK_DELTA, with the stream name in ``obu_stream``."""
        r = frame["result"]
        stream = r["s"]
        venue_symbol, _ = parse_obu_stream(stream)
        first, last = book_ids(r)
        base = self.sizer(venue_symbol).base
        data = {
            "venue_symbol": venue_symbol,
            "obu_stream": stream,
            "first_update_id": first,
            "last_update_id": last,
            "bids": levels(r.get("b", ()), base),
            "asks": levels(r.get("a", ()), base),
            "exchange_ts": wire.millis(r.get("t", 0)) or env_ts(frame),
            "recv_ts": recv_ts,
        }
        msg_type = T.BOOK_SNAPSHOT if wire.flag(r.get("full", False)) else T.BOOK_DELTA
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


class GateioStrategyHandler(ObuBooks, StrategyHandler):
    """Strategy-path handler of a Gate stream: :class:`StrategyHandler` plus Gate's Order Book
    V2 rules through the direct handlers' own obu code (:class:`ObuBooks`): in-band ``full``
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

    def _on_ack(self, msg: ParsedMessage) -> None:
        super()._on_ack(msg)
        d = msg.data
        if d.get("event") == "subscribe" and d["ok"] is not False:
            self._obu_acked(d["channel"], d.get("payload"), d.get("recv_ts"))
