"""The value rules: what a venue number, size, id, name or time may look like, and its bounds.

One module, used by every path that reads venue data: the typed msgspec decoders of the direct
handlers (the ``Annotated`` types below), the compat strategies, the REST snapshot decoders and the
MEXC protobuf readers (the plain converters below), and the compiled readers (their constants are
checked against this module by ``tests/test_value_rules.py``).

Grammar: a venue number is JSON number text (RFC 8259 §6), as a string or as a bare JSON number:
an optional ``-``, no leading zeros, no ``+``, no leading or trailing ``.``, no spaces, no ``_``,
ASCII digits only, an optional exponent. msgspec's lax string-to-number conversion accepts exactly
this grammar (plus ``nan``/``inf``, which every bound below rejects); the plain converters accept
the same text through :data:`NUMBER`, and a test holds the two to each other. ``true``/``false``
are never numbers.

Bounds: a price is in (0, 1e300) and a size in [0, 1e300) (0 removes a book level); a signed
quantity or rate has magnitude below 1e300 (``-0`` reads as ``0.0``); a sequence id or version is
an integer in [0, 2**63 - 1] (ids beyond int64 cannot be ordered by the compiled book); a name is
never empty. A value outside its bounds makes the item malformed: counted and skipped, never
published.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from msgspec import Meta

#: magnitude bound of every venue number (prices, sizes, rates)
MAX_VALUE = 1e300
#: venue times since the epoch, before the year 5138 (so that s * 1000 stays an exact ms count)
MAX_SECONDS = 10**11
MAX_MILLIS = 10**14
#: the largest sequence id / version (int64)
MAX_SEQ = 2**63 - 1
#: any venue time is below this many ns (year 2286 in ns, year 5138 in s)
MAX_TIME = 10**19

#: JSON number text (RFC 8259 §6): the one grammar of a venue number
NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
#: an unsigned decimal integer without leading zeros: ids and versions sent as text
INTEGER = re.compile(r"0|[1-9][0-9]*")

# -- typed decode (msgspec, lax: numeric strings become numbers) -----------------------------------
Price = Annotated[float, Meta(gt=0, lt=MAX_VALUE)]
Size = Annotated[float, Meta(ge=0, lt=MAX_VALUE)]
Signed = Annotated[float, Meta(gt=-MAX_VALUE, lt=MAX_VALUE)]
Side = Literal["buy", "sell"]
SeqId = Annotated[int, Meta(ge=0, le=MAX_SEQ)]
Seconds = Annotated[int, Meta(ge=0, lt=MAX_SECONDS)]
Millis = Annotated[int, Meta(ge=0, lt=MAX_MILLIS)]
# ms sent with a fraction (Gate spot trades: "create_time_ms": "1700000000123.456")
FractionalMillis = Annotated[float, Meta(ge=0, lt=float(MAX_MILLIS))]
# a pair / contract name: never empty
Name = Annotated[str, Meta(min_length=1)]
#: a venue time in s, ms, µs or ns (told apart by magnitude, see :func:`to_ms`); integers stay
#: exact, text with a fraction becomes a float
Time = Union[Annotated[int, Meta(ge=0, lt=MAX_TIME)], Annotated[float, Meta(ge=0, lt=float(MAX_TIME))]]


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


def seq_id(value: Any) -> int:
    """A sequence id or version in [0, 2**63 - 1]: an ``int`` (never ``bool``), integer text, or
    a number (text or float) whose value is integral and at most 2**53 in magnitude (``"1.0"``,
    ``"1e3"``: the integers a float holds exactly, as msgspec's lax decode reads them). Raises
    ``ValueError`` otherwise."""
    cls = value.__class__
    if cls is int:
        x = value
    elif cls is str:
        if INTEGER.fullmatch(value.removeprefix("-")) is not None:
            x = int(value)
        elif NUMBER.fullmatch(value) is not None:
            x = _integral(float(value), value)
        else:
            raise ValueError(f"not an id: {value[:40]!r}")
    elif cls is float:
        x = _integral(value, value)
    else:
        raise ValueError(f"not an id: {value!r}")
    if 0 <= x <= MAX_SEQ:
        return x
    raise ValueError(f"id out of bounds: {value!r}")


def _integral(x: float, value: Any) -> int:
    if x.is_integer() and -_EXACT <= x <= _EXACT:
        return int(x)
    raise ValueError(f"not an integral id: {value!r}")


_EXACT = 2.0**53


def seconds(value: Any) -> int:
    """A venue time in whole seconds, as an ``int`` or :data:`INTEGER` text, in [0, 10**11)."""
    x = seq_id(value)
    if x < MAX_SECONDS:
        return x
    raise ValueError(f"impossible time {value!r} s")


def millis(value: Any) -> int:
    """A venue time in whole ms, as an ``int`` or :data:`INTEGER` text, in [0, 10**14)."""
    x = seq_id(value)
    if x < MAX_MILLIS:
        return x
    raise ValueError(f"impossible time {value!r} ms")


def to_ms(value: Any) -> int | None:
    """A venue time in ms since the epoch, its unit told by its magnitude: below 10**11 seconds,
    below 10**14 milliseconds, below 10**17 microseconds, else nanoseconds (a time at most
    :data:`MAX_TIME`). ``0`` means the venue gave no time: ``None``. Accepts an ``int``, a
    ``float`` (seconds with a fraction) or number text (``"1700000000123.456"``); raises
    ``ValueError`` for anything else, a negative time or one past the bound."""
    cls = value.__class__
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


def flag(value: Any) -> bool:
    """A venue boolean as msgspec's lax decode reads it: ``true``/``false``, the integers 0 and 1,
    or the text ``true``/``false`` (any case), ``1``/``0``/``-0``. Raises ``ValueError`` otherwise."""
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


def side(value: Any) -> str:
    """``"buy"`` or ``"sell"``. Raises ``ValueError`` otherwise."""
    if value == "buy" or value == "sell":
        return value
    raise ValueError(f"unknown side {value!r}")
