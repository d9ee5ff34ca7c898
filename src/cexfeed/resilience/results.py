"""The results of the fault matrix as data a report can render: one :class:`FaultResult` per
cell (fault x venue column), JSON in and out, and a Markdown table
(fault x venue -> survived / state right / time to recover)."""

from __future__ import annotations

import statistics
from typing import Iterable

import msgspec

#: cell outcomes
OK = "ok"
FAILED = "failed"
NOT_APPLICABLE = "n/a"
PENDING = "pending"


class FaultResult(msgspec.Struct, kw_only=True):
    """One cell of the matrix.

    - ``fault``/``title``: the row (id and what it is); ``column``: the venue stream
      (``gateio-spot``, ``gateio-spot account`` ...);
    - ``status``: ``ok``, ``failed``, ``n/a`` (the fault cannot happen on that stream) or
      ``pending`` (the stream is not built yet); ``note`` says why, or what went wrong;
    - ``survived``: the client got through every repeat (no hang, no crash, no unhandled
      exception or ERROR log line); ``state_right``: after each repeat the book or account
      equalled the simulator's;
    - ``recover_ms``: median time to recover over the repeats (ms), timed from ``timed_from``
      (``injection`` of the fault, the fault ``lifted``, or until ``reported``);
      ``samples_ms`` every repeat; ``repeats`` asked for.
    """

    fault: str
    title: str
    column: str
    status: str
    survived: bool | None = None
    state_right: bool | None = None
    recover_ms: float | None = None
    samples_ms: list[float] = []
    repeats: int = 0
    timed_from: str = "injection"
    note: str = ""


class MatrixRun(msgspec.Struct, kw_only=True):
    """A whole run: its results, the columns and faults in table order, the client settings
    the times depend on, the wall time the run took (s), and the client's architecture
    (``direct`` handlers or ``strategy``)."""

    results: list[FaultResult]
    columns: list[str]
    faults: list[str]
    settings: dict[str, float] = {}
    duration_s: float = 0.0
    architecture: str = "direct"


#: what a row's time counts (the default: from the fault's injection until the state is right)
TIMED = {
    "lifted": " (from the fault lifted)",
    "reported": " (time until reported)",
    "start": " (from the start)",
    "consumer": " (from the consumer resuming until caught up)",
    "missed": " (from the missed pushes until found)",
    "injection": " (from the fault)",
}


#: this matrix's fault ids -> the keys of the soak report's matrix (cexfeed.soak.matrix.FAULTS);
#: ids not listed keep their own name (a row of their own in that report)
SOAK_KEYS = {
    "tcp_reset": "tcp_abort", "silent_with_pongs": "silence_with_pongs", "full_snapshot": "full_snapshot_mid_stream",
    "snapshot_failing": "rest_snapshot_failing", "snapshot_stale": "stale_snapshot", "refused_at_start": "connect_refused_start",
    "refused_on_reconnect": "connect_refused_reconnect",
}


def observations(run: MatrixRun) -> list[dict]:
    """The run as the soak report's observations (:mod:`cexfeed.soak.matrix`): one row per
    repeat of a cell that got through (``recover_s``), one failing row (with the note) for a
    cell that did not, and an ``na`` row (the reason) for a cell that does not apply."""
    rows: list[dict] = []
    for r in run.results:
        base = {"fault": SOAK_KEYS.get(r.fault, r.fault), "venue": r.column}
        if r.status in (NOT_APPLICABLE, PENDING):
            rows.append({**base, "na": f"{r.status}: {r.note}"})
            continue
        ok = r.status == OK
        for ms in r.samples_ms:
            rows.append({**base, "survived": ok or bool(r.survived), "state_right": ok or bool(r.state_right), "recover_s": ms / 1000.0,
                         "note": ""})
        if not ok:
            rows.append({**base, "survived": bool(r.survived), "state_right": bool(r.state_right), "recover_s": None, "note": r.note})
    return rows


def median_ms(samples_s: Iterable[float]) -> float | None:
    values = [s * 1000.0 for s in samples_s]
    return round(statistics.median(values), 1) if values else None


def to_json(run: MatrixRun) -> bytes:
    return msgspec.json.encode(run)


def from_json(data: bytes | str) -> MatrixRun:
    return msgspec.json.decode(data, type=MatrixRun)


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def cell_text(result: FaultResult) -> str:
    """``survived / state right / time to recover`` of one cell (yes/no), or ``n/a``/``pending``."""
    if result.status in (NOT_APPLICABLE, PENDING):
        return result.status
    survived = "yes" if result.survived else "**no**"
    right = "yes" if result.state_right else ("-" if result.state_right is None else "**no**")
    return f"{survived} / {right} / {_ms(result.recover_ms)}"


def render_markdown(run: MatrixRun) -> str:
    """The matrix as a Markdown table (fault x column -> survived / state right / median time to
    recover), then the notes of the n/a, pending and failed cells."""
    by_cell = {(r.fault, r.column): r for r in run.results}
    titles: dict[str, tuple[str, str, bool]] = {}
    for r in run.results:  # the first cell of a row that ran says how the row is timed
        if r.fault not in titles or (r.status in (OK, FAILED) and titles[r.fault][2]):
            titles[r.fault] = (r.title, r.timed_from, r.status not in (OK, FAILED))
    lines = ["| fault | " + " | ".join(run.columns) + " |", "|---|" + "---|" * len(run.columns)]
    notes: dict[str, list[str]] = {}
    for fault in run.faults:
        title, timed, _ = titles.get(fault, (fault, "", True))
        cells = []
        for column in run.columns:
            result = by_cell.get((fault, column))
            if result is None:
                cells.append("?")
                continue
            text = cell_text(result)
            if result.status == OK and result.timed_from != timed:  # this cell is timed otherwise than its row
                text += TIMED.get(result.timed_from, "")
            if result.status != OK and result.note:
                key = result.note
                mark = notes.setdefault(key, [])
                mark.append(f"{fault} / {column}")
                text += f" [{list(notes).index(key) + 1}]"
            cells.append(text)
        timing = TIMED.get(timed, "") if timed != "injection" else ""
        lines.append(f"| {title}{timing} | " + " | ".join(cells) + " |")
    if notes:
        lines.append("")
        for index, (note, where) in enumerate(notes.items(), 1):
            lines.append(f"[{index}] {note}")
    ok = sum(1 for r in run.results if r.status == OK)
    failed = sum(1 for r in run.results if r.status == FAILED)
    lines.append("")
    lines.append(f"Cells: {ok} survived with the right state, {failed} failed, "
                 f"{sum(1 for r in run.results if r.status == NOT_APPLICABLE)} n/a, "
                 f"{sum(1 for r in run.results if r.status == PENDING)} pending; cell = survived / state right / "
                 "median time to recover.")
    if run.settings:
        lines.append("Client settings: " + ", ".join(f"{k} {v:g}" for k, v in run.settings.items()) + ".")
    return "\n".join(lines) + "\n"
