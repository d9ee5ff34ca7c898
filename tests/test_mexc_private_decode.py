"""The three private decoders give the same result: the compiled walker (_privpb), its
pure-Python twin and the upb reference: the same typed bodies (same Decimals, same strings,
same times) or all refuse the frame; on the documented samples, on frames built from the field
tables and on generated, mutated and damaged frames. And the direct handler gives the same
events and error counts on each."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from cexfeed import wire
from cexfeed.exchanges.mexc import private_decode as pd
from cexfeed.exchanges.mexc.decode import Push
from cexfeed.models import encode_event

from mexc_private_frames import (
    ACCOUNT_FIELDS,
    B_ACCOUNT,
    B_DEALS,
    B_ORDERS,
    DEAL_FIELDS,
    DOC_ACCOUNT,
    DOC_ACCOUNT_FRAME,
    DOC_DEAL,
    DOC_DEAL_FRAME,
    DOC_ORDER,
    DOC_ORDER_FRAME,
    FROZEN_CHANGE,
    MAKER_SELL,
    ORDER_FIELDS,
    PARTIAL_CANCEL,
    field,
    frame,
    key,
    varint,
)
from test_mexc_private import run

COMPILED = pd.decode_private_compiled
needs_compiled = pytest.mark.skipif(COMPILED is None, reason="compiled MEXC private decoder (_privpb) not built")
DECODERS = [pd.decode_private_upb, pd.decode_private_py] + ([COMPILED] if COMPILED is not None else [])
FIELDS = {B_ORDERS: ORDER_FIELDS, B_DEALS: DEAL_FIELDS, B_ACCOUNT: ACCOUNT_FIELDS}
SAMPLES = [
    DOC_ORDER_FRAME, DOC_DEAL_FRAME, DOC_ACCOUNT_FRAME, frame(B_ORDERS, PARTIAL_CANCEL, symbol="MXUSDT", send=1736417050000),
    frame(B_DEALS, MAKER_SELL, symbol="BTCUSDT", send=1736417100200), frame(B_ACCOUNT, FROZEN_CHANGE, create=1736417200001, send=1736417200002),
]
NOT_NUMBERS = ["1_000", " 5", "5 ", "+1", "00012", ".5", "7.", "NaN", "nan", "Infinity", "-inf", "1e400", "-1e300", "0x10", "١٢", "1e",
               "--1", "1.2.3", "abc", "1e+", "9" * 301]
NUMBERS = ["0", "-0", "1", "-1", "0.1", "12.50", "1e5", "1E+5", "0.001e-2", "-0.0", "0.1000000000000000055511151231257827",
           "9" * 299, "-" + "9" * 299, "1e299", "9.99e299", "0.00000000001e309", "1" + "0" * 40]


def outcome(decoder, raw: bytes):
    try:
        return ("ok", decoder(raw))
    except Exception:  # DecodeError (upb) / ValueError
        return ("error",)


def assert_same(raw: bytes) -> tuple:
    """Every decoder's outcome on ``raw`` is the upb one (values and their exact text)."""
    first = outcome(DECODERS[0], raw)
    for decoder in DECODERS[1:]:
        got = outcome(decoder, raw)
        assert got == first, (decoder.__name__, raw.hex(), got, first)
        if got[0] == "ok":
            assert repr(got[1]) == repr(first[1]), raw.hex()  # Decimal('1E+5') vs Decimal('1.0E+5') are ==
    return first


@pytest.mark.parametrize("raw", SAMPLES)
def test_samples_decode_identically(raw):
    result = assert_same(raw)
    assert result[0] == "ok" and result[1].body is not None


def test_results_are_the_named_types():
    for decoder in DECODERS:
        for raw, cls in zip(SAMPLES[:3], (pd.OrderBody, pd.DealBody, pd.AccountBody)):
            push = decoder(raw)
            assert type(push) is Push and type(push.body) is cls
            assert all(type(v) is Decimal for v in push.body if isinstance(v, Decimal))


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_text_that_is_not_a_venue_number_refuses_the_frame_on_every_decoder(text):
    for number, name in ((B_ORDERS, "price"), (B_DEALS, "feeAmount"), (B_ACCOUNT, "frozenAmountChange")):
        base = {B_ORDERS: DOC_ORDER, B_DEALS: DOC_DEAL, B_ACCOUNT: DOC_ACCOUNT}[number]
        raw = frame(number, dict(base, **{name: text}), symbol="MXUSDT")
        assert assert_same(raw) == ("error",), (text, name)


@pytest.mark.parametrize("text", NUMBERS)
def test_json_number_text_is_the_exact_decimal_of_that_text(text):
    raw = frame(B_DEALS, dict(DOC_DEAL, price=text, quantity=text), symbol="MXUSDT")
    result = assert_same(raw)
    assert result[0] == "ok"
    assert result[1].body.price == wire.amount(text) and repr(result[1].body.quantity) == repr(wire.amount(text))
    # the text's own Decimal, except a zero with a minus sign, which is zero
    assert repr(result[1].body.price) == repr(abs(Decimal(text)) if Decimal(text) == 0 else Decimal(text))


@pytest.mark.parametrize("value, want", [(1736417034, 1736417034000), (1736417034280, 1736417034280), (1736417034280123, 1736417034280),
                                          (1736417034280123456, 1736417034280), (0, None)])
def test_times_in_any_unit_are_ms(value, want):
    raw = frame(B_DEALS, dict(DOC_DEAL, time=value), symbol="MXUSDT", send=value)
    result = assert_same(raw)
    assert (result[1].ts, result[1].body.time_ms) == (want, want)


def test_negative_times_refuse_the_frame():
    for raw in (frame(B_DEALS, dict(DOC_DEAL, time=-1)), frame(B_ORDERS, DOC_ORDER, send=-5), frame(B_ORDERS, dict(DOC_ORDER, createTime=-1))):
        assert assert_same(raw) == ("error",)


def test_int32_codes_and_flags_as_upb_reads_them():
    """A 10-byte varint in an int32 code keeps its low 32 bits (sign included); any non-zero
    varint in a bool is True; codes are kept as sent, new values included."""
    for code in (-1, 2**31 - 1, -(2**31), 2**32 + 3, 2**40 + 2, 7, 100):
        for flag in (1, 2, 2**63, 0):
            body = field(1, "C02__1") + key(15, 0) + varint(code) + key(7, 0) + varint(code) + key(9, 0) + varint(flag)
            raw = field(1, "spot@private.orders.v3.api.pb") + field(B_ORDERS, body)
            result = assert_same(raw)
            b = result[1].body
            low = code & 0xFFFFFFFF
            assert b.status == b.order_type == (low - 2**32 if low >= 2**31 else low)
            assert b.is_maker is (flag != 0)


def test_known_fields_with_another_wire_type_are_unknown_fields():
    body = key(1, 0) + varint(5) + field(1, "C02__1") + key(3, 5) + bytes(4) + key(15, 2) + varint(1) + b"x" + key(15, 0) + varint(2)
    raw = field(1, "spot@private.orders.v3.api.pb") + key(6, 2) + varint(1) + b"x" + field(B_ORDERS, body)
    result = assert_same(raw)
    assert (result[1].body.order_id, result[1].body.price, result[1].body.status, result[1].ts) == ("C02__1", None, 2, None)


def test_every_string_field_must_be_utf8_even_the_ones_not_kept():
    for number, fields in FIELDS.items():
        for name, (num, wire_type) in fields.items():
            if wire_type != 2:
                continue
            raw = field(1, "spot@private.orders.v3.api.pb") + field(number, field(num, b"\xc3\x28"))
            assert assert_same(raw) == ("error",), name
    for wrapper_field in (1, 3, 4):
        assert assert_same(field(wrapper_field, b"\xff") + field(B_ORDERS, field(1, "x"))) == ("error",)
    # an overwritten value too
    assert assert_same(field(B_ORDERS, field(1, b"\xff") + field(1, "ok"))) == ("error",)


def test_repeated_body_pieces_merge_and_a_replaced_body_is_read_whole():
    first = field(B_ORDERS, field(1, "C02__1") + field(3, "1"))
    second = field(B_ORDERS, field(3, "2") + key(15, 0) + varint(4))
    merged = assert_same(first + second)
    assert (merged[1].body.order_id, merged[1].body.price, merged[1].body.status) == ("C02__1", Decimal("2"), 4)
    # 17 pieces (more than the compiled walker keeps): read by upb
    many = b"".join(field(B_ORDERS, field(3, str(i))) for i in range(17))
    assert assert_same(many)[1].body.price == Decimal("16")
    # a deal replaced by an account body; the replaced deal must still be well-formed
    replaced = field(B_DEALS, field(7, "T1")) + field(B_ACCOUNT, field(1, "USDT"))
    assert assert_same(replaced)[1].body.currency == "USDT"
    assert assert_same(field(B_DEALS, field(7, b"\xff")) + field(B_ACCOUNT, field(1, "USDT"))) == ("error",)


def test_frames_without_a_private_body():
    assert assert_same(field(1, "x") + field(320, b"\x08\x01"))[1][:2] == (320, "")
    assert assert_same(field(1, "x"))[1][0] == 0
    assert assert_same(field(1, "x") + field(313, field(4, "5")))[1][0:4:3] == (313, None)
    assert assert_same(field(1, "x") + key(304, 0) + varint(1)) == ("error",)  # our body, another wire type
    assert assert_same(field(400, b"") + key(304, 0) + varint(1))[1][0] == 400  # the first unknown >= 300 names it
    assert assert_same(field(B_ORDERS, b"") + key(306, 0) + varint(1))[1][0] == B_ORDERS


def _amount(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.05:
        return rng.choice(NOT_NUMBERS)
    if kind < 0.1:
        return rng.choice(NUMBERS)
    if kind < 0.2:
        return "0"
    if kind < 0.25:  # a negative value: outside the kind of every value but a fee or a change
        return f"-{rng.randint(0, 999)}.{rng.randint(1, 99)}"
    return f"{rng.randint(0, 99999)}.{rng.randint(0, 10**8 - 1):0{rng.randint(1, 8)}d}"


#: what the random bodies' vcoinName and feeCurrency hold: mostly codes, empty, three that are not
_CURRENCIES = ("USDT", "MX", "btc", "1INCH") * 3 + ("", "ÄÖ", "U:DT", "00012")


def _random_frame(rng: random.Random) -> bytes:
    number = rng.choice((B_ORDERS, B_DEALS, B_ACCOUNT))
    values = {}
    for name, (num, wire_type) in FIELDS[number].items():
        if rng.random() < 0.25:
            continue  # proto3: a default is left out
        if wire_type == 0:
            values[name] = rng.choice((0, 1, 2, 3, 5, 100, 1736417034280, 1736417034, rng.randint(0, 2**64 - 1)))
        elif name in ("id", "tradeId", "orderId", "clientId", "clientOrderId"):
            values[name] = f"C02__{rng.randint(0, 10**20)}"
        elif name in ("vcoinName", "feeCurrency"):  # mostly currency codes (wire.currency), some that are not
            values[name] = rng.choice(_CURRENCIES)
        elif name in ("type", "coinId", "market", "symbolId", "ocoId", "routeFactor", "marketId", "marketCurrencyId", "currencyId"):
            values[name] = rng.choice(("USDT", "MX", "ENTRUST_PLACE", "", "ÄÖ"))
        else:
            values[name] = _amount(rng)
    return frame(number, values, symbol=rng.choice((None, "MXUSDT", "BTCUSDT")), send=rng.choice((None, 1736417034281, 0)),
                 create=rng.choice((None, 1736417034, 1736417034281)))


def _unknown_field(rng: random.Random) -> bytes:
    number = rng.choice([2, 27, 40, 99, 250, 300, 316, 400, 2**29 - 1])
    wire_type = rng.choice([0, 1, 2, 3, 5])
    if wire_type == 0:
        return key(number, 0) + varint(rng.randint(0, 2**64 - 1))
    if wire_type in (1, 5):
        return key(number, wire_type) + bytes(8 if wire_type == 1 else 4)
    if wire_type == 2:
        payload = bytes(rng.randrange(256) for _ in range(rng.randint(0, 5)))
        return key(number, 2) + varint(len(payload)) + payload
    return key(number, 3) + key(1, 0) + b"\x05" + key(number, 4)


def _mutate(rng: random.Random, raw: bytes) -> bytes:
    choice = rng.randrange(9)
    if choice == 0:
        return raw[: rng.randint(0, len(raw))]
    if choice == 1:
        b = bytearray(raw)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if choice == 2:
        return raw + _unknown_field(rng)
    if choice == 3:
        return _unknown_field(rng) + raw
    if choice == 4:
        return raw + raw
    if choice == 5:
        return raw + _random_frame(rng)
    if choice == 6:
        # an unknown field inside the body: a second piece of the same body
        number = next((n for n in (B_ORDERS, B_DEALS, B_ACCOUNT) if key(n, 2) in raw), None)
        return raw + field(number, _unknown_field(rng)) if number else raw
    if choice == 7:
        b = bytearray(raw)
        b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
        return bytes(b)
    return raw


def test_generated_and_damaged_frames_decode_identically():
    rng = random.Random(20261202)
    frames = []
    results = {"ok": 0, "error": 0}
    for _ in range(4000):
        raw = _random_frame(rng)
        if rng.random() < 0.5:
            raw = _mutate(rng, raw)
        frames.append(raw)
        results[assert_same(raw)[0]] += 1
    assert results["ok"] > 1000 and results["error"] > 500, results
    # and the handler gives the same events and counters on each decoder and on the fused path
    outcomes = []
    for decoder in DECODERS + ([None] if pd.read_private is not None else []):
        handler, events = run(decoder, *frames)
        outcomes.append(([encode_event(e) for e in events], dict(handler.stats.errors)))
    assert all(o == outcomes[0] for o in outcomes[1:])
    events, errors = outcomes[0]
    # (a value outside its kind, frequent among the random amounts, makes the frame malformed:
    # a negative one anywhere but a fee or change, a fill's price or quantity of 0; an order's
    # random remainQuantity/cumulativeQuantity above its quantity; a currency that is no code)
    assert len(events) > 440
    for kind in ("malformed", "truncated", "unknown_side", "unknown_order_type", "unknown_body"):
        assert errors.get(kind, 0) > 0, errors


@needs_compiled
def test_memoryview_and_bytearray_inputs():
    want = pd.decode_private_upb(DOC_ORDER_FRAME)
    assert COMPILED(memoryview(DOC_ORDER_FRAME)) == want == COMPILED(bytearray(DOC_ORDER_FRAME)) == pd.decode_private_py(bytearray(DOC_ORDER_FRAME))


@needs_compiled
def test_cached_decimals_are_the_same_values():
    """The compiled walker keeps the Decimals of recent texts: the same text gives an equal
    Decimal with the same text, different texts never share one."""
    texts = ["1", "1.0", "1.00", "1E+0", "10", "0.1", "-0", "0", "-0.00", "-1"] * 3
    for text in texts:
        raw = frame(B_DEALS, dict(DOC_DEAL, price=text, quantity=text))
        body = COMPILED(raw).body
        assert repr(body.price) == repr(wire.amount(text)) == repr(body.quantity)


@needs_compiled
def test_the_compiled_walker_holds_the_wire_bounds():
    from cexfeed.exchanges.mexc import _privpb

    assert (_privpb.MAX_MILLIS, _privpb.MAX_SECONDS, _privpb.MAX_FIELD_NUMBER) == (wire.MAX_MILLIS, wire.MAX_SECONDS, 2**29 - 1)
