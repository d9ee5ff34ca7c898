"""A replay without an instrument list publishes only the venue symbols its symbol rule reads
(the newcomer's trial: a plain-file Gate spot replay published ``" ETH/USDT"``): a name with a
stray space, an empty part or a character of no symbol is counted ``unknown_symbol`` and never
published, on every path (compiled, pure, strategy twin), for market and account pushes alike,
and no book is made for it. The rule is the one form of a unified name
(:meth:`cexfeed.symbols.SymbolMap.readable`), through each venue's own mapping."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from cexfeed.capture import FRAME, CaptureItem, Replay
from cexfeed.cli import main
from cexfeed.compat import build_handler
from cexfeed.compat.gateio_private import replay_handler as compat_private
from cexfeed.exchanges.gateio.contracts import futures_symbol_map
from cexfeed.exchanges.gateio.private_spot import GateioSpotPrivateWebSocketHandler
from cexfeed.exchanges.gateio.protocol import spot_symbol_map
from cexfeed.exchanges.mexc.encode import aggre_deals_frame
from cexfeed.exchanges.mexc.rest import spot_symbol_map as mexc_symbol_map
from cexfeed.models import Order, Trade

ODD = [" ETH_USDT", "ETH USDT", "_USDT", "ETH_", "ETH_USDT ", "eth_usdt", "ETH-USDT", "ETHUSDT", "ETH_USDT_20260911", "ETH\tUSDT"]


def trade(pair: str, trade_id: int) -> bytes:
    return json.dumps({"time": 1606292218, "time_ms": 1606292218231, "channel": "spot.trades", "event": "update",
                       "result": {"id": trade_id, "create_time": 1606292218, "create_time_ms": "1606292218213.4578", "side": "sell",
                                  "currency_pair": pair, "amount": "16.47", "price": "0.4705"}}).encode()


def book(pair: str) -> bytes:
    return json.dumps({"time": 1606294781, "time_ms": 1606294781236, "channel": "spot.order_book_update", "event": "update",
                       "result": {"t": 1606294781123, "e": "depthUpdate", "E": 1606294781, "s": pair, "U": 48776301, "u": 48776306,
                                  "b": [["19137.74", "0.0001"]], "a": [["19137.75", "0.6135"]]}}).encode()


def test_the_symbol_rule_of_each_venue_mapping():
    spot = spot_symbol_map()
    assert [spot.readable(n) for n in ["ETH_USDT", "1INCH_USDT", "BTC3L_USDT"]] == [True] * 3
    assert [n for n in ODD if spot.readable(n)] == []
    perp = futures_symbol_map()
    assert perp.readable("BTC_USDT") and perp.unified("BTC_USDT") == "BTC/USDT:USDT"
    assert not perp.readable(" BTC_USDT") and not perp.readable("BTC_USDT_20260911")
    mexc = mexc_symbol_map()
    assert mexc.readable("BTCUSDT") and mexc.readable("XRPUSDC")
    assert [n for n in [" BTCUSDT", "BTC USDT", "USDT", "btcusdt", "BTCXYZ", "BTC/USDT"] if mexc.readable(n)] == []
    # a listed name is readable whatever it looks like (the list is the venue's word)
    listed = futures_symbol_map(json.dumps([{"name": "币安人生_USDT", "quanto_multiplier": "1"}]).encode())
    assert listed.readable("币安人生_USDT") and not futures_symbol_map().readable("币安人生_USDT")


@pytest.mark.parametrize("path", ["compiled", "pure", "strategy"])
def test_a_plain_spot_replay_counts_odd_names_and_publishes_the_readable_ones(path):
    events: list = []
    rep = Replay("gateio-spot", None, events.append)
    if path == "strategy":  # the twin in the same replay (its own symbol map, the same rule)
        rep.handler = build_handler("gateio-spot", "strategy", rep._event)
        rep.handler.follow_readable(rep.handler.symbols.readable)
    elif path == "pure":
        rep.handler.use_compiled(False)
    frames = [trade(name, i) for i, name in enumerate(ODD)] + [trade("ETH_USDT", 100), book(" BTC_USDT"), book("BTC_USDT")]
    rep.feed(CaptureItem(FRAME, 1.0, raw) for raw in frames)
    assert [(e.symbol, e.venue_symbol, e.trade_id, e.price) for e in events if type(e) is Trade] == [("ETH/USDT", "ETH_USDT", "100", 0.4705)]
    assert rep.handler.stats.errors["unknown_symbol"] == len(ODD) + 1
    # no book made for the odd name; the readable one waits for its snapshot
    assert sorted(rep.handler.books) == ["BTC_USDT"] and len(rep.handler.books["BTC_USDT"].buffer) == 1
    assert {e.venue_symbol for e in events} == {"ETH_USDT"}


@pytest.mark.parametrize("path", ["compiled", "pure", "compat"])
def test_account_pushes_of_an_odd_name_are_counted_and_not_applied(path):
    if path == "compat":
        h = compat_private("gateio-spot", None)
    else:
        h = GateioSpotPrivateWebSocketHandler(symbols=spot_symbol_map())
        h.use_compiled(path == "compiled")
    h.follow_readable(h.symbols.readable if path != "compat" else h.parser.symbols.readable)
    events: list = []
    h.set_callback(events.append)
    for i, pair in enumerate([" btc_usdt", "BTC USDT", "btc_usdt"]):
        h._handle_message(json.dumps({"time": 1694655225, "channel": "spot.orders", "event": "update", "result": [
            {"id": str(i), "currency_pair": pair, "side": "sell", "amount": "0.5", "left": "0.5", "event": "put", "finish_as": "open",
             "create_time_ms": "1694655225315", "update_time_ms": "1694655225315"}]}).encode(), 7)
    assert [(e.order_id, e.symbol, e.amount) for e in events if type(e) is Order] == [("2", "BTC/USDT", Decimal("0.5"))]
    assert h.stats.errors["unknown_symbol"] == 2 and list(h.state.open_orders) == ["2"]
    # a list followed later replaces the rule: its names only
    h.follow(["ETH_USDT"])
    h._handle_message(json.dumps({"time": 1694655225, "channel": "spot.orders", "event": "update", "result": [
        {"id": "3", "currency_pair": "BTC_USDT", "side": "sell", "amount": "0.5", "event": "put"}]}).encode(), 7)
    assert h.stats.errors["unknown_symbol"] == 3 and list(h.state.open_orders) == ["2"]


def test_a_mexc_replay_without_exchange_info_counts_odd_names():
    events: list = []
    rep = Replay("mexc-spot", None, events.append)
    frames = [aggre_deals_frame(name, [("65000.5", "0.01", 2, 1787961599969, "")], send_time=1787961599970)
              for name in [" BTCUSDT", "BTCXYZ", "BTCUSDT"]]
    rep.feed(CaptureItem(FRAME, 1.0, raw) for raw in frames)
    assert [(e.symbol, e.venue_symbol, e.side) for e in events if type(e) is Trade] == [("BTC/USDT", "BTCUSDT", "sell")]
    assert rep.handler.stats.errors["unknown_symbol"] == 2


def test_the_cli_replay_prints_no_odd_symbol(tmp_path):
    frames = tmp_path / "spot.jsonl"
    frames.write_bytes(b"\n".join([trade(" ETH_USDT", 1), trade("ETH_USDT", 2), trade("ETH USDT", 3)]) + b"\n")
    result = CliRunner().invoke(main, ["replay", str(frames), "--venue", "gateio-spot", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["symbol"], e["trade_id"]) for e in lines] == [("ETH/USDT", "2")]
    result = CliRunner().invoke(main, ["replay", str(frames), "--venue", "gateio-spot"])
    assert "frames 3  events 1  errors unknown_symbol=2" in result.stdout
