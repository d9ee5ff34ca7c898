"""`cexfeed replay` of the recorded Gate spot session against an independent rebuild.

The rebuild below shares no code with cexfeed: plain dicts keyed by Decimal, json.loads, the
sync rules of gateio-protocol.md §10.1 written out again, depth 100 (the REST ``limit``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from cexfeed.cli import main

DEPTH = 100


def rebuild(ws_path: Path, http_path: Path) -> dict[str, dict]:
    timeline = []
    for line in ws_path.read_text().splitlines():
        if " <- " in line or " <-> " in line or not line:
            continue
        ts, _, body = line.partition(": ")
        timeline.append((float(ts), 0, json.loads(body)))
    for line in filter(None, http_path.read_text().splitlines()):
        url, _, rest = line.partition(" -> ")
        ts, _, body = rest.partition(": ")
        pair = url.split("currency_pair=")[1].split("&")[0]
        timeline.append((float(ts), 1, {"pair": pair, "snapshot": json.loads(body)}))
    timeline.sort(key=lambda item: item[0])  # stable: file order on ties

    books: dict[str, dict] = {}

    def state(pair):
        return books.setdefault(pair, {"bids": {}, "asks": {}, "id": None, "pending": [], "bridged": False,
                                       "applied": 0, "stale": 0, "resyncs": 0})

    def apply(st, delta):
        for side, key in (("bids", "b"), ("asks", "a")):
            levels = st[side]
            for price, size in delta[key]:
                if Decimal(size) == 0:
                    levels.pop(Decimal(price), None)
                else:
                    levels[Decimal(price)] = Decimal(size)
            ordered = sorted(levels, reverse=(side == "bids"))
            for price in ordered[DEPTH:]:
                del levels[price]
        st["id"] = delta["u"]
        st["applied"] += 1

    def on_delta(st, delta):
        if st["id"] is None:
            st["pending"].append(delta)
            return
        if delta["u"] <= st["id"]:
            st["stale"] += 1
            return
        ok = delta["U"] == st["id"] + 1 or (not st["bridged"] and delta["U"] <= st["id"] + 1)
        assert ok, f"gap in recorded session at {delta['s']} {delta['U']}"
        st["bridged"] = True
        apply(st, delta)

    for _, kind, item in timeline:
        if kind == 1:
            st = state(item["pair"])
            snap = item["snapshot"]
            st["bids"] = {Decimal(p): Decimal(s) for p, s in snap["bids"][:DEPTH]}
            st["asks"] = {Decimal(p): Decimal(s) for p, s in snap["asks"][:DEPTH]}
            st["id"] = snap["id"]
            pending, st["pending"] = st["pending"], []
            for delta in pending:
                on_delta(st, delta)
        elif item.get("channel") == "spot.order_book_update" and item.get("event") == "update":
            on_delta(state(item["result"]["s"]), item["result"])

    out = {}
    for pair, st in books.items():
        best_bid = max(st["bids"])
        best_ask = min(st["asks"])
        out[pair.replace("_", "/")] = {
            "best_bid": repr(float(best_bid)),
            "best_bid_size": repr(float(st["bids"][best_bid])),
            "best_ask": repr(float(best_ask)),
            "best_ask_size": repr(float(st["asks"][best_ask])),
            "last_update_id": st["id"],
            "deltas_applied": st["applied"],
            "deltas_dropped_stale": st["stale"],
            "resyncs": st["resyncs"],
            "bid_levels": len(st["bids"]),
            "ask_levels": len(st["asks"]),
        }
    return out


def replay_summary(path: Path) -> dict:
    result = CliRunner().invoke(main, ["replay", str(path), "--format", "summary-json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_summary_json_agrees_with_independent_rebuild_for_every_pair(captures_dir):
    ws = captures_dir / "gateio" / "GATEIO.ws.1.0"
    ours = replay_summary(ws)
    expected = rebuild(ws, captures_dir / "gateio" / "GATEIO.http.0.0")
    assert sorted(ours) == sorted(expected) and len(ours) == 10
    for symbol, want in expected.items():
        got = {key: ours[symbol][key] for key in want}
        assert got == want, symbol
        assert ours[symbol]["synced"] is True


def test_summary_json_known_values(captures_dir):
    ours = replay_summary(captures_dir / "gateio" / "GATEIO.ws.1.0")
    omg = ours["OMG/USDT"]
    assert (omg["best_bid"], omg["best_bid_size"], omg["best_ask"], omg["best_ask_size"]) == ("7.899", "288.0", "7.927", "316.6")
    assert (omg["deltas_applied"], omg["deltas_dropped_stale"], omg["resyncs"]) == (50, 1, 0)
    assert (omg["bid_levels"], omg["ask_levels"]) == (100, 100)
    neo = ours["NEO/BTC"]
    assert (neo["deltas_applied"], neo["deltas_dropped_stale"], neo["best_bid_size"]) == (36, 3, "0.5")
    dis = ours["DIS/USDT"]
    assert (dis["best_bid"], dis["best_bid_size"], dis["deltas_applied"]) == ("121.5", "0.148", 17)
    btc = ours["BTC/USDC"]
    assert (btc["best_bid"], btc["best_ask"], btc["last_update_id"]) == ("54272.19", "55070.74", 13035634)


def test_replay_jsonl_and_raw_frame_file(captures_dir, tmp_path):
    runner = CliRunner()
    ws = captures_dir / "gateio" / "GATEIO.ws.1.0"
    result = runner.invoke(main, ["replay", str(ws), "--format", "jsonl"])
    assert result.exit_code == 0
    events = [json.loads(line) for line in result.output.splitlines()]
    kinds = {e["type"] for e in events}
    assert {"book", "book_status", "trade", "ticker", "kline"} <= kinds
    first_trade = next(e for e in events if e["type"] == "trade")
    assert (first_trade["symbol"], first_trade["price"], first_trade["size"], first_trade["side"]) == ("DIS/USDT", 121.58, 0.201, "sell")

    # the same received frames as a plain one-per-line file, no snapshots: trades still decode
    raw = runner.invoke(main, ["replay", str(captures_dir / "gateio" / "GATEIO.ws.1.0.recv.jsonl"), "--venue", "gateio-spot", "--format", "jsonl"])
    assert raw.exit_code == 0
    raw_events = [json.loads(line) for line in raw.stdout.splitlines()]
    assert sum(e["type"] == "trade" for e in raw_events) == 9
    assert not any(e["type"] == "book" for e in raw_events)  # no snapshot: books never published
    # issue #10 item 17: the deltas waiting for a snapshot, and how to give one
    assert "no book synced: " in raw.stderr and "deltas buffered waiting for a snapshot; pass --snapshots FILE" in raw.stderr


def test_plain_file_needs_venue(tmp_path):
    path = tmp_path / "frames.txt"
    path.write_text('{"channel":"spot.pong"}\n')
    result = CliRunner().invoke(main, ["replay", str(path)])
    assert result.exit_code != 0 and "--venue" in result.output
