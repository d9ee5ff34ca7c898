"""What Gate spot and futures public handlers share: the envelope, acks, error frames,
pongs, system notices and the channel dispatch table (gateio-protocol.md §2, §3)."""

from __future__ import annotations

from typing import Callable

import msgspec

from ...handlers import EventCallback, PublicWebSocketHandler
from ...symbols import SymbolMap
from .protocol import AckResult, Envelope

_envelope = msgspec.json.Decoder(Envelope)
_ack = msgspec.json.Decoder(AckResult)


class SystemNotice(msgspec.Struct):
    type: str = ""
    msg: str = ""


_notice = msgspec.json.Decoder(SystemNotice)


def typed(struct: type) -> msgspec.json.Decoder:
    """The lax typed decoder used for channel results: numeric strings become floats/ints."""
    return msgspec.json.Decoder(struct, strict=False)


class GateioPublicHandler(PublicWebSocketHandler):
    """Envelope and control frames for a Gate public stream; subclasses declare
    ``CHANNELS = {"spot.trades": "_on_trades", ...}`` (channel -> method name taking
    ``(envelope, recv_ts)``), ``PONG`` and ``SYSTEM`` channel names."""

    venue = "gateio"
    CHANNELS: dict[str, str] = {}
    PONG = ""
    SYSTEM = ""

    def __init__(self, on_event: EventCallback | None = None, symbols: SymbolMap | None = None, depth: int = 100) -> None:
        super().__init__(on_event, depth)
        self.symbols = symbols if symbols is not None else self._default_symbols()
        self._unified = self.symbols.unified
        # channel -> bound handler, built once
        self._table: dict[str, Callable[[Envelope, int], None]] = {
            channel: getattr(self, name) for channel, name in self.CHANNELS.items()
        }
        if self.SYSTEM:
            self._table[self.SYSTEM] = self._on_system

    def _default_symbols(self) -> SymbolMap:
        raise NotImplementedError

    def unified(self, venue_symbol: str) -> str:
        return self._unified(venue_symbol)

    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        env = _envelope.decode(raw)
        if env.event == "update" or env.event == "all":
            handler = self._table.get(env.channel)
            if handler is None:
                self._count_error("unknown_channel", raw)
                return
            handler(env, recv_ts)
            return
        self._control(env, raw, recv_ts)

    def _control(self, env: Envelope, raw: bytes | str, recv_ts: int) -> None:
        channel = env.channel
        exchange_ts = env.time_ms or env.time * 1000
        if env.event in ("subscribe", "unsubscribe"):
            error = env.error
            if error is None:
                status = _ack.decode(env.result).status if env.result != b"null" else ""
                ok = status in ("success", "")
                self.hooks.on_ack(env.id, channel, ok, status)
                return
            self.hooks.on_ack(env.id, channel, False, error.message)
            self._venue_error(error.code, error.message, channel, recv_ts, exchange_ts)
            return
        if channel == self.PONG:
            self.hooks.on_pong()
            return
        if env.error is not None:
            self._venue_error(env.error.code, env.error.message, channel, recv_ts, exchange_ts)
            return
        self._count_error("unknown_frame", raw)

    def _on_system(self, env: Envelope, recv_ts: int) -> None:
        notice = _notice.decode(env.result)
        if notice.type == "upgrade":
            self.hooks.on_reconnect_requested(notice.msg)
