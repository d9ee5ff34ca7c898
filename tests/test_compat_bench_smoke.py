"""CI-sized smoke test of the benchmark harness: a tiny run writes the report files (JSON,
Markdown, charts when matplotlib is installed), every contender row has a status, the
interleaved rounds applied every book delta, and the targets are evaluated. No timing is
asserted. Peers (ccxt.pro, cryptofeed) and matplotlib come from the optional ``bench`` extra;
without them their rows say ``missing``."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench_run():
    if not (ROOT / "bench" / "run.py").exists():
        pytest.skip("bench/ harness not in this checkout")
    sys.path.insert(0, str(ROOT))
    try:
        from bench import run

        yield run
    finally:
        sys.path.remove(str(ROOT))


def test_tiny_run_writes_the_report(bench_run, tmp_path):
    lines: list[str] = []
    paths = bench_run.run(
        out=tmp_path,
        latest=False,
        e2e=True,
        contenders=("direct", "strategy", "decode", "ccxt.pro", "cryptofeed"),
        overrides={"frames": 12, "rounds": 1, "alloc_frames": 4, "e2e_seconds": 0.3, "e2e_repeats": 1},
        log=lines.append,
    )
    assert (tmp_path / "results.json").is_file() and (tmp_path / "report.md").is_file()
    results = json.loads((tmp_path / "results.json").read_text())
    labels = [c["label"] for c in results["micro"]]
    assert len(labels) == 16 and "Gate spot book update 20x20" in labels and "MEXC aggre depth 20x20" in labels
    assert {"Gate spot.orders", "Gate spot.usertrades", "Gate futures.orders", "Gate futures.positions"} <= set(labels)  # issue 11
    for case in results["micro"]:
        rows = case["rows"]
        assert set(rows) == {"direct", "strategy", "decode", "ccxt.pro", "cryptofeed"}
        # cexfeed's own paths always run and apply every frame
        for name in ("direct", "strategy", "decode"):
            assert rows[name]["status"] == "ok", (case["label"], name, rows[name])
            assert rows[name]["samples"] == 12
        for name in ("ccxt.pro", "cryptofeed"):
            assert rows[name]["status"] == "ok" or rows[name]["status"] == "n/a" or rows[name]["status"].startswith("missing"), rows[name]
    assert results["micro"][0]["rows"]["cryptofeed"]["status"] in ("ok",) or results["micro"][0]["rows"]["cryptofeed"]["status"].startswith("missing")
    mexc = next(c for c in results["micro"] if c["stream"] == "mexc-spot")
    assert mexc["rows"]["cryptofeed"]["status"] == "n/a"
    assert results["e2e"]["clients"]["direct"]["status"] == "ok" and results["e2e"]["clients"]["direct"]["messages"] > 0
    targets = results["targets"]
    assert len(targets) == 19 and all("figures" in t for t in targets)
    report = (tmp_path / "report.md").read_text()
    assert "## Targets (issues 3, 4 and 5)" in report and "Gate futures book update 20x20" in report
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "micro.png").stat().st_size > 1000 and paths["micro"].name == "micro.png"
