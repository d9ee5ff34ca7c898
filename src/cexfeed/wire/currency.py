"""The value rule of an account currency code (a balance's currency, a fee's currency): what a
venue's code may look like, the typed msgspec annotations and the plain converters (see
:mod:`cexfeed.wire` for the rules; import these names from there).

A currency code is the venue's text upper-cased: ASCII letters and digits only, 1 to
:data:`MAX_CURRENCY` of them, with at least one letter, and not digits followed by an exponent
(``1E300`` reads as a number). What the venues send: gateio-protocol.md §8.4 and §9.4
``currency`` (lower case on futures, ``btc``), §8.1 and §8.3 ``fee_currency``; mexc-protocol.md
§2.3 ``vcoinName`` (``USDT``) and ``feeCurrency`` (``MX``). What they list: Gate's spot pairs
(``captures/gateio/GATEIO.0``) name 845 codes of 2 to 8 characters, all ASCII letters and
digits, four starting with a digit (``1INCH``, ``1INCH3L``, ``1INCH3S``, ``88MPH``), none of
digits only; its contracts (``GATEIO_FUTURES.0``) the same (``1INCH``, ``MBABYDOGE``). A code of
digits only (``00012``, ``12``) or with any other character (``.5``, ``-0``, ``U:DT``,
``USDT]``, `` 5``, full-width ``１２``, ``١``) is what a damaged number or text looks like, not a
venue's code. The bound of 32 leaves room for long meme-coin tickers and keeps a damaged text
out. Gate lists two futures contracts with CJK names (``币安人生_USDT``, gateio-protocol.md §7
contract naming) that its WebSocket refuses; a balance in such a coin is refused by this rule.

A push whose required currency (a balance's) breaks the rule is malformed: counted, logged
once, never applied. An optional one (a fee's currency) that is given and breaks the rule makes
its item malformed too (a fill or order with a damaged fee currency is not kept with the field
dropped); given as ``""`` or not at all, it is ``None`` (no fee currency). A REST snapshot body
with one breaks the body (``ValueError``, as any value outside its rule there).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from msgspec import Meta

#: the longest currency code (characters)
MAX_CURRENCY = 32
#: a currency code as the venue writes it (either case): see the module docstring
CURRENCY = re.compile(r"\A(?![0-9]+(?:[eE][0-9]+)?\Z)[A-Za-z0-9]{1,%d}\Z" % MAX_CURRENCY)
#: a currency code or ``""`` (an optional code the venue sent empty)
CURRENCY_OR_EMPTY = re.compile(r"\A(?:(?![0-9]+(?:[eE][0-9]+)?\Z)[A-Za-z0-9]{1,%d})?\Z" % MAX_CURRENCY)

# -- typed decode (msgspec; the normalizers upper-case the text) -----------------------------------
#: a required currency code (a balance's)
Currency = Annotated[str, Meta(pattern=CURRENCY.pattern)]
#: an optional currency code (a fee's): ``""`` means none
CurrencyOrEmpty = Annotated[str, Meta(pattern=CURRENCY_OR_EMPTY.pattern)]


# -- plain converters (MEXC protobuf strings, REST bodies read by hand) ----------------------------
def currency(value: Any) -> str:
    """A required currency code, upper case (``"btc"`` -> ``"BTC"``). Raises ``ValueError`` for
    anything that is not a code by the rule (see the module docstring), ``""`` and non-``str``
    included."""
    if value.__class__ is str and CURRENCY.match(value) is not None:
        return value.upper()
    raise ValueError(f"not a currency code: {value!r:.40}")


def optional_currency(value: Any) -> str | None:
    """An optional currency code: ``None`` for ``None`` or ``""`` (not given), else
    :func:`currency`. Raises ``ValueError``."""
    if value is None or value == "":
        return None
    return currency(value)
