"""The simulated Gate USDT-perpetual account: a small ledger of orders, own trades, positions in
single and dual mode and the USDT balance, driven by control calls, producing the pushes of
gateio-protocol.md §9 and the REST bodies of the account endpoints. Like the spot ledger it is
the oracle: values are ``Decimal`` computed here and written the venue's way, never through the
client's decoders.

Wire types follow the 2026 docs with ``X-Gate-Size-Decimal: 1``: sizes are decimal strings
(JSON integers truncated toward zero without the header, §5.2); order and trade prices strings;
fees, rates, position prices, margin and pnl JSON numbers (``balance`` too), written from the
Decimal's own digits. Order ids are integers above 2**55 (``id_string`` beside them).

Rules: an order's ``size`` is signed contracts (> 0 buy); it belongs to one position key,
``mode`` ``single`` (a fill past zero flips the side), ``dual_long`` or ``dual_short`` (a fill
never takes the position past zero). A fill of ``q`` contracts at ``p``: fee = q x p x
multiplier x ``fee_rate``; increasing a position moves its entry to the size-weighted average;
reducing it realises (p - entry) x q x multiplier (signed by side). The balance moves by pnl and
fee; a position of size 0 is pushed (size 0) and a ``futures.position_closes`` item follows.
``liquidate`` closes a position by a liquidation order (``finish_as`` ``liquidated``) with a
``futures.liquidates`` item; ``adl`` reduces one with a ``futures.auto_deleverages`` item;
``trigger_order`` creates a price-triggered order (``futures.autoorders``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any, Callable

import msgspec
from aiohttp import web

from .gateio_private import ALL, GatePrivateSim
from .gateio_spot_ledger import ZERO, LedgerError, Push, fmt
from .gateio_wire import Request
from .venue import Session

D = Decimal
ORDERS, TRADES, POSITIONS, BALANCES = "futures.orders", "futures.usertrades", "futures.positions", "futures.balances"
LIQUIDATES, ADL, CLOSES, AUTO = "futures.liquidates", "futures.auto_deleverages", "futures.position_closes", "futures.autoorders"
MODES = ("single", "dual_long", "dual_short")
# fields counting contracts, written per the session's size header
SIZE_FIELDS = ("size", "left", "iceberg", "trade_size", "position_size")

_numbers = msgspec.json.Encoder(decimal_format="number")


class Size(Decimal):
    """A contract count: a decimal string with the size header, else a truncated integer."""


def wire_sizes(value: Any, decimal_header: bool) -> Any:
    """``value`` with every :class:`Size` written for the header choice (recursively)."""
    if isinstance(value, Size):
        return fmt(value) if decimal_header else int(value.to_integral_value(rounding=ROUND_DOWN))
    if value.__class__ is dict:
        return {k: wire_sizes(v, decimal_header) for k, v in value.items()}
    if value.__class__ is list:
        return [wire_sizes(v, decimal_header) for v in value]
    return value


def seconds(ms: int) -> Decimal:
    return D(ms) / 1000


@dataclass(slots=True)
class FuturesOrder:
    id: int
    contract: str
    size: Decimal
    price: Decimal
    left: Decimal
    mode: str
    tif: str
    text: str
    reduce_only: bool
    create_ms: int
    update_ms: int
    update_id: int = 1
    status: str = "open"
    finish_as: str = ""
    fill_value: Decimal = ZERO
    finish_ms: int = 0

    def avg(self) -> Decimal:
        filled = abs(self.size - self.left)
        return (self.fill_value / filled).quantize(D("1e-8"), ROUND_DOWN) if filled else ZERO

    def wire(self, uid: str, rest: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id, "contract": self.contract, "price": fmt(self.price), "fill_price": fmt(self.avg()),
            "size": Size(self.size), "left": Size(self.left), "iceberg": Size(0), "tif": self.tif, "status": self.status,
            "finish_as": self.finish_as, "is_close": False, "is_liq": self.finish_as == "liquidated", "is_reduce_only": self.reduce_only,
            "mkfr": D("-0.00025"), "tkfr": D("0.0005"), "refu": 0, "refr": 0, "text": self.text, "stp_id": "0", "stp_act": "-",
            "amend_text": "-", "biz_info": "-", "stop_profit_price": "", "stop_loss_price": "",
        }
        if rest:
            body.update(create_time=seconds(self.create_ms), finish_time=seconds(self.finish_ms) if self.finish_ms else 0)
        else:
            body.update(id_string=str(self.id), user=uid, create_time=self.create_ms // 1000, create_time_ms=self.create_ms,
                        finish_time=self.finish_ms // 1000, finish_time_ms=self.finish_ms, update_id=self.update_id, update_time=self.update_ms)
        return body


@dataclass(slots=True)
class FuturesPosition:
    contract: str
    mode: str
    size: Decimal = ZERO
    entry: Decimal = ZERO
    realised: Decimal = ZERO
    update_id: int = 0

    def wire(self, uid: str, ms: int, multiplier: Decimal, rest: bool = False) -> dict[str, Any]:
        margin = abs(self.size) * self.entry * multiplier / 10
        if rest:
            return {"user": int(uid), "contract": self.contract, "size": Size(self.size), "leverage": "10", "entry_price": fmt(self.entry),
                    "mark_price": fmt(self.entry), "margin": fmt(margin), "realised_pnl": fmt(self.realised), "unrealised_pnl": "0",
                    "mode": self.mode, "update_id": self.update_id, "update_time": ms // 1000}
        return {"contract": self.contract, "cross_leverage_limit": 0, "entry_price": self.entry, "history_pnl": self.realised,
                "history_point": 0, "last_close_pnl": ZERO, "leverage": 10, "leverage_max": 100, "liq_price": ZERO,
                "maintenance_rate": D("0.005"), "margin": margin, "mode": self.mode, "realised_pnl": self.realised, "realised_point": 0,
                "risk_limit": 100, "size": Size(self.size), "time": ms // 1000, "time_ms": ms, "user": uid, "update_id": self.update_id}


@dataclass(slots=True)
class FuturesTrade:
    id: int
    order_id: int
    contract: str
    size: Decimal
    price: Decimal
    role: str
    fee: Decimal
    text: str
    ms: int

    def wire(self, rest: bool = False) -> dict[str, Any]:
        if rest:
            return {"id": self.id, "create_time": seconds(self.ms), "contract": self.contract, "order_id": str(self.order_id),
                    "size": Size(self.size), "close_size": 0, "price": fmt(self.price), "role": self.role, "text": self.text,
                    "fee": fmt(self.fee), "point_fee": "0"}
        return {"id": str(self.id), "create_time": self.ms // 1000, "create_time_ms": self.ms, "contract": self.contract,
                "order_id": str(self.order_id), "size": Size(self.size), "price": fmt(self.price), "role": self.role, "text": self.text,
                "fee": self.fee, "point_fee": 0}


class FuturesLedger:
    """One user's USDT-perpetual account; ``multipliers`` contract -> base per contract."""

    def __init__(self, uid: str, now_ms: Callable[[], int], multipliers: dict[str, Decimal], fee_rate: Decimal = D("0.0005")) -> None:
        self.uid = uid
        self.now_ms = now_ms
        self.multipliers = multipliers
        self.fee_rate = fee_rate
        self.balance = ZERO
        self.orders: dict[int, FuturesOrder] = {}
        self.positions: dict[tuple[str, str], FuturesPosition] = {}
        self.trades: list[FuturesTrade] = []
        self._order_seq = 2**55 + 7000
        self._trade_seq = 3_000_000_000
        self._position_seq = 0
        self._auto_seq = 9000

    # -- pushes ----------------------------------------------------------------------------------
    def _balance_push(self, change: Decimal, kind: str, text: str, ms: int) -> Push:
        return (BALANCES, "", {"balance": self.balance, "change": change, "text": text, "time": ms // 1000, "time_ms": ms, "type": kind,
                               "user": self.uid, "currency": "usdt"})

    def _position_push(self, pos: FuturesPosition, ms: int) -> Push:
        self._position_seq += 1
        pos.update_id = self._position_seq
        return (POSITIONS, pos.contract, pos.wire(self.uid, ms, self.multipliers[pos.contract]))

    def _order_push(self, order: FuturesOrder) -> Push:
        return (ORDERS, order.contract, order.wire(self.uid))

    def _order(self, order_id: Any) -> FuturesOrder:
        order = self.orders.get(int(order_id))
        if order is None:
            raise LedgerError(f"unknown order {order_id}")
        return order

    # -- actions ---------------------------------------------------------------------------------
    def deposit(self, amount: Decimal | str) -> list[Push]:
        amount = D(amount)
        self.balance += amount
        return [self._balance_push(amount, "dnw", "", self.now_ms())]

    def place(self, contract: str, size: Decimal | str, price: Decimal | str, mode: str = "single", reduce_only: bool = False,
              text: str = "", tif: str = "gtc") -> tuple[FuturesOrder, list[Push]]:
        size, price = D(size), D(price)
        if contract not in self.multipliers or size == 0 or mode not in MODES:
            raise LedgerError(f"invalid order {contract} {size} {mode}")
        ms = self.now_ms()
        self._order_seq += 1
        order = FuturesOrder(self._order_seq, contract, size, price, size, mode, tif, text or f"t-{self._order_seq}", reduce_only, ms, ms)
        self.orders[order.id] = order
        return order, [self._order_push(order)]

    def fill(self, order_id: Any, size: Decimal | str | None = None, price: Decimal | str | None = None, role: str = "maker",
             finish_as: str = "filled") -> list[Push]:
        order = self._order(order_id)
        if order.status != "open":
            raise LedgerError(f"order {order_id} is {order.status}")
        qty = abs(order.left) if size is None else D(size)
        if not ZERO < qty <= abs(order.left):
            raise LedgerError(f"fill {qty} outside (0, {abs(order.left)}]")
        signed = qty if order.size > 0 else -qty
        price = order.price if price is None else D(price)
        key = (order.contract, order.mode)
        pos = self.positions.get(key) or FuturesPosition(order.contract, order.mode)
        if order.mode != "single" and (pos.size + signed) * (1 if order.mode == "dual_long" else -1) < 0:
            raise LedgerError(f"a {order.mode} position cannot go past zero")
        mult = self.multipliers[order.contract]
        ms = self.now_ms()
        fee = qty * price * mult * self.fee_rate
        pnl = ZERO
        if pos.size == 0 or (pos.size > 0) == (signed > 0):
            pos.entry = (abs(pos.size) * pos.entry + qty * price) / (abs(pos.size) + qty)
        else:
            closed = min(qty, abs(pos.size))
            pnl = closed * (price - pos.entry) * mult * (1 if pos.size > 0 else -1)
            if qty > abs(pos.size):
                pos.entry = price  # flipped past zero (single mode): the rest opens the other side
        was_open = pos.size != 0
        pos.size += signed
        if pos.size == 0:
            pos.entry = ZERO
        pos.realised += pnl - fee
        self.positions[key] = pos
        self._trade_seq += 1
        trade = FuturesTrade(self._trade_seq, order.id, order.contract, signed, price, role, fee, order.text, ms)
        self.trades.append(trade)
        order.left -= signed
        order.fill_value += qty * price
        order.update_ms = ms
        order.update_id += 1
        if order.left == 0:
            order.status, order.finish_as, order.finish_ms = "finished", finish_as, ms
        pushes: list[Push] = [(TRADES, order.contract, trade.wire()), self._order_push(order), self._position_push(pos, ms)]
        text = f"{order.contract}:{order.id}"
        if pnl:
            self.balance += pnl
            pushes.append(self._balance_push(pnl, "pnl", text, ms))
        self.balance -= fee
        pushes.append(self._balance_push(-fee, "fee", text, ms))
        if was_open and pos.size == 0:
            side = "long" if signed < 0 else "short"
            pushes.append((CLOSES, order.contract, {"contract": order.contract, "pnl": pnl, "side": side, "text": order.text,
                                                    "time": ms // 1000, "time_ms": ms, "user": self.uid}))
            del self.positions[key]
        return pushes

    def cancel(self, order_id: Any) -> list[Push]:
        order = self._order(order_id)
        if order.status != "open":
            raise LedgerError(f"order {order_id} is {order.status}")
        ms = self.now_ms()
        order.status, order.finish_as, order.finish_ms, order.update_ms = "finished", "cancelled", ms, ms
        order.update_id += 1
        return [self._order_push(order)]

    def liquidate(self, contract: str, price: Decimal | str, mode: str = "single") -> list[Push]:
        pos = self.positions.get((contract, mode))
        if pos is None:
            raise LedgerError(f"no {mode} position in {contract}")
        size, entry = pos.size, pos.entry
        order, pushes = self.place(contract, -size, price, mode, True, "liquidation", "ioc")
        pushes += self.fill(order.id, role="taker", finish_as="liquidated")
        ms = self.now_ms()
        pushes.insert(0, (LIQUIDATES, contract, {"entry_price": entry, "fill_price": D(price), "left": Size(0), "leverage": D(10),
                                                  "liq_price": D(price), "margin": ZERO, "mark_price": D(price), "order_id": order.id,
                                                  "order_price": D(price), "size": Size(size), "order_size": Size(-size), "time": ms // 1000,
                                                  "time_ms": ms, "contract": contract, "user": self.uid}))
        return pushes

    def adl(self, contract: str, size: Decimal | str, price: Decimal | str, mode: str = "single") -> list[Push]:
        pos = self.positions.get((contract, mode))
        if pos is None or not ZERO < D(size) <= abs(pos.size):
            raise LedgerError(f"cannot deleverage {size} of {contract} {mode}")
        before = pos.size
        signed = -D(size) if pos.size > 0 else D(size)
        order, pushes = self.place(contract, signed, price, mode, True, "adl", "ioc")
        pushes += self.fill(order.id, role="taker", finish_as="auto_deleveraged")
        ms = self.now_ms()
        pushes.insert(0, (ADL, contract, {"entry_price": self.positions[(contract, mode)].entry if (contract, mode) in self.positions else ZERO,
                                           "fill_price": D(price), "position_size": Size(before + signed), "trade_size": Size(signed),
                                           "time": ms // 1000, "time_ms": ms, "user": self.uid, "contract": contract}))
        return pushes

    def trigger_order(self, contract: str, size: Decimal | str, trigger_price: Decimal | str, status: str = "open") -> list[Push]:
        self._auto_seq += 1
        ms = self.now_ms()
        return [(AUTO, contract, {"user": int(self.uid), "trigger": {"strategy_type": 0, "price_type": 0, "price": fmt(D(trigger_price)), "rule": 2,
                                                                      "expiration": 86400},
                                  "initial": {"contract": contract, "size": Size(D(size)), "price": "0", "tif": "ioc", "text": "api", "iceberg": Size(0),
                                              "is_close": False, "is_reduce_only": False, "auto_size": ""},
                                  "id": self._auto_seq, "trade_id": 0, "status": status, "reason": "", "create_time": ms // 1000,
                                  "name": "price_autoorders", "is_stop_order": False,
                                  "stop_trigger": {"rule": 0, "trigger_price": "", "order_price": ""},
                                  "order_type": "", "me_order_id": "0"})]

    # -- the oracle --------------------------------------------------------------------------------
    def open_order_ids(self) -> set[str]:
        return {str(o.id) for o in self.orders.values() if o.status == "open"}


class FuturesPrivateSim(GatePrivateSim):
    """Gate USDT perpetuals: payloads ``[uid, contract | "!all"]`` (balances ``[uid]``; positions
    take any first item, a placeholder in the 2026 docs; trigger orders ``[contract]`` or
    ``[uid, contract]``), at most 2 items (§4.2); REST ``/futures/usdt/accounts``,
    ``/positions``, ``/orders``, ``/orders/{id}``, ``/my_trades``, sizes per the request's
    size header."""

    ACTIONS = ("deposit", "place", "fill", "cancel", "liquidate", "adl", "trigger_order")

    def __init__(self, venue: Any) -> None:
        self.ledger_class = lambda uid, now_ms: FuturesLedger(uid, now_ms, {n: D(c.multiplier) for n, c in venue.contracts().items()})
        super().__init__(venue)

    def keys(self, req: Request, uid: str) -> list[str]:
        payload = [str(p) for p in req.payload or []]
        if len(payload) > 2:
            raise ValueError(f"need 1 or 2 param and here is {len(payload)}")
        if req.channel == AUTO:
            target = payload[-1] if payload else ""
        else:
            if not payload or (payload[0] != uid and req.channel != POSITIONS):
                raise ValueError("invalid argument: the first item must be the user id")
            if req.channel == BALANCES:
                return [""]
            target = payload[1] if len(payload) == 2 else ""
        if target != ALL and target not in self.venue.contracts():
            raise ValueError(f"unknown contract {target}")
        return [target]

    def frame_variant(self, session: Session) -> Any:
        return session.request.headers.get("X-Gate-Size-Decimal", "") == "1"

    def frame(self, channel: str, item: dict, variant: Any, ms: int) -> bytes:
        return _numbers.encode({"time": ms // 1000, "time_ms": ms, "channel": channel, "event": "update", "result": [wire_sizes(item, variant)]})

    def _reply(self, request: web.Request, body: Any) -> web.Response:
        header = request.headers.get("X-Gate-Size-Decimal", "") == "1"
        return web.Response(body=_numbers.encode(wire_sizes(body, header)), content_type="application/json")

    def install(self, app: web.Application, rest_prefix: str) -> None:
        super().install(app, rest_prefix)
        base = rest_prefix + "/futures/usdt"
        self.rest_route(app, "GET", base + "/accounts", lambda r, lg: self._reply(r, {
            "total": fmt(lg.balance), "unrealised_pnl": "0", "position_margin": "0", "order_margin": "0", "available": fmt(lg.balance),
            "point": "0", "currency": "USDT", "in_dual_mode": False, "enable_credit": False}))
        self.rest_route(app, "GET", base + "/positions", lambda r, lg: self._reply(r, [
            p.wire(lg.uid, self.now_ms(), lg.multipliers[p.contract], rest=True) for p in lg.positions.values() if p.size != 0]))
        self.rest_route(app, "GET", base + "/orders", self._orders)
        self.rest_route(app, "GET", base + "/orders/{order_id}", self._order)
        self.rest_route(app, "GET", base + "/my_trades", lambda r, lg: self._reply(r, [
            t.wire(rest=True) for t in list(reversed(lg.trades))[int(r.query.get("offset", "0")):][: min(1000, int(r.query.get("limit", "100")))]]))

    def _orders(self, request: web.Request, ledger: FuturesLedger) -> web.Response:
        """``status`` ``open`` (oldest first) or ``finished`` (newest first), of ``contract`` when given."""
        status, contract = request.query.get("status", "open"), request.query.get("contract", "")
        orders = ledger.orders.values() if status == "open" else sorted(ledger.orders.values(), key=lambda o: (o.finish_ms, o.id), reverse=True)
        found = [o.wire(ledger.uid, rest=True) for o in orders if o.status == status and (not contract or o.contract == contract)]
        offset, limit = int(request.query.get("offset", "0")), min(100, int(request.query.get("limit", "100")))
        return self._reply(request, found[offset: offset + limit])

    def _order(self, request: web.Request, ledger: FuturesLedger) -> web.Response:
        order = ledger.orders.get(int(request.match_info["order_id"]))
        if order is None:
            return web.json_response({"label": "ORDER_NOT_FOUND", "message": "Order not found"}, status=404)
        return self._reply(request, order.wire(ledger.uid, rest=True))

    def run(self, ledger: FuturesLedger, action: str, params: dict[str, Any]) -> tuple[dict[str, Any], list]:
        if action == "deposit":
            return {}, ledger.deposit(params["amount"])
        if action == "place":
            order, pushes = ledger.place(params["contract"], params["size"], params["price"], params.get("mode", "single"),
                                         bool(params.get("reduce_only", False)), params.get("text", ""))
            return {"order_id": str(order.id)}, pushes
        if action == "fill":
            return {}, ledger.fill(params["order_id"], params.get("size"), params.get("price"), params.get("role", "maker"))
        if action == "cancel":
            return {}, ledger.cancel(params["order_id"])
        if action == "liquidate":
            return {}, ledger.liquidate(params["contract"], params["price"], params.get("mode", "single"))
        if action == "adl":
            return {}, ledger.adl(params["contract"], params["size"], params["price"], params.get("mode", "single"))
        return {}, ledger.trigger_order(params["contract"], params["size"], params["trigger_price"], params.get("status", "open"))
