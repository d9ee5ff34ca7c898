"""Gate.io API v4 WebSocket protocol, shared by spot and futures: envelopes, request frames,
the app-level ping, instrument lists, and :class:`GateioProtocol` (what the network core needs,
driven by a market's channel table).

Follows ``gateio-protocol.md``: §2 envelopes (request, ack, push, error), §3 heartbeat
(app-level ``spot.ping``/``futures.ping``), §10 book sync. Endpoints and channels are in
``spot_table.py`` / ``futures_table.py``.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from ...channels import Channel
from ...net.protocol import Subscription, VenueProtocol
from ...symbols import Instrument, SymbolMap, decimals_to_step
from ...models import PERP, SPOT
from ...wire import MAX_MILLIS, MAX_SECONDS, Integer, Price, SeqId, Size, Time, check_candle, to_ms


class GateError(msgspec.Struct):
    """``{"code": int, "message": str}`` (§2.4)."""

    code: Integer = 0
    message: str = ""


class Envelope(msgspec.Struct):
    """Every Gate frame: push, ack, pong or error (§2.2, §2.3). ``result`` is kept raw and
    decoded by the channel's own typed decoder."""

    channel: str = ""
    event: str = ""
    time: Time = 0
    time_ms: Time = 0
    id: SeqId | None = None
    error: GateError | None = None
    result: msgspec.Raw = msgspec.Raw(b"null")
    # newer acks echo the request payload (obu: stream names), pushes do not carry it
    payload: list | None = None


class AckResult(msgspec.Struct):
    status: str = ""


# A subscribe of a stream the connection holds already is refused with code 2
# "Alert sub <stream>" (announcement 44946, pitfalls #10): the stream stays subscribed.
ALREADY_SUBSCRIBED_PREFIX = "Alert sub"


def already_subscribed(message: str) -> bool:
    """Whether an error ack's message is Gate's "already subscribed" refusal."""
    return message.startswith(ALREADY_SUBSCRIBED_PREFIX)


def gate_unified(venue_symbol: str, settle: str | None = None) -> str:
    """``BTC_USDT`` -> ``BTC/USDT`` (``BTC/USDT:USDT`` with a settle currency)."""
    base, _, quote = venue_symbol.partition("_")
    name = f"{base}/{quote}" if quote else venue_symbol
    return f"{name}:{settle}" if settle else name


def gate_venue(symbol: str) -> str:
    """``BTC/USDT`` or ``BTC/USDT:USDT`` -> ``BTC_USDT``."""
    return symbol.split(":", 1)[0].replace("/", "_")


def env_ms(frame: Any) -> int | None:
    """The envelope time of a decoded push in ms: ``time_ms``, else ``time`` (each in any unit,
    :func:`cexfeed.wire.to_ms`); ``None`` when it has neither."""
    ms = frame.time_ms
    if ms.__class__ is int and MAX_SECONDS <= ms < MAX_MILLIS:
        return ms  # the usual case of to_ms (an integer count of ms), without the call
    return to_ms(ms) or to_ms(frame.time)


def stamp(t: Any, frame: Any) -> int | None:
    """The time of an item of a push in ms: its own ``t`` (any unit), else the envelope's."""
    if t.__class__ is int and MAX_SECONDS <= t < MAX_MILLIS:
        return t  # the usual case of to_ms (an integer count of ms), without the call
    return to_ms(t) or env_ms(frame)


#: market -> the candle intervals Gate documents (§6.4: EN 2025 and ZH 2026 lists; §7.8)
CANDLE_INTERVALS: dict[str, frozenset[str]] = {
    SPOT: frozenset("10s 30s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 7d 30d".split()),
    PERP: frozenset("10s 1m 5m 15m 30m 1h 4h 8h 1d 7d".split()),
}


def read_candle(market: str, n: str, o: float, h: float, l: float, c: float) -> tuple[str, str, str]:  # noqa: E741
    """:func:`candle_name` of a candle item of ``market`` whose prices (already read) and
    interval pass :func:`cexfeed.wire.check_candle` (the one candle rule, every Gate path).
    Raises ``ValueError`` otherwise."""
    named = candle_name(n)
    check_candle(o, h, l, c, named[0], CANDLE_INTERVALS[market])
    return named


def candle_name(n: str) -> tuple[str, str, str]:
    """``(interval, venue symbol, plain symbol)`` of a candle's ``n`` (``<interval>_<pair>``,
    §6.4, §7.8). Futures mark/index price candles name ``mark_BTC_USDT``/``index_BTC_USDT``:
    the venue symbol keeps the prefix, the plain symbol drops it. Raises ``ValueError`` when no
    pair follows the interval."""
    interval, _, venue_symbol = n.partition("_")
    plain = venue_symbol
    if venue_symbol.startswith("mark_"):
        plain = venue_symbol[5:]
    elif venue_symbol.startswith("index_"):
        plain = venue_symbol[6:]
    if not plain:
        raise ValueError(f"candle without a pair: {n!r}")
    return interval, venue_symbol, plain


class _CurrencyPair(msgspec.Struct):
    id: str
    base: str
    quote: str
    precision: int | None = None
    amount_precision: int | None = None
    trade_status: str = "tradable"


def spot_symbol_map(currency_pairs_json: bytes | str | None = None) -> SymbolMap:
    """A :class:`SymbolMap` from the body of REST ``GET /spot/currency_pairs`` (or an empty
    one that maps by splitting on ``_``). Raises ``msgspec.DecodeError`` on a bad body."""
    smap = SymbolMap(fallback=gate_unified, reverse_fallback=gate_venue)
    if currency_pairs_json:
        for pair in msgspec.json.decode(currency_pairs_json, type=list[_CurrencyPair]):
            smap.add(
                Instrument(
                    symbol=f"{pair.base}/{pair.quote}",
                    venue_symbol=pair.id,
                    base=pair.base,
                    quote=pair.quote,
                    market="spot",
                    price_precision=pair.precision,
                    size_precision=pair.amount_precision,
                    tick_size=decimals_to_step(pair.precision),
                    size_step=decimals_to_step(pair.amount_precision),
                    active=pair.trade_status == "tradable",
                )
            )
    return smap


_encoder = msgspec.json.Encoder()


def request(channel: str, event: str, payload: list[Any] | None, request_id: int | None, now: int | None = None,
            auth: dict[str, str] | None = None) -> bytes:
    """A subscribe/unsubscribe request frame (§2.1); ``time`` in seconds, ``id`` an int32;
    ``auth`` the signed object of a private channel (§4.1), signed for this same ``time``."""
    body: dict[str, Any] = {"time": int(time.time()) if now is None else now, "channel": channel, "event": event}
    if request_id is not None:
        body["id"] = request_id
    if payload is not None:
        body["payload"] = payload
    if auth is not None:
        body["auth"] = auth
    return _encoder.encode(body)


def ping(channel: str, now: int | None = None) -> bytes:
    """App-level ping: ``{"time": s, "channel": "spot.ping"}`` (§3)."""
    return _encoder.encode({"time": int(time.time()) if now is None else now, "channel": channel})


class SpotSnapshot(msgspec.Struct):
    """REST ``GET /spot/order_book?with_id=true`` body (§10.1): ``id`` is the book's update id,
    ``current``/``update`` times (ms; any unit is read as :func:`cexfeed.wire.to_ms` reads it), levels ``[price, size]`` strings parsed to floats, best first;
    every value by the rules of :mod:`cexfeed.wire`."""

    asks: list[tuple[Price, Size]] = []
    bids: list[tuple[Price, Size]] = []
    id: SeqId | None = None
    current: Time = 0
    update: Time = 0

    @property
    def exchange_ts(self) -> int | None:
        """The book's time in ms (``update``, else ``current``), ``None`` when it has none."""
        return to_ms(self.update) or to_ms(self.current)


_spot_snapshot = msgspec.json.Decoder(SpotSnapshot, strict=False)


def parse_spot_snapshot(body: bytes | str) -> SpotSnapshot:
    """Decode a spot order-book snapshot body: the one decoder of it, for the live stream
    (:func:`cexfeed.exchanges.gateio.rest.parse_spot_order_book`) and replay. Raises
    ``msgspec.ValidationError`` (a ``ValueError``) when ``id`` is missing (the request lacked
    ``with_id=true``; pitfalls D.1 #8: the message says so) or a value breaks the rules, and
    ``msgspec.DecodeError`` when the body is not JSON."""
    snap = _spot_snapshot.decode(body)
    if snap.id is None:
        raise msgspec.ValidationError("snapshot has no 'id' (request with_id=true); cannot sequence it")
    return snap


class GateioProtocol(VenueProtocol):
    """A Gate market as seen by the network core: requests ``{"time", "channel", "event",
    "payload", "id"}`` built from the table row's payload template (§2.1), and the app-level
    ``PING`` channel of the market (§3). Subclasses set ``table``, ``PING`` and the venue facts."""

    PING = ""

    def request(self, row: Channel, sub: Subscription, event: str, request_id: int) -> bytes:
        return request(row.venue_channel, event, self.table.payload(row, sub.venue_symbol, sub.params), request_id)  # type: ignore[union-attr]

    def ping_frame(self) -> bytes:
        return ping(self.PING)

    def already_subscribed(self, message: str) -> bool:
        return already_subscribed(message)

    def _book_mode(self, book_mode: str) -> None:
        """``"obu"`` makes our ``book`` mean ``book_obu`` (Order Book V2). Raises ``ValueError``
        for another mode than ``update``/``obu``."""
        if book_mode not in ("update", "obu"):
            raise ValueError("book_mode must be 'update' or 'obu'")
        if book_mode == "obu":
            self.renames["book"] = "book_obu"
