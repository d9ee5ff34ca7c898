"""Shared helpers of the account-stream tests: an Account on the simulator, waiting for it to
settle, and the comparison of its state with the simulator's ledger (the oracle)."""

from __future__ import annotations

import asyncio
import os

from cexfeed.credentials import Credentials
from cexfeed.models import Fill
from cexfeed.net.backoff import Backoff
from cexfeed.private_feed import Account
from cexfeed.sim.gateio_private import TEST_KEY, TEST_SECRET, TEST_UID

CREDS = Credentials(TEST_KEY, TEST_SECRET, TEST_UID)
LONG = os.environ.get("CEXFEED_LONG_TESTS") == "1"


def fast_backoff() -> Backoff:
    return Backoff(initial=0.05, cap=0.3)


async def open_account(sim, venue: str, events: list, credentials: Credentials = CREDS, expect: str = "live", **kwargs) -> Account:
    account = Account(venue, credentials, url=sim.ws_url(venue), rest_url=sim.rest_url(venue), on_event=events.append,
                      reconnect_backoff=fast_backoff, ack_timeout=3.0, **kwargs)
    status = await account.start(10.0)
    assert status == expect, (status, account.stats())
    return account


async def settle(account: Account, timeout: float = 15.0) -> None:
    """Wait until the account is live on a connected socket and no event arrived for a while."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = -1
    while loop.time() < deadline:
        conn = account.connection
        if account.status == "live" and conn is not None and conn.connected and account.events_total == seen:
            return
        seen = account.events_total
        await asyncio.sleep(0.15)
    raise AssertionError(f"account did not settle: {account.stats()}")


def fill_ids(events: list) -> list[str]:
    return [e.trade_id for e in events if isinstance(e, Fill)]


def assert_fills_once(events: list, ledger_trade_ids: set[str]) -> None:
    ids = fill_ids(events)
    assert len(ids) == len(set(ids)), "a fill was reported twice"
    assert set(ids) == ledger_trade_ids, (len(ids), len(ledger_trade_ids), set(ids) ^ ledger_trade_ids)
