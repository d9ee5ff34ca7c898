"""The live view of ``cexfeed demo``/``stream`` (rich), imported only when a command shows it.

Two layouts: the wide one (a terminal of 120 columns or more, or piped output) with sizes,
spread and the last two trades; the compact one fits 80×24 for the three demo venues: prices,
spread in basis points, the last trade, the book state, and for perpetuals one line per symbol
with funding, mark/index and open interest.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import msgspec
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from ..models import BestBidOffer, BookStatus, Event, FundingRate, MarkPrice, OpenInterest, Ticker, Trade, VenueError
from .common import format_counts

# narrower terminals get the compact layout
WIDE = 120


class View:
    """What the table shows, updated inline from events (cheap: a few attribute writes).
    ``compact`` picks the 80-column layout."""

    def __init__(self, feed: Any, symbols: list[str], title: str, compact: bool = False) -> None:
        self.feed = feed
        self.symbols = symbols
        self.title = title
        self.compact = compact
        # keyed by venue symbol: the user's names may omit a perp's settle suffix
        self.trades: dict[str, deque] = {}
        self.bbo: dict[str, BestBidOffer] = {}
        self.last: dict[str, float] = {}
        self.status: dict[str, str] = {}
        self.errors: deque = deque(maxlen=3)
        self.funding: dict[str, FundingRate] = {}
        self.mark: dict[str, MarkPrice] = {}
        self.open_interest: dict[str, OpenInterest] = {}
        self.perp = feed.protocol.name.endswith("perp")
        self.started = time.monotonic()

    def on_event(self, event: Event) -> None:
        symbol = event.venue_symbol
        if isinstance(event, Trade):
            trades = self.trades.get(symbol)
            if trades is None:
                trades = self.trades[symbol] = deque(maxlen=2)
            trades.appendleft(event)
        elif isinstance(event, BestBidOffer):
            self.bbo[symbol] = event
        elif isinstance(event, BookStatus):
            self.status[symbol] = event.status if event.status != "resyncing" else f"resyncing ({event.reason})"
        elif isinstance(event, Ticker):
            if event.last is not None:
                self.last[symbol] = event.last
        elif isinstance(event, FundingRate):
            # partial ticker pushes carry only what changed: show the latest known of each field
            self.funding[symbol] = merged(self.funding.get(symbol), event, ("rate", "predicted_rate", "next_funding_ts"))
        elif isinstance(event, MarkPrice):
            self.mark[symbol] = merged(self.mark.get(symbol), event, ("mark_price", "index_price"))
        elif isinstance(event, OpenInterest):
            self.open_interest[symbol] = event
        elif isinstance(event, VenueError):
            self.errors.appendleft(f"{event.code} {event.message}")

    def render(self) -> Group:
        return Group(*self.parts())

    def _top(self, symbol: str) -> tuple[str, Any, Any]:
        """``(venue symbol, best bid, best ask)``: from the synced book, else the last bbo."""
        feed = self.feed
        try:
            key = feed._venue(symbol)
        except (KeyError, ValueError):
            key = symbol
        book = feed.book(symbol)
        bid = ask = None
        if book is not None and feed.synced(symbol):
            bid, ask = book.best_bid(), book.best_ask()
        elif key in self.bbo:
            q = self.bbo[key]
            bid, ask = (q.bid_price, q.bid_size), (q.ask_price, q.ask_size)
        return key, bid, ask

    def parts(self) -> list[Any]:
        parts: list[Any] = [self._compact_table() if self.compact else self._wide_table()]
        if self.compact and self.perp:
            parts += self._perp_lines()
        stats = self.feed.stats()
        parts.append(Text(f"{time.monotonic() - self.started:5.1f} s  {summary(stats)}", style="dim"))
        if self.errors:
            parts.append(Text("venue errors: " + " | ".join(self.errors), style="yellow", overflow="ellipsis", no_wrap=True))
        return parts

    def _wide_table(self) -> Table:
        table = Table(title=self.title, expand=False)
        for name, justify in (("symbol", "left"), ("bid size", "right"), ("bid", "right"), ("ask", "right"),
                              ("ask size", "right"), ("spread", "right"), ("last trades (taker side)", "left"), ("book", "left")):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        if self.perp:
            table.add_column("funding (predicted)", justify="right")
            table.add_column("mark / index", justify="right")
            table.add_column("open interest", justify="right")
        for symbol in self.symbols:
            key, bid, ask = self._top(symbol)
            spread = ""
            if bid and ask:
                mid = (bid[0] + ask[0]) / 2
                spread = f"{num(float(f'{ask[0] - bid[0]:.6g}'))} ({(ask[0] - bid[0]) / mid * 1e4:.2f} bp)"
            trades = Text()
            for trade in self.trades.get(key, ()):
                trades.append(f"{trade.side} {num(trade.size)} @ {num(trade.price)}  ", style="green" if trade.side == "buy" else "red")
            row: list[Any] = [
                self.feed.symbol_map.unified(key),
                f"{num(bid[1])}" if bid else "",
                f"{num(bid[0])}" if bid else "",
                f"{num(ask[0])}" if ask else "",
                f"{num(ask[1])}" if ask else "",
                spread,
                trades,
                self.status.get(key, "-"),
            ]
            if self.perp:
                oi = self.open_interest.get(key)
                row += [funding_text(self.funding.get(key)), mark_text(self.mark.get(key)), f"{num(oi.open_interest)}" if oi else ""]
            table.add_row(*row)
        return table

    def _compact_table(self) -> Table:
        table = Table(title=self.title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False, title_justify="left")
        for name, justify in (("symbol", "left"), ("bid", "right"), ("ask", "right"), ("spread", "right"),
                              ("last trade", "left"), ("book", "left")):
            table.add_column(name, justify=justify, no_wrap=True, overflow="ellipsis")  # type: ignore[arg-type]
        for symbol in self.symbols:
            key, bid, ask = self._top(symbol)
            spread = f"{(ask[0] - bid[0]) / ((bid[0] + ask[0]) / 2) * 1e4:.2f}bp" if bid and ask else ""
            trade = next(iter(self.trades.get(key, ())), None)
            last = Text(f"{trade.side} {num(trade.size)}@{num(trade.price)}", style="green" if trade.side == "buy" else "red") if trade else ""
            status = self.status.get(key, "-").replace("resyncing ", "resync")
            table.add_row(self.feed.symbol_map.unified(key), num(bid[0]) if bid else "", num(ask[0]) if ask else "", spread, last, status)
        return table

    def _perp_lines(self) -> list[Text]:
        """Compact layout, perpetuals: one line per symbol with funding, mark/index and open
        interest."""
        lines = []
        for symbol in self.symbols:
            key = self._top(symbol)[0]
            oi = self.open_interest.get(key)
            funding = self.funding.get(key)
            rate = f"{funding.rate * 100:.4f}%" if funding is not None and funding.rate is not None else "-"
            text = f"{self.feed.symbol_map.unified(key)}  funding {rate}  mark / index {mark_text(self.mark.get(key)) or '-'}"
            if oi:
                text += f"  OI {num(oi.open_interest)}"
            lines.append(Text(text, no_wrap=True, overflow="ellipsis"))
        return lines


def merged(previous: Any, event: Any, fields: tuple[str, ...]) -> Any:
    """``event`` with each of ``fields`` it left ``None`` taken from ``previous``."""
    if previous is None:
        return event
    kept = {f: getattr(previous, f) for f in fields if getattr(event, f) is None}
    return msgspec.structs.replace(event, **kept) if kept else event


def summary(stats: dict[str, Any]) -> str:
    """One line of a feed's counters: events, frames, reconnects, failed connects, book
    resyncs, failed REST attempts, drops, errors (:func:`~cexfeed.cli.common.format_counts`)."""
    connections = stats["connections"]
    reconnects = sum(max(0, c["connects"] - 1) for c in connections)
    failures = sum(c["connect_failures"] for c in connections)
    resyncs = sum(book["resyncs"] for book in stats.get("books", {}).values())
    rest_failures = stats.get("rest", {}).get("failures", 0)
    line = f"events {stats['events']}  frames {stats['frames']}  reconnects {reconnects}  "
    if failures:
        line += f"failed connects {failures}  "
    if resyncs:
        line += f"resyncs {resyncs}  "
    if rest_failures:
        line += f"failed REST calls {rest_failures}  "
    return line + f"dropped {stats['dropped']}  errors {format_counts(stats['errors'])}"


def num(x: float) -> str:
    """A price or size for the table: plain digits, never an exponent (``1146510``, ``0.00003``)."""
    if x == 0 or 1e-4 <= abs(x) < 1e15:
        return f"{x:.15g}"
    return f"{x:.12f}".rstrip("0").rstrip(".") if abs(x) < 1e-4 else f"{x:.0f}"


def funding_text(event: FundingRate | None) -> str:
    if event is None:
        return ""
    rate = f"{event.rate * 100:.4f}%" if event.rate is not None else "?"
    predicted = f" ({event.predicted_rate * 100:.4f}%)" if event.predicted_rate is not None else ""
    return rate + predicted


def mark_text(event: MarkPrice | None) -> str:
    if event is None:
        return ""
    mark = f"{num(event.mark_price)}" if event.mark_price is not None else "?"
    index = f"{num(event.index_price)}" if event.index_price is not None else "?"
    return f"{mark} / {index}"
