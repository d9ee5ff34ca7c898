"""``cexfeed account``: a live view of one account (balances, open orders, positions, recent
fills), or its events as JSON lines; and the demo's account panel against the simulator.

Keys come from the environment (``GATEIO_API_KEY``, ``GATEIO_API_SECRET``, ``GATEIO_UID`` for
``gateio-perp``; ``MEXC_API_KEY``, ``MEXC_API_SECRET`` for ``mexc-spot``) and are never printed,
nor is a MEXC listenKey. ``--url``/``--rest-url`` point it at the simulator (``cexfeed sim``
prints its URLs; its test keys are in :mod:`cexfeed.sim.gateio_private` and
:mod:`cexfeed.sim.mexc_private`).
"""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from ..credentials import Credentials, CredentialsError
from ..models import AccountStatus, Event, VenueError
from ..private_feed import Account
from ..venues import private_names, spec
from . import main
from .common import architecture_option, format_counts, split
from .live import _run, _run_feeds

_STYLE = {"live": "green", "seeding": "yellow", "reconciling": "yellow", "stale": "red", "auth_failed": "bold red", "refused": "bold red"}


def _num(value: Decimal | None) -> str:
    if value is None:
        return ""
    return "0" if not value else format(value, "f")


class AccountView:
    """The table view of an :class:`~cexfeed.private_feed.Account` (read from its state at each
    refresh; events only update the status line). ``symbols`` and ``compact`` are taken as the
    market view takes them; the tables fit 80 columns as they are."""

    def __init__(self, account: Account, symbols: list[str], title: str, compact: bool = False) -> None:
        self.account = account
        self.title = title
        self.status = ""
        self.errors: list[str] = []
        self.started = time.monotonic()

    def on_event(self, event: Event) -> None:
        if isinstance(event, AccountStatus):
            detail = f"{event.code}: {event.message}" if event.code else event.message
            self.status = event.status + (f" ({detail})" if detail else "")
        elif isinstance(event, VenueError):
            self.errors = [f"{event.code} {event.message}", *self.errors[:2]]

    def parts(self) -> list[Any]:
        account = self.account
        state = account.state
        balances = Table(title="balances", expand=False)
        for name in ("currency", "total", "available", "frozen"):
            balances.add_column(name, justify="left" if name == "currency" else "right")
        for currency, b in sorted(state.balances.items()):
            balances.add_row(currency, _num(b.total), _num(b.available), _num(b.frozen))
        orders = Table(title="open orders", expand=False)
        for name in ("order id", "symbol", "side", "type", "status", "price", "amount", "filled", "left"):
            orders.add_column(name)
        for o in list(state.open_orders.values())[-10:]:
            amount = _num(o.amount) if o.amount is not None else f"{_num(o.quote_amount)} (quote)"
            orders.add_row(o.order_id, o.symbol, o.side, o.order_type, o.status.value, _num(o.price), amount, _num(o.filled),
                           _num(o.left if o.left is not None else o.quote_left))
        parts: list[Any] = [Text(self.title, style="bold"), balances, orders]
        if account.market == "perp":
            positions = Table(title="positions", expand=False)
            for name in ("symbol", "mode", "side", "contracts", "size", "entry", "realised pnl"):
                positions.add_column(name)
            for p in state.positions.values():
                positions.add_row(p.symbol, p.mode, p.side or "", _num(p.contracts), _num(p.size), _num(p.entry_price), _num(p.realised_pnl))
            parts.append(positions)
        fills = Table(title="recent fills", expand=False)
        for name in ("trade id", "symbol", "side", "price", "amount", "role", "fee"):
            fills.add_column(name)
        for f in account.fills(5):
            fills.add_row(f.trade_id, f.symbol, f.side, _num(f.price), _num(f.amount if f.amount is not None else f.contracts), f.role or "",
                          f"{_num(f.fee)} {f.fee_currency or ''}")
        parts.append(fills)
        parts.append(Text(f"{time.monotonic() - self.started:5.1f} s  {summary(account.stats())}", style=_STYLE.get(account.status, "dim")))
        if self.errors:
            parts.append(Text("venue errors: " + " | ".join(self.errors), style="yellow"))
        if account.status == "auth_failed" and self.status:
            parts.append(Text(f"credentials refused: {self.status}", style="bold red"))
        return parts


def summary(stats: dict[str, Any]) -> str:
    """One line of an account's counters."""
    conn = stats.get("connection", {})
    errors = format_counts(stats.get("handler", {}).get("errors", {}))
    return (f"status {stats['status']}  events {stats['events']}  syncs {stats['syncs']}  reconnects {max(0, conn.get('connects', 0) - 1)}  "
            f"open orders {stats['state']['open_orders']}  fills {stats['state']['fills']}  errors {errors}")


class _AccountRun(Account):
    """An :class:`Account` whose stats carry the one-line ``summary`` the runner prints."""

    def stats(self) -> dict[str, Any]:
        stats = super().stats()
        stats["summary"] = summary(stats)
        return stats


@main.command()
@click.argument("venue", type=click.Choice(private_names()))
@click.option("--symbols", default="", help="Comma-separated unified symbols to follow (default: all; mexc-spot: the symbols whose "
              "orders and trades the REST snapshot asks for, besides those seen on the stream).")
@click.option("--channels", default="", help="Comma-separated private channels (default: the venue's set).")
@click.option("--url", default=None, help="WebSocket URL (default: the venue's production endpoint).")
@click.option("--rest-url", default=None, help="REST base URL (default: the venue's).")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after this many seconds (default: until Ctrl-C).")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table", show_default=True)
@click.option("--no-data-timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, help="Reconnect after this many seconds without any frame.")
@architecture_option
def account(venue: str, symbols: str, channels: str, url: str | None, rest_url: str | None, duration: float | None, fmt: str,
            no_data_timeout: float, architecture: Any) -> None:
    """Live balances, open orders, positions and recent fills of the account whose keys are in
    GATEIO_API_KEY / GATEIO_API_SECRET (and GATEIO_UID for gateio-perp), or MEXC_API_KEY /
    MEXC_API_SECRET for mexc-spot. --format jsonl prints one event per line (types order, fill,
    balance, position, account_status, account_notice)."""
    try:
        credentials = Credentials.from_env(spec(venue).credentials_env or "GATEIO")
        acc = _AccountRun(venue, credentials, symbols=split(symbols), channels=split(channels) or None, url=url, rest_url=rest_url,
                          no_data_timeout=no_data_timeout, architecture=architecture.architecture(venue))
    except (CredentialsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None

    async def run() -> tuple[list[Any], list[dict[str, Any]]]:
        return [acc], await _run([acc], [[]], fmt, duration, [f"cexfeed account {venue}"], view=AccountView)

    stats = _run_feeds(run, [])
    if stats[0]["status"] == "auth_failed":
        why = f": {acc.failure}" if acc.failure else ""
        raise click.ClickException(f"{venue}: the venue refused the credentials{why}")
    if stats[0]["status"] == "refused":
        raise click.ClickException(f"{venue}: {stats[0]['refused']}; the account is not live")


# -- the demo's account panel -------------------------------------------------------------------------


async def demo_accounts(sim: Any, venues: list[str], seed: int = 7, architecture: Any = None) -> tuple[list[Account], asyncio.Task]:
    """Accounts on the simulator's test keys for each venue with private streams it serves, and
    a task that trades on them (orders placed, partly filled, filled, canceled; a market buy now
    and then) so the panel moves. ``architecture``: the
    :class:`~cexfeed.compat.ArchitectureConfig` choosing each account's path (default: the
    configured one)."""
    from ..sim import gateio_private, mexc_private

    names = [v for v in venues if v in private_names()]
    accounts: list[Account] = []
    for name in names:
        if name == "mexc-spot":
            creds, symbols = Credentials(mexc_private.TEST_KEY, mexc_private.TEST_SECRET), ["BTC/USDT"]
        else:
            creds, symbols = Credentials(gateio_private.TEST_KEY, gateio_private.TEST_SECRET, gateio_private.TEST_UID), []
        accounts.append(_AccountRun(name, creds, symbols=symbols, url=sim.ws_url(name), rest_url=sim.rest_url(name),
                                    architecture=architecture.architecture(name) if architecture is not None else None))
    for name in names:
        private = sim.venues[name].private
        if name == "gateio-spot":
            await private.act("deposit", currency="USDT", amount="25000")
            await private.act("deposit", currency="BTC", amount="0.5")
        elif name == "mexc-spot":
            await private.act("deposit", currency="USDT", amount="25000")
            await private.act("deposit", currency="BTC", amount="0.5")
        else:
            await private.act("deposit", amount="10000")
    return accounts, asyncio.get_running_loop().create_task(_trade(sim, names, random.Random(seed)))


async def _trade(sim: Any, names: list[str], rng: random.Random) -> None:
    working: dict[str, list[str]] = {name: [] for name in names}
    # each venue's own simulated market (their prices differ)
    books = {name: sim.market_of(name).books.get("BTC/USDT") or next(iter(sim.market_of(name).books.values())) for name in names}

    while True:
        await asyncio.sleep(0.7)
        for name in names:
            book = books[name]

            def price(spread: int) -> str:  # near the venue's simulated market, in its ticks
                return book.price_str(book.mid + rng.randint(-spread, spread))

            private = sim.venues[name].private
            orders = working[name]
            try:
                if orders and rng.random() < 0.5:
                    oid = orders.pop(rng.randrange(len(orders)))
                    if rng.random() < 0.3:
                        await private.act("cancel", order_id=oid)
                    else:
                        await private.act("fill", order_id=oid)
                elif name == "mexc-spot":
                    if rng.random() < 0.2:
                        await private.act("market_buy", symbol="BTCUSDT", quote_amount="50", price=price(20))
                        continue
                    made = await private.act("place", symbol="BTCUSDT", side=rng.choice(("BUY", "SELL")), quantity="0.002",
                                             price=price(30))
                    orders.append(made["order_id"])
                    await private.act("fill", order_id=made["order_id"], quantity="0.001", maker=rng.random() < 0.5)
                elif name == "gateio-spot":
                    if rng.random() < 0.2:
                        await private.act("market_buy", pair="BTC_USDT", quote_amount="50", price=price(20))
                        continue
                    made = await private.act("place", pair="BTC_USDT", side=rng.choice(("buy", "sell")), amount="0.002",
                                             price=price(30))
                    orders.append(made["order_id"])
                    await private.act("fill", order_id=made["order_id"], amount="0.001")
                else:
                    made = await private.act("place", contract="BTC_USDT", size=str(rng.choice((-1, 1)) * rng.randint(1, 20)),
                                             price=price(30))
                    orders.append(made["order_id"])
            except ValueError:  # e.g. funds ran short: skip this step
                continue
