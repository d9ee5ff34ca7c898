"""Replay of the recorded Gate USDT futures session (cryptofeed ``GATEIO_FUTURES.*``, 2023-05-24)
through the futures handler, against an independent rebuild.

The rebuild shares no code with cexfeed: ``json.loads``, ``Decimal`` levels, the §10.1 rules
written out again, sizes = contracts x ``quanto_multiplier`` computed in Decimal. Every book the
handler holds must equal it level by level, as floats of the exact decimal sizes.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from cexfeed.capture import merged, read_instruments, snapshot_symbol
from cexfeed.capture import FRAME, SNAPSHOT
from cexfeed.exchanges.gateio.futures_public_handler import replay_apply_snapshot, replay_handler

DEPTH = 100
CONTRACTS = ["DIA_USDT", "RDNT_USDT", "LIT_USDT", "ZRX_USDT", "WOO_USDT", "QUICK_USDT", "OMG_USDT", "FRONT_USDT", "PHB_USDT", "SFP_USDT"]


@pytest.fixture(scope="module")
def files(captures_dir: Path) -> dict[str, Path]:
    base = captures_dir / "gateio"
    out = {"ws": base / "GATEIO_FUTURES.ws.1.0", "http": base / "GATEIO_FUTURES.http.0.0", "contracts": base / "GATEIO_FUTURES.0"}
    for path in out.values():
        if not path.exists():
            pytest.skip(f"capture {path} not found")
    return out


def multipliers(contracts_path: Path) -> dict[str, Decimal]:
    line = contracts_path.read_text().splitlines()[0]
    body = line.split(": ", 1)[1]
    out = {}
    for c in json.loads(body):
        m = Decimal(c["quanto_multiplier"])
        out[c["name"]] = m if m > 0 else Decimal(1)
    return out


def rebuild(files: dict[str, Path]) -> dict[str, dict]:
    mult = multipliers(files["contracts"])
    snapshots = {}
    for line in filter(None, files["http"].read_text().splitlines()):
        url, _, rest = line.partition(" -> ")
        contract = url.split("contract=")[1].split("&")[0]
        snapshots[contract] = json.loads(rest.partition(": ")[2])
    deltas: dict[str, list] = {}
    for line in files["ws"].read_text().splitlines():
        if not line or " <- " in line or " <-> " in line:
            continue
        frame = json.loads(line.partition(": ")[2])
        if frame.get("channel") == "futures.order_book_update" and frame.get("event") == "update":
            deltas.setdefault(frame["result"]["s"], []).append(frame["result"])
    books = {}
    for contract, snap in snapshots.items():
        m = mult[contract]
        bids = {Decimal(lv["p"]): Decimal(lv["s"]) * m for lv in snap["bids"][:DEPTH]}
        asks = {Decimal(lv["p"]): Decimal(lv["s"]) * m for lv in snap["asks"][:DEPTH]}
        last = snap["id"]
        applied = dropped = 0
        bridged = False
        for d in deltas.get(contract, []):
            if d["u"] <= last:
                dropped += 1
                continue
            if bridged:
                assert d["U"] == last + 1, f"gap in the recording for {contract}"
            else:
                assert d["U"] <= last + 1 <= d["u"], f"first delta does not bridge the snapshot for {contract}"
                bridged = True
            for side, key in ((bids, "b"), (asks, "a")):
                for lv in d[key]:
                    size = Decimal(lv["s"])
                    if size == 0:
                        side.pop(Decimal(lv["p"]), None)
                    else:
                        side[Decimal(lv["p"])] = size * m
            for side, rev in ((bids, True), (asks, False)):
                for price in sorted(side, reverse=rev)[DEPTH:]:
                    del side[price]
            last = d["u"]
            applied += 1
        books[contract] = {
            "bids": sorted(((float(p), float(s)) for p, s in bids.items()), reverse=True),
            "asks": sorted((float(p), float(s)) for p, s in asks.items()),
            "last": last,
            "applied": applied,
            "dropped": dropped,
        }
    return books


@pytest.fixture(scope="module")
def replayed(files):
    handler = replay_handler(read_instruments(files["contracts"]))
    events = []
    handler.set_callback(events.append)
    for item in merged(files["ws"], [files["http"]]):
        recv_ts = int(item.ts * 1e9)
        if item.kind == FRAME:
            handler._handle_message(item.payload.encode(), recv_ts)
        elif item.kind == SNAPSHOT:
            replay_apply_snapshot(handler, snapshot_symbol(item.url), item.payload.encode(), recv_ts)
    return handler, events


def test_all_ten_books_match_independent_rebuild(files, replayed):
    handler, _ = replayed
    expected = rebuild(files)
    assert sorted(handler.books) == sorted(CONTRACTS) == sorted(expected)
    for contract in CONTRACTS:
        seq = handler.books[contract]
        want = expected[contract]
        assert seq.synced, contract
        assert seq.book.top_bids() == want["bids"], contract
        assert seq.book.top_asks() == want["asks"], contract
        assert seq.book.last_update_id == want["last"], contract
        assert seq.deltas_applied == want["applied"], contract
        assert seq.deltas_dropped_stale == want["dropped"], contract
        assert seq.resyncs == 0 and seq.gaps == 0, contract
    assert handler.stats.errors.get("malformed", 0) == 0
    assert handler.stats.errors.get("no_multiplier", 0) == 0


def test_known_books(replayed):
    handler, _ = replayed
    # QUICK_USDT: multiplier 0.01, so sizes are contracts / 100 (snapshot id 124930263: best
    # bid 56.91 x 100 contracts, best ask 57 x 46; no later delta touches either)
    quick = handler.books["QUICK_USDT"]
    assert quick.book.best_bid() == (56.91, 1.0)
    assert quick.book.best_ask() == (57.0, 0.46)
    assert quick.book.last_update_id == 124930286
    assert (quick.deltas_applied, quick.deltas_dropped_stale) == (13, 3)
    assert (len(quick.book.bids), len(quick.book.asks)) == (36, 62)
    rdnt = handler.books["RDNT_USDT"]
    assert rdnt.book.best_bid() == (0.297, 500.0)
    assert rdnt.book.best_ask() == (0.2974, 63.0)
    assert rdnt.book.last_update_id == 203083479
    assert (rdnt.deltas_applied, rdnt.deltas_dropped_stale) == (61, 9)
    phb = handler.books["PHB_USDT"]
    assert phb.book.best_bid() == (0.7383, 678.0)
    assert phb.book.best_ask() == (0.7393, 677.0)
    assert phb.book.last_update_id == 6160440
    assert (phb.deltas_applied, phb.deltas_dropped_stale) == (69, 4)


def test_events_on_replay(replayed):
    handler, events = replayed
    kinds = {}
    for e in events:
        kinds[type(e).__name__] = kinds.get(type(e).__name__, 0) + 1
    assert kinds["BestBidOffer"] == 75
    assert kinds["Kline"] == 1
    assert kinds["BookStatus"] == 10  # one synced per contract, no resync
    assert all(e.symbol.endswith("/USDT:USDT") for e in events)
    candle = next(e for e in events if type(e).__name__ == "Kline")
    assert (candle.venue_symbol, candle.interval, candle.open_ts, candle.close, candle.volume) == ("FRONT_USDT", "1m", 1684930140000, 0.1701, 0.0)


def test_cli_replay_summary_json_matches_rebuild(files):
    """``cexfeed replay GATEIO_FUTURES.ws.1.0 --format summary-json``: the contracts file and
    snapshots are found beside the capture; every book agrees with the rebuild, in base units."""
    import json as _json

    from click.testing import CliRunner

    from cexfeed.cli import main

    result = CliRunner().invoke(main, ["replay", str(files["ws"]), "--format", "summary-json"])
    assert result.exit_code == 0, result.output
    books = _json.loads(result.output)
    expected = rebuild(files)
    assert sorted(books) == sorted(c.replace("_", "/") + ":USDT" for c in CONTRACTS)
    for contract in CONTRACTS:
        got = books[contract.replace("_", "/") + ":USDT"]
        want = expected[contract]
        assert got["synced"] and got["resyncs"] == 0
        assert (float(got["best_bid"]), float(got["best_bid_size"])) == want["bids"][0], contract
        assert (float(got["best_ask"]), float(got["best_ask_size"])) == want["asks"][0], contract
        assert got["last_update_id"] == want["last"]
        assert (got["deltas_applied"], got["deltas_dropped_stale"]) == (want["applied"], want["dropped"])
        assert (got["bid_levels"], got["ask_levels"]) == (len(want["bids"]), len(want["asks"]))
    quick = books["QUICK/USDT:USDT"]
    assert (quick["best_bid"], quick["best_bid_size"], quick["best_ask"], quick["best_ask_size"]) == ("56.91", "1.0", "57.0", "0.46")
