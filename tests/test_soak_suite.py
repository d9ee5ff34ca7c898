"""The integration and resilience suite (cexfeed.soak), short versions over real sockets:

- every venue in one process (Gate spot, Gate perpetuals, MEXC spot; direct and strategy
  streams side by side; the Gate accounts): a fault on each venue in turn recovers there and
  changes nothing on the others; every book equals the simulator's, every account its ledger;
- forced reconnects in a row: every book right after each, no socket or task left behind;
- load and soak against the load endpoint: every event read, books equal the endpoint's, no
  socket, fd or task more at the end than after warm-up (RSS and rates are figures of the
  report, not asserted here: no timed tests);
- the report: figures, the fault matrix from a JSON Lines file (placeholders where nothing was
  measured), plots.

``CEXFEED_LONG_TESTS=1``: the full sizes (60 s every venue, 100 reconnects, a 10-minute soak);
the figures come from ``cexfeed soak``."""

from __future__ import annotations

import json
import os

import pytest

from cexfeed.soak import integration, load, matrix, report

LONG = os.environ.get("CEXFEED_LONG_TESTS") == "1"


async def test_every_venue_at_once_with_faults_and_no_crosstalk():
    r = await integration.every_venue(600.0 if LONG else 9.0, rate=20.0, seed=3)
    assert r["books_wrong"] == [] and r["accounts_wrong"] == []
    names = {s["stream"] for s in r["streams"]}
    assert {"gateio-spot direct", "gateio-spot strategy", "gateio-perp direct", "gateio-perp strategy", "mexc-spot direct",
            "mexc-spot strategy"} <= names
    assert {"gateio-spot account direct", "gateio-perp account strategy", "mexc-spot account direct"} <= names
    assert [c["venue"] for c in r["crosstalk"]] == ["gateio-spot", "gateio-perp", "mexc-spot"]
    for c in r["crosstalk"]:
        assert c["no_crosstalk"], c
        assert c["recover_s"] == c["recover_s"] and c["recover_s"] < 15  # recovered (not NaN)
        # the faulted venue saw its faults: every stream reconnected, the skipped id resynced one book
        assert all(d["reconnects"] == 1 for d in c["faulted"].values()), c["faulted"]
        assert sum(d["resyncs"] for d in c["faulted"].values()) == 1
        assert all(d["errors"] >= 2 for d in c["faulted"].values())  # malformed + error frame
        assert all(d == {"reconnects": 0, "resyncs": 0, "errors": 0, "sockets": True} for d in c["others"].values())
    for s in r["streams"]:
        assert s["frames"] > 0 and s["read"] == s["events"] and s["dropped"] == 0, s
        assert s["handler_us"]["p50"] is not None
    assert any(s["stream"].endswith("account direct") and s["events"] > 5 for s in r["streams"])
    assert r["samples"] and r["samples"][-1]["sockets"] >= 8


async def test_forced_reconnects_in_a_row_keep_every_book_right():
    count = 100 if LONG else 4
    r = await integration.reconnects(count, rate=20.0, seed=5)
    assert r["recovered"] == count and r["books_wrong"] == []
    assert all(s["reconnects"] == count for s in r["streams"]), [(s["stream"], s["reconnects"]) for s in r["streams"]]
    assert (r["before"]["sockets"], r["before"]["fds"], r["before"]["tasks"]) == (r["after"]["sockets"], r["after"]["fds"], r["after"]["tasks"])


async def test_load_with_drops_books_right_and_nothing_left_behind():
    # in a process of its own, as `cexfeed soak` runs its soak part (the result comes back as JSON)
    seconds = 600.0 if LONG else 6.0
    r = await load.run_isolated(50_000 if LONG else 10_000, seconds, drop_every=60.0 if LONG else 2.0, warmup=90.0 if LONG else 1.0)
    assert r["books_wrong"] == []
    assert r["drops"] >= 2 and r["endpoint"]["drops"] >= 3 * r["drops"]  # three venues' sockets each time
    # after the books were checked, once every reconnect's sockets and tasks settled (deadline 5 s)
    warm, end = r["resources_warm"], r["resources_settled"]
    assert end["tasks"] <= warm["tasks"]
    # each feed's REST client may hold one more or one less keep-alive connection (snapshots after a drop)
    assert end["sockets"] <= warm["sockets"] + 3 and end["fds"] <= warm["fds"] + 3, (warm, end)
    for s in r["streams"]:
        assert s["reconnects"] == r["drops"] and s["frames"] > 1000, s
        assert s["read"] + s["dropped"] == s["events"], s  # every event is read or counted as dropped
        assert s["errors"] == {}, s
    if LONG:
        assert r["rss_growth"] < 0.05


async def test_an_isolated_run_that_fails_says_why():
    with pytest.raises(RuntimeError, match=r"(?s)exited 2: .*invalid choice: .nonsense."):
        await load.run_isolated(1_000, 1.0, consumer="nonsense")


async def test_the_consumer_kinds_all_read_every_event():
    for consumer in ("events", "batches", "callback"):
        r = await load.run(5_000, 2.0, consumer=consumer, warmup=0.5)
        assert r["books_wrong"] == [] and r["dropped"] == 0, consumer
        assert all(s["read"] == s["events"] > 0 for s in r["streams"]), consumer


def test_fault_matrix_renders_observations_and_placeholders(tmp_path):
    path = tmp_path / "faults.jsonl"
    matrix.record("tcp_abort", "gateio-spot", True, True, 0.2, path=path)
    matrix.record("tcp_abort", "gateio-spot", True, True, 0.4, path=path)
    matrix.record("tcp_abort", "gateio-spot", True, True, 0.3, path=path)
    matrix.record("sequence_gap", "mexc-spot", True, False, 1.5, note="book differs", path=path)
    matrix.record("brand_new_fault", "gateio-perp", False, False, None, path=path)
    with open(path, "a") as f:
        f.write("not json\n")
    rows = matrix.load(path)
    assert len(rows) == 5
    lines, counts = matrix.table(rows)
    text = "\n".join(lines)
    assert "| connection dropped (TCP abort) | survived, state right · 0.30 s (n=3) |" in text
    assert "survived, **state wrong** · 1.50 s (n=1)" in text and "**FAILED**, **state wrong** (n=1)" in text
    assert "| brand_new_fault |" in text and "not measured" in text
    # where each fault applies: market streams, account streams or both
    applicable = sum(3 if scope != "both" else 6 for _, _, scope in matrix.FAULTS) + 6  # the new fault applies everywhere
    assert counts["measured"] == 3 and counts["failed"] == 2 and counts["cells"] == applicable
    assert "| auth failure | n/a | n/a | n/a | not measured | not measured | not measured |" in text
    # a JSON list works too; without CEXFEED_FAULT_MATRIX record() writes nothing
    (tmp_path / "faults.json").write_text(json.dumps({"runs": rows}))
    assert matrix.load(tmp_path / "faults.json") == rows
    matrix.record("tcp_abort", "gateio-spot", True, True, 0.1)


def test_report_has_every_section_and_its_plots(tmp_path):
    pytest.importorskip("matplotlib")
    samples = [{"t": float(t), "rss": 50_000_000 + t, "fds": 9, "sockets": 3, "tasks": 5, "frames": {"a": 1000 * t, "b": 500 * t},
                "events": {"a": 1000 * t, "b": 500 * t}, "read": {"a": 1000 * t, "b": 500 * t}} for t in range(5)]
    stream = {"stream": "a", "architecture": "direct", "frames": 4000, "events": 4000, "read": 4000, "dropped": 0, "queued": 0, "resyncs": 0,
              "reconnects": 1, "errors": {"malformed": 2}, "frames_per_s": 1000.0, "handler_us": {"p50": 2.0, "p99": 9.0, "max": 20.0},
              "queue_lag_us": {"p50": 30.0, "p99": 90.0, "max": 200.0}}
    run_fig = {"rate": 1500.0, "duration": 4.0, "drop_every": 2.0, "drops": 2, "warmup": 1.0, "architecture": "direct", "frames_per_s": 1500.0,
               "min_window_frames_per_s": 1400.0, "cpu_share": 0.1, "books_wrong": [], "dropped": 0, "rss_warm": 50_000_001, "rss_end": 50_000_004,
               "rss_max": 50_000_004, "rss_growth": 0.0, "resources_warm": {"fds": 9}, "resources_end": {"fds": 9}, "streams": [stream], "samples": samples}
    results = {"meta": {"date": "d", "machine": "m", "python": "p", "versions": {"x": "1"}, "args": {}}, "load": run_fig,
               "soak": dict(run_fig, duration=600.0),
               "matrix_rows": [{"fault": "tcp_abort", "venue": "gateio-spot", "survived": True, "state_right": True, "recover_s": 0.2}],
               "matrix_source": "faults.jsonl"}
    _, results["matrix_counts"] = matrix.table(results["matrix_rows"])
    paths = report.write(results, tmp_path)
    text = paths["report"].read_text()
    for heading in ("## Targets", "## Load: 1,500 frames/s for 4 s", "## Soak", "## Fault matrix"):
        assert heading in text, heading
    assert "10-minute soak" in text and f"1 of {matrix.table([])[1]['cells']} cells measured" in text
    assert {"load_rate", "load_rss", "soak_rate", "soak_rss"} <= set(paths) and all(p.stat().st_size > 1000 for p in paths.values())
    assert json.loads(paths["results"].read_text())["load"]["frames_per_s"] == 1500.0


def test_soak_command_writes_its_report(tmp_path):
    from click.testing import CliRunner

    from cexfeed.cli import main
    from cexfeed.soak import run

    faults = tmp_path / "faults.jsonl"
    matrix.record("tcp_abort", "mexc-spot", True, True, 0.25, path=faults)
    paths = run.run(quick=True, out=tmp_path, parts=["reconnects"], overrides={"reconnects": 2}, fault_matrix=faults, log=lambda m: None)
    text = paths["report"].read_text()
    assert "2 forced reconnects in a row" in text and "2/2 recovered" in text and "survived, state right · 0.25 s (n=1)" in text
    assert not (tmp_path / "latest.md").exists()  # only a full run of every part refreshes latest.md
    result = CliRunner().invoke(main, ["soak", "--only", "reconnects,nonsense", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown parts ['nonsense']" in result.output
    # usage errors before anything runs: no part, a missing fault-matrix file, sizes that measure nothing
    for args, said in ((["--only", ""], "no part named"), (["--fault-matrix", str(tmp_path / "none.jsonl")], "does not exist"),
                       (["--fuzz-frames", "0"], "--fuzz-frames"), (["--soak-seconds", "2"], "--soak-seconds")):
        result = CliRunner().invoke(main, ["soak", "--quick", "--out", str(tmp_path), *args])
        assert result.exit_code == 2 and said in result.output, (args, result.output)


def _fake_run(frames_per_s: float, rss: list[int]) -> dict:
    """The figures of a load or soak run as load.run returns them (a few samples)."""
    samples = [{"t": float(t), "rss": v, "fds": 9, "sockets": 3, "tasks": 5, "frames": {"a": 1000 * t}, "events": {"a": 1000 * t},
                "read": {"a": 1000 * t}} for t, v in enumerate(rss)]
    return {"rate": 110_000.0, "duration": float(len(rss)), "drop_every": None, "drops": 0, "warmup": 1.0, "architecture": "direct",
            "frames_per_s": frames_per_s, "min_window_frames_per_s": frames_per_s * 0.9, "cpu_share": 0.4371, "books_wrong": [], "dropped": 0,
            "rss_warm": rss[1], "rss_end": rss[-1], "rss_max": max(rss), "queued_max": 12, "resources_warm": {"fds": 9, "sockets": 3},
            "resources_end": {"fds": 9, "sockets": 3}, "streams": [], "samples": samples,
            **load.rss_after_warmup(samples[1:])}


def test_rss_after_warmup_is_the_growth_of_window_medians():
    mib = 2**20
    # a stall lifts a few samples at the end: the median of the last window does not move
    steady = [{"t": float(t), "rss": 100 * mib} for t in range(100)]
    for s in steady[-3:]:
        s["rss"] = 140 * mib
    r = load.rss_after_warmup(steady)
    assert r["rss_window_s"] == 9.9 and r["rss_growth"] == 0.0 and r["rss_floor_growth"] == 0.0
    # a leak lifts every sample: both the median and the floor move
    leak = [{"t": float(t), "rss": (100 + t / 10) * mib} for t in range(100)]
    r = load.rss_after_warmup(leak)
    assert 0.08 < r["rss_growth"] < 0.1 and 0.08 < r["rss_floor_growth"] < 0.1
    assert load.rss_after_warmup(leak[:1])["rss_growth"] is None


def test_summary_flags_targets_not_met_and_the_command_exits_1(tmp_path, monkeypatch):
    import re

    from click.testing import CliRunner

    from cexfeed.cli import main
    from cexfeed.soak import run

    mib = 2**20
    slow = _fake_run(94_751.3, [50 * mib] * 12)
    soak = dict(_fake_run(55_123.4, [50 * mib] * 6 + [60 * mib] * 6), rate=55_000.0, drop_every=10.0, drops=3)
    lines, met = report.summary({"load": slow, "soak": soak, "matrix_counts": matrix.table([])[1]})
    text = "\n".join(lines)
    assert not met
    assert "[NOT MET] ≥ 100,000 frames/s summed over the venues for 12 s: 94,751 frames/s" in text
    assert "[NOT MET] 12-second soak" in text and "+20.0%" in text
    assert "[NOT MEASURED] fault matrix" in text and "no fault observations given" in text
    assert "2 of 3 targets NOT MET" in text
    assert not re.search(r"\d\.\d{4,}", text), text  # every float formatted
    lines, met = report.summary({"load": _fake_run(101_000.0, [50 * mib] * 12)})
    assert met and "[met] ≥ 100,000 frames/s" in lines[1]

    async def fake(opts, parts, captures, log):
        return {"load": slow}

    monkeypatch.setattr(run, "_run", fake)
    result = CliRunner().invoke(main, ["soak", "--quick", "--only", "load", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "[NOT MET] ≥ 100,000 frames/s" in result.output and "1 of 2 targets NOT MET" in result.output
    page = next(tmp_path.glob("*/report.md")).read_text()
    assert "| **NOT MET** |" in page and "**Not measured in this run.**" in page and "| **not measured** |" in page
    assert not re.search(r"\d\.\d{4,}", page) and "{'" not in page  # no raw floats, no dict reprs

    async def fine(opts, parts, captures, log):
        return {"load": _fake_run(101_000.0, [50 * mib] * 12)}

    monkeypatch.setattr(run, "_run", fine)
    result = CliRunner().invoke(main, ["soak", "--quick", "--only", "load", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output


def test_fault_rows_that_cannot_be_read_are_counted_warned_and_reported(tmp_path, monkeypatch):
    """A row without ``venue`` (e.g. ``column``, the attribute a fault-matrix run's results
    have), not JSON, or not an object is left out of the table, but said: a warning line, the
    report's list, and the matrix target not met on what was read."""
    from click.testing import CliRunner

    from cexfeed.cli import main
    from cexfeed.soak import run

    path = tmp_path / "faults.jsonl"
    matrix.record("tcp_abort", "gateio-spot", True, True, 0.2, path=path)
    with open(path, "a") as f:
        f.write(json.dumps({"fault": "tcp_abort", "column": "mexc-spot", "survived": False, "state_right": False, "recover_s": None}) + "\n")
        f.write("\n{not json\n[1, 2]\n")
        f.write(json.dumps({"venue": "gateio-perp", "survived": True}) + "\n")
    rows, problems = matrix.read(path)
    assert [(r["fault"], r["venue"]) for r in rows] == [("tcp_abort", "gateio-spot")]
    assert problems == [
        'line 2: no "venue" (it has "column": rows name the stream under "venue", as the fault tests write them)',
        "line 4: not JSON", "line 5: not an object (list)", 'line 6: no "fault"']
    assert matrix.load(path) == rows
    # a JSON list: its rows by number
    listed = tmp_path / "faults.json"
    listed.write_text(json.dumps([rows[0], {"fault": "x", "column": "y"}]))
    assert matrix.read(listed) == (rows, ['row 2: no "venue" (it has "column": rows name the stream under "venue", as the fault tests write them)'])

    async def nothing(opts, parts, captures, log):
        return {}

    monkeypatch.setattr(run, "_run", nothing)
    result = CliRunner().invoke(main, ["soak", "--quick", "--only", "reconnects", "--out", str(tmp_path), "--fault-matrix", str(path)])
    assert result.exit_code == 1, result.output
    assert f"warning: 4 row(s) of {path} could not be read and are left out of the fault matrix (first: line 2: no \"venue\"" in result.output
    assert "[NOT MET] fault matrix" in result.output and "4 rows of the observations could not be read (left out)" in result.output
    page = next(tmp_path.glob("*/report.md")).read_text()
    assert "**4 rows of it could not be read and are left out of the table** (line 2: no \"venue\"" in page
    assert "survived, state right · 0.20 s (n=1)" in page


async def test_the_sampler_keeps_every_sample_past_its_capacity():
    from cexfeed.soak.probe import Sampler

    class _Probe:
        def __init__(self, name: str) -> None:
            self.name, self.n = name, 0

        def counters(self) -> dict:
            self.n += 1
            return {"frames": self.n * 10, "events": self.n * 9, "read": self.n * 9, "dropped": 0, "queued": 1, "reconnects": 0, "resyncs": self.n}

    probes = [_Probe("a"), _Probe("b")]
    sampler = Sampler(probes, 1.0, capacity=3)
    sampler.start()
    rows = [sampler.sample() for _ in range(5)]
    await sampler.stop()
    samples = sampler.samples
    # the task never ran (no await in between): these five and the last one, taken on stop
    assert samples[:5] == rows and len(samples) == 6
    assert [s["frames"]["a"] for s in samples] == [10, 20, 30, 40, 50, 60]
    assert [s["resyncs"]["b"] for s in samples] == [1, 2, 3, 4, 5, 6]
    assert all(isinstance(s["rss"], int) and s["rss"] > 0 and isinstance(s["t"], float) for s in samples)
    assert samples == sorted(samples, key=lambda s: s["t"])
