"""The private half of the simulated MEXC spot venue: listenKeys, signed REST, private protobuf
pushes of a matching ledger, a control API and fault switches (mexc-protocol.md §3).

- **Signed REST** (§3.2) is checked for real: header ``X-MEXC-APIKEY`` (unknown or refused key
  -> HTTP 401 ``{"code":"10072","msg":"Api key info invalid"}``), ``signature`` last in the
  query = hex HMAC-SHA256(secret, the query before it + the body) (else HTTP 400 ``700002``),
  ``timestamp`` within ``recvWindow`` of the venue clock (else ``700003``; a window above 60000
  -> ``700005``).
- **listenKeys** (§3.1): ``POST``/``GET``/``PUT``/``DELETE /api/v3/userDataStream``; a key lives
  :attr:`MexcPrivateSim.validity_s` (3600) after its creation or last ``PUT``; at most 60 per
  account (then ``POST`` answers ``{"code":"730707",...}``); a ``PUT`` of an unknown or
  expired key, or within ``put_floor_s`` of the previous one, answers ``730708`` "listen key
  information error". When a key expires (or is deleted) the sockets on it are closed.
- **WebSocket** (§3.3): ``/ws?listenKey=<key>`` on the market endpoint; a private
  ``SUBSCRIPTION`` on a socket whose key is missing, unknown or expired, or on the 6th socket
  of one key, is answered ``{"id":n,"code":0,"msg":""}`` and the socket is closed (pymexc#30);
  otherwise acked like a public channel. Pushes of the account's ledger go to the sockets
  of that account holding the channel: 304 orders, 306 deals (with ``symbol``), 307 account
  (no symbol), one wrapper per binary frame, encoded with the protobuf runtime.

Control: ``await venue.private.act(action, **params)`` or ``POST /_sim/account/mexc-spot/<action>``
with a JSON object. Ledger actions (:class:`~cexfeed.sim.mexc_spot_ledger.MexcSpotLedger`):
``deposit`` (currency, amount), ``place`` (symbol, side, quantity, price, order_type,
client_id), ``fill`` (order_id, quantity, maker), ``cancel`` (order_id), ``market_buy``
(symbol, quote_amount, price); each takes ``uid`` and ``drop_after`` (abort the venue's sockets
after that many of the action's pushes: a disconnect in the middle of a fill). Fault switches:
``lapse`` (every key of ``uid``, or ``key``, expires now), ``fail_put`` (the next ``count``
``PUT`` answer HTTP 500), ``refuse_put`` (the next ``count`` ``PUT`` answer ``code``, default
``730708``), ``validity`` (``seconds`` a key lives), ``put_floor`` (``seconds``),
``reject_auth``, ``skew`` (``seconds``), ``fail_rest`` (the next ``count`` private REST calls
answer 500), ``slow_rest`` (the next ``count`` private REST answers sent ``seconds`` late),
``require_symbol`` (``on``: ``/api/v3/openOrders`` without ``symbol`` answers HTTP 400
``700004``, as the venue's older documentation had it), ``freeze`` (``ms``, default now;
``null`` ends it: every ledger action of ``uid`` happens at that ms).

REST account endpoints (signed): ``/api/v3/account``, ``/api/v3/openOrders`` (``symbol``
optional), ``/api/v3/order``, ``/api/v3/allOrders`` (by creation time, newest first, at most
1000, the latest 7 days), ``/api/v3/myTrades`` (by time and ``orderId``, oldest first, at most
100).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from typing import Any, Callable
from urllib.parse import parse_qsl

import msgspec
from aiohttp import web

from ..exchanges.mexc import encode
from .gateio_private import GatePrivateSim, _on
from .mexc_spot_ledger import ACCOUNT, DEALS, ORDERS, MexcSpotLedger
from .venue import Session

TEST_KEY = "mx0vglcexfeedsimkey"
TEST_SECRET = "cexfeed-sim-mexc-secret"
TEST_UID = "20001"
LISTEN_KEY_PATH = "/api/v3/userDataStream"
MAX_KEYS = 60
MAX_CONNECTIONS_PER_KEY = 5
DAY_MS = 86_400_000
_encode = msgspec.json.Encoder().encode
#: channel -> the encoder of its pushes (the protobuf runtime, exchanges/mexc/encode.py)
_FRAMES = {ORDERS: encode.private_orders_frame, DEALS: encode.private_deals_frame, ACCOUNT: encode.private_account_frame}


class ListenKey:
    __slots__ = ("uid", "expires_ms", "last_put_ms")

    def __init__(self, uid: str, expires_ms: int) -> None:
        self.uid = uid
        self.expires_ms = expires_ms
        self.last_put_ms: int | None = None


def _error(status: int, code: str | int, msg: str) -> web.Response:
    return web.Response(status=status, body=_encode({"code": code, "msg": msg}), content_type="application/json")


class MexcPrivateSim(GatePrivateSim):
    """The private part of :class:`~cexfeed.sim.mexc_spot.MexcSpotSim` (``venue``). Keeps the
    Gate private simulator's control, ledgers per uid and ``drop_after`` switch; signatures,
    listenKeys and frames are MEXC's (see the module docstring)."""

    ACTIONS = ("deposit", "place", "fill", "cancel", "market_buy")
    FAULTS = ("lapse", "fail_put", "refuse_put", "validity", "put_floor", "require_symbol", "freeze")

    def __init__(self, venue: Any) -> None:
        self.ledger_class = MexcSpotLedger
        self.keys: dict[str, ListenKey] = {}
        self.validity_s = 3600.0
        self.put_floor_s = 0.0
        self.put_failures = 0
        self.put_refusals: tuple[int, str] = (0, "730708")
        self.require_symbol = False
        # what the client did, for tests
        self.key_calls: dict[str, int] = {"POST": 0, "GET": 0, "PUT": 0, "DELETE": 0}
        self.refused_subscriptions = 0
        # every key ever made (tests look for them in logs and output)
        self.issued: list[str] = []
        super().__init__(venue)
        self.accounts.clear()
        self.add_account(TEST_KEY, TEST_SECRET, TEST_UID)

    def ledger(self, uid: str = TEST_UID) -> Any:
        return super().ledger(uid)

    # -- signed REST (§3.2) ----------------------------------------------------------------------
    def check_rest_auth(self, request: web.Request, body: bytes) -> tuple[web.Response | None, str]:
        self.private_rest_calls += 1
        if self.rest_failures > 0:
            self.rest_failures -= 1
            return _error(500, 500, "simulated failure"), ""
        account = self.accounts.get(request.headers.get("X-MEXC-APIKEY", ""))
        if account is None or self.reject_auth:
            return _error(401, "10072", "Api key info invalid"), ""
        secret, uid = account
        raw = request.rel_url.raw_query_string
        signed, sep, sign = raw.rpartition("&signature=")
        params = dict(parse_qsl(signed, keep_blank_values=True))
        try:
            stamp = int(params["timestamp"])
            window = int(params.get("recvWindow", "5000"))
        except (KeyError, ValueError):
            return _error(400, 700003, "Timestamp for this request is outside of the recvWindow."), uid
        if window > 60000:
            return _error(400, 700005, "recvWindow must less than 60000"), uid
        now = self.now_ms()
        if not (stamp < now + 1000 and now - stamp <= window):
            return _error(400, 700003, "Timestamp for this request is outside of the recvWindow."), uid
        expected = hmac.new(secret, signed.encode() + body, hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(expected, sign):
            return _error(400, 700002, "Signature for this request is not valid."), uid
        return None, uid

    def install(self, app: web.Application, rest_prefix: str) -> None:
        app.router.add_post(f"/_sim/account/{self.venue.name}/{{action}}", self._control_endpoint)
        app.router.add_get(rest_prefix + "/api/v3/time", self.time_endpoint)
        for method in ("POST", "GET", "PUT", "DELETE"):
            self.rest_route(app, method, rest_prefix + LISTEN_KEY_PATH, self._listen_key)
        self.rest_route(app, "GET", rest_prefix + "/api/v3/account", lambda r, lg: lg.rest_account())
        self.rest_route(app, "GET", rest_prefix + "/api/v3/openOrders", self._open_orders)
        self.rest_route(app, "GET", rest_prefix + "/api/v3/order", self._order)
        self.rest_route(app, "GET", rest_prefix + "/api/v3/allOrders", self._all_orders)
        self.rest_route(app, "GET", rest_prefix + "/api/v3/myTrades", self._my_trades)

    async def time_endpoint(self, request: web.Request) -> web.Response:
        """``GET /api/v3/time``: ``{"serverTime": ms}`` (the ``skew`` fault included)."""
        return web.json_response({"serverTime": self.now_ms()})

    def rest_route(self, app: web.Application, method: str, path: str, serve: Callable) -> None:
        async def handle(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            refused, uid = self.check_rest_auth(request, body)
            if refused is not None:
                return refused
            answer = serve(request, self.ledger(uid))
            if not isinstance(answer, web.StreamResponse):
                answer = web.Response(body=_encode(answer), content_type="application/json")
            count, seconds = self.slow_rest
            if count > 0:  # read now, answered late (the slow_rest switch)
                self.slow_rest = (count - 1, seconds)
                await asyncio.sleep(seconds)
            return answer

        app.router.add_route(method, path, handle)

    @staticmethod
    def _symbol(request: web.Request) -> str | web.Response:
        symbol = request.query.get("symbol", "")
        return symbol if symbol else _error(400, 700004, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")

    def _open_orders(self, request: web.Request, ledger: MexcSpotLedger) -> Any:
        """``symbol`` optional (every symbol's orders), unless the ``require_symbol`` fault is on."""
        if not request.query.get("symbol") and not self.require_symbol:
            return ledger.rest_open_orders()
        symbol = self._symbol(request)
        return symbol if isinstance(symbol, web.Response) else ledger.rest_open_orders(symbol)

    def _all_orders(self, request: web.Request, ledger: MexcSpotLedger) -> Any:
        """``symbol`` required; ``startTime``/``endTime`` (default: the latest 24 h; never more
        than the latest 7 days back), ``limit`` (default 500, at most 1000)."""
        symbol = self._symbol(request)
        if isinstance(symbol, web.Response):
            return symbol
        q = request.query
        now = self.now_ms()
        end = int(q["endTime"]) if "endTime" in q else now
        start = int(q["startTime"]) if "startTime" in q else end - DAY_MS
        limit = max(1, min(1000, int(q.get("limit", "500"))))
        return ledger.rest_all_orders(symbol, max(start, now - 7 * DAY_MS), end, limit)

    def _order(self, request: web.Request, ledger: MexcSpotLedger) -> Any:
        symbol = self._symbol(request)
        if isinstance(symbol, web.Response):
            return symbol
        found = ledger.rest_order(symbol, request.query.get("orderId", ""))
        return found if found is not None else _error(400, -2013, "Order does not exist.")

    def _my_trades(self, request: web.Request, ledger: MexcSpotLedger) -> Any:
        symbol = self._symbol(request)
        if isinstance(symbol, web.Response):
            return symbol
        q = request.query
        start = int(q["startTime"]) if "startTime" in q else None
        end = int(q["endTime"]) if "endTime" in q else None
        return ledger.rest_my_trades(symbol, start, end, max(1, min(100, int(q.get("limit", "100")))), q.get("orderId", ""))

    # -- listenKeys (§3.1) -----------------------------------------------------------------------
    def _valid_key(self, key: str) -> ListenKey | None:
        found = self.keys.get(key)
        if found is not None and found.expires_ms <= self.now_ms():
            self._expire(key)
            return None
        return found

    def _listen_key(self, request: web.Request, ledger: MexcSpotLedger) -> Any:
        method = request.method
        self.key_calls[method] += 1
        uid = ledger.uid
        mine = [k for k in list(self.keys) if self._valid_key(k) is not None and self.keys[k].uid == uid]
        if method == "GET":
            return {"listenKey": mine}
        if method == "POST":
            if len(mine) >= MAX_KEYS:
                return _error(400, "730707", "listen key count exceeds the limit")
            key = secrets.token_hex(32)
            self.keys[key] = ListenKey(uid, self.now_ms() + int(self.validity_s * 1000))
            self.issued.append(key)
            return {"listenKey": key}
        key = request.query.get("listenKey", "")
        found = self._valid_key(key)
        if method == "DELETE":
            if found is None or found.uid != uid:
                return _error(400, "730708", "listen key information error")
            self._expire(key)
            return {"listenKey": key}
        # PUT
        if self.put_failures > 0:
            self.put_failures -= 1
            return _error(500, 500, "simulated failure")
        count, code = self.put_refusals
        if count > 0:
            self.put_refusals = (count - 1, code)
            return _error(401 if code == "10072" else 400, code, "listen key information error" if code == "730708" else "Api key info invalid")
        now = self.now_ms()
        if found is None or found.uid != uid or (found.last_put_ms is not None and now - found.last_put_ms < self.put_floor_s * 1000):
            return _error(400, "730708", "listen key information error")
        found.last_put_ms = now
        found.expires_ms = now + int(self.validity_s * 1000)
        return {"listenKey": key}

    def _expire(self, key: str) -> None:
        """The key is gone: its sockets are closed."""
        self.keys.pop(key, None)
        for session in list(self.venue.sessions):
            if session.request.query.get("listenKey") == key and not session.ws.closed:
                asyncio.get_running_loop().create_task(session.ws.close(code=1000, message=b"listen key expired"))

    def sweep(self) -> None:
        """Expire the keys past their time (called by the venue about once a second)."""
        for key in list(self.keys):
            self._valid_key(key)

    # -- WebSocket (§3.3) ------------------------------------------------------------------------
    def admit(self, session: Session, channel: str) -> bool:
        """Whether a private ``channel`` may be subscribed on ``session`` (its URL's key valid,
        at most 5 sockets on it); records the account on the session."""
        key = session.request.query.get("listenKey", "")
        found = self._valid_key(key) if key else None
        if found is None or self.reject_auth or channel not in (ORDERS, DEALS, ACCOUNT):
            self.refused_subscriptions += 1
            return False
        users = sum(1 for s in self.venue.sessions if s is not session and not s.ws.closed and s.subs.get("uid") == {found.uid}
                    and s.request.query.get("listenKey") == key)
        if users >= MAX_CONNECTIONS_PER_KEY:
            self.refused_subscriptions += 1
            return False
        session.subs["uid"] = {found.uid}
        return True

    @staticmethod
    def subscribed(session: Session, channel: str, uid: str, target: str) -> bool:
        return uid in session.subs.get("uid", ()) and channel in session.subs.get("channels", ())

    async def push(self, uid: str, pushes: list) -> int:
        """Send each push (one wrapper per binary frame) to the sockets of ``uid`` holding its
        channel on a valid key; the ``drop_after`` switch aborts the venue's sockets part way.
        Returns frames sent."""
        sent = 0
        if self._drop_after is not None and self._drop_after <= 0:  # drop_after 0: before the first push
            self._drop_after = None
            for session in list(self.venue.sessions):
                session.abort()
            return 0  # none of the action's pushes goes out (the state changed: found on reconcile)
        for channel, symbol, fields in pushes:
            ms = self.now_ms()
            frame = _FRAMES[channel](symbol or None, ms, (fields.get("time") or ms) if channel == ACCOUNT else None, **fields)
            for session in list(self.venue.sessions):
                if self.subscribed(session, channel, uid, symbol) and self._valid_key(session.request.query.get("listenKey", "")):
                    await session.send(frame, binary=True)
                    sent += 1
            if self._drop_after is not None:
                self._drop_after -= 1
                if self._drop_after <= 0:
                    self._drop_after = None
                    for session in list(self.venue.sessions):
                        session.abort()
        self.frames_sent += sent
        return sent

    # -- control ---------------------------------------------------------------------------------
    async def act(self, action: str, uid: str = TEST_UID, drop_after: int | None = None, **params: Any) -> dict[str, Any]:
        if action == "lapse":
            keys = [params["key"]] if params.get("key") else [k for k, v in self.keys.items() if v.uid == uid]
            for key in keys:
                self._expire(key)
            return {"lapsed": len(keys)}
        if action == "fail_put":
            self.put_failures = int(params.get("count", 1))
            return {"fail_put": self.put_failures}
        if action == "refuse_put":
            self.put_refusals = (int(params.get("count", 1)), str(params.get("code", "730708")))
            return {"refuse_put": self.put_refusals[0]}
        if action == "validity":
            self.validity_s = float(params.get("seconds", 3600))
            return {"validity": self.validity_s}
        if action == "put_floor":
            self.put_floor_s = float(params.get("seconds", 0))
            return {"put_floor": self.put_floor_s}
        if action == "reject_auth":
            self.reject_auth = _on(params.get("on", True))
            return {"reject_auth": self.reject_auth}
        if action == "require_symbol":
            self.require_symbol = _on(params.get("on", True))
            return {"require_symbol": self.require_symbol}
        if action == "freeze":
            ledger = self.ledger(uid)
            ms = params.get("ms", "now")
            ledger.frozen_ms = self.now_ms() if ms == "now" else None if ms is None else int(ms)
            return {"frozen_ms": ledger.frozen_ms}
        return await super().act(action, uid=uid, drop_after=drop_after, **params)

    def run(self, ledger: MexcSpotLedger, action: str, params: dict[str, Any]) -> tuple[dict[str, Any], list]:
        if action == "deposit":
            return {}, ledger.deposit(params["currency"], params["amount"])
        if action == "place":
            order, pushes = ledger.place(params["symbol"], params["side"], params["quantity"], params["price"],
                                         params.get("order_type", "LIMIT"), params.get("client_id", ""))
            return {"order_id": order.id}, pushes
        if action == "fill":
            return {}, ledger.fill(params["order_id"], params.get("quantity"), _on(params.get("maker", True)))
        if action == "cancel":
            return {}, ledger.cancel(params["order_id"])
        order, pushes = ledger.market_buy(params["symbol"], params["quote_amount"], params["price"], params.get("client_id", ""))
        return {"order_id": order.id}, pushes
