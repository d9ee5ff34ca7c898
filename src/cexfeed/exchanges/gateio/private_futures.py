"""Gate.io USDT perpetual private channels (gateio-protocol.md §9) and the REST account snapshot:
raw frame -> :class:`~cexfeed.models.Order`, :class:`~cexfeed.models.Fill`,
:class:`~cexfeed.models.Position`, :class:`~cexfeed.models.Balance`,
:class:`~cexfeed.models.AccountNotice` applied to the account state.

Quantities: the venue counts contracts (integers, or decimal strings under
``X-Gate-Size-Decimal: 1``, §5.2). Every event carries the contract count (``contracts``, signed
on positions) and the base-currency quantity = contracts x the contract's ``quanto_multiplier``
(exact Decimal); where the multiplier is unknown or the contract is inverse (multiplier ``"0"``,
one contract = 1 USD) the base quantity is ``None``, never the count passed off as base.

Order status (§9.1, no per-order event): ``status`` ``open`` -> ``open``/``partially_filled``;
``finished`` -> by ``finish_as`` (the table of
:data:`~cexfeed.exchanges.gateio.private_common.FINISH_AS`, EN and ZH values; ``unknown`` for
anything else); any other ``status`` -> ``unknown``. Balances are in the ``currency`` the item
names (upper case; an item with none is malformed, never taken for USDT): ``total`` = the venue's
balance after the change; ``available`` is not sent on the stream and stays ``None``. Positions
are keyed by (contract, mode), mode ``single``/``dual_long``/``dual_short`` (another one is
malformed); a size of 0 closes one. Contract names are upper-cased as spot pairs are (older API
versions send them lower case). Items breaking the value rules (``left`` of the other sign than
``size``, a contract count beyond :data:`cexfeed.wire.MAX_CONTRACTS`, a fraction of a contract
on a contract whose instrument trades whole contracts only: no ``enable_decimal: true`` in the
contract list, §5.2, §7.1) are malformed: counted ``malformed_item``, never applied (that one
holds for orders, fills, positions and the notices' counts alike).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Sequence

import msgspec

from ...account import AccountSnapshot, AccountState, position_side
from ...models import PERP, AccountNotice, Balance, Fill, Order, Position
from ...net.rest import RestClient, Signer
from ...symbols import SymbolMap
from ...wire import EXACT, MAX_MILLIS, MAX_SECONDS, AccountItem, CurrencyOrEmpty, UnsignedAmount, check_contracts, decode_amounts
from . import futures_table as t
from .contracts import MultiplierUnknown, futures_symbol_map, listed_multiplier
from .futures_table import (
    FuturesAdlPush,
    FuturesAutoOrderPush,
    FuturesBalancePush,
    FuturesLiquidatePush,
    FuturesOrderPush,
    FuturesPositionClosePush,
    FuturesPositionPush,
    FuturesUserTrade,
)
from .private_common import GateioPrivateHandler, client_id, ended, fields_in_order, futures_counts, futures_status, ms, ms2, order_id, positive



class GateioFuturesPrivateWebSocketHandler(GateioPrivateHandler):
    """Gate.io USDT perpetual account stream (see the module docstring). ``symbols``: a
    :class:`SymbolMap` from :func:`futures_symbol_map` (REST contracts), which gives each
    contract's multiplier; a contract it does not list keeps its base quantities ``None``
    (counted once as ``no_multiplier``)."""

    market = PERP
    TABLE = t.TABLE
    PONG = t.PONG
    SYSTEM = t.SYSTEM
    SETTLE = t.SETTLE

    def __init__(self, on_event=None, symbols: SymbolMap | None = None, state: AccountState | None = None, credentials=None) -> None:
        # (before the base: the compiled reader reads this cache too)
        self._multipliers: dict[str, Decimal | None] = {}
        self._whole: dict[str, bool] = {}
        super().__init__(on_event, symbols, state, credentials)

    def _default_symbols(self) -> SymbolMap:
        return futures_symbol_map()

    def multiplier(self, contract: str) -> Decimal | None:
        """Base currency per contract, exact; ``None`` for an unknown or inverse contract."""
        try:
            return self._multipliers[contract]
        except KeyError:
            pass
        try:
            # the multiplier's float came from the venue's decimal text: its repr gives it back
            value: Decimal | None = Decimal(repr(listed_multiplier(self.symbols, contract)))
        except MultiplierUnknown as exc:
            if not exc.inverse:  # (inverse: a contract is 1 USD, not an amount of the base currency)
                self._count_error("no_multiplier", contract, "contract not in the contract list, base quantities left out")
            value = None
        self._multipliers[contract] = value
        return value

    def whole_contracts(self, contract: str) -> bool:
        """Whether ``contract`` trades whole contracts only, by its instrument (§5.2, §7.1: a
        contract whose info has no ``enable_decimal: true``); False for a contract not listed."""
        try:
            return self._whole[contract]
        except KeyError:
            inst = self.symbols.instrument(contract)
            whole = self._whole[contract] = inst is not None and inst.whole_contracts
            return whole

    def _counts(self, contract: str, *counts: tuple[str, Decimal | None]) -> None:
        """Raise ``ValueError`` (the item is malformed) when a contract count of ``contract``
        has a fraction while its instrument trades whole contracts only
        (:func:`cexfeed.wire.check_contracts`)."""
        if self.whole_contracts(contract):
            for name, value in counts:
                check_contracts(name, value, True)

    def _base(self, contracts: Decimal | None, contract: str) -> Decimal | None:
        mult = self.multiplier(contract)
        return EXACT.multiply(contracts, mult) if mult is not None and contracts is not None else None

    # -- notices -----------------------------------------------------------------------------
    def liquidation(self, r: FuturesLiquidatePush, recv_ts: int) -> AccountNotice:
        return self._notice(r.contract, ms(r.time_ms, r.time), recv_ts, "liquidation", order_id=order_id(r.order_id) if r.order_id is not None else None,
                            price=positive(r.fill_price), contracts=r.size, detail=f"left {r.left}" if r.left is not None else "")

    def auto_deleverage(self, r: FuturesAdlPush, recv_ts: int) -> AccountNotice:
        return self._notice(r.contract, ms(r.time_ms, r.time), recv_ts, "auto_deleverage", price=positive(r.fill_price), contracts=r.trade_size,
                            detail=f"position {r.position_size}" if r.position_size is not None else "")

    def position_close(self, r: FuturesPositionClosePush, recv_ts: int) -> AccountNotice:
        return self._notice(r.contract, ms(r.time_ms, r.time), recv_ts, "position_close", side=r.side or None, pnl=r.pnl, detail=r.text)

    def trigger_order(self, r: FuturesAutoOrderPush, recv_ts: int) -> AccountNotice:
        initial = r.initial
        return self._notice(initial.contract, ms(r.finish_time, r.create_time), recv_ts, "trigger_order", order_id=order_id(r.id),
                            price=positive(initial.price) or positive(r.trigger.price), contracts=initial.size,
                            status=f"{r.status}/{r.finish_as}" if r.finish_as else r.status, detail=r.reason or r.order_type)

    def _notice(self, contract: str, exchange_ts: int | None, recv_ts: int, kind: str, contracts: Decimal | None = None, **fields) -> AccountNotice:
        contract = contract.upper()
        self._counts(contract, ("contracts", contracts))
        return AccountNotice(
            venue="gateio", market=PERP, symbol=self._unified(contract) if contract else "", venue_symbol=contract,
            exchange_ts=exchange_ts, recv_ts=recv_ts, kind=kind, contracts=contracts, size=self._base(contracts, contract) if contract else None,
            **fields,
        )

    # -- normalization (pushes and REST bodies) ----------------------------------------------
    def order(self, r: FuturesOrderPush, recv_ts: int) -> Order:
        contract = r.contract.upper()
        self._counts(contract, ("size", r.size), ("left", r.left))
        side, contracts, left, filled = futures_counts(r.size, r.left)
        status, raw_status = futures_status(r.status, r.finish_as, filled, left)
        updated = r.update_time
        if updated.__class__ is not int or not MAX_SECONDS <= updated < MAX_MILLIS:
            updated = ms(updated, r.finish_time_ms, r.finish_time)
        created = ms2(r.create_time_ms, r.create_time)
        mult = self.multiplier(contract)
        price = r.price
        avg = r.fill_price
        fee = r.fee
        text = r.text
        # positional, in Order's field order (checked in private_spot)
        return Order(
            "gateio", PERP, self._unified(contract), contract, updated or created, recv_ts,
            r.id_string or order_id(r.id), side, "limit" if price else "market", status, raw_status,
            price if price else None,
            EXACT.multiply(contracts, mult) if mult is not None else None,
            EXACT.multiply(filled, mult) if mult is not None and filled is not None else None,
            EXACT.multiply(left, mult) if mult is not None and left is not None else None,
            None, None, None,  # quote quantities
            contracts, filled, left, avg if avg else None, fee, self.SETTLE if fee is not None else None,
            text if text.startswith("t-") else None, r.tif or None, r.is_reduce_only, created, updated, r.update_id,
        )

    def fill(self, r: FuturesUserTrade, recv_ts: int) -> Fill:
        contract = r.contract.upper()
        size = r.size
        self._counts(contract, ("size", size))
        contracts = abs(size)
        fee = r.fee
        return Fill(
            "gateio", PERP, self._unified(contract), contract, ms2(r.create_time_ms, r.create_time), recv_ts,
            order_id(r.id), order_id(r.order_id), "buy" if size > 0 else "sell", r.price, self._base(contracts, contract), contracts,
            r.role or None, fee, self.SETTLE if fee is not None else None, client_id(r.text),
        )

    def position(self, r: FuturesPositionPush, recv_ts: int) -> Position:
        contract = r.contract.upper()
        mode = r.mode or "single"
        size = r.size
        self._counts(contract, ("size", size))
        entry = r.entry_price
        mark = r.mark_price
        liq = r.liq_price
        stamp = r.time_ms
        if stamp.__class__ is not int or not MAX_SECONDS <= stamp < MAX_MILLIS:
            stamp = ms(stamp, r.time, r.update_time)
        # positional, in Position's field order (checked below)
        return Position(
            "gateio", PERP, self._unified(contract), contract, stamp, recv_ts,
            mode, position_side(mode, size), size, self._base(size, contract),
            entry if entry else None, mark if mark else None, liq if liq else None,
            r.margin, r.leverage, r.realised_pnl, r.unrealised_pnl, r.update_id, size == 0,
        )

    def balance(self, r: FuturesBalancePush, recv_ts: int) -> Balance:
        return Balance(
            "gateio", PERP, "", "", ms2(r.time_ms, r.time), recv_ts,
            r.currency.upper(), r.balance, None, None, r.change, r.type,  # (required: never guessed)
        )

    # the channel methods (table rows' handlers) from the normalizers
    NORMALIZE = {
        "_on_orders": "order", "_on_usertrades": "fill", "_on_positions": "position", "_on_balances": "balance",
        "_on_liquidates": "liquidation", "_on_auto_deleverages": "auto_deleverage", "_on_position_closes": "position_close",
        "_on_autoorders": "trigger_order",
    }


fields_in_order(Position, "venue market symbol venue_symbol exchange_ts recv_ts mode side contracts size entry_price mark_price liq_price "
                          "margin leverage realised_pnl unrealised_pnl update_id closed")


# -- REST snapshot (signed APIv4) ----------------------------------------------------------------


class FuturesAccount(AccountItem):
    """``GET /futures/usdt/accounts``: ``total`` and ``available`` in ``currency`` (0 or above;
    a currency code by :func:`cexfeed.wire.currency`, ``""`` or absent: the settle currency)."""

    total: UnsignedAmount
    available: UnsignedAmount | None = None
    currency: CurrencyOrEmpty = ""


_account = msgspec.json.Decoder(FuturesAccount, strict=False)
_positions = msgspec.json.Decoder(list[FuturesPositionPush], strict=False)
_orders = msgspec.json.Decoder(list[FuturesOrderPush], strict=False)
_order = msgspec.json.Decoder(FuturesOrderPush, strict=False)
_trades = msgspec.json.Decoder(list[FuturesUserTrade], strict=False)
PAGE = 100
TRADES_PAGE = 1000


def futures_balance(body: bytes, recv_ts: int, settle: str = t.SETTLE) -> Balance:
    """The settle-currency balance of a ``/futures/usdt/accounts`` body (no time on REST)."""
    account = decode_amounts(body, _account, FuturesAccount)
    return Balance(venue="gateio", market=PERP, symbol="", venue_symbol="", exchange_ts=None, recv_ts=recv_ts,
                   currency=(account.currency or settle).upper(), total=account.total, available=account.available, change_type="snapshot")


async def fetch_futures_account(rest: RestClient, sign: Signer, handler: GateioFuturesPrivateWebSocketHandler, state: AccountState,
                                since_ms: int | None, taken_ts: int, recv_ts: int, contracts: Sequence[str] = ()) -> AccountSnapshot:
    """The futures :class:`AccountSnapshot`: the settle balance, open positions
    (``holding=true``), open orders (``status=open``, by ``offset``), and since ``since_ms``
    (none when ``None``): own trades (``my_trades`` newest first, by ``offset``, until older
    than it) and the orders that finished (``status=finished`` newest first, by ``offset``,
    until one finished before it; per contract of ``contracts``, or all at once when empty),
    so that an order placed and canceled while disconnected is reported; then the final state
    of orders that left the open set or that a missed trade names, where the history did not
    give it. Orders the state already holds finished are left out. Raises ``RestError`` or
    decode errors."""
    balance = futures_balance(await rest.get(t.ACCOUNTS_PATH, sign=sign), recv_ts)
    positions = [handler.position(r, recv_ts) for r in decode_amounts(await rest.get(t.POSITIONS_PATH, {"holding": "true"}, sign=sign),
                                                                      _positions, FuturesPositionPush)]
    positions = [p for p in positions if p.contracts != 0]
    open_orders: list[Order] = []
    offset = 0
    while True:
        body = await rest.get(t.ORDERS_PATH, {"status": "open", "limit": PAGE, "offset": offset}, sign=sign)
        batch = decode_amounts(body, _orders, FuturesOrderPush)
        open_orders.extend(handler.order(r, recv_ts) for r in batch)
        if len(batch) < PAGE:
            break
        offset += PAGE
    fills: list[Fill] = []
    if since_ms is not None:
        offset = 0
        while True:
            body = await rest.get(t.MY_TRADES_PATH, {"limit": TRADES_PAGE, "offset": offset}, sign=sign)
            batch = [handler.fill(r, recv_ts) for r in decode_amounts(body, _trades, FuturesUserTrade)]
            newer = [f for f in batch if f.exchange_ts is None or f.exchange_ts >= since_ms]
            fills.extend(newer)
            if len(batch) < TRADES_PAGE or len(newer) < len(batch):
                break
            offset += TRADES_PAGE
    finished: dict[str, Order] = {}
    if since_ms is not None:
        for contract in contracts or ("",):
            offset = 0
            while True:
                query = {"status": "finished", "limit": PAGE, "offset": offset}
                if contract:
                    query["contract"] = contract
                batch = [handler.order(r, recv_ts) for r in decode_amounts(await rest.get(t.ORDERS_PATH, query, sign=sign), _orders, FuturesOrderPush)]
                newer = [o for o in batch if o.updated_ts is None or o.updated_ts >= since_ms]
                for order in newer:
                    if not ended(state, order.order_id):
                        finished.setdefault(order.order_id, order)
                if len(batch) < PAGE or len(newer) < len(batch):
                    break
                offset += PAGE
    listed = {o.order_id for o in open_orders}
    wanted = [oid for oid in state.open_orders if oid not in listed]
    wanted += [f.order_id for f in fills if state.order(f.order_id) is None and f.order_id not in listed]
    for oid in dict.fromkeys(wanted):
        if oid not in finished:
            body = await rest.get(t.ORDER_PATH.format(order_id=oid), sign=sign)
            finished[oid] = handler.order(decode_amounts(body, _order, FuturesOrderPush), recv_ts)
    return AccountSnapshot(balances=[balance], balances_complete=False, open_orders=open_orders, orders=list(finished.values()),
                           positions=positions, fills=fills, taken_ts=taken_ts)


def replay_handler(instruments: bytes | None) -> GateioFuturesPrivateWebSocketHandler:
    """A futures private handler for capture replay (multipliers from a contracts body)."""
    return GateioFuturesPrivateWebSocketHandler(symbols=futures_symbol_map(instruments))
