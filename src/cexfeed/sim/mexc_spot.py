"""Simulated MEXC spot: WebSocket ``/ws`` (binary protobuf pushes, JSON control replies) and
REST ``/api/v3/depth`` + ``/api/v3/exchangeInfo`` (mexc-protocol.md §1.3-§1.6, §2, §4.1).

Requests: ``{"method":"SUBSCRIPTION"|"UNSUBSCRIPTION","params":[...],"id":n}`` and
``{"method":"PING"}``. Replies: accepted -> ``{"id":n,"code":0,"msg":"<channels joined by ,>"}``;
``PONG``; a refused channel -> ``code 0`` with "Not Subscribed successfully! [<channel>].
Reason： Blocked! " (JSON channel names, the refused non-aggre ``.pb`` channels, unknown
channels or symbols, and whatever is in :attr:`MexcSpotSim.blocked`); a channel already held
on the session, or one beyond the 30-subscription cap -> ``msg ""`` (not effective; the real
reply to the 31st is not documented, §8).

Pushes (one ``PushDataV3ApiWrapper`` per binary frame): ``aggre.depth`` every market step with
``fromVersion``/``toVersion`` = the step's id range; ``aggre.deals`` with the step's trades;
``aggre.bookTicker`` when the top of book changes; once a second ``limit.depth``,
``bookTicker.batch``, ``kline`` and ``miniTicker``/``miniTickers``.

Private channels (``spot@private.*``, on ``/ws?listenKey=<key>``), the listenKey and account
REST endpoints and their ledger: :class:`~cexfeed.sim.mexc_private.MexcPrivateSim`
(``self.private``).

Faults beyond the server's generic ones: ``blocked`` (channel prefixes refused),
:meth:`MexcSpotSim.broadcast` of any frame (e.g. :meth:`truncated_frame`,
:meth:`garbage_frame`, :meth:`unknown_body_frame`) as binary.
"""

from __future__ import annotations

import asyncio
import time

import msgspec
from aiohttp import web

from ..exchanges.mexc import encode
from ..exchanges.mexc.spot_table import KLINE_INTERVALS, MAX_SUBSCRIPTIONS_PER_CONNECTION
from .faults import snapshot_view
from .market import Step, SymbolBook
from .mexc_private import MexcPrivateSim
from .venue import Session, VenueSim, register_venue

WS_PATH = "/ws"
REST_PREFIX = ""

BLOCKED_MSG = "Not Subscribed successfully! [{}].  Reason\uff1a Blocked! "
# refused by the live venue (mexc-protocol.md §1.6 rows 10-12)
PRIVATE_PREFIX = "spot@private."
REFUSED_PREFIXES = ("spot@public.increase.depth.v3.api.pb@", "spot@public.deals.v3.api.pb@", "spot@public.bookTicker.v3.api.pb@")
TIMEZONES = ("24H", "UTC+0", "UTC+8")


class _Request(msgspec.Struct):
    method: str = ""
    params: list[str] = []
    id: int = 0


_request = msgspec.json.Decoder(_Request)
_encode = msgspec.json.Encoder().encode


def venue_name(symbol: str) -> str:
    """``BTC/USDT`` -> ``BTCUSDT``."""
    return symbol.replace("/", "")


class MexcSpotSim(VenueSim):
    """The MEXC spot venue of :class:`~cexfeed.sim.server.SimServer`. ``max_subscriptions``
    per session (30); ``blocked`` channel prefixes answered with the "Blocked" refusal."""

    name = "mexc-spot"

    def __init__(self) -> None:
        super().__init__()
        self.max_subscriptions = MAX_SUBSCRIPTIONS_PER_CONNECTION
        self.blocked: set[str] = set()
        self._last_top: dict[str, tuple] = {}
        self._deal_id = 731901896985399296
        self.private = MexcPrivateSim(self)

    # -- wiring --------------------------------------------------------------------------------
    def install(self, server, app: web.Application) -> None:
        super().install(server, app)
        app.router.add_get(WS_PATH, self.ws_handler)
        app.router.add_get(REST_PREFIX + "/api/v3/depth", self.rest_depth)
        app.router.add_get(REST_PREFIX + "/api/v3/exchangeInfo", self.rest_exchange_info)
        self.private.install(app, REST_PREFIX)

    def _books(self) -> dict[str, SymbolBook]:
        assert self.server is not None
        return {venue_name(name): book for name, book in self.market.books.items()}

    # -- requests ------------------------------------------------------------------------------
    def _valid(self, channel: str) -> bool:
        parts = channel.split("@")
        if len(parts) < 3 or parts[0] != "spot":
            return False
        family, books = parts[1], self._books()
        if family in ("public.aggre.depth.v3.api.pb", "public.aggre.deals.v3.api.pb", "public.aggre.bookTicker.v3.api.pb"):
            return len(parts) == 4 and parts[2] in ("100ms", "10ms") and parts[3] in books
        if family == "public.limit.depth.v3.api.pb":
            return len(parts) == 4 and parts[2] in books and parts[3] in ("5", "10", "20")
        if family == "public.kline.v3.api.pb":
            return len(parts) == 4 and parts[2] in books and parts[3] in KLINE_INTERVALS
        if family == "public.miniTicker.v3.api.pb":
            return len(parts) == 4 and parts[2] in books and parts[3] in TIMEZONES
        if family == "public.miniTickers.v3.api.pb":
            return len(parts) == 3 and parts[2] in TIMEZONES
        if family == "public.bookTicker.batch.v3.api.pb":
            return len(parts) == 3 and parts[2] in books
        return False

    async def _reply(self, session: Session, request_id: int, msg: str, code: int = 0) -> None:
        await session.send(_encode({"id": request_id, "code": code, "msg": msg}))

    async def on_request(self, session: Session, data: bytes) -> None:
        try:
            req = _request.decode(data)
        except msgspec.DecodeError:
            await self._reply(session, 0, "Invalid request", code=-1)
            return
        held = session.subs.setdefault("channels", set())
        if req.method.upper() == "PING":
            await self._reply(session, 0, "PONG")
            return
        if req.method == "UNSUBSCRIPTION":
            held.difference_update(req.params)
            await self._reply(session, req.id, ",".join(req.params))
            return
        if req.method != "SUBSCRIPTION":
            await self._reply(session, req.id, f"Unknown method {req.method}", code=-1)
            return
        accepted = []
        for channel in req.params:
            if channel.startswith(PRIVATE_PREFIX):
                if channel in held:
                    await self._reply(session, req.id, "")
                elif self.private.admit(session, channel):
                    held.add(channel)
                    accepted.append(channel)
                else:
                    # no valid listenKey on this socket: an empty answer, then the socket goes
                    await self._reply(session, req.id, "")
                    asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(session.ws.close(code=1000)))
                continue
            if channel.startswith(REFUSED_PREFIXES) or any(channel.startswith(b) for b in self.blocked) or not self._valid(channel):
                # refusals as quoted in public reports carry "id":0 (matched by channel)
                await self._reply(session, 0, BLOCKED_MSG.format(channel))
            elif channel in held or len(held) >= self.max_subscriptions:
                await self._reply(session, req.id, "")
            else:
                held.add(channel)
                accepted.append(channel)
        if accepted:
            await self._reply(session, req.id, ",".join(accepted))

    # -- pushes --------------------------------------------------------------------------------
    async def broadcast_to(self, channel: str, frame: bytes) -> None:
        for session in list(self.sessions):
            if channel in session.subs.get("channels", ()):
                await session.send(frame, binary=True)

    async def broadcast(self, frame: bytes | str, binary: bool = True) -> int:
        """Send ``frame`` to every session (fault injection); returns how many."""
        sessions = list(self.sessions)
        for session in sessions:
            await session.send(frame, binary=binary)
        return len(sessions)

    def _wanted(self, prefix: str, sym: str) -> list[str]:
        return [f"{prefix}@{iv}@{sym}" for iv in ("100ms", "10ms")]

    async def on_step(self, step: Step) -> None:
        sym = venue_name(step.symbol)
        book = self.market.books[step.symbol]  # type: ignore[union-attr]
        ps, ss = book.price_str, book.size_str
        for channel in self._wanted("spot@public.aggre.depth.v3.api.pb", sym):
            if self._has(channel):
                interval = channel.split("@")[2]
                frame = encode.aggre_depth_frame(
                    sym, step.first, step.last,
                    bids=[(ps(p), ss(s) if s else "0") for p, s in step.bids],
                    asks=[(ps(p), ss(s) if s else "0") for p, s in step.asks],
                    send_time=step.ts_ms, interval=interval, last_order_create_time=step.ts_ms - 1,
                )
                await self.broadcast_to(channel, frame)
        if step.trades:
            deals = []
            for trade in step.trades:
                self._deal_id += 2
                deals.append((ps(trade.price), ss(trade.size), 1 if trade.side == "buy" else 2, trade.ts_ms, f"{self._deal_id}X0_{self._deal_id + 1}X0"))
            for channel in self._wanted("spot@public.aggre.deals.v3.api.pb", sym):
                if self._has(channel):
                    await self.broadcast_to(channel, encode.aggre_deals_frame(sym, deals, send_time=step.ts_ms, interval=channel.split("@")[2]))
        bid, ask = book.best_bid(), book.best_ask()
        if (bid, ask) != self._last_top.get(sym) and bid and ask:
            self._last_top[sym] = (bid, ask)
            for channel in self._wanted("spot@public.aggre.bookTicker.v3.api.pb", sym):
                if self._has(channel):
                    frame = encode.aggre_book_ticker_frame(sym, ps(bid[0]), ss(bid[1]), ps(ask[0]), ss(ask[1]), version=step.last,
                                                           send_time=step.ts_ms, interval=channel.split("@")[2])
                    await self.broadcast_to(channel, frame)

    def _has(self, channel: str) -> bool:
        return any(channel in s.subs.get("channels", ()) for s in self.sessions)

    async def on_timer(self) -> None:
        self.private.sweep()
        ms = time.time_ns() // 1_000_000
        tickers = []
        for sym, book in self._books().items():
            ps, ss = book.price_str, book.size_str
            for levels in ("5", "10", "20"):
                channel = f"spot@public.limit.depth.v3.api.pb@{sym}@{levels}"
                if self._has(channel):
                    n = int(levels)
                    frame = encode.limit_depth_frame(sym, book.update_id, [(ps(p), ss(s)) for p, s in book.top_bids(n)],
                                                     [(ps(p), ss(s)) for p, s in book.top_asks(n)], send_time=ms, levels=n)
                    await self.broadcast_to(channel, frame)
            bid, ask = book.best_bid(), book.best_ask()
            channel = f"spot@public.bookTicker.batch.v3.api.pb@{sym}"
            if bid and ask and self._has(channel):
                frame = encode.book_ticker_batch_frame(sym, [(ps(bid[0]), ss(bid[1]), ps(ask[0]), ss(ask[1]))], version=book.update_id, send_time=ms)
                await self.broadcast_to(channel, frame)
            for interval, ours in KLINE_INTERVALS.items():
                channel = f"spot@public.kline.v3.api.pb@{sym}@{interval}"
                if self._has(channel):
                    window = {"m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2592000}[ours[-1]] * int(ours[:-1])
                    start = ms // 1000 - (ms // 1000) % window
                    frame = encode.kline_frame(sym, interval, start, ps(book.open_), ps(book.high), ps(book.low), ps(book.last),
                                               ss(book.base_volume), f"{book.quote_volume:.2f}", create_time=ms, window_s=window)
                    await self.broadcast_to(channel, frame)
            rate = f"{(book.last - book.open_) / book.open_:.4f}" if book.open_ else "0"
            item = (sym, ps(book.last), rate, ps(book.high), ps(book.low), f"{book.quote_volume:.2f}", ss(book.base_volume))
            tickers.append(item)
            for tz in TIMEZONES:
                channel = f"spot@public.miniTicker.v3.api.pb@{sym}@{tz}"
                if self._has(channel):
                    await self.broadcast_to(channel, encode.mini_ticker_frame(*item, send_time=ms, timezone=tz))
        for tz in TIMEZONES:
            channel = f"spot@public.miniTickers.v3.api.pb@{tz}"
            if tickers and self._has(channel):
                await self.broadcast_to(channel, encode.mini_tickers_frame(tickers, send_time=ms, timezone=tz))

    # -- fault frames --------------------------------------------------------------------------
    def malformed_frame(self) -> bytes:
        """A JSON control frame cut short (sent as text by the generic fault)."""
        return b'{"id":0,"code":0,"msg":"spot@pub'

    def unknown_channel_frame(self) -> bytes:
        """A JSON push of the retired endpoint (text): not a reply the spot feed sends today."""
        return _encode({"c": "spot@public.deals.v3.api@BTCUSDT", "d": {"deals": []}, "s": "BTCUSDT", "t": 1})

    def error_frame(self) -> bytes:
        return _encode({"id": 0, "code": 30005, "msg": "simulated server error"})

    def garbage_frame(self) -> bytes:
        """Binary bytes that are not a protobuf message."""
        return b"\x0a\x02\xff\xfe\x07"

    def truncated_frame(self) -> bytes:
        """A real-shaped book ticker push cut in the middle of its body."""
        return encode.aggre_book_ticker_frame("BTCUSDT", "1", "1", "2", "2", version=1, send_time=1)[:-6]

    def unknown_body_frame(self) -> bytes:
        """A wrapper whose body is field 316 (a body our schema does not know)."""
        tag = (316 << 3) | 2
        return b"\x0a\x04test\x1a\x07BTCUSDT" + bytes([(tag & 0x7F) | 0x80, tag >> 7, 3]) + b"\x0a\x01x"

    # -- REST ----------------------------------------------------------------------------------
    async def rest_depth(self, request: web.Request) -> web.Response:
        """``GET /api/v3/depth?symbol=X&limit=N`` (§4.1): ``lastUpdateId`` and string levels."""
        if self.snapshot_failures > 0:
            self.snapshot_failures -= 1
            return web.json_response({"code": 500, "msg": "simulated failure"}, status=500)
        symbol = request.query.get("symbol", "")
        book = self._books().get(symbol)
        if book is None:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        book = await snapshot_view(self, book)
        try:
            limit = max(1, min(int(request.query.get("limit", "100")), 5000))
        except ValueError:
            return web.json_response({"code": -1100, "msg": "Illegal characters found in parameter 'limit'"}, status=400)
        body = {
            "lastUpdateId": book.update_id,
            "bids": [[book.price_str(p), book.size_str(s)] for p, s in book.top_bids(limit)],
            "asks": [[book.price_str(p), book.size_str(s)] for p, s in book.top_asks(limit)],
            "timestamp": time.time_ns() // 1_000_000,
        }
        return web.Response(body=_encode(body), content_type="application/json")

    async def rest_exchange_info(self, request: web.Request) -> web.Response:
        """``GET /api/v3/exchangeInfo``: the simulated symbols (status ``"1"`` = online)."""
        failure = self.instruments_failure()
        if failure is not None:
            return failure
        symbols = [
            {"symbol": venue_name(name), "status": "1", "baseAsset": book.spec.base, "quoteAsset": book.spec.quote,
             "baseAssetPrecision": book.spec.size_decimals, "quotePrecision": book.spec.price_decimals,
             "quoteAssetPrecision": book.spec.price_decimals, "baseSizePrecision": book.size_str(1),
             "isSpotTradingAllowed": True, "permissions": ["SPOT"]}
            for name, book in self.market.books.items()  # type: ignore[union-attr]
        ]
        return web.Response(body=_encode({"timezone": "CST", "serverTime": time.time_ns() // 1_000_000, "symbols": symbols}),
                            content_type="application/json")


register_venue("mexc-spot", MexcSpotSim, WS_PATH, REST_PREFIX)
