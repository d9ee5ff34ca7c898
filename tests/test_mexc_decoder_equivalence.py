"""The compiled decoder (_fastpb) gives exactly what the upb decoder gives: same values, same
events, same error kinds, on every capture and on generated (also damaged) frames."""

from __future__ import annotations

import random

import pytest
from mexc_helpers import make_handler

from cexfeed.exchanges.mexc import decode
from cexfeed.exchanges.mexc.encode import (
    aggre_book_ticker_frame,
    aggre_deals_frame,
    aggre_depth_frame,
    book_ticker_batch_frame,
    kline_frame,
    limit_depth_frame,
    mini_tickers_frame,
)
from cexfeed.models import encode_event

pytestmark = pytest.mark.skipif(decode.decode_push_compiled is None, reason="compiled MEXC decoder (_fastpb) not built")

HOT = {303, 313, 314, 315, 308}


def _outcome(fn, raw):
    try:
        return ("ok", fn(raw))
    except Exception as exc:  # DecodeError (upb) / ValueError (compiled)
        return ("error", type(exc).__name__ if isinstance(exc, (ValueError,)) and not type(exc).__name__ == "DecodeError" else "error")


def _same(raw: bytes) -> None:
    up = _outcome(decode.decode_push_upb, raw)
    co = _outcome(decode.decode_push_compiled, raw)
    if up[0] == "ok" and co[0] == "ok":
        (un, us, ut, ub), (cn, cs, ct, cb) = up[1], co[1]
        assert (un, us, ut) == (cn, cs, ct), raw.hex()
        if un in HOT:
            # exactly the same values (repr: nan compares unequal to itself)
            assert repr(ub) == repr(cb), raw.hex()
        else:
            # cold bodies are left to upb (None), or come from upb itself (two oneof bodies)
            assert cb is None or repr(cb) == repr(ub)
    elif co[0] == "ok":
        # upb rejected: only possible for a body the compiled decoder leaves to upb
        assert co[1][0] not in HOT, raw.hex()
    else:
        assert up[0] == "error", (raw.hex(), up)


def _events(decoder: str, frames) -> tuple[list[bytes], dict]:
    handler, events, hooks = make_handler(decoder)
    handler.apply_snapshot("BTCUSDT", 1000, [(100.0, 1.0)], [(101.0, 1.0)], recv_ts=1)
    for raw in frames:
        handler._handle_message(raw, 1)
    return [encode_event(e) for e in events], dict(handler.stats.errors), hooks.snapshots


def _dec(rng: random.Random) -> str:
    whole = rng.randint(0, 99999)
    kind = rng.random()
    if kind < 0.1:
        return "0"
    if kind < 0.2:
        return str(whole)
    if kind < 0.25:
        return f"{whole}.{'0' * rng.randint(1, 8)}"
    if kind < 0.27:
        return rng.choice(["", "1e-5", "+3.5", "-0.0", ".5", "7.", "nan", "1_0", " 2 ", "١٢", "abc", "1e400", "0x10"])
    return f"{whole}.{rng.randint(0, 10**8 - 1):0{rng.randint(1, 8)}d}"


def _levels(rng, n):
    return [(_dec(rng), _dec(rng)) for _ in range(n)]


def _frame(rng: random.Random) -> bytes:
    sym = rng.choice(["BTCUSDT", "ETHUSDT", "XRPUSDC", "PEPEUSDT"])
    kind = rng.randrange(7)
    if kind == 0:
        first = 1000 + rng.randint(-3, 5)
        return aggre_depth_frame(sym, first, first + rng.randint(-1, 60), _levels(rng, rng.randint(0, 30)), _levels(rng, rng.randint(0, 30)), send_time=rng.randint(0, 2**41))
    if kind == 1:
        return limit_depth_frame(sym, rng.randint(0, 10**11), _levels(rng, rng.choice([5, 10, 20])), _levels(rng, rng.choice([5, 10, 20])), send_time=rng.randint(0, 2**41))
    if kind == 2:
        deals = [(_dec(rng), _dec(rng), rng.choice([1, 2, 1, 2, 0, 3, -1]), rng.randint(0, 2**41), rng.choice(["", f"{rng.randint(0, 10**18)}X0_{rng.randint(0, 10**18)}X0"])) for _ in range(rng.randint(0, 8))]
        return aggre_deals_frame(sym, deals, send_time=rng.randint(0, 2**41))
    if kind == 3:
        return aggre_book_ticker_frame(sym, _dec(rng), _dec(rng), _dec(rng), _dec(rng), version=rng.choice([0, rng.randint(1, 10**11)]), send_time=rng.randint(0, 2**41))
    if kind == 4:
        return kline_frame(sym, "Min1", 1790281200, _dec(rng), _dec(rng), _dec(rng), _dec(rng), _dec(rng), _dec(rng), create_time=rng.randint(0, 2**41))
    if kind == 5:
        return book_ticker_batch_frame(sym, [tuple(_dec(rng) for _ in range(4))], version=rng.randint(0, 99))
    return mini_tickers_frame([(sym, "1", "0.1", "2", "0.5", "10", "20")], send_time=5)


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _unknown_field(rng) -> bytes:
    number = rng.choice([2, 7, 9, 99, 250, 316, 400, 1000])
    wire = rng.choice([0, 1, 2, 5, 3])
    key = _varint(number << 3 | wire)
    if wire == 0:
        return key + _varint(rng.randint(0, 2**64 - 1))
    if wire == 1:
        return key + bytes(8)
    if wire == 5:
        return key + bytes(4)
    if wire == 2:
        payload = bytes(rng.randrange(256) for _ in range(rng.randint(0, 5)))
        return key + _varint(len(payload)) + payload
    return key + _varint(1 << 3 | 0) + b"\x05" + _varint(number << 3 | 4)  # group with one varint


def _mutate(rng: random.Random, raw: bytes) -> bytes:
    choice = rng.randrange(8)
    if choice == 0:
        return raw[: rng.randint(0, len(raw))]  # truncated
    if choice == 1:
        b = bytearray(raw)
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if choice == 2:
        return raw + _unknown_field(rng)  # unknown field at the end of the wrapper
    if choice == 3:
        return _unknown_field(rng) + raw
    if choice == 4:
        return raw + raw  # every field twice: scalars last-wins, bodies merge
    if choice == 5:
        return raw + _frame(rng)  # two bodies: the later oneof member wins
    return raw


def test_all_captures_decode_identically(captures_dir):
    frames = [p.read_bytes() for p in sorted((captures_dir / "mexc").glob("*.bin"))]
    if not frames:
        pytest.skip("no MEXC captures")
    for raw in frames:
        _same(raw)
        assert decode.decode_push_upb(raw) == decode.decode_push_compiled(raw) or decode.decode_push_upb(raw)[0] not in HOT
    assert _events("upb", frames) == _events("compiled", frames)


def test_generated_and_damaged_frames_decode_identically():
    rng = random.Random(20261129)
    frames = []
    for _ in range(3000):
        raw = _frame(rng)
        if rng.random() < 0.5:
            raw = _mutate(rng, raw)
        frames.append(raw)
        _same(raw)
    up = _events("upb", frames)
    co = _events("compiled", frames)
    assert up == co
    events, errors, _ = up
    # the run exercised the interesting paths
    assert len(events) > 1000
    for kind in ("malformed", "truncated", "unknown_body", "wrong_type", "unknown_side"):
        assert errors.get(kind, 0) > 0, errors


def test_memoryview_and_bytearray_inputs():
    raw = aggre_book_ticker_frame("BTCUSDT", "1.5", "2", "3", "4", version=9, send_time=7)
    want = decode.decode_push_upb(raw)
    assert decode.decode_push_compiled(memoryview(raw)) == want
    assert decode.decode_push_compiled(bytearray(raw)) == want


def test_decimal_text_gives_the_same_float_as_float():
    rng = random.Random(7)
    texts = ["9007199254740993", "9007199254740992", "0.1", "0.30000000000000004", "1234567890123456.7",
             "0.0000000000000000000001", "0.00000000000000000000001", "84270.01", "0.00638700", "99999999999999999"]
    for _ in range(4000):
        # JSON number text: no leading zeros, digits on both sides of the point
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(2, 20)))
        cut = rng.randint(1, len(digits) - 1)
        whole = digits[:cut].lstrip("0") or "0"
        texts.append(f"{whole}.{digits[cut:]}" if rng.random() < 0.8 else digits.lstrip("0") or "0")
        if rng.random() < 0.2:
            texts[-1] += f"e{rng.randint(-30, 30)}"
    for text in texts:
        raw = aggre_book_ticker_frame("BTCUSDT", text, text, "1", "1")
        got = decode.decode_push_compiled(raw)[3][0]
        assert repr(got) == repr(float(text)), text


NOT_NUMBERS = ["1_000", " 5", "5 ", "\t5\n", "inf", "nan", "Infinity", "\u0665", "\uff15", "\uff11\uff12", "1e", "+-1", ".", "0x10",
               "1e999", "1e300", "-1", "+1", "00012", "-000135", ".5", "5.", "1.5e", "1,5"]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_text_that_is_not_a_venue_number_is_malformed_on_both_decoders(text):
    # reported by a user trial: float() took "1_000", " 5" and other scripts' digits; the one
    # grammar is JSON number text (cexfeed.wire.NUMBER)
    for raw in (
        aggre_book_ticker_frame("BTCUSDT", text, "1", "2", "1"),
        aggre_depth_frame("BTCUSDT", 1, 2, bids=[(text, "1")], asks=[]),
    ):
        up = _outcome(decode.decode_push_upb, raw)
        co = _outcome(decode.decode_push_compiled, raw)
        assert up[0] == co[0] == "error", (text, up, co)


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_one_bad_deal_is_left_out_and_counted_on_both_decoders(text):
    raw = aggre_deals_frame("BTCUSDT", [("1", text, 1, 1700000000000, "t1"), ("2.5", "0.5", 2, 1700000000001, "t2")])
    want = decode.DealsBody([decode.Deal(2.5, 0.5, 2, 1700000000001, "t2")], 1)
    assert decode.decode_push_upb(raw).body == want
    assert decode.decode_push_compiled(raw).body == want


@pytest.mark.parametrize("text,value", [("-0", 0.0), ("0", 0.0), ("1e5", 1e5), ("1E+5", 1e5), ("12.50", 12.5), ("0.001e-2", 1e-5), ("-0.0", 0.0)])
def test_json_number_text_is_a_number_on_both_decoders(text, value):
    raw = aggre_book_ticker_frame("BTCUSDT", "1", text, "2", "1")
    for fn in (decode.decode_push_upb, decode.decode_push_compiled):
        got = fn(raw).body.bid_qty
        assert repr(got) == repr(value), (fn, text)


@pytest.mark.parametrize(
    "text,value",
    [("", 0), ("0", 0), ("-0", 0), ("12", 12), ("9223372036854775807", 2**63 - 1), ("1.0", 1), ("1e3", 1000), ("-0.0", 0),
     ("9223372036854775808", None), ("99999999999999999999999", None), ("1_000", None), (" 5", None), ("5 ", None),
     ("\u0665", None), ("\uff15", None), ("00012", None), ("+1", None), ("-1", None), ("1.5", None), ("1e16", None), ("nan", None)],
)
def test_versions_follow_the_id_rules_on_both_decoders(text, value):
    frames = (
        aggre_book_ticker_frame("BTCUSDT", "1", "2", "3", "4", version=text),
        aggre_depth_frame("BTCUSDT", text, text, bids=[("1", "1")], asks=[]),
        limit_depth_frame("BTCUSDT", text, [("1", "1")], [("2", "1")]),
    )
    for raw in frames:
        for fn in (decode.decode_push_upb, decode.decode_push_compiled):
            try:
                body = fn(raw).body
            except ValueError:
                got = None
            else:
                got = body.version if isinstance(body, decode.BookTickerBody) else body.to_version
                assert got == (body.version if isinstance(body, decode.BookTickerBody) else body.from_version)
            assert got == value, (fn, raw, text)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _len_field(number: int, payload: bytes) -> bytes:
    return _key(number, 2) + _varint(len(payload)) + payload


@pytest.mark.parametrize("number", [2**29, 2**32 + 2, 2**35 + 1])
def test_field_numbers_above_the_protobuf_limit_are_refused_at_every_level(number):
    # the C decoder truncated nested field numbers to 32 bits: 2**32 + 2 read as field 2 (bids)
    from google.protobuf.message import DecodeError

    level = _len_field(1, b"100") + _len_field(2, b"1")
    depth = _len_field(2, level) + _len_field(4, b"5") + _len_field(5, b"6")
    good = _len_field(1, b"spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT") + _len_field(3, b"BTCUSDT") + _len_field(313, depth)
    assert decode.decode_push_upb(good).body.bids == [(100.0, 1.0)]
    assert decode.decode_push_compiled(good).body.bids == [(100.0, 1.0)]
    bad_level = _len_field(1, b"100") + _len_field(2, b"1") + _len_field(number, b"x")
    frames = [
        _len_field(3, b"BTCUSDT") + _len_field(313, _len_field(number, level) + _len_field(4, b"5") + _len_field(5, b"6")),  # in the body
        _len_field(3, b"BTCUSDT") + _len_field(313, _len_field(2, bad_level) + _len_field(4, b"5") + _len_field(5, b"6")),  # in a level
        _len_field(3, b"BTCUSDT") + _len_field(number, b"x") + _len_field(313, depth),  # in the wrapper
        _len_field(3, b"BTCUSDT") + _len_field(314, _len_field(1, _len_field(1, b"1") + _len_field(2, b"1") + _key(number, 0) + b"\x01")),  # a deal
        _len_field(3, b"BTCUSDT") + _len_field(315, _len_field(1, b"1") + _key(number, 5) + bytes(4)),  # book ticker
    ]
    for raw in frames:
        with pytest.raises(DecodeError):
            decode.decode_push_upb(raw)
        with pytest.raises(ValueError):
            decode.decode_push_compiled(raw)


def _groups(number: int, n: int) -> bytes:
    return _key(number, 3) * n + _key(number, 4) * n


@pytest.mark.parametrize(
    "name,extra",
    [
        ("field 0 inside a group", _key(6, 3) + _key(0, 5) + bytes(4) + _key(6, 4)),
        ("field 0 group inside a group", _key(6, 3) + _key(0, 3) + _key(0, 4) + _key(6, 4)),
        ("field 0 outside a group", _key(0, 0) + b"\x01"),
        ("mismatched group end", _key(6, 3) + _key(7, 4)),
        ("group of field 2**29-1", _key(2**29 - 1, 3) + _key(2**29 - 1, 4)),
        ("wire type 7 in a group", _key(6, 3) + _key(1, 7) + _key(6, 4)),
        ("97 nested groups", _groups(6, 97)),
        ("98 nested groups", _groups(6, 98)),
        ("99 nested groups", _groups(6, 99)),
    ],
)
def test_unknown_groups_are_read_as_upb_reads_them(name, extra):
    # upb takes field 0 inside an unknown group, and nests at most 100 levels (messages and
    # groups together); a deal sits at level 2
    deal = _len_field(1, b"1") + _len_field(2, b"1") + _key(3, 0) + b"\x01" + extra
    raw = _len_field(3, b"BTCUSDT") + _len_field(314, _len_field(1, deal))
    assert _outcome(decode.decode_push_upb, raw)[0] == _outcome(decode.decode_push_compiled, raw)[0], name
    _same(raw)


def test_a_frame_with_two_bodies_is_checked_whole():
    # the replaced body (a broken kline) must fail the frame as upb fails it
    broken_kline = _len_field(308, _len_field(3, b"\xff\xfe"))
    raw = broken_kline + aggre_book_ticker_frame("BTCUSDT", "1", "2", "3", "4")
    with pytest.raises(Exception):
        decode.decode_push_upb(raw)
    with pytest.raises(Exception):
        decode.decode_push_compiled(raw)


def test_the_compiled_decoder_holds_the_wire_bounds():
    from cexfeed import wire
    from cexfeed.exchanges.mexc import _fastpb

    assert _fastpb.MAX_VALUE == wire.MAX_VALUE
    assert _fastpb.MAX_MILLIS == wire.MAX_MILLIS
    assert _fastpb.MAX_SECONDS == wire.MAX_SECONDS
    assert _fastpb.MAX_SEQ == wire.MAX_SEQ
    assert _fastpb.MAX_FIELD_NUMBER == 2**29 - 1


def test_results_are_the_named_types():
    raw = aggre_depth_frame("BTCUSDT", 1, 2, bids=[("1", "1")], asks=[("2", "3")], send_time=7)
    for fn in (decode.decode_push_upb, decode.decode_push_compiled):
        push = fn(raw)
        assert type(push) is decode.Push and type(push.body) is decode.DepthBody
        assert push == (313, "BTCUSDT", 7, ([(2.0, 3.0)], [(1.0, 1.0)], 1, 2))
        assert hash(push.body[2:]) == hash((1, 2))
        deals = fn(aggre_deals_frame("BTCUSDT", [("1", "2", 1, 5, "x")])).body
        assert type(deals) is decode.DealsBody and type(deals.deals[0]) is decode.Deal
        assert deals.deals[0].trade_id == "x" and deals.deals[0]._replace(qty=3.0).qty == 3.0


def test_long_plain_digit_strings_still_decode_identically():
    text = "1" + "0" * 70 + ".5"
    raw = aggre_book_ticker_frame("BTCUSDT", "1", "2", text[:40], "1")
    assert decode.decode_push_upb(raw) == decode.decode_push_compiled(raw)
    raw = aggre_depth_frame("BTCUSDT", 1, 2, bids=[("1", "0." + "1" * 80)], asks=[])
    assert decode.decode_push_upb(raw) == decode.decode_push_compiled(raw)
