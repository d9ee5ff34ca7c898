"""``cexfeed demo`` and ``cexfeed stream``: live data over real WebSockets.

``demo`` starts the loopback simulator in-process and streams from it; ``stream`` connects to
the venue (or ``--url``). ``--format table`` shows a refreshing view (rich Live on a terminal,
one final table otherwise); ``--format jsonl`` writes one event per line
(:func:`cexfeed.models.encode_event`). Both stop on Ctrl-C / SIGTERM or after ``--duration``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections import deque
from typing import Any

import click
import msgspec
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ..feed import Feed
from ..models import BestBidOffer, BookStatus, Event, FundingRate, MarkPrice, OpenInterest, Ticker, Trade, VenueError, encode_event
from . import main


class _View:
    """What the table shows, updated inline from events (cheap: a few attribute writes)."""

    def __init__(self, feed: Feed, symbols: list[str], title: str) -> None:
        self.feed = feed
        self.symbols = symbols
        self.title = title
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
            self.funding[symbol] = _merged(self.funding.get(symbol), event, ("rate", "predicted_rate", "next_funding_ts"))
        elif isinstance(event, MarkPrice):
            self.mark[symbol] = _merged(self.mark.get(symbol), event, ("mark_price", "index_price"))
        elif isinstance(event, OpenInterest):
            self.open_interest[symbol] = event
        elif isinstance(event, VenueError):
            self.errors.appendleft(f"{event.code} {event.message}")

    def render(self) -> Group:
        return Group(*self.parts())

    def parts(self) -> list[Any]:
        table = Table(title=self.title, expand=False)
        for name, justify in (("symbol", "left"), ("bid size", "right"), ("bid", "right"), ("ask", "right"),
                              ("ask size", "right"), ("spread", "right"), ("last trades (taker side)", "left"), ("book", "left")):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        if self.perp:
            table.add_column("funding (predicted)", justify="right")
            table.add_column("mark / index", justify="right")
            table.add_column("open interest", justify="right")
        for symbol in self.symbols:
            try:
                key = self.feed.symbol_map.to_venue(symbol)
            except KeyError:
                key = symbol
            book = self.feed.book(symbol)
            bid = ask = None
            if book is not None and self.feed.synced(symbol):
                bid, ask = book.best_bid(), book.best_ask()
            elif key in self.bbo:
                q = self.bbo[key]
                bid, ask = (q.bid_price, q.bid_size), (q.ask_price, q.ask_size)
            spread = ""
            if bid and ask:
                mid = (bid[0] + ask[0]) / 2
                spread = f"{_num(float(f'{ask[0] - bid[0]:.6g}'))} ({(ask[0] - bid[0]) / mid * 1e4:.2f} bp)"
            trades = Text()
            for trade in self.trades.get(key, ()):
                trades.append(f"{trade.side} {_num(trade.size)} @ {_num(trade.price)}  ", style="green" if trade.side == "buy" else "red")
            row: list[Any] = [
                self.feed.symbol_map.unified(key),
                f"{_num(bid[1])}" if bid else "",
                f"{_num(bid[0])}" if bid else "",
                f"{_num(ask[0])}" if ask else "",
                f"{_num(ask[1])}" if ask else "",
                spread,
                trades,
                self.status.get(key, "-"),
            ]
            if self.perp:
                oi = self.open_interest.get(key)
                row += [_funding_text(self.funding.get(key)), _mark_text(self.mark.get(key)), f"{_num(oi.open_interest)}" if oi else ""]
            table.add_row(*row)
        stats = self.feed.stats()
        footer = Text(f"{time.monotonic() - self.started:5.1f} s  {_summary(stats)}", style="dim")
        parts: list[Any] = [table, footer]
        if self.errors:
            parts.append(Text("venue errors: " + " | ".join(self.errors), style="yellow"))
        return parts


def _merged(previous: Any, event: Any, fields: tuple[str, ...]) -> Any:
    """``event`` with each of ``fields`` it left ``None`` taken from ``previous``."""
    if previous is None:
        return event
    kept = {f: getattr(previous, f) for f in fields if getattr(event, f) is None}
    return msgspec.structs.replace(event, **kept) if kept else event


def _summary(stats: dict[str, Any]) -> str:
    """One line of a feed's counters: events, frames, reconnects, failed connects, book
    resyncs, failed REST attempts, drops, errors."""
    connections = stats["connections"]
    reconnects = sum(max(0, c["connects"] - 1) for c in connections)
    failures = sum(c["connect_failures"] for c in connections)
    resyncs = sum(book["resyncs"] for book in stats.get("books", {}).values())
    rest_failures = stats.get("rest", {}).get("failures", 0)
    errors = ", ".join(f"{k}={v}" for k, v in stats["errors"].items()) or "none"
    line = f"events {stats['events']}  frames {stats['frames']}  reconnects {reconnects}  "
    if failures:
        line += f"failed connects {failures}  "
    if resyncs:
        line += f"resyncs {resyncs}  "
    if rest_failures:
        line += f"failed REST calls {rest_failures}  "
    return line + f"dropped {stats['dropped']}  errors {errors}"


def _num(x: float) -> str:
    """A price or size for the table: plain digits, never an exponent (``1146510``, ``0.00003``)."""
    if x == 0 or 1e-4 <= abs(x) < 1e15:
        return f"{x:.15g}"
    return f"{x:.12f}".rstrip("0").rstrip(".") if abs(x) < 1e-4 else f"{x:.0f}"


def _funding_text(event: FundingRate | None) -> str:
    if event is None:
        return ""
    rate = f"{event.rate * 100:.4f}%" if event.rate is not None else "?"
    predicted = f" ({event.predicted_rate * 100:.4f}%)" if event.predicted_rate is not None else ""
    return rate + predicted


def _mark_text(event: MarkPrice | None) -> str:
    if event is None:
        return ""
    mark = f"{_num(event.mark_price)}" if event.mark_price is not None else "?"
    index = f"{_num(event.index_price)}" if event.index_price is not None else "?"
    return f"{mark} / {index}"


class _JsonlWriter:
    def __init__(self) -> None:
        self.out = sys.stdout.buffer
        self.broken = False

    def on_event(self, event: Event) -> None:
        if self.broken:
            return
        try:
            self.out.write(encode_event(event) + b"\n")
        except BrokenPipeError:
            self.broken = True

    def flush(self) -> None:
        if not self.broken:
            try:
                self.out.flush()
            except BrokenPipeError:
                self.broken = True


async def _run(feeds: list[Any], symbols: list[str], fmt: str, duration: float | None, titles: list[str],
               view: Any = None) -> list[dict[str, Any]]:
    """Run ``feeds`` side by side until Ctrl-C/SIGTERM or ``duration``; return their stats.
    ``view(feed, symbols, title)`` makes each one's table view (default: the market view); a
    feed is anything with ``start``, ``set_callback``, ``stats`` and ``close`` (a ``Feed`` or an
    ``Account``)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform without it
            pass
    console = Console(stderr=False)
    if not console.is_terminal:
        # piped/CI output: one wide final table instead of a wrapped one
        console = Console(stderr=False, width=max(console.width, 170))
    make_view = view or _View
    views = [make_view(feed, symbols, title) for feed, title in zip(feeds, titles)] if fmt == "table" else []
    writer = _JsonlWriter() if fmt == "jsonl" else None
    for index, feed in enumerate(feeds):
        feed.set_callback(views[index].on_event if views else writer.on_event)  # type: ignore[union-attr]
    deadline = loop.time() + duration if duration else None

    def render() -> Group:
        return Group(*[part for view in views for part in view.parts()])

    async def wait_tick(seconds: float) -> bool:
        timeout = seconds
        if deadline is not None:
            timeout = min(timeout, max(0.0, deadline - loop.time()))
        try:
            await asyncio.wait_for(stop.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        return stop.is_set() or (deadline is not None and loop.time() >= deadline)

    try:
        # start (symbols, connect, acks) may take long on a bad endpoint: Ctrl-C and the
        # deadline still apply while it runs
        starting = asyncio.ensure_future(asyncio.gather(*(feed.start() for feed in feeds)))
        while not starting.done() and not await wait_tick(0.1):
            pass
        if starting.done():
            starting.result()
        else:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
        if views and console.is_terminal:
            with Live(render(), console=console, refresh_per_second=4, transient=False) as live:
                while not await wait_tick(0.25):
                    live.update(render())
                live.update(render())
        else:
            while not await wait_tick(0.2):
                if writer is not None:
                    writer.flush()
                    if writer.broken:
                        break
            if views:
                console.print(render())
    finally:
        stats = [feed.stats() for feed in feeds]
        await asyncio.gather(*(feed.close() for feed in feeds), return_exceptions=True)
        if writer is not None:
            writer.flush()
            for stat in stats:
                print(f"{stat['venue']}: {stat['summary'] if 'summary' in stat else _summary(stat)}", file=sys.stderr)
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):
                pass
    return stats


def _live_venues() -> list[str]:
    """Registry names (``stream`` accepts them)."""
    from ..venues import VENUES

    return list(VENUES)


class _ChannelsOption(click.Option):
    """``--channels``: its help lists every venue's channels, read from the channel tables only
    when help is shown."""

    def get_help_record(self, ctx: click.Context):
        from ..venues import VENUES, table

        per_venue = "; ".join(f"{name}: {', '.join(table(name).names)}" for name in VENUES)
        self.help = f"Comma-separated channel names. {per_venue}."
        return super().get_help_record(ctx)


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@main.command()
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.option("--symbols", default="BTC/USDT,ETH/USDT,SOL/USDT", show_default=True, help="Comma-separated unified symbols.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=20.0, show_default=True, help="Simulated market steps per second per symbol.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the synthetic market.")
@click.option("--venue", type=click.Choice(["all", *_live_venues()]), default="all", show_default=True, help="Simulated venue(s).")
@click.option("--account/--no-account", "with_account", default=None,
              help="Also stream the Gate accounts (the simulator's test keys, trading on their own); default: on for the table, off for jsonl.")
def demo(duration: float | None, fmt: str, symbols: str, rate: float, seed: int, venue: str, with_account: bool | None) -> None:
    """Run the loopback exchange simulator in-process (every venue by default) and stream from it
    over real WebSockets: top of book, spread and last trades per symbol, plus funding rate and
    mark/index price for perpetuals, and an account panel per Gate venue (balances, open orders,
    positions, fills of the simulator's test account)."""
    from ..sim import SimServer

    wanted = _split(symbols)
    venues = _live_venues() if venue == "all" else [venue]

    async def run() -> None:
        sim = SimServer(seed=seed, rate=rate, venues=venues)
        await sim.start()
        trading = None
        try:
            feeds: list[Any] = [
                Feed(name, wanted, ["book", "trades", "bbo", "ticker"], url=sim.ws_url(name), rest_url=sim.rest_url(name))
                for name in venues
            ]
            titles = [f"cexfeed demo: {name} simulator at {sim.base_url}" for name in venues]
            from .account import demo_accounts, view_for

            if with_account or (with_account is None and fmt == "table"):
                accounts, trading = await demo_accounts(sim, venues, seed)
                feeds += accounts
                titles += [f"{a.venue} account (simulator test keys)" for a in accounts]
            await _run(feeds, wanted, fmt, duration, titles, view=view_for)
        finally:
            if trading is not None:
                trading.cancel()
            await sim.stop()

    asyncio.run(run())


@main.command()
@click.argument("venue", type=click.Choice(_live_venues()))
@click.option("--symbols", default="BTC/USDT", show_default=True, help="Comma-separated unified symbols.")
@click.option("--channels", cls=_ChannelsOption, default="book,trades,bbo,ticker", show_default=True)
@click.option("--url", default=None, help="WebSocket URL (default: the venue's production endpoint).")
@click.option("--rest-url", default=None, help="REST base URL (default: the venue's).")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.option("--no-data-timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, help="Reconnect after this many seconds without any frame.")
def stream(venue: str, symbols: str, channels: str, url: str | None, rest_url: str | None, duration: float | None,
           fmt: str, no_data_timeout: float) -> None:
    """Stream live market data from VENUE (production by default; --url to point elsewhere,
    e.g. at the simulator)."""
    wanted = _split(symbols)

    if not wanted:
        raise click.UsageError("--symbols is empty")

    async def run() -> list[dict[str, Any]]:
        feed = Feed(venue, wanted, _split(channels), url=url, rest_url=rest_url, no_data_timeout=no_data_timeout)
        return await _run([feed], wanted, fmt, duration, [f"cexfeed stream {venue} {feed.protocol.ws_url}"])

    try:
        stats = asyncio.run(run())
    except KeyError as exc:
        raise click.ClickException(f"unknown symbol {exc}") from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if not stats[0]["frames"]:
        raise click.ClickException(f"no data received from {venue}")


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="TCP port on 127.0.0.1 (0: a free one).")
@click.option("--rate", type=click.FloatRange(min=0), default=20.0, show_default=True, help="Market steps per second per symbol (0: as fast as possible).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--levels", type=click.IntRange(min=1), default=20, show_default=True, help="Book levels per side.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after this many seconds (default: until Ctrl-C).")
def sim(port: int, rate: float, seed: int, levels: int, duration: float | None) -> None:
    """Serve the loopback exchange simulator (every simulated venue) until Ctrl-C. Prints one
    line per venue: name, WebSocket URL, REST base URL."""
    from ..sim import SimServer

    async def run() -> None:
        server = SimServer(seed=seed, rate=rate, levels=levels, port=port)
        try:
            await server.start()
        except OSError as exc:
            raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        for name in server.venues:
            click.echo(f"{name} {server.ws_url(name)} {server.rest_url(name)}")
        click.echo(f"faults: POST {server.base_url}/_sim/fault/<drop|close|silent|skip|malformed|unknown_channel|error|"
                   "upgrade|fail_snapshots|pause|resume>  (?venue=NAME to target one venue; skip needs ?symbol=BTC/USDT; "
                   "silent takes ?seconds=, close ?code=, fail_snapshots ?count=)")
        sys.stdout.flush()
        try:
            await asyncio.wait_for(stop.wait(), duration)
        except asyncio.TimeoutError:
            pass
        finally:
            await server.stop()

    asyncio.run(run())
