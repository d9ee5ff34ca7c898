"""Binary push frame -> ``(body number, symbol, ts, body)``, on the protobuf runtime (upb).

This is the reference decoder. The optional compiled module ``_fastpb`` (C, built by
``setup.py`` when a compiler is present) implements the same :func:`decode_push` for the hot
bodies and is tested to return exactly the same values; :data:`decode_push` is the compiled one
when it is importable (unless ``CEXFEED_MEXC_DECODER=upb``).

Return value of ``decode_push(raw)``:

- ``number``: the wrapper's body field number (mexc-protocol.md §2.1, 301-315); for a frame
  with no known body, the number of an unknown field >= 300 if one is present (a body added by
  the venue after our schema), else ``0`` (not a push wrapper, e.g. a body decoded as the wrong
  type);
- ``symbol``: wrapper ``symbol`` (``""`` when absent);
- ``ts``: wrapper ``sendTime``, else ``createTime``, else ``0`` (ms);
- ``body`` for the hot bodies, plain tuples (decimal strings -> float, ``""`` -> ``0.0``;
  version strings -> int, ``""`` -> ``0``):

  - 313 aggre depth, 303 limit depth: ``(asks, bids, from_version, to_version)`` with levels
    ``[(price, qty), ...]`` in frame order (limit depth: ``from == to == version``);
  - 314 aggre deals: ``[(price, qty, trade_type, time_ms, trade_id), ...]``;
  - 315 aggre book ticker: ``(bid_price, bid_qty, ask_price, ask_qty, version)``;

  for every other body the upb sub-message (the compiled decoder returns ``None`` and the
  caller parses those with :func:`parse_wrapper`).

Raises ``google.protobuf.message.DecodeError`` or ``ValueError`` on a malformed frame (bad
wire data, invalid UTF-8, a number string that is not a number).
"""

from __future__ import annotations

import os

from google.protobuf import unknown_fields

from .proto.push_pb2 import PushDataV3ApiWrapper
from .protocol import BODY_NUMBERS

_from_string = PushDataV3ApiWrapper.FromString


def parse_wrapper(raw: bytes) -> PushDataV3ApiWrapper:
    """The whole wrapper as a upb message. Raises ``DecodeError`` on bad wire data."""
    return _from_string(raw)


# the bounds of cexfeed.wire: a price is in (0, 1e300), a size in [0, 1e300), a rate finite
_FINITE = 1e300

_PLAIN = "0123456789.+-eE"


def decimal(text: str) -> float:
    """A protobuf decimal-string field as a float. Only ``[0-9.+-eE]`` is a venue number: text
    ``float()`` would still take (``"1_000"``, ``" 5"``, ``"inf"``, other scripts' digits)
    raises ``ValueError``, as in the compiled decoder."""
    if text.strip(_PLAIN):
        raise ValueError(f"malformed: {text!r}")
    return float(text)


def num(text: str) -> float:
    """A price or quantity; an absent (empty) field is ``0.0``. Raises ``ValueError`` unless it
    is in [0, 1e300)."""
    x = decimal(text) if text else 0.0
    if 0.0 <= x < _FINITE:
        return x
    raise ValueError(f"malformed: {text!r}")


def price(text: str) -> float:
    """A price that must be there: raises ``ValueError`` unless it is in (0, 1e300) (an absent
    field included)."""
    x = decimal(text) if text else 0.0
    if 0.0 < x < _FINITE:
        return x
    raise ValueError(f"malformed: price {text!r}")


def num_or_none(text: str) -> float | None:
    """:func:`num`, with an absent (empty) field ``None``."""
    return num(text) if text else None


def price_or_none(text: str) -> float | None:
    """:func:`price`, with an absent (empty) field ``None``."""
    return price(text) if text else None


def signed_or_none(text: str) -> float | None:
    """A rate (may be negative), ``None`` when absent. Raises ``ValueError`` unless its size is
    below 1e300."""
    if not text:
        return None
    x = decimal(text)
    if -_FINITE < x < _FINITE:
        return x + 0.0  # "-0" is 0.0, not -0.0
    raise ValueError(f"malformed: {text!r}")


def seconds(value: int) -> int:
    """A venue time in s (kline windows); raises ``ValueError`` unless it is in [0, 10**11)
    (wire.Seconds)."""
    if 0 <= value < 10**11:
        return value
    raise ValueError(f"malformed: time {value} s")


def checked(price: float, size: float) -> tuple[float, float]:
    """``(price, size)`` when the price is in (0, 1e300) and the size in [0, 1e300) (the rules
    of :mod:`cexfeed.wire`); raises ``ValueError`` otherwise."""
    if 0.0 < price < _FINITE and 0.0 <= size < _FINITE:
        return price, size
    raise ValueError(f"malformed: price {price!r} / size {size!r}")


def levels(items) -> list[tuple[float, float]]:
    """Repeated ``{price, quantity}`` items as ``[(price, size)]`` floats. Raises ``ValueError``
    for an impossible price or size."""
    return [checked(decimal(i.price) if i.price else 0.0, decimal(i.quantity) if i.quantity else 0.0) for i in items]


def _aggre_depth(b):
    return (
        levels(b.asks),
        levels(b.bids),
        int(b.fromVersion) if b.fromVersion else 0,
        int(b.toVersion) if b.toVersion else 0,
    )


def _limit_depth(b):
    version = int(b.version) if b.version else 0
    return (levels(b.asks), levels(b.bids), version, version)


def _aggre_deals(b):
    out = []
    for d in b.deals:
        p, q = checked(decimal(d.price) if d.price else 0.0, decimal(d.quantity) if d.quantity else 0.0)
        out.append((p, q, d.tradeType, d.time, d.tradeId))
    return out


def side_value(text: str) -> float:
    """A book-ticker price or quantity: an absent side is ``0.0``; raises ``ValueError`` for a
    value outside [0, 1e300)."""
    value = decimal(text) if text else 0.0
    if 0.0 <= value < _FINITE:
        return value
    raise ValueError(f"malformed: book ticker value {text!r}")


def _aggre_book_ticker(b):
    return (
        side_value(b.bidPrice),
        side_value(b.bidQuantity),
        side_value(b.askPrice),
        side_value(b.askQuantity),
        int(b.version) if b.version else 0,
    )


# oneof name -> (number, extractor or None for "hand back the upb message")
_BODIES = {name: (number, None) for name, number in BODY_NUMBERS.items()}
_BODIES["publicAggreDepths"] = (313, _aggre_depth)
_BODIES["publicLimitDepths"] = (303, _limit_depth)
_BODIES["publicAggreDeals"] = (314, _aggre_deals)
_BODIES["publicAggreBookTicker"] = (315, _aggre_book_ticker)


def unknown_body_number(message: PushDataV3ApiWrapper) -> int:
    """Number of the first unknown field >= 300 of a wrapper (a body our schema lacks), else 0."""
    for field in unknown_fields.UnknownFieldSet(message):
        if field.field_number >= 300:
            return field.field_number
    return 0


def decode_push_upb(raw: bytes):
    """See the module docstring."""
    m = _from_string(raw)
    name = m.WhichOneof("body")
    if name is None:
        return unknown_body_number(m), m.symbol, m.sendTime or m.createTime, None
    number, extract = _BODIES[name]
    body = getattr(m, name)
    return number, m.symbol, m.sendTime or m.createTime, extract(body) if extract is not None else body


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
    from ._fastpb import decode_push as decode_push_compiled  # type: ignore[import-not-found]
except ImportError:
    decode_push_compiled = None

#: The decoder in use: compiled when available, else upb.
decode_push = decode_push_compiled if decode_push_compiled is not None else decode_push_upb
COMPILED = decode_push_compiled is not None
