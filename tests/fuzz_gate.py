"""Frames for the cross-path differential fuzz of Gate (tests/test_differential_fuzz.py): real
frames from the shared captures, the documented samples of gateio-protocol.md, generated book
streams with in-band full pushes (so damaged books get whole again), generated frames of the
shapes of issue #10 (:func:`shapes`), and two kinds of damage:
bytes (flip, insert, delete) and structure (a value replaced by one of the shapes that once split
the paths, a key dropped or doubled, the result re-shaped, the channel swapped)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Iterator

# the damage itself lives with the capture fuzz (cexfeed.soak.mutate): one set of mutators
from cexfeed.soak.mutate import ALPHABET, EDGE_VALUES, _compact  # noqa: F401
from cexfeed.soak.mutate import mutate_json as mutate_structure
from cexfeed.soak.mutate import mutate_text as mutate_bytes

from conftest import shared_dir

#: ``../shared`` beside the clone, or ``CEXFEED_SHARED``
SHARED = shared_dir()


def require_shared() -> None:
    """Skip the calling test when the reference captures and docs are absent: its corpus is
    built around their real frames."""
    import pytest

    if not (SHARED / "captures" / "gateio").is_dir() or not (SHARED / "docs" / "gateio-protocol.md").is_file():
        pytest.skip(f"reference captures and docs not found at {SHARED} (set CEXFEED_SHARED to the shared/ folder)")


def capture_frames(name: str) -> list[bytes]:
    """Received frames of a capture (``GATEIO`` or ``GATEIO_FUTURES``), [] without ../shared."""
    path = SHARED / "captures" / "gateio" / f"{name}.ws.1.0.recv.jsonl"
    if not path.exists():
        return []
    return [line.encode() for line in path.read_text().splitlines() if line.strip()]


def doc_frames(prefix: str) -> list[bytes]:
    """The documented and quoted real frames of one market in gateio-protocol.md (``spot.`` or
    ``futures.``): every ``{"time":...}`` object on a line whose channel has the prefix."""
    path = SHARED / "docs" / "gateio-protocol.md"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        for m in re.finditer(r'`(\{"time":.*?\})`', line):
            text = m.group(1)
            if f'"channel":"{prefix}' not in text or "…" in text:
                continue
            try:
                json.loads(text)
            except ValueError:
                continue
            out.append(text.encode())
    return out


def book_stream(rng: random.Random, spot: bool, symbols: list[str], count: int) -> Iterator[bytes]:
    """Valid book pushes: a full push per symbol, then deltas continuing it, now and then a
    full push again; levels as each market sends them (spot ``[p, s]``, futures ``{p, s}``)."""
    channel = "spot.order_book_update" if spot else "futures.order_book_update"
    ids = {symbol: 1000 for symbol in symbols}
    for n in range(count):
        symbol = rng.choice(symbols)
        full = n < len(symbols) or rng.random() < 0.12
        first = ids[symbol] + 1
        last = first + rng.randint(0, 3)
        ids[symbol] = last
        bids, asks = [], []
        for side, low, high in ((bids, 50.0, 54.9), (asks, 55.1, 60.0)):
            for _ in range(rng.randint(1 if full else 0, 12)):
                price = f"{rng.uniform(low, high):.{rng.randint(0, 3)}f}"
                size = "0" if (not full and rng.random() < 0.2) else f"{rng.uniform(0.001, 50):.{rng.randint(0, 4)}f}"
                side.append([price, size] if spot else {"p": price, "s": size if rng.random() < 0.7 else int(float(size) * 1000)})
        result = {"t": 1700000000000 + n, "s": symbol, "U": first, "u": last, "b": bids, "a": asks}
        if full:
            result["full"] = True
        yield _compact({"time": 1700000000, "time_ms": 1700000000000 + n, "channel": channel, "event": "update", "result": result})


# one instant in each unit a venue time may come in (s, ms, us, ns; text with a fraction)
TIMES = [1700000000, 1700000000123, 1700000000123456, 1700000000123456789, "1700000000.5", "1700000000123.456", 0]


def _quote(rng: random.Random, low: float, high: float):
    """A best bid/offer side: quoted, or one of the ways of no quote ("", 0, "-0", an
    underflow, a size of 0, left out)."""
    roll = rng.random()
    if roll < 0.6:
        return f"{rng.uniform(low, high):.2f}", rng.choice([f"{rng.uniform(0.01, 9):.3f}", rng.randint(1, 900)])
    return rng.choice([("", 0), ("", ""), ("0", "1"), ("-0", "1"), ("1e-999", "2"), ("55.5", "0"), ("55.5", "-0"), None])


def shapes(rng: random.Random, spot: bool, symbols: list[str], count: int) -> Iterator[bytes]:
    """Valid frames of the shapes issue #10 added: results as an object, an array or an array of
    arrays (now and then with one bad item), times in any unit, one-sided and empty quotes,
    trades of an unknown side, full book pushes without ``U``, and on futures legacy
    ``futures.order_book`` ``all`` snapshots with their signed ``update`` rows."""
    prefix = "spot." if spot else "futures."
    legacy_id = {symbol: 5000 for symbol in symbols}
    for n in range(count):
        symbol = rng.choice(symbols)
        t = rng.choice(TIMES)
        envelope = {"time": rng.choice(TIMES[:2] + [0]), "time_ms": rng.choice([1700000000123, 0]), "event": "update"}
        roll = rng.random()
        if roll < 0.25:
            bid, ask = _quote(rng, 50, 54.9), _quote(rng, 55.1, 60)
            result = {"t": t, "u": n + 1, "s": symbol}
            for (price_key, size_key), side in ((("b", "B"), bid), (("a", "A"), ask)):
                if side is not None:
                    result[price_key], result[size_key] = side
            channel, items = prefix + "book_ticker", [result]
        elif roll < 0.5:
            channel = prefix + "trades"
            items = []
            for i in range(rng.randint(1, 4)):
                if spot:
                    item = {"id": n * 10 + i, "currency_pair": symbol, "side": rng.choice(["buy", "sell", "sell", "buy", "hold", ""]),
                            "amount": f"{rng.uniform(0.001, 3):.4f}", "price": f"{rng.uniform(50, 60):.2f}", "create_time_ms": t, "create_time": 1700000000}
                else:
                    item = {"id": n * 10 + i, "contract": symbol, "size": rng.choice([-3, 5, "2.5", "-0.5"]), "price": f"{rng.uniform(50, 60):.2f}",
                            "create_time_ms": t}
                if rng.random() < 0.15:
                    item["price"] = rng.choice(["-1", "0", "abc", None])  # one bad item
                items.append(item)
        elif roll < 0.65:
            channel = prefix + "order_book_update"
            levels = [[f"{rng.uniform(50, 54.9):.2f}", f"{rng.uniform(0.1, 5):.2f}"] for _ in range(rng.randint(1, 25))]
            asks = [[f"{rng.uniform(55.1, 60):.2f}", f"{rng.uniform(0.1, 5):.2f}"] for _ in range(rng.randint(1, 25))]
            if not spot:
                levels = [{"p": p, "s": q} for p, q in levels]
                asks = [{"p": p, "s": q} for p, q in asks]
            result = {"t": t, "full": True, "s": symbol, "u": 900000 + n, "b": levels, "a": asks}
            if rng.random() < 0.5:
                result["U"] = 1
            yield _compact({**envelope, "channel": channel, "result": result})
            continue
        elif not spot and roll < 0.85:
            legacy_id[symbol] += rng.randint(1, 3) if rng.random() < 0.1 else 1
            if rng.random() < 0.3:
                bids = [{"p": f"{54 - i * 0.5}", "s": rng.randint(1, 50)} for i in range(5)]
                asks = [{"p": f"{55 + i * 0.5}", "s": rng.randint(1, 50)} for i in range(5)]
                result = {"t": t, "contract": symbol, "id": legacy_id[symbol], "bids": bids, "asks": asks}
                yield _compact({**envelope, "event": "all", "channel": "futures.order_book", "result": result})
                continue
            rows = []
            for _ in range(rng.randint(1, 3)):
                rows.append({"p": f"{rng.choice([54, 54.5, 55, 55.5, 56])}", "s": rng.choice([-500, 0, 300, -2, 7]), "c": symbol, "id": legacy_id[symbol]})
                legacy_id[symbol] += 1
            legacy_id[symbol] -= 1
            yield _compact({**envelope, "channel": "futures.order_book", "result": rows})
            continue
        else:
            channel = prefix + "tickers"
            if spot:
                items = [{"currency_pair": symbol, "last": f"{rng.uniform(50, 60):.2f}", "highest_bid": rng.choice(["54", "", "0"]), "lowest_ask": "56"}]
            else:
                items = [{"contract": c, "last": f"{rng.uniform(50, 60):.2f}", "mark_price": rng.choice(["55", ""]), "funding_rate": "0.0001",
                          "funding_next_apply": rng.choice(TIMES), "total_size": rng.choice(["100", 7]), "t": rng.choice(TIMES)}
                         for c in rng.sample(symbols, rng.randint(1, len(symbols)))]
        shape = rng.random()
        result = items[0] if shape < 0.4 and len(items) == 1 else [items[:1], items[1:]] if shape < 0.6 else items
        yield _compact({**envelope, "channel": channel, "result": result})


def corpus(seed: int, spot: bool, count: int) -> Iterator[bytes]:
    """``count`` frames of one Gate market: about half valid (book streams, captures, documented
    samples), the rest damaged by structure or bytes."""
    rng = random.Random(seed)
    prefix = "spot." if spot else "futures."
    seeds = capture_frames("GATEIO" if spot else "GATEIO_FUTURES") + doc_frames(prefix)
    channels = sorted({m.decode() for f in seeds for m in re.findall(rb'"channel":"([a-z_.]+)"', f)} | {prefix + "nope"})
    books = book_stream(rng, spot, ["BTC_USDT", "ETH_USDT"], count)
    added = shapes(rng, spot, ["BTC_USDT", "ETH_USDT"], count)
    for _ in range(count):
        roll = rng.random()
        frame = next(books) if roll < 0.35 or not seeds else next(added) if roll < 0.55 else rng.choice(seeds)
        damage = rng.random()
        if damage < 0.3:
            frame = mutate_structure(rng, frame, channels)
        elif damage < 0.5:
            frame = mutate_bytes(rng, frame)
        yield frame


# -- account streams (gateio-protocol.md §8, §9, Appendix A) -----------------------------------------

SPOT_PRIVATE = ("spot.orders", "spot.orders_v2", "spot.usertrades", "spot.usertrades_v2", "spot.balances")
FUTURES_PRIVATE = ("futures.orders", "futures.usertrades", "futures.positions", "futures.balances", "futures.liquidates",
                   "futures.auto_deleverages", "futures.position_closes", "futures.autoorders")
FINISH_AS = ["open", "filled", "cancelled", "canceled", "liquidate_cancelled", "stp", "reduce_only", "position_closed", "ioc", "fok", "poc",
             "small", "depth_not_enough", "trader_not_enough", "liquidated", "auto_deleveraged", "", "-", "brand_new"]


def private_doc_frames(spot: bool) -> list[bytes]:
    """The documented samples of the account channels of one market (any ``{...}`` in
    backticks on one line of gateio-protocol.md whose channel is one of them: pushes, acks)."""
    path = SHARED / "docs" / "gateio-protocol.md"
    if not path.exists():
        return []
    channels = SPOT_PRIVATE if spot else FUTURES_PRIVATE
    out = []
    for line in path.read_text().splitlines():
        for m in re.finditer(r"`(\{.*?\})`", line):
            try:
                obj = json.loads(m.group(1))
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get("channel") in channels:
                out.append(m.group(1).encode())
    return out


def _num(rng: random.Random, value: str, older: bool):
    """A decimal text as the venue writes it: a string, or on an older server a JSON number
    (an int where it has no fraction)."""
    if older and rng.random() < 0.5:
        return json.loads(value) if value.lstrip("-").replace(".", "", 1).isdigit() else value
    return value


def _dec(rng: random.Random, low: int, high: int, places: int) -> str:
    text = f"{rng.randint(low, high) / 10**places:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text and rng.random() < 0.7 else text


def private_shapes(rng: random.Random, spot: bool, count: int) -> Iterator[bytes]:
    """Valid account pushes from the field tables (§8.1-8.4, §9.1-9.4): orders going through
    their lifecycle on a few ids (so later updates meet earlier ones, sometimes out of order),
    fills, balances and positions; the older, leaner shapes (numbers as JSON numbers, optional
    fields left out, currencies in lower case, integer ids beyond 2**53) mixed in."""
    ids = [str(2**60 + k) for k in range(12)]
    update_ids: dict[str, int] = {}
    position_ids = {key: 0 for key in ("BTC_USDT single", "BTC_USDT dual_long", "BTC_USDT dual_short", "ETH_USDT single")}
    for n in range(count):
        older = rng.random() < 0.25
        ms = 1700000000000 + n * 7
        roll = rng.random()
        oid = rng.choice(ids)
        pair = rng.choice(["BTC_USDT", "ETH_USDT", "btc_usdt", "DOGE_USDT"] if not spot else ["BTC_USDT", "ETH_USDT", "eth_usdt", "OM_USDT"])
        if spot and roll < 0.4:
            event = rng.choice(["put", "update", "update", "finish", "finish", "amend"])
            amount = _dec(rng, 1, 99999, 4)
            left = rng.choice([amount, "0", _dec(rng, 0, 9999, 4)])
            filled = rng.choice(["0", _dec(rng, 1, 99999, 4)])
            item = {"id": oid if not older else int(oid), "text": rng.choice(["t-abc", "api", "web", ""]), "create_time": str(ms // 1000),
                    "update_time": str(ms // 1000), "currency_pair": pair, "type": rng.choice(["limit", "limit", "market"]), "account": "spot",
                    "side": rng.choice(["buy", "sell"]), "amount": _num(rng, amount, older), "price": _num(rng, rng.choice(["0", "26253.3", "0.041828"]), older),
                    "time_in_force": rng.choice(["gtc", "ioc", "poc", "fok"]), "left": _num(rng, left, older), "filled_amount": _num(rng, filled, older),
                    "filled_total": _num(rng, _dec(rng, 0, 999999, 6), older), "avg_deal_price": _num(rng, rng.choice(["0", "3.9147"]), older),
                    "fee": _num(rng, rng.choice(["0", "0.00012", "1e-8"]), older), "fee_currency": rng.choice(["USDT", "btc", "OM"]),
                    "create_time_ms": rng.choice([str(ms), ms, "1700000000123.456"]), "update_time_ms": rng.choice([str(ms + 5), ms + 5]),
                    "user": 3128780, "event": event, "finish_as": rng.choice(FINISH_AS) if event == "finish" else "open", "stp_id": 0}
            for key in ("text", "avg_deal_price", "fee", "filled_amount", "update_time_ms", "create_time_ms", "left"):
                if older and rng.random() < 0.3:
                    del item[key]
            channel = rng.choice(["spot.orders", "spot.orders_v2"])
        elif spot and roll < 0.7:
            item = {"id": rng.choice([n, str(n), 2**53 + n]), "user_id": 1000001, "order_id": oid, "currency_pair": pair,
                    "create_time": ms // 1000, "create_time_ms": rng.choice([f"{ms}.{n % 1000:03d}", ms, str(ms)]), "side": rng.choice(["buy", "sell"]),
                    "amount": _num(rng, _dec(rng, 1, 99999, 4), older), "role": rng.choice(["maker", "taker", ""]),
                    "price": _num(rng, _dec(rng, 1, 9999999, 2), older), "fee": _num(rng, rng.choice(["0.002", "0", "12.5e-6"]), older),
                    "fee_currency": rng.choice(["BTC", "usdt"]), "point_fee": "0", "gt_fee": "0", "text": rng.choice(["t-x1", "apiv4"]), "id_market": n}
            channel = rng.choice(["spot.usertrades", "spot.usertrades_v2"])
            if channel.endswith("_v2") or older:
                item.pop("fee"), item.pop("fee_currency")
        elif spot:
            total = _dec(rng, 0, 99999999, 4)
            item = {"timestamp": str(ms // 1000), "timestamp_ms": rng.choice([str(ms), ms]), "user": "1000001", "currency": rng.choice(["USDT", "btc", "BTC"]),
                    "change": _num(rng, rng.choice(["0", "-0.002", "5.000000"]), older), "total": _num(rng, total, older),
                    "available": _num(rng, total, older), "freeze": _num(rng, "0", older), "freeze_change": "0", "change_type": "order-create"}
            if older:
                item.pop("total"), item.pop("freeze")
            channel = "spot.balances"
        elif roll < 0.35:
            size = rng.choice(["10", "-10", "2.5", "-0.5", "0"]) if not older else rng.choice([10, -10, 3])
            status = rng.choice(["open", "open", "finished", "finished", "pending"])
            update_ids[oid] = update_ids.get(oid, 0) + rng.choice([1, 1, 1, 0, -1])
            item = {"contract": pair, "create_time": ms // 1000, "create_time_ms": ms, "fill_price": _num(rng, rng.choice(["0", "40000.4"]), True),
                    "finish_as": rng.choice(FINISH_AS) if status == "finished" else "", "finish_time": ms // 1000 if status == "finished" else 0,
                    "finish_time_ms": ms if status == "finished" else 0, "iceberg": 0, "id": int(oid), "id_string": oid if not older else None,
                    "is_close": False, "is_liq": False, "is_reduce_only": rng.random() < 0.2, "left": rng.choice([size, 0, "1"]),
                    "mkfr": -0.00025, "price": _num(rng, rng.choice(["40000.4", "0", "1.05"]), True), "refr": 0, "refu": 0, "size": size,
                    "status": status, "text": rng.choice(["t-123", "web"]), "tif": rng.choice(["gtc", "ioc", ""]), "tkfr": 0.0005, "user": "10001",
                    "update_id": update_ids[oid], "update_time": rng.choice([ms, ms // 1000, 0])}
            if item["id_string"] is None:
                del item["id_string"]
            channel = "futures.orders"
        elif roll < 0.55:
            item = {"id": rng.choice([str(n), n]), "create_time": ms // 1000, "create_time_ms": ms, "contract": pair, "order_id": oid,
                    "size": rng.choice(["1", "-2.5", 3, -1]), "price": _num(rng, _dec(rng, 1, 9999999, 2), older), "role": rng.choice(["maker", "taker"]),
                    "text": "t-1", "fee": rng.choice([0.0002, "0.0001", -0.00001, 1.5e-9]), "point_fee": 0}
            channel = "futures.usertrades"
        elif roll < 0.8:
            key = rng.choice(list(position_ids))
            contract, mode = key.split()
            position_ids[key] += rng.choice([1, 1, 1, 0, -1])
            item = {"contract": contract, "cross_leverage_limit": 0, "entry_price": rng.choice([40000.36666661111, 0, "3000.5"]),
                    "history_pnl": -0.000108569505, "leverage": rng.choice([10, 0]), "liq_price": rng.choice([0, 35000.5]),
                    "margin": rng.choice([0.0005, 1.2e-7]), "mode": mode, "realised_pnl": -1.45e-7, "size": rng.choice(["0", "5", "-3.5", 7, 0]),
                    "time": ms // 1000, "time_ms": ms, "user": "10001", "update_id": position_ids[key]}
            channel = "futures.positions"
        elif roll < 0.9:
            item = {"balance": rng.choice([9.998739899488, "100.5", 0]), "change": rng.choice([-0.000002074115, "1"]), "text": "BTC_USDT:3914424",
                    "time": ms // 1000, "time_ms": ms, "type": rng.choice(["fee", "pnl", "dnw"]), "user": "10001", "currency": rng.choice(["usdt", "USDT", ""])}
            channel = "futures.balances"
        else:
            channel = rng.choice(FUTURES_PRIVATE[4:])
            item = {"futures.liquidates": {"entry_price": 209, "fill_price": 215.1, "left": 0, "order_id": int(oid), "size": -124, "time_ms": ms, "contract": pair},
                    "futures.auto_deleverages": {"fill_price": 215.1, "position_size": 10, "trade_size": 10, "time_ms": ms, "contract": pair},
                    "futures.position_closes": {"contract": pair, "pnl": -0.000624354791, "side": "long", "text": "web", "time_ms": ms},
                    "futures.autoorders": {"id": n, "status": rng.choice(["open", "finished"]), "finish_as": rng.choice(["", "succeeded"]),
                                           "initial": {"contract": pair, "size": 10, "price": "10000"}, "trigger": {"price": "10000", "rule": 2},
                                           "create_time": ms // 1000}}[channel]
        if rng.random() < 0.15:
            _outside_rules(rng, channel, item)
        shape = rng.random()
        result = [item] if shape < 0.8 else item if shape < 0.9 else [item, item]
        if shape >= 0.9 and rng.random() < 0.5:  # one impossible item beside a good one
            result = [item, _outside_rules(rng, channel, dict(item))]
        yield _compact({"time": ms // 1000, "time_ms": ms, "channel": channel, "event": "update", "result": result})


#: per channel: (field, values) an item may be given that lie outside the field's kind (a
#: negative price, amount or balance, a fill of 0, an undocumented side), or inside it though
#: unusual (a negative fee or pnl, a close-position order of size 0); values as strings and as
#: JSON numbers
ODD_VALUES = {
    "spot.orders": [("amount", ["-1", "0", -0.5, "0e3"]), ("price", ["-1", -26253.3]), ("left", ["-0.1"]), ("filled_amount", ["-1"]),
                    ("filled_total", ["-2"]), ("avg_deal_price", ["-3.9"]), ("fee", ["-0.001", -1e-8]), ("side", ["BUY", "hold", ""]),
                    ("fee_currency", ["U:DT", "00012", "１２", "1E300"])],
    "spot.usertrades": [("price", ["-1", "0", 0]), ("amount", ["0", "-0.004", "0.0000"]), ("fee", ["-0.002"]), ("side", ["SELL", "x"]),
                        ("fee_currency", [".5", "USDT]", "-0"])],
    "spot.balances": [("available", ["-5", -5]), ("total", ["-1"]), ("freeze", ["-0.1"]), ("change", ["-5"]),
                      ("currency", [".5", "0.0", "00012", " 5", "١", "A" * 33])],
    "futures.orders": [("price", ["-1", -40000.4]), ("fill_price", ["-1"]), ("size", ["0", 0]), ("is_close", [True]), ("fee", [-0.5])],
    "futures.usertrades": [("size", ["0", 0, "-0"]), ("price", ["0", "-1"]), ("fee", [-0.00001])],
    "futures.positions": [("entry_price", [-1]), ("margin", [-0.5]), ("leverage", [-1]), ("liq_price", ["-2"]), ("unrealised_pnl", [-5.5]),
                          ("mark_price", ["-0.1"])],
    "futures.balances": [("balance", [-1, "-0.5"]), ("change", [-3]), ("currency", ["0.0", "1E300", "U:DT", "１２", "-0"])],
    "futures.liquidates": [("fill_price", [-215.1]), ("size", [124])],
    "futures.auto_deleverages": [("fill_price", ["-1"]), ("trade_size", [-10])],
    "futures.position_closes": [("pnl", [-0.1, "0"])],
}


def _outside_rules(rng: random.Random, channel: str, item: dict) -> dict:
    """``item`` with one field set to a value from :data:`ODD_VALUES` (most lie outside the
    field's kind: the item is then malformed on every path)."""
    options = ODD_VALUES.get(channel.removesuffix("_v2"))
    if options:
        name, values = rng.choice(options)
        item[name] = rng.choice(values)
    return item


def private_corpus(seed: int, spot: bool, count: int) -> Iterator[bytes]:
    """``count`` account frames of one Gate market: about half valid (generated from the field
    tables, documented samples), the rest damaged by structure or bytes."""
    rng = random.Random(seed)
    docs = private_doc_frames(spot)
    channels = list(SPOT_PRIVATE if spot else FUTURES_PRIVATE) + ["spot.nope" if spot else "futures.nope"]
    added = private_shapes(rng, spot, count)
    for _ in range(count):
        frame = rng.choice(docs) if docs and rng.random() < 0.15 else next(added)
        damage = rng.random()
        if damage < 0.3:
            frame = mutate_structure(rng, frame, channels)
        elif damage < 0.45:
            frame = mutate_bytes(rng, frame)
        yield frame
