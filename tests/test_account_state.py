"""The venue-free account foundation: AccountState rules, the private handler's buffering and
seeding, account values read exactly, credentials that never show."""

from __future__ import annotations

import logging
import pickle
from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cexfeed import wire
from cexfeed.account import AccountSnapshot, AccountState, position_side
from cexfeed.credentials import Credentials, CredentialsError
from cexfeed.handlers import PrivateWebSocketHandler
from cexfeed.models import (
    AccountStatus,
    Balance,
    Fill,
    Order,
    OrderStatus,
    Position,
    decode_event,
    encode_event,
)

D = Decimal
S = OrderStatus


def order(oid="1", status=S.OPEN, filled="0", left="2", ts=1000, **kw) -> Order:
    base = dict(venue="x", market="spot", symbol="BTC/USDT", venue_symbol="BTC_USDT", exchange_ts=ts, recv_ts=0,
                order_id=oid, side="buy", order_type="limit", status=status, raw_status=str(status.value),
                price=D("100"), amount=D("2"), filled=D(filled), left=D(left), updated_ts=ts)
    base.update(kw)
    return Order(**base)


def fill(tid, oid="1", amount="1", ts=1000) -> Fill:
    return Fill(venue="x", market="spot", symbol="BTC/USDT", venue_symbol="BTC_USDT", exchange_ts=ts, recv_ts=0,
                trade_id=tid, order_id=oid, side="buy", price=D("100"), amount=D(amount))


def balance(currency="USDT", total="10", available="8", frozen="2", ts=1000) -> Balance:
    return Balance(venue="x", market="spot", symbol="", venue_symbol="", exchange_ts=ts, recv_ts=0,
                   currency=currency, total=D(total), available=D(available), frozen=D(frozen))


def position(contracts, mode="single", update_id=1, symbol="BTC/USDT:USDT") -> Position:
    c = D(contracts)
    return Position(venue="x", market="perp", symbol=symbol, venue_symbol="BTC_USDT", exchange_ts=1000, recv_ts=0,
                    mode=mode, side=position_side(mode, c), contracts=c, size=c * D("0.0001"), update_id=update_id)


# -- orders --------------------------------------------------------------------------------------


def test_order_lifecycle_open_partial_filled():
    st_ = AccountState()
    assert st_.apply_order(order()) is not None
    assert st_.apply_order(order(status=S.PARTIALLY_FILLED, filled="1", left="1", ts=1001)) is not None
    assert list(st_.open_orders) == ["1"]
    done = st_.apply_order(order(status=S.FILLED, filled="2", left="0", ts=1002))
    assert done.status is S.FILLED
    assert st_.open_orders == {} and st_.closed_orders["1"].filled == D("2")


def test_terminal_order_never_reopens_and_older_update_never_overwrites():
    st_ = AccountState()
    st_.apply_order(order(status=S.PARTIALLY_FILLED, filled="1", left="1", ts=1005))
    # older by time, and by filled amount
    assert st_.apply_order(order(ts=1001)) is None
    assert st_.apply_order(order(status=S.PARTIALLY_FILLED, filled="0.5", left="1.5", ts=1006)) is None
    assert st_.open_orders["1"].filled == D("1")
    st_.apply_order(order(status=S.CANCELED, filled="1", left="1", ts=1007))
    assert st_.apply_order(order(status=S.PARTIALLY_FILLED, filled="1", left="1", ts=1008)) is None
    assert "1" not in st_.open_orders and st_.closed_orders["1"].status is S.CANCELED
    assert st_.stats["stale_order"] == 2 and st_.stats["reopen_refused"] == 1


def test_update_ids_order_updates_and_duplicates_are_dropped():
    st_ = AccountState()
    st_.apply_order(order(update_id=5, ts=None, updated_ts=None))
    assert st_.apply_order(order(update_id=4, status=S.PARTIALLY_FILLED, filled="1", left="1", ts=None, updated_ts=None)) is None
    assert st_.apply_order(order(update_id=5, ts=None, updated_ts=None)) is None
    assert st_.stats["stale_order"] == 1 and st_.stats["duplicate_order"] == 1
    # same content, later: nothing to report
    st2 = AccountState()
    st2.apply_order(order())
    assert st2.apply_order(order(ts=1003)) is None


def test_unknown_status_is_published_but_keeps_the_lifecycle():
    st_ = AccountState()
    st_.apply_order(order())
    event = st_.apply_order(order(status=S.UNKNOWN, raw_status="update/mystery", ts=1001, filled="0.5", left="1.5"))
    assert event.status is S.UNKNOWN and event.raw_status == "update/mystery"
    held = st_.open_orders["1"]
    assert held.status is S.OPEN and held.filled == D("0.5")
    # an unknown status never finishes or reopens an order
    st_.apply_order(order(status=S.FILLED, filled="2", left="0", ts=1002))
    assert st_.apply_order(order(status=S.UNKNOWN, raw_status="?", ts=1003, filled="2", left="0")) is None
    assert "1" not in st_.open_orders
    # an unknown order with an unknown status is created and held open
    assert st_.apply_order(order("9", status=S.UNKNOWN)) is not None
    assert st_.open_orders["9"].status is S.UNKNOWN


def test_fills_dedupe_and_sum_invariant():
    st_ = AccountState()
    assert st_.apply_fill(fill("a", amount="0.5")) is not None  # before its order: kept
    assert st_.apply_fill(fill("a", amount="0.5")) is None
    st_.apply_order(order(status=S.PARTIALLY_FILLED, filled="0.5", left="1.5"))
    st_.apply_fill(fill("b", amount="1.5", ts=1001))
    st_.apply_order(order(status=S.FILLED, filled="2", left="0", ts=1002))
    assert st_.invariants() == {}
    assert st_.fill_sums["1"][0] == D("2") and st_.last_fill_ts == 1001
    st_.apply_fill(fill("c", amount="0.1", ts=1003))
    assert st_.stats["fills_exceed_order"] == 1
    assert "fill_sum" in st_.invariants()


@pytest.mark.parametrize("impl", ["compiled", "pure"])
def test_fill_sums_never_round_past_28_digits(impl):
    """Sums of an order's fills are exact whatever their digits (the default decimal context
    would round this one to 28 significant digits), on the compiled state and its twin."""
    from cexfeed.account import PyAccountState
    if impl == "compiled":
        pytest.importorskip("cexfeed._account", reason="the compiled account state is not built")
    st_ = AccountState() if impl == "compiled" else PyAccountState()
    st_.apply_fill(fill("a", amount="12345678901234567890.123456789"))
    st_.apply_fill(fill("b", amount="0.000000000000000000001", ts=1001))
    assert st_.fill_sums["1"][0] == D("12345678901234567890.123456789000000000001")
    assert str(st_.fill_sums["1"][0]) == "12345678901234567890.123456789000000000001"


def test_balance_ordering_by_time_and_no_repeat():
    st_ = AccountState()
    assert st_.apply_balance(balance(ts=1000)) is not None
    assert st_.apply_balance(balance(total="11", available="9", ts=999)) is None
    assert st_.apply_balance(balance(ts=1001)) is None  # unchanged
    assert st_.apply_balance(balance(total="12", available="10", ts=None)) is not None
    assert st_.balances["USDT"].total == D("12") and st_.stats["stale_balance"] == 1


def test_positions_close_on_zero_in_both_modes_and_keep_modes_apart():
    st_ = AccountState()
    st_.apply_position(position("3", update_id=1))
    st_.apply_position(position("2", mode="dual_long", update_id=2, symbol="ETH/USDT:USDT"))
    st_.apply_position(position("-4", mode="dual_short", update_id=3, symbol="ETH/USDT:USDT"))
    assert len(st_.positions) == 3 and st_.positions[("BTC/USDT:USDT", "single")].side == "long"
    closed = st_.apply_position(position("0", update_id=4))
    assert closed.closed and closed.side == "long" and closed.contracts == 0
    assert ("BTC/USDT:USDT", "single") not in st_.positions
    # an older push cannot reopen it; a partial close of one dual side leaves the other
    assert st_.apply_position(position("3", update_id=3)) is None
    partial = st_.apply_position(position("-1", mode="dual_short", update_id=5, symbol="ETH/USDT:USDT"))
    assert partial.contracts == D("-1") and not partial.closed
    assert st_.positions[("ETH/USDT:USDT", "dual_long")].contracts == D("2")
    assert st_.invariants() == {}


def test_reconcile_reports_each_missed_change_once():
    st_ = AccountState()
    st_.apply_order(order("1"))
    st_.apply_order(order("2"))
    st_.apply_balance(balance("BTC", "1", "1", "0"))
    st_.apply_balance(balance("USDT"))
    st_.apply_position(position("3", update_id=1))
    snap = AccountSnapshot(
        balances=[balance("USDT", "9", "9", "0", ts=None)],
        open_orders=[order("2")],  # unchanged: not reported
        orders=[order("1", status=S.FILLED, filled="2", left="0", ts=2000)],
        positions=[],
        fills=[fill("t2", ts=1500, amount="1"), fill("t1", ts=1400, amount="1")],
        taken_ts=3000,
    )
    events = st_.reconcile(snap, 5)
    keys = {Order: "order_id", Fill: "trade_id", Balance: "currency", Position: "mode"}
    kinds = [(type(e).__name__, getattr(e, keys[type(e)])) for e in events]
    assert kinds == [("Order", "1"), ("Fill", "t1"), ("Fill", "t2"), ("Balance", "USDT"), ("Balance", "BTC"), ("Position", "single")]
    assert st_.balances["BTC"].total == 0 and events[-1].closed
    # the same snapshot again changes nothing
    assert st_.reconcile(snap, 6) == []


# -- the private handler contract ------------------------------------------------------------------


class _Handler(PrivateWebSocketHandler):
    venue = "x"
    market = "spot"

    def unified(self, venue_symbol: str) -> str:
        return venue_symbol

    def _dispatch(self, raw, recv_ts):
        for item in msgspec.json.decode(raw):
            if item == "boom":
                raise ValueError("bad frame")
            self._account_event(order(item["id"], status=S(item["s"]), filled=item["f"], left="1", ts=item["t"]))


def test_private_handler_buffers_until_the_snapshot_and_applies_newer_pushes_after_it():
    events = []
    h = _Handler(events.append)
    h.begin_sync("start")
    h._handle_message(b'[{"id":"1","s":"open","f":"0","t":1000},{"id":"1","s":"partially_filled","f":"1","t":1100}]')
    h._handle_message(b'["boom"]')
    assert h.stats.errors["malformed"] == 1
    assert [e.status for e in events] == ["seeding"]
    snap = AccountSnapshot(open_orders=[order("1", status=S.OPEN, filled="0", ts=1050)], balances=[balance()])
    assert h.finish_sync(snap)
    kinds = [(type(e).__name__, getattr(e, "status", None)) for e in events]
    assert kinds == [("AccountStatus", "seeding"), ("Order", S.OPEN), ("Balance", None), ("Order", S.PARTIALLY_FILLED), ("AccountStatus", "live")]
    assert h.state.open_orders["1"].filled == D("1")
    # a dropped connection: stale, its buffer is dropped; the next session reconciles
    h.connection_lost("reconnect")
    h._handle_message(b'[{"id":"1","s":"filled","f":"2","t":1300}]')
    h.begin_sync("reconnect")
    h.finish_sync(AccountSnapshot(balances=[balance()]))
    statuses = [e.status for e in events if isinstance(e, AccountStatus)]
    assert statuses == ["seeding", "live", "stale", "reconciling", "live"]
    assert "1" not in h.state.open_orders


def test_private_handler_buffer_overflow_asks_for_another_snapshot():
    h = _Handler(None, max_buffer=1)
    h.begin_sync()
    h._handle_message(b'[{"id":"1","s":"open","f":"0","t":1},{"id":"2","s":"open","f":"0","t":1}]')
    assert h.stats.errors["buffer_overflow"] == 1
    assert h.finish_sync(AccountSnapshot()) is False


def test_account_events_round_trip_as_jsonl_with_exact_decimals():
    o = order(price=D("0.10000000000000001"))
    back = decode_event(encode_event(o))
    assert back == o and back.price == D("0.10000000000000001")
    assert b'"type":"order"' in encode_event(o)


# -- account values ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0.1", "0", "-1.25e-8", "40000.36666661111", "0.10000000000000001", "12345678901234567890123"])
def test_amount_reads_the_venue_text_exactly(text):
    assert wire.amount(text) == D(text)
    typed = msgspec.json.decode(b'{"a":%s}' % text.encode(), type=dict[str, wire.Amount])["a"]
    assert typed == D(text) and str(typed) == str(D(text))


@pytest.mark.parametrize("bad", ["1_000", " 5", "+1", "00012", ".5", "5.", "NaN", "inf", "١٢", "1e300", "-1e400", "", True, 0.1, None])
def test_amount_refuses_what_the_grammar_refuses(bad):
    with pytest.raises(ValueError):
        wire.amount(bad)
    if isinstance(bad, str):
        assert not wire.amounts_plain(msgspec.json.encode({"a": bad})) or bad == ""


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="0123456789.-+eE _naif", max_size=10))
def test_screen_and_strict_convert_agree_with_the_grammar(text):
    """A frame the screen passes decodes (typed) exactly as the strict converter reads it; a
    frame it stops is read by the strict converter (one grammar on both paths)."""

    class Item(msgspec.Struct):
        a: wire.Amount

    raw = msgspec.json.encode({"a": text})
    try:
        strict = wire.amount(text)
    except ValueError:
        strict = None
    if wire.amounts_plain(raw):
        try:
            typed = msgspec.json.decode(raw, type=Item, strict=False).a
        except msgspec.ValidationError:  # not a number at all: both paths refuse it
            typed = None
        assert str(typed) == str(strict)  # the same text, not only the same value ("-0" vs "0")
    try:
        converted = wire.convert_amounts(wire.untyped_amounts.decode(raw), Item).a
    except (ValueError, msgspec.ValidationError):
        converted = None
    assert str(converted) == str(strict)


@pytest.mark.parametrize("raw,text", [(b'{"a":"-0"}', "0"), (b'{"a":-0}', "0"), (b'{"a":"-0.00"}', "0.00"), (b'{"a":-0.0}', "0.0"),
                                      (b'{"a":"-0e5"}', "0E+5"), (b'{"a":"-0.5"}', "-0.5"), (b'{"a":"0.0"}', "0.0")])
def test_a_zero_with_a_minus_sign_is_zero_on_every_path(raw, text):
    """Found by the account-stream differential fuzz: the typed decode read ``"-0"`` as ``0`` but
    ``"-0.0"`` as ``-0.0``, the strict converter kept every sign; now every path reads zero."""

    class Item(msgspec.Struct):
        a: wire.Amount

    assert str(wire.decode_amounts(raw, msgspec.json.Decoder(Item, strict=False), Item).a) == text
    assert str(wire.convert_amounts(wire.untyped_amounts.decode(raw), Item).a) == text


def test_convert_amounts_reads_json_floats_from_their_text():
    class Item(msgspec.Struct):
        fee: wire.Amount
        pnl: wire.Amount | None = None

    [item] = wire.convert_amounts(wire.untyped_amounts.decode(b'[{"fee":0.0009290592,"pnl":-1.25e-8}]'), Item)
    assert item.fee == D("0.0009290592") and item.pnl == D("-1.25E-8")


# -- credentials -------------------------------------------------------------------------------


def test_credentials_never_show(caplog):
    creds = Credentials("CANARYKEY123", "CANARYSECRET456", 77)
    for text in (repr(creds), str(creds), f"{creds}", f"{creds!r}"):
        assert "CANARY" not in text and "77" in text
    with pytest.raises(TypeError):
        pickle.dumps(creds)
    assert creds.scrub("auth data: CANARYKEY123 sig CANARYSECRET456 abc", "abc") == "auth data: *** sig *** ***"
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("cexfeed").debug("creds %s %r", creds, creds)
    assert "CANARY" not in caplog.text


@pytest.mark.parametrize("key", ['CANARY"KEY8f3a', "CANARY\\KEY8f3a", "CANARYKÉY8f3a", "CANARY KEY/8f3a+&="])
def test_credentials_are_masked_as_a_venue_echoes_them(key):
    """A venue error that echoes the request writes the key escaped in JSON or percent-encoded
    in a URL: every written form is masked."""
    import json
    from urllib.parse import quote, quote_plus

    secret = 'CANARY\\SECRET"8f3a'
    creds = Credentials(key, secret)
    echo = json.dumps({"KEY": key, "SECRET": secret})
    for form in (key, json.dumps(key)[1:-1], json.dumps(key, ensure_ascii=False)[1:-1], quote(key, safe=""), quote_plus(key)):
        text = creds.scrub('{"message": "invalid key ' + form + '", "echo": ' + echo + "}")
        assert "CANARY" not in text, text


def test_credentials_from_environment_name_the_missing_variables():
    creds = Credentials.from_env(environ={"GATEIO_API_KEY": "k", "GATEIO_API_SECRET": "s", "GATEIO_UID": "5"})
    assert creds.key == "k" and creds.uid == "5"
    with pytest.raises(CredentialsError, match="GATEIO_API_SECRET") as info:
        Credentials.from_env(environ={"GATEIO_API_KEY": "secretish"})
    assert "secretish" not in str(info.value)


@pytest.mark.parametrize("impl", ["compiled", "pure"])
def test_an_unknown_side_keeps_the_side_the_order_had(impl):
    """An update whose side the venue sent as a value we do not know (``unknown``, raw value in
    ``raw_side``) is published as sent, but the held order keeps its buy/sell side; counted."""
    from cexfeed.account import PyAccountState
    from cexfeed import _account  # noqa: F401  (the compiled twin must be built)
    cls = AccountState if impl == "compiled" else PyAccountState
    st_ = cls()
    st_.apply_order(order(side="sell"))
    event = st_.apply_order(order(side="unknown", raw_side="7", ts=1001, filled="0.5", left="1.5"))
    assert (event.side, event.raw_side) == ("unknown", "7")
    held = st_.open_orders["1"]
    assert (held.side, held.raw_side, held.filled, held.updated_ts) == ("sell", None, D("0.5"), 1001) and st_.stats["unknown_side"] == 1
    # with an unknown status too, and into the finished orders
    st_.apply_order(order(side="?", raw_side="?", status=S.UNKNOWN, ts=1002, filled="1", left="1"))
    st_.apply_order(order(side="unknown", raw_side="9", status=S.FILLED, ts=1003, filled="2", left="0"))
    done = st_.closed_orders["1"]
    assert (done.side, done.status) == ("sell", S.FILLED) and st_.stats["unknown_side"] == 3
    # a known side is taken as sent; an order first seen with an unknown side keeps it
    st_.apply_order(order("2", side="buy"))
    st_.apply_order(order("2", side="sell", ts=1001, filled="1", left="1"))
    assert st_.open_orders["2"].side == "sell"
    st_.apply_order(order("3", side="unknown", raw_side="5"))
    st_.apply_order(order("3", side="unknown", raw_side="5", ts=1001, filled="1", left="1"))
    assert st_.open_orders["3"].side == "unknown" and st_.stats["unknown_side"] == 3


@pytest.mark.parametrize("impl", ["compiled", "pure"])
def test_a_closed_position_has_no_size_on_every_path(impl):
    """A position closed while disconnected (reconcile) or by a push that keeps a stale base
    size: contracts 0 and size 0, in the compiled state and its pure twin alike."""
    from cexfeed.account import PyAccountState
    if impl == "compiled":
        pytest.importorskip("cexfeed._account", reason="the compiled account state is not built")
    cls = AccountState if impl == "compiled" else PyAccountState
    if impl == "compiled":
        assert cls is not PyAccountState
    st_ = cls()
    st_.apply_position(position("18", update_id=3))
    assert st_.positions[("BTC/USDT:USDT", "single")].size == D("0.0018")
    (gone,) = st_.reconcile(AccountSnapshot(positions=[], taken_ts=2), 2)
    assert (gone.contracts, gone.size, gone.closed, gone.side) == (D(0), D(0), True, "long")
    # a live close whose frame still carries the old base size, or none at all
    for stale_size in (D("0.0018"), None):
        st_.apply_position(position("18", update_id=10 if stale_size is None else 5))
        close = msgspec.structs.replace(position("0", update_id=11 if stale_size is None else 6), size=stale_size)
        out = st_.apply_position(close)
        assert (out.contracts, out.size, out.closed) == (D(0), D(0), True)
    # the frame's own zero is kept as written (gate sends "0.00")
    st_.apply_position(position("2", update_id=20))
    out = st_.apply_position(msgspec.structs.replace(position("0", update_id=21), size=D("0.00")))
    assert str(out.size) == "0.00"
    # a position that never knew a base size closes with none
    st_.apply_position(msgspec.structs.replace(position("2", update_id=30), size=None))
    out = st_.apply_position(msgspec.structs.replace(position("0", update_id=31), size=None))
    assert out.size is None and out.closed


def test_json_writes_account_decimals_as_plain_text_and_keeps_the_value():
    """msgspec writes ``str(Decimal)``: ``8.33E-7``; JSON/CLI output is plain decimal text."""
    f = fill("t1", amount="0.00001")
    f = msgspec.structs.replace(f, fee=D("8.33E-7"), price=D("1E+3"))
    raw = encode_event(f)
    assert b'"fee":"0.000000833"' in raw and b'"price":"1000"' in raw and b'"amount":"0.00001"' in raw
    back = decode_event(raw)
    assert back.fee == D("8.33E-7") and back.price == D(1000) and back.amount == D("0.00001")
    assert str(f.fee) == "8.33E-7"  # the event's own Decimal is unchanged
    zero = balance("USDT", "0E-10", "0", "0")
    assert b'"total":"0.0000000000"' in encode_event(zero) and decode_event(encode_event(zero)).total == 0
