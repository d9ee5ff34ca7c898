"""MEXC spot REST bodies the stream needs: the depth snapshot (mexc-protocol.md §4.1) and
``/api/v3/exchangeInfo`` for symbol names. Parsing only; the network core does the requests."""

from __future__ import annotations

from urllib.parse import urlencode

import msgspec

from ...symbols import Instrument, SymbolMap, decimals_to_step
from ...wire import Millis, Price, SeqId, Size
from .protocol import mexc_unified, mexc_venue
from .spot_table import REST_URL

DEPTH_PATH = "/api/v3/depth"
EXCHANGE_INFO_PATH = "/api/v3/exchangeInfo"
# §4.2: the venue recommends a deep snapshot; 5000 is its maximum.
DEFAULT_SNAPSHOT_LIMIT = 1000


class DepthSnapshot(msgspec.Struct):
    """``GET /api/v3/depth`` body: ``lastUpdateId`` and ``[price, qty]`` string pairs, parsed
    to floats (price quote currency, qty base currency), by the rules of :mod:`cexfeed.wire`."""

    lastUpdateId: SeqId
    bids: list[tuple[Price, Size]] = []
    asks: list[tuple[Price, Size]] = []
    timestamp: Millis = 0


_depth_decoder = msgspec.json.Decoder(DepthSnapshot, strict=False)


def depth_url(venue_symbol: str, limit: int = DEFAULT_SNAPSHOT_LIMIT, base: str = REST_URL) -> str:
    """Snapshot URL ``<base>/api/v3/depth?symbol=BTCUSDT&limit=n``."""
    return f"{base.rstrip('/')}{DEPTH_PATH}?{urlencode({'symbol': venue_symbol, 'limit': limit})}"


def parse_depth_snapshot(body: bytes | str) -> DepthSnapshot:
    """Decode a depth snapshot body. Raises ``msgspec.DecodeError`` (a ``ValueError``) on a
    malformed body, a missing ``lastUpdateId`` or a value outside the rules (``["nan", "1"]``)."""
    return _depth_decoder.decode(body)


class _SymbolInfo(msgspec.Struct):
    symbol: str
    baseAsset: str = ""
    quoteAsset: str = ""
    status: str = "1"
    baseAssetPrecision: int | None = None
    quotePrecision: int | None = None
    baseSizePrecision: str | None = None
    isSpotTradingAllowed: bool = True


class _ExchangeInfo(msgspec.Struct):
    symbols: list[_SymbolInfo] = []


_info_decoder = msgspec.json.Decoder(_ExchangeInfo, strict=False)


def spot_symbol_map(exchange_info_json: bytes | str | None = None) -> SymbolMap:
    """A :class:`SymbolMap` from the body of ``GET /api/v3/exchangeInfo``; unknown names fall
    back to splitting a known quote suffix (``BTCUSDT`` -> ``BTC/USDT``). Status ``"1"``
    (or ``ENABLED``) is active. Raises ``msgspec.DecodeError`` on a malformed body."""
    smap = SymbolMap(fallback=mexc_unified, reverse_fallback=mexc_venue)
    if exchange_info_json:
        for s in _info_decoder.decode(exchange_info_json).symbols:
            if not s.baseAsset or not s.quoteAsset:
                continue
            step = None
            if s.baseSizePrecision:
                try:
                    step = float(s.baseSizePrecision) or None
                except ValueError:
                    step = None
            smap.add(
                Instrument(
                    symbol=f"{s.baseAsset}/{s.quoteAsset}",
                    venue_symbol=s.symbol,
                    base=s.baseAsset,
                    quote=s.quoteAsset,
                    market="spot",
                    price_precision=s.quotePrecision,
                    size_precision=s.baseAssetPrecision,
                    tick_size=decimals_to_step(s.quotePrecision),
                    size_step=step,
                    active=s.status in ("1", "ENABLED") and s.isSpotTradingAllowed,
                )
            )
    return smap
