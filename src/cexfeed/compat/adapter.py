"""``ParsedMessage`` consumers on direct handlers.

Code written for the strategy architecture registers callbacks by :class:`MessageType`.
:class:`ParsedMessageAdapter` gives it the same messages from a direct handler: each typed
event becomes ``ParsedMessage(type, venue, symbol, data=<event fields>, raw=<frame>)``, which
is what :class:`~cexfeed.compat.strategies.StrategyHandler` delivers for the same frame.
"""

from __future__ import annotations

from typing import Any

from ..handlers import PublicWebSocketHandler
from ..models import Event
from .messages import EVENT_CLASSES, MessageType, message_from_event
from .strategies import MessageCallback, MessageRouter, StrategyHandler


_TYPES = {cls: msg_type for msg_type, cls in EVENT_CLASSES.items()}


class ParsedMessageAdapter:
    """Attach ``ParsedMessage`` callbacks to any handler.

    On a direct handler the adapter becomes its event callback (forwarding each event to
    ``on_event`` too, if given) and records the frame being handled so ``raw`` is filled. On a
    :class:`StrategyHandler` it registers the callbacks natively. ``on`` may be called before
    or after frames flow. Control messages (``ACK``/``PONG``/``SYSTEM``) exist only on the
    strategy path; direct handlers report those through ``hooks``.
    """

    def __init__(self, handler: PublicWebSocketHandler, on_event=None) -> None:
        self.handler = handler
        self._native = isinstance(handler, StrategyHandler)
        self._router = MessageRouter(on_error=self._failed)
        self._on_event = on_event
        self._raw: bytes | str | None = None
        if self._native:
            if on_event is not None:
                handler.set_callback(on_event)
            return
        handler.set_callback(self._event)
        original = handler._handle_message

        def handle(raw: bytes | str, recv_ts: int | None = None, _original=original) -> None:
            self._raw = raw
            try:
                _original(raw, recv_ts)
            finally:
                self._raw = None

        # the network core and replay call the instance attribute, so frames pass through here
        handler._handle_message = handle  # type: ignore[method-assign]

    def on(self, msg_type: MessageType, callback: MessageCallback) -> None:
        """Register ``callback`` for messages of ``msg_type``."""
        if self._native:
            self.handler.on(msg_type, callback)  # type: ignore[attr-defined]
        else:
            self._router.on(msg_type, callback)

    def _event(self, event: Event) -> Any:
        if self._on_event is not None:
            self._on_event(event)
        router = self._router
        if router.has(_TYPES.get(type(event), MessageType.UNKNOWN)):
            router.route(message_from_event(event, self._raw))

    def _failed(self, exc: BaseException) -> None:
        self.handler._count_error("callback", b"", exc)
