"""Unified symbols <-> venue names, with instrument metadata.

Unified names follow the ccxt convention: ``BASE/QUOTE`` for spot, ``BASE/QUOTE:SETTLE`` for
perpetuals. Venue names are what the venue puts on the wire (Gate ``BTC_USDT``, MEXC
``BTCUSDT``). Maps are built from the venue's instrument list (Gate REST
``/api/v4/spot/currency_pairs``, ``/api/v4/futures/usdt/contracts``; MEXC ``/api/v3/exchangeInfo``).
"""

from __future__ import annotations

import difflib
import re
from typing import Callable, Iterable, Sequence

import msgspec


class Instrument(msgspec.Struct, kw_only=True):
    """One tradable instrument.

    ``price_precision``/``size_precision`` are decimal places; ``tick_size`` quote currency;
    ``size_step`` in the venue's order unit (base currency on spot, contracts on futures);
    ``contract_multiplier`` base currency per contract (``1.0`` on spot; ``None`` where a
    contract is no base quantity, e.g. Gate inverse contracts, where one contract is 1 USD);
    ``whole_contracts``: its sizes are whole numbers of contracts (a Gate contract whose info
    has no ``enable_decimal: true``), so a fractional count is malformed
    (:func:`cexfeed.wire.check_contracts`); False where no such rule is known (spot, a contract
    not listed).
    """

    symbol: str
    venue_symbol: str
    base: str
    quote: str
    market: str = "spot"
    settle: str | None = None
    price_precision: int | None = None
    size_precision: int | None = None
    tick_size: float | None = None
    size_step: float | None = None
    contract_multiplier: float | None = 1.0
    active: bool = True
    whole_contracts: bool = False


class _Names(dict):
    """venue symbol -> unified name, filled on first use through the fallback (unchanged
    without one)."""

    def __init__(self, fallback: Callable[[str], str] | None) -> None:
        super().__init__()
        self._fallback = fallback

    def __missing__(self, venue_symbol: str) -> str:
        name = self[venue_symbol] = self._fallback(venue_symbol) if self._fallback else venue_symbol
        return name


class SymbolMap:
    """Both directions between unified and venue names, plus :class:`Instrument` metadata.

    ``fallback`` turns an unknown venue name into a unified one (e.g. split ``BTC_USDT`` on
    ``_``) so a stream never stops for a symbol missing from the instrument list; such symbols
    carry no metadata. :meth:`to_venue` raises ``KeyError`` for an unknown unified name when no
    ``reverse_fallback`` is given.
    """

    def __init__(
        self,
        instruments: Iterable[Instrument] = (),
        fallback: Callable[[str], str] | None = None,
        reverse_fallback: Callable[[str], str] | None = None,
    ) -> None:
        self.by_venue: dict[str, Instrument] = {}
        self.by_unified: dict[str, Instrument] = {}
        self._unified_cache = _Names(fallback)
        self._fallback = fallback
        self._reverse_fallback = reverse_fallback
        for inst in instruments:
            self.add(inst)

    def add(self, inst: Instrument) -> None:
        self.by_venue[inst.venue_symbol] = inst
        self.by_unified[inst.symbol] = inst
        self._unified_cache[inst.venue_symbol] = inst.symbol

    def unified(self, venue_symbol: str) -> str:
        """Unified name of a venue symbol (cached; uses the fallback for unknown names)."""
        return self._unified_cache[venue_symbol]

    @property
    def lookup(self) -> Callable[[str], str]:
        """:meth:`unified` as the cache's own item lookup: the same names, one call less on a
        handler's hot path."""
        return self._unified_cache.__getitem__

    def to_venue(self, symbol: str) -> str:
        """Venue name of a unified symbol. Raises ``KeyError`` if unknown and no fallback."""
        inst = self.by_unified.get(symbol)
        if inst is not None:
            return inst.venue_symbol
        if self._reverse_fallback is None:
            raise KeyError(symbol)
        return self._reverse_fallback(symbol)

    def instrument(self, venue_symbol: str) -> Instrument | None:
        return self.by_venue.get(venue_symbol)

    def readable(self, venue_symbol: str) -> bool:
        """Whether ``venue_symbol`` names an instrument: one the list has, or one the venue's
        mapping (the fallback) turns into a unified symbol, ``BASE/QUOTE`` or
        ``BASE/QUOTE:SETTLE`` of upper-case letters and digits (the one form of a unified name,
        as :func:`resolve_symbols` asks it of a user). A name with a stray space, an empty part
        or a character of no symbol (``" ETH_USDT"``, ``"ETH USDT"``, ``"_USDT"``) is not: a
        handler without an instrument list counts its pushes ``unknown_symbol`` rather than
        publish an odd name (:meth:`~cexfeed.handlers.WebSocketHandler.follow_readable`)."""
        return venue_symbol in self.by_venue or _UNIFIED.fullmatch(self.unified(venue_symbol)) is not None

    def __len__(self) -> int:
        return len(self.by_venue)


def decimals_to_step(decimals: int | None) -> float | None:
    """``3`` -> ``0.001``; ``None`` stays ``None``."""
    if decimals is None:
        return None
    return float(f"1e-{decimals}") if decimals > 0 else 1.0


# Quote currencies tried, longest first, to split a name written without a separator
# (``BTCUSDT``): MEXC's own names, and the hint for a name given in that form elsewhere.
QUOTE_SUFFIXES = ("FDUSD", "USDT", "USDC", "USDE", "USD1", "TUSD", "BUSD", "EUR", "BRL", "TRY", "BTC", "ETH", "USD", "MX")

_UNIFIED = re.compile(r"[A-Z0-9]+/[A-Z0-9]+(?::[A-Z0-9]+)?")


class SymbolError(ValueError):
    """Symbols a feed cannot subscribe: not in the unified form, the wrong market or settle
    currency, or not served by the venue. ``problems`` holds one sentence per symbol (with a
    hint at the right name where one is found); the message joins them."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


def split_quote(name: str) -> str | None:
    """``BTCUSDT`` -> ``BTC/USDT`` by a known quote suffix, else ``None``."""
    for quote in QUOTE_SUFFIXES:
        if name.endswith(quote) and len(name) > len(quote):
            return f"{name[: -len(quote)]}/{quote}"
    return None


def _suggest(name: str, smap: SymbolMap, perp_settle: str | None, listed: bool) -> str | None:
    """A unified name the user probably meant by ``name``, or ``None``."""
    text = name.strip().upper()
    guess: str | None = None
    if _UNIFIED.fullmatch(text):
        guess = text
    elif listed and text in smap.by_venue:  # the venue's own name (BTC_USDT, BTCUSDT)
        guess = smap.by_venue[text].symbol
    elif listed:
        for inst in smap.by_unified.values():
            if f"{inst.base}{inst.quote}" == text.replace("_", "").replace("-", ""):
                guess = inst.symbol
                break
    if guess is None:
        for sep in ("_", "-", " "):
            if sep in text:
                base, _, quote = text.partition(sep)
                guess = f"{base}/{quote}" if base and quote else None
                break
        else:
            guess = split_quote(text)
    if guess is None:
        return None
    if perp_settle is not None and ":" not in guess:
        guess = f"{guess}:{perp_settle}"
    elif perp_settle is None:
        guess = guess.split(":", 1)[0]
    return guess


def _close(full: str, smap: SymbolMap) -> list[str]:
    """Listed names near ``full``: the same base with another quote, else a base spelt nearly
    the same with the same quote."""
    base = full.split("/", 1)[0]
    rest = full[len(base):]
    same_base = sorted(name for name in smap.by_unified if name.split("/", 1)[0] == base)
    if same_base:
        return same_base[:3]
    bases = {name.split("/", 1)[0] for name in smap.by_unified if name[len(name.split("/", 1)[0]):] == rest}
    return [f"{b}{rest}" for b in difflib.get_close_matches(base, sorted(bases), n=3, cutoff=0.75)]


def resolve_symbols(
    symbols: Iterable[str],
    smap: SymbolMap,
    *,
    venue: str,
    market: str,
    settle: str | None = None,
    listed: bool = False,
) -> dict[str, str]:
    """Check unified ``symbols`` for a ``venue`` stream before subscribing and map them to venue
    names: ``{symbol: venue_symbol}``.

    Every name must be in the unified form (``BASE/QUOTE`` on spot, ``BASE/QUOTE:SETTLE`` on
    perpetuals, upper case); a perpetual given without ``:SETTLE`` means the venue's ``settle``
    currency, one with another settle currency is refused. With ``listed`` (``smap`` built from
    the venue's instrument list) the name must be listed and tradable, and a contract must have
    a base-currency multiplier (inverse contracts are refused). Without the list only the form
    is checked and names map by the venue's pattern.

    Raises :class:`SymbolError` naming every bad symbol at once, each with a hint.
    """
    out: dict[str, str] = {}
    problems: list[str] = []
    perp = market == "perp"
    for name in symbols:
        if not _UNIFIED.fullmatch(name):
            hint = _suggest(name, smap, settle if perp else None, listed)
            form = "BASE/QUOTE:SETTLE" if perp else "BASE/QUOTE"
            problems.append(f"{name!r} is not a unified symbol ({form}, upper case)" + (f": did you mean {hint!r}?" if hint else ""))
            continue
        pair, _, given_settle = name.partition(":")
        if not perp and given_settle:
            problems.append(f"{name!r} names a perpetual; {venue} is a spot venue: did you mean {pair!r}?")
            continue
        full = name
        if perp:
            if not given_settle:
                full = f"{pair}:{settle}" if settle else name
            elif settle and given_settle != settle:
                problems.append(f"{name!r}: {venue} contracts settle in {settle}, not {given_settle}: did you mean '{pair}:{settle}'?")
                continue
        if not listed:
            out[name] = smap.to_venue(full)
            continue
        inst = smap.by_unified.get(full)
        if inst is None:
            close = _close(full, smap)
            hint = f": did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            problems.append(f"{name!r} is not listed by {venue}{hint}")
        elif not inst.active:
            problems.append(f"{name!r} is listed by {venue} but not tradable now (suspended or delisting)")
        elif perp and inst.contract_multiplier is None:
            problems.append(f"{name!r} is an inverse contract (one contract = 1 unit of the quote currency): "
                            "its sizes have no base-currency value, so it is not served")
        else:
            out[name] = inst.venue_symbol
    if problems:
        raise SymbolError(problems)
    return out
