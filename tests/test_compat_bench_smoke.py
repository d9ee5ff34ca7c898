"""CI-sized smoke test of the benchmark harness (:mod:`cexfeed.bench`, part of the package): a
tiny run writes the report files (JSON, Markdown, charts when matplotlib is installed), every
contender row has a status, the interleaved rounds applied every book delta, and the targets are
evaluated. No timing is asserted. Peers (ccxt.pro, cryptofeed) and matplotlib come from the
optional ``bench`` extra; without them their rows say ``missing`` and the report ``n/a`` with a
note."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cexfeed.bench import run as bench_module

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench_run():
    return bench_module


def test_tiny_run_writes_the_report(bench_run, tmp_path):
    lines: list[str] = []
    paths = bench_run.run(
        out=tmp_path,
        latest=False,
        e2e=True,
        contenders=("direct", "strategy", "decode", "ccxt.pro", "cryptofeed"),
        overrides={"frames": 12, "rounds": 1, "alloc_frames": 4, "e2e_seconds": 0.3, "e2e_repeats": 1, "reauth_rounds": 3},
        log=lines.append,
    )
    tmp_path = tmp_path / dt.date.today().isoformat()  # the run's dated folder under --out
    assert (tmp_path / "results.json").is_file() and (tmp_path / "report.md").is_file()
    results = json.loads((tmp_path / "results.json").read_text())
    labels = [c["label"] for c in results["micro"]]
    assert len(labels) == 19 and "Gate spot book update 20x20" in labels and "MEXC aggre depth 20x20" in labels
    assert {"Gate spot.orders", "Gate spot.usertrades", "Gate futures.orders", "Gate futures.positions"} <= set(labels)  # issue 11
    assert {"MEXC privateOrders", "MEXC privateDeals", "MEXC privateAccount"} <= set(labels)  # issue 12
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
    # the recording / metrics cost rows (bench/record_cost.py)
    assert {row["status"] for row in results["record"]["modes"].values()} == {"ok"} and results["record"]["micro"]["tap_ns"] > 0
    # the MEXC re-authentication rounds (bench/reauth.py, issue 12): same key, every step timed
    reauth = results["reauth"]
    assert reauth["status"] == "ok" and reauth["same_key"] and reauth["accepted"]["median_ms"] >= reauth["subscribed"]["median_ms"] > 0
    targets = results["targets"]
    assert len(targets) == 26 and all("figures" in t for t in targets)
    reauth_target = [t for t in targets if t["target"].startswith("MEXC re-authentication")]
    assert len(reauth_target) == 1 and reauth_target[0]["met"] is not None
    report = (tmp_path / "report.md").read_text()
    assert "## Targets (issues 3, 4 and 5)" in report and "Gate futures book update 20x20" in report
    assert "## Recording and metrics cost" in report and "| recording |" in report
    assert "## Re-authentication (MEXC account stream)" in report and "| first private push accepted |" in report
    if importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "micro.png").stat().st_size > 1000 and paths["micro"].name == "micro.png"
    missing = [n for n in ("ccxt.pro", "cryptofeed") if results["micro"][0]["rows"][n]["status"].startswith("missing")]
    for name in missing:
        assert f"n/a for {name}:" in report and "| missing" not in report


def test_default_reports_folder(tmp_path):
    # in this checkout: bench/reports, where the README links latest.md
    assert bench_module.default_out() == ROOT / "bench" / "reports"
    assert (ROOT / "bench" / "reports" / "latest.md").is_file()
    # an installed package (no checkout around it): ./cexfeed-bench-reports
    package = tmp_path / "site-packages" / "cexfeed" / "bench"
    package.mkdir(parents=True)
    assert bench_module.default_out(package, cwd=tmp_path) == tmp_path / "cexfeed-bench-reports"


def test_the_command_runs_outside_a_checkout(tmp_path):
    # what an installed package does: `python -m cexfeed.bench --help` from anywhere
    out = subprocess.run([sys.executable, "-m", "cexfeed.bench", "--help"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "--out" in out and "cexfeed-bench-reports" in "".join(out.split())  # help text is wrapped
    script = Path(sys.executable).with_name("cexfeed")
    if script.exists():
        out = subprocess.run([str(script), "bench", "--help"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
        assert "--quick" in out and "cexfeed-bench-reports" in "".join(out.split())
