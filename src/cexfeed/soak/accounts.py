"""Account streams in the every-venue run: per venue how to trade on the simulator's ledger while
the run goes on (``drive``) and how to tell the account is right afterwards (``check``).

Gate.io spot and perpetuals and MEXC spot are registered here; a venue whose private streams
land later registers itself with :func:`register` (the run includes it wherever the venue
registry lists private streams and the simulator serves them; until then the run skips it and
says so in its figures).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Awaitable, Callable


@dataclass
class AccountSetup:
    """``credentials()`` the simulator accepts; ``drive(private_sim, rng, step)`` one ledger
    action (called every half second or so, ``step`` counting from 0); ``check(account,
    private_sim)`` the list of differences between the account and the ledger ([] = right)."""

    credentials: Callable[[], Any]
    drive: Callable[[Any, random.Random, int], Awaitable[None]]
    check: Callable[[Any, Any], list[str]]
    symbols: tuple[str, ...] = ()


SETUPS: dict[str, AccountSetup] = {}


def register(venue: str, setup: AccountSetup) -> None:
    """Include ``venue``'s account stream in the every-venue run."""
    SETUPS[venue] = setup


def _gate_credentials():
    from ..credentials import Credentials
    from ..sim.gateio_private import TEST_KEY, TEST_SECRET, TEST_UID

    return Credentials(TEST_KEY, TEST_SECRET, TEST_UID)


async def _drive_spot(p: Any, rng: random.Random, step: int) -> None:
    if step == 0:
        await p.act("deposit", currency="USDT", amount="100000")
        await p.act("deposit", currency="BTC", amount="5")
        return
    ledger = p.ledger()
    open_ids = sorted(ledger.open_order_ids())
    roll = rng.random()
    if open_ids and roll < 0.35:
        await p.act("fill", order_id=rng.choice(open_ids), amount=f"{rng.randint(1, 5) / 1000:.3f}")
    elif open_ids and roll < 0.5:
        await p.act("cancel", order_id=rng.choice(open_ids))
    else:
        side = rng.choice(["buy", "sell"])
        price = 50000 + rng.randint(-50, 50) * (1 if side == "buy" else -1)
        await p.act("place", pair="BTC_USDT", side=side, amount=f"{rng.randint(5, 20) / 1000:.3f}", price=str(price))


def _check_spot(account: Any, p: Any) -> list[str]:
    ledger = p.ledger()
    wrong = []
    for currency, (total, available, locked) in ledger.totals().items():
        held = account.state.balances.get(currency)
        mine = (held.total, held.available, held.frozen) if held is not None else (Decimal(0), Decimal(0), Decimal(0))
        if mine != (total, available, locked):
            wrong.append(f"balance {currency}: {mine} != ledger {(total, available, locked)}")
    if set(account.state.open_orders) != ledger.open_order_ids():
        wrong.append(f"open orders {sorted(account.state.open_orders)} != ledger {sorted(ledger.open_order_ids())}")
    if account.state.invariants():
        wrong.append(f"invariants {account.state.invariants()}")
    return wrong


async def _drive_perp(p: Any, rng: random.Random, step: int) -> None:
    if step == 0:
        await p.act("deposit", amount="100000")
        return
    ledger = p.ledger()
    open_ids = sorted(ledger.open_order_ids())
    roll = rng.random()
    if open_ids and roll < 0.4:
        await p.act("fill", order_id=int(rng.choice(open_ids)))
    elif open_ids and roll < 0.55:
        await p.act("cancel", order_id=int(rng.choice(open_ids)))
    else:
        size = rng.choice([1, 2, 3, -1, -2])
        await p.act("place", contract="BTC_USDT", size=str(size), price=str(50000 + rng.randint(-20, 20)))


def _check_perp(account: Any, p: Any) -> list[str]:
    ledger = p.ledger()
    wrong = []
    if account.balances().get("USDT") is None or account.balances()["USDT"].total != ledger.balance:
        wrong.append(f"USDT {account.balances().get('USDT')} != ledger {ledger.balance}")
    held = {key for key, pos in account.positions().items() if pos.contracts}
    expected = {(c.replace("_", "/") + ":USDT", m) for (c, m), pos in ledger.positions.items() if pos.size != 0}
    if held != expected:
        wrong.append(f"positions {sorted(held)} != ledger {sorted(expected)}")
    if set(account.open_orders()) != ledger.open_order_ids():
        wrong.append(f"open orders {sorted(account.open_orders())} != ledger {sorted(ledger.open_order_ids())}")
    if account.state.invariants():
        wrong.append(f"invariants {account.state.invariants()}")
    return wrong


def _mexc_credentials():
    from ..credentials import Credentials
    from ..sim.mexc_private import TEST_KEY, TEST_SECRET

    return Credentials(TEST_KEY, TEST_SECRET)


async def _drive_mexc(p: Any, rng: random.Random, step: int) -> None:
    if step == 0:
        await p.act("deposit", currency="USDT", amount="100000")
        await p.act("deposit", currency="BTC", amount="5")
        return
    open_ids = sorted(p.ledger().open_order_ids())
    roll = rng.random()
    if open_ids and roll < 0.35:
        await p.act("fill", order_id=rng.choice(open_ids), quantity=f"{rng.randint(1, 5) / 1000:.3f}", maker=rng.random() < 0.5)
    elif open_ids and roll < 0.5:
        await p.act("cancel", order_id=rng.choice(open_ids))
    else:
        side = rng.choice(["BUY", "SELL"])
        price = 50000 + rng.randint(-50, 50) * (1 if side == "BUY" else -1)
        await p.act("place", symbol="BTCUSDT", side=side, quantity=f"{rng.randint(5, 20) / 1000:.3f}", price=str(price))


def _check_mexc(account: Any, p: Any) -> list[str]:
    ledger = p.ledger()
    wrong = []
    for currency, (total, free, locked) in ledger.totals().items():
        held = account.state.balances.get(currency)
        if held is None:
            if total:
                wrong.append(f"balance {currency} missing")
            continue
        # MEXC states available and frozen; the total is their sum
        if (held.available, held.frozen, held.total) != (free, locked, total):
            wrong.append(f"balance {currency}: {(held.available, held.frozen, held.total)} != ledger {(free, locked, total)}")
    if set(account.state.open_orders) != ledger.open_order_ids():
        wrong.append(f"open orders {sorted(account.state.open_orders)} != ledger {sorted(ledger.open_order_ids())}")
    if account.state.invariants():
        wrong.append(f"invariants {account.state.invariants()}")
    return wrong


register("gateio-spot", AccountSetup(_gate_credentials, _drive_spot, _check_spot))
register("gateio-perp", AccountSetup(_gate_credentials, _drive_perp, _check_perp))
register("mexc-spot", AccountSetup(_mexc_credentials, _drive_mexc, _check_mexc, symbols=("BTC/USDT", "ETH/USDT")))


def available(sim: Any) -> tuple[list[str], list[str]]:
    """``(venues whose account runs, venues with private streams left out and why)`` for the
    simulator ``sim``."""
    from ..venues import private_names

    run, skipped = [], []
    for venue in private_names():
        if venue not in sim.venues:
            continue
        if venue not in SETUPS:
            skipped.append(f"{venue}: no account setup registered (cexfeed.soak.accounts.register)")
        elif getattr(sim.venues[venue], "private", None) is None:
            skipped.append(f"{venue}: the simulator serves no account for it")
        else:
            run.append(venue)
    for venue in sim.venues:
        if venue not in private_names():
            skipped.append(f"{venue}: no private streams in the venue registry yet")
    return run, skipped
