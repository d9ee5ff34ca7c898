"""Simulated Gate.io USDT perpetual futures: WebSocket ``/v4/ws/usdt`` and REST
``/api/v4/futures/usdt/{contracts,order_book}`` (gateio-protocol.md §1.2, §2, §3, §5.2, §7, §10).

Contracts are the market's symbols (``BTC/USDT`` -> ``BTC_USDT``) with a ``quanto_multiplier``
each (:data:`MULTIPLIERS`; BTC 0.0001, ETH 0.01 with decimal sizes, SOL 0.01, DOGE 1). Every size
on the wire counts contracts = base size / multiplier. As on Gate (§5.2): when the handshake or
REST request carries ``X-Gate-Size-Decimal: 1`` sizes are decimal **strings**, otherwise JSON
integers truncated toward zero; ``futures.obu`` sizes are strings always.

Channels: ``futures.order_book_update`` (``[contract, "20ms"|"100ms", level]``, ``{p, s}``
levels), ``futures.obu`` (``["ob.X.50"|"ob.X.400", ...]``: the ``full`` snapshot is sent
*before* the ack; unknown contracts/levels are acked with success and stay silent; a duplicate
stream on one connection -> code 2 ``Alert sub ob.X.50``), ``futures.book_ticker``,
``futures.trades`` (array, signed size: < 0 taker sell), ``futures.tickers`` (every 1 s,
alternating a full ticker with partial pushes carrying only ``funding_rate`` or only
``mark_price``/``index_price``), ``futures.candlesticks`` (``[interval, contract]``, every 2 s),
``futures.public_liquidates`` (every 3 s, alternating a bare object and an array),
``futures.contract_stats`` (``[contract, interval]``, every 2 s; its ``open_interest`` and the
tickers' ``total_size`` are the market's one open interest, which trades open and close), legacy ``futures.order_book``
(``[contract, limit, "0"]``: a whole top-N book, event ``all``, on every change). ``futures.ping`` ->
``futures.pong``. Unknown contract on other channels -> code 2 ``unknown contract X``.

Fault switches beyond :class:`~cexfeed.sim.server.SimServer`'s: :meth:`GateioFuturesSim.resend_full`
(an obu ``full`` push mid-stream) and :meth:`GateioFuturesSim.idle_obu_delta` (an increment
without ``b``/``a``). ``skip_update`` with ``venue="gateio-perp"`` makes a gap on the futures
streams only. The private channels and signed account endpoints are
:class:`~cexfeed.sim.gateio_futures_ledger.FuturesPrivateSim`.
"""

from __future__ import annotations

import time
from decimal import ROUND_DOWN, Decimal
from typing import Any

from aiohttp import web

from ..exchanges.gateio.futures_table import TABLE
from .market import Step, SymbolBook
from .faults import snapshot_view
from .gateio_futures_ledger import FuturesPrivateSim
from .gateio_wire import GateioVenueSim, Request, encode, now, parse_stream, venue_name
from .venue import Session, register_venue

WS_PATH = "/v4/ws/usdt"
REST_PREFIX = "/api/v4"
SIZE_HEADER = "X-Gate-Size-Decimal"

# channel names from the client's table; frames are built here, on their own
_ROW = {row.name: row.venue_channel for row in TABLE}
BOOK = _ROW["book"]
OBU = _ROW["book_obu"]
BBO = _ROW["bbo"]
TRADES = _ROW["trades"]
TICKERS = _ROW["ticker"]
CANDLES = _ROW["kline"]
LIQUIDATIONS = _ROW["liquidations"]
STATS = _ROW["open_interest"]
LEGACY_BOOK = _ROW["book_snapshots"]
CHANNELS = tuple(_ROW.values())
# private rows (futures.orders, usertrades, positions, balances ...): sim/gateio_futures_ledger.py
PRIVATE = tuple(row.venue_channel for row in TABLE if row.private)

# unified symbol -> quanto_multiplier (base currency per contract); others use the market lot
MULTIPLIERS = {"BTC/USDT": "0.0001", "ETH/USDT": "0.01", "SOL/USDT": "0.01", "DOGE/USDT": "1"}


class Contract:
    """Wire formatting of one contract: ``multiplier`` string, lots -> contract counts."""

    __slots__ = ("book", "name", "multiplier", "_per_lot", "decimal")

    def __init__(self, name: str, book: SymbolBook, multiplier: str) -> None:
        self.name = name
        self.book = book
        self.multiplier = multiplier
        lot = Decimal(f"{book.spec.lot:.{book.spec.size_decimals}f}")
        self._per_lot = lot / Decimal(multiplier)
        # fractional contract counts possible: the contract is decimal-enabled
        self.decimal = self._per_lot != self._per_lot.to_integral_value()

    def contracts(self, lots: int) -> Decimal:
        return Decimal(lots) * self._per_lot

    def size(self, lots: int, decimal_header: bool, signed: int = 1) -> Any:
        """The wire size of ``lots``: decimal string with the header, else an int truncated
        toward zero (§5.2)."""
        n = self.contracts(lots) * signed
        if decimal_header:
            return format(n.normalize(), "f")
        return int(n.to_integral_value(rounding=ROUND_DOWN))

    def obu_size(self, lots: int) -> str:
        return format(self.contracts(lots).normalize(), "f")

    def price(self, ticks: int) -> str:
        return self.book.price_str(ticks)


def _has_header(request: web.Request) -> bool:
    return request.headers.get(SIZE_HEADER, "") == "1"


class GateioFuturesSim(GateioVenueSim):
    """The Gate USDT futures venue of :class:`~cexfeed.sim.server.SimServer`."""

    name = "gateio-perp"
    PREFIX = "futures"
    CHANNELS = CHANNELS
    PRIVATE = PRIVATE
    UNKNOWN_RESULT = [{"x": 1}]
    BOOK_CHANNEL = BOOK

    def __init__(self) -> None:
        super().__init__()
        self.private = FuturesPrivateSim(self)
        self._contracts: dict[str, Contract] | None = None
        self._last_top: dict[str, tuple] = {}
        self._trade_id = 900_000_000
        self._timer_ticks = 0
        # contracts whose next obu increment is split into an id-only one + the changes
        self._idle_next: set[str] = set()
        # REST order_book requests served, and whether the last one carried the size header
        self.rest_snapshots_served = 0
        self.last_rest_header: bool | None = None

    # -- wiring --------------------------------------------------------------------------------
    def install(self, server, app: web.Application) -> None:
        super().install(server, app)
        app.router.add_get(WS_PATH, self.ws_handler)
        app.router.add_get(REST_PREFIX + "/futures/usdt/order_book", self.rest_order_book)
        app.router.add_get(REST_PREFIX + "/futures/usdt/contracts", self.rest_contracts)
        # /spot/time is the API host's clock for both markets: served here when the spot venue
        # is not (with both, it is the spot venue's clock)
        if "gateio-spot" not in server.venues:
            app.router.add_get(REST_PREFIX + "/spot/time", self.private.time_endpoint)
        self.private.install(app, REST_PREFIX)

    def contracts(self) -> dict[str, Contract]:
        if self._contracts is None:
            assert self.server is not None
            out = {}
            for name, book in self.market.books.items():
                lot = f"{book.spec.lot:.{book.spec.size_decimals}f}"
                out[venue_name(name)] = Contract(venue_name(name), book, MULTIPLIERS.get(name, lot))
            self._contracts = out
        return self._contracts

    # -- requests ------------------------------------------------------------------------------
    async def on_subscription(self, session: Session, req: Request, payload: list[str]) -> None:
        if req.channel == OBU:
            await self.obu_request(session, req, payload)
            return
        contracts = self.contracts()
        if req.channel == BOOK:
            if len(payload) < 2 or payload[1] not in ("20ms", "100ms"):
                await self.ack(session, req, {"code": 2, "message": f"invalid argument: {payload}"})
                return
            level = payload[2] if len(payload) > 2 else ("20" if payload[1] == "20ms" else "100")
            if level not in ("20", "50", "100") or (payload[1] == "20ms" and level != "20"):
                await self.ack(session, req, {"code": 2, "message": f"provided level not supported: {level}"})
                return
            keys = [(payload[0], level)]
            names = [payload[0]]
        elif req.channel == LEGACY_BOOK:
            # [contract, limit, "0"] (§7.5): a whole top-N book (event "all") on every change
            if len(payload) != 3 or payload[1] not in ("1", "5", "10", "20", "50", "100") or payload[2] != "0":
                await self.ack(session, req, {"code": 2, "message": f"invalid argument: {payload}"})
                return
            keys = [(payload[0], int(payload[1]))]
            names = [payload[0]]
        elif req.channel in (CANDLES, STATS):
            if len(payload) != 2:
                await self.ack(session, req, {"code": 2, "message": f"invalid argument: {payload}"})
                return
            name = payload[1] if req.channel == CANDLES else payload[0]
            keys = [name]
            names = [name]
        else:
            names = [p for p in payload if p != "!all"] if req.channel == LIQUIDATIONS else list(payload)
            keys = list(payload)
        for name in names:
            if name not in contracts:
                # one bad contract fails the whole request (§2.4)
                await self.ack(session, req, {"code": 2, "message": f"unknown contract {name}"})
                return
        await self.hold(session, req, keys)

    # -- pushes --------------------------------------------------------------------------------
    def obu_source(self, name: str):
        c = self.contracts().get(name)
        return (c.book, c.price, c.obu_size) if c is not None else None

    def _sessions(self, channel: str, key: Any) -> list[Session]:
        return [s for s in self.sessions if key in s.subs.get(channel, ())]

    async def on_step(self, step: Step) -> None:
        contracts = self.contracts()
        name = venue_name(step.symbol)
        c = contracts[name]
        book = c.book
        t = step.ts_ms // 1000
        # order_book_update: one frame per (level, header) variant
        for session in self.sessions:
            for key in session.subs.get(BOOK, ()):
                if key[0] != name:
                    continue
                dec = _has_header(session.request)
                await session.send(encode({
                    "time": t, "time_ms": step.ts_ms, "channel": BOOK, "event": "update",
                    "result": {"t": step.ts_ms, "s": name, "U": step.first, "u": step.last,
                               "b": [{"p": c.price(p), "s": c.size(s, dec)} for p, s in step.bids],
                               "a": [{"p": c.price(p), "s": c.size(s, dec)} for p, s in step.asks],
                               "l": key[1]},
                }))
        for session in self.sessions:
            for key in session.subs.get(LEGACY_BOOK, ()):
                if key[0] != name:
                    continue
                dec = _has_header(session.request)
                await session.send(encode({
                    "time": t, "time_ms": step.ts_ms, "channel": LEGACY_BOOK, "event": "all",
                    "result": {"t": step.ts_ms, "contract": name, "id": book.update_id, "l": str(key[1]),
                               "asks": [{"p": c.price(p), "s": c.size(s, dec)} for p, s in book.top_asks(key[1])],
                               "bids": [{"p": c.price(p), "s": c.size(s, dec)} for p, s in book.top_bids(key[1])]},
                }))
        split = name in self._idle_next and step.last > step.first
        if split:
            self._idle_next.discard(name)
        await self.push_obu(name, step, split)
        bid, ask = book.best_bid(), book.best_ask()
        top = (bid, ask)
        if top != self._last_top.get(name):
            self._last_top[name] = top
            for session in self._sessions(BBO, name):
                dec = _has_header(session.request)
                await session.send(encode({
                    "time": t, "time_ms": step.ts_ms, "channel": BBO, "event": "update",
                    "result": {"t": step.ts_ms, "u": step.last, "s": name,
                               "b": c.price(bid[0]) if bid else "", "B": c.size(bid[1], dec) if bid else 0,
                               "a": c.price(ask[0]) if ask else "", "A": c.size(ask[1], dec) if ask else 0},
                }))
        if step.trades:
            sessions = self._sessions(TRADES, name)
            items = []
            for trade in step.trades:
                self._trade_id += 1
                items.append((self._trade_id, trade))
            for session in sessions:
                dec = _has_header(session.request)
                await session.send(encode({
                    "time": t, "time_ms": step.ts_ms, "channel": TRADES, "event": "update",
                    "result": [{"id": tid, "size": c.size(tr.size, dec, 1 if tr.side == "buy" else -1),
                                "create_time": tr.ts_ms // 1000, "create_time_ms": tr.ts_ms,
                                "price": c.price(tr.price), "contract": name} for tid, tr in items],
                }))

    async def on_timer(self) -> None:
        self._timer_ticks += 1
        tick = self._timer_ticks
        t, ms = now()
        for name, c in self.contracts().items():
            book = c.book
            mark = c.price(book.mid)
            index = c.price(book.mid + 1)
            for session in self._sessions(TICKERS, name):
                dec = _has_header(session.request)
                phase = tick % 3
                if phase == 1:
                    change = (book.last - book.open_) / book.open_ * 100 if book.open_ else 0.0
                    item = {"contract": name, "last": c.price(book.last), "change_percentage": f"{change:.4f}",
                            "total_size": str(c.size(book.open_interest, dec)), "volume_24h": str(c.size(book.base_volume, dec)),
                            "volume_24h_base": book.size_str(book.base_volume), "volume_24h_quote": f"{book.quote_volume:.4f}",
                            "mark_price": mark, "index_price": index, "funding_rate": "0.0001",
                            "funding_rate_indicative": "0.00012", "funding_interval": 28800,
                            "funding_next_apply": (t // 28800 + 1) * 28800, "low_24h": c.price(book.low),
                            "high_24h": c.price(book.high), "price_type": "last", "t": ms}
                elif phase == 2:
                    item = {"contract": name, "funding_rate": "0.000105"}  # only what changed (§7.2)
                else:
                    item = {"contract": name, "mark_price": mark, "index_price": index, "t": ms}
                await session.send(encode({"time": t, "time_ms": ms, "channel": TICKERS, "event": "update", "result": [item]}))
            if tick % 2 == 0:
                for session in self._sessions(CANDLES, name):
                    dec = _has_header(session.request)
                    await session.send(encode({
                        "time": t, "time_ms": ms, "channel": CANDLES, "event": "update",
                        "result": [{"t": t - t % 60, "v": c.size(book.base_volume, dec), "c": c.price(book.last),
                                    "h": c.price(book.high), "l": c.price(book.low), "o": c.price(book.open_),
                                    "n": f"1m_{name}", "a": book.size_str(book.base_volume), "w": False}],
                    }))
                for session in self._sessions(STATS, name):
                    dec = _has_header(session.request)
                    await session.send(encode({
                        "time": t, "time_ms": ms, "channel": STATS, "event": "update",
                        "result": [{"time": t, "contract": name, "mark_price": mark, "lsr_taker": 1.2, "lsr_account": 0.9,
                                    "long_liq_size": c.size(0, dec), "short_liq_size": c.size(0, dec),
                                    "open_interest": c.size(book.open_interest, dec),
                                    "open_interest_usd": f"{float(book.size_str(book.open_interest)) * float(mark):.2f}"}],
                    }))
            if tick % 3 == 0:
                sessions = [s for s in self.sessions if name in s.subs.get(LIQUIDATIONS, ()) or "!all" in s.subs.get(LIQUIDATIONS, ())]
                for session in sessions:
                    dec = _has_header(session.request)
                    item = {"contract": name, "price": c.price(book.mid - 2), "time": ms, "size": c.size(7, dec, -1)}
                    # Gate has sent both a bare object and an array (§7.9)
                    result: Any = item if tick % 2 else [item]
                    await session.send(encode({"time": t, "time_ms": ms, "channel": LIQUIDATIONS, "event": "update", "result": result}))

    # -- fault switches --------------------------------------------------------------------------
    async def resend_full(self, symbol: str) -> int:
        """Push a new obu ``full`` snapshot of ``symbol`` (unified) to every subscriber."""
        c = self.contracts()[venue_name(symbol)]
        count = 0
        for session in list(self.sessions):
            for stream in list(session.subs.get(OBU, ())):
                if parse_stream(stream)[0] == c.name:
                    await session.send(self.obu_full(c.name, stream))
                    count += 1
        return count

    def book_full_frame(self, session: Session, key: Any, name: str) -> bytes | None:
        if key[0] != name:
            return None
        c = self.contracts()[name]
        dec = _has_header(session.request)
        level = int(key[1])
        t, ms = now()
        return encode({
            "time": t, "time_ms": ms, "channel": BOOK, "event": "update",
            "result": {"t": ms, "full": True, "s": name, "U": c.book.update_id, "u": c.book.update_id,
                       "b": [{"p": c.price(p), "s": c.size(s, dec)} for p, s in c.book.top_bids(level)],
                       "a": [{"p": c.price(p), "s": c.size(s, dec)} for p, s in c.book.top_asks(level)], "l": key[1]},
        })

    def idle_obu_delta(self, symbol: str) -> None:
        """Split ``symbol``'s next multi-id step on obu streams: an increment with no ``b``/``a``
        keys for its first id, then the changes (about half of live BTC increments carry no
        levels, §7.7). The market's id sequence is untouched."""
        self._idle_next.add(venue_name(symbol))

    # -- REST ----------------------------------------------------------------------------------
    async def rest_order_book(self, request: web.Request) -> web.Response:
        """``GET /api/v4/futures/usdt/order_book?contract=X&limit=N&with_id=true`` (§10.1):
        levels ``{"p", "s"}``, ``current``/``update`` float seconds."""
        dec = _has_header(request)
        name = request.query.get("contract", "")
        self.rest_snapshots_served += 1
        self.last_rest_header = dec
        if self.snapshot_failures > 0:
            self.snapshot_failures -= 1
            return web.json_response({"label": "SERVER_ERROR", "message": "simulated failure"}, status=500)
        c = self.contracts().get(name)
        if c is None:
            return web.json_response({"label": "CONTRACT_NOT_FOUND", "message": f"contract {name} not found"}, status=400)
        try:
            limit = max(1, min(int(request.query.get("limit", "10")), 300))
        except ValueError:
            return web.json_response({"label": "INVALID_PARAM_VALUE", "message": "limit"}, status=400)
        book = await snapshot_view(self, c.book)
        wall = time.time()
        body: dict[str, Any] = {}
        if request.query.get("with_id") == "true":
            body["id"] = book.update_id
        body.update({
            "current": round(wall, 3), "update": round(wall, 3),
            "asks": [{"p": c.price(p), "s": c.size(s, dec)} for p, s in book.top_asks(limit)],
            "bids": [{"p": c.price(p), "s": c.size(s, dec)} for p, s in book.top_bids(limit)],
        })
        return web.Response(body=encode(body), content_type="application/json")

    async def rest_contracts(self, request: web.Request) -> web.Response:
        """``GET /api/v4/futures/usdt/contracts`` (the fields the client reads, §7.1)."""
        failure = self.instruments_failure()
        if failure is not None:
            return failure
        out = []
        for name, c in self.contracts().items():
            spec = c.book.spec
            out.append({
                "name": name, "type": "direct", "quanto_multiplier": c.multiplier,
                "order_price_round": f"{spec.tick:.{spec.price_decimals}f}", "mark_price_round": f"{spec.tick:.{spec.price_decimals}f}",
                "order_size_min": "0.1" if c.decimal else 1, "order_size_max": 1000000, "enable_decimal": c.decimal,
                "funding_interval": 28800, "funding_rate": "0.0001", "funding_rate_indicative": "0.00012",
                "mark_price": c.price(c.book.mid), "index_price": c.price(c.book.mid), "last_price": c.price(c.book.last),
                "in_delisting": False, "leverage_min": "1", "leverage_max": "100", "orderbook_id": c.book.update_id,
            })
        return web.Response(body=encode(out), content_type="application/json")


register_venue("gateio-perp", GateioFuturesSim, WS_PATH, REST_PREFIX)
