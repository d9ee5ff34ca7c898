"""Deterministic synthetic frames for the benchmark, in each venue's wire format.

Every case is one (venue stream, frame type): a list of timed frames plus, for books, the
snapshot the deltas continue (``update_id`` and 100 levels per side). Book deltas carry 20 bid
and 20 ask levels (the issue's "20x20"), ids continue exactly, about one level in eight is a
removal, and bids stay below asks, so every contender applies every frame.

Formats: gateio-protocol.md §6 (spot), §7 (futures, sizes as integer contracts), MEXC frames
are built with :mod:`cexfeed.exchanges.mexc.encode` (mexc-protocol.md §2).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

SYMBOL_GATE = "BTC_USDT"
SYMBOL_MEXC = "BTCUSDT"
MID = 65000.0
TICK = 0.1
BASE_MS = 1_764_400_000_000
FIRST_ID = 1_000_000
# BTC_USDT quanto_multiplier on Gate futures (base currency per contract)
GATE_BTC_MULTIPLIER = "0.0001"
FUTURES_CONTRACTS_JSON = json.dumps(
    [{"name": SYMBOL_GATE, "type": "direct", "quanto_multiplier": GATE_BTC_MULTIPLIER, "order_price_round": "0.1", "order_size_min": 1, "in_delisting": False}]
)


@dataclass
class Case:
    """One benchmark row: ``stream`` (``gateio-spot``, ``gateio-perp``, ``mexc-spot``),
    ``kind`` (``book``, ``trades``, ``bbo``, ``ticker``, ``kline``), ``frames`` (bytes, in
    order), and for books the snapshot ``(update_id, bids, asks)`` with string levels (as the
    venue's REST body has them) that the first frame continues."""

    stream: str
    kind: str
    label: str
    frames: list[bytes]
    snapshot: tuple[int, list[tuple[str, str]], list[tuple[str, str]]] | None = None
    symbol: str = SYMBOL_GATE
    meta: dict = field(default_factory=dict)


def _p(ticks: int) -> str:
    return f"{ticks * TICK:.1f}"


def _book_levels(rng: random.Random, count: int, removal: float = 0.125) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(tick offset below mid, size) for bids and (offset above mid, size) for asks; distinct
    offsets in 1..60 so the 20-level book keeps turning over."""
    bids = sorted(rng.sample(range(1, 61), count))
    asks = sorted(rng.sample(range(1, 61), count))
    size = lambda: 0.0 if rng.random() < removal else round(rng.uniform(0.0001, 3.0), 4)  # noqa: E731
    return [(o, size()) for o in bids], [(o, size()) for o in asks]


def _snapshot(rng: random.Random) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    mid = int(MID / TICK)
    bids = [(_p(mid - o), f"{rng.uniform(0.0001, 3.0):.4f}") for o in range(1, 101)]
    asks = [(_p(mid + o), f"{rng.uniform(0.0001, 3.0):.4f}") for o in range(1, 101)]
    return bids, asks


def gate_spot_cases(n: int, seed: int = 7) -> list[Case]:
    rng = random.Random(seed)
    mid = int(MID / TICK)
    snap_bids, snap_asks = _snapshot(rng)
    book = []
    for i in range(n):
        bids, asks = _book_levels(rng, 20)
        ms = BASE_MS + i * 20
        uid = FIRST_ID + 1 + i
        result = {
            "t": ms,
            "e": "depthUpdate",
            "E": ms // 1000,
            "s": SYMBOL_GATE,
            "U": uid,
            "u": uid,
            "b": [[_p(mid - o), f"{s:.4f}" if s else "0"] for o, s in bids],
            "a": [[_p(mid + o), f"{s:.4f}" if s else "0"] for o, s in asks],
        }
        book.append(_gate_frame("spot.order_book_update", result, ms))
    trades, bbo, tickers = [], [], []
    for i in range(n):
        ms = BASE_MS + i * 7
        trades.append(
            _gate_frame(
                "spot.trades",
                {
                    "id": 5_000_000_000 + i,
                    "create_time": ms // 1000,
                    "create_time_ms": f"{ms}.{i % 1000:03d}",
                    "side": "buy" if i % 3 else "sell",
                    "currency_pair": SYMBOL_GATE,
                    "amount": f"{rng.uniform(0.0001, 2):.4f}",
                    "price": _p(mid + rng.randint(-5, 5)),
                    "range": f"{i}-{i}",
                },
                ms,
            )
        )
        bbo.append(
            _gate_frame(
                "spot.book_ticker",
                {"t": ms, "u": FIRST_ID + i, "s": SYMBOL_GATE, "b": _p(mid - 1), "B": f"{rng.uniform(0.1, 3):.4f}", "a": _p(mid + 1), "A": f"{rng.uniform(0.1, 3):.4f}"},
                ms,
            )
        )
        tickers.append(
            _gate_frame(
                "spot.tickers",
                {
                    "currency_pair": SYMBOL_GATE,
                    "last": _p(mid + rng.randint(-5, 5)),
                    "lowest_ask": _p(mid + 1),
                    "highest_bid": _p(mid - 1),
                    "change_percentage": f"{rng.uniform(-5, 5):.2f}",
                    "base_volume": f"{rng.uniform(1000, 2000):.4f}",
                    "quote_volume": f"{rng.uniform(6e7, 9e7):.2f}",
                    "high_24h": _p(mid + 900),
                    "low_24h": _p(mid - 900),
                },
                ms,
            )
        )
    return [
        Case("gateio-spot", "book", "Gate spot book update 20x20", book, (FIRST_ID, snap_bids, snap_asks)),
        Case("gateio-spot", "trades", "Gate spot trade", trades),
        Case("gateio-spot", "bbo", "Gate spot book ticker", bbo),
        Case("gateio-spot", "ticker", "Gate spot ticker", tickers),
    ]


def gate_futures_cases(n: int, seed: int = 11) -> list[Case]:
    rng = random.Random(seed)
    mid = int(MID / TICK)
    snap_bids, snap_asks = _snapshot(rng)
    # futures REST/WS sizes are contract counts
    snap_bids = [(p, str(rng.randint(1, 30000))) for p, _ in snap_bids]
    snap_asks = [(p, str(rng.randint(1, 30000))) for p, _ in snap_asks]
    book = []
    for i in range(n):
        bids, asks = _book_levels(rng, 20)
        ms = BASE_MS + i * 20
        uid = FIRST_ID + 1 + i
        result = {
            "t": ms,
            "s": SYMBOL_GATE,
            "U": uid,
            "u": uid,
            "b": [{"p": _p(mid - o), "s": int(s * 10000)} for o, s in bids],
            "a": [{"p": _p(mid + o), "s": int(s * 10000)} for o, s in asks],
        }
        book.append(_gate_frame("futures.order_book_update", result, ms))
    trades, bbo, tickers = [], [], []
    for i in range(n):
        ms = BASE_MS + i * 7
        size = rng.randint(1, 5000) * (1 if i % 3 else -1)
        trades.append(
            _gate_frame(
                "futures.trades",
                [{"size": size, "id": 9_000_000 + i, "create_time": ms // 1000, "create_time_ms": ms, "price": _p(mid + rng.randint(-5, 5)), "contract": SYMBOL_GATE}],
                ms,
            )
        )
        bbo.append(
            _gate_frame(
                "futures.book_ticker",
                {"t": ms, "u": FIRST_ID + i, "s": SYMBOL_GATE, "b": _p(mid - 1), "B": rng.randint(1, 90000), "a": _p(mid + 1), "A": rng.randint(1, 90000)},
                ms,
            )
        )
        tickers.append(
            _gate_frame(
                "futures.tickers",
                [
                    {
                        "contract": SYMBOL_GATE,
                        "last": _p(mid + rng.randint(-5, 5)),
                        "change_percentage": f"{rng.uniform(-5, 5):.4f}",
                        "funding_rate": "0.0001",
                        "funding_rate_indicative": "0.0001",
                        "mark_price": _p(mid + 2),
                        "index_price": _p(mid + 3),
                        "total_size": "123456789",
                        "volume_24h": str(rng.randint(10_000_000, 20_000_000)),
                        "volume_24h_base": f"{rng.uniform(1000, 2000):.4f}",
                        "volume_24h_quote": f"{rng.uniform(6e7, 9e7):.0f}",
                        "volume_24h_settle": f"{rng.uniform(6e7, 9e7):.0f}",
                        "low_24h": _p(mid - 900),
                        "high_24h": _p(mid + 900),
                    }
                ],
                ms,
            )
        )
    return [
        Case("gateio-perp", "book", "Gate futures book update 20x20", book, (FIRST_ID, snap_bids, snap_asks)),
        Case("gateio-perp", "trades", "Gate futures trade", trades),
        Case("gateio-perp", "bbo", "Gate futures book ticker", bbo),
        Case("gateio-perp", "ticker", "Gate futures ticker", tickers),
    ]


def mexc_cases(n: int, seed: int = 13) -> list[Case]:
    from cexfeed.exchanges.mexc.encode import aggre_book_ticker_frame, aggre_deals_frame, aggre_depth_frame, kline_frame

    rng = random.Random(seed)
    mid = int(MID / TICK)
    snap_bids, snap_asks = _snapshot(rng)
    book, deals, bbo, klines = [], [], [], []
    for i in range(n):
        bids, asks = _book_levels(rng, 20)
        ms = BASE_MS + i * 100
        uid = FIRST_ID + 1 + i * 3
        # MEXC aggre depth: fromVersion..toVersion spans several versions; sizes "0" remove
        book.append(
            aggre_depth_frame(
                SYMBOL_MEXC,
                uid,
                uid + 2,
                bids=[(_p(mid - o), f"{s:.4f}" if s else "0") for o, s in bids],
                asks=[(_p(mid + o), f"{s:.4f}" if s else "0") for o, s in asks],
                send_time=ms,
            )
        )
        deals.append(
            aggre_deals_frame(
                SYMBOL_MEXC,
                [
                    (_p(mid + rng.randint(-5, 5)), f"{rng.uniform(0.0001, 1):.8f}", 1 + (i + k) % 2, ms - 10 + k, f"{7319 * 10**14 + i * 4 + k}X0_{7319 * 10**14 + i * 4 + k + 1}X0")
                    for k in range(2)
                ],
                send_time=ms,
            )
        )
        bbo.append(aggre_book_ticker_frame(SYMBOL_MEXC, _p(mid - 1), f"{rng.uniform(0.1, 3):.8f}", _p(mid + 1), f"{rng.uniform(0.1, 3):.8f}", send_time=ms))
        klines.append(
            kline_frame(
                SYMBOL_MEXC, "Min1", (ms // 60000) * 60, _p(mid), _p(mid + 7), _p(mid - 5), _p(mid + rng.randint(-5, 5)), f"{rng.uniform(1, 9):.8f}", f"{rng.uniform(1e5, 9e5):.2f}", create_time=ms
            )
        )
    # versions in the deltas advance by 3 per push: the snapshot sits just before the first
    return [
        Case("mexc-spot", "book", "MEXC aggre depth 20x20", book, (FIRST_ID, snap_bids, snap_asks), SYMBOL_MEXC),
        Case("mexc-spot", "trades", "MEXC aggre deals (2 per push)", deals, None, SYMBOL_MEXC),
        Case("mexc-spot", "bbo", "MEXC aggre book ticker", bbo, None, SYMBOL_MEXC),
        Case("mexc-spot", "kline", "MEXC kline", klines, None, SYMBOL_MEXC),
    ]


def _gate_frame(channel: str, result, ms: int) -> bytes:
    return json.dumps({"time": ms // 1000, "time_ms": ms, "channel": channel, "event": "update", "result": result}, separators=(",", ":")).encode()


def all_cases(n: int) -> list[Case]:
    """Every benchmark case with ``n`` frames each."""
    from .private import private_cases

    return gate_spot_cases(n) + gate_futures_cases(n) + mexc_cases(n) + private_cases(n)
