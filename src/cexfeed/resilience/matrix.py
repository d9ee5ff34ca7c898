"""The fault matrix (issue #13 item 2): every fault as a row, every venue stream as a column,
each applicable cell a scenario over real sockets (:mod:`~cexfeed.resilience.public`,
:mod:`~cexfeed.resilience.private`) run ``repeats`` times on a fresh rig, the state checked
against the simulator after each repeat.

Columns: the market streams of every venue, and the account streams of :data:`ACCOUNT_VENUES`
(a venue's account column is ``pending`` until it is listed there and
:class:`~cexfeed.resilience.rig.AccountRig` knows its ledger: fund/place/fill/check_state).
A row may run another scenario on one venue (``account_by_venue``: MEXC's listenKey lapses
where a Gate key is revoked).

Use::

    run = run_matrix(repeats=3, parallel=4)         # a MatrixRun (each cell on its own loop)
    print(render_markdown(run))                     # cexfeed.resilience.results
    result = await run_cell("half_open", "gateio-spot", repeats=3)
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Iterable

from . import private, public
from .results import FAILED, NOT_APPLICABLE, OK, PENDING, FaultResult, MatrixRun, median_ms
from .rig import BACKOFF_CAP, BACKOFF_INITIAL, NO_DATA_TIMEOUT, PING_INTERVAL, SUBSCRIPTION_TIMEOUT, AccountRig, FaultFailed, PublicRig

Scenario = Callable[[Any, int], Awaitable[float]]

PUBLIC_VENUES = ("gateio-spot", "gateio-perp", "mexc-spot")
#: venues whose account stream the matrix runs (a venue with an account stream not listed here
#: is ``pending``; AccountRig must know its ledger first)
ACCOUNT_VENUES = ("gateio-spot", "gateio-perp", "mexc-spot")
ACCOUNT_PENDING: dict[str, str] = {}
COLUMNS = tuple(PUBLIC_VENUES) + tuple(f"{v} account" for v in ("gateio-spot", "gateio-perp", "mexc-spot"))

_NO_SEQ = "account pushes carry no book or sequence"
_NO_FULL = "MEXC spot depth has no in-band full push (limit.depth is a separate stream)"
_NO_NOTICE = "MEXC sends no upgrade notice (a maintenance close is the close-frame row)"
_NO_NOTICES = {"mexc-spot": _NO_NOTICE, "mexc-spot account": _NO_NOTICE}
_REFUSED = "a refused private channel is the auth-failure row"


class Fault:
    """One row: ``id``, ``title``, the ``public`` and ``account`` scenarios (``None``: not
    applicable, with ``na`` the reason), ``na`` per column, ``opens``: the scenario opens the
    client itself, ``timed``: what the time to recover counts from."""

    def __init__(self, id: str, title: str, public: Scenario | None, account: Scenario | None, *, na: dict[str, str] | None = None,
                 na_public: str = "", na_account: str = "", opens: bool = False, timed: str = "injection", rate: float | None = None,
                 account_options: dict[str, Any] | None = None, timed_account: str | None = None,
                 account_by_venue: dict[str, Scenario] | None = None, timed_by_column: dict[str, str] | None = None) -> None:
        self.id = id
        self.title = title
        self.public = public
        self.account = account
        self.na = dict(na or {})
        self.na_public = na_public
        self.na_account = na_account
        self.opens = opens
        self.timed = timed
        self.rate = rate
        self.account_options = dict(account_options or {})
        self.timed_account = timed_account or timed
        self.account_by_venue = dict(account_by_venue or {})
        self.timed_by_column = dict(timed_by_column or {})

    def timing(self, column: str) -> str:
        """What the time of ``column``'s cell counts from."""
        if column in self.timed_by_column:
            return self.timed_by_column[column]
        return self.timed_account if column.endswith(" account") else self.timed

    def cell(self, column: str) -> tuple[Scenario | None, str, str]:
        """``(scenario, status, note)`` of ``column``: a scenario to run (status ``ok``), or
        ``None`` with ``n/a``/``pending`` and the reason."""
        if column in self.na:
            return None, NOT_APPLICABLE, self.na[column]
        if column.endswith(" account"):
            venue = column.removesuffix(" account")
            if self.account is None:
                return None, NOT_APPLICABLE, self.na_account
            if venue not in ACCOUNT_VENUES:
                return None, PENDING, ACCOUNT_PENDING.get(venue, "no account stream")
            return self.account_by_venue.get(venue, self.account), OK, ""
        if self.public is None:
            return None, NOT_APPLICABLE, self.na_public
        return self.public, OK, ""


FAULTS: tuple[Fault, ...] = (
    Fault("tcp_reset", "connection dropped (TCP reset)", public.tcp_reset, private.tcp_reset),
    Fault("close_frame", "connection closed (close frame 1012)", public.close_frame, private.close_frame),
    Fault("reset_mid_frame", "reset in the middle of a frame", public.reset_mid_frame, private.reset_mid_frame),
    Fault("half_open", "half-open connection (no close, no data)", public.half_open, private.half_open),
    # the account finds what the venue never pushed at its next periodic reconcile (1 s here)
    Fault("silent_with_pongs", "venue silent while pongs continue", public.silent_with_pongs, private.silent_with_pongs, timed="lifted",
          account_options={"reconcile_interval": 1.0}, timed_account="missed"),
    Fault("latency", "latency 150 ms each way", public.latency, private.latency),
    Fault("bandwidth", "bandwidth limit (24 kB/s)", public.bandwidth, private.bandwidth),
    Fault("sequence_gap", "sequence gap", public.sequence_gap, None, na_account=_NO_SEQ),
    Fault("crossed_book", "crossed book", public.crossed_book, None, na_account=_NO_SEQ),
    Fault("full_snapshot", "full snapshot mid-stream", public.full_snapshot, None, na={"mexc-spot": _NO_FULL}, na_account=_NO_SEQ),
    Fault("malformed_frame", "malformed frame", public.malformed_frame, private.malformed_frame),
    Fault("unknown_channel", "unknown channel", public.unknown_channel, private.unknown_channel),
    Fault("error_frame", "error frame", public.error_frame, private.error_frame),
    Fault("subscription_refused", "subscription refused", public.subscription_refused, None, na_account=_REFUSED, opens=True,
          timed="start"),
    Fault("refused_on_resubscribe", "subscription refused on the replay after a reconnect", public.refused_on_resubscribe, None,
          na_account=_REFUSED, timed="lifted"),
    Fault("upgrade_notice", "upgrade/maintenance notice", public.upgrade_notice, private.upgrade_notice, na=_NO_NOTICES),
    Fault("snapshot_failing", "REST snapshot failing", public.snapshot_failing, private.snapshot_failing),
    Fault("snapshot_slow", "REST snapshot slow", public.snapshot_slow, None,
          na_account="the account's late snapshot is the next row (slow and stale at once)"),
    Fault("snapshot_stale", "REST snapshot stale (older than the buffered deltas)", public.snapshot_stale, private.snapshot_slow_stale),
    Fault("refused_at_start", "connect refused at start", public.refused_at_start, private.refused_at_start, opens=True, timed="lifted"),
    Fault("refused_on_reconnect", "connect refused during reconnect", public.refused_on_reconnect, private.refused_on_reconnect,
          timed="lifted"),
    Fault("handshake_cut", "handshake cut (reset in the upgrade answer)", public.handshake_cut, private.handshake_cut),
    Fault("handshake_hang", "handshake hanging (timed out, retried)", public.handshake_hang, private.handshake_hang),
    Fault("slow_consumer", "slow consumer (bounded queue full)", public.slow_consumer, private.slow_consumer, opens=True,
          timed="consumer"),
    Fault("auth_failure", "auth failure", None, private.auth_failure, na_public="public streams are not authenticated", opens=True,
          timed="reported"),
    # Gate: a revoked key is auth_failed (nothing to renew); MEXC: the listenKey lapses, a new one is made
    Fault("key_expiry", "key expiry / revoked mid-session", None, private.key_revoked, na_public="public streams use no key",
          timed="reported", account_by_venue={"mexc-spot": private.key_lapsed}, timed_by_column={"mexc-spot account": "injection"}),
    Fault("drop_during_fills", "drop while fills happen", None, private.drop_during_fills, na_public="no fills on public streams"),
)

BY_ID = {f.id: f for f in FAULTS}


def settings() -> dict[str, float]:
    """The client settings every time in the matrix depends on."""
    return {"no_data_timeout_s": NO_DATA_TIMEOUT, "ping_interval_s": PING_INTERVAL, "subscription_timeout_s": SUBSCRIPTION_TIMEOUT,
            "backoff_initial_s": BACKOFF_INITIAL, "backoff_cap_s": BACKOFF_CAP}


def not_run(fault_id: str, column: str) -> FaultResult | None:
    """The result of a cell that has no scenario (``n/a`` or ``pending``, with the reason);
    ``None`` for a cell that runs."""
    fault = BY_ID[fault_id]
    scenario, status, note = fault.cell(column)
    if scenario is not None:
        return None
    return FaultResult(fault=fault.id, title=fault.title, column=column, status=status, note=note, timed_from=fault.timing(column))


def make_rig(column: str, fault: Fault, architecture: str = "direct") -> PublicRig | AccountRig:
    options: dict[str, Any] = {"architecture": architecture}
    if fault.rate:
        options["rate"] = fault.rate
    if column.endswith(" account"):
        return AccountRig(column.removesuffix(" account"), **options, **fault.account_options)
    return PublicRig(column, **options)


async def run_cell(fault_id: str, column: str, repeats: int = 3, architecture: str = "direct") -> FaultResult:
    """Run one cell ``repeats`` times on a fresh rig, the client on ``architecture`` (``direct``
    or ``strategy``). Never raises for what the client does: a failure is the result's
    ``status`` ``failed`` with a ``note``."""
    skipped = not_run(fault_id, column)
    if skipped is not None:
        return skipped
    fault = BY_ID[fault_id]
    scenario, status, note = fault.cell(column)
    assert scenario is not None
    result = FaultResult(fault=fault.id, title=fault.title, column=column, status=status, note=note, repeats=repeats,
                         timed_from=fault.timing(column))
    rig = make_rig(column, fault, architecture)
    samples: list[float] = []
    survived = right = True
    try:
        await rig.prepare()
        if not fault.opens:
            await rig.open()
        for i in range(repeats):
            try:
                samples.append(await scenario(rig, i))
            except (FaultFailed, AssertionError, TimeoutError) as exc:
                survived, note = False, f"repeat {i + 1}: {exc}"
                break
            problems = await rig.check_state()
            if problems:
                right, note = False, f"repeat {i + 1}: state wrong: {'; '.join(problems)}"
                break
    except Exception as exc:  # the rig itself, or the client raising where it must not
        survived, note = False, f"{type(exc).__name__}: {exc}"
    finally:
        try:
            await rig.close()
        except Exception as exc:
            survived, note = False, note or f"close failed: {type(exc).__name__}: {exc}"
    unhandled = rig.unhandled()
    if unhandled:
        survived = False
        note = "; ".join(filter(None, [note, *unhandled[:3]]))
    result.survived = survived
    result.state_right = right if survived else (right if samples else None)
    result.samples_ms = [round(s * 1000.0, 1) for s in samples]
    result.recover_ms = median_ms(samples)
    result.status = OK if survived and right else FAILED
    result.note = note
    return result


def cells(faults: Iterable[str] | None = None, columns: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """Every (fault, column) pair, in table order."""
    fs = list(faults) if faults is not None else [f.id for f in FAULTS]
    cs = list(columns) if columns is not None else list(COLUMNS)
    return [(f, c) for f in fs for c in cs]


def run_matrix(repeats: int = 3, faults: Iterable[str] | None = None, columns: Iterable[str] | None = None, parallel: int = 1,
               on_result: Callable[[FaultResult], None] | None = None, architecture: str = "direct") -> MatrixRun:
    """Run every cell (or those of ``faults`` x ``columns``), each on its own event loop, up to
    ``parallel`` at a time in threads (each cell has its own simulator, proxy and client on
    their own ports; times are most faithful with ``parallel=1``). Returns the
    :class:`~cexfeed.resilience.results.MatrixRun`; ``on_result`` is told each cell as it ends
    (from the worker thread). From async code: ``await asyncio.to_thread(run_matrix, ...)``."""
    started = time.monotonic()
    fs = list(faults) if faults is not None else [f.id for f in FAULTS]
    cs = list(columns) if columns is not None else list(COLUMNS)
    todo = cells(fs, cs)

    def one(cell: tuple[str, str]) -> FaultResult:
        result = not_run(*cell) or asyncio.run(run_cell(cell[0], cell[1], repeats, architecture))
        if on_result is not None:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="fault-matrix") as pool:
        results = list(pool.map(one, todo))
    return MatrixRun(results=results, columns=cs, faults=fs, settings=settings(), duration_s=round(time.monotonic() - started, 1),
                     architecture=architecture)


__all__ = ["ACCOUNT_VENUES", "BY_ID", "COLUMNS", "FAILED", "FAULTS", "Fault", "cells", "not_run", "run_cell", "run_matrix", "settings"]
