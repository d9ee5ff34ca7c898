"""What a simulated venue is made of: :class:`VenueSim`, the base every venue module subclasses
(its routes, its frames, the answering of requests), :class:`Session` (one client WebSocket on
it) and the registry of venue modules (:func:`register_venue`). :class:`~cexfeed.sim.server.SimServer`
serves them."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .market import Step, SyntheticMarket

if TYPE_CHECKING:
    from .server import SimServer

log = logging.getLogger("cexfeed.sim")

# True in the task serving a session's requests: its sends are answers, not pushes (``mute``)
_ANSWERING: contextvars.ContextVar[bool] = contextvars.ContextVar("cexfeed_sim_answering", default=False)


class Session:
    """One client WebSocket on a simulated venue. ``subs`` is the venue module's own record of
    what the client holds; ``silent_until`` is a loop time before which nothing is sent,
    ``muted_until`` one before which only answers to requests are sent."""

    __slots__ = ("ws", "request", "venue", "conn_id", "subs", "silent_until", "muted_until", "sent", "received")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, venue: "VenueSim", conn_id: str) -> None:
        self.ws = ws
        self.request = request
        self.venue = venue
        self.conn_id = conn_id
        self.subs: dict[str, set] = {}
        self.silent_until = 0.0
        self.muted_until = 0.0
        self.sent = 0
        self.received = 0

    @property
    def silent(self) -> bool:
        return self.silent_until > asyncio.get_running_loop().time()

    async def send(self, data: bytes | str, binary: bool = False) -> None:
        """Send one frame unless silent or closed (or muted, for a push); a send error closes the
        session quietly."""
        if self.ws.closed or self.silent:
            return
        if self.muted_until and self.muted_until > asyncio.get_running_loop().time() and not _ANSWERING.get():
            return
        try:
            if binary:
                await self.ws.send_bytes(data if isinstance(data, bytes) else data.encode())
            else:
                await self.ws.send_str(data.decode() if isinstance(data, bytes) else data)
            self.sent += 1
        except (ConnectionError, RuntimeError):
            pass

    def abort(self) -> None:
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class VenueSim:
    """Base of a simulated venue. Subclasses set ``name``, add routes in :meth:`install`, handle
    a text/binary request in :meth:`on_request`, and push market data in :meth:`on_step` and
    :meth:`on_timer` (called about once a second). Fault hooks: :meth:`malformed_frame`,
    :meth:`unknown_channel_frame`, :meth:`error_frame`."""

    name = ""

    def __init__(self) -> None:
        self.server: SimServer | None = None
        self.sessions: set[Session] = set()
        # symbols whose next step is dropped (the skip-update-id fault)
        self.skip_next: set[str] = set()
        self.snapshot_failures = 0
        self.instrument_failures = 0
        # (count, HTTP status, Retry-After s) of WebSocket upgrades to refuse
        self.upgrade_rejections: tuple[int, int, int] = (0, 429, 1)
        # the stale/slow REST snapshot faults (sim/faults.py)
        self.stale_books: dict[str, Any] = {}
        self.stale_left = 0
        self.slow_snapshot: tuple[int, float] = (0, 0.0)
        self.market: SyntheticMarket | None = None

    def install(self, server: "SimServer", app: web.Application) -> None:
        self.server = server
        self.market = server.markets[self.name]

    def instruments_failure(self) -> web.Response | None:
        """The 500 answer of the instrument list while the ``fail_instruments`` fault lasts."""
        if self.instrument_failures > 0:
            self.instrument_failures -= 1
            return web.json_response({"label": "SERVER_ERROR", "message": "simulated failure"}, status=500)
        return None

    async def ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one WebSocket; requests go to :meth:`on_request` in arrival order."""
        count, status, retry_after = self.upgrade_rejections
        if count > 0:
            self.upgrade_rejections = (count - 1, status, retry_after)
            return web.Response(status=status, headers={"Retry-After": str(retry_after)}, text="simulated refusal")
        ws = web.WebSocketResponse(autoping=True, max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        server = self.server
        assert server is not None
        server._conn_seq += 1
        session = Session(ws, request, self, f"{server._conn_seq:016x}")
        self.sessions.add(session)
        server.stats["connections"] += 1
        _ANSWERING.set(True)
        try:
            async for msg in ws:
                session.received += 1
                if session.silent:
                    continue
                if msg.type == WSMsgType.TEXT:
                    await self.on_request(session, msg.data.encode())
                elif msg.type == WSMsgType.BINARY:
                    await self.on_request(session, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.sessions.discard(session)
        return ws

    async def on_request(self, session: Session, data: bytes) -> None:
        raise NotImplementedError

    async def on_step(self, step: Step) -> None:
        """Push what one market step changed to the subscribed sessions."""

    async def on_timer(self) -> None:
        """Periodic pushes (tickers, candles)."""

    def malformed_frame(self) -> bytes:
        return b'{"time":1,"channel":'

    def unknown_channel_frame(self) -> bytes:
        raise NotImplementedError

    def error_frame(self) -> bytes:
        raise NotImplementedError

    def upgrade_frame(self) -> bytes:
        """The venue's "about to close for an upgrade" notice, if it has one."""
        raise NotImplementedError


# venue name -> factory, WS path, REST prefix; sibling modules register here
_VENUE_FACTORIES: dict[str, Any] = {}
_WS_PATHS: dict[str, str] = {}
_REST_PREFIXES: dict[str, str] = {}


def register_venue(name: str, factory: Any, ws_path: str, rest_prefix: str) -> None:
    """Make a simulated venue available: ``factory()`` -> :class:`VenueSim`."""
    _VENUE_FACTORIES[name] = factory
    _WS_PATHS[name] = ws_path
    _REST_PREFIXES[name] = rest_prefix


def available_venues() -> list[str]:
    from . import _load_venues

    _load_venues()
    return list(_VENUE_FACTORIES)
