"""The check that reconnect attempts back off: capped exponential waits with jitter, each
honoured, never a hot loop (issue #13: connect refused at start and during reconnect)."""

from __future__ import annotations

from ..models import ConnectionStatus
from .rig import BACKOFF_CAP, BACKOFF_INITIAL

JITTER = 0.5  # the Backoff default the rigs use
SLACK_S = 0.01  # timer and scheduling tolerance


def min_wait(k: int, initial: float = BACKOFF_INITIAL, cap: float = BACKOFF_CAP, jitter: float = JITTER) -> float:
    """The shortest wait a :class:`~cexfeed.net.backoff.Backoff` may give before attempt ``k + 2``."""
    return min(cap, initial * 2 ** k) * (1 - jitter)


def check_spacing(events: list[ConnectionStatus], window_s: float, initial: float = BACKOFF_INITIAL, cap: float = BACKOFF_CAP,
                  jitter: float = JITTER) -> list[str]:
    """What is wrong with the connect attempts in ``events`` (``ConnectionStatus`` of one or
    more connections, ``window_s`` s of refused connects): each wait within
    ``[min(cap, initial*2**k) * (1 - jitter), min(cap, initial*2**k)]``, each honoured (the next
    attempt comes no sooner), the waits jittered (not all equal once capped), and no more
    attempts than those bounds allow in the window."""
    problems: list[str] = []
    by_conn: dict[str, list[ConnectionStatus]] = {}
    for event in events:
        by_conn.setdefault(event.connection, []).append(event)
    for name, evs in by_conn.items():
        failed = [e for e in evs if e.status == "failed"]
        if len(failed) < 2:
            problems.append(f"{name}: {len(failed)} refused attempts in {window_s:g} s (expected several)")
            continue
        # every wait since the socket went: the reconnect's own, then one per refused attempt
        waited = [e for e in evs if e.status in ("failed", "reconnecting")]
        waits = []
        for k, event in enumerate(waited):
            wait = event.retry_in or 0.0
            waits.append(wait)
            top = min(cap, initial * 2 ** k)
            if not top * (1 - jitter) - SLACK_S <= wait <= top + SLACK_S:
                problems.append(f"{name}: wait {k + 1} was {wait:.3f} s, outside [{top * (1 - jitter):.3f}, {top:.3f}]")
            following = [e for e in evs if e.status == "connecting" and e.recv_ts > event.recv_ts]
            if following and (following[0].recv_ts - event.recv_ts) / 1e9 < wait - SLACK_S:
                problems.append(f"{name}: attempt {k + 2} came {(following[0].recv_ts - event.recv_ts) / 1e9:.3f} s after a wait of {wait:.3f} s")
        capped = [w for k, w in enumerate(waits) if initial * 2 ** k >= cap]
        if len(capped) >= 3 and len(set(capped)) == 1:
            problems.append(f"{name}: capped waits all equal ({capped[0]:.3f} s): no jitter")
        attempts = sum(1 for e in evs if e.status == "connecting")
        allowed, spent = 1, 0.0
        while spent + min_wait(allowed - 1, initial, cap, jitter) <= window_s + 0.2:
            spent += min_wait(allowed - 1, initial, cap, jitter)
            allowed += 1
        if attempts > allowed + 1:
            problems.append(f"{name}: {attempts} attempts in {window_s:g} s, at most {allowed + 1} with the backoff")
    return problems
