"""Gate.io API v4 WebSocket protocol: endpoints, envelopes, requests, instrument lists.

Follows ``gateio-protocol.md``: §1 endpoints, §2 envelopes (request, ack, push, error), §3
heartbeat (app-level ``spot.ping``/``futures.ping``), §6/§7 channels, §10 book sync.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from ...symbols import Instrument, SymbolMap, decimals_to_step
from ...wire import Millis, Price, Seconds, SeqId, Size

SPOT_WS_URL = "wss://api.gateio.ws/ws/v4/"
FUTURES_USDT_WS_URL = "wss://fx-ws.gateio.ws/v4/ws/usdt"
REST_URL = "https://api.gateio.ws/api/v4"

# Our channel names -> Gate spot channel names.
SPOT_CHANNELS = {
    "book": "spot.order_book_update",
    "trades": "spot.trades",
    "bbo": "spot.book_ticker",
    "ticker": "spot.tickers",
    "kline": "spot.candlesticks",
}

# spot.order_book_update interval -> depth it maintains (§6.6)
SPOT_BOOK_INTERVAL_DEPTH = {"20ms": 20, "100ms": 100}


class GateError(msgspec.Struct):
    """``{"code": int, "message": str}`` (§2.4)."""

    code: int = 0
    message: str = ""


class Envelope(msgspec.Struct):
    """Every Gate frame: push, ack, pong or error (§2.2, §2.3). ``result`` is kept raw and
    decoded by the channel's own typed decoder."""

    channel: str = ""
    event: str = ""
    time: Seconds = 0
    time_ms: Millis = 0
    id: int | None = None
    error: GateError | None = None
    result: msgspec.Raw = msgspec.Raw(b"null")
    # newer acks echo the request payload (obu: stream names), pushes do not carry it
    payload: list | None = None


class AckResult(msgspec.Struct):
    status: str = ""


def gate_unified(venue_symbol: str, settle: str | None = None) -> str:
    """``BTC_USDT`` -> ``BTC/USDT`` (``BTC/USDT:USDT`` with a settle currency)."""
    base, _, quote = venue_symbol.partition("_")
    name = f"{base}/{quote}" if quote else venue_symbol
    return f"{name}:{settle}" if settle else name


def gate_venue(symbol: str) -> str:
    """``BTC/USDT`` or ``BTC/USDT:USDT`` -> ``BTC_USDT``."""
    return symbol.split(":", 1)[0].replace("/", "_")


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


def request(channel: str, event: str, payload: list[Any] | None, request_id: int | None, now: int | None = None) -> bytes:
    """A subscribe/unsubscribe request frame (§2.1); ``time`` in seconds, ``id`` an int32."""
    body: dict[str, Any] = {"time": int(time.time()) if now is None else now, "channel": channel, "event": event}
    if request_id is not None:
        body["id"] = request_id
    if payload is not None:
        body["payload"] = payload
    return _encoder.encode(body)


def ping(channel: str, now: int | None = None) -> bytes:
    """App-level ping: ``{"time": s, "channel": "spot.ping"}`` (§3)."""
    return _encoder.encode({"time": int(time.time()) if now is None else now, "channel": channel})


def spot_payload(channel: str, venue_symbol: str, params: tuple = ()) -> list[str]:
    """Payload of one spot subscription: book ``[pair, interval]``, kline ``[interval, pair]``,
    others ``[pair]``. ``params`` carries the interval (book default ``100ms``, kline ``1m``)."""
    if channel == "spot.order_book_update":
        return [venue_symbol, params[0] if params else "100ms"]
    if channel == "spot.candlesticks":
        return [params[0] if params else "1m", venue_symbol]
    return [venue_symbol]


class SpotSnapshot(msgspec.Struct):
    """REST ``GET /spot/order_book?with_id=true`` body (§10.1): ``id`` is the book's update id,
    ``current``/``update`` ms, levels ``[price, size]`` strings parsed to floats, best first;
    every value by the rules of :mod:`cexfeed.wire`."""

    asks: list[tuple[Price, Size]] = []
    bids: list[tuple[Price, Size]] = []
    id: SeqId | None = None
    current: Millis = 0
    update: Millis = 0


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
