"""Issue #10 items 12, 14, 16 and 17 as a user meets them on the command line (real subprocesses,
no TTY): the right exit code and error text, never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cexfeed.cli import main
from cexfeed.cli.common import format_counts
from cexfeed.cli.view import summary
from cexfeed.compat import load_config
from cexfeed.models import decode_event
from cexfeed.sim import SimServer

CLI = [sys.executable, "-c", "from cexfeed.cli import main; main()"]
DEAD = "127.0.0.1:9"


def _run(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + list(args), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def sim():
    async with SimServer(seed=2, rate=40, venues=["gateio-spot"]) as server:
        yield server


async def _stream(sim, *args: str, env: dict | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, "stream", "gateio-spot", "--url", sim.ws_url("gateio-spot"), *args,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode(), err.decode()


# -- 16 -----------------------------------------------------------------------------------------


def test_version_and_help_load_no_network_stack():
    proc = _run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == "cexfeed, version 0.1.0"
    # --help imports neither the network stack nor the venue modules (it takes ~0.05 s here)
    probe = ("import sys\nfrom cexfeed.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
             "heavy = [m for m in sys.modules if m.split('.')[0] in ('picows', 'aiohttp', 'rich') or m.startswith(('cexfeed.exchanges', 'cexfeed.net.connection', 'cexfeed.feed'))]\n"
             "print('HEAVY', heavy)")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in proc.stdout, proc.stdout
    assert all(name in proc.stdout for name in ("demo", "stream", "replay", "sim", "bench"))


def test_empty_channels_and_symbols_refused_at_once():
    proc = _run("stream", "gateio-spot", "--channels", "", "--url", f"ws://{DEAD}/ws/v4/", "--rest-url", f"http://{DEAD}/api/v4")
    assert proc.returncode == 2 and "--channels is empty" in proc.stderr and "Traceback" not in proc.stderr
    proc = _run("stream", "gateio-spot", "--symbols", " , ", "--url", f"ws://{DEAD}/ws/v4/")
    assert proc.returncode == 2 and "--symbols is empty" in proc.stderr


def test_demo_with_a_perpetual_name_runs_every_venue():
    proc = _run("demo", "--symbols", "BTC/USDT:USDT", "--duration", "2.5", "--format", "jsonl")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    symbols = {decode_event(line).symbol for line in proc.stdout.splitlines()} - {""}
    assert symbols == {"BTC/USDT", "BTC/USDT:USDT"}


def test_live_view_fits_80_by_24():
    proc = _run("demo", "--duration", "4", env={"COLUMNS": "80", "LINES": "24"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.rstrip("\n").splitlines()
    assert len(lines) <= 24, proc.stdout
    assert max(len(line) for line in lines) <= 80, proc.stdout
    assert proc.stdout.count("synced") == 9 and "funding" in proc.stdout and "mark / index" in proc.stdout
    assert proc.stdout.count("errors none") == 3
    # prices on every row: symbol, bid, ask
    rows = [line for line in lines if re.match(r"^(BTC|ETH|SOL)/USDT(:USDT)?\s+\d", line)]
    assert len(rows) == 9, proc.stdout


async def test_architecture_selection_and_its_errors(sim, tmp_path):
    code, out, err = await _stream(sim, "--rest-url", sim.rest_url("gateio-spot"), "--duration", "2", "--format", "jsonl",
                                   "--architecture", "strategy")
    assert code == 0, err
    assert "gateio-spot [strategy]: events" in err
    config = tmp_path / "arch.toml"
    config.write_text('[architecture]\ngateio = "strategy"\n')
    code, out, err = await _stream(sim, "--rest-url", sim.rest_url("gateio-spot"), "--duration", "2", "--format", "jsonl",
                                   env={"CEXFEED_ARCHITECTURE": str(config)})
    assert code == 0 and "gateio-spot [strategy]: events" in err, err
    # the same errors as load_config, before any connection
    bad = tmp_path / "bad.toml"
    bad.write_text('[architecture]\ngateio = "fast"\n')
    for env, flag in (({"CEXFEED_ARCHITECTURE": str(bad)}, ()), ({}, ("--architecture", str(bad))), ({}, ("--architecture", "quick"))):
        path = flag[1] if flag else env["CEXFEED_ARCHITECTURE"]
        with pytest.raises((OSError, ValueError)) as info:
            load_config(path)
        code, out, err = await _stream(sim, *flag, "--duration", "1", env=env)
        assert code == 2 and str(info.value) in " ".join(err.split()) and "Traceback" not in err, err
        assert ("CEXFEED_ARCHITECTURE" if env else "--architecture") in err


async def test_ctrl_c_during_start_up_exits_130():
    port = _free_port()  # nothing listens: the instrument list and the socket keep retrying
    proc = await asyncio.create_subprocess_exec(
        *CLI, "-v", "stream", "gateio-spot", "--url", f"ws://127.0.0.1:{port}/ws/v4/", "--rest-url", f"http://127.0.0.1:{port}/api/v4",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        # SIGINT at its default, as at a terminal (a runner in a script's background ignores it)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = b""
    while b"REST" not in seen:  # start-up is under way (the first REST attempt failed)
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert line, seen
        seen += line
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    err = seen + err
    assert proc.returncode == 130, err
    assert b"interrupted during start-up" in err and b"Traceback" not in err


def test_counts_printed_one_way_everywhere(tmp_path):
    assert format_counts({}) == "none" and format_counts({"unknown_channel": 1, "malformed": 2}) == "malformed=2, unknown_channel=1"
    stats = {"connections": [], "events": 3, "frames": 4, "dropped": 0, "errors": {"unknown_channel": 1, "malformed": 2}}
    assert summary(stats).endswith("errors malformed=2, unknown_channel=1")
    frames = tmp_path / "frames.txt"
    frames.write_text('{"time":1,"channel":"spot.trades","event":"update","result":{"id":1,"currency_pair":"BTC_USDT","side":"buy","amount":"1","price":"2","create_time":1}}\nnot json\n{"channel":"spot.nope","event":"update","result":{}}\n{"oops\n')
    result = CliRunner().invoke(main, ["replay", str(frames), "--venue", "gateio-spot"])
    assert result.exit_code == 0 and "frames 4  events 1  errors malformed=2, unknown_channel=1" in result.stdout


# -- 12, 14 -------------------------------------------------------------------------------------


def test_bad_symbols_exit_1_with_a_hint_before_connecting():
    proc = _run("stream", "gateio-perp", "--symbols", "BTC/USDT:USDC,btc/usdt", "--url", f"ws://{DEAD}/v4/ws/usdt",
                "--rest-url", f"http://{DEAD}/api/v4", "--duration", "1")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "'BTC/USDT:USDC': gateio-perp contracts settle in USDT, not USDC: did you mean 'BTC/USDT:USDT'?" in proc.stderr
    assert "'btc/usdt' is not a unified symbol" in proc.stderr and "Cannot connect" not in proc.stderr
    proc = _run("stream", "gateio", "--duration", "1")
    assert proc.returncode == 2 and "'gateio-spot', 'gateio-perp', 'mexc-spot'" in proc.stderr


async def test_unlisted_symbol_exits_1(sim):
    code, out, err = await _stream(sim, "--rest-url", sim.rest_url("gateio-spot"), "--symbols", "NOPE/USDT", "--duration", "2")
    assert code == 1 and "'NOPE/USDT' is not listed by gateio-spot" in err and "Traceback" not in err


async def test_dead_rest_endpoint_exits_1_when_no_book_ever_synced(sim):
    rest = f"http://127.0.0.1:{_free_port()}/api/v4"
    code, out, err = await _stream(sim, "--rest-url", rest, "--channels", "book,trades", "--duration", "3", "--format", "jsonl")
    assert code == 1, err
    # the last failed call: the instrument list or a snapshot, whichever came last
    assert re.search(f"no book of gateio-spot ever synced; REST endpoint {rest} failing: GET {rest}/spot/(order_book|currency_pairs) failed", err), err
    events = [decode_event(line) for line in out.splitlines()]
    assert any(getattr(e, "connection", "") == "rest" and e.status == "failed" for e in events)


# -- 17 -----------------------------------------------------------------------------------------


def _mexc_capture(captures_dir: Path, name: str) -> Path:
    path = captures_dir / "mexc" / name
    if not path.exists():
        pytest.skip(f"{path} not found")
    return path


def test_replay_lone_depth_push_shows_buffered_and_hints_snapshots(captures_dir, tmp_path):
    push = _mexc_capture(captures_dir, "cfarb_aggre_depth_100ms_XRPUSDC_fixture02.bin")
    result = CliRunner().invoke(main, ["replay", str(push), "--format", "summary-json"])
    assert result.exit_code == 0
    book = json.loads(result.stdout)["XRP/USDC"]
    assert (book["synced"], book["buffered"], book["kind"]) == (False, 1, "sequenced")
    assert "no book synced: 1 deltas buffered waiting for a snapshot; pass --snapshots FILE" in result.stderr
    # with a snapshot the book syncs (and the hint goes)
    snap = tmp_path / "XRP.http.0.0"
    snap.write_text('https://api.mexc.com/api/v3/depth?symbol=XRPUSDC&limit=100 -> 1.0: '
                    '{"lastUpdateId":1,"bids":[["1.383","10"],["1.3829","5"]],"asks":[["1.3842","7"],["1.3843","1"]]}\n')
    first = json.loads(push.with_suffix(".decoded.json").read_text())["publicAggreDepths"]["fromVersion"]
    snap.write_text(snap.read_text().replace('"lastUpdateId":1', f'"lastUpdateId":{int(first) - 1}'))
    result = CliRunner().invoke(main, ["replay", str(push), "--snapshots", str(snap), "--format", "summary-json"])
    book = json.loads(result.stdout)["XRP/USDC"]
    assert (book["synced"], book["buffered"], book["best_bid"]) == (True, 0, "1.3829") and "no book synced" not in result.stderr


def test_replay_limit_depth_books_in_the_summary(captures_dir):
    folder = _mexc_capture(captures_dir, "cs_limit_depth_5_BTCUSDT.bin").parent
    result = CliRunner().invoke(main, ["replay", str(folder), "--format", "summary-json"])
    assert result.exit_code == 0
    btc = json.loads(result.stdout)["BTC/USDT"]
    want = json.loads((folder / "cs_limit_depth_5_BTCUSDT.decoded.json").read_text())["publicLimitDepths"]
    assert (btc["kind"], btc["synced"], btc["bid_levels"], btc["ask_levels"]) == ("full", True, 5, 5)
    assert float(btc["best_bid"]) == float(want["bids"][0]["price"]) and btc["last_update_id"] == int(want["version"])


def test_replay_of_nothing_decodable_exits_1_with_counts(tmp_path):
    frames = tmp_path / "frames.txt"
    frames.write_text("not json\nalso not\n")
    result = CliRunner().invoke(main, ["replay", str(frames), "--venue", "gateio-spot"])
    assert result.exit_code == 1
    assert "nothing decodable in" in result.stderr and "frames 2  events 0  errors malformed=2" in result.stderr


def test_replay_folder_of_other_frames_is_refused(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b'{"time":1,"channel":"spot.trades","event":"update","result":{}}')
    (folder / "b.bin").write_bytes(b"\x00\x01garbage")
    result = CliRunner().invoke(main, ["replay", str(folder), "--venue", "gateio-spot"])
    assert result.exit_code == 2 and "are mexc-spot pushes, not gateio-spot" in result.stderr
    result = CliRunner().invoke(main, ["replay", str(folder)])
    assert result.exit_code == 1 and "nothing decodable in" in result.stderr and "frames 2  events 0" in result.stderr


def test_replay_of_nothing_decodable_counts_the_account_frames_too(tmp_path):
    """A file whose account frames are all malformed (a negative order amount, a negative
    available balance) says what the account handler counted, not ``errors none``."""
    frames = tmp_path / "account.jsonl"
    order = {"id": "1", "currency_pair": "BTC_USDT", "side": "sell", "amount": "-0.5", "event": "put"}
    bal = {"currency": "USDT", "total": "10", "available": "-4", "freeze": "5", "timestamp_ms": "1667556323730"}
    frames.write_text("\n".join(json.dumps({"time": 1796223700, "channel": channel, "event": "update", "result": [item]})
                                for channel, item in (("spot.orders", order), ("spot.balances", bal))) + "\n")
    result = CliRunner().invoke(main, ["replay", str(frames), "--venue", "gateio-spot"])
    assert result.exit_code == 1
    assert ("nothing decodable in" in result.stderr
            and "frames 0  events 0  errors none; account frames 2  events 0  errors malformed_item=2" in result.stderr), result.stderr


@pytest.mark.parametrize("venue", ["gateio-spot", "mexc-spot"])  # (the perpetuals' replay wants the contract list first)
def test_replay_counts_a_line_nested_too_deep_as_malformed(tmp_path, venue):
    """A JSON line nested 1000 deep (the routing to the account handler once raised
    RecursionError out of the replay): counted malformed like any bad frame, the replay goes on."""
    path = tmp_path / "deep.txt"
    good = '{"time":1700000000,"channel":"spot.trades","event":"update","result":{"id":1,"create_time":1700000000,"side":"buy","currency_pair":"BTC_USDT","amount":"0.5","price":"65000.1"}}'
    path.write_text('{"a":' * 1000 + "1" + "}" * 1000 + "\n" + good + "\n")
    result = CliRunner().invoke(main, ["replay", str(path), "--venue", venue])
    assert "Traceback" not in result.output and not isinstance(result.exception, RecursionError), result.output
    assert "malformed" in result.output, result.output
