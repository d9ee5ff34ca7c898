"""MEXC spot: the channel table and the venue facts beside it (mexc-protocol.md §1.1 endpoints,
§1.5 limits, §1.6 channel catalogue, §2.1 wrapper body numbers, §2.3 private bodies, §3.3 the
private session, §4 book sync).

A row's ``venue_channel`` is the channel template (``{symbol}`` is the upper-case venue symbol,
other ``{names}`` the row's parameters); the subscribe request is the filled-in channel itself,
and the venue echoes it in the ack. ``result`` is the ``PushDataV3ApiWrapper`` body field number
a push of the channel carries (the protobuf schema is in ``proto/``). Rows with
``offered=False`` are decoded when they arrive but never subscribed: the venue refuses them
("Blocked") or they serve every symbol at once.

Private rows (``private=True``) are the account channels of a listenKey connection (§3.3): their
channel strings name no symbol (the wrapper's ``symbol`` does, on orders and deals), and their
values are exact ``Decimal`` (:func:`cexfeed.wire.amount`).
"""

from __future__ import annotations

from ...channels import BOOK_FULL, BOOK_REST, Channel, Table
from ...models import Balance, BestBidOffer, BookStatus, BookUpdate, Fill, Kline, Order, Ticker, Trade
from ...wire import check_candle

# -- venue facts ---------------------------------------------------------------------------------
WS_URL = "wss://wbs-api.mexc.com/ws"
REST_URL = "https://api.mexc.com"
# §1.5: at most 30 subscriptions per connection, 24 h connection lifetime, no server pings.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 30
MAX_CONNECTION_AGE_S = 24 * 3600
# reconnect well before the venue cuts the connection
RECONNECT_AFTER_S = 23 * 3600
PING_INTERVAL_S = 20.0

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


def kline_interval(k) -> str:
    """Our interval name (:data:`KLINE_INTERVALS`) of a 308 kline body whose prices and
    interval pass :func:`cexfeed.wire.check_candle` (the one candle rule, direct and compat
    paths). Raises ``ValueError`` otherwise (an interval not documented, such as ``Min7``)."""
    check_candle(k.open, k.high, k.low, k.close, k.interval, KLINE_INTERVALS)
    return KLINE_INTERVALS[k.interval]
TIME_ZONES = (
    "24H", "UTC-10", "UTC-8", "UTC-7", "UTC-6", "UTC-5", "UTC-4", "UTC-3", "UTC+0", "UTC+1", "UTC+2",
    "UTC+3", "UTC+4", "UTC+4:30", "UTC+5", "UTC+5:30", "UTC+6", "UTC+7", "UTC+8", "UTC+9", "UTC+10",
    "UTC+11", "UTC+12", "UTC+12:45", "UTC+13",
)
_WINDOWS = ("100ms", "10ms")
_REFUSED = "refused by the venue (\"Blocked\", §1.6)"

TABLE = Table(
    "mexc",
    "spot",
    [
        Channel(
            name="book", venue_channel="spot@public.aggre.depth.v3.api.pb@{interval}@{symbol}", payload=(),
            params=(("interval", "100ms"),), choices=(("interval", _WINDOWS),),
            result=313, handler="_on_aggre_depth", book=BOOK_REST, emits=(BookUpdate, BookStatus), doc="§1.6 #2, §4",
        ),
        Channel(
            # every push a whole top-N book, emitted as a snapshot BookUpdate
            name="limit_book", venue_channel="spot@public.limit.depth.v3.api.pb@{symbol}@{levels}", payload=(),
            params=(("levels", "20"),), choices=(("levels", ("5", "10", "20")),),
            result=303, handler="_on_limit_depth", book=BOOK_FULL, emits=(BookUpdate, BookStatus), doc="§1.6 #3",
        ),
        Channel(
            name="trades", venue_channel="spot@public.aggre.deals.v3.api.pb@{interval}@{symbol}", payload=(),
            params=(("interval", "100ms"),), choices=(("interval", _WINDOWS),),
            result=314, handler="_on_deals", emits=(Trade,), doc="§1.6 #1",
        ),
        Channel(
            name="bbo", venue_channel="spot@public.aggre.bookTicker.v3.api.pb@{interval}@{symbol}", payload=(),
            params=(("interval", "100ms"),), choices=(("interval", _WINDOWS),),
            result=315, handler="_on_book_ticker", exclusive="bbo", emits=(BestBidOffer,), doc="§1.6 #4",
        ),
        Channel(
            name="bbo_batch", venue_channel="spot@public.bookTicker.batch.v3.api.pb@{symbol}", payload=(),
            result=311, handler="_on_book_ticker_batch", exclusive="bbo", emits=(BestBidOffer,), doc="§1.6 #5",
        ),
        Channel(
            name="kline", venue_channel="spot@public.kline.v3.api.pb@{symbol}@{interval}", payload=(),
            params=(("interval", "Min1"),), choices=(("interval", tuple(KLINE_INTERVALS)),),
            result=308, handler="_on_kline", emits=(Kline,), doc="§1.6 #6",
        ),
        Channel(
            name="ticker", venue_channel="spot@public.miniTicker.v3.api.pb@{symbol}@{timezone}", payload=(),
            params=(("timezone", "24H"),), choices=(("timezone", TIME_ZONES),),
            result=309, handler="_on_mini_ticker", emits=(Ticker,), doc="§1.6 #7",
        ),
        Channel(
            name="tickers_all", venue_channel="spot@public.miniTickers.v3.api.pb@{timezone}", payload=(),
            params=(("timezone", "24H"),), result=310, handler="_on_mini_tickers", emits=(Ticker,),
            offered=False, note="every symbol on one channel", doc="§1.6 #8",
        ),
        Channel(
            name="book_increase_batch", venue_channel="spot@public.increase.depth.batch.v3.api.pb@{symbol}", payload=(),
            result=312, handler="_on_increase_depth_batch", emits=(BookUpdate, BookStatus),
            offered=False, note="no longer documented (§1.6 #9)", doc="§1.6 #9, §4.6",
        ),
        Channel(
            name="book_increase", venue_channel="spot@public.increase.depth.v3.api.pb@{symbol}", payload=(),
            result=302, handler="_on_increase_depth", emits=(BookUpdate, BookStatus), offered=False, note=_REFUSED, doc="§1.6 #10",
        ),
        Channel(
            name="trades_plain", venue_channel="spot@public.deals.v3.api.pb@{symbol}", payload=(),
            result=301, handler="_on_plain_deals", emits=(Trade,), offered=False, note=_REFUSED, doc="§1.6 #11",
        ),
        Channel(
            name="bbo_plain", venue_channel="spot@public.bookTicker.v3.api.pb@{symbol}", payload=(),
            result=305, handler="_on_plain_book_ticker", emits=(BestBidOffer,), offered=False, note=_REFUSED, doc="§1.6 #12",
        ),
        # -- private (§2.3), on a listenKey connection (§3.3) --
        Channel(
            name="orders", venue_channel="spot@private.orders.v3.api.pb", payload=(),
            result=304, handler="_on_orders", emits=(Order,), private=True, doc="§2.3, §3.3",
        ),
        Channel(
            name="fills", venue_channel="spot@private.deals.v3.api.pb", payload=(),
            result=306, handler="_on_deals", emits=(Fill,), private=True, doc="§2.3, §3.3",
        ),
        Channel(
            name="balances", venue_channel="spot@private.account.v3.api.pb", payload=(),
            result=307, handler="_on_account", emits=(Balance,), private=True, doc="§2.3, §3.3",
        ),
    ],
)
#: the private channels an account stream subscribes by default
PRIVATE_DEFAULT = ("orders", "fills", "balances")


def _families() -> dict[str, tuple[int | None, int]]:
    """``spot@<public|private>.<family>`` -> (the ``@``-position of ``{symbol}`` in that channel
    (``None``: the channel names no symbol), the wrapper body number its pushes carry), from the
    table's templates."""
    out: dict[str, tuple[int | None, int]] = {}
    for row in TABLE:
        parts = row.venue_channel.split("@")
        out["@".join(parts[:2])] = (parts.index("{symbol}") if "{symbol}" in parts else None, row.result)
    return out


_FAMILIES = _families()


def channel_symbol(channel: str) -> str:
    """The venue symbol a channel string names (``""`` for channels without one, such as the
    all-symbol ``miniTickers``, or for a channel not in the table)."""
    parts = channel.split("@")
    index, _ = _FAMILIES.get("@".join(parts[:2]), (None, 0))
    return parts[index] if index is not None and index < len(parts) else ""


def channel_body(channel: str) -> int:
    """The wrapper body number the pushes of a channel string carry, by the table row its
    family names (``spot@public.aggre.deals.v3.api.pb@...`` -> 314); ``0`` for a channel that
    is in no row. A push whose body is another one is not that channel's (mexc-protocol.md
    §2.1; pitfalls #66)."""
    parts = channel.split("@", 2)
    return _FAMILIES.get("@".join(parts[:2]), (None, 0))[1]


def channel(name: str, venue_symbol: str, *params: str) -> str:
    """The channel string of our channel ``name`` for ``venue_symbol`` (parameters in the row's
    order, defaults for the rest; kline intervals also in our spelling, ``1m``). Raises
    ``ValueError`` for an unknown channel or a parameter outside its choices."""
    row = TABLE.get(name)
    if row is None:
        raise ValueError(f"mexc spot: unknown channel {name!r}")
    if name == "kline" and params:
        params = (KLINE_INTERVALS_REVERSE.get(params[0], params[0]), *params[1:])
    values = tuple(str(p) for p in params) + row.defaults()[len(params):]
    return TABLE.channel(row, venue_symbol, values)


class ChannelBodies(dict):
    """``channel string -> body number`` (:func:`channel_body`), filled on first use (at most
    ``LIMIT`` channels kept). A push is handled only when ``bodies[push.channel]`` is its body
    number; otherwise :meth:`wrong` says what to count: ``unknown_channel`` (a channel in no
    row, or none) or ``channel_mismatch`` (the channel's row carries another body, e.g. deals on
    a kline channel): such a push is never handled as its body's channel."""

    LIMIT = 4096

    def __missing__(self, channel: str) -> int:
        if len(self) >= self.LIMIT:
            self.clear()
        number = self[channel] = channel_body(channel)
        return number

    def wrong(self, channel: str) -> str:
        """The kind to count for a push on ``channel`` whose body is not that channel's."""
        return "unknown_channel" if self[channel] == 0 else "channel_mismatch"
