"""MEXC spot account streams on the strategy architecture: the private parser and the
strategy-path account handler, the twins of
:class:`~cexfeed.exchanges.mexc.private_handler.MexcPrivateWebSocketHandler` (mexc-protocol.md
§2.3 private bodies, §1.4 replies, §3.3 session).

The parser works the older way: a binary frame is parsed whole by the protobuf runtime (upb)
into ``PushDataV3ApiWrapper``, the body is picked by ``WhichOneof`` name and read by the upb
reference readers of :mod:`~cexfeed.exchanges.mexc.private_decode` (the value rules), normalized
by the direct handler's own normalizers (one status table, one unit logic), and handed on as a
generic ``ParsedMessage`` (``ORDER``, ``FILL``, ``BALANCE``); the router then applies each to the
account state. Text frames are the replies of the public parser (acks, ``PONG``, refusals).
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..account import AccountState
from ..credentials import Credentials
from ..exchanges.mexc.private_decode import READERS, AccountBody, DealBody, OrderBody
from ..exchanges.mexc.private_handler import MexcPrivateWebSocketHandler
from ..exchanges.mexc.private_protocol import EMPTY_ACK
from ..exchanges.mexc.rest import spot_symbol_map
from ..exchanges.mexc.spot_table import WS_URL
from ..handlers import EventCallback
from ..symbols import SymbolMap
from .gateio_private import PrivateStrategyHandler
from .messages import MessageType, ParsedMessage
from .mexc import MexcConnectionStrategy, MexcParserStrategy, MexcSubscriptionStrategy
from .registry import StrategySet
from .strategies import MessageParserStrategy

T = MessageType


class MexcPrivateParserStrategy(MexcParserStrategy):
    """``privateOrders`` (ORDER), ``privateDeals`` (FILL), ``privateAccount`` (BALANCE); bad
    frames reported by kind as the direct handler counts them (``truncated``, ``malformed``,
    ``wrong_type``, ``unknown_body``, ``unknown_channel``, ``channel_mismatch``,
    ``unknown_side``, ``unknown_order_type``, ``empty_ack``, ``unknown_frame``)."""

    PRIVATE = True

    def __init__(self, symbols: SymbolMap | None = None) -> None:
        super().__init__(symbols)
        self._builders = {"privateOrders": self._orders, "privateDeals": self._fills, "privateAccount": self._balances}
        # the venue's normalization (units, status table), without the direct decode
        self.normalizer = MexcPrivateWebSocketHandler(symbols=self.symbols)
        self.normalizer._count_error = lambda kind, raw=b"", exc=None: self.report(kind, raw, exc)  # type: ignore[method-assign]

    def default_symbols(self) -> SymbolMap:
        return spot_symbol_map()

    def set_symbols(self, symbols: SymbolMap) -> None:
        super().set_symbols(symbols)
        self.normalizer.set_symbols(symbols)

    @staticmethod
    def _read_body(name: str, body: Any) -> Any:
        """A private body read by the upb reference readers (values checked before the channel,
        as on the direct path); any other body as the public parser reads it."""
        read = READERS.get(name)
        return read(body) if read is not None else body

    def _message(self, msg_type: MessageType, event: Any) -> list[ParsedMessage]:
        return [ParsedMessage(msg_type, "mexc", event.symbol, msgspec.structs.asdict(event), None)]

    # builders: (typed body, venue symbol, wrapper ts, recv_ts) -> messages
    def _orders(self, b: OrderBody, symbol: str, ts: int | None, recv_ts: int) -> list[ParsedMessage]:
        return self._message(T.ORDER, self.normalizer.order(b, symbol, ts, recv_ts))

    def _fills(self, b: DealBody, symbol: str, ts: int | None, recv_ts: int) -> list[ParsedMessage]:
        return self._message(T.FILL, self.normalizer.fill(b, symbol, ts, recv_ts))

    def _balances(self, b: AccountBody, symbol: str, ts: int | None, recv_ts: int) -> list[ParsedMessage]:
        return self._message(T.BALANCE, self.normalizer.balance(b, ts, recv_ts))


class MexcPrivateStrategyHandler(PrivateStrategyHandler):
    """The account handler of the strategy path (the generic
    :class:`~cexfeed.compat.gateio_private.PrivateStrategyHandler`) with MEXC's refusals: a
    ``VenueError`` about the symbol its channel names, else the one of the request it answers,
    its message scrubbed of the credentials and of :attr:`masked` (the listenKey in use)."""

    def __init__(self, parser: MessageParserStrategy, on_event: EventCallback | None = None, state: AccountState | None = None,
                 credentials: Credentials | None = None) -> None:
        super().__init__(parser, on_event, state, credentials)
        self.masked: tuple[str, ...] = ()

    def _scrub(self, text: str) -> str:
        if self.credentials is not None:
            return self.credentials.scrub(text, *self.masked)
        for value in self.masked:
            if value and value in text:
                text = text.replace(value, "***")
        return text

    def _on_error(self, msg: ParsedMessage) -> None:
        d = msg.data
        if self.managed and d["message"].startswith(EMPTY_ACK):
            return  # a key no longer valid: the Account replaces it and says so (stale key_refused)
        self._venue_error(d["code"], self._scrub(d["message"]), d["channel"], d["recv_ts"], d["exchange_ts"], self._error_symbol(d))


def _handler(parser: MessageParserStrategy, on_event: EventCallback | None = None, state: AccountState | None = None,
             credentials: Credentials | None = None) -> MexcPrivateStrategyHandler:
    return MexcPrivateStrategyHandler(parser, on_event, state, credentials)


MEXC_SPOT_PRIVATE = StrategySet(
    connection=lambda url=None: MexcConnectionStrategy(url or WS_URL),
    subscription=MexcSubscriptionStrategy,
    parser=MexcPrivateParserStrategy,
    handler=_handler,  # type: ignore[arg-type]
)


def replay_handler(instruments: bytes | None = None) -> MexcPrivateStrategyHandler:
    """A strategy-path account handler for replay and the differential test (symbols from an
    ``/api/v3/exchangeInfo`` body)."""
    return MexcPrivateStrategyHandler(MexcPrivateParserStrategy(spot_symbol_map(instruments)))


__all__ = ["MEXC_SPOT_PRIVATE", "MexcPrivateParserStrategy", "MexcPrivateStrategyHandler", "replay_handler"]
