"""Wire helpers both simulated Gate venues share: the request shape (gateio-protocol.md §2.1),
the encoder, the envelope clock and venue names."""

from __future__ import annotations

import time

import msgspec


class Request(msgspec.Struct):
    """A client request: subscribe/unsubscribe (``event``), or an app ping (no ``event``)."""

    channel: str = ""
    event: str = ""
    time: int = 0
    id: int | None = None
    payload: list[str] | None = None


decode_request = msgspec.json.Decoder(Request).decode
encode = msgspec.json.Encoder().encode


def venue_name(symbol: str) -> str:
    """``BTC/USDT`` -> ``BTC_USDT`` (currency pair or contract)."""
    return symbol.replace("/", "_")


def now() -> tuple[int, int]:
    """``(time s, time_ms)`` for an envelope."""
    ms = time.time_ns() // 1_000_000
    return ms // 1000, ms
