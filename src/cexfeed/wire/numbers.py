"""The value rules of market data: the one grammar of a venue number, its bounds, the typed
msgspec annotations and the plain converters (see :mod:`cexfeed.wire` for the rules; import
these names from there)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from msgspec import Meta

#: magnitude bound of every venue number (prices, sizes, rates)
MAX_VALUE = 1e300
#: a venue time below MAX_SECONDS is in seconds, below MAX_MILLIS in ms, then µs, then ns
#: (:func:`to_ms`; 10**11 s is the year 5138, 10**14 ms the year 5138 too)
MAX_SECONDS = 10**11
MAX_MILLIS = 10**14
#: the largest sequence id / version (int64)
MAX_SEQ = 2**63 - 1
#: any venue time is below this (int64: year 2262 in ns, far beyond in the other units)
MAX_TIME = 2**63

#: JSON number text (RFC 8259 §6): the one grammar of a venue number
NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
#: an unsigned decimal integer without leading zeros: ids and versions sent as text
INTEGER = re.compile(r"0|[1-9][0-9]*")

# -- typed decode (msgspec, lax: numeric strings become numbers) -----------------------------------
Price = Annotated[float, Meta(gt=0, lt=MAX_VALUE)]
Size = Annotated[float, Meta(ge=0, lt=MAX_VALUE)]
Signed = Annotated[float, Meta(gt=-MAX_VALUE, lt=MAX_VALUE)]
SeqId = Annotated[int, Meta(ge=0, le=MAX_SEQ)]
Integer = Annotated[int, Meta(ge=-MAX_SEQ - 1, le=MAX_SEQ)]
# a pair / contract name: never empty
Name = Annotated[str, Meta(min_length=1)]
#: a venue time in s, ms, µs or ns (told apart by magnitude, see :func:`to_ms`); integers stay
#: exact, text with a fraction becomes a float; 0 means the venue gave none
Time = Union[Annotated[int, Meta(ge=0, le=MAX_TIME - 1)], Annotated[float, Meta(ge=0, lt=float(MAX_TIME))]]
#: one side of a best bid/offer, price or size: a number >= 0 or ``""``; a side is quoted only
#: when both its price and its size are above 0 (see :func:`quotes`)
QuoteValue = Union[Annotated[float, Meta(ge=0, lt=MAX_VALUE)], Literal[""]]


# -- plain converters (compat strategies, protobuf strings, REST bodies read by hand) --------------
def number(value: Any) -> float:
    """A venue number as a float: JSON number text, or a JSON number already decoded (``int`` or
    ``float``, never ``bool``). ``-0`` becomes ``0.0``. Raises ``ValueError`` for anything else
    (``"+1"``, ``"00012"``, ``" 5"``, ``"1_000"``, ``"nan"``, other scripts' digits, ``True``) and
    for a magnitude of 1e300 or more."""
    cls = value.__class__
    if cls is str:
        if NUMBER.fullmatch(value) is None:
            raise ValueError(f"not a venue number: {value[:40]!r}")
        x = float(value)
    elif cls is float or cls is int:
        x = float(value)
    else:
        raise ValueError(f"not a venue number: {value!r}")
    if -MAX_VALUE < x < MAX_VALUE:
        return x + 0.0
    raise ValueError(f"venue number out of bounds: {value!r}")


def price(value: Any) -> float:
    """A price (quote currency) in (0, 1e300). Raises ``ValueError`` otherwise (see :func:`number`)."""
    x = number(value)
    if x > 0.0:
        return x
    raise ValueError(f"impossible price {value!r}")


def size(value: Any) -> float:
    """A size in [0, 1e300). Raises ``ValueError`` otherwise (see :func:`number`)."""
    x = number(value)
    if x >= 0.0:
        return x
    raise ValueError(f"impossible size {value!r}")


def signed(value: Any) -> float:
    """A signed quantity or rate with magnitude below 1e300; ``-0`` is ``0.0``."""
    return number(value)


def integer(value: Any) -> int:
    """A signed integer in [-2**63, 2**63 - 1] (error codes, request ids): an ``int`` (never
    ``bool``), integer text, or a number (text or float) whose value is integral and at most
    2**53 in magnitude (``"1.0"``, ``"1e3"``: the integers a float holds exactly, as msgspec's
    lax decode reads them). Raises ``ValueError`` otherwise."""
    cls = value.__class__
    if cls is int:
        x = value
    elif cls is str:
        if INTEGER.fullmatch(value.removeprefix("-")) is not None:
            x = int(value)
        elif NUMBER.fullmatch(value) is not None:
            x = _integral(float(value), value)
        else:
            raise ValueError(f"not an integer: {value[:40]!r}")
    elif cls is float:
        x = _integral(value, value)
    else:
        raise ValueError(f"not an integer: {value!r}")
    if -MAX_SEQ - 1 <= x <= MAX_SEQ:
        return x
    raise ValueError(f"integer out of bounds: {value!r}")


def seq_id(value: Any) -> int:
    """A sequence id or version in [0, 2**63 - 1], read as :func:`integer`. Raises
    ``ValueError`` otherwise."""
    x = integer(value)
    if x >= 0:
        return x
    raise ValueError(f"negative id: {value!r}")


def _integral(x: float, value: Any) -> int:
    if x.is_integer() and -_EXACT <= x <= _EXACT:
        return int(x)
    raise ValueError(f"not an integral id: {value!r}")


_EXACT = 2.0**53


def to_ms(value: Any) -> int | None:
    """A venue time in ms since the epoch, its unit told by its magnitude: below 10**11 seconds,
    below 10**14 milliseconds, below 10**17 microseconds, else nanoseconds (a time below
    :data:`MAX_TIME`). ``0`` means the venue gave no time: ``None``. Accepts an ``int``, a
    ``float`` (seconds with a fraction) or number text (``"1700000000123.456"``); raises
    ``ValueError`` for anything else, a negative time or one past the bound. The one rule of
    every venue time on every path (the compiled readers follow it too). A ``Decimal`` (a JSON
    number with a fraction or exponent of an account frame, decoded exactly) is read as the
    float of its text, as a typed decode reads that number."""
    cls = value.__class__
    if cls is int:
        if MAX_SECONDS <= value < MAX_MILLIS:
            return value  # the usual case: ms
    elif cls is float and _SECONDS_F <= value < _MILLIS_F:
        return int(value)  # ms with a fraction: what the rule below gives too
    elif cls is Decimal:
        return to_ms(float(value))
    if cls is not int:
        if cls is str and INTEGER.fullmatch(value) is not None:
            value = int(value)
        else:
            value = number(value)
            if value.is_integer() and value < 2.0**53:
                value = int(value)
    if not 0 <= value < MAX_TIME:
        raise ValueError(f"impossible time {value!r}")
    if value.__class__ is int:
        if value < MAX_SECONDS:
            return value * 1000 or None
        if value < MAX_MILLIS:
            return value
        if value < MAX_MILLIS * 1000:
            return value // 1000
        return value // 1_000_000
    if value < MAX_SECONDS:
        return round(value * 1000) or None
    if value < MAX_MILLIS:
        return int(value)
    if value < MAX_MILLIS * 1000.0:
        return int(value / 1000)
    return int(value / 1_000_000)


# the bounds as floats: a float compares faster with a float than with an int
_SECONDS_F = float(MAX_SECONDS)
_MILLIS_F = float(MAX_MILLIS)


def quotes(bid_price: Any, bid_size: Any, ask_price: Any, ask_size: Any) -> tuple[Any, Any, Any, Any]:
    """A best bid/offer as the events carry it: each side ``(price, size)`` when both are above
    0, else ``(None, None)``: no quote on that side (an empty book side, ``""``, a price or size
    that reads as 0 such as ``"-0"`` or ``"1e-999"``, or a side the push left out). The values
    come already checked (:data:`QuoteValue`, :func:`quote_value`)."""
    if not (bid_price and bid_size):
        bid_price = bid_size = None
    if not (ask_price and ask_size):
        ask_price = ask_size = None
    return bid_price, bid_size, ask_price, ask_size


def quote_value(value: Any) -> float:
    """A best bid/offer price or size read as :data:`QuoteValue`: ``""`` is ``0.0`` (no quote),
    else a number >= 0 (:func:`size`). Raises ``ValueError`` otherwise."""
    if value == "" and value.__class__ is str:
        return 0.0
    return size(value)


def flag(value: Any) -> bool:
    """A venue boolean as msgspec's lax decode reads it: ``true``/``false``, the integers 0 and 1,
    or the text ``true``/``false`` (any case), ``1``/``0``/``-0``. Raises ``ValueError``
    otherwise."""
    cls = value.__class__
    if cls is bool:
        return value
    if cls is int and (value == 0 or value == 1):
        return value == 1
    if cls is str:
        text = value.lower()
        if text == "true" or text == "1":
            return True
        if text == "false" or text == "0" or text == "-0":
            return False
    raise ValueError(f"not a boolean: {value!r}")


def name(value: Any) -> str:
    """A pair / contract name: a non-empty ``str``. Raises ``ValueError`` otherwise."""
    if value.__class__ is str and value:
        return value
    raise ValueError(f"not a name: {value!r}")


def trade_side(value: Any) -> tuple[str, str | None]:
    """A trade's taker side and the venue's own value when it is not one we know:
    ``("buy", None)``, ``("sell", None)``, or ``("unknown", value)`` for a side the venue added
    later (the trade is kept, marked). Raises ``ValueError`` when ``value`` is no ``str``."""
    if value == "buy" or value == "sell":
        return value, None
    if value.__class__ is not str:
        raise ValueError(f"not a trade side: {value!r}")
    return UNKNOWN_SIDE, value


#: the side of a trade whose venue value we do not know (the value is kept in ``raw_side``)
UNKNOWN_SIDE = "unknown"
