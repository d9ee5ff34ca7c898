"""The ``cexfeed run`` config and its static shard plan (no network)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cexfeed.cli import main
from cexfeed.cluster import config as cfg

MEXC = [f"C{i}/USDT" for i in range(25)]


def raw(workers=3, **feed_overrides):
    feeds = [
        {"venue": "gateio-spot", "symbols": ["BTC/USDT", "ETH/USDT", "SOL/USDT", "DOGE/USDT"], "channels": ["book", "trades"]},
        {"venue": "mexc-spot", "symbols": MEXC, "channels": ["book", "trades", "bbo"], **feed_overrides},
    ]
    return {"sink": {"url": "redis://127.0.0.1:6379/0"}, "cluster": {"workers": workers}, "feed": feeds}


def test_plan_is_static_balanced_and_respects_mexc_connection_cap():
    config = cfg.parse(raw())
    shards = cfg.plan(config)
    assert cfg.plan(cfg.parse(raw())) == shards  # a pure function of the file
    assert [s.index for s in shards] == [0, 1, 2]
    # every (venue, symbol) exactly once
    held = [(f.spec.venue, sym) for s in shards for f in s.feeds for sym in f.symbols]
    assert sorted(held) == sorted([("gateio-spot", s) for s in config.feeds[0].symbols] + [("mexc-spot", s) for s in MEXC])
    # 8 + 75 subscriptions over 3 shards: at most one symbol's worth apart
    loads = [s.subscriptions for s in shards]
    assert sum(loads) == 83 and max(loads) - min(loads) <= 3
    for shard in shards:
        for feed in shard.feeds:
            if feed.spec.venue == "mexc-spot":
                assert feed.connections == -(-feed.subscriptions // 30)  # 30 per connection at most
    text = cfg.describe(shards)
    assert "shard 0:" in text and "mexc-spot book,trades,bbo" in text


def test_pins_caps_and_host_limits():
    config = cfg.parse(raw(shard=2, subscriptions_per_connection=10))
    shards = cfg.plan(config)
    mexc = [f for f in shards[2].feeds if f.spec.venue == "mexc-spot"][0]
    assert len(mexc.symbols) == 25 and mexc.subscriptions == 75 and mexc.connections == 8
    assert all(f.spec.venue != "mexc-spot" for s in shards[:2] for f in s.feeds)
    # Gate: a host may hold so many connections; here 1 per host and 1 subscription each
    tight = raw(workers=1)
    tight["feed"][0]["subscriptions_per_connection"] = 1
    tight["cluster"]["connections_per_host"] = {"gateio": 4}
    with pytest.raises(ValueError, match="8 connections to gateio"):
        cfg.plan(cfg.parse(tight))


@pytest.mark.parametrize("change, message", [
    ({"subscriptions_per_connection": 31}, "subscriptions_per_connection must be 1..30"),
    ({"shard": 3}, "shard 3 outside 0..2"),
    ({"channels": ["book", "orders"]}, "unknown channel"),
    ({"venue": "binance-spot"}, "unknown venue"),
    ({"symbols": ["A/USDT", "A/USDT"]}, "listed twice"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_configs_say_why(change, message):
    with pytest.raises(ValueError, match=message):
        cfg.parse(raw(**change))


def test_cli_plan(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[sink]\nurl = "nats://127.0.0.1:4222"\n[cluster]\nworkers = 2\n'
                    '[[feed]]\nvenue = "mexc-spot"\nsymbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]\nchannels = ["book", "trades"]\n')
    result = CliRunner().invoke(main, ["run", str(path), "--plan"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "shard 0: 4 subscriptions, connections {'mexc-spot': 1}"
    assert "BTC/USDT SOL/USDT" in result.output and "ETH/USDT" in result.output
    path.write_text('[sink]\nurl = "redis://x"\n[[feed]]\nvenue = "mexc-spot"\nsymbols = []\n')
    result = CliRunner().invoke(main, ["run", str(path), "--plan"])
    assert result.exit_code != 0 and "no symbols" in result.output
