"""Gate.io futures contract metadata and contract -> base-currency size conversion.

Follows gateio-protocol.md §7.1 (sizes are contracts; base quantity = contracts x
``quanto_multiplier``; ``"0"`` on inverse contracts means one contract = 1 USD), §5.2 (decimal
sizes as strings under ``X-Gate-Size-Decimal: 1``) and §10.1 (futures REST order book).

A contract count becomes a base-currency size only through a known multiplier: a contract the
contract list has not given (not fetched yet, or not in it) or an inverse one (one contract is
one unit of the quote currency, pitfalls #11) raises :class:`MultiplierUnknown` instead of
passing its count off as a base size.

Size arithmetic, and why: market data are floats (design.md), but ``3 contracts x 0.1`` done as
``3.0 * 0.1`` gives ``0.30000000000000004``. :class:`ContractSize` keeps the multiplier as an
exact ratio ``num/den`` of integers (from its decimal string) and computes

- integral contracts (every contract without ``enable_decimal``): ``c * num / den`` — the
  numerator is an exact integer in a float, so the single division is correctly rounded and the
  result is the float nearest the exact decimal product (``3 * 1 / 10 -> 0.3``);
- fractional contracts (``"1.5"``, ``"1e-3"`` under the decimal header): the same product, then
  rounded to 15 significant digits and parsed again. The float product is within 3 ulp of the
  exact decimal product, so this gives the float nearest the exact product whenever that product
  has at most 15 significant digits (all realistic size x multiplier pairs).

``decimal.Decimal`` would be exact for any length but costs about 1 us per level; the book path
converts every level, so Decimal is not used there.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import msgspec

from ...symbols import Instrument, SymbolMap
from ...wire import Price, SeqId, Size, Time, to_ms
from .protocol import gate_unified, gate_venue

__all__ = [
    "MultiplierUnknown",
    "ContractSize",
    "ContractSizes",
    "ONE",
    "futures_symbol_map",
    "parse_futures_snapshot",
    "decode_futures_snapshot",
    "FuturesSnapshot",
    "multiplier_ratio",
    "listed_multiplier",
]

_EXACT = 9007199254740992.0  # 2**53: integers below it are exact in a float


def multiplier_ratio(multiplier: str | float | int | None) -> tuple[int, int] | None:
    """Exact ``(num, den)`` of a contract multiplier given as the venue's decimal string (or a
    float, read through its shortest repr); ``None`` when it gives no base quantity: ``"0"``
    (inverse contracts, gateio-protocol.md §7.1: one contract = 1 USD), ``None``, negative or
    unparsable."""
    if multiplier is None:
        return None
    text = multiplier if isinstance(multiplier, str) else repr(multiplier)
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0:
        return None
    return value.as_integer_ratio()


class MultiplierUnknown(ValueError):
    """Contract counts of ``venue_symbol`` cannot be given in base currency: the contract list
    has not given its multiplier (``inverse`` False: not loaded yet, or the contract is not in
    it), or it is an inverse contract (``inverse`` True: a count of quote-currency units)."""

    def __init__(self, venue_symbol: str, inverse: bool = False) -> None:
        why = "an inverse contract (one contract = 1 unit of the quote currency)" if inverse else "not in the contract list"
        super().__init__(f"{venue_symbol}: no base-currency multiplier ({why})")
        self.venue_symbol = venue_symbol
        self.inverse = inverse


class ContractSize:
    """Converts contract counts of one contract into base-currency sizes.

    ``multiplier`` is base currency per contract (string as the venue sends it, or a float).
    :meth:`base` takes a contract count (float, may be negative) and returns the base-currency
    size with the same sign; see the module docstring for the rounding rule. Raises
    ``ValueError`` for a multiplier that is not a positive number (0 on inverse contracts).
    """

    __slots__ = ("num", "den", "is_one", "multiplier")

    def __init__(self, multiplier: str | float | int = 1) -> None:
        ratio = multiplier_ratio(multiplier)
        if ratio is None:
            raise ValueError(f"contract multiplier {multiplier!r} gives no base-currency size")
        self.num, self.den = ratio
        self.is_one = self.num == self.den
        self.multiplier = self.num / self.den

    def base(self, contracts: float) -> float:
        """Base-currency size of ``contracts`` (float in, float out; sign kept)."""
        if self.is_one:
            return contracts
        x = contracts * self.num
        if contracts.is_integer() and -_EXACT < x < _EXACT:
            return x / self.den
        return float("%.15g" % (x / self.den))

    def levels(self, levels) -> list[tuple[float, float]]:
        """``[(price, base size)]`` from decoded ``{p, s}`` level structs (``.p``, ``.s``, sizes
        >= 0). Same rule as :meth:`base`, written inline: integral counts whose product stays
        below 2**53 take the one-division path."""
        if self.is_one:
            return [(lv.p, lv.s) for lv in levels]
        num = self.num
        den = self.den
        base = self.base
        return [(lv.p, x / den if lv.s.is_integer() and (x := lv.s * num) < _EXACT else base(lv.s)) for lv in levels]

    def pairs(self, levels) -> list[tuple[float, float]]:
        """Same as :meth:`levels` for ``[price, size]`` pairs (obu)."""
        if self.is_one:
            return levels
        num = self.num
        den = self.den
        base = self.base
        return [(p, x / den if s.is_integer() and (x := s * num) < _EXACT else base(s)) for p, s in levels]

    def __repr__(self) -> str:
        return f"ContractSize({self.num}/{self.den})"


ONE = ContractSize(1)


class ContractSizes:
    """Per-contract :class:`ContractSize` from a :class:`SymbolMap` (its instruments'
    ``contract_multiplier``), built on first use. Raises :class:`MultiplierUnknown` for a
    contract the map does not list or lists without a multiplier (inverse): its counts are
    never given out as base-currency sizes."""

    __slots__ = ("symbols", "_cache")

    def __init__(self, symbols: SymbolMap) -> None:
        self.symbols = symbols
        self._cache: dict[str, ContractSize] = {}

    def __call__(self, venue_symbol: str) -> ContractSize:
        sizer = self._cache.get(venue_symbol)
        if sizer is None:
            sizer = self._cache[venue_symbol] = ContractSize(listed_multiplier(self.symbols, venue_symbol))
        return sizer


def listed_multiplier(symbols: SymbolMap, venue_symbol: str) -> float:
    """The base-currency multiplier ``symbols`` lists for contract ``venue_symbol`` (a float read
    from the venue's decimal text: its repr gives that text back). Raises
    :class:`MultiplierUnknown` for a contract it does not list, or lists as inverse."""
    inst = symbols.instrument(venue_symbol)
    if inst is None:
        raise MultiplierUnknown(venue_symbol)
    if inst.contract_multiplier is None:
        raise MultiplierUnknown(venue_symbol, inverse=True)
    return inst.contract_multiplier


# -- contract metadata (REST GET /api/v4/futures/usdt/contracts) ---------------------------------


class _Contract(msgspec.Struct):
    name: str
    type: str = "direct"
    # strings on the wire; numbers accepted too
    quanto_multiplier: str | float = "1"
    order_price_round: str | float | None = None
    order_size_min: float | None = None
    enable_decimal: bool = False
    in_delisting: bool = False
    status: str | None = None


_contracts = msgspec.json.Decoder(list[_Contract], strict=False)


def _decimals(text: str | None) -> int | None:
    if not text:
        return None
    try:
        exponent = Decimal(text).normalize().as_tuple().exponent
    except InvalidOperation:
        return None
    return max(0, -exponent) if isinstance(exponent, int) else None


def _futures_fallback(settle: str):
    def fallback(venue_symbol: str) -> str:
        return gate_unified(venue_symbol, settle)

    return fallback


def futures_symbol_map(contracts_json: bytes | str | None = None, settle: str = "USDT") -> SymbolMap:
    """A :class:`SymbolMap` of :class:`Instrument` (``market="perp"``) from the body of REST
    ``GET /api/v4/futures/{settle}/contracts`` (gateio-protocol.md §7.1).

    Per contract: ``symbol`` ``BTC/USDT:USDT``; ``contract_multiplier`` = ``quanto_multiplier``
    (base currency per contract; ``None`` for inverse contracts, whose ``"0"`` means one contract
    is 1 USD, and for a multiplier that is not a positive number); ``tick_size`` = ``order_price_round``
    (quote currency); ``size_step`` in contracts: ``1`` unless ``enable_decimal``, then
    ``order_size_min`` when positive; ``whole_contracts`` unless ``enable_decimal`` (absent:
    false, whole contracts being the venue's normal case, §5.2). Unknown names map by splitting on ``_`` and carry no
    metadata (no multiplier). ``None``/empty body gives that empty map.
    Raises ``msgspec.DecodeError``/``ValidationError`` on a malformed body.
    """
    smap = SymbolMap(fallback=_futures_fallback(settle), reverse_fallback=gate_venue)
    if not contracts_json:
        return smap
    for c in _contracts.decode(contracts_json):
        base, _, quote = c.name.partition("_")
        if c.type == "inverse":
            # BTC_USD on /btc: settled in BTC, one contract = 1 USD
            contract_settle = base
        else:
            contract_settle = settle
        ratio = multiplier_ratio(c.quanto_multiplier)
        tick = c.order_price_round
        if c.enable_decimal:
            step = c.order_size_min if c.order_size_min else None
        else:
            step = 1.0
        smap.add(
            Instrument(
                symbol=gate_unified(c.name, contract_settle),
                venue_symbol=c.name,
                base=base,
                quote=quote,
                market="perp",
                settle=contract_settle,
                price_precision=_decimals(tick if isinstance(tick, str) else repr(tick)) if tick else None,
                size_precision=_decimals(repr(step)) if step else None,
                tick_size=float(tick) if tick else None,
                size_step=step,
                contract_multiplier=ratio[0] / ratio[1] if ratio is not None and c.type != "inverse" else None,
                active=not c.in_delisting and (c.status is None or c.status == "trading"),
                whole_contracts=not c.enable_decimal,
            )
        )
    return smap


# -- REST order book snapshot (GET /api/v4/futures/usdt/order_book?with_id=true) ---------------


class _Level(msgspec.Struct, gc=False):
    p: Price
    s: Size  # contracts


class _RestBook(msgspec.Struct):
    id: SeqId | None = None
    current: Time = 0
    update: Time = 0
    asks: list[_Level] = []
    bids: list[_Level] = []


_rest_book = msgspec.json.Decoder(_RestBook, strict=False)


class FuturesSnapshot(msgspec.Struct):
    """A normalized futures REST book: ``update_id`` (Gate ``id``), ``bids``/``asks`` as
    ``[(price, base size)]`` best first, ``exchange_ts`` ms (from ``update``, else ``current``;
    ``None`` without either)."""

    update_id: int
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]
    exchange_ts: int | None


def decode_futures_snapshot(body: bytes | str, multiplier: str | float | ContractSize = 1) -> FuturesSnapshot:
    """Decode the body of ``GET /api/v4/futures/usdt/order_book?contract=X&limit=<depth>&with_id=true``
    (gateio-protocol.md §10.1): ``{"id", "current": s.frac, "update": s.frac (any unit is read
    as :func:`cexfeed.wire.to_ms` reads it), "asks": [{"p","s"}],
    "bids": [...]}``; sizes in contracts (int or string) become base currency.

    Raises ``ValueError`` when ``id`` is missing (request lacked ``with_id=true``, pitfalls #8) and
    ``msgspec.DecodeError``/``ValidationError`` on a malformed body or a value outside the rules
    of :mod:`cexfeed.wire` (a price not in (0, 1e300), a size not in [0, 1e300), an id outside int64).
    """
    book = _rest_book.decode(body)
    if book.id is None:
        raise ValueError("gateio futures order_book snapshot has no 'id' (request it with with_id=true)")
    size = multiplier if isinstance(multiplier, ContractSize) else ContractSize(multiplier)
    return FuturesSnapshot(
        update_id=book.id,
        bids=size.levels(book.bids),
        asks=size.levels(book.asks),
        exchange_ts=to_ms(book.update) or to_ms(book.current),
    )


def parse_futures_snapshot(
    body: bytes | str, multiplier: str | float | ContractSize = 1
) -> tuple[int, list[tuple[float, float]], list[tuple[float, float]]]:
    """``(update_id, bids, asks)`` of a futures REST book body, sizes in base currency
    (contracts x ``multiplier``), for ``handler.apply_snapshot``. Same errors as
    :func:`decode_futures_snapshot`."""
    snap = decode_futures_snapshot(body, multiplier)
    return snap.update_id, snap.bids, snap.asks
