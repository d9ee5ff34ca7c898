"""The one grammar of venue numbers (cexfeed.wire): the plain converters and msgspec's lax typed
decode accept and reject the same text, with the same bounds."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cexfeed import wire
from cexfeed.wire import amounts as wire_amounts

_TYPED = {
    "price": msgspec.json.Decoder(list[wire.Price], strict=False),
    "size": msgspec.json.Decoder(list[wire.Size], strict=False),
    "signed": msgspec.json.Decoder(list[wire.Signed], strict=False),
}
_PLAIN = {"price": wire.price, "size": wire.size, "signed": wire.signed}


def _typed(kind: str, text: str):
    try:
        return _TYPED[kind].decode(msgspec.json.encode([text]))[0]
    except msgspec.ValidationError:
        return None


def _plain(kind: str, text: str):
    try:
        return _PLAIN[kind](text)
    except ValueError:
        return None


SAMPLES = [
    "1", "0", "-0", "0.0", "-0.0", "00", "00012", "-000135", "+100", "1_000", " 100", "100 ", ".5", "5.",
    "1e5", "1E+5", "1e-5", "1.5e", "nan", "NaN", "inf", "-inf", "Infinity", "0x10", "１２", "١٢", "", "-",
    "1e-999", "1e400", "9.99e299", "1e300", "-1e300", "123.456", "7.899", "1.0e-3", "٣", "1,5", "1.2.3",
]


@pytest.mark.parametrize("text", SAMPLES)
@pytest.mark.parametrize("kind", ["price", "size", "signed"])
def test_plain_converter_matches_typed_decode(kind, text):
    assert _plain(kind, text) == _typed(kind, text)


_number_chars = st.text(alphabet="0123456789.-+eE _x", max_size=12)


@settings(max_examples=3000, deadline=None)
@given(_number_chars)
def test_grammar_matches_msgspec_on_generated_text(text):
    for kind in _PLAIN:
        assert _plain(kind, text) == _typed(kind, text), (kind, text)


def test_values_and_bounds():
    assert wire.price("7.899") == 7.899
    assert repr(wire.signed("-0")) == "0.0"
    assert repr(wire.signed("-0.0")) == "0.0"
    assert wire.size(0) == 0.0
    with pytest.raises(ValueError):
        wire.price("0")
    with pytest.raises(ValueError):
        wire.price(True)
    with pytest.raises(ValueError):
        wire.size("-1")
    with pytest.raises(ValueError):
        wire.signed(float("nan"))


@pytest.mark.parametrize(
    "value,expected",
    [("0", 0), ("12", 12), (12, 12), (2**63 - 1, 2**63 - 1), (2**63, None), ("00012", None), ("1_000", None),
     (" 5", None), ("５", None), (True, None), (1.5, None), ("1.0", 1), ("1e3", 1000), ("1e16", None),
     ("-0", 0), ("-1", None), (-1, None), ("1.5", None)],
)
def test_seq_id(value, expected):
    try:
        got = wire.seq_id(value)
    except ValueError:
        got = None
    assert got == expected
    typed = msgspec.json.Decoder(list[wire.SeqId], strict=False)
    try:
        via_msgspec = typed.decode(msgspec.json.encode([value]))[0]
    except msgspec.ValidationError:
        via_msgspec = None
    assert via_msgspec == expected


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_number_chars, st.integers(-(2**64), 2**64), st.floats(allow_nan=True)))
def test_id_grammar_matches_msgspec(value):
    try:
        plain = wire.seq_id(value)
    except ValueError:
        plain = None
    try:
        typed = msgspec.json.Decoder(list[wire.SeqId], strict=False).decode(msgspec.json.encode([value]))[0]
    except (msgspec.ValidationError, msgspec.EncodeError):
        typed = None
    assert plain == typed, value


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.sampled_from(["true", "false", "TRUE", "False", "tRuE", "1", "0", "-0", "-1", "00", "0.0", "01", "yes", "", " true"]),
                 st.text(max_size=6), st.integers(-3, 3), st.booleans(), st.floats(-2, 2), st.none()))
def test_flag_matches_msgspec(value):
    try:
        plain = wire.flag(value)
    except ValueError:
        plain = None
    try:
        typed = msgspec.json.Decoder(list[bool], strict=False).decode(msgspec.json.encode([value]))[0]
    except msgspec.ValidationError:
        typed = None
    assert plain == typed, value


@pytest.mark.parametrize(
    "value,ms",
    [
        (1700000000, 1700000000000),
        ("1700000000", 1700000000000),
        (1700000000.123, 1700000000123),
        ("1684930166.384", 1684930166384),
        (1700000000123, 1700000000123),
        ("1700000000123.456", 1700000000123),
        ("1788336082402.208000", 1788336082402),
        (1700000000123456, 1700000000123),
        (1788336082402208000, 1788336082402),
        ("1788336082402208000", 1788336082402),
        (0, None),
        ("0", None),
        # a JSON number of an account frame, decoded exactly: the time its float is
        (Decimal("1700000000.5"), 1700000000500),
        (Decimal("1700000000123.456"), 1700000000123),
        (Decimal("1E+12"), 1000000000000),
    ],
)
def test_times_in_any_unit_become_ms(value, ms):
    assert wire.to_ms(value) == ms


@pytest.mark.parametrize("value", [-1, "-5", 2**63, 10**19, "abc", True, None, "1e400", float("nan")])
def test_impossible_times(value):
    with pytest.raises(ValueError):
        wire.to_ms(value)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(_number_chars, st.integers(-(2**65), 2**65), st.floats(allow_nan=True), st.booleans(), st.none()))
def test_time_grammar_matches_msgspec(value):
    """A time read by the typed decode (wire.Time) then to_ms gives what to_ms gives on the plain
    value (compat, MEXC), and both refuse the same values."""
    try:
        plain = wire.to_ms(value)
    except ValueError:
        plain = "refused"
    try:
        typed = wire.to_ms(msgspec.json.Decoder(list[wire.Time], strict=False).decode(msgspec.json.encode([value]))[0])
    except (msgspec.ValidationError, msgspec.EncodeError):
        typed = "refused"
    assert plain == typed, value


@settings(max_examples=2000, deadline=None)
@given(st.one_of(_number_chars, st.integers(-(2**65), 2**65), st.floats(allow_nan=True), st.booleans()))
def test_integer_matches_msgspec(value):
    try:
        plain = wire.integer(value)
    except ValueError:
        plain = None
    try:
        typed = msgspec.json.Decoder(list[wire.Integer], strict=False).decode(msgspec.json.encode([value]))[0]
    except (msgspec.ValidationError, msgspec.EncodeError):
        typed = None
    assert plain == typed, value


# -- the account-value screen: compiled and pure-Python twins ------------------------------------------

try:
    from cexfeed import _amounts
except ImportError:  # pragma: no cover - no compiler: test_compiled_parts reports it where required
    _amounts = None

_frame_chars = st.text(alphabet='"\\:,{}[] 0123456789.-+eE_nNaAiIfFsStyx١é\u00a0', max_size=60)
_json_like = st.lists(st.one_of(
    st.builds(lambda t: f'"{t}"', st.text(alphabet="0123456789.-+eE_ nNaAiIfFsStyx١é", max_size=12)),
    st.builds(lambda t: f'"{t}":', st.text(alphabet="abc1_", max_size=5)),
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,3})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from(["{", "}", "[", "]", ",", ":", " ", "true", "null"]),
), max_size=12).map("".join)


@pytest.mark.skipif(_amounts is None, reason="the compiled screen is not built")
def test_compiled_screen_bounds_are_the_value_rules():
    assert _amounts.BOUNDS == {"MAX_DIGITS": wire.MAX_DIGITS, "MAX_EXPONENT_DIGITS": wire.MAX_EXPONENT_DIGITS}


def test_compiled_account_reader_bounds_are_the_value_rules():
    _fastprivate = pytest.importorskip("cexfeed.exchanges.gateio._fastprivate", reason="the compiled account reader is not built")
    assert _fastprivate.BOUNDS == {"MAX_SECONDS": wire.MAX_SECONDS, "MAX_MILLIS": wire.MAX_MILLIS, "MAX_CURRENCY": wire.MAX_CURRENCY}


_NUMBER_TEXT = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(["0", "0.000", "1.50", "-0.0000573", "9999999999999999999", "10000000000000000000", "18446744073709551615",
                     "18446744073709551616", "0.00000000000000000001", "1e0", "-2.5E+3", "7.0e-0007", "123456789012345678.9"]),
)


@settings(max_examples=3000, deadline=None)
@given(_NUMBER_TEXT)
def test_compiled_account_reader_decimals_are_the_types(text):
    """The reader's Decimals (built in C when the type's layout was recognised) are exactly
    Decimal(text): sign, digits, exponent, text, hash, arithmetic."""
    _fastprivate = pytest.importorskip("cexfeed.exchanges.gateio._fastprivate", reason="the compiled account reader is not built")
    if not wire_amounts._bounded(text.encode()):  # outside the grammar's bound: refused as the screen does
        with pytest.raises(ValueError):
            _fastprivate.decimal_of(text.encode())
        return
    made, typed = _fastprivate.decimal_of(text.encode()), Decimal(text)
    assert type(made) is Decimal
    assert (made.as_tuple(), str(made), hash(made)) == (typed.as_tuple(), str(typed), hash(typed))
    assert made + 1 == typed + 1 and made * 3 == typed * 3 and made == typed


def test_compiled_account_reader_builds_its_decimals():
    """On CPython (the layout the reader writes) the Decimals are built, not parsed again."""
    import platform

    _fastprivate = pytest.importorskip("cexfeed.exchanges.gateio._fastprivate", reason="the compiled account reader is not built")
    if platform.python_implementation() == "CPython":
        assert _fastprivate.DECIMALS_BUILT
    with pytest.raises(ValueError):
        _fastprivate.decimal_of(b"1_000")


@pytest.mark.skipif(_amounts is None, reason="the compiled screen is not built")
@settings(max_examples=4000, deadline=None)
@given(st.one_of(_frame_chars.map(str.encode), _json_like.map(str.encode), st.binary(max_size=40)))
def test_compiled_screen_matches_its_twin(raw):
    assert _amounts.amounts_plain(raw) == wire.py_amounts_plain(raw)


@pytest.mark.parametrize("raw,plain", [
    (b'{"a":"26253.3","b":"0","c":"-0.00001","t":"t-abc","s":"BTC_USDT"}', True),
    (b'{"a":"1_000"}', False), (b'{"a":" 5"}', False), (b'{"a":"+1"}', False), (b'{"a":"00012"}', False),
    (b'{"a":"NaN"}', False), (b'{"a":"-Infinity"}', False), (b'{"a":"sNaN12"}', False), (b'{"a":".5"}', False),
    (b'{"a":"1e5"}', True), (b'{"a":1e5}', True), (b'{"a":-1.25e-8,"b":"3E+2"}', True), (b'{"a":"1e300"}', False),
    (b'{"a":9.9e299}', False), (b'{"a":1e298}', True), (b'{"a":1e12345}', False), (b'{"a":"1e"}', False), (b'{"a":"1.e5"}', False), (b'{"a":"\xd9\xa1"}', False), (b'{"a":"1\xd9\xa1"}', False),
    (b'{"a":"_0"}', False), (b'{"1_000":"x"}', True), (b'{"a":"nano"}', True), (b'{"a":"info"}', True),
    (b'{"a":"x\\u0031"}', False), (b'{"a":"' + b"9" * 299 + b'"}', True), (b'{"a":"' + b"9" * 300 + b'"}', False),
    (b'{"a":' + b"9" * 300 + b"}", False), (b'{"a":"unterminated', False), (b'{"a":-12.5,"b":3}', True),
    # a zero with a minus sign: read as zero by the strict converter only
    (b'{"a":"-0"}', False), (b'{"a":"-0.00"}', False), (b'{"a":-0}', False), (b'{"a":-0.0e3}', False), (b'{"a":"-0.01"}', True),
])
def test_screen_cases(raw, plain):
    assert wire.py_amounts_plain(raw) is plain
    if _amounts is not None:
        assert _amounts.amounts_plain(raw) is plain
