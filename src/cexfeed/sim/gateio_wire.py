"""What both simulated Gate venues (spot, USDT futures) share: the request shape (gateio-protocol.md
§2.1), acks (§2.2), app ping/pong (§3), the error and system frames (§2.4, §2.5), and the
request flow up to the channel-specific part."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from .server import Session, VenueSim


class Request(msgspec.Struct):
    """A client request: subscribe/unsubscribe (``event``), or an app ping (no ``event``)."""

    channel: str = ""
    event: str = ""
    time: int = 0
    id: int | None = None
    payload: list[str] | None = None


decode_request = msgspec.json.Decoder(Request).decode
encode = msgspec.json.Encoder().encode


def venue_name(symbol: str) -> str:
    """``BTC/USDT`` -> ``BTC_USDT`` (currency pair or contract)."""
    return symbol.replace("/", "_")


def now() -> tuple[int, int]:
    """``(time s, time_ms)`` for an envelope."""
    ms = time.time_ns() // 1_000_000
    return ms // 1000, ms


class GateioVenueSim(VenueSim):
    """A simulated Gate venue. Subclasses set ``PREFIX`` (``spot``/``futures``), ``CHANNELS``,
    ``UNKNOWN_RESULT`` (the result shape of their pushes, for the unknown-channel fault) and
    handle a valid subscribe/unsubscribe in :meth:`on_subscription`."""

    PREFIX = ""
    CHANNELS: tuple[str, ...] = ()
    UNKNOWN_RESULT: Any = None

    async def on_request(self, session: Session, data: bytes) -> None:
        try:
            req = decode_request(data)
        except msgspec.DecodeError:
            t, ms = now()
            await session.send(encode({"time": t, "time_ms": ms, "conn_id": session.conn_id, "channel": "", "event": "",
                                       "error": {"code": 1, "message": "request message need json scheme"}, "result": None}))
            return
        if req.channel == f"{self.PREFIX}.ping":
            t, ms = now()
            await session.send(encode({"time": t, "time_ms": ms, "conn_id": session.conn_id, "channel": f"{self.PREFIX}.pong",
                                       "event": "", "result": None}))
            return
        if req.event not in ("subscribe", "unsubscribe"):
            await self.ack(session, req, {"code": 2, "message": f"invalid event {req.event!r}"})
            return
        if req.channel not in self.CHANNELS:
            await self.ack(session, req, {"code": 2, "message": f"Unknown channel {req.channel}"})
            return
        await self.on_subscription(session, req, req.payload or [])

    async def on_subscription(self, session: Session, req: Request, payload: list[str]) -> None:
        raise NotImplementedError

    async def hold(self, session: Session, req: Request, keys: list) -> None:
        """Record what the session holds after a valid request, then ack it."""
        held = session.subs.setdefault(req.channel, set())
        if req.event == "subscribe":
            held.update(keys)
        else:
            held.difference_update(keys)
        await self.ack(session, req, None)

    async def ack(self, session: Session, req: Request, error: dict | None) -> None:
        """The subscribe/unsubscribe ack: ``result.status`` ``success``, or ``fail`` with ``error``."""
        t, ms = now()
        body: dict[str, Any] = {"time": t, "time_ms": ms}
        if req.id is not None:
            body["id"] = req.id
        body.update({"conn_id": session.conn_id, "trace_id": f"{req.id or 0:032x}", "channel": req.channel,
                     "event": req.event, "payload": req.payload or []})
        if error is None:
            body["result"] = {"status": "success"}
        else:
            body["error"] = error
            body["result"] = {"status": "fail"}
        await session.send(encode(body))

    # -- fault frames --------------------------------------------------------------------------
    def malformed_frame(self) -> bytes:
        return b'{"time":1700000000,"channel":"%s.trades","event":"update","result":{"id":' % self.PREFIX.encode()

    def unknown_channel_frame(self) -> bytes:
        t, ms = now()
        return encode({"time": t, "time_ms": ms, "channel": f"{self.PREFIX}.mystery", "event": "update", "result": self.UNKNOWN_RESULT})

    def error_frame(self) -> bytes:
        t, ms = now()
        return encode({"time": t, "time_ms": ms, "channel": "", "event": "",
                       "error": {"code": 3, "message": "Server side error happened"}, "result": None})

    def upgrade_frame(self) -> bytes:
        t, ms = now()
        return encode({"time": t, "time_ms": ms, "channel": f"{self.PREFIX}.system", "event": "update",
                       "result": {"type": "upgrade", "msg": "The connection will soon be closed for a service upgrade. Please reconnect."}})
