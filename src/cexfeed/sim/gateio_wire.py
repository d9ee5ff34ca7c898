"""What both simulated Gate venues (spot, USDT futures) share: the request shape (gateio-protocol.md
§2.1), acks (§2.2), app ping/pong (§3), the error and system frames (§2.4, §2.5), the request
flow up to the channel-specific part, and Order Book V2 (``<prefix>.obu``, §6.8, §7.7, §10.2)."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from .market import Step
from .venue import Session, VenueSim

OBU_LEVELS = ("50", "400")


class Request(msgspec.Struct):
    """A client request: subscribe/unsubscribe (``event``), or an app ping (no ``event``);
    ``auth`` on private channels (§4.1). Payload items are strings (a futures uid may come as
    an integer, §4.2)."""

    channel: str = ""
    event: str = ""
    time: int = 0
    id: int | None = None
    payload: list[str | int] | None = None
    auth: dict[str, str] | None = None


decode_request = msgspec.json.Decoder(Request).decode
encode = msgspec.json.Encoder().encode


def venue_name(symbol: str) -> str:
    """``BTC/USDT`` -> ``BTC_USDT`` (currency pair or contract)."""
    return symbol.replace("/", "_")


def now() -> tuple[int, int]:
    """``(time s, time_ms)`` for an envelope."""
    ms = time.time_ns() // 1_000_000
    return ms // 1000, ms


def parse_stream(stream: str) -> tuple[str, str]:
    """``"ob.BTC_USDT.50"`` -> ``("BTC_USDT", "50")``; ``("", "")`` for another shape."""
    if not stream.startswith("ob."):
        return "", ""
    name, _, level = stream[3:].rpartition(".")
    return name, level


class GateioVenueSim(VenueSim):
    """A simulated Gate venue. Subclasses set ``PREFIX`` (``spot``/``futures``), ``CHANNELS``,
    ``UNKNOWN_RESULT`` (the result shape of their pushes, for the unknown-channel fault) and
    handle a valid subscribe/unsubscribe in :meth:`on_subscription`."""

    PREFIX = ""
    CHANNELS: tuple[str, ...] = ()
    # the private channels among CHANNELS, served by ``self.private`` (sim/gateio_private.py)
    PRIVATE: tuple[str, ...] = ()
    UNKNOWN_RESULT: Any = None
    # the order_book_update channel (the in-band full push of the ``full`` fault)
    BOOK_CHANNEL = ""
    private: Any = None

    def __init__(self) -> None:
        super().__init__()
        # refused subscriptions (the ``block`` fault): ``channel`` or ``channel:pair``
        self.blocked: set[str] = set()

    @property
    def obu_channel(self) -> str:
        return f"{self.PREFIX}.obu"

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
        if req.event == "subscribe" and self.blocked and self._blocked(req):
            await self.ack(session, req, {"code": 2, "message": f"subscription refused: {req.channel} {req.payload}"})
            return
        if req.channel in self.PRIVATE:
            await self.private.on_subscription(session, req)
            return
        await self.on_subscription(session, req, [str(p) for p in req.payload or []])

    async def on_subscription(self, session: Session, req: Request, payload: list[str]) -> None:
        raise NotImplementedError

    def _blocked(self, req: Request) -> bool:
        blocked = self.blocked
        return req.channel in blocked or any(f"{req.channel}:{p}" in blocked for p in req.payload or [])

    # -- in-band full pushes (the ``full`` fault) --------------------------------------------------
    async def push_full(self, symbol: str) -> int:
        """A ``full: true`` push of ``symbol`` (unified) on every book stream holding it
        (``order_book_update`` and ``obu``). Returns how many frames."""
        name = venue_name(symbol)
        count = 0
        for session in list(self.sessions):
            for stream in list(session.subs.get(self.obu_channel, ())):
                sname, level = parse_stream(stream)
                if sname == name and level in OBU_LEVELS and self.obu_source(name) is not None:
                    await session.send(self.obu_full(name, stream))
                    count += 1
            for key in list(session.subs.get(self.BOOK_CHANNEL, ())):
                frame = self.book_full_frame(session, key, name)
                if frame is not None:
                    await session.send(frame)
                    count += 1
        return count

    def book_full_frame(self, session: Session, key: Any, name: str) -> bytes | None:
        """The ``order_book_update`` ``full: true`` frame of ``name`` for subscription ``key``
        (``None`` when ``key`` is another pair's)."""
        raise NotImplementedError

    # -- Order Book V2 ---------------------------------------------------------------------------
    def obu_source(self, name: str) -> tuple[Any, Any, Any] | None:
        """``(book, price_text, size_text)`` of pair/contract ``name``, or ``None`` if unknown."""
        raise NotImplementedError

    async def obu_request(self, session: Session, req: Request, payload: list[str]) -> None:
        """``["ob.X.50", ...]``: the ``full`` snapshot goes out before the ack; an unknown symbol or
        level is acked and stays silent; a stream held twice -> code 2 ``Alert sub``."""
        held = session.subs.setdefault(self.obu_channel, set())
        if req.event == "unsubscribe":
            held.difference_update(payload)
            await self.ack(session, req, None)
            return
        for stream in payload:
            if stream in held:
                await self.ack(session, req, {"code": 2, "message": f"Alert sub {stream}"})
                return
        for stream in payload:
            held.add(stream)
            name, level = parse_stream(stream)
            if level in OBU_LEVELS and self.obu_source(name) is not None:
                await session.send(self.obu_full(name, stream))
        await self.ack(session, req, None)

    def obu_full(self, name: str, stream: str) -> bytes:
        """A ``full: true`` push of the stream's top ``level`` levels."""
        book, price, size = self.obu_source(name)
        t, ms = now()
        level = int(parse_stream(stream)[1])
        return encode({
            "time": t, "time_ms": ms, "channel": self.obu_channel, "event": "update",
            "result": {"t": ms, "full": True, "s": stream, "u": book.update_id,
                       "b": [[price(p), size(s)] for p, s in book.top_bids(level)],
                       "a": [[price(p), size(s)] for p, s in book.top_asks(level)]},
        })

    async def push_obu(self, name: str, step: Step, split: bool = False) -> None:
        """One market step on every obu stream of ``name``; ``split`` first sends an id-only
        increment (no ``b``/``a``) for the step's first id."""
        source = None
        t = step.ts_ms // 1000
        for session in self.sessions:
            for stream in session.subs.get(self.obu_channel, ()):
                sname, level = parse_stream(stream)
                if sname != name or level not in OBU_LEVELS:
                    continue
                if source is None:
                    source = self.obu_source(name)
                _, price, size = source
                first = step.first
                if split:
                    await session.send(encode({"time": t, "time_ms": step.ts_ms, "channel": self.obu_channel, "event": "update",
                                               "result": {"t": step.ts_ms, "s": stream, "U": first, "u": first}}))
                    first += 1
                await session.send(encode({
                    "time": t, "time_ms": step.ts_ms, "channel": self.obu_channel, "event": "update",
                    "result": {"t": step.ts_ms, "s": stream, "U": first, "u": step.last,
                               "b": [[price(p), size(s)] for p, s in step.bids],
                               "a": [[price(p), size(s)] for p, s in step.asks]},
                }))

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
