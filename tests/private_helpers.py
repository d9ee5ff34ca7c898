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


class Drops:
    """Where an acceptance run drops the connection: ``count`` of its steps (after the first 3),
    each on the socket the previous drop made the client open (which may still be
    reconciling); half of them in the middle of an action (the venue aborts the connections part
    way through the action's pushes)."""

    def __init__(self, rng, steps: int, count: int, sim, venue: str, account: Account) -> None:
        self.at = set(rng.sample(range(3, steps), count))
        self.mid = set(sorted(self.at)[::2])
        self.count = count
        self.rng = rng
        self.sim = sim
        self.venue = venue
        self.conn = account.connection
        self.sessions = self.conn.stats.connects

    async def before(self, i: int) -> None:
        """Before step ``i``: wait for the current socket; drop it now unless ``i`` drops mid-action."""
        if i in self.at:
            conn = self.conn
            assert await _wait(lambda: conn.stats.connects == self.sessions and conn.connected, 10), (i, self.sessions)
            self.sessions += 1
            if i not in self.mid:
                self.sim.drop_connections(self.venue)

    def during(self, i: int) -> dict:
        """Keyword arguments of an action of step ``i``: ``drop_after`` the first time it drops mid-action."""
        if i in self.mid:
            self.mid.discard(i)
            return {"drop_after": self.rng.randint(1, 4)}
        return {}

    def after(self, i: int) -> None:
        """After step ``i``: a mid-action drop that found no action to ride on happens now."""
        if i in self.mid:
            self.mid.discard(i)
            self.sim.drop_connections(self.venue)

    async def check(self, account: Account, events: list, trade_ids: set[str]) -> None:
        """The run is over: settled, one reconnect per drop, every fill reported once."""
        await settle(account, 30)
        assert self.conn.stats.connects == self.count + 1
        assert_fills_once(events, trade_ids)
        assert len(fill_ids(events)) == len(trade_ids)


async def _wait(predicate, timeout: float) -> bool:
    from cexfeed.sim.testing import wait_until

    return await wait_until(predicate, timeout)
