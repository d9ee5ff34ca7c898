"""Gate.io account streams on the strategy architecture: the private parsers (spot and USDT
perpetuals) and the strategy-path account handler, the twins of the direct private handlers.

The parser works the older way: each frame is decoded once into generic Python objects (JSON
floats kept exact as ``Decimal``), each item is read into the channel's wire shape by the value
rules of :mod:`cexfeed.wire` (:func:`~cexfeed.wire.convert_amounts`: every account value by the
one grammar), normalized by the venue's own rules (the direct handler's, so both paths share one
status table and one unit logic), and handed on as a generic ``ParsedMessage`` (``ORDER``,
``FILL``, ``BALANCE``, ``POSITION``, ``ACCOUNT_NOTICE``); the router then applies each to the
account state. Signed requests come from the venue's :class:`~cexfeed.net.PrivateProtocol` on
both paths.
"""

from __future__ import annotations

from typing import Any, Callable

import msgspec

from .. import wire
from ..account import AccountState
from ..credentials import Credentials
from ..exchanges.gateio import auth, futures_table, spot_table
from ..exchanges.gateio.frame_json import named_symbol
from ..exchanges.gateio.contracts import futures_symbol_map
from ..exchanges.gateio.private_futures import GateioFuturesPrivateWebSocketHandler
from ..exchanges.gateio.private_spot import GateioSpotPrivateWebSocketHandler
from ..exchanges.gateio.protocol import spot_symbol_map
from ..handlers import EventCallback, PrivateWebSocketHandler
from ..models import PERP, SPOT
from ..symbols import SymbolMap
from .gateio_common import GateioConnectionStrategy, GateioParserStrategy, GateioSubscriptionStrategy
from .messages import ACCOUNT_TYPES, EVENT_CLASSES, MessageType, ParsedMessage, message_type_of_class
from .registry import StrategySet
from .strategies import MessageParserStrategy, RoutedHandler



def _builder(struct: type, normalize: str, msg_type: MessageType) -> Callable[[Any, dict, int], list[ParsedMessage]]:
    """A builder: each item of the frame's result (:meth:`GateioParserStrategy.items`: a bad
    item of an array reported and left out) read into ``struct`` by the value rules, then turned
    into its event by the venue's normalizer method ``normalize``."""

    def build(self, frame: dict, recv_ts: int) -> list[ParsedMessage]:
        make = getattr(self.normalizer, normalize)
        events = self.items(frame, lambda item: make(wire.convert_amounts(item, struct), recv_ts))
        return [ParsedMessage(msg_type, self.venue, event.symbol, msgspec.structs.asdict(event), None) for event in events]

    return build


class _GateioPrivateParser(GateioParserStrategy):
    """Builders ``(frame dict, recv_ts) -> [ParsedMessage]`` per private row, named as the
    direct handler's channel methods and made from the table: the row's result struct, the
    direct handler's normalizer for that method (its ``NORMALIZE``), the message type of the
    event the row emits."""

    PRIVATE = True
    NORMALIZER: Any = None
    _decode_frame = staticmethod(wire.untyped_amounts.decode)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        normalizer = cls.__dict__.get("NORMALIZER")
        if normalizer is not None:
            for row in cls.TABLE:
                if row.private:
                    setattr(cls, row.handler, _builder(row.result, normalizer.NORMALIZE[row.handler], message_type_of_class(row.emits[0])))

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        # the venue's normalization (units, status table), without the direct decode
        self.normalizer = self.NORMALIZER(symbols=self.symbols)
        self.normalizer._count_error = lambda kind, raw=b"", exc=None: self.report(kind, raw, exc)


class GateioSpotPrivateParserStrategy(_GateioPrivateParser):
    """``spot.orders``/``_v2`` (ORDER), ``spot.usertrades``/``_v2`` (FILL), ``spot.balances`` (BALANCE)."""

    market = SPOT
    TABLE = spot_table.TABLE
    PONG = spot_table.PONG
    SYSTEM = spot_table.SYSTEM
    NORMALIZER = GateioSpotPrivateWebSocketHandler

    def default_symbols(self) -> SymbolMap:
        return spot_symbol_map()


class GateioFuturesPrivateParserStrategy(_GateioPrivateParser):
    """``futures.orders`` (ORDER), ``usertrades`` (FILL), ``positions`` (POSITION), ``balances``
    (BALANCE), ``liquidates``/``auto_deleverages``/``position_closes``/``autoorders``
    (ACCOUNT_NOTICE); sizes through the contracts' multipliers of ``symbols``."""

    market = PERP
    TABLE = futures_table.TABLE
    PONG = futures_table.PONG
    SYSTEM = futures_table.SYSTEM
    NORMALIZER = GateioFuturesPrivateWebSocketHandler

    def default_symbols(self) -> SymbolMap:
        return futures_symbol_map()


class PrivateStrategyHandler(RoutedHandler, PrivateWebSocketHandler):
    """An account stream driven by a private parser and a router: the same contract, state and
    events as the venue's direct private handler (:class:`~cexfeed.handlers.PrivateWebSocketHandler`),
    ``ParsedMessage`` callbacks by type through :meth:`on`. Venue messages are scrubbed of
    ``credentials`` before anything reports them; an authentication refusal publishes
    ``auth_failed`` as on the direct path."""

    def __init__(self, parser: MessageParserStrategy, on_event: EventCallback | None = None, state: AccountState | None = None,
                 credentials: Credentials | None = None) -> None:
        self.venue = parser.venue
        self.market = parser.market
        PrivateWebSocketHandler.__init__(self, on_event, state)
        self.credentials = credentials
        router = self._routes(parser)
        for msg_type in ACCOUNT_TYPES:
            router.on(msg_type, self._on_account_message)
        router.on(MessageType.ERROR, self._on_error)

    @property
    def CHANNELS(self) -> frozenset[str]:  # noqa: N802 - the direct handlers' name, for replay
        return frozenset(self.parser._builders)

    def _scrub(self, text: str) -> str:
        return self.credentials.scrub(text) if self.credentials is not None else text

    def _on_account_message(self, msg: ParsedMessage) -> None:
        self._account_event(EVENT_CLASSES[msg.type](**msg.data))
        if self.subscribers.has(msg.type):
            self.subscribers.route(msg)

    def _on_ack(self, msg: ParsedMessage) -> None:
        msg.data["message"] = self._scrub(msg.data["message"])
        super()._on_ack(msg)

    def _on_error(self, msg: ParsedMessage) -> None:
        d = msg.data
        message = self._scrub(d["message"])
        found = auth.refusal(message, d["code"])
        auth_refusal = found is not None and found[0] == "auth"
        if not (auth_refusal and self._auth_refused):  # one error event for the refused key, not one per channel
            self._venue_error(d["code"], message, d["channel"], d["recv_ts"], d["exchange_ts"], named_symbol(self._error_symbol(d)))
        if auth_refusal:
            self.auth_refused(found[1], found[2])


def _handler(parser: MessageParserStrategy, on_event: EventCallback | None = None, state: AccountState | None = None,
             credentials: Credentials | None = None) -> PrivateStrategyHandler:
    return PrivateStrategyHandler(parser, on_event, state, credentials)


GATEIO_SPOT_PRIVATE = StrategySet(
    connection=lambda url=None: GateioConnectionStrategy(url or spot_table.WS_URL, SPOT, spot_table.PING),
    subscription=lambda symbols=None: _unsigned("gateio-spot"),
    parser=GateioSpotPrivateParserStrategy,
    handler=_handler,  # type: ignore[arg-type]
)
GATEIO_PERP_PRIVATE = StrategySet(
    connection=lambda url=None: GateioConnectionStrategy(url or futures_table.WS_URL, PERP, futures_table.PING),
    subscription=lambda symbols=None: _unsigned("gateio-perp"),
    parser=GateioFuturesPrivateParserStrategy,
    handler=_handler,  # type: ignore[arg-type]
)


def _unsigned(venue: str) -> GateioSubscriptionStrategy:
    raise NotImplementedError(f"{venue} private requests are signed by its PrivateProtocol (cexfeed.venues.private_protocol_class)")


def replay_handler(venue: str, instruments: bytes | None) -> PrivateStrategyHandler:
    """A strategy-path account handler for replay and the differential test."""
    strategies = GATEIO_SPOT_PRIVATE if venue == "gateio-spot" else GATEIO_PERP_PRIVATE
    symbols = spot_symbol_map(instruments) if venue == "gateio-spot" else futures_symbol_map(instruments)
    return PrivateStrategyHandler(strategies.parser(symbols))


__all__ = ["GATEIO_PERP_PRIVATE", "GATEIO_SPOT_PRIVATE", "PrivateStrategyHandler", "replay_handler"]
