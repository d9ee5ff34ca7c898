"""Registry of venue streams: the CLI name (``gateio-spot``, ``gateio-perp``, ``mexc-spot``)
-> handler class and endpoints. Venue modules add themselves here; nothing else needs to know
the list."""

from __future__ import annotations

import importlib
from typing import Any

import msgspec


class VenueSpec(msgspec.Struct, kw_only=True):
    """One venue stream. ``handler`` is ``"module:Class"`` (imported lazily); URLs are the
    production endpoints (override with ``--url``/``--rest-url``)."""

    name: str
    handler: str
    ws_url: str
    rest_url: str
    market: str
    # "module:Class" of the net.VenueProtocol the live core uses ("" = no live stream yet)
    protocol: str = ""


VENUES: dict[str, VenueSpec] = {
    "gateio-spot": VenueSpec(
        name="gateio-spot",
        handler="cexfeed.exchanges.gateio.spot_public_handler:GateioSpotPublicWebSocketHandler",
        ws_url="wss://api.gateio.ws/ws/v4/",
        rest_url="https://api.gateio.ws/api/v4",
        market="spot",
        protocol="cexfeed.exchanges.gateio.spot_protocol:GateioSpotProtocol",
    ),
    # USDT perpetuals; the protocol sends X-Gate-Size-Decimal: 1 on WS and REST
    "gateio-perp": VenueSpec(
        name="gateio-perp",
        handler="cexfeed.exchanges.gateio.futures_public_handler:GateioFuturesPublicWebSocketHandler",
        ws_url="wss://fx-ws.gateio.ws/v4/ws/usdt",
        rest_url="https://api.gateio.ws/api/v4",
        market="perp",
        protocol="cexfeed.exchanges.gateio.futures_protocol:GateioFuturesProtocol",
    ),
    "mexc-spot": VenueSpec(
        name="mexc-spot",
        handler="cexfeed.exchanges.mexc.public_handler:MexcPublicWebSocketHandler",
        ws_url="wss://wbs-api.mexc.com/ws",
        rest_url="https://api.mexc.com",
        market="spot",
        protocol="cexfeed.exchanges.mexc.spot_protocol:MexcSpotProtocol",
    ),
}


def handler_class(name: str) -> Any:
    """The public handler class of venue ``name``. Raises ``KeyError`` for an unknown venue."""
    module, _, cls = VENUES[name].handler.partition(":")
    return getattr(importlib.import_module(module), cls)


def protocol_class(name: str) -> Any:
    """The :class:`cexfeed.net.VenueProtocol` class of venue ``name``. Raises ``KeyError`` for
    an unknown venue and ``ValueError`` for a venue without a live protocol."""
    spec = VENUES[name]
    if not spec.protocol:
        raise ValueError(f"venue {name!r} has no live stream protocol yet")
    module, _, cls = spec.protocol.partition(":")
    return getattr(importlib.import_module(module), cls)
