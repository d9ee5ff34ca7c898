"""Simulated Gate.io v4 spot: WebSocket ``/ws/v4/`` and REST ``/api/v4/spot/...``
(gateio-protocol.md §2 envelopes and acks, §3 ``spot.ping``/``spot.pong``, §6 public channels,
§10.1 REST ``order_book?with_id=true``).

Channels served: ``spot.order_book_update`` (payload ``[pair, "20ms"|"100ms"]``, absolute sizes,
``"0"`` deletes, ``U``/``u`` continuing the market's id sequence), ``spot.book_ticker`` (on a
change of the top of book), ``spot.trades`` (one trade per push), ``spot.tickers`` (every 1 s),
``spot.candlesticks`` (payload ``[interval, pair]``, every 2 s), ``spot.obu`` (``["ob.X.50"]``,
snapshot before the ack, see :class:`~cexfeed.sim.gateio_wire.GateioVenueSim`); the private
channels and signed account endpoints of :class:`~cexfeed.sim.gateio_private.SpotPrivateSim`.
Unknown pair -> error ack code 2
``unknown currency pair X``; unknown channel -> code 2 ``Unknown channel X``; non-JSON ->
code 1 ``request message need json scheme``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..exchanges.gateio.spot_table import TABLE
from .market import Step, SymbolBook
from .faults import snapshot_view
from .gateio_private import SpotPrivateSim
from .gateio_wire import GateioVenueSim, Request, encode, now, venue_name
from .venue import Session, register_venue

WS_PATH = "/ws/v4/"
REST_PREFIX = "/api/v4"

# channel names from the client's table; frames are built here, on their own
_ROW = {row.name: row.venue_channel for row in TABLE}
BOOK = _ROW["book"]
BBO = _ROW["bbo"]
TRADES = _ROW["trades"]
TICKERS = _ROW["ticker"]
CANDLES = _ROW["kline"]
OBU = _ROW["book_obu"]
CHANNELS = tuple(_ROW.values())
# private rows (spot.orders, spot.usertrades, spot.balances, their _v2): sim/gateio_private.py
PRIVATE = tuple(row.venue_channel for row in TABLE if row.private)
BOOK_INTERVALS = {"20ms": "20", "100ms": "100"}


class GateioSpotSim(GateioVenueSim):
    """The Gate spot venue of :class:`~cexfeed.sim.server.SimServer`."""

    name = "gateio-spot"
    PREFIX = "spot"
    CHANNELS = CHANNELS
    PRIVATE = PRIVATE
    UNKNOWN_RESULT = {"x": 1}
    BOOK_CHANNEL = BOOK

    def __init__(self) -> None:
        super().__init__()
        self.private = SpotPrivateSim(self)
        self._last_top: dict[str, tuple] = {}
        self._global_trade_id = 500_000_000
        self._timer_ticks = 0

    # -- wiring --------------------------------------------------------------------------------
    def install(self, server, app: web.Application) -> None:
        super().install(server, app)
        app.router.add_get(WS_PATH, self.ws_handler)
        app.router.add_get(WS_PATH.rstrip("/"), self.ws_handler)
        app.router.add_get(REST_PREFIX + "/spot/order_book", self.rest_order_book)
        app.router.add_get(REST_PREFIX + "/spot/currency_pairs", self.rest_currency_pairs)
        self.private.install(app, REST_PREFIX)

    def obu_source(self, name: str):
        book = self._books().get(name)
        return (book, book.price_str, book.size_str) if book is not None else None

    def pairs(self) -> set[str]:
        return set(self._books())

    def _books(self) -> dict[str, SymbolBook]:
        assert self.server is not None
        return {venue_name(name): book for name, book in self.market.books.items()}

    # -- requests ------------------------------------------------------------------------------
    async def on_subscription(self, session: Session, req: Request, payload: list[str]) -> None:
        if req.channel == OBU:
            await self.obu_request(session, req, payload)
            return
        books = self._books()
        if req.channel == BOOK:
            if len(payload) != 2 or payload[1] not in BOOK_INTERVALS:
                await self.ack(session, req, {"code": 2, "message": f"invalid argument: {payload}"})
                return
            pairs = [payload[0]]
        elif req.channel == CANDLES:
            if len(payload) != 2:
                await self.ack(session, req, {"code": 2, "message": f"invalid argument: {payload}"})
                return
            pairs = [payload[1]]
        else:
            pairs = list(payload)
        for pair in pairs:
            if pair not in books:
                # one bad pair fails the whole request (gateio-protocol.md §2.4)
                await self.ack(session, req, {"code": 2, "message": f"unknown currency pair {pair}"})
                return
        await self.hold(session, req, pairs)

    def book_full_frame(self, session: Session, key: Any, name: str) -> bytes | None:
        if key != name:
            return None
        book = self._books()[name]
        t, ms = now()
        return encode({
            "time": t, "time_ms": ms, "channel": BOOK, "event": "update",
            "result": {"t": ms, "full": True, "e": "depthUpdate", "E": t, "s": name, "U": book.update_id, "u": book.update_id,
                       "b": [[book.price_str(p), book.size_str(s)] for p, s in book.top_bids(100)],
                       "a": [[book.price_str(p), book.size_str(s)] for p, s in book.top_asks(100)], "l": "100"},
        })

    # -- pushes --------------------------------------------------------------------------------
    def _subscribers(self, channel: str, pair: str) -> list[Session]:
        return [s for s in self.sessions if pair in s.subs.get(channel, ())]

    async def on_step(self, step: Step) -> None:
        pair = venue_name(step.symbol)
        book = self.market.books[step.symbol]  # type: ignore[union-attr]
        t = step.ts_ms // 1000
        await self.push_obu(pair, step)
        sessions = self._subscribers(BOOK, pair)
        if sessions:
            frame = encode({
                "time": t, "time_ms": step.ts_ms, "channel": BOOK, "event": "update",
                "result": {
                    "t": step.ts_ms, "e": "depthUpdate", "E": t, "s": pair, "U": step.first, "u": step.last,
                    "b": [[book.price_str(p), book.size_str(s)] for p, s in step.bids],
                    "a": [[book.price_str(p), book.size_str(s)] for p, s in step.asks],
                    "l": "100",
                },
            })
            for session in sessions:
                await session.send(frame)
        bid, ask = book.best_bid(), book.best_ask()
        top = (bid, ask)
        if top != self._last_top.get(pair):
            self._last_top[pair] = top
            sessions = self._subscribers(BBO, pair)
            if sessions and bid and ask:
                frame = encode({
                    "time": t, "time_ms": step.ts_ms, "channel": BBO, "event": "update",
                    "result": {"t": step.ts_ms, "u": step.last, "s": pair, "b": book.price_str(bid[0]), "B": book.size_str(bid[1]),
                               "a": book.price_str(ask[0]), "A": book.size_str(ask[1])},
                })
                for session in sessions:
                    await session.send(frame)
        if step.trades:
            sessions = self._subscribers(TRADES, pair)
            for trade in step.trades:
                self._global_trade_id += 1
                if not sessions:
                    continue
                frame = encode({
                    "time": t, "time_ms": step.ts_ms, "channel": TRADES, "event": "update",
                    "result": {"id": self._global_trade_id, "id_market": trade.trade_id, "create_time": trade.ts_ms // 1000,
                               "create_time_ms": f"{trade.ts_ms}.000", "side": trade.side, "currency_pair": pair,
                               "amount": book.size_str(trade.size), "price": book.price_str(trade.price),
                               "range": f"{trade.trade_id}-{trade.trade_id}"},
                })
                for session in sessions:
                    await session.send(frame)

    async def on_timer(self) -> None:
        self._timer_ticks += 1
        t, ms = now()
        for pair, book in self._books().items():
            sessions = self._subscribers(TICKERS, pair)
            if sessions:
                bid, ask = book.best_bid(), book.best_ask()
                change = (book.last - book.open_) / book.open_ * 100 if book.open_ else 0.0
                frame = encode({
                    "time": t, "time_ms": ms, "channel": TICKERS, "event": "update",
                    "result": {"currency_pair": pair, "last": book.price_str(book.last),
                               "lowest_ask": book.price_str(ask[0]) if ask else "",
                               "highest_bid": book.price_str(bid[0]) if bid else "",
                               "change_percentage": f"{change:.4f}", "base_volume": book.size_str(book.base_volume),
                               "quote_volume": f"{book.quote_volume:.4f}", "high_24h": book.price_str(book.high),
                               "low_24h": book.price_str(book.low)},
                })
                for session in sessions:
                    await session.send(frame)
            if self._timer_ticks % 2 == 0:
                sessions = self._subscribers(CANDLES, pair)
                if sessions:
                    frame = encode({
                        "time": t, "time_ms": ms, "channel": CANDLES, "event": "update",
                        "result": {"t": str(t - t % 60), "v": f"{book.quote_volume:.4f}", "c": book.price_str(book.last),
                                   "h": book.price_str(book.high), "l": book.price_str(book.low),
                                   "o": book.price_str(book.open_), "n": f"1m_{pair}", "a": book.size_str(book.base_volume),
                                   "w": False},
                    })
                    for session in sessions:
                        await session.send(frame)

    # -- REST ----------------------------------------------------------------------------------
    async def rest_order_book(self, request: web.Request) -> web.Response:
        """``GET /api/v4/spot/order_book?currency_pair=X&limit=N&with_id=true`` (§10.1)."""
        if self.snapshot_failures > 0:
            self.snapshot_failures -= 1
            return web.json_response({"label": "SERVER_ERROR", "message": "simulated failure"}, status=500)
        pair = request.query.get("currency_pair", "")
        book = self._books().get(pair)
        if book is None:
            return web.json_response({"label": "INVALID_CURRENCY_PAIR", "message": f"Invalid currency pair {pair}"}, status=400)
        book = await snapshot_view(self, book)
        try:
            limit = max(1, min(int(request.query.get("limit", "10")), 1000))
        except ValueError:
            return web.json_response({"label": "INVALID_PARAM_VALUE", "message": "limit"}, status=400)
        _, ms = now()
        body: dict[str, Any] = {}
        if request.query.get("with_id") == "true":
            body["id"] = book.update_id
        body.update({
            "current": ms, "update": ms,
            "asks": [[book.price_str(p), book.size_str(s)] for p, s in book.top_asks(limit)],
            "bids": [[book.price_str(p), book.size_str(s)] for p, s in book.top_bids(limit)],
        })
        return web.Response(body=encode(body), content_type="application/json")

    async def rest_currency_pairs(self, request: web.Request) -> web.Response:
        """``GET /api/v4/spot/currency_pairs``."""
        failure = self.instruments_failure()
        if failure is not None:
            return failure
        pairs = [
            {"id": venue_name(name), "base": book.spec.base, "quote": book.spec.quote, "fee": "0.2",
             "min_quote_amount": "1", "amount_precision": book.spec.size_decimals, "precision": book.spec.price_decimals,
             "trade_status": "tradable", "sell_start": 0, "buy_start": 0}
            for name, book in self.market.books.items()  # type: ignore[union-attr]
        ]
        return web.Response(body=encode(pairs), content_type="application/json")


register_venue("gateio-spot", GateioSpotSim, WS_PATH, REST_PREFIX)
