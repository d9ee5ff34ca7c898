#!/usr/bin/env python3
"""Compare the direct / decode-floor ratio of each per-frame row of two benchmark reports.

Usage: ``python scripts/compare_ratios.py NEW_REPORT.md [OLD_REPORT.md]`` (old defaults to
``bench/reports/latest.md``). Reads the "Per frame" table of each (median µs per frame), prints
per row: old ratio, new ratio and whether the new one is at or below the old one. Exit status 1
when a row present in both is worse. Ratios, not µs: the two runs may come from differently
loaded machines, while direct and the decode floor of one run share its load.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DEFAULT_OLD = Path(__file__).resolve().parents[1] / "bench" / "reports" / "latest.md"
_MEDIAN = re.compile(r"^\s*([0-9.]+)")


def per_frame_ratios(text: str) -> dict[str, tuple[float, float, float]]:
    """``{row label: (direct µs, decode µs, direct / decode)}`` from a report's per-frame table
    (the first table whose header has ``direct`` and ``decode only`` columns)."""
    out: dict[str, tuple[float, float, float]] = {}
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            if header is not None and out:
                break
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            if "direct" in cells and "decode only" in cells:
                header = cells
            continue
        if set(cells[0]) <= {"-"}:
            continue
        direct = _MEDIAN.match(cells[header.index("direct")])
        decode = _MEDIAN.match(cells[header.index("decode only")])
        if direct and decode and float(decode.group(1)) > 0:
            d, f = float(direct.group(1)), float(decode.group(1))
            out[cells[0]] = (d, f, d / f)
    return out


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    new = per_frame_ratios(Path(argv[0]).read_text())
    old = per_frame_ratios(Path(argv[1] if len(argv) > 1 else DEFAULT_OLD).read_text())
    worse = 0
    print(f"{'row':<34}{'old ratio':>10}{'new ratio':>10}  {'new direct/decode µs':<22}verdict")
    for label, (d, f, ratio) in new.items():
        before = old.get(label)
        if before is None:
            print(f"{label:<34}{'-':>10}{ratio:>10.2f}  {d:.2f}/{f:.2f}")
            continue
        ok = ratio <= before[2] + 1e-9
        worse += not ok
        print(f"{label:<34}{before[2]:>10.2f}{ratio:>10.2f}  {f'{d:.2f}/{f:.2f}':<22}{'ok' if ok else 'WORSE'}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
