"""``cexfeed demo``: the loopback simulator started in-process and streamed from over real
WebSockets, every venue by default, with an account panel per venue with private streams (the
running and the views are :mod:`cexfeed.cli.live`'s)."""

from __future__ import annotations

from typing import Any

import click

from . import main
from .common import architecture_option, split
from .live import _label, _live_venues, _run, _run_feeds, _wide, metrics_options


def _demo_view(feed: Any, symbols: list[str], title: str, compact: bool = False) -> Any:
    """The demo's table view of a ``Feed`` (market) or an ``Account``."""
    from ..private_feed import Account
    from .view import View

    if isinstance(feed, Account):
        from .account import AccountView

        return AccountView(feed, symbols, title, compact)
    return View(feed, symbols, title, compact)


def _demo_symbols(venue: str, names: list[str]) -> list[str]:
    """The demo's names on one venue: a perpetual name on a spot venue means its pair, a pair on
    the perpetual venue its USDT-settled contract."""
    from ..venues import spec

    if spec(venue).market == "spot":
        return list(dict.fromkeys(name.split(":", 1)[0] for name in names))
    return list(dict.fromkeys(name if ":" in name else f"{name}:USDT" for name in names))


@main.command()
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.option("--symbols", default="BTC/USDT,ETH/USDT,SOL/USDT", show_default=True, help="Comma-separated unified symbols (BASE/QUOTE; BASE/QUOTE:USDT works too).")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=20.0, show_default=True, help="Simulated market steps per second per symbol.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the synthetic market.")
@click.option("--venue", type=click.Choice(["all", *_live_venues()]), default="all", show_default=True, help="Simulated venue(s).")
@click.option("--account/--no-account", "with_account", default=None,
              help="Also stream the accounts (Gate and MEXC: the simulator's test keys, trading on their own); default: on for the wide table "
                   "(120 columns or more), off for the 80-column layout and jsonl.")
@architecture_option
@metrics_options
def demo(duration: float | None, fmt: str, symbols: str, rate: float, seed: int, venue: str, with_account: bool | None,
         architecture: Any, metrics_port: int | None, metrics_host: str) -> None:
    """Run the loopback exchange simulator in-process (every venue by default) and stream from it
    over real WebSockets: top of book, spread and last trades per symbol, plus funding rate and
    mark/index price for perpetuals, and an account panel per venue with private streams (balances, open orders,
    positions, fills of the simulator's test account)."""
    wanted = split(symbols)
    if not wanted:
        raise click.UsageError("--symbols is empty")
    venues = _live_venues() if venue == "all" else [venue]
    channels = ["book", "trades", "bbo", "ticker"]

    async def run() -> tuple[list[Any], list[dict[str, Any]]]:
        from ..compat import open_feed
        from ..sim import SimServer

        sim = SimServer(seed=seed, rate=rate, venues=venues)
        await sim.start()
        trading = None
        try:
            names = [_demo_symbols(name, wanted) for name in venues]
            feeds: list[Any] = [
                open_feed(name, symbols_of, channels, config=architecture, url=sim.ws_url(name), rest_url=sim.rest_url(name))
                for name, symbols_of in zip(venues, names)
            ]
            titles = [f"cexfeed demo: {_label(feed)} simulator at {sim.base_url}" for feed in feeds]
            if with_account or (with_account is None and fmt == "table" and _wide()):
                from .account import demo_accounts

                accounts, trading = await demo_accounts(sim, venues, seed, architecture)
                feeds += accounts
                names += [[] for _ in accounts]
                titles += [f"{_label(a)} account (simulator test keys)" for a in accounts]
            return feeds, await _run(feeds, names, fmt, duration, titles, (metrics_host, metrics_port), view=_demo_view)
        finally:
            if trading is not None:
                trading.cancel()
            await sim.stop()

    _run_feeds(run, [channels] * len(venues))
