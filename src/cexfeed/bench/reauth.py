"""Re-authentication after a dropped connection, MEXC spot account stream over loopback (issue
12's target: at most 20 ms median).

One :class:`~cexfeed.private_feed.Account` runs against the simulator (in this process, on the
same event loop). Each round the simulator aborts the socket (TCP reset); we time, from the
abort:

- **subscribed**: the new socket is open on the same listenKey (no REST call: the key is
  reused) and its three private subscriptions are acked;
- **re-authenticated**: the first private push on the new socket is accepted by the handler
  (the driver makes the simulator push a balance change as soon as the subscriptions are
  acked);
- **live**: the account's REST reconciliation (balances, open orders and missed trades) is done
  and it is ``live`` again.

The reconnect wait is set to 1 ms (the backoff policy is not what is measured). The times
include the simulator's own work on the shared loop.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

LABEL = "MEXC re-authentication after a dropped connection"
TARGET = f"{LABEL}: new socket, same key, subscribed, first private push accepted <= 20 ms (median)"
LIMIT_MS = 20.0


async def _until(predicate, timeout: float = 5.0) -> float:
    """Yield to the loop until ``predicate()``; the perf_counter time it became true."""
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("re-authentication round timed out")
        await asyncio.sleep(0)
    return time.perf_counter()


async def run(rounds: int = 40, warmup: int = 3) -> dict[str, Any]:
    """``rounds`` timed rounds (after ``warmup`` untimed ones); medians and p90 in ms."""
    from ..credentials import Credentials
    from ..net.backoff import Backoff
    from ..private_feed import Account
    from ..sim import SimServer
    from ..sim.mexc_private import TEST_KEY, TEST_SECRET

    venue = "mexc-spot"
    sim = SimServer(rate=1, venues=[venue])
    await sim.start()
    private = sim.venues[venue].private
    account = Account(venue, Credentials(TEST_KEY, TEST_SECRET), symbols=["BTC/USDT"], url=sim.ws_url(venue), rest_url=sim.rest_url(venue),
                      reconnect_backoff=lambda: Backoff(initial=0.001, cap=0.001, jitter=0.0))
    subscribed: list[float] = []
    accepted: list[float] = []
    live: list[float] = []
    try:
        await private.act("deposit", currency="USDT", amount="1000")
        if await account.start(10.0) != "live":
            return {"status": f"account not live: {account.status}"}
        conn = account.connection
        handler = account.handler
        assert conn is not None and handler is not None
        url = conn.session_url
        for i in range(rounds + warmup):
            await _until(lambda: account.status == "live" and conn.connected)
            acks, frames = conn.stats.acks_ok, handler.stats.frames
            t0 = time.perf_counter()
            sim.drop_connections(venue)
            t1 = await _until(lambda: conn.stats.acks_ok >= acks + 3)
            pushed = handler.stats.frames
            await private.act("deposit", currency="USDT", amount="1")
            t2 = await _until(lambda: handler.stats.frames > pushed)
            t3 = await _until(lambda: account.status == "live")
            if i >= warmup:
                subscribed.append((t1 - t0) * 1e3)
                accepted.append((t2 - t0) * 1e3)
                live.append((t3 - t0) * 1e3)
            assert handler.stats.frames > frames
        same_key = conn.session_url == url and private.key_calls["POST"] == 1
    except Exception as exc:  # reported as the row's status, the rest of the run goes on
        return {"status": f"error: {type(exc).__name__}: {exc}"}
    finally:
        await account.close()
        await sim.stop()

    def stats(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {"median_ms": statistics.median(ordered), "p90_ms": ordered[int(0.9 * (len(ordered) - 1))], "max_ms": ordered[-1]}

    return {"status": "ok", "rounds": rounds, "same_key": same_key, "subscribed": stats(subscribed), "accepted": stats(accepted), "live": stats(live)}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The re-authentication target with its figures (``met`` ``None`` when not measured)."""
    row = results.get("reauth") or {}
    if row.get("status") != "ok":
        return [{"target": TARGET, "figures": [f"not measured ({row.get('status', 'not run')})"], "met": None}]
    accepted = row["accepted"]["median_ms"]
    figures = [f"{accepted:.2f} ms (subscribed {row['subscribed']['median_ms']:.2f} ms, live again after REST reconcile "
               f"{row['live']['median_ms']:.2f} ms; same key: {row['same_key']})"]
    return [{"target": TARGET, "figures": figures, "met": accepted <= LIMIT_MS and row["same_key"]}]


def markdown_lines(row: dict[str, Any] | None) -> list[str]:
    """The report's section."""
    lines = ["", "## Re-authentication (MEXC account stream)", ""]
    if not row or row.get("status") != "ok":
        return lines + [f"Not measured ({(row or {}).get('status', 'not run')})."]
    lines += [
        f"{row['rounds']} rounds over loopback against the simulator (same process): the simulator aborts the socket, the client "
        "reconnects (reconnect wait 1 ms) with the same listenKey and resubscribes; times from the abort, ms "
        "(`cexfeed/bench/reauth.py`).",
        "",
        "| step | median | p90 | max |",
        "|---|---|---|---|",
    ]
    for key, text in (("subscribed", "new socket, 3 private channels acked"), ("accepted", "first private push accepted"),
                      ("live", "REST reconcile done, live again")):
        s = row[key]
        lines.append(f"| {text} | {s['median_ms']:.2f} | {s['p90_ms']:.2f} | {s['max_ms']:.2f} |")
    return lines
