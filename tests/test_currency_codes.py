"""Account currency codes (:func:`cexfeed.wire.currency`; gateio-protocol.md §8.1, §8.3, §8.4,
§9.4, mexc-protocol.md §2.3): the venue's text upper-cased, ASCII letters and digits, 1 to 32,
at least one letter, never number text. A balance whose currency breaks the rule is malformed
(counted, never applied); a fee currency that is given and breaks it makes its order or fill
malformed too; ``""`` or absent is ``None``. Held on every path: Gate's compiled account lane
(which hands such a frame to its twin), the pure-Python twin and the strategy path; MEXC's fused
compiled reader, its reference decoders and the strategy path; the REST snapshot decoders of
both venues; the rule's own forms (plain converter, typed msgspec field, compiled checks)."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cexfeed import wire
from cexfeed.account import PyAccountState
from cexfeed.compat.gateio_private import replay_handler as gate_strategy_handler
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.private_futures import GateioFuturesPrivateWebSocketHandler, futures_balance
from cexfeed.exchanges.gateio.private_spot import GateioSpotPrivateWebSocketHandler, spot_balances
from cexfeed.exchanges.gateio.protocol import spot_symbol_map
from cexfeed.exchanges.mexc import private_rest

from mexc_private_frames import B_ACCOUNT, B_DEALS, FROZEN_CHANGE, MAKER_SELL, frame as mexc_frame
from test_compat_differential_mexc_private import handler as mexc_handler

D = Decimal

#: venue text -> the code: real codes (captures/gateio/GATEIO.0 and GATEIO_FUTURES.0, the
#: protocol notes' samples), lower case as Gate's futures balances send it, letters only, the bound
GOOD = [("USDT", "USDT"), ("btc", "BTC"), ("usdt", "USDT"), ("1INCH", "1INCH"), ("1inch3l", "1INCH3L"), ("BTC3L", "BTC3L"),
        ("88MPH", "88MPH"), ("MBABYDOGE", "MBABYDOGE"), ("MX", "MX"), ("TRUE", "TRUE"), ("E5", "E5"), ("x" * 32, "X" * 32)]
#: what the differential fuzz found published, and more: number text, digits only, other
#: characters, other scripts' digits and letters, empty, one character too many
BAD = [".5", "0.0", "00012", "12", "U:DT", "１２", "1E300", "1e5", "-0", "USDT]", " 5", "USDT ", "١", "", "A" * 33, "BTC_USDT", "ÄÖ",
       "ı", "ＵＳＤＴ", "USDT\n", "US-DT"]


# -- the rule's forms ------------------------------------------------------------------------------
@pytest.mark.parametrize("text, code", GOOD)
def test_good_codes(text, code):
    assert wire.currency(text) == code and wire.optional_currency(text) == code


@pytest.mark.parametrize("text", BAD)
def test_bad_codes(text):
    with pytest.raises(ValueError):
        wire.currency(text)
    if text:
        with pytest.raises(ValueError):
            wire.optional_currency(text)


def test_optional_code_not_given_and_not_text():
    assert wire.optional_currency("") is None and wire.optional_currency(None) is None
    for value in (5, 1.5, True, b"USDT", ["USDT"]):
        with pytest.raises(ValueError):
            wire.currency(value)


class _Typed(msgspec.Struct):
    code: wire.Currency
    fee: wire.CurrencyOrEmpty | None = None


def _typed(text: str, field: str) -> bool:
    try:
        msgspec.json.decode(msgspec.json.encode({"code": "USDT", field: text}), type=_Typed)
        return True
    except msgspec.ValidationError:
        return False


def _plain(text: str, optional: bool) -> bool:
    try:
        (wire.optional_currency if optional else wire.currency)(text)
        return True
    except ValueError:
        return False


_TEXT = st.one_of(st.text(alphabet="09aeEzAZ._- :1１١Ä", max_size=6), st.text(max_size=40), st.sampled_from([t for t, _ in GOOD] + BAD),
                  st.integers(0, 40).map(lambda n: "Q" * n))


@settings(max_examples=3000, deadline=None)
@given(_TEXT)
def test_typed_field_and_compiled_checks_are_the_rule(text):
    """The msgspec field types, the plain converters and the compiled Gate reader's check
    accept the same texts."""
    assert _typed(text, "code") is _plain(text, False)
    assert _typed(text, "fee") is _plain(text, True)
    fast = pytest.importorskip("cexfeed.exchanges.gateio._fastprivate", reason="the compiled account reader is not built")
    raw = text.encode()
    assert fast.currency_text(raw) is _plain(text, False) and fast.currency_text(raw, True) is _plain(text, True)


# -- Gate: the compiled lane, its pure-Python twin, the strategy path ------------------------------
PATHS = ["compiled", "pure", "strategy"]
CONTRACTS = json.dumps([{"name": "BTC_USDT", "type": "direct", "quanto_multiplier": "0.0001"}]).encode()
SPOT_BALANCE = {"timestamp_ms": "1667556323730", "currency": "USDT", "change": "-5", "total": "100", "available": "95", "freeze": "5",
                "change_type": "order-create"}
FUT_BALANCE = {"balance": 9.99, "change": -0.0021, "text": "BTC_USDT:1", "time_ms": 1547199246123, "type": "fee", "currency": "usdt"}
SPOT_ORDER = {"id": "399123456", "text": "t-abc", "create_time_ms": "1694655225315", "update_time_ms": "1694655225315", "currency_pair": "BTC_USDT",
              "type": "limit", "account": "spot", "side": "sell", "amount": "0.0001", "price": "26253.3", "time_in_force": "gtc",
              "left": "0.0001", "filled_total": "0", "filled_amount": "0", "avg_deal_price": "0", "fee": "0", "fee_currency": "USDT",
              "event": "put", "finish_as": "open"}
SPOT_FILL = {"id": 5736713, "order_id": "399123456", "currency_pair": "BTC_USDT", "create_time_ms": "1605176741123.456", "side": "sell",
             "amount": "0.0001", "role": "taker", "price": "10000", "fee": "0.002", "fee_currency": "USDT", "text": "t-abc"}


def gate_frame(channel: str, *items: dict, single: bool = False) -> bytes:
    result = items[0] if single else list(items)
    return json.dumps({"time": 1700000000, "time_ms": 1700000000000, "channel": channel, "event": "update", "result": result}).encode()


def gate_handler(path: str, spot: bool):
    if path == "strategy":
        return gate_strategy_handler("gateio-spot" if spot else "gateio-perp", None if spot else CONTRACTS)
    cls = GateioSpotPrivateWebSocketHandler if spot else GateioFuturesPrivateWebSocketHandler
    symbols = spot_symbol_map() if spot else futures_symbol_map(CONTRACTS)
    if path == "pure":
        h = cls(symbols=symbols, state=PyAccountState("gateio", "spot" if spot else "perp"))
        h.use_compiled(False)
        return h
    h = cls(symbols=symbols)
    if h._reader is None:
        pytest.skip("compiled Gate account reader not built")
    return h


def gate_run(spot: bool, *frames: bytes):
    """(events, counters, balances, orders+fills) of the frames, asserted equal on every path."""
    outcomes = []
    for path in PATHS:
        h = gate_handler(path, spot)
        events: list = []
        h.set_callback(events.append)
        for raw in frames:
            h._handle_message(raw, 5)
        errors = Counter(h.stats.errors)
        errors.pop("amounts_checked", None)
        s = h.state
        outcomes.append((msgspec.to_builtins(events), dict(errors), msgspec.to_builtins(s.balances),
                         msgspec.to_builtins({"open": s.open_orders, "fills": s.fills})))
    for path, outcome in zip(PATHS[1:], outcomes[1:]):
        assert outcome == outcomes[0], path
    return outcomes[0]


def compiled_takes(spot: bool, raw: bytes) -> bool:
    """Whether the compiled reader reads the frame itself (else it hands it to its twin)."""
    h = gate_handler("compiled", spot)
    return h._reader.read(raw, 5) is not None


@pytest.mark.parametrize("text, code", GOOD)
def test_gate_spot_balance_good_code(text, code):
    raw = gate_frame("spot.balances", dict(SPOT_BALANCE, currency=text))
    events, errors, balances, _ = gate_run(True, raw)
    assert errors == {} and [e["currency"] for e in events] == [code]
    assert list(balances) == [code] and balances[code]["total"] == "100" and balances[code]["available"] == "95"
    assert compiled_takes(True, raw)


@pytest.mark.parametrize("text", BAD)
def test_gate_spot_balance_bad_code_is_malformed(text):
    good = dict(SPOT_BALANCE, currency="BTC")
    bad = dict(SPOT_BALANCE, currency=text)
    # beside a good item: the good one applied, the bad one counted
    events, errors, balances, _ = gate_run(True, gate_frame("spot.balances", bad, good))
    assert errors == {"malformed_item": 1} and [e["currency"] for e in events] == ["BTC"] and list(balances) == ["BTC"]
    # alone: nothing applied; as the one object of a push: the frame is malformed
    assert gate_run(True, gate_frame("spot.balances", bad)) == ([], {"malformed_item": 1}, {}, {"open": {}, "fills": {}})
    assert gate_run(True, gate_frame("spot.balances", bad, single=True)) == ([], {"malformed": 1}, {}, {"open": {}, "fills": {}})
    assert not compiled_takes(True, gate_frame("spot.balances", bad, good))


def test_gate_spot_balance_currency_absent_or_not_text_is_malformed():
    for bad in ({k: v for k, v in SPOT_BALANCE.items() if k != "currency"}, dict(SPOT_BALANCE, currency=None),
                dict(SPOT_BALANCE, currency=5), dict(SPOT_BALANCE, currency=True)):
        assert gate_run(True, gate_frame("spot.balances", bad)) == ([], {"malformed_item": 1}, {}, {"open": {}, "fills": {}})


@pytest.mark.parametrize("text, code", GOOD + [("", None)])
def test_gate_spot_fee_currency_good_or_empty(text, code):
    order = dict(SPOT_ORDER, fee_currency=text)
    fill = dict(SPOT_FILL, fee_currency=text)
    events, errors, _, held = gate_run(True, gate_frame("spot.orders", order), gate_frame("spot.usertrades", fill))
    assert errors == {} and [(e["type"], e["fee_currency"]) for e in events] == [("order", code), ("fill", code)]
    assert held["open"]["399123456"]["fee_currency"] == code and [f["fee_currency"] for f in held["fills"].values()] == [code]


def test_gate_spot_fee_currency_absent_or_null_is_none():
    order = {k: v for k, v in SPOT_ORDER.items() if k != "fee_currency"}  # spot.orders_v2 / usertrades_v2 send none
    fill = {k: v for k, v in SPOT_FILL.items() if k not in ("fee", "fee_currency")}
    events, errors, _, _ = gate_run(True, gate_frame("spot.orders_v2", order), gate_frame("spot.usertrades_v2", fill),
                                    gate_frame("spot.usertrades", dict(SPOT_FILL, id=5736714, fee_currency=None)))
    assert errors == {} and [e["fee_currency"] for e in events] == [None, None, None]


@pytest.mark.parametrize("text", [t for t in BAD if t])
def test_gate_spot_fee_currency_bad_code_makes_the_item_malformed(text):
    order, fill = dict(SPOT_ORDER, fee_currency=text), dict(SPOT_FILL, fee_currency=text)
    good_fill = dict(SPOT_FILL, id=5736714)
    events, errors, _, held = gate_run(True, gate_frame("spot.orders", order), gate_frame("spot.usertrades", fill, good_fill))
    assert errors == {"malformed_item": 2} and [(e["type"], e["trade_id"]) for e in events] == [("fill", "5736714")]
    assert held["open"] == {} and list(held["fills"]) == ["5736714"]
    assert not compiled_takes(True, gate_frame("spot.orders", order))


@pytest.mark.parametrize("text, code", GOOD)
def test_gate_futures_balance_good_code(text, code):
    events, errors, balances, _ = gate_run(False, gate_frame("futures.balances", dict(FUT_BALANCE, currency=text)))
    assert errors == {} and [e["currency"] for e in events] == [code] and balances[code]["total"] == "9.99"


@pytest.mark.parametrize("text", BAD)
def test_gate_futures_balance_bad_code_is_malformed(text):
    good = dict(FUT_BALANCE, currency="usdt")
    events, errors, balances, _ = gate_run(False, gate_frame("futures.balances", dict(FUT_BALANCE, currency=text), good))
    assert errors == {"malformed_item": 1} and [e["currency"] for e in events] == ["USDT"] and list(balances) == ["USDT"]
    assert gate_run(False, gate_frame("futures.balances", dict(FUT_BALANCE, currency=text))) == ([], {"malformed_item": 1}, {},
                                                                                                 {"open": {}, "fills": {}})


# -- Gate REST snapshots ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, code", GOOD)
def test_gate_rest_balances_good_code(text, code):
    body = json.dumps([{"currency": text, "available": "1.5", "locked": "0.5"}]).encode()
    assert [(b.currency, b.total) for b in spot_balances(body, 1)] == [(code, D("2.0"))]
    assert futures_balance(json.dumps({"total": "12.5", "available": "0", "currency": text}).encode(), 1).currency == code


@pytest.mark.parametrize("text", BAD)
def test_gate_rest_balances_bad_code_fails_the_body(text):
    body = json.dumps([{"currency": "BTC", "available": "1", "locked": "0"}, {"currency": text, "available": "1", "locked": "0"}]).encode()
    with pytest.raises(ValueError):
        spot_balances(body, 1)
    if text:  # (an empty or absent currency on the futures account is the settle currency)
        with pytest.raises(ValueError):
            futures_balance(json.dumps({"total": "1", "currency": text}).encode(), 1)


def test_gate_rest_futures_balance_without_currency_is_the_settle_one():
    assert futures_balance(b'{"total":"1","currency":""}', 1).currency == futures_balance(b'{"total":"1"}', 1).currency == "USDT"


# -- MEXC: the fused compiled reader, the reference decoders, the strategy path ---------------------
MEXC_PATHS = ["direct", "direct-upb", "direct-py", "strategy"]


def mexc_run(*frames: bytes):
    """(events, counters, balances, fills) of the frames, asserted equal on every path."""
    outcomes = []
    for path in MEXC_PATHS:
        h = mexc_handler(path)
        events: list = []
        h.set_callback(events.append)
        for raw in frames:
            h._handle_message(raw, 11)
        outcomes.append((msgspec.to_builtins(events), dict(h.stats.errors), msgspec.to_builtins(h.state.balances),
                         msgspec.to_builtins(h.state.fills)))
    for path, outcome in zip(MEXC_PATHS[1:], outcomes[1:]):
        assert outcome == outcomes[0], path
    return outcomes[0]


@pytest.mark.parametrize("text, code", GOOD)
def test_mexc_balance_and_fee_good_code(text, code):
    events, errors, balances, fills = mexc_run(mexc_frame(B_ACCOUNT, dict(FROZEN_CHANGE, vcoinName=text), send=1736417200002),
                                               mexc_frame(B_DEALS, dict(MAKER_SELL, feeCurrency=text), symbol="BTCUSDT", send=1736417100200))
    assert errors == {} and [e["type"] for e in events] == ["balance", "fill"]
    assert events[0]["currency"] == code and list(balances) == [code] and balances[code]["available"] == "11.94210356004384"
    assert events[1]["fee_currency"] == code and [f["fee_currency"] for f in fills.values()] == [code]


def test_mexc_fill_without_fee_currency_is_none():
    values = {k: v for k, v in MAKER_SELL.items() if k != "feeCurrency"}
    events, errors, _, _ = mexc_run(mexc_frame(B_DEALS, values, symbol="BTCUSDT", send=1736417100200))
    assert errors == {} and [e["fee_currency"] for e in events] == [None]


@pytest.mark.parametrize("text", BAD)
def test_mexc_bad_code_is_malformed(text):
    frames = [mexc_frame(B_ACCOUNT, dict(FROZEN_CHANGE, vcoinName=text), send=1736417200002)]
    if text:  # (an empty feeCurrency is proto3's "not sent")
        frames.append(mexc_frame(B_DEALS, dict(MAKER_SELL, feeCurrency=text), symbol="BTCUSDT", send=1736417100200))
    # an undocumented side besides: a malformed fill is counted malformed only
    frames.append(mexc_frame(B_DEALS, dict(MAKER_SELL, feeCurrency=text or "USD:", tradeType=7), symbol="BTCUSDT"))
    events, errors, balances, fills = mexc_run(*frames)
    assert (events, errors, balances, fills) == ([], {"malformed": len(frames)}, {}, {})


# -- MEXC REST snapshots ---------------------------------------------------------------------------
def test_mexc_rest_codes():
    h = mexc_handler("direct-upb")
    body = {"balances": [{"asset": text, "free": "1", "locked": "0.5"} for text, _ in GOOD]}
    assert [(b.currency, b.total) for b in private_rest.rest_balances(json.dumps(body).encode(), h, 1)] == [(c, D("1.5")) for _, c in GOOD]
    trade = {"symbol": "BTCUSDT", "id": "T1", "orderId": "O1", "price": "10", "qty": "1", "quoteQty": "10", "commission": "0.01",
             "commissionAsset": "usdt", "time": 1736417100123, "isBuyer": True, "isMaker": False}
    assert private_rest.rest_fill(trade, h, 1).fee_currency == "USDT"
    assert private_rest.rest_fill(dict(trade, commissionAsset=""), h, 1).fee_currency is None
    assert private_rest.rest_fill({k: v for k, v in trade.items() if k != "commissionAsset"}, h, 1).fee_currency is None
    for bad in BAD + [5, True, None]:
        body = {"balances": [{"asset": "USDT", "free": "1", "locked": "0"}, {"asset": bad, "free": "1", "locked": "0"}]}
        with pytest.raises(ValueError):
            private_rest.rest_balances(json.dumps(body).encode(), h, 1)
        if bad not in ("", None):
            with pytest.raises(ValueError):
                private_rest.rest_fill(dict(trade, commissionAsset=bad), h, 1)
