"""The ``cexfeed run`` configuration (TOML) and the static shard plan derived from it.

::

    [sink]                          # one sink for every worker: see cexfeed.sinks.SinkConfig
    url = "redis://10.0.0.5:6379/0"
    encoding = "msgpack"
    layout = "symbol"

    [cluster]
    workers = 3                     # shards 0..2; `cexfeed run` starts one process per shard

    [[feed]]                        # any number of these
    venue = "mexc-spot"
    symbols = ["BTC/USDT", "ETH/USDT"]
    channels = ["book", "trades", "bbo"]
    # url / rest_url        endpoints (default: the venue's production ones)
    # shard = 1             put every symbol of this entry on one shard
    # subscriptions_per_connection = 30   (MEXC: at most 30)
    # protocol_options = { book_level = 20 }

The plan is a pure function of the file: every host given the same file computes the same
shards, so ``cexfeed run CONFIG --shard K`` on another machine runs exactly shard K; nothing is
negotiated at run time. Symbols of pinned entries (``shard = K``) go to their shard; every other
(entry, symbol) goes, in file order, to the shard with the fewest subscriptions so far (ties:
the lowest shard), so the shards carry about the same number of subscriptions. Adding symbols
moves others: restart every worker with the new file.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import msgspec

from ..sinks import SinkConfig
from ..symbols import resolve_symbols
from ..venues import VENUES, protocol_class

# client connections one IP may hold, by venue family (Gate: 300 per IP as quoted by third
# parties, not in Gate's own pages; MEXC publishes no per-IP connection cap)
CONNECTIONS_PER_HOST: dict[str, int] = {"gateio": 300}

#: exit status of a worker stopped by an error in the configuration (a symbol the venue does not
#: list, a sink that cannot be opened): restarting cannot help, so the supervisor does not
#: restart it (sysexits.h EX_CONFIG)
CONFIG_ERROR = 78


class FeedSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One ``[[feed]]`` entry: ``venue`` (``gateio-spot``, ``gateio-perp``, ``mexc-spot``),
    unified ``symbols``, ``channels``; optional endpoints, shard pin, per-connection cap and
    venue protocol options."""

    venue: str
    symbols: list[str]
    channels: list[str] = msgspec.field(default_factory=lambda: ["book", "trades"])
    url: str | None = None
    rest_url: str | None = None
    shard: int | None = None
    subscriptions_per_connection: int | None = None
    protocol_options: dict[str, Any] = msgspec.field(default_factory=dict)
    no_data_timeout: float = 30.0


class ClusterSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[cluster]``: ``workers`` shards; a dead worker is restarted after ``restart_delay`` s,
    doubling to ``restart_delay_max`` while it keeps dying, back to the start once it ran
    ``stable_after`` s; ``connections_per_host`` overrides :data:`CONNECTIONS_PER_HOST`."""

    workers: int = 1
    restart_delay: float = 0.5
    restart_delay_max: float = 30.0
    stable_after: float = 60.0
    connections_per_host: dict[str, int] = msgspec.field(default_factory=dict)


class RunConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sink: SinkConfig
    feeds: list[FeedSpec] = msgspec.field(name="feed")
    cluster: ClusterSpec = msgspec.field(default_factory=ClusterSpec)


class ShardFeed(msgspec.Struct):
    """What one shard runs of one entry: ``symbols`` of ``spec``, with ``subscriptions`` and
    the ``connections`` they need at the venue's per-connection cap."""

    spec: FeedSpec
    symbols: list[str]
    subscriptions: int = 0
    connections: int = 0


class Shard(msgspec.Struct):
    index: int
    feeds: list[ShardFeed]

    @property
    def subscriptions(self) -> int:
        return sum(f.subscriptions for f in self.feeds)

    def connections(self) -> dict[str, int]:
        """Connections by venue."""
        out: dict[str, int] = {}
        for feed in self.feeds:
            out[feed.spec.venue] = out.get(feed.spec.venue, 0) + feed.connections
        return out


def load(path: str | Path) -> RunConfig:
    """Read and check a config file. Raises ``ValueError`` with the reason (bad TOML, unknown
    field or venue, a channel the venue lacks or two book channels, a symbol not in the unified
    form, a bad shard pin or cap). Whether the venue lists the symbols is checked when each
    worker starts (a worker that finds one it does not list stops with :data:`CONFIG_ERROR`)."""
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return parse(raw, str(path))


def parse(raw: dict[str, Any], where: str = "config") -> RunConfig:
    """:func:`load` for an already parsed TOML document."""
    try:
        config = msgspec.convert(raw, RunConfig)
    except (msgspec.ValidationError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    if config.cluster.workers < 1:
        raise ValueError(f"{where}: cluster.workers must be at least 1")
    if not config.feeds:
        raise ValueError(f"{where}: no [[feed]] entries")
    for index, spec in enumerate(config.feeds):
        _check_feed(spec, config.cluster.workers, f"{where}: feed #{index + 1} ({spec.venue})")
    return config


def _protocol(spec: FeedSpec) -> Any:
    return protocol_class(spec.venue)(spec.url, spec.rest_url, **spec.protocol_options)


def _check_feed(spec: FeedSpec, workers: int, where: str) -> None:
    if spec.venue not in VENUES or not VENUES[spec.venue].protocol:
        raise ValueError(f"{where}: unknown venue; one of {[n for n, v in VENUES.items() if v.protocol]}")
    if not spec.symbols:
        raise ValueError(f"{where}: no symbols")
    if len(set(spec.symbols)) != len(spec.symbols):
        raise ValueError(f"{where}: a symbol is listed twice")
    if spec.shard is not None and not 0 <= spec.shard < workers:
        raise ValueError(f"{where}: shard {spec.shard} outside 0..{workers - 1}")
    try:
        protocol = _protocol(spec)
    except TypeError as exc:
        raise ValueError(f"{where}: protocol_options: {exc}") from None
    unknown = [c for c in spec.channels if c not in protocol.channels]
    if unknown:
        raise ValueError(f"{where}: unknown channel(s) {unknown}; this venue has {list(protocol.channels)}")
    try:
        protocol.subscriptions(spec.channels, ())  # two book channels, or bbo and bbo_batch
        # the form of every name now; whether the venue lists them, on each worker's start (Feed.start)
        resolve_symbols(spec.symbols, protocol.default_symbols(), venue=spec.venue, market=protocol.table.market,
                        settle=getattr(protocol, "settle", None))
    except ValueError as exc:  # SymbolError is one
        raise ValueError(f"{where}: {exc}") from None
    cap = protocol.max_subscriptions
    if spec.subscriptions_per_connection is not None:
        if spec.subscriptions_per_connection < 1 or (cap is not None and spec.subscriptions_per_connection > cap):
            raise ValueError(f"{where}: subscriptions_per_connection must be 1..{cap or 'any'}")


def _subscriptions(spec: FeedSpec, symbols: list[str]) -> tuple[int, int]:
    """(subscriptions, connections) of ``symbols`` of ``spec``, computed offline."""
    protocol = _protocol(spec)
    smap = protocol.default_symbols()
    subs = protocol.subscriptions(spec.channels, [smap.to_venue(s) for s in symbols])
    cap = spec.subscriptions_per_connection or protocol.max_subscriptions
    connections = math.ceil(len(subs) / cap) if cap else (1 if subs else 0)
    return len(subs), connections


def plan(config: RunConfig) -> list[Shard]:
    """The shards of ``config`` (see the module docstring for the rule). Raises ``ValueError``
    when a shard would need more connections than one host may open to a venue."""
    n = config.cluster.workers
    assigned: list[dict[int, list[str]]] = [{} for _ in range(n)]  # shard -> entry index -> symbols
    load = [0] * n
    per_symbol = [_subscriptions(spec, spec.symbols[:1])[0] for spec in config.feeds]
    for index, spec in enumerate(config.feeds):
        if spec.shard is not None:
            assigned[spec.shard].setdefault(index, []).extend(spec.symbols)
            load[spec.shard] += per_symbol[index] * len(spec.symbols)
    for index, spec in enumerate(config.feeds):
        if spec.shard is not None:
            continue
        for symbol in spec.symbols:
            target = min(range(n), key=lambda k: (load[k], k))
            assigned[target].setdefault(index, []).append(symbol)
            load[target] += per_symbol[index]
    shards = []
    for k in range(n):
        feeds = []
        for index in sorted(assigned[k]):
            spec, symbols = config.feeds[index], assigned[k][index]
            subs, conns = _subscriptions(spec, symbols)
            feeds.append(ShardFeed(spec, symbols, subs, conns))
        shards.append(Shard(k, feeds))
    for shard in shards:
        check_host_limits(config, [shard])
    return shards


def check_host_limits(config: RunConfig, shards: list[Shard]) -> None:
    """Raise ``ValueError`` when ``shards`` run on one host would open more connections to a
    venue family than :data:`CONNECTIONS_PER_HOST` (or ``cluster.connections_per_host``)
    allows."""
    limits = {**CONNECTIONS_PER_HOST, **config.cluster.connections_per_host}
    totals: dict[str, int] = {}
    for shard in shards:
        for venue, count in shard.connections().items():
            family = venue.split("-")[0]
            totals[family] = totals.get(family, 0) + count
    for family, total in totals.items():
        limit = limits.get(family)
        if limit is not None and total > limit:
            raise ValueError(f"shards {[s.index for s in shards]} need {total} connections to {family} on one host; "
                             f"the limit is {limit} per host: spread them over more hosts (--shard K per host)")


def describe(shards: list[Shard]) -> str:
    """The plan as text, one line per shard and entry."""
    lines = []
    for shard in shards:
        lines.append(f"shard {shard.index}: {_count(shard.subscriptions, 'subscription')}, connections {shard.connections()}")
        for feed in shard.feeds:
            lines.append(f"  {feed.spec.venue} {','.join(feed.spec.channels)}: {_count(len(feed.symbols), 'symbol')}, "
                         f"{_count(feed.subscriptions, 'subscription')}, {_count(feed.connections, 'connection')}: " + " ".join(feed.symbols))
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
