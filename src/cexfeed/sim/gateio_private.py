"""The private half of the simulated Gate venues: authenticated subscriptions, pushes of the
account ledger, the signed REST account endpoints, a control API and fault switches
(gateio-protocol.md §4 auth, §8 spot private, §9 futures private).

Authentication is checked for real, with the venue's answers:

- WebSocket (§4.1): ``auth.SIGN`` must be hex HMAC-SHA512(secret, ``channel=<c>&event=<e>&
  time=<t>``) for the request's own ``time``, within 60 s of the venue clock. An unknown key
  -> code 4 ``{"label":"INVALID_KEY","message":"Invalid key provided"}``; a wrong signature ->
  code 2 ``http get status code err, status : 400, ... {"label":"INVALID_SIGNATURE",...}``;
  a stale time -> code 2 ``... {"label":"REQUEST_EXPIRED","message":"gap between request
  Timestamp and server time exceeds 60"}`` (the shapes of §2.4).
- REST (APIv4): headers ``KEY``/``Timestamp``/``SIGN`` over method, path, query, body hash and
  timestamp; refusals are HTTP 401 with ``{"label", "message"}``.

Test account: :data:`TEST_KEY` / :data:`TEST_SECRET` (uid :data:`TEST_UID`); more with
:meth:`GatePrivateSim.add_account`. Each uid has its own ledger (spot:
:class:`~cexfeed.sim.gateio_spot_ledger.SpotLedger`; futures:
:class:`~cexfeed.sim.gateio_futures_ledger.FuturesLedger`).

Control: ``await venue.private.act(action, **params)`` or ``POST /_sim/account/<venue>/<action>``
with a JSON object of parameters. Actions of the ledger (spot: ``deposit``, ``place``, ``fill``,
``cancel``, ``market_buy``; futures: see its ledger) take ``uid`` (default the test account) and
``drop_after`` (abort every connection of the venue after that many of the action's pushes went
out: a disconnect in the middle of a fill). Fault switches: ``reject_auth`` (``on``: every
key refused), ``skew`` (``seconds`` added to the venue clock), ``fail_rest`` (the next ``count``
private REST calls answer 500), ``slow_rest`` (the next ``count`` private REST answers are
read when asked and sent ``seconds`` later), ``echo_auth`` (``on``: auth refusals echo the auth data back, as
an old Gate server did).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any, Callable

from aiohttp import web

from .gateio_wire import Request, encode
from .venue import Session

TEST_KEY = "cexfeed-sim-key"
TEST_SECRET = "cexfeed-sim-secret"
TEST_UID = "10001"
ALL = "!all"


def _label(label: str, message: str) -> str:
    return json.dumps({"label": label, "message": message}, separators=(",", ":"))


class GatePrivateSim:
    """The private part of one simulated Gate venue (``venue``: the
    :class:`~cexfeed.sim.gateio_wire.GateioVenueSim`). Subclasses set ``ledger_class`` and
    serve their market's payloads (:meth:`keys`), REST bodies (:meth:`install`) and actions."""

    ledger_class: Any = None
    ACTIONS: tuple[str, ...] = ()

    def __init__(self, venue: Any) -> None:
        self.venue = venue
        self.accounts: dict[str, tuple[bytes, str]] = {}
        self.ledgers: dict[str, Any] = {}
        self.skew_s = 0
        self.reject_auth = False
        self.echo_auth = False
        self.rest_failures = 0
        self.slow_rest: tuple[int, float] = (0, 0.0)
        self.private_rest_calls = 0
        self.frames_sent = 0
        self._drop_after: int | None = None
        self.add_account(TEST_KEY, TEST_SECRET, TEST_UID)

    # -- accounts and clock ----------------------------------------------------------------------
    def add_account(self, key: str, secret: str, uid: str) -> None:
        self.accounts[key] = (secret.encode(), str(uid))

    def ledger(self, uid: str = TEST_UID) -> Any:
        ledger = self.ledgers.get(uid)
        if ledger is None:
            ledger = self.ledgers[uid] = self.ledger_class(uid, self.now_ms)
        return ledger

    def now_ms(self) -> int:
        """The venue clock (the real one plus the ``skew`` fault)."""
        return time.time_ns() // 1_000_000 + self.skew_s * 1000

    # -- WebSocket ---------------------------------------------------------------------------------
    def check_ws_auth(self, req: Request) -> tuple[dict[str, Any] | None, str]:
        """``(error, uid)`` of a private request: ``error`` ``None`` when the auth holds."""
        auth = req.auth or {}
        echo = f" auth data : {json.dumps(auth)}" if self.echo_auth else ""
        account = self.accounts.get(auth.get("KEY", ""))
        if auth.get("method") != "api_key" or account is None or self.reject_auth:
            return {"code": 4, "message": _label("INVALID_KEY", "Invalid key provided") + echo}, ""
        secret, uid = account
        if abs(req.time - self.now_ms() // 1000) > 60:
            body = _label("REQUEST_EXPIRED", "gap between request Timestamp and server time exceeds 60")
            return {"code": 2, "message": f"http get status code err, status : 400, body : {body}{echo}"}, uid
        text = f"channel={req.channel}&event={req.event}&time={req.time}".encode()
        expected = hmac.new(secret, text, hashlib.sha512).hexdigest()
        if not hmac.compare_digest(expected, auth.get("SIGN", "")):
            body = _label("INVALID_SIGNATURE", "Signature mismatch")
            return {"code": 2, "message": f"http get status code err, status : 400, body : {body}{echo}"}, uid
        return None, uid

    async def on_subscription(self, session: Session, req: Request) -> None:
        error, uid = self.check_ws_auth(req)
        if error is not None:
            await self.venue.ack(session, req, error)
            return
        try:
            targets = self.keys(req, uid)
        except ValueError as exc:
            await self.venue.ack(session, req, {"code": 2, "message": str(exc)})
            return
        await self.venue.hold(session, req, [(uid, target) for target in targets])

    def keys(self, req: Request, uid: str) -> list[str]:
        """What one subscription covers: pairs/contracts, ``!all``, or ``""`` (account-wide).
        Raises ``ValueError`` with the venue's message for a bad payload."""
        raise NotImplementedError

    @staticmethod
    def subscribed(session: Session, channel: str, uid: str, target: str) -> bool:
        held = session.subs.get(channel)
        return bool(held) and ((uid, target) in held or (uid, ALL) in held or (uid, "") in held)

    async def push(self, uid: str, pushes: list[tuple[str, str, dict]]) -> int:
        """Send each push (one item per frame) to the sessions of ``uid`` subscribed to it;
        the ``drop_after`` switch aborts the venue's connections part way. Returns frames sent."""
        sent = 0
        if self._drop_after is not None and self._drop_after <= 0:  # drop_after 0: before the first push
            self._drop_after = None
            for session in list(self.venue.sessions):
                session.abort()
            return 0  # none of the action's pushes goes out (the state changed: found on reconcile)
        for channel, target, item in pushes:
            ms = self.now_ms()
            frames: dict[Any, bytes] = {}
            for session in list(self.venue.sessions):
                if self.subscribed(session, channel, uid, target):
                    variant = self.frame_variant(session)
                    frame = frames.get(variant)
                    if frame is None:
                        frame = frames[variant] = self.frame(channel, item, variant, ms)
                    await session.send(frame)
                    sent += 1
            if self._drop_after is not None:
                self._drop_after -= 1
                if self._drop_after <= 0:
                    self._drop_after = None
                    for session in list(self.venue.sessions):
                        session.abort()
        self.frames_sent += sent
        return sent

    def frame_variant(self, session: Session) -> Any:
        """What makes one session's frames differ from another's (futures: the size header)."""
        return None

    def frame(self, channel: str, item: dict, variant: Any, ms: int) -> bytes:
        """One push frame of ``item``."""
        return encode({"time": ms // 1000, "time_ms": ms, "channel": channel, "event": "update", "result": [item]})

    # -- REST ------------------------------------------------------------------------------------
    def rest_route(self, app: web.Application, method: str, path: str, serve: Callable) -> None:
        """Serve a signed endpoint: ``serve(request, ledger)`` after the signature checks."""

        async def handle(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            refused, uid = self.check_rest_auth(request, body)
            if refused is not None:
                return refused
            answer = serve(request, self.ledger(uid))
            count, seconds = self.slow_rest
            if count > 0:  # read now, answered late: older than what is pushed meanwhile
                self.slow_rest = (count - 1, seconds)
                answer = answer if isinstance(answer, web.StreamResponse) else encode(answer)
                await asyncio.sleep(seconds)
            if isinstance(answer, web.StreamResponse):
                return answer
            if isinstance(answer, bytes):
                return web.Response(body=answer, content_type="application/json")
            return web.Response(body=encode(answer), content_type="application/json")

        app.router.add_route(method, path, handle)

    def check_rest_auth(self, request: web.Request, body: bytes) -> tuple[web.Response | None, str]:
        self.private_rest_calls += 1
        if self.rest_failures > 0:
            self.rest_failures -= 1
            return web.json_response({"label": "SERVER_ERROR", "message": "simulated failure"}, status=500), ""
        key, stamp, sign = (request.headers.get(h, "") for h in ("KEY", "Timestamp", "SIGN"))
        if not key or not stamp or not sign:
            return self._refuse("MISSING_REQUIRED_HEADER", "Missing required header: KEY, Timestamp or SIGN"), ""
        account = self.accounts.get(key)
        if account is None or self.reject_auth:
            return self._refuse("INVALID_KEY", "Invalid key provided"), ""
        secret, uid = account
        try:
            late = abs(int(stamp) - self.now_ms() // 1000) > 60
        except ValueError:
            late = True
        if late:
            return self._refuse("REQUEST_EXPIRED", "gap between request Timestamp and server time exceeds 60"), uid
        text = "\n".join((request.method, request.rel_url.raw_path, request.rel_url.raw_query_string,
                          hashlib.sha512(body).hexdigest(), stamp))
        if not hmac.compare_digest(hmac.new(secret, text.encode(), hashlib.sha512).hexdigest(), sign):
            return self._refuse("INVALID_SIGNATURE", "Signature mismatch"), uid
        return None, uid

    @staticmethod
    def _refuse(label: str, message: str) -> web.Response:
        return web.json_response({"label": label, "message": message}, status=401)

    def install(self, app: web.Application, rest_prefix: str) -> None:
        """Routes: the venue's signed endpoints (subclasses) and the control endpoint."""
        app.router.add_post(f"/_sim/account/{self.venue.name}/{{action}}", self._control_endpoint)

    async def time_endpoint(self, request: web.Request) -> web.Response:
        """``GET /spot/time``: the venue clock in ms (skew fault included)."""
        return web.json_response({"server_time": self.now_ms()})

    # -- control -----------------------------------------------------------------------------------
    async def act(self, action: str, uid: str = TEST_UID, drop_after: int | None = None, **params: Any) -> dict[str, Any]:
        """Run one ledger action or fault switch; returns what it made (``order_id`` ...).
        Raises ``ValueError`` (an unknown action, or one the venue would refuse)."""
        if action == "reject_auth":
            self.reject_auth = _on(params.get("on", True))
            return {"reject_auth": self.reject_auth}
        if action == "echo_auth":
            self.echo_auth = _on(params.get("on", True))
            return {"echo_auth": self.echo_auth}
        if action == "skew":
            self.skew_s = int(params.get("seconds", 0))
            return {"skew": self.skew_s}
        if action == "fail_rest":
            self.rest_failures = int(params.get("count", 1))
            return {"fail_rest": self.rest_failures}
        if action == "slow_rest":
            self.slow_rest = (int(params.get("count", 1)), float(params.get("seconds", 1.0)))
            return {"slow_rest": self.slow_rest[0]}
        if action not in self.ACTIONS:
            raise ValueError(f"unknown action {action!r}; known: {', '.join((*self.ACTIONS, 'reject_auth', 'echo_auth', 'skew', 'fail_rest', 'slow_rest'))}")
        result, pushes = self.run(self.ledger(uid), action, params)
        if drop_after is not None:
            self._drop_after = int(drop_after)
        result["frames"] = await self.push(uid, pushes)
        self._drop_after = None
        return result

    def run(self, ledger: Any, action: str, params: dict[str, Any]) -> tuple[dict[str, Any], list]:
        """Call one ledger action: ``(result, pushes)`` (subclasses)."""
        raise NotImplementedError

    async def _control_endpoint(self, request: web.Request) -> web.Response:
        try:
            params = await request.json() if request.can_read_body else {}
            result = await self.act(request.match_info["action"], **params)
        except (ValueError, TypeError, KeyError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(result)


def _on(value: Any) -> bool:
    return value in (True, 1, "1", "on", "true", "yes")


class SpotPrivateSim(GatePrivateSim):
    """Gate spot: payloads ``[pair, ...]`` or ``["!all"]`` (balances: none); REST
    ``/spot/time``, ``/spot/accounts``, ``/spot/open_orders``, ``/spot/orders`` (by status),
    ``/spot/orders/{id}``, ``/spot/my_trades``."""

    ACTIONS = ("deposit", "place", "fill", "cancel", "market_buy")

    def __init__(self, venue: Any) -> None:
        from .gateio_spot_ledger import SpotLedger

        self.ledger_class = SpotLedger
        super().__init__(venue)

    def keys(self, req: Request, uid: str) -> list[str]:
        payload = [str(p) for p in req.payload or []]
        if req.channel == "spot.balances":
            return [""]
        if not payload:
            raise ValueError("invalid argument: payload required")
        pairs = self.venue.pairs()
        for pair in payload:
            if pair != ALL and pair not in pairs:
                raise ValueError(f"unknown currency pair {pair}")
        return payload

    def install(self, app: web.Application, rest_prefix: str) -> None:
        super().install(app, rest_prefix)
        app.router.add_get(rest_prefix + "/spot/time", self.time_endpoint)
        self.rest_route(app, "GET", rest_prefix + "/spot/accounts", lambda r, lg: lg.rest_accounts())
        self.rest_route(app, "GET", rest_prefix + "/spot/open_orders",
                        lambda r, lg: lg.rest_open_orders(int(r.query.get("page", "1")), min(100, int(r.query.get("limit", "100")))))
        self.rest_route(app, "GET", rest_prefix + "/spot/orders", self._orders)
        self.rest_route(app, "GET", rest_prefix + "/spot/orders/{order_id}", self._order)
        self.rest_route(app, "GET", rest_prefix + "/spot/my_trades",
                        lambda r, lg: lg.rest_my_trades(int(r.query.get("from", "0")), int(r.query.get("page", "1")),
                                                        min(1000, int(r.query.get("limit", "100")))))

    @staticmethod
    def _orders(request: web.Request, ledger: Any) -> Any:
        """``GET /spot/orders?status=open|finished``: ``currency_pair`` required for open ones."""
        q = request.query
        status, pair = q.get("status", ""), q.get("currency_pair", "")
        if status not in ("open", "finished") or (status == "open" and not pair):
            return web.json_response({"label": "INVALID_PARAM_VALUE", "message": "Invalid status or missing currency_pair"}, status=400)
        return ledger.rest_orders(status, pair, int(q.get("from", "0")), int(q.get("page", "1")), min(100, int(q.get("limit", "100"))))

    @staticmethod
    def _order(request: web.Request, ledger: Any) -> Any:
        body = ledger.rest_order(request.match_info["order_id"])
        if body is None:
            return web.json_response({"label": "ORDER_NOT_FOUND", "message": "Order not found"}, status=404)
        return body

    def run(self, ledger: Any, action: str, params: dict[str, Any]) -> tuple[dict[str, Any], list]:
        if action == "deposit":
            return {}, ledger.deposit(params["currency"], params["amount"])
        if action == "place":
            order, pushes = ledger.place(params["pair"], params["side"], params["amount"], params["price"], params.get("text", ""))
            return {"order_id": order.id}, pushes
        if action == "fill":
            return {}, ledger.fill(params["order_id"], params.get("amount"), params.get("role", "maker"))
        if action == "cancel":
            return {}, ledger.cancel(params["order_id"])
        order, pushes = ledger.market_buy(params["pair"], params["quote_amount"], params["price"], params.get("text", ""))
        return {"order_id": order.id}, pushes
