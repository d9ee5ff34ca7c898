"""Contract metadata (REST /futures/usdt/contracts) and contract -> base size arithmetic
(gateio-protocol.md §5.2, §7.1; pitfalls #11, #12, #13)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from cexfeed.capture import read_instruments
from cexfeed.exchanges.gateio.contracts import ContractSize, futures_symbol_map, multiplier_ratio, parse_futures_snapshot


def test_multiplier_ratio():
    assert multiplier_ratio("0.0001") == (1, 10000)
    assert multiplier_ratio("9.6") == (48, 5)
    # no base quantity: inverse ("0": one contract = 1 USD), missing, unparsable, negative
    assert multiplier_ratio("0") is None
    assert multiplier_ratio(None) is None
    assert multiplier_ratio("junk") is None
    assert multiplier_ratio("-1") is None
    assert multiplier_ratio(0.01) == (1, 100)
    with pytest.raises(ValueError):
        ContractSize("0")


@pytest.mark.parametrize(
    "multiplier, contracts, expected",
    [
        ("0.1", 3.0, 0.3),
        ("0.1", -3.0, -0.3),
        ("0.0001", 814.0, 0.0814),
        ("0.01", 108.5, 1.085),
        ("0.01", 0.001, 0.00001),
        ("10", 0.3, 3.0),
        ("9.6", 7.0, 67.2),
        ("0.001", 123456789.0, 123456.789),
        ("1", 5116.8, 5116.8),
    ],
)
def test_contract_size_is_the_float_of_the_exact_product(multiplier, contracts, expected):
    got = ContractSize(multiplier).base(contracts)
    assert got == expected
    assert got == float(Decimal(repr(contracts)) * Decimal(multiplier))


def test_contract_size_matches_decimal_over_many_values():
    # every size a venue string can carry with up to 4 decimals, for the common multipliers
    for multiplier in ("0.0001", "0.001", "0.01", "0.1", "10", "100", "9.6"):
        size = ContractSize(multiplier)
        for n in range(1, 3000, 7):
            for text in (str(n), f"{n}.5", f"{n / 1000:.3f}", f"{n}.0125"):
                want = float(Decimal(text) * Decimal(multiplier))
                assert size.base(float(text)) == want, (multiplier, text)


def test_symbol_map_from_documented_contracts():
    body = msgspec.json.encode(
        [
            {"name": "ETH_USDT", "type": "direct", "quanto_multiplier": "0.01", "order_price_round": "0.01", "order_size_min": "0.1", "enable_decimal": True},
            {"name": "BTC_USD", "type": "inverse", "quanto_multiplier": "0", "order_price_round": "0.5", "order_size_min": 1},
            {"name": "OLD_USDT", "quanto_multiplier": "1", "order_price_round": "0.0001", "order_size_min": 1, "in_delisting": True},
        ]
    )
    smap = futures_symbol_map(body)
    eth = smap.instrument("ETH_USDT")
    assert (eth.symbol, eth.base, eth.quote, eth.settle, eth.market) == ("ETH/USDT:USDT", "ETH", "USDT", "USDT", "perp")
    assert (eth.contract_multiplier, eth.tick_size, eth.price_precision, eth.size_step, eth.size_precision) == (0.01, 0.01, 2, 0.1, 1)
    inv = smap.instrument("BTC_USD")
    # inverse: its counts are no base quantity, so no multiplier (never 0, never 1)
    assert (inv.symbol, inv.contract_multiplier, inv.tick_size, inv.size_step) == ("BTC/USD:BTC", None, 0.5, 1.0)
    assert smap.instrument("OLD_USDT").active is False
    assert smap.to_venue("ETH/USDT:USDT") == "ETH_USDT"
    # unknown names still map
    assert smap.unified("NEW_USDT") == "NEW/USDT:USDT" and smap.to_venue("NEW/USDT:USDT") == "NEW_USDT"


def test_symbol_map_from_capture(captures_dir: Path):
    path = captures_dir / "gateio" / "GATEIO_FUTURES.0"
    if not path.exists():
        pytest.skip(f"{path} not found")
    smap = futures_symbol_map(read_instruments(path))
    assert len(smap) == 302
    quick = smap.instrument("QUICK_USDT")
    assert (quick.symbol, quick.contract_multiplier, quick.tick_size, quick.size_step) == ("QUICK/USDT:USDT", 0.01, 0.01, 1.0)
    knc = smap.instrument("KNC_USDT")
    assert (knc.contract_multiplier, knc.tick_size, knc.price_precision) == (1.0, 0.0001, 4)
    assert smap.instrument("OOKI_USDT").contract_multiplier == 100.0


def test_parse_futures_snapshot_int_and_string_sizes():
    body = b'{"id":124930263,"current":1684930167.524,"update":1684930167.522,"asks":[{"s":46,"p":"57"},{"s":"601.5","p":"57.01"}],"bids":[{"s":100,"p":"56.91"},{"s":"1e3","p":"56.9"}]}'
    update_id, bids, asks = parse_futures_snapshot(body, "0.01")
    assert update_id == 124930263
    assert bids == [(56.91, 1.0), (56.9, 10.0)]
    assert asks == [(57.0, 0.46), (57.01, 6.015)]
    with pytest.raises(ValueError):
        parse_futures_snapshot(b'{"current":1,"update":1,"asks":[],"bids":[]}', "1")


def test_symbol_map_tolerates_numeric_fields():
    smap = futures_symbol_map(b'[{"name":"SOL_USDT","quanto_multiplier":1,"order_price_round":0.001,"order_size_min":1}]')
    sol = smap.instrument("SOL_USDT")
    assert (sol.contract_multiplier, sol.tick_size, sol.price_precision) == (1.0, 0.001, 3)
