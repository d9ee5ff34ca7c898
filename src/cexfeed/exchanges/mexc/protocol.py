"""MEXC spot v3 WebSocket protocol: requests, control replies, body field numbers and symbol
names. Endpoints, limits and channels are in ``spot_table.py``.

Follows ``mexc-protocol.md``: §1.3 requests, §1.4 replies (acks, PONG, the ``code 0``
"Blocked" refusal), §2.1 wrapper body numbers.
"""

from __future__ import annotations

from typing import Iterable

import msgspec

from ...symbols import split_quote

# Wrapper body oneof field numbers (§2.1).
# field number -> oneof member name in our schema (push.proto)
BODY_NAMES: dict[int, str] = {
    301: "publicDeals",
    302: "publicIncreaseDepths",
    303: "publicLimitDepths",
    304: "privateOrders",
    305: "publicBookTicker",
    306: "privateDeals",
    307: "privateAccount",
    308: "publicSpotKline",
    309: "publicMiniTicker",
    310: "publicMiniTickers",
    311: "publicBookTickerBatch",
    312: "publicIncreaseDepthsBatch",
    313: "publicAggreDepths",
    314: "publicAggreDeals",
    315: "publicAggreBookTicker",
}
BODY_NUMBERS: dict[str, int] = {name: number for number, name in BODY_NAMES.items()}

# Taker side codes of aggre.deals ``tradeType`` (§2.2): 1 buy, 2 sell.
TRADE_TYPE_BUY = 1
TRADE_TYPE_SELL = 2


# -- requests (§1.3) -------------------------------------------------------------------------
class Request(msgspec.Struct, omit_defaults=True):
    method: str
    params: list[str] | None = None
    id: int | None = None


_encoder = msgspec.json.Encoder()
PING_FRAME = _encoder.encode(Request("PING"))


def subscribe(channels: Iterable[str], request_id: int | None = None) -> bytes:
    """``{"method":"SUBSCRIPTION","params":[...],"id":n}`` (id omitted when ``None``)."""
    return _encoder.encode(Request("SUBSCRIPTION", list(channels), request_id))


def unsubscribe(channels: Iterable[str], request_id: int | None = None) -> bytes:
    """``{"method":"UNSUBSCRIPTION","params":[...]}``."""
    return _encoder.encode(Request("UNSUBSCRIPTION", list(channels), request_id))


def ping() -> bytes:
    """``{"method":"PING"}``; the venue answers ``{"id":0,"code":0,"msg":"PONG"}``."""
    return PING_FRAME


# -- replies (§1.4) --------------------------------------------------------------------------
class Reply(msgspec.Struct):
    """Every JSON text frame of the spot feed: ``{"id": int, "code": int, "msg": str}``
    (``msg`` required, so other JSON shapes fail validation)."""

    msg: str
    id: int = 0
    code: int = 0


reply_decoder = msgspec.json.Decoder(Reply, strict=False)

BLOCKED_PREFIX = "Not Subscribed successfully"

# ack classification results
ACK_OK = "ok"
ACK_PONG = "pong"
ACK_REFUSED = "refused"
ACK_EMPTY = "empty"
ACK_ERROR = "error"


def classify_reply(reply: Reply) -> tuple[str, list[str]]:
    """Kind of a text reply and the channels it names.

    ``ok``: ``code == 0`` and ``msg`` echoes channel(s) (joined by ``,``, any order);
    ``refused``: "Not Subscribed successfully! [<channel>]. Reason： Blocked!" (code 0!);
    ``empty``: ``msg == ""`` (subscription not effective, e.g. a duplicate);
    ``pong``; ``error``: non-zero ``code``.
    """
    msg = reply.msg
    if reply.code != 0:
        return ACK_ERROR, _bracketed(msg)
    if msg == "PONG":
        return ACK_PONG, []
    if msg.startswith(BLOCKED_PREFIX):
        return ACK_REFUSED, _bracketed(msg)
    if not msg:
        return ACK_EMPTY, []
    if "@" not in msg:
        return ACK_ERROR, []
    return ACK_OK, [c.strip() for c in msg.split(",") if c.strip()]


def _bracketed(msg: str) -> list[str]:
    start = msg.find("[")
    end = msg.find("]", start + 1)
    if start < 0 or end < 0:
        return []
    return [c.strip() for c in msg[start + 1 : end].split(",") if c.strip()]


# -- symbols ---------------------------------------------------------------------------------
def mexc_unified(venue_symbol: str) -> str:
    """``BTCUSDT`` -> ``BTC/USDT`` by known quote suffix (for a symbol missing from
    exchangeInfo); unchanged when none matches."""
    return split_quote(venue_symbol) or venue_symbol


def mexc_venue(symbol: str) -> str:
    """``BTC/USDT`` -> ``BTCUSDT``."""
    return symbol.split(":", 1)[0].replace("/", "").upper()
