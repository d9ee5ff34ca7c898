"""The channel tables are the one description of each market: the README, the handlers, the
compat parsers, the protocols and the simulators agree with them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cexfeed import venues
from cexfeed.channels import BOOK_KINDS
from cexfeed.compat.registry import strategy_set

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_channels() -> dict[str, list[str]]:
    rows = {}
    for line in README.read_text().splitlines():
        m = re.match(r"\| `([a-z]+-[a-z]+)` \| ([^|]+) \|", line)
        if m and m.group(1) in venues.VENUES:
            rows[m.group(1)] = re.findall(r"`([a-z_]+)`", m.group(2))
    return rows


def test_readme_channel_table_is_the_tables():
    documented = _readme_channels()
    assert set(documented) == set(venues.VENUES)
    for name in venues.VENUES:
        assert documented[name] == list(venues.table(name).names), name


@pytest.mark.parametrize("name", list(venues.VENUES))
def test_every_row_has_its_handlers(name):
    table = venues.table(name)
    direct = venues.handler_class(name)
    strategies = strategy_set(name)
    parser = strategies.parser(None)
    entry = venues.spec(name)
    private = venues.private_handler_class(name) if entry.private_handler else None
    private_parser = venues.load(entry.private_strategy).parser(None) if entry.private_strategy else None
    for row in table:
        assert callable(getattr(private if row.private else direct, row.handler, None)), (name, row.handler)
        assert row.book in ("", *BOOK_KINDS)
        assert row.emits, row.name
        if name.startswith("gateio"):
            # the Gate compat parsers have a builder per row, named like the direct method
            assert callable(getattr(private_parser if row.private else parser, row.handler, None)), (name, row.handler)
    protocol = venues.protocol_class(name)()
    assert protocol.channels == table.names


@pytest.mark.parametrize("name", ["gateio-spot", "gateio-perp"])
def test_gate_simulators_serve_every_channel(name):
    sim = venues.load(venues.spec(name).sim)
    assert set(sim.CHANNELS) == set(venues.table(name).venue_channels)


def test_subscriptions_from_the_table():
    protocol = venues.protocol_class("gateio-perp")(book_level=50)
    subs = protocol.subscriptions(["book", "funding", "ticker", "mark_price", "kline"], ["BTC_USDT"])
    assert [(s.channel, s.params) for s in subs] == [("book", ("100ms", "50")), ("ticker", ()), ("kline", ("1m",))]
    assert protocol.ack_channel(subs[0]) == "futures.order_book_update"
    with pytest.raises(ValueError, match="one book channel per symbol"):
        protocol.subscriptions(["book", "book_obu"], ["BTC_USDT"])
    with pytest.raises(ValueError, match="unknown channel 'nope'.*known: book, book_obu"):
        protocol.subscriptions(["nope"], ["BTC_USDT"])
    with pytest.raises(ValueError, match="level must be one of"):
        venues.protocol_class("gateio-perp")(book_level=7)
    mexc = venues.protocol_class("mexc-spot")(kline_interval="1h")
    [kline] = mexc.subscriptions(["kline"], ["BTCUSDT"])
    assert mexc.ack_channel(kline) == "spot@public.kline.v3.api.pb@BTCUSDT@Min60"
    with pytest.raises(ValueError, match="unknown channel 'trades_plain'"):
        mexc.subscriptions(["trades_plain"], ["BTCUSDT"])


def test_unknown_venue_names_the_known_ones():
    with pytest.raises(ValueError, match="known venues: gateio-spot, gateio-perp, mexc-spot"):
        venues.spec("binance-spot")
