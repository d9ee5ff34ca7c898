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
never empty; a time is in [0, 2**63) in any unit (s, ms, µs or ns, told apart by magnitude) and
becomes ms (:func:`to_ms`; 0 means not given). A value outside its bounds makes the item
malformed: counted and skipped, never published. A best bid/offer side is quoted only when its
price and size are both above 0 (:func:`quotes`); a trade side the venue added later is kept as
unknown (:func:`trade_side`), an own order's or fill's side too.

Account values (own orders, fills, balances, positions) are exact Decimals by the same grammar
and bound (:func:`amount`), each also by the rule of its kind (:class:`AmountKind`: ``signed``,
``nonzero``, ``positive``, ``unsigned``), which the field's type declares in the wire shapes; an
item with a value outside its rule is malformed (counted, skipped, never applied to an account).

An account currency code (a balance's currency, a fee's currency) is the venue's text
upper-cased, ASCII letters and digits only, 1 to 32 of them, at least one a letter, never number
text (:func:`currency`, :data:`Currency`; ``"btc"`` -> ``BTC``, ``1INCH``; never ``00012``,
``1E300``, ``U:DT``, ``１２``). A balance whose currency breaks it is malformed; a fee currency
that is given and breaks it makes its order or fill malformed too (``""`` or absent: ``None``).

The rules live in three modules, named together here: market data (:mod:`cexfeed.wire.numbers`),
account values (:mod:`cexfeed.wire.amounts`) and currency codes (:mod:`cexfeed.wire.currency`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from .amounts import (
    EXACT,
    MAX_AMOUNT,
    MAX_CONTRACTS,
    MAX_DIGITS,
    MAX_EXPONENT_DIGITS,
    NO_NEGATIVE,
    NO_ZERO,
    NONZERO,
    POSITIVE,
    SIGNED,
    UNSIGNED,
    AccountItem,
    Amount,
    AmountKind,
    NonZeroAmount,
    PositiveAmount,
    UnsignedAmount,
    amount,
    amount_kind,
    amount_kinds,
    check_amounts,
    check_contracts,
    convert_amounts,
    optional_amount,
    py_amounts_plain,
    untyped_amounts,
)
from .currency import (
    CURRENCY,
    CURRENCY_OR_EMPTY,
    MAX_CURRENCY,
    Currency,
    CurrencyOrEmpty,
    currency,
    optional_currency,
)
from .numbers import (
    INTEGER,
    MAX_MILLIS,
    MAX_SECONDS,
    MAX_SEQ,
    MAX_TIME,
    MAX_VALUE,
    NUMBER,
    UNKNOWN_SIDE,
    Integer,
    Name,
    Price,
    QuoteValue,
    SeqId,
    Signed,
    Size,
    Time,
    check_candle,
    flag,
    integer,
    name,
    number,
    price,
    quote_value,
    quotes,
    seq_id,
    signed,
    size,
    to_ms,
    trade_side,
)


def decode_amounts(raw: bytes | str, decoder: "msgspec.json.Decoder", struct: type) -> Any:
    """Decode a body holding account values by the one grammar: ``decoder`` (a lax typed
    decoder of ``struct`` or ``list[struct]``) when :func:`amounts_plain` says it reads every
    number right, else :func:`convert_amounts` over the untyped body. Raises ``ValueError`` or
    ``msgspec`` errors on a bad body."""
    if amounts_plain(raw):
        return decoder.decode(raw)
    return convert_amounts(untyped_amounts.decode(raw), struct)


try:  # the compiled twin of py_amounts_plain (tests/test_value_rules.py compares them)
    from .._amounts import amounts_plain
except ImportError:  # pragma: no cover - no compiler, or CEXFEED_PURE_PYTHON
    amounts_plain = py_amounts_plain


__all__ = [
    "EXACT", "MAX_AMOUNT", "MAX_CONTRACTS", "MAX_DIGITS", "MAX_EXPONENT_DIGITS", "NO_NEGATIVE", "NO_ZERO", "NONZERO", "POSITIVE", "SIGNED",
    "UNSIGNED", "AccountItem", "Amount", "AmountKind", "NonZeroAmount", "PositiveAmount", "UnsignedAmount", "amount",
    "amount_kind", "amount_kinds", "check_amounts", "check_contracts", "convert_amounts", "optional_amount", "py_amounts_plain", "untyped_amounts",
    "INTEGER", "MAX_MILLIS", "MAX_SECONDS", "MAX_SEQ", "MAX_TIME", "MAX_VALUE", "NUMBER", "UNKNOWN_SIDE", "Integer", "Name",
    "Price", "QuoteValue", "SeqId", "Signed", "Size", "Time", "check_candle", "flag", "integer", "name", "number", "price", "quote_value",
    "quotes", "seq_id", "signed", "size", "to_ms", "trade_side", "amounts_plain", "decode_amounts",
    "CURRENCY", "CURRENCY_OR_EMPTY", "MAX_CURRENCY", "Currency", "CurrencyOrEmpty", "currency", "optional_currency",
]
