"""Unified symbols <-> venue names, with instrument metadata.

Unified names follow the ccxt convention: ``BASE/QUOTE`` for spot, ``BASE/QUOTE:SETTLE`` for
perpetuals. Venue names are what the venue puts on the wire (Gate ``BTC_USDT``, MEXC
``BTCUSDT``). Maps are built from the venue's instrument list (Gate REST
``/api/v4/spot/currency_pairs``, ``/api/v4/futures/usdt/contracts``; MEXC ``/api/v3/exchangeInfo``).
"""

from __future__ import annotations

from typing import Callable, Iterable

import msgspec


class Instrument(msgspec.Struct, kw_only=True):
    """One tradable instrument.

    ``price_precision``/``size_precision`` are decimal places; ``tick_size`` quote currency;
    ``size_step`` in the venue's order unit (base currency on spot, contracts on futures);
    ``contract_multiplier`` base currency per contract (``1.0`` on spot and wherever the venue
    says 0, e.g. Gate inverse contracts, where one contract is 1 USD).
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
    contract_multiplier: float = 1.0
    active: bool = True


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
        self._unified_cache: dict[str, str] = {}
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
        name = self._unified_cache.get(venue_symbol)
        if name is None:
            name = self._fallback(venue_symbol) if self._fallback else venue_symbol
            self._unified_cache[venue_symbol] = name
        return name

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

    def __len__(self) -> int:
        return len(self.by_venue)


def decimals_to_step(decimals: int | None) -> float | None:
    """``3`` -> ``0.001``; ``None`` stays ``None``."""
    if decimals is None:
        return None
    return float(f"1e-{decimals}") if decimals > 0 else 1.0
