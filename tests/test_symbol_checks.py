"""Issue #10 item 12: symbols are checked before subscribing, against the instrument list the
venue serves; one clear error names every bad symbol with a hint at the unified form. Without
the list (it could not be fetched) only the form is checked, and names the list does not give
are reported when it arrives."""

from __future__ import annotations

import msgspec
import pytest

from cexfeed.compat import open_feed
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.protocol import spot_symbol_map
from cexfeed.exchanges.mexc.rest import spot_symbol_map as mexc_symbol_map
from cexfeed.feed import Feed
from cexfeed.models import StreamStatus
from cexfeed.net import Backoff
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until
from cexfeed.symbols import SymbolError, resolve_symbols

CONTRACTS = msgspec.json.encode([
    {"name": "BTC_USDT", "quanto_multiplier": "0.0001"},
    {"name": "ETH_USDT", "quanto_multiplier": "0.01"},
    {"name": "OLD_USDT", "quanto_multiplier": "1", "in_delisting": True},
    {"name": "BTC_USD", "type": "inverse", "quanto_multiplier": "0"},
])
PAIRS = msgspec.json.encode([
    {"id": "BTC_USDT", "base": "BTC", "quote": "USDT"},
    {"id": "BTC_USDC", "base": "BTC", "quote": "USDC"},
    {"id": "ETH_USDT", "base": "ETH", "quote": "USDT"},
    {"id": "LUNA_USDT", "base": "LUNA", "quote": "USDT", "trade_status": "untradable"},
])


def _perp(names, listed=True):
    smap = futures_symbol_map(CONTRACTS if listed else None)
    return resolve_symbols(names, smap, venue="gateio-perp", market="perp", settle="USDT", listed=listed)


def _spot(names, listed=True):
    smap = spot_symbol_map(PAIRS if listed else None)
    return resolve_symbols(names, smap, venue="gateio-spot", market="spot", listed=listed)


def _problems(call, names, **kw):
    with pytest.raises(SymbolError) as info:
        call(names, **kw)
    return info.value.problems


def test_listed_names_map_and_perp_shorthand_means_the_venue_settle():
    assert _perp(["BTC/USDT:USDT", "ETH/USDT"]) == {"BTC/USDT:USDT": "BTC_USDT", "ETH/USDT": "ETH_USDT"}
    assert _spot(["BTC/USDT", "BTC/USDC"]) == {"BTC/USDT": "BTC_USDT", "BTC/USDC": "BTC_USDC"}


def test_wrong_settle_currency_is_refused_not_streamed_under_another_name():
    # BTC/USDT:USDC used to stream BTC/USDT:USDT under the wrong name
    for listed in (True, False):
        (problem,) = _problems(_perp, ["BTC/USDT:USDC"], listed=listed)
        assert problem == "'BTC/USDT:USDC': gateio-perp contracts settle in USDT, not USDC: did you mean 'BTC/USDT:USDT'?"


def test_forms_that_are_not_unified_get_a_hint():
    assert _problems(_spot, ["btc/usdt"]) == ["'btc/usdt' is not a unified symbol (BASE/QUOTE, upper case): did you mean 'BTC/USDT'?"]
    assert _problems(_perp, ["btc/usdt"]) == ["'btc/usdt' is not a unified symbol (BASE/QUOTE:SETTLE, upper case): did you mean 'BTC/USDT:USDT'?"]
    # the venue's own names, listed or not
    assert _problems(_spot, ["BTCUSDT"])[0].endswith("did you mean 'BTC/USDT'?")
    assert _problems(_spot, ["BTCUSDT"], listed=False)[0].endswith("did you mean 'BTC/USDT'?")
    assert _problems(_spot, ["BTC_USDT"])[0].endswith("did you mean 'BTC/USDT'?")
    assert _problems(_perp, ["BTC_USDT"])[0].endswith("did you mean 'BTC/USDT:USDT'?")
    with pytest.raises(SymbolError, match="did you mean 'ETH/USDC'"):
        resolve_symbols(["ethusdc"], mexc_symbol_map(b'{"symbols":[{"symbol":"ETHUSDC","baseAsset":"ETH","quoteAsset":"USDC"}]}'),
             venue="mexc-spot", market="spot", listed=True)
    # a perpetual name on a spot venue
    assert _problems(_spot, ["BTC/USDT:USDT"]) == ["'BTC/USDT:USDT' names a perpetual; gateio-spot is a spot venue: did you mean 'BTC/USDT'?"]


def test_unlisted_untradable_and_inverse_are_refused_all_in_one_error():
    problems = _problems(_perp, ["NOPE/USDT:USDT", "OLD/USDT:USDT", "BTC/USD:BTC", "BTC/USDT:USDT", "BTC/USD"])
    assert problems[0] == "'NOPE/USDT:USDT' is not listed by gateio-perp"
    assert problems[1] == "'OLD/USDT:USDT' is listed by gateio-perp but not tradable now (suspended or delisting)"
    assert problems[2] == "'BTC/USD:BTC': gateio-perp contracts settle in USDT, not BTC: did you mean 'BTC/USD:USDT'?"
    assert problems[3:] == ["'BTC/USD' is not listed by gateio-perp: did you mean 'BTC/USD:BTC' or 'BTC/USDT:USDT'?"]
    assert "; " in str(SymbolError(problems))
    # an inverse contract on a listing that settles it: refused, its counts are no base quantity
    smap = futures_symbol_map(CONTRACTS)
    with pytest.raises(SymbolError, match="inverse contract"):
        resolve_symbols(["BTC/USD:BTC"], smap, venue="gateio-perp", market="perp", listed=True)
    assert _problems(_spot, ["BTC/USD", "LUNA/USDT"]) == [
        "'BTC/USD' is not listed by gateio-spot: did you mean 'BTC/USDC' or 'BTC/USDT'?",
        "'LUNA/USDT' is listed by gateio-spot but not tradable now (suspended or delisting)",
    ]


def test_feed_checks_the_form_before_any_network_call_and_unknown_venue_names_the_known():
    with pytest.raises(SymbolError, match="did you mean 'BTC/USDT'"):
        Feed("gateio-spot", ["btc/usdt"], ["book"], url="ws://127.0.0.1:9/ws", rest_url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="unknown venue 'gateio'; known venues: gateio-spot, gateio-perp, mexc-spot"):
        Feed("gateio", ["BTC/USDT"])
    with pytest.raises(ValueError, match="no channel given"):
        Feed("gateio-spot", ["BTC/USDT"], [])


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
async def test_start_refuses_names_the_venue_does_not_list(architecture):
    sim = SimServer(seed=2, rate=20, venues=["gateio-perp"])
    await sim.start()
    feed = open_feed("gateio-perp", ["BTC/USDT:USDT", "NOPE/USDT:USDT"], ["trades"], architecture=architecture,
                     url=sim.ws_url("gateio-perp"), rest_url=sim.rest_url("gateio-perp"))
    try:
        with pytest.raises(SymbolError, match="'NOPE/USDT:USDT' is not listed by gateio-perp"):
            await feed.start()
        assert sim.stats["connections"] == 0  # refused before connecting
    finally:
        await feed.close()
        await sim.stop()


async def test_without_the_list_names_are_reported_when_it_arrives():
    sim = SimServer(seed=2, rate=20, venues=["gateio-spot"])
    await sim.start()
    sim.fail_instruments(5)
    events: list = []
    feed = Feed("gateio-spot", ["BTC/USDT", "NOPE/USDT"], ["trades"], url=sim.ws_url("gateio-spot"), rest_url=sim.rest_url("gateio-spot"),
                on_event=events.append, instrument_retry=lambda: Backoff(initial=0.2, cap=0.3))
    try:
        await feed.start()  # the list is missing: checked by form only, the feed runs
        assert not feed.listed
        assert await wait_until(lambda: feed.listed, 8.0)
        (unlisted,) = [e for e in events if isinstance(e, StreamStatus) and e.status == "unlisted"]
        assert (unlisted.symbol, unlisted.venue_symbol) == ("NOPE/USDT", "NOPE_USDT") and "not listed" in unlisted.detail
    finally:
        await feed.close()
        await sim.stop()
