"""Architecture selection (file + keywords, per venue and stream), the strategy objects' request
frames against the venues' own protocol objects, and the router's error isolation."""

from __future__ import annotations

import json

import msgspec
import pytest

from cexfeed.compat import (
    ArchitectureConfig,
    MessageRouter,
    MessageType,
    ParsedMessage,
    StrategyHandler,
    Subscription,
    load_config,
    make_handler,
    strategy_set,
)
from cexfeed.exchanges.gateio.futures_public_handler import GateioFuturesPublicWebSocketHandler
from cexfeed.exchanges.gateio.spot_public_handler import GateioSpotPublicWebSocketHandler
from cexfeed.exchanges.mexc.public_handler import MexcPublicWebSocketHandler
from cexfeed.net.protocol import Subscription as NetSubscription
from cexfeed.venues import protocol_class


def test_precedence_stream_over_venue_over_default():
    config = ArchitectureConfig("direct", {"gateio": "strategy", "gateio_perp": "direct"})
    assert config.architecture("gateio-spot") == "strategy"
    assert config.architecture("gateio-perp") == "direct"
    assert config.architecture("mexc-spot") == "direct"
    assert ArchitectureConfig("strategy").architecture("mexc-spot") == "strategy"
    assert ArchitectureConfig().architecture("gateio-spot") == "direct"


def test_toml_and_json_files_and_keyword_overrides(tmp_path, monkeypatch):
    toml = tmp_path / "arch.toml"
    toml.write_text('[architecture]\ndefault = "direct"\ngateio = "strategy"\n"gateio-perp" = "direct"\n')
    config = load_config(toml)
    assert (config.architecture("gateio-spot"), config.architecture("gateio-perp"), config.architecture("mexc-spot")) == ("strategy", "direct", "direct")
    plain = tmp_path / "arch.json"
    plain.write_text(json.dumps({"mexc-spot": "strategy"}))
    assert load_config(plain).architecture("mexc-spot") == "strategy"
    # keywords win over the file; '_' stands for '-'
    config = load_config(toml, gateio_spot="direct", mexc="strategy")
    assert (config.architecture("gateio-spot"), config.architecture("mexc-spot")) == ("direct", "strategy")
    monkeypatch.setenv("CEXFEED_ARCHITECTURE", str(plain))
    assert load_config().architecture("mexc-spot") == "strategy"
    monkeypatch.delenv("CEXFEED_ARCHITECTURE")
    assert load_config().architecture("mexc-spot") == "direct"


def test_bad_configuration_is_refused(tmp_path):
    with pytest.raises(ValueError, match="architecture for 'gateio'"):
        ArchitectureConfig(choices={"gateio": "fast"})
    with pytest.raises(ValueError):
        ArchitectureConfig("both")
    bad = tmp_path / "arch.yaml"
    bad.write_text("gateio: strategy")
    with pytest.raises(ValueError, match="toml or .json"):
        load_config(bad)
    with pytest.raises(ValueError):
        make_handler("gateio-spot", architecture="fast")


def test_make_handler_follows_the_configuration():
    config = ArchitectureConfig(choices={"gateio-spot": "strategy"})
    assert isinstance(make_handler("gateio-spot", config=config), StrategyHandler)
    assert type(make_handler("gateio-perp", config=config)) is GateioFuturesPublicWebSocketHandler
    assert type(make_handler("mexc-spot", config=config)) is MexcPublicWebSocketHandler
    assert type(make_handler("gateio-spot")) is GateioSpotPublicWebSocketHandler
    strat = make_handler("mexc-spot", architecture="strategy", depth=20)
    assert isinstance(strat, StrategyHandler) and strat.depth == 20 and (strat.venue, strat.market) == ("mexc", "spot")


def _without_time(frame: bytes) -> dict:
    body = msgspec.json.decode(frame)
    body.pop("time", None)
    return body


@pytest.mark.parametrize(
    "stream,unified,net_sub",
    [
        ("gateio-spot", "BTC/USDT", NetSubscription("book", "BTC_USDT", ("20ms",))),
        ("gateio-spot", "ETH/USDT", NetSubscription("kline", "ETH_USDT", ("1m",))),
        ("gateio-perp", "BTC/USDT:USDT", NetSubscription("book", "BTC_USDT", ("100ms", "100"))),
        ("gateio-perp", "BTC/USDT:USDT", NetSubscription("trades", "BTC_USDT")),
        ("mexc-spot", "BTC/USDT", NetSubscription("book", "BTCUSDT", ("100ms",))),
        ("mexc-spot", "BTC/USDT", NetSubscription("kline", "BTCUSDT", ("Min1",))),
    ],
)
def test_subscription_frames_match_the_venue_protocol(stream, unified, net_sub):
    strategies = strategy_set(stream)
    protocol = protocol_class(stream)()
    ours = strategies.subscription(None)
    sub = Subscription(net_sub.channel, unified, net_sub.params)
    assert _without_time(ours.subscribe_frames([sub], 7)[0]) == _without_time(protocol.subscribe_frame(net_sub, 7))
    assert _without_time(ours.unsubscribe_frames([sub], 8)[0]) == _without_time(protocol.unsubscribe_frame(net_sub, 8))
    connection = strategies.connection(None)
    assert connection.url == protocol.ws_url and connection.ping_interval == protocol.ping_interval
    assert _without_time(connection.ping_frame()) == _without_time(protocol.ping_frame())
    with pytest.raises(ValueError):
        ours.subscribe_frames([Subscription("nope", unified)])


def test_router_order_and_error_isolation():
    seen: list = []
    errors: list = []
    router = MessageRouter(on_error=errors.append)
    msg = ParsedMessage(MessageType.TRADE, "gateio", "BTC/USDT", {"price": 1.0})

    def boom(m):
        raise RuntimeError("consumer bug")

    router.on(MessageType.TRADE, lambda m: seen.append(("a", m.data["price"])))
    router.on(MessageType.TRADE, boom)
    router.on(MessageType.TRADE, lambda m: seen.append(("b", m.symbol)))
    router.route(msg)
    router.route(ParsedMessage(MessageType.BBO, "gateio", "BTC/USDT"))  # nobody listens
    assert seen == [("a", 1.0), ("b", "BTC/USDT")] and len(errors) == 1
    router.off(MessageType.TRADE, boom)
    router.route(msg)
    assert len(errors) == 1 and len(seen) == 4


def test_a_failing_message_callback_is_counted_and_the_stream_goes_on():
    events: list = []
    handler = make_handler("gateio-spot", events.append, architecture="strategy")
    handler.on(MessageType.BBO, lambda m: 1 / 0)
    frame = b'{"time":1,"time_ms":1000,"channel":"spot.book_ticker","event":"update","result":{"t":1000,"u":5,"s":"BTC_USDT","b":"65000.1","B":"0.5","a":"65000.2","A":"0.25"}}'
    handler._handle_message(frame, 1)
    handler._handle_message(frame, 2)
    assert len(events) == 2 and events[0].bid_price == 65000.1 and events[0].ask_size == 0.25 and events[0].update_id == 5
    assert handler.stats.errors["callback"] == 2
