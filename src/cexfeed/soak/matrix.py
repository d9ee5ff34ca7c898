"""The fault matrix of the soak report: fault x venue -> survived, state right afterwards, time to
recover (median over repeats).

The fault tests (issue #13 item 2) write one observation per run of a fault on a venue, and
the report renders whatever it finds. Input: a JSON Lines file, one object per line::

    {"fault": "tcp_abort", "venue": "gateio-spot", "survived": true, "state_right": true,
     "recover_s": 0.21, "note": "optional text"}

(``recover_s`` may be ``null`` where there is nothing to recover from, e.g. a malformed frame
skipped; a row ``{"fault", "venue", "na": "why"}`` marks a cell where the fault cannot happen),
or a JSON file holding a list of such objects (or ``{"runs": [...]}``), or the JSON of a
:class:`cexfeed.resilience.MatrixRun` (``fault-matrix.json`` of ``tests/test_fault_matrix.py``). From a test:
:func:`record` appends a line to the file named by ``CEXFEED_FAULT_MATRIX`` (nothing when it
is not set). ``fault`` is one of :data:`FAULTS` (other names get rows of their own, after them);
``venue`` is a venue stream, or ``<venue> account`` for the private streams. A row that cannot be
read (not JSON, not an object, without ``fault`` or ``venue``) is left out and said
(:func:`read`): the soak run warns and its report lists them, never a silent drop.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path
from typing import Any, Iterable

# (key, what, where it applies: market streams, account streams or both), in the order
FAULTS = [
    ("tcp_abort", "connection dropped (TCP abort)", "both"),
    ("close_frame", "connection closed (close frame)", "both"),
    ("reset_mid_frame", "reset in the middle of a frame", "both"),
    ("half_open", "half-open connection (no close, no data)", "both"),
    ("silence_with_pongs", "server silent while pongs continue", "both"),
    ("sequence_gap", "sequence gap", "market"),
    ("crossed_book", "crossed book", "market"),
    ("full_snapshot_mid_stream", "full snapshot mid-stream", "market"),
    ("malformed_frame", "malformed frame", "both"),
    ("unknown_channel", "unknown channel", "both"),
    ("error_frame", "error frame", "both"),
    ("subscription_refused", "subscription refused", "both"),
    ("upgrade_notice", "upgrade/maintenance notice", "both"),
    ("rest_snapshot_failing", "REST snapshot failing", "both"),
    ("stale_snapshot", "slow and stale snapshot (older than the buffered deltas)", "market"),
    ("connect_refused_start", "connect refused at start", "both"),
    ("connect_refused_reconnect", "connect refused during reconnect", "both"),
    ("latency", "added latency (network)", "both"),
    ("bandwidth", "bandwidth limit (network)", "both"),
    ("slow_consumer", "slow consumer", "both"),
    ("auth_failure", "auth failure", "private"),
    ("key_expiry", "key expiry", "private"),
    ("drop_during_fills", "drop while fills happen", "private"),
]
MARKET = ["gateio-spot", "gateio-perp", "mexc-spot"]
VENUES = MARKET + [f"{v} account" for v in MARKET]
ENV = "CEXFEED_FAULT_MATRIX"


def record(fault: str, venue: str, survived: bool, state_right: bool, recover_s: float | None = None, note: str = "",
           path: str | Path | None = None) -> None:
    """Append one observation to ``path`` (default: the file ``CEXFEED_FAULT_MATRIX`` names;
    nothing when neither is given)."""
    target = path or os.environ.get(ENV)
    if not target:
        return
    row = {"fault": fault, "venue": venue, "survived": bool(survived), "state_right": bool(state_right),
           "recover_s": None if recover_s is None else float(recover_s), "note": note}
    with open(target, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")


def load(path: str | Path) -> list[dict[str, Any]]:
    """The observations in a JSON Lines or JSON file (see the module docstring), without the
    rows that cannot be read (:func:`read` says which)."""
    return read(path)[0]


def read(path: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """``(rows, problems)`` of a JSON Lines or JSON file (see the module docstring): the
    observations, and one line per row left out because it cannot be read (``line 3: not
    JSON``, ``line 4: no "venue" (it has "column": ...)``). A row is an object with ``fault``
    and ``venue`` (non-empty strings): the one format :func:`record` and the fault tests write
    (a whole fault-matrix run's JSON, whose results name a ``column``, is read as such).
    Blank lines are no rows."""
    text = Path(path).read_text(encoding="utf-8")
    numbered: list[tuple[str, Any]] = []
    try:
        data = json.loads(text)
    except ValueError:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                numbered.append((f"line {n}", json.loads(line)))
            except ValueError:
                numbered.append((f"line {n}", _NOT_JSON))
    else:
        if isinstance(data, dict) and "results" in data and "columns" in data:  # a whole fault-matrix run
            from ..resilience.results import from_json, observations

            return observations(from_json(text)), []
        rows = data.get("runs") if isinstance(data, dict) and "runs" in data else data
        if isinstance(rows, list):  # a list of rows, or {"runs": [...]}
            numbered = [(f"row {n}", row) for n, row in enumerate(rows, 1)]
        else:  # one row (a JSON Lines file of one line is one JSON value too)
            numbered = [("line 1", rows)]
    out: list[dict[str, Any]] = []
    problems: list[str] = []
    for where, row in numbered:
        problem = _problem(row)
        if problem is None:
            out.append(row)
        else:
            problems.append(f"{where}: {problem}")
    return out, problems


_NOT_JSON = object()


def _problem(row: Any) -> str | None:
    """Why ``row`` is no observation, ``None`` when it is one."""
    if row is _NOT_JSON:
        return "not JSON"
    if not isinstance(row, dict):
        return f"not an object ({type(row).__name__})"
    missing = [key for key in ("fault", "venue") if not isinstance(row.get(key), str) or not row.get(key)]
    if not missing:
        return None
    hint = ' (it has "column": rows name the stream under "venue", as the fault tests write them)' if "venue" in missing and "column" in row else ""
    return " and ".join(f'no "{key}"' for key in missing) + hint


def aggregate(rows: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (fault, venue): ``runs``, ``survived`` and ``state_right`` (every run), the median
    and the runs of ``recover_s``, the notes; or ``{"na": why}`` where it cannot happen."""
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if r.get("na"):  # the fault cannot happen there
            cells.setdefault((str(r["fault"]), str(r["venue"])), {"na": str(r["na"])})
            continue
        cell = cells.setdefault((str(r["fault"]), str(r["venue"])), {"runs": 0, "survived": True, "state_right": True, "recover": [], "notes": []})
        cell["runs"] += 1
        cell["survived"] &= bool(r.get("survived"))
        cell["state_right"] &= bool(r.get("state_right"))
        if isinstance(r.get("recover_s"), (int, float)):
            cell["recover"].append(float(r["recover_s"]))
        if r.get("note"):
            cell["notes"].append(str(r["note"]))
    for cell in cells.values():
        if "na" in cell:
            continue
        cell["recover_median_s"] = statistics.median(cell["recover"]) if cell["recover"] else None
    return cells


def _cell(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "not measured"
    if "na" in cell:
        return "n/a"
    verdict = "survived" if cell["survived"] else "**FAILED**"
    state = "state right" if cell["state_right"] else "**state wrong**"
    recover = f" · {cell['recover_median_s']:.2f} s" if cell["recover_median_s"] is not None else ""
    return f"{verdict}, {state}{recover} (n={cell['runs']})"


def _applies(scope: str, venue: str) -> bool:
    private = venue.endswith(" account")
    return scope == "both" or (scope == "private") == private


def table(rows: list[dict[str, Any]]) -> tuple[list[str], dict[str, int]]:
    """Markdown lines of the matrix (every known fault a row; a cell where the fault applies but
    nothing was measured says so, ``n/a`` where it does not apply) and the counts ``cells``
    (where a fault applies), ``measured``, ``failed``."""
    cells = aggregate(rows)
    venues = VENUES + sorted({k[1] for k in cells} - set(VENUES))
    known = [key for key, _, _ in FAULTS]
    faults = FAULTS + [(k, k, "both") for k in sorted({k[0] for k in cells} - set(known))]
    lines = ["| fault | " + " | ".join(venues) + " |", "|---|" + "---|" * len(venues)]
    counts = {"cells": 0, "measured": 0, "failed": 0}
    for key, what, scope in faults:
        row = []
        for venue in venues:
            cell = cells.get((key, venue))
            if cell is not None and "na" in cell:
                row.append("n/a")
                continue
            applies = _applies(scope, venue)
            counts["cells"] += int(applies or cell is not None)
            if cell is not None:
                counts["measured"] += 1
                counts["failed"] += int(not (cell["survived"] and cell["state_right"]))
            row.append(_cell(cell) if cell is not None or applies else "n/a")
        lines.append(f"| {what} | " + " | ".join(row) + " |")
    return lines, counts
