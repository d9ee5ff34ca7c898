"""The value rules of account values: exact Decimals by the one grammar and bound
(:func:`amount`), the kind of each field (:class:`AmountKind`) and its check, and the reading of
account frames and bodies by those rules (:func:`py_amounts_plain`, :func:`convert_amounts`;
see :mod:`cexfeed.wire`, which names all of them)."""

from __future__ import annotations

import re
import types
from decimal import Context, Decimal, Inexact
from typing import Annotated, Any, NamedTuple, Union, get_args, get_origin, get_type_hints

import msgspec

from .numbers import NUMBER

# -- account values: exact decimals ---------------------------------------------------------------
#: an account value (money, order and position quantities, fees, prices of own orders and fills):
#: ``decimal.Decimal``. In a typed msgspec decode a JSON number becomes a Decimal read from its own
#: text (``0.1`` stays ``Decimal("0.1")``); a numeric string goes through ``Decimal()``, whose
#: syntax is wider than the one grammar (``"1_000"``, ``" 5"``, ``"NaN"``), so every decoder of
#: account frames checks the raw frame with :func:`amounts_plain` and falls back to
#: :func:`convert_amounts` when it says no (see :func:`decode_amounts`).
Amount = Decimal
#: magnitude bound of every account value (as :data:`MAX_VALUE` for market data)
MAX_AMOUNT = Decimal("1e300")
#: arithmetic on account values that never rounds (``EXACT.subtract(a, b)``,
#: ``EXACT.multiply(contracts, multiplier)``): enough digits for any two bounded values, and a
#: result that would need rounding raises ``decimal.Inexact`` instead
EXACT = Context(prec=2000, Emax=10**6, Emin=-(10**6), traps=[Inexact])


def amount(value: Any) -> Decimal:
    """An account value as an exact Decimal: JSON number text (:data:`NUMBER`), an ``int``, or a
    Decimal already read from a JSON number's text (``msgspec.json.decode(..., float_hook=Decimal)``).
    Raises ``ValueError`` for anything else (``"1_000"``, ``" 5"``, ``"+1"``, ``"NaN"``, other
    scripts' digits, ``True``), for a ``float`` (it has lost the venue's text) and for a
    magnitude of 1e300 or more. A zero with a minus sign is zero (``"-0.0"`` -> ``0.0``), as
    ``-0`` reads as ``0.0`` for market data."""
    cls = value.__class__
    if cls is str:
        if NUMBER.fullmatch(value) is None:
            raise ValueError(f"not a venue number: {value[:40]!r}")
        d = Decimal(value)
    elif cls is Decimal:
        d = value
        if not d.is_finite():
            raise ValueError(f"not a venue number: {value!r}")
    elif cls is int:
        d = Decimal(value)
    elif cls is float:
        raise ValueError(f"a float has lost the venue's text: {value!r} (decode with float_hook=Decimal)")
    else:
        raise ValueError(f"not a venue number: {value!r}")
    if -MAX_AMOUNT < d < MAX_AMOUNT:
        return d if d or not d.is_signed() else d.copy_abs()
    raise ValueError(f"venue number out of bounds: {value!r}")


def optional_amount(value: Any) -> Decimal | None:
    """:func:`amount`, with ``None`` (field absent or JSON ``null``) kept as ``None``."""
    return None if value is None else amount(value)


#: magnitude bound of a futures contract count (an order's size and what is left, a fill's size,
#: a position's size): Gate keeps contract counts as signed 64-bit integers (gateio-protocol.md
#: §5.1; the decimal-size header of §5.2 adds a fraction, not range), so a count of 2**63 or more
#: (``9223372036854775808``, ``"1e30"``) is no count the venue holds
MAX_CONTRACTS = Decimal(2**63)


def check_contracts(name: str, value: Decimal | None, whole: bool = False) -> None:
    """Raise ``ValueError`` when the contract count ``value`` of field ``name`` is at or beyond
    :data:`MAX_CONTRACTS` in magnitude, or, with ``whole`` (the contract's instrument trades
    whole contracts only: Gate's contract info without ``enable_decimal: true``,
    gateio-protocol.md §5.2, §7.1), when it has a fraction (``1.5``; ``1.0`` is whole);
    ``None`` (not given) passes."""
    if value is None:
        return
    if not -MAX_CONTRACTS < value < MAX_CONTRACTS:
        raise ValueError(f"impossible {name} {value}: beyond the contract count bound")
    if whole and value != value.to_integral_value():
        # a venue without the decimal-size flag on the contract counts whole contracts only
        raise ValueError(f"impossible {name} {value}: a fraction of a contract that trades whole contracts only")


# -- account value kinds: the sign an account value may have ----------------------------------------
class AmountKind(NamedTuple):
    """What an account value may be beyond :func:`amount`'s grammar and bounds, by the kind of
    field it is (a struct or NamedTuple field declares its kind by its type, one of the
    ``Annotated`` kinds below; a plain :data:`Amount` is :data:`SIGNED`). ``code``: bit
    :data:`NO_NEGATIVE`, bit :data:`NO_ZERO` (the compiled readers take the code)."""

    name: str
    code: int

    def allows(self, value: Decimal) -> bool:
        code = self.code
        return not ((code & NO_NEGATIVE and value < 0) or (code & NO_ZERO and not value))


NO_NEGATIVE = 1
NO_ZERO = 2
#: any sign: a fee (a rebate is negative), pnl, a balance change, a futures order or position
#: size (its sign is the side; gateio-protocol.md §7.1, §9.1, §9.3)
SIGNED = AmountKind("signed", 0)
#: any sign but never 0: a futures fill's size (§9.2: its sign is the side)
NONZERO = AmountKind("nonzero", NO_ZERO)
#: above 0: an order's size, a fill's amount and price
POSITIVE = AmountKind("positive", NO_NEGATIVE | NO_ZERO)
#: 0 or above: a balance (total, available, frozen), what an order filled or has left, margin,
#: leverage, and a price whose 0 means "none" (a market order's price, the average price of an
#: order with nothing filled: the event carries ``None`` for it, never 0)
UNSIGNED = AmountKind("unsigned", NO_NEGATIVE)
PositiveAmount = Annotated[Decimal, POSITIVE]
UnsignedAmount = Annotated[Decimal, UNSIGNED]
NonZeroAmount = Annotated[Decimal, NONZERO]


def amount_kind(tp: Any) -> AmountKind | None:
    """The kind a field's type declares (``K`` or ``K | None`` of a kind above; :data:`SIGNED`
    for a plain :data:`Amount`), ``None`` for a field that holds no account value."""
    for t in get_args(tp) if get_origin(tp) in (Union, types.UnionType) else (tp,):
        if t is Decimal:
            return SIGNED
        if get_origin(t) is Annotated and get_args(t)[0] is Decimal:
            return next((m for m in t.__metadata__ if m.__class__ is AmountKind), SIGNED)
    return None


def amount_kinds(cls: type) -> tuple[tuple[str, AmountKind], ...]:
    """``(field name, kind)`` of each field of a msgspec struct or a NamedTuple whose kind
    restricts its sign (:data:`SIGNED` fields left out)."""
    if issubclass(cls, msgspec.Struct):
        typed = {f.name: f.type for f in msgspec.structs.fields(cls)}
    else:
        typed = get_type_hints(cls, include_extras=True)
    return tuple((name, kind) for name, tp in typed.items() if (kind := amount_kind(tp)) is not None and kind.code)


def check_amounts(item: Any) -> None:
    """Raise ``ValueError`` when an account value of ``item`` (a struct or NamedTuple whose
    fields declare their kinds) is outside its kind's rule, naming the field and the value;
    ``None`` (not given) always passes."""
    _CHECKS[item.__class__](item)


class _Checks(dict):
    """class -> its check (:func:`_checker`), made when first asked for."""

    def __missing__(self, cls: type) -> Any:
        check = self[cls] = _checker(cls)
        return check


_CHECKS = _Checks()
_ZERO = Decimal(0)
#: a kind's rule as a test of a field's value ``v`` (the code of :meth:`AmountKind.allows`)
_BREAKS = {NONZERO.code: "not v", POSITIVE.code: "v <= _ZERO", UNSIGNED.code: "v < _ZERO"}


def _checker(cls: type) -> Any:
    """The check of :func:`check_amounts` for the items of ``cls``: each field of a restricted
    kind tested in turn, written out as plain Python once per class (it runs on every account
    item decoded)."""
    lines = ["def check(item):"]
    for name, kind in amount_kinds(cls):
        if not name.isidentifier():  # (field names of structs and NamedTuples always are)
            raise TypeError(f"not a field name: {name!r}")
        lines += [f"    v = item.{name}", f"    if v is not None and {_BREAKS[kind.code]}:", f"        _refuse({name!r}, v, {kind.name!r})"]
    lines.append("    return None")
    space = {"_ZERO": _ZERO, "_refuse": _refuse}
    exec("\n".join(lines), space)  # noqa: S102 - the source above, from field names and fixed tests
    return space["check"]


def _refuse(name: str, value: Decimal, kind: str) -> None:
    raise ValueError(f"impossible {name} {value}: an account value that is {kind}")


class AccountItem(msgspec.Struct):
    """Base of the wire shapes of account items: every account value is checked by its kind
    (:func:`check_amounts`) whenever one is decoded, converted or built, so every path that
    reads one (typed decode, the strict converter, REST bodies) applies the rules. A value
    outside its rule fails the item (``msgspec.ValidationError``)."""

    def __post_init__(self) -> None:
        _CHECKS[self.__class__](self)  # check_amounts(self)


#: untyped decode of account frames: JSON numbers with a fraction or exponent become Decimals read
#: from their text, never floats
untyped_amounts = msgspec.json.Decoder(float_hook=Decimal)


#: JSON number text (what a plain frame's numeric strings must be), as bytes
_PLAIN_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_EXPONENT = re.compile(rb"[eE]([+-]?)([0-9]*)$")
_MARKER = re.compile(rb"[eE]")
_STRING_OR_NUMBER = re.compile(rb'"([^"]*)("?)(:?)|[-0-9][-+0-9.eE]*')
_NUMBERISH = frozenset(b"0123456789+-._eE ")
#: first characters Decimal() may read a number from (digits, signs, ".", "_", a space, i/n/s);
#: other ASCII whitespace cannot appear unescaped in JSON text
_NUMBER_START = frozenset(b"0123456789+-._ iInNsS")
#: integer digits plus exponent of a number a plain frame may hold (below 1e300), and the
#: longest exponent it may write
MAX_DIGITS = 299
MAX_EXPONENT_DIGITS = 4


def _bounded(token: bytes) -> bool:
    """A number token's magnitude is below 1e300: its integer digits plus its exponent (at most
    4 exponent digits, and some) stay within :data:`MAX_DIGITS`."""
    head = re.split(rb"[.eE]", token, maxsplit=1)[0]
    digits = sum(1 for c in head if 48 <= c <= 57)
    marker = _MARKER.search(token)
    if marker is None:
        return digits <= MAX_DIGITS
    found = _EXPONENT.match(token, marker.start())
    if found is None or not 0 < len(found.group(2)) <= MAX_EXPONENT_DIGITS:
        return False
    exponent = int(found.group(2))
    return digits + (-exponent if found.group(1) == b"-" else exponent) <= MAX_DIGITS


#: the longest text with underscores :func:`_numberish` looks into (the compiled twin's buffer)
_UNDERSCORED_MAX = 32


def _numberish(text: bytes) -> bool:
    """What ``Decimal()`` might read as a number (a superset): after spaces, a sign, then
    ``inf``/``infinity``/``nan<digits>``/``snan<digits>`` (any case), or only digits, signs,
    ``.``, ``_``, ``e``/``E``, spaces and non-ASCII bytes (other scripts' digits) with at least
    one digit or non-ASCII byte. ``Decimal()`` drops underscores wherever they stand (``_inf``
    and ``n_an`` are Infinity and NaN to it), so the text is judged without them; one longer
    than :data:`_UNDERSCORED_MAX` without them counts whatever it is."""
    t = text.strip(b" ")
    if b"_" in t:
        t = t.replace(b"_", b"")
        if len(t) > _UNDERSCORED_MAX:
            return True
    if not t:
        return False
    low = (t[1:] if t[:1] in (b"+", b"-") else t).lower()
    if low in (b"inf", b"infinity"):
        return True
    for word in (b"nan", b"snan"):
        if low.startswith(word) and (len(low) == len(word) or low[len(word):].isdigit()):
            return True
    return all(c in _NUMBERISH or c >= 128 for c in t) and any(48 <= c <= 57 or c >= 128 for c in t)


def _negative_zero(token: bytes) -> bool:
    """A number token that is zero with a minus sign (``-0``, ``-0.00``, ``-0e5``): the typed
    decode keeps the sign of some of them, :func:`amount` reads every one as zero."""
    if token[:1] != b"-":
        return False
    mantissa = _MARKER.split(token[1:], maxsplit=1)[0]
    return bool(mantissa) and mantissa.strip(b"0.") == b"" and b"0" in mantissa


def py_amounts_plain(raw: bytes | str) -> bool:
    """Whether a typed Decimal decode of ``raw`` reads every account value by the one grammar
    and bounds (the pure-Python twin of the compiled ``cexfeed._amounts``). True when every
    string that ``Decimal()`` might read as a number is JSON number text, and every number
    (bare or in a string) is below 1e300 by its integer digits plus exponent (:func:`_bounded`)
    and no zero with a minus sign (:func:`_negative_zero`);
    False for anything unsure: an escape anywhere, a value string starting with a
    non-ASCII byte, an unterminated string. Only strings that may start a number are looked at
    (a digit, a sign, ``.``, ``_``, a space, i/n/s); object keys (a string followed by ``:``) are never
    account values. When False, decode with :func:`convert_amounts`, which
    checks each account value by :func:`amount`."""
    data = raw if raw.__class__ is bytes else (raw.encode() if isinstance(raw, str) else bytes(raw))
    if b"\\" in data:
        return False
    for m in _STRING_OR_NUMBER.finditer(data):
        content = m.group(1)
        if content is None:  # a bare number: its grammar is the JSON decoder's to check
            if not _bounded(m.group(0)) or _negative_zero(m.group(0)):
                return False
            continue
        if not m.group(2):
            return False
        if m.group(3) or not content:  # an object key, or an empty string
            continue
        if content[0] >= 128:
            return False
        if content[0] in _NUMBER_START and _numberish(content) and (_PLAIN_NUMBER.fullmatch(content) is None or not _bounded(content)
                                                                    or _negative_zero(content)):
            return False
    return True


def _amount_fields(struct: type) -> tuple[tuple[str, bool, Any], ...]:
    """``(encode name, optional, nested struct or None)`` of each Decimal field (of any kind)
    and each struct-typed field of a msgspec struct; ``(encode name, None, None)`` of each other
    field (a JSON number there is read as the float a typed decode reads)."""
    out = []
    for field in msgspec.structs.fields(struct):
        kinds = get_args(field.type) if get_origin(field.type) in (Union, types.UnionType) else (field.type,)
        nested = next((k for k in kinds if isinstance(k, type) and issubclass(k, msgspec.Struct)), None)
        if amount_kind(field.type) is not None:
            out.append((field.encode_name, type(None) in kinds, None))
        elif nested is not None:
            out.append((field.encode_name, True, nested))
        else:
            out.append((field.encode_name, None, None))
    return tuple(out)


_FIELDS: dict[type, tuple[tuple[str, bool, Any], ...]] = {}


def convert_amounts(items: Any, struct: type) -> Any:
    """Build ``struct`` instances from untyped items (a dict or a list of dicts, decoded with
    ``float_hook=Decimal``), every Decimal field checked by :func:`amount` first (nested struct
    fields too) and the other fields converted by msgspec's lax rules (a JSON number with a
    fraction or exponent there as its float, as a typed decode reads it). Raises ``ValueError`` (a
    value outside the grammar or bounds) or ``msgspec.ValidationError`` (a field that does not
    fit its type)."""
    fields = _FIELDS.get(struct)
    if fields is None:
        fields = _FIELDS[struct] = _amount_fields(struct)
    out = []
    for item in items if items.__class__ is list else (items,):
        if item.__class__ is not dict:
            raise msgspec.ValidationError(f"expected an object for {struct.__name__}, got {item.__class__.__name__}")
        item = dict(item)
        for name, optional, nested in fields:
            value = item.get(name)
            if nested is not None:
                if value.__class__ is dict:
                    item[name] = convert_amounts(value, nested)
            elif optional is None:
                if value.__class__ is Decimal:
                    # an id or time written 158e4 or 1.5: what a typed decode reads (its float)
                    item[name] = float(value)
            elif value is not None or name in item and not optional:
                item[name] = amount(value)
        out.append(msgspec.convert(item, struct, strict=False))
    return out if items.__class__ is list else out[0]
