"""Handler contract: one raw WebSocket frame in, typed events out.

A handler owns the per-connection parsing state (books, symbol maps) of one venue stream. The
network core calls :meth:`WebSocketHandler._handle_message` for every data frame in arrival
order; the handler decodes it once, applies it to its state and hands events to the consumer's
sync callback inline. ``_handle_message`` never raises: a malformed, unknown or failing frame is
counted by kind in :attr:`WebSocketHandler.stats`, logged once per kind with a short prefix, and
skipped. So is every event of a symbol the handler does not follow (:meth:`WebSocketHandler.follow`:
the connection's subscriptions, or a replay's instrument list), counted ``unknown_symbol``, and a
crossed best bid/offer (bid >= ask: pitfalls D.1 #1, #31), counted ``crossed_bbo``: never published
as a quote.

Control-plane results (acks, pongs, resync requests) go to :class:`ConnectionHooks`, which the
network core implements; a handler used on its own (replay, tests) gets the no-op default.

The contract is kept in three modules, named together here: the base and its hooks
(:mod:`cexfeed.handler_base`), market data (:mod:`cexfeed.book_handler`) and account streams
(:mod:`cexfeed.account_handler`).
"""

from .account_handler import PrivateWebSocketHandler
from .book_handler import PublicWebSocketHandler
from .handler_base import ConnectionHooks, EventCallback, HandlerStats, WebSocketHandler

__all__ = ["ConnectionHooks", "EventCallback", "HandlerStats", "PrivateWebSocketHandler", "PublicWebSocketHandler", "WebSocketHandler"]
