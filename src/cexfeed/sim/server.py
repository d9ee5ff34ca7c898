"""The loopback exchange simulator: one aiohttp app on 127.0.0.1 (random free port) serving the
WebSocket and REST endpoints of each simulated venue, each venue driven by its own
:class:`SyntheticMarket` (the same symbols, at different prices and sizes, as on real venues).

Venue modules (``sim/gateio_spot.py``, ``sim/mexc_spot.py``, ``sim/gateio_futures.py``)
subclass :class:`~cexfeed.sim.venue.VenueSim`: they add their routes in :meth:`VenueSim.install`, turn market
steps into wire frames in :meth:`VenueSim.on_step`, and answer requests on their sessions.

Faults (methods of :class:`SimServer`, also ``POST /_sim/fault/<kind>`` with query
``venue``, ``symbol``, ``seconds``, ``count``, ``code``): ``drop`` the connections (TCP abort),
``close`` them with a close frame, ``upgrade`` notice, ``silent`` (send nothing,
answer nothing for N s), ``skip`` one update id of a symbol, ``malformed`` frame,
``unknown_channel`` push, ``error`` frame, ``fail_snapshots`` (next N REST snapshots -> 500),
``fail_instruments`` (next N instrument-list requests -> 500), ``reject`` (next N WebSocket
upgrades answered ``status``, default 429, with ``Retry-After: retry_after`` s),
``pause``/``resume`` the markets; more in :mod:`cexfeed.sim.faults` (``mute``, ``cross``,
``full``, ``stale_snapshots``, ``slow_snapshots``, ``block``).

Use::

    sim = SimServer(seed=1, rate=20)
    await sim.start()
    sim.ws_url("gateio-spot"), sim.rest_url("gateio-spot")
    ...
    await sim.stop()
"""

from __future__ import annotations

import asyncio
import logging
import time
import dataclasses
from typing import Any, Iterable

from aiohttp import web

from .faults import SimFaults
from .market import DEFAULT_SYMBOLS, SymbolSpec, SyntheticMarket
from .venue import _REST_PREFIXES, _VENUE_FACTORIES, _WS_PATHS, Session, VenueSim, available_venues, register_venue

# importable from here as before the venue base had a module of its own
__all__ = ["SimServer", "Session", "VenueSim", "available_venues", "register_venue", "venue_specs", "VENUE_PRICE_STEP"]

log = logging.getLogger("cexfeed.sim")


# each venue's market starts this much above the previous venue's (a fraction of the price)
VENUE_PRICE_STEP = 0.0004


def venue_specs(symbols: Iterable[SymbolSpec], index: int) -> tuple[SymbolSpec, ...]:
    """The symbols of the ``index``-th venue: the same names, starting ``index`` price steps
    higher."""
    return tuple(dataclasses.replace(spec, start=spec.start * (1 + VENUE_PRICE_STEP * index)) for spec in symbols)


class SimServer(SimFaults):
    """The simulator: ``symbols`` (:class:`SymbolSpec`, default BTC, ETH, SOL, DOGE vs USDT),
    ``seed``, ``rate`` market steps per second per symbol (0 = as fast as the loop allows),
    ``levels`` book levels per side, ``venues`` names to serve (default all registered),
    ``port`` (0 = a random free port).

    Each venue has its own market (:attr:`markets`, :meth:`market_of`): its prices start a
    little apart from the other venues' and its sizes and moves come from its own seed.
    :attr:`market` is the market of a simulator serving one venue."""

    def __init__(
        self,
        symbols: Iterable[SymbolSpec] = DEFAULT_SYMBOLS,
        seed: int = 7,
        rate: float = 20.0,
        levels: int = 20,
        venues: Iterable[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.rate = rate
        self.host = host
        self.port = port
        self.venues: dict[str, VenueSim] = {}
        self.markets: dict[str, SyntheticMarket] = {}
        known = available_venues()
        specs = tuple(symbols)
        for index, name in enumerate(venues if venues is not None else known):
            self.venues[name] = _VENUE_FACTORIES[name]()
            self.markets[name] = SyntheticMarket(venue_specs(specs, index), seed=seed + 7919 * index, levels=levels)
        self.paused = False
        self.stats: dict[str, int] = {"connections": 0, "steps": 0}
        self._conn_seq = 0
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task | None = None
        self._step_lock = asyncio.Lock()

    # -- lifecycle -----------------------------------------------------------------------------
    def build_app(self) -> web.Application:
        app = web.Application()
        for venue in self.venues.values():
            venue.install(self, app)
        app.router.add_post("/_sim/fault/{kind}", self._fault_endpoint)
        app.router.add_get("/_sim/state", self._state_endpoint)
        return app

    async def start(self) -> "SimServer":
        """Bind and start serving and ticking. Returns self."""
        self._runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._ticker = asyncio.get_running_loop().create_task(self._tick_loop(), name="cexfeed-sim-market")
        return self

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except (asyncio.CancelledError, Exception):
                pass
            self._ticker = None
        for venue in self.venues.values():
            for session in list(venue.sessions):
                session.abort()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "SimServer":
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    @property
    def market(self) -> SyntheticMarket:
        """The market of the one venue served. Raises ``ValueError`` when serving several
        (each has its own: :meth:`market_of`)."""
        if len(self.markets) != 1:
            raise ValueError(f"the simulator serves {sorted(self.markets)}, each with its own market: use market_of(venue)")
        return next(iter(self.markets.values()))

    def market_of(self, venue: str) -> SyntheticMarket:
        """The market of simulated ``venue``. Raises ``KeyError`` for a venue not served."""
        return self.markets[venue]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def ws_url(self, venue: str) -> str:
        return f"ws://{self.host}:{self.port}{_WS_PATHS[venue]}"

    def rest_url(self, venue: str) -> str:
        return f"http://{self.host}:{self.port}{_REST_PREFIXES[venue]}"

    # -- market --------------------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        period = 1.0 / self.rate if self.rate > 0 else 0.0
        next_timer = loop.time() + 1.0
        next_step = loop.time()
        while True:
            if period:
                next_step += period
                delay = next_step - loop.time()
                if delay < -1.0:  # fell far behind (busy machine): do not burst to catch up
                    next_step = loop.time()
                await asyncio.sleep(max(0.0, delay))
            else:
                await asyncio.sleep(0)
            if not self.paused:
                await self.step_all()
            if loop.time() >= next_timer:
                next_timer = loop.time() + 1.0
                for venue in self.venues.values():
                    try:
                        await venue.on_timer()
                    except Exception:
                        log.exception("sim %s: timer push failed", venue.name)

    async def step_all(self) -> None:
        """One market step for every symbol of every venue, pushed to that venue."""
        async with self._step_lock:
            now_ms = time.time_ns() // 1_000_000
            for name, venue in self.venues.items():
                market = self.markets[name]
                for symbol in market.books:
                    step = market.step(symbol, now_ms)
                    self.stats["steps"] += 1
                    if symbol in venue.skip_next:
                        venue.skip_next.discard(symbol)
                        continue
                    try:
                        await venue.on_step(step)
                    except Exception:
                        log.exception("sim %s: push failed", venue.name)

    def pause(self) -> None:
        """Stop the market (no more steps) so clients can catch up and be compared."""
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    # -- faults --------------------------------------------------------------------------------
    def _targets(self, venue: str | None) -> list[VenueSim]:
        return [self.venues[venue]] if venue else list(self.venues.values())

    def drop_connections(self, venue: str | None = None) -> int:
        """Abort every open WebSocket (TCP reset, no close frame). Returns how many."""
        count = 0
        for target in self._targets(venue):
            for session in list(target.sessions):
                session.abort()
                count += 1
        return count

    async def close_connections(self, code: int = 1012, venue: str | None = None) -> int:
        """Close every open WebSocket with a close frame (``code``, default 1012 service
        restart), as a venue does on maintenance. Returns how many."""
        sessions = [session for target in self._targets(venue) for session in list(target.sessions)]
        for session in sessions:
            await session.ws.close(code=code, message=b"simulated restart")
        return len(sessions)

    def go_silent(self, seconds: float, venue: str | None = None) -> int:
        """Open sessions send and answer nothing for ``seconds`` (new connections are fine)."""
        until = asyncio.get_running_loop().time() + seconds
        count = 0
        for target in self._targets(venue):
            for session in target.sessions:
                session.silent_until = until
                count += 1
        return count

    def skip_update(self, symbol: str, venue: str | None = None) -> None:
        """Drop the next market step of ``symbol`` (unified name) from the wire: the clients see
        an update-id gap while the simulator's own book moves on."""
        for target in self._targets(venue):
            target.skip_next.add(symbol)

    async def _inject(self, frame_of: str, venue: str | None) -> int:
        count = 0
        for target in self._targets(venue):
            try:
                frame = getattr(target, frame_of)()
            except NotImplementedError:  # this venue has no such frame (MEXC: no upgrade notice)
                continue
            for session in list(target.sessions):
                await session.send(frame)
                count += 1
        return count

    async def send_malformed(self, venue: str | None = None) -> int:
        """Send a truncated JSON frame to every session."""
        return await self._inject("malformed_frame", venue)

    async def send_unknown_channel(self, venue: str | None = None) -> int:
        """Push a data frame of a channel nobody subscribed."""
        return await self._inject("unknown_channel_frame", venue)

    async def send_error_frame(self, venue: str | None = None) -> int:
        """Send a venue error frame not tied to any request."""
        return await self._inject("error_frame", venue)

    async def send_upgrade_notice(self, venue: str | None = None) -> int:
        """Send the venue's upgrade notice (Gate ``spot.system`` ``upgrade``) to every session."""
        return await self._inject("upgrade_frame", venue)

    def fail_snapshots(self, count: int, venue: str | None = None) -> None:
        """The next ``count`` REST snapshot requests answer HTTP 500."""
        for target in self._targets(venue):
            target.snapshot_failures = count

    def fail_instruments(self, count: int, venue: str | None = None) -> None:
        """The next ``count`` instrument-list requests answer HTTP 500."""
        for target in self._targets(venue):
            target.instrument_failures = count

    def reject_upgrades(self, count: int, status: int = 429, retry_after: int = 1, venue: str | None = None) -> None:
        """The next ``count`` WebSocket upgrades are refused with HTTP ``status`` and
        ``Retry-After: retry_after`` (seconds)."""
        for target in self._targets(venue):
            target.upgrade_rejections = (count, status, retry_after)

    async def _fault_endpoint(self, request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        try:
            result = await self._fault(kind, request.query)
        except (KeyError, ValueError) as exc:
            return web.json_response({"error": f"{kind}: {exc}"}, status=400)
        if result is None:
            return web.json_response({"error": f"unknown fault {kind}"}, status=404)
        return web.json_response({"fault": kind, "affected": result})

    async def _fault(self, kind: str, q: Any) -> Any:
        """Run one fault from query parameters; ``None`` for an unknown kind. Raises
        ``ValueError`` for a bad parameter (unknown venue or symbol, not a number)."""
        venue = q.get("venue") or None
        if venue is not None and venue not in self.venues:
            raise ValueError(f"unknown venue {venue!r}; serving {sorted(self.venues)}")
        if kind == "drop":
            return self.drop_connections(venue)
        if kind == "close":
            return await self.close_connections(int(q.get("code", "1012")), venue)
        if kind == "upgrade":
            return await self.send_upgrade_notice(venue)
        if kind == "silent":
            return self.go_silent(float(q.get("seconds", "5")), venue)
        if kind == "skip":
            symbol = q.get("symbol")
            names = sorted({name for market in self.markets.values() for name in market.books})
            if symbol not in names:
                raise ValueError(f"skip needs ?symbol= one of {names}")
            self.skip_update(symbol, venue)
            return 1
        if kind == "malformed":
            return await self.send_malformed(venue)
        if kind == "unknown_channel":
            return await self.send_unknown_channel(venue)
        if kind == "error":
            return await self.send_error_frame(venue)
        if kind == "fail_snapshots":
            self.fail_snapshots(int(q.get("count", "1")), venue)
            return 1
        if kind == "fail_instruments":
            self.fail_instruments(int(q.get("count", "1")), venue)
            return 1
        if kind == "reject":
            self.reject_upgrades(int(q.get("count", "1")), int(q.get("status", "429")), int(q.get("retry_after", "1")), venue)
            return 1
        if kind == "pause":
            self.pause()
            return 1
        if kind == "resume":
            self.resume()
            return 1
        return await self._more_fault(kind, q, venue)

    async def _state_endpoint(self, request: web.Request) -> web.Response:
        books = {
            venue: {
                name: {"update_id": b.update_id, "best_bid": b.price_str(b.best_bid()[0]) if b.bids else None,
                       "best_ask": b.price_str(b.best_ask()[0]) if b.asks else None}
                for name, b in market.books.items()
            }
            for venue, market in self.markets.items()
        }
        sessions = {name: len(v.sessions) for name, v in self.venues.items()}
        return web.json_response({"books": books, "sessions": sessions, "stats": self.stats, "paused": self.paused})
