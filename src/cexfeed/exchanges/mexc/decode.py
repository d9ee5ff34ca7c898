"""Binary push frame -> :class:`Push` ``(number, symbol, ts, body)``, on the protobuf runtime (upb).

This is the reference decoder. The optional compiled module ``_fastpb`` (C, built by
``setup.py`` when a compiler is present) implements the same :func:`decode_push` for the hot
bodies and is tested to return exactly the same values; :data:`decode_push` is the compiled one
when it is importable (unless ``CEXFEED_MEXC_DECODER=upb``).

``decode_push(raw)`` returns a :class:`Push`:

- ``number``: the wrapper's body field number (mexc-protocol.md §2.1, 301-315); for a frame
  with no known body, the number of an unknown field >= 300 if one is present (a body added by
  the venue after our schema), else ``0`` (not a push wrapper, e.g. a body decoded as the wrong
  type);
- ``symbol``: wrapper ``symbol`` (``""`` when absent);
- ``ts``: wrapper ``sendTime``, else ``createTime``, else ``0`` (ms);
- ``body`` for the hot bodies (values read by the rules of :mod:`cexfeed.wire`; an absent
  string field is ``0.0`` for a size and ``0`` for a version):

  - 313 aggre depth, 303 limit depth: :class:`DepthBody` with levels ``[(price, qty), ...]``
    in frame order (limit depth: ``from == to == version``);
  - 314 aggre deals: :class:`DealsBody`, the good :class:`Deal` items and the count of deals
    left out because a value breaks the rules (one bad deal does not drop the others);
  - 315 aggre book ticker: :class:`BookTickerBody`;
  - 308 kline: :class:`KlineBody`;

  for every other body the upb sub-message (the compiled decoder returns ``None`` - or, for
  a frame it hands to upb whole, the upb sub-message - and the caller parses those with
  :func:`parse_wrapper`).

Raises ``google.protobuf.message.DecodeError`` or ``ValueError`` on a malformed frame (bad
wire data, invalid UTF-8, a number or version that breaks the value rules outside a deal).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, NamedTuple

from google.protobuf import unknown_fields

from ... import wire
from .proto.push_pb2 import PushDataV3ApiWrapper
from .protocol import BODY_NAMES, BODY_NUMBERS

_from_string = PushDataV3ApiWrapper.FromString

Level = tuple[float, float]


class Push(NamedTuple):
    """One decoded push frame (see the module docstring)."""

    number: int
    symbol: str
    ts: int
    body: Any


class DepthBody(NamedTuple):
    """313 ``aggre.depth`` / 303 ``limit.depth``: levels ``(price quote ccy, qty base ccy)``,
    qty 0 removes the level; versions (limit depth: both the book's version)."""

    asks: list[Level]
    bids: list[Level]
    from_version: int
    to_version: int


class Deal(NamedTuple):
    """One deal: ``trade_type`` 1 buy / 2 sell (taker side, other values kept for the handler
    to refuse), ``time_ms`` ms, ``trade_id`` ``""`` when the venue sent none."""

    price: float
    qty: float
    trade_type: int
    time_ms: int
    trade_id: str


class DealsBody(NamedTuple):
    """314 ``aggre.deals`` (and 301 ``deals``): the good deals and how many were left out."""

    deals: list[Deal]
    bad: int


class BookTickerBody(NamedTuple):
    """315 ``aggre.bookTicker``: an absent side is ``0.0`` / ``0.0``; ``version`` 0 when absent."""

    bid_price: float
    bid_qty: float
    ask_price: float
    ask_qty: float
    version: int


def parse_wrapper(raw: bytes) -> PushDataV3ApiWrapper:
    """The whole wrapper as a upb message. Raises ``DecodeError`` on bad wire data."""
    return _from_string(raw)


# -- proto3 string fields through the value rules of cexfeed.wire ("" = field absent) -----------
def size_or_zero(text: str) -> float:
    """A size, an absent side or quantity ``0.0``. Raises ``ValueError`` (wire.size)."""
    return wire.size(text) if text else 0.0


def opt_size(text: str) -> float | None:
    """A size, ``None`` when absent. Raises ``ValueError`` (wire.size)."""
    return wire.size(text) if text else None


def opt_price(text: str) -> float | None:
    """A price, ``None`` when absent. Raises ``ValueError`` (wire.price)."""
    return wire.price(text) if text else None


def opt_signed(text: str) -> float | None:
    """A rate (may be negative), ``None`` when absent. Raises ``ValueError`` (wire.signed)."""
    return wire.signed(text) if text else None


def version(text: str) -> int:
    """A version string, ``0`` when absent. Raises ``ValueError`` (wire.seq_id)."""
    return wire.seq_id(text) if text else 0


def levels(items) -> list[Level]:
    """Repeated ``{price, quantity}`` items as ``[(price, size)]``. Raises ``ValueError`` for
    an impossible price or size (the whole book push is malformed then)."""
    price = wire.price
    return [(price(i.price), size_or_zero(i.quantity)) for i in items]


def each(items: Iterable, convert: Callable) -> tuple[list, int]:
    """``convert(item)`` of every item of a multi-item body, and how many items it refused
    (``ValueError``): one bad item is left out and counted, the others are kept."""
    out = []
    bad = 0
    for item in items:
        try:
            out.append(convert(item))
        except ValueError:
            bad += 1
    return out, bad


def _deal(d) -> Deal:
    return Deal(wire.price(d.price), size_or_zero(d.quantity), d.tradeType, wire.millis(d.time), getattr(d, "tradeId", ""))


def deals_body(deals) -> DealsBody:
    """Repeated deal items (314 with ``tradeId``, 301 without) as a :class:`DealsBody`."""
    return DealsBody(*each(deals, _deal))


def book_ticker(b, version_text: str = "") -> BookTickerBody:
    """A book ticker item (315, 305, an item of 311). Raises ``ValueError``."""
    return BookTickerBody(size_or_zero(b.bidPrice), size_or_zero(b.bidQuantity), size_or_zero(b.askPrice), size_or_zero(b.askQuantity), version(version_text))


class KlineBody(NamedTuple):
    """308 ``kline``: ``interval`` the venue's name (``Min1`` ...), ``open_ts`` the window start
    in ms (``windowStart`` s x 1000), prices quote currency, ``volume`` base (the venue's
    ``volume``) and ``quote_volume`` quote (``amount``), ``None`` when absent."""

    interval: str
    open_ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float | None
    quote_volume: float | None


def kline(k) -> KlineBody:
    """A kline body through the value rules. Raises ``ValueError``."""
    price = wire.price
    return KlineBody(
        k.interval, wire.seconds(k.windowStart) * 1000, price(k.openingPrice), price(k.highestPrice), price(k.lowestPrice), price(k.closingPrice),
        opt_size(k.volume), opt_size(k.amount),
    )


def _aggre_depth(b) -> DepthBody:
    return DepthBody(levels(b.asks), levels(b.bids), version(b.fromVersion), version(b.toVersion))


def depth_at_version(b) -> DepthBody:
    """A depth body with one ``version`` (303 limit depth, 302 increase depth and the items of
    312) as a :class:`DepthBody` with ``from == to == version``. Raises ``ValueError``."""
    v = version(b.version)
    return DepthBody(levels(b.asks), levels(b.bids), v, v)


class MiniTickerBody(NamedTuple):
    """309 ``miniTicker`` / an item of 310: prices quote currency, ``base_volume`` (the venue's
    ``quantity``) base, ``quote_volume`` (``volume``) quote, ``change_pct`` percent (from
    ``zonedRate``, else ``rate``); ``None`` when absent."""

    symbol: str
    last: float | None
    high: float | None
    low: float | None
    base_volume: float | None
    quote_volume: float | None
    change_pct: float | None


def mini_ticker(t) -> MiniTickerBody:
    """A mini ticker (item) through the value rules. Raises ``ValueError``."""
    rate = opt_signed(t.zonedRate or t.rate)
    return MiniTickerBody(
        t.symbol, opt_price(t.price), opt_price(t.high), opt_price(t.low), opt_size(t.quantity), opt_size(t.volume), None if rate is None else rate * 100.0
    )


def _aggre_book_ticker(b) -> BookTickerBody:
    return book_ticker(b, b.version)


# oneof name -> (number, extractor or None for "hand back the upb message")
_BODIES = {name: (number, None) for name, number in BODY_NUMBERS.items()}
_BODIES["publicAggreDepths"] = (313, _aggre_depth)
_BODIES["publicLimitDepths"] = (303, depth_at_version)
_BODIES["publicAggreDeals"] = (314, lambda b: deals_body(b.deals))
_BODIES["publicAggreBookTicker"] = (315, _aggre_book_ticker)
_BODIES["publicSpotKline"] = (308, kline)


def unknown_body_number(message: PushDataV3ApiWrapper) -> int:
    """Number of the first unknown field >= 300 of a wrapper (a body our schema lacks), else 0.
    Raises ``ValueError`` when that number is one of our bodies: the body came with the wrong
    wire type, which makes the frame malformed, not new."""
    for field in unknown_fields.UnknownFieldSet(message):
        if field.field_number >= 300:
            if field.field_number in BODY_NAMES:
                raise ValueError(f"body field {field.field_number} with wire type {field.wire_type}")
            return field.field_number
    return 0


def decode_push_upb(raw: bytes) -> Push:
    """See the module docstring."""
    m = _from_string(raw)
    name = m.WhichOneof("body")
    if name is None:
        return Push(unknown_body_number(m), m.symbol, m.sendTime or m.createTime, None)
    number, extract = _BODIES[name]
    body = getattr(m, name)
    return Push(number, m.symbol, m.sendTime or m.createTime, extract(body) if extract is not None else body)


def classify_bad_frame(raw: bytes) -> str:
    """Why a frame failed to decode: ``truncated`` when a top-level field runs past the end
    of the frame (cut off in transit or by a buffer), else ``malformed``. Error path only."""
    n = len(raw)
    pos = 0
    try:
        while pos < n:
            key, pos = _varint(raw, pos, n)
            wire = key & 7
            if wire == 0:
                _, pos = _varint(raw, pos, n)
            elif wire == 2:
                length, pos = _varint(raw, pos, n)
                pos += length
                if pos > n:
                    return "truncated"
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            else:
                return "malformed"
            if pos > n:
                return "truncated"
    except _Truncated:
        return "truncated"
    except ValueError:
        return "malformed"
    return "malformed"


class _Truncated(Exception):
    pass


def _varint(raw: bytes, pos: int, n: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        if pos >= n:
            raise _Truncated
        b = raw[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


try:  # the optional compiled decoder
    if os.environ.get("CEXFEED_MEXC_DECODER", "").lower() == "upb":
        raise ImportError("upb decoder forced by CEXFEED_MEXC_DECODER")
    from . import _fastpb  # type: ignore[attr-defined]
except ImportError:
    _fastpb = None
    decode_push_compiled = None
else:
    # its result types, and the decoder of the frames it hands over (two oneof bodies)
    _fastpb.set_types(Push, DepthBody, Deal, DealsBody, BookTickerBody, KlineBody, decode_push_upb)
    decode_push_compiled = _fastpb.decode_push

#: The decoder in use: compiled when available, else upb.
decode_push = decode_push_compiled if decode_push_compiled is not None else decode_push_upb
COMPILED = decode_push_compiled is not None
