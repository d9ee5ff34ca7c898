"""MEXC spot v3 WebSocket protocol: endpoints, channel names, requests, control replies,
body field numbers and symbol names.

Follows ``mexc-protocol.md``: §1.1 endpoints, §1.3 requests, §1.4 replies (acks, PONG, the
``code 0`` "Blocked" refusal), §1.5 limits, §1.6 channel catalogue, §2.1 wrapper body numbers.
"""

from __future__ import annotations

from typing import Iterable

import msgspec

WS_URL = "wss://wbs-api.mexc.com/ws"
REST_URL = "https://api.mexc.com"

# §1.5: at most 30 subscriptions per connection, 24 h connection lifetime, no server pings.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 30
MAX_CONNECTION_AGE_S = 24 * 3600
# reconnect well before the venue cuts the connection
RECONNECT_AFTER_S = 23 * 3600
PING_INTERVAL_S = 20.0

# Wrapper body oneof field numbers (§2.1).
PUBLIC_DEALS = 301
PUBLIC_INCREASE_DEPTHS = 302
PUBLIC_LIMIT_DEPTHS = 303
PRIVATE_ORDERS = 304
PUBLIC_BOOK_TICKER = 305
PRIVATE_DEALS = 306
PRIVATE_ACCOUNT = 307
PUBLIC_SPOT_KLINE = 308
PUBLIC_MINI_TICKER = 309
PUBLIC_MINI_TICKERS = 310
PUBLIC_BOOK_TICKER_BATCH = 311
PUBLIC_INCREASE_DEPTHS_BATCH = 312
PUBLIC_AGGRE_DEPTHS = 313
PUBLIC_AGGRE_DEALS = 314
PUBLIC_AGGRE_BOOK_TICKER = 315

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

# Kline interval names (§1.6) -> ours (models.Kline.interval)
KLINE_INTERVALS: dict[str, str] = {
    "Min1": "1m",
    "Min5": "5m",
    "Min15": "15m",
    "Min30": "30m",
    "Min60": "1h",
    "Hour4": "4h",
    "Hour8": "8h",
    "Day1": "1d",
    "Week1": "1w",
    "Month1": "1M",
}
KLINE_INTERVALS_REVERSE = {ours: venue for venue, ours in KLINE_INTERVALS.items()}

# Taker side codes of aggre.deals ``tradeType`` (§2.2): 1 buy, 2 sell.
TRADE_TYPE_BUY = 1
TRADE_TYPE_SELL = 2


# -- channel names (§1.6) ------------------------------------------------------------------
def aggre_depth_channel(venue_symbol: str, interval: str = "100ms") -> str:
    """``spot@public.aggre.depth.v3.api.pb@<100ms|10ms>@<SYM>``."""
    return f"spot@public.aggre.depth.v3.api.pb@{interval}@{venue_symbol}"


def limit_depth_channel(venue_symbol: str, levels: int = 20) -> str:
    """``spot@public.limit.depth.v3.api.pb@<SYM>@<5|10|20>``."""
    return f"spot@public.limit.depth.v3.api.pb@{venue_symbol}@{levels}"


def aggre_deals_channel(venue_symbol: str, interval: str = "100ms") -> str:
    """``spot@public.aggre.deals.v3.api.pb@<100ms|10ms>@<SYM>``."""
    return f"spot@public.aggre.deals.v3.api.pb@{interval}@{venue_symbol}"


def aggre_book_ticker_channel(venue_symbol: str, interval: str = "100ms") -> str:
    """``spot@public.aggre.bookTicker.v3.api.pb@<100ms|10ms>@<SYM>``."""
    return f"spot@public.aggre.bookTicker.v3.api.pb@{interval}@{venue_symbol}"


def book_ticker_batch_channel(venue_symbol: str) -> str:
    """``spot@public.bookTicker.batch.v3.api.pb@<SYM>``."""
    return f"spot@public.bookTicker.batch.v3.api.pb@{venue_symbol}"


def kline_channel(venue_symbol: str, interval: str = "Min1") -> str:
    """``spot@public.kline.v3.api.pb@<SYM>@<interval>``; ``interval`` in venue (``Min1``) or
    our (``1m``) spelling."""
    interval = KLINE_INTERVALS_REVERSE.get(interval, interval)
    return f"spot@public.kline.v3.api.pb@{venue_symbol}@{interval}"


def mini_ticker_channel(venue_symbol: str, timezone: str = "24H") -> str:
    """``spot@public.miniTicker.v3.api.pb@<SYM>@<TZ>``."""
    return f"spot@public.miniTicker.v3.api.pb@{venue_symbol}@{timezone}"


def mini_tickers_channel(timezone: str = "24H") -> str:
    """``spot@public.miniTickers.v3.api.pb@<TZ>`` (all symbols)."""
    return f"spot@public.miniTickers.v3.api.pb@{timezone}"


# Our stream names -> channel builder (used by the CLI and the connection layer)
CHANNELS = {
    "book": aggre_depth_channel,
    "trades": aggre_deals_channel,
    "bbo": aggre_book_ticker_channel,
    "kline": kline_channel,
    "ticker": mini_ticker_channel,
    "limit_book": limit_depth_channel,
    "bbo_batch": book_ticker_batch_channel,
}


def channel_symbol(channel: str) -> str:
    """Venue symbol named by a channel string (``""`` for the all-symbols ``miniTickers``).

    Symbol-first channels (``limit.depth``, ``kline``, ``miniTicker``) carry it in the third
    ``@`` part, interval-first ones (``aggre.*``) in the last part.
    """
    parts = channel.split("@")
    if len(parts) < 3:
        return ""
    family = parts[1]
    if family.startswith(("public.limit.depth", "public.kline", "public.miniTicker.")):
        return parts[2]
    if family.startswith("public.miniTickers"):
        return ""
    return parts[-1]


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
# Quote currencies tried, longest first, when a symbol is missing from exchangeInfo.
QUOTE_SUFFIXES = ("FDUSD", "USDT", "USDC", "USDE", "USD1", "TUSD", "BUSD", "EUR", "BRL", "TRY", "BTC", "ETH", "USD", "MX")


def mexc_unified(venue_symbol: str) -> str:
    """``BTCUSDT`` -> ``BTC/USDT`` by known quote suffix; unchanged when none matches."""
    for quote in QUOTE_SUFFIXES:
        if venue_symbol.endswith(quote) and len(venue_symbol) > len(quote):
            return f"{venue_symbol[: -len(quote)]}/{quote}"
    return venue_symbol


def mexc_venue(symbol: str) -> str:
    """``BTC/USDT`` -> ``BTCUSDT``."""
    return symbol.split(":", 1)[0].replace("/", "").upper()
