"""The test rigs of the fault matrix: one simulated venue, a :class:`~cexfeed.sim.faultproxy.FaultProxy`
in front of its WebSocket (REST goes direct), and the client under test through the proxy:
a market :class:`~cexfeed.feed.Feed` (:class:`PublicRig`) or an :class:`~cexfeed.private_feed.Account`
(:class:`AccountRig`).

Each rig knows the truth to compare with (the simulator's books, the simulated ledger), how to
wait for the client to be back in a right state after a fault (:meth:`Rig.recovered`) and how
to check that state (:meth:`Rig.check_state`, a list of what is wrong). Unhandled exceptions
on the event loop and ERROR log lines of ``cexfeed`` while the rig runs are collected: a fault
that causes one is not survived.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from decimal import Decimal
from typing import Any

from ..models import AccountStatus, BookStatus, ConnectionStatus, Fill
from ..net.backoff import Backoff
from ..sim import SimServer
from ..sim.faultproxy import FaultProxy
from ..sim.market import DEFAULT_SYMBOLS
from ..sim.testing import sim_levels, wait_until

#: the client settings of every rig: a fast heartbeat, so that a half-open socket is noticed
#: within ``NO_DATA_TIMEOUT`` s, and a short reconnect backoff (capped at ``BACKOFF_CAP`` s)
NO_DATA_TIMEOUT = 1.0
PING_INTERVAL = 0.25
BACKOFF_INITIAL = 0.05
BACKOFF_CAP = 0.4
SUBSCRIPTION_TIMEOUT = 0.6
HANDSHAKE_TIMEOUT = 0.5


def rig_backoff() -> Backoff:
    return Backoff(initial=BACKOFF_INITIAL, cap=BACKOFF_CAP)


class FaultFailed(AssertionError):
    """The client did not get through a fault (what it did instead is the message)."""


class _Collect(logging.Handler):
    """ERROR lines logged by this thread (rigs may run side by side, one per thread)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(f"{record.name}: {record.getMessage()}"[:300])


class Rig:
    """What both rigs share: the simulator, the proxy, events, problem collection."""

    column = ""
    venue = ""

    def __init__(self, rate: float = 20.0) -> None:
        self.rate = rate
        self.sim: SimServer | None = None
        self.proxy: FaultProxy | None = None
        self.events: list = []
        self.problems: list[str] = []
        self._log = _Collect()
        self._old_handler: Any = None

    async def prepare(self) -> None:
        """Start the simulator and the proxy, and begin collecting problems."""
        self.sim = await SimServer(symbols=DEFAULT_SYMBOLS[:2], seed=13, rate=self.rate, venues=[self.venue]).start()
        self.proxy = await FaultProxy("127.0.0.1", self.sim.port).start()
        loop = asyncio.get_running_loop()
        self._old_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._loop_error)
        logging.getLogger("cexfeed").addHandler(self._log)

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        self.problems.append(f"unhandled on the event loop: {context.get('message')} {context.get('exception')!r}"[:300])

    def unhandled(self) -> list[str]:
        """Unhandled exceptions and ERROR log lines seen so far."""
        return self.problems + self._log.lines

    @property
    def ws_url(self) -> str:
        assert self.sim is not None and self.proxy is not None
        return self.proxy.url(self.sim.ws_url(self.venue))

    @property
    def rest_url(self) -> str:
        assert self.sim is not None
        return self.sim.rest_url(self.venue)

    def connection_events(self, status: str | None = None) -> list[ConnectionStatus]:
        return [e for e in self.events if isinstance(e, ConnectionStatus) and e.connection != "rest"
                and (status is None or e.status == status)]

    async def close_client(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        try:
            await self.close_client()
        finally:
            if self.proxy is not None:
                await self.proxy.stop()
            if self.sim is not None:
                await self.sim.stop()
            logging.getLogger("cexfeed").removeHandler(self._log)
            asyncio.get_running_loop().set_exception_handler(self._old_handler)


# -- market data -------------------------------------------------------------------------------

class PublicSetup:
    """What a public rig subscribes on one venue: ``book`` on ``symbols[0]`` (with trades and
    bbo), and on ``symbols[1]`` the book channel ``second_book`` (Gate: the in-band ``book_obu``)."""

    def __init__(self, symbols: tuple[str, str], second_book: str = "book") -> None:
        self.symbols = symbols
        self.second_book = second_book


PUBLIC = {
    "gateio-spot": PublicSetup(("BTC/USDT", "ETH/USDT"), "book_obu"),
    "gateio-perp": PublicSetup(("BTC/USDT:USDT", "ETH/USDT:USDT"), "book_obu"),
    "mexc-spot": PublicSetup(("BTC/USDT", "ETH/USDT")),
}


class PublicRig(Rig):
    """A market :class:`~cexfeed.feed.Feed` of ``venue`` through the proxy (two symbols, see
    :data:`PUBLIC`), on the ``architecture`` (``direct`` handlers or ``strategy``).
    ``feed_options`` go to the feed (e.g. ``queue_size``)."""

    def __init__(self, venue: str, rate: float = 20.0, architecture: str = "direct", **feed_options: Any) -> None:
        super().__init__(rate)
        self.architecture = architecture
        self.venue = self.column = venue
        self.setup = PUBLIC[venue]
        self.symbols = list(self.setup.symbols)
        self.feed_options = feed_options
        self.feed: Any = None
        self.acks: list = []

    def make_feed(self, **options: Any) -> Any:
        from ..architecture import open_feed

        opts = dict(no_data_timeout=NO_DATA_TIMEOUT, ping_interval=PING_INTERVAL, reconnect_backoff=rig_backoff,
                    subscription_timeout=SUBSCRIPTION_TIMEOUT, on_event=self.events.append, ack_timeout=2.0,
                    handshake_timeout=HANDSHAKE_TIMEOUT)
        opts.update(self.feed_options)
        opts.update(options)
        if opts.get("on_event") is None:
            opts.pop("on_event")
        return open_feed(self.venue, self.symbols[:1], ["book", "trades", "bbo"], architecture=self.architecture, url=self.ws_url,
                         rest_url=self.rest_url, **opts)

    async def open(self, timeout: float = 10.0, wait_synced: bool = True, **options: Any) -> list:
        """Start the feed (both symbols); with ``wait_synced`` wait until every book is synced."""
        self.feed = self.make_feed(**options)
        self.acks = list(await self.feed.start(timeout=timeout))
        self.acks += await asyncio.wait_for(self.feed.subscribe(self.symbols[1:], [self.setup.second_book, "trades", "bbo"]), timeout)
        if wait_synced and not await wait_until(self.all_synced, timeout):
            raise FaultFailed(f"books not synced after the start: {self.book_states()}")
        return self.acks

    async def close_client(self) -> None:
        if self.feed is not None:
            feed, self.feed = self.feed, None
            await feed.close()

    # -- truth and state ------------------------------------------------------------------------
    def sim_symbol(self, symbol: str) -> str:
        return symbol.split(":")[0]

    def sim_id(self, symbol: str) -> int:
        assert self.sim is not None
        return self.sim.market_of(self.venue).books[self.sim_symbol(symbol)].update_id

    def all_synced(self) -> bool:
        feed = self.feed
        return feed is not None and all(feed.synced(s) for s in self.symbols)

    def book_states(self) -> dict[str, Any]:
        feed = self.feed
        out = {}
        for s in self.symbols:
            book = feed.book(s) if feed is not None else None
            out[s] = (feed.synced(s) if feed is not None else None, book.last_update_id if book is not None else None, self.sim_id(s))
        return out

    def mark(self) -> dict[str, int]:
        """The simulator's update id of every symbol now (what a recovered book must pass)."""
        return {s: self.sim_id(s) for s in self.symbols}

    def connected(self) -> bool:
        return all(c.connected for c in self.feed.connections)

    async def recovered(self, mark: dict[str, int], since: float, timeout: float = 10.0) -> float:
        """Wait until every connection is up and every book is synced past ``mark``; returns the
        seconds since ``since`` (a ``time.monotonic()``). Raises :class:`FaultFailed`."""
        feed = self.feed

        def ok() -> bool:
            if not self.connected():
                return False
            for s in self.symbols:
                book = feed.book(s)
                if not feed.synced(s) or book is None or book.last_update_id <= mark[s]:
                    return False
            return True

        if not await wait_until(ok, timeout, 0.005):
            raise FaultFailed(f"not recovered within {timeout:g} s: {self.book_states()}, connections "
                              f"{[(c.state, c.last_error) for c in feed.connections]}")
        return time.monotonic() - since

    async def check_state(self) -> list[str]:
        """Pause the market, wait for the books to catch up, compare every level with the
        simulator; resume. Returns what is wrong."""
        sim, feed = self.sim, self.feed
        assert sim is not None
        sim.pause()
        try:
            caught_up = await wait_until(lambda: all(feed.synced(s) and feed.book(s).last_update_id == self.sim_id(s) for s in self.symbols), 5.0)
            if not caught_up:
                return [f"books did not catch up with the venue: {self.book_states()}"]
            wrong = []
            for s in self.symbols:
                bids, asks = sim_levels(sim, self.sim_symbol(s), venue=self.venue)
                book = feed.book(s)
                if book.top_bids() != bids or book.top_asks() != asks:
                    wrong.append(f"{s}: book differs from the venue's at id {book.last_update_id}")
                if book.crossed():
                    wrong.append(f"{s}: crossed")
            return wrong
        finally:
            sim.resume()

    def statuses(self, symbol: str) -> list[tuple[str, str]]:
        return [(e.status, e.reason) for e in self.events if isinstance(e, BookStatus) and e.symbol == symbol]


# -- accounts ----------------------------------------------------------------------------------

D = Decimal


class AccountRig(Rig):
    """An :class:`~cexfeed.private_feed.Account` of ``venue`` (Gate spot or perp, MEXC spot)
    through the proxy, with :meth:`activity` to make orders and fills and :meth:`check_state` comparing the
    account with the simulated ledger. Each :meth:`open` starts a new account on a new user of
    the simulator (its own keys and ledger), so what one account published is never mixed with
    another's; :attr:`events` are the current account's."""

    def __init__(self, venue: str, rate: float = 2.0, architecture: str = "direct", **account_options: Any) -> None:
        super().__init__(rate)
        self.architecture = architecture
        self.venue = venue
        self.column = f"{venue} account"
        self.account_options = account_options
        self.account: Any = None
        self.users = 0
        self.uid = ""
        self.credentials: Any = None
        self._n = 0

    @property
    def private(self) -> Any:
        assert self.sim is not None
        return self.sim.venues[self.venue].private

    async def open(self, expect: str | None = "live", timeout: float = 10.0, **options: Any) -> str:
        """A new user (keys, funded ledger) and a new account on it; ``expect`` the status
        :meth:`~cexfeed.private_feed.Account.start` must reach (``None``: any)."""
        from ..credentials import Credentials
        from ..private_feed import Account

        self.users += 1
        self.uid = str(30000 + self.users)
        key, secret = f"mx0vmatrixkey{self.users}", f"matrix-secret-{self.users}"
        self.private.add_account(key, secret, self.uid)
        self.credentials = Credentials(key, secret, self.uid if self.venue.startswith("gateio") else "")
        await self.fund()
        self.events = []
        opts = dict(no_data_timeout=NO_DATA_TIMEOUT, ping_interval=PING_INTERVAL, reconnect_backoff=rig_backoff,
                    on_event=self.events.append, ack_timeout=2.0, handshake_timeout=HANDSHAKE_TIMEOUT)
        opts.update(self.account_options)
        opts.update(options)
        if opts.get("on_event") is None:
            opts.pop("on_event")
        if self.venue == "mexc-spot":  # MEXC's own trades are asked for by symbol
            opts.setdefault("symbols", ["BTC/USDT", "ETH/USDT"])
        self.account = Account(self.venue, self.credentials, url=self.ws_url, rest_url=self.rest_url, architecture=self.architecture, **opts)
        status = await self.account.start(timeout)
        if expect is not None and status != expect:
            raise FaultFailed(f"account {status!r} after the start, expected {expect!r}: {self.account.stats()}")
        return status

    async def close_client(self) -> None:
        if self.account is not None:
            account, self.account = self.account, None
            await account.close()

    async def act(self, action: str, **params: Any) -> dict[str, Any]:
        """One ledger action of the current user."""
        return await self.private.act(action, uid=self.uid, **params)

    async def fund(self) -> None:
        if self.venue != "gateio-perp":
            for currency, amount in (("USDT", "10000000"), ("BTC", "100"), ("ETH", "1000")):
                await self.act("deposit", currency=currency, amount=amount)
        else:
            await self.act("deposit", amount="100000000")

    async def place(self, **extra: Any) -> str:
        """Place one limit order (a fresh one each call); returns its id."""
        self._n += 1
        n = self._n
        if self.venue == "mexc-spot":
            made = await self.act("place", symbol="BTCUSDT", side="BUY" if n % 2 else "SELL", quantity=f"0.0{n % 9 + 1}",
                                  price=f"{50000 + n}.5")
        elif self.venue == "gateio-spot":
            made = await self.act("place", pair="BTC_USDT", side="buy" if n % 2 else "sell", amount=f"0.0{n % 9 + 1}",
                                          price=f"{50000 + n}.5", **extra)
        else:
            made = await self.act("place", contract="BTC_USDT", size=str((n % 7 + 2) * (1 if n % 2 else -1)),
                                          price=f"{50000 + n}.5", **extra)
        return str(made["order_id"])

    async def fill(self, order_id: str, part: bool = False, **extra: Any) -> None:
        """Fill an order placed by :meth:`place`, all of it or a small part."""
        if not part:
            await self.act("fill", order_id=order_id, **extra)
        elif self.venue == "mexc-spot":
            await self.act("fill", order_id=order_id, quantity="0.001", **extra)
        elif self.venue == "gateio-spot":
            await self.act("fill", order_id=order_id, amount="0.001", **extra)
        else:
            await self.act("fill", order_id=order_id, size="1", **extra)

    async def activity(self, **extra: Any) -> None:
        """A little of everything: an order placed and partly filled, one placed and filled,
        one placed and canceled (``extra`` goes to the fills, e.g. ``drop_after``)."""
        a = await self.place()
        await self.fill(a, part=True, **extra)
        b = await self.place()
        await self.fill(b, **extra)
        c = await self.place()
        await self.act("cancel", order_id=c)

    def ledger(self) -> Any:
        return self.private.ledger(self.uid)

    def trade_ids(self) -> set[str]:
        return {str(t.id) for t in self.ledger().trades}

    async def recovered(self, since: float, timeout: float = 10.0, connects: int | None = None) -> float:
        """Wait until the account is live on a connected socket (the ``connects``-th, when given)
        and has every fill of the ledger; returns seconds since ``since``. Raises :class:`FaultFailed`."""
        account = self.account

        def ok() -> bool:
            conn = account.connection
            if account.status != "live" or conn is None or not conn.connected:
                return False
            if connects is not None and conn.stats.connects < connects:
                return False
            return self.trade_ids() <= set(account.state.fills)

        if not await wait_until(ok, timeout, 0.005):
            conn = account.connection
            raise FaultFailed(f"account not recovered within {timeout:g} s: status {account.status}, "
                              f"connection {conn.state if conn else None} {conn.last_error if conn else ''}")
        return time.monotonic() - since

    async def check_state(self) -> list[str]:
        """Let the account settle, then compare balances, open orders, positions and fills with
        the ledger. Returns what is wrong."""
        account = self.account
        if account.status == "auth_failed":
            return []
        seen = -1
        for _ in range(40):  # settled: live and no event for a moment
            if account.status == "live" and account.events_total == seen:
                break
            seen = account.events_total
            await asyncio.sleep(0.05)
        if account.status != "live":
            return [f"account {account.status} (not live)"]
        wrong = []
        if set(account.state.fills) != self.trade_ids():
            wrong.append(f"fills held {len(account.state.fills)}, ledger {len(self.trade_ids())}")
        if account._on_event is not None:  # every event recorded: each fill published once
            fills = [e.trade_id for e in self.events if isinstance(e, Fill)]
            if len(fills) != len(set(fills)):
                wrong.append("a fill was published twice")
            if set(fills) != self.trade_ids():
                wrong.append(f"fills published {len(set(fills))}, ledger {len(self.trade_ids())}")
        ledger = self.ledger()
        if set(account.open_orders()) != {str(i) for i in ledger.open_order_ids()}:
            wrong.append(f"open orders {sorted(account.open_orders())} != ledger {sorted(ledger.open_order_ids())}")
        if self.venue != "gateio-perp":
            for currency, (total, available, locked) in ledger.totals().items():
                held = account.state.balances.get(currency)
                mine = (held.total, held.available, held.frozen) if held is not None else (D(0), D(0), D(0))
                if mine != (total, available, locked):
                    wrong.append(f"balance {currency} {mine} != ledger {(total, available, locked)}")
        else:
            held = account.balances().get("USDT")
            if held is None or held.total != ledger.balance:
                wrong.append(f"balance USDT {held.total if held else None} != ledger {ledger.balance}")
            expected = {(c.replace("_", "/") + ":USDT", m): p for (c, m), p in ledger.positions.items() if p.size != 0}
            mine = account.positions()
            if set(mine) != set(expected):
                wrong.append(f"positions {sorted(mine)} != ledger {sorted(expected)}")
            for key, pos in expected.items():
                if key in mine and (mine[key].contracts, mine[key].update_id) != (pos.size, pos.update_id):
                    wrong.append(f"position {key} {mine[key].contracts} != ledger {pos.size}")
        invariants = account.state.invariants()
        if invariants:
            wrong.append(f"account invariants broken: {invariants}")
        return wrong

    def statuses(self) -> list[str]:
        return [e.status for e in self.events if isinstance(e, AccountStatus)]
