"""The venue registry: every venue stream (``gateio-spot``, ``gateio-perp``, ``mexc-spot``) and
the parts that serve it. Everything that needs the list of venues reads it from here: the CLI,
``Feed``, replay (:mod:`cexfeed.capture`), the compat registry, the simulator and the benchmarks.

Parts are ``"module:attribute"`` paths imported on first use, so importing this module stays
cheap. Endpoints and venue facts live in the venue's channel-table module; the protocol class
carries them (``protocol_class(name).ws_url``).
"""

from __future__ import annotations

import importlib
from typing import Any

import msgspec


class VenueSpec(msgspec.Struct, kw_only=True, frozen=True):
    """One venue stream.

    - ``name``: registry name; ``venue``/``market``: as on events (``gateio``, ``spot``/``perp``);
    - ``table``: the market's channel table (:class:`cexfeed.channels.Table`);
    - ``protocol``: the :class:`cexfeed.net.VenueProtocol` class the live core uses;
    - ``handler``: the direct public handler class;
    - ``replay_handler``/``replay_snapshot``: ``make(instruments_body | None) -> handler`` and
      ``apply(handler, venue_symbol, rest_body, recv_ts_ns)`` for capture replay;
    - ``strategy``: the compat :class:`cexfeed.compat.StrategySet` (the strategy-path twin);
    - ``sim``: the simulator module that registers this venue with ``cexfeed.sim``;
    - private (account) streams, ``""`` where the venue has none yet: ``private_protocol`` (the
      :class:`cexfeed.net.PrivateProtocol` class), ``private_handler`` (the direct
      :class:`cexfeed.handlers.PrivateWebSocketHandler` class), ``private_replay`` (``make(
      instruments_body | None) -> handler`` for capture replay), ``private_strategy`` (the
      compat twin's :class:`cexfeed.compat.StrategySet`); ``credentials_env``: the prefix of
      the environment variables holding the keys (``GATEIO`` -> ``GATEIO_API_KEY``,
      ``GATEIO_API_SECRET``, ``GATEIO_UID``).
    """

    name: str
    venue: str
    market: str
    table: str
    protocol: str
    handler: str
    replay_handler: str
    replay_snapshot: str
    strategy: str
    sim: str
    private_protocol: str = ""
    private_handler: str = ""
    private_replay: str = ""
    private_strategy: str = ""
    credentials_env: str = ""


_GATE = "cexfeed.exchanges.gateio"
_MEXC = "cexfeed.exchanges.mexc"

VENUES: dict[str, VenueSpec] = {
    spec.name: spec
    for spec in (
        VenueSpec(
            name="gateio-spot",
            venue="gateio",
            market="spot",
            table=f"{_GATE}.spot_table:TABLE",
            protocol=f"{_GATE}.spot_protocol:GateioSpotProtocol",
            handler=f"{_GATE}.spot_public_handler:GateioSpotPublicWebSocketHandler",
            replay_handler=f"{_GATE}.spot_public_handler:replay_handler",
            replay_snapshot=f"{_GATE}.spot_public_handler:replay_apply_snapshot",
            strategy="cexfeed.compat.gateio_spot:GATEIO_SPOT",
            sim="cexfeed.sim.gateio_spot",
            private_protocol=f"{_GATE}.private_protocol:GateioSpotPrivateProtocol",
            private_handler=f"{_GATE}.private_spot:GateioSpotPrivateWebSocketHandler",
            private_replay=f"{_GATE}.private_spot:replay_handler",
            private_strategy="cexfeed.compat.gateio_private:GATEIO_SPOT_PRIVATE",
            credentials_env="GATEIO",
        ),
        # USDT perpetuals; the protocol sends X-Gate-Size-Decimal: 1 on WS and REST
        VenueSpec(
            name="gateio-perp",
            venue="gateio",
            market="perp",
            table=f"{_GATE}.futures_table:TABLE",
            protocol=f"{_GATE}.futures_protocol:GateioFuturesProtocol",
            handler=f"{_GATE}.futures_public_handler:GateioFuturesPublicWebSocketHandler",
            replay_handler=f"{_GATE}.futures_public_handler:replay_handler",
            replay_snapshot=f"{_GATE}.futures_public_handler:replay_apply_snapshot",
            strategy="cexfeed.compat.gateio_futures:GATEIO_PERP",
            sim="cexfeed.sim.gateio_futures",
            private_protocol=f"{_GATE}.private_protocol:GateioFuturesPrivateProtocol",
            private_handler=f"{_GATE}.private_futures:GateioFuturesPrivateWebSocketHandler",
            private_replay=f"{_GATE}.private_futures:replay_handler",
            private_strategy="cexfeed.compat.gateio_private:GATEIO_PERP_PRIVATE",
            credentials_env="GATEIO",
        ),
        VenueSpec(
            name="mexc-spot",
            venue="mexc",
            market="spot",
            table=f"{_MEXC}.spot_table:TABLE",
            protocol=f"{_MEXC}.spot_protocol:MexcSpotProtocol",
            handler=f"{_MEXC}.public_handler:MexcPublicWebSocketHandler",
            replay_handler=f"{_MEXC}.capture:replay_handler",
            replay_snapshot=f"{_MEXC}.capture:replay_snapshot",
            strategy="cexfeed.compat.mexc:MEXC_SPOT",
            sim="cexfeed.sim.mexc_spot",
            private_protocol=f"{_MEXC}.private_protocol:MexcSpotPrivateProtocol",
            private_handler=f"{_MEXC}.private_handler:MexcPrivateWebSocketHandler",
            private_replay=f"{_MEXC}.private_handler:replay_handler",
            private_strategy="cexfeed.compat.mexc_private:MEXC_SPOT_PRIVATE",
            credentials_env="MEXC",
        ),
    )
}


def load(ref: str) -> Any:
    """The object a ``"module:attribute"`` path names (``"module"`` alone: the module)."""
    module, _, attr = ref.partition(":")
    loaded = importlib.import_module(module)
    return getattr(loaded, attr) if attr else loaded


def spec(name: str) -> VenueSpec:
    """The :class:`VenueSpec` of venue stream ``name``. Raises ``ValueError`` naming the known
    venues for an unknown one."""
    try:
        return VENUES[name]
    except KeyError:
        raise ValueError(f"unknown venue {name!r}; known venues: {', '.join(VENUES)}") from None


def handler_class(name: str) -> Any:
    """The public handler class of venue ``name``. Raises ``ValueError`` for an unknown venue."""
    return load(spec(name).handler)


def protocol_class(name: str) -> Any:
    """The :class:`cexfeed.net.VenueProtocol` class of venue ``name``. Raises ``ValueError``
    for an unknown venue."""
    return load(spec(name).protocol)


def private_names() -> list[str]:
    """Venue streams with an account (private) stream."""
    return [name for name, entry in VENUES.items() if entry.private_protocol]


def private_protocol_class(name: str) -> Any:
    """The :class:`cexfeed.net.PrivateProtocol` class of venue ``name``. Raises ``ValueError``
    for an unknown venue or one without private streams."""
    entry = spec(name)
    if not entry.private_protocol:
        raise ValueError(f"{name} has no private streams; venues with them: {', '.join(private_names())}")
    return load(entry.private_protocol)


def private_handler_class(name: str) -> Any:
    """The direct private handler class of venue ``name`` (``ValueError`` as above)."""
    entry = spec(name)
    if not entry.private_handler:
        raise ValueError(f"{name} has no private streams; venues with them: {', '.join(private_names())}")
    return load(entry.private_handler)


def table(name: str) -> Any:
    """The channel :class:`~cexfeed.channels.Table` of venue ``name``."""
    return load(spec(name).table)
