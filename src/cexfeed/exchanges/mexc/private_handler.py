"""MEXC spot account streams (mexc-protocol.md §2.3 private bodies, §2.4 values, §3.3 session):
raw protobuf frame -> :class:`~cexfeed.models.Order` / :class:`~cexfeed.models.Fill` /
:class:`~cexfeed.models.Balance` applied to the shared account state.

| body | channel                          | event   |
|------|----------------------------------|---------|
| 304  | ``spot@private.orders.v3.api.pb``  | Order   |
| 306  | ``spot@private.deals.v3.api.pb``   | Fill    |
| 307  | ``spot@private.account.v3.api.pb`` | Balance |

Order status (``status``, §2.3): 1 new -> ``open`` (the venue does not tell accepted from
working), 3 partially filled -> ``partially_filled``, 2 filled -> ``filled``, 4 canceled and
5 partially filled then canceled -> ``canceled`` (with ``filled > 0`` after a partial fill);
``raw_status`` is the venue's name of the value (``NEW``, ``FILLED``, ``PARTIALLY_FILLED``,
``CANCELED``, ``PARTIALLY_CANCELED``, as its REST API spells them), or the number as text for
a value not in this table (status ``unknown``: the account state keeps the order's lifecycle).

Order type (``orderType``): 1 ``limit`` (time in force ``gtc``), 2 post only (``limit``,
``poc``), 3 ``limit`` ``ioc``, 4 ``limit`` ``fok``, 5 ``market``, 100 ``stop_limit``; another
value is ``unknown`` (counted ``unknown_order_type``). Side (``tradeType``): 1 ``buy``,
2 ``sell``, another value ``unknown`` with the code as text in ``raw_side`` (counted
``unknown_side``; the order's lifecycle is read as always).

Values: each by the kind its body field declares (:mod:`.private_decode`: an order's values
and a balance 0 or above, a fill's price and quantity above 0, fees and changes any sign) and
an order has a size (``quantity`` or ``amount`` above 0); a body with a value outside its rule
is malformed (counted, skipped, never applied), and so is an order whose ``remainQuantity`` or
``cumulativeQuantity`` is above its ``quantity``, or a non-market order without a quantity
(:func:`check_order_size`).

Quantities: ``amount``/``filled``/``left`` are the order's ``quantity``/``cumulativeQuantity``/
``remainQuantity`` (base currency); ``quote_amount``/``filled_quote``/``quote_left`` its
``amount``/``cumulativeAmount``/``remainAmount`` (quote currency). An order sized in the quote
currency (a market buy by amount: no quantity, an amount above 0) has ``amount`` and ``left``
``None``. ``price`` is ``None`` for a market order (the venue may send a protection price) and
when absent or 0; ``avg_price`` ``None`` while nothing is filled. The push carries no update
time: ``exchange_ts`` and ``updated_ts`` are the wrapper's ``sendTime``.

Fills: ``role`` ``maker`` when ``isMaker`` is set, else ``taker`` (proto3 leaves a false flag
out); ``fee`` in ``fee_currency``; ``exchange_ts`` the deal's ``time``. Balances: ``available``
= ``balanceAmount``, ``frozen`` = ``frozenAmount``, ``change``/``frozen_change`` their changes,
``change_type`` the venue's ``type``; currencies (``vcoinName``, ``feeCurrency``) are currency
codes by :func:`cexfeed.wire.currency`, upper case (``usdt`` and ``USDT`` are one balance): a
balance or a fill with one that is not (``00012``, ``U:DT``) is malformed, a fill without a
``feeCurrency`` has ``fee_currency`` ``None``; ``total`` = available + frozen, exact (the venue
sends no total; ``None`` when either is missing); ``exchange_ts`` the settlement ``time``.
"""

from __future__ import annotations

import time
from typing import Callable

import msgspec

from ...account import AccountState
from ...credentials import Credentials
from ...handlers import EventCallback, PrivateWebSocketHandler
from ...models import SPOT, Balance, Fill, Order, OrderStatus
from ...symbols import SymbolMap
from ...wire import EXACT, check_amounts, currency as currency_code, optional_currency
from .decode import classify_bad_frame, parse_wrapper, unknown_body_number
from . import private_decode
from .private_decode import AccountBody, DealBody, FusedRead, OrderBody, decode_private
from .replies import MexcReplies
from .rest import spot_symbol_map
from .spot_table import TABLE, ChannelBodies

S = OrderStatus
#: ``status`` -> (status, raw status); 1 is ``open``: MEXC does not tell accepted from working
ORDER_STATUS: dict[int, tuple[OrderStatus, str]] = {
    1: (S.OPEN, "NEW"),
    2: (S.FILLED, "FILLED"),
    3: (S.PARTIALLY_FILLED, "PARTIALLY_FILLED"),
    4: (S.CANCELED, "CANCELED"),
    5: (S.CANCELED, "PARTIALLY_CANCELED"),
}
#: the REST API's ``status`` names -> status (``/api/v3/openOrders``, ``/api/v3/order``)
REST_ORDER_STATUS: dict[str, OrderStatus] = {raw: status for status, raw in ORDER_STATUS.values()}
#: ``orderType`` -> (order type, time in force)
ORDER_TYPES: dict[int, tuple[str, str | None]] = {
    1: ("limit", "gtc"),
    2: ("limit", "poc"),
    3: ("limit", "ioc"),
    4: ("limit", "fok"),
    5: ("market", None),
    100: ("stop_limit", None),
}
#: the REST API's ``type`` names -> (order type, time in force)
REST_ORDER_TYPES: dict[str, tuple[str, str | None]] = {
    "LIMIT": ORDER_TYPES[1], "LIMIT_MAKER": ORDER_TYPES[2], "IMMEDIATE_OR_CANCEL": ORDER_TYPES[3], "FILL_OR_KILL": ORDER_TYPES[4],
    "MARKET": ORDER_TYPES[5],
}
#: ``tradeType`` -> side
SIDES: dict[int, str] = {1: "buy", 2: "sell"}
UNKNOWN = "unknown"
_UNKNOWN_TYPE = (UNKNOWN, None)
_MAKER, _TAKER = "maker", "taker"


class MexcPrivateWebSocketHandler(MexcReplies, PrivateWebSocketHandler):
    """MEXC spot account stream (see the module docstring): ``symbols`` maps ``MXUSDT`` to
    ``MX/USDT`` (default: split a known quote suffix), ``state`` the
    :class:`~cexfeed.account.AccountState` to keep, ``credentials`` (optional) and
    :attr:`masked` (e.g. the listenKey in use) are scrubbed from any venue message before it is
    reported.

    Paths: by default a binary frame goes through the compiled fused reader
    (``_privpb.read_private``: frame -> ``Order``/``Fill``/``Balance`` in one call, with this
    module's tables), straight to the account state; without the compiled module, for a frame
    the fused reader leaves aside (a replaced oneof body), or when ``decoder`` is given (a
    decoder of :mod:`~cexfeed.exchanges.mexc.private_decode`: upb, the pure-Python walker, the
    compiled walker), the frame takes the reference path: the typed seam, then :meth:`order`,
    :meth:`fill`, :meth:`balance`. Both give the same events and counts (tested).

    Text frames are the connection's replies (acks, ``PONG``, refusals,
    :class:`~cexfeed.exchanges.mexc.replies.MexcReplies`). A binary frame is handled only as the
    channel its wrapper names. Skipped frames are counted in ``stats.errors`` by kind:
    ``malformed`` (bad wire data, invalid UTF-8, a value outside the rules or its kind's rule,
    an order, fill or balance without its id or currency, a currency that is no code, an order
    without a size or with quantities above it, a fill without price or quantity), ``truncated``,
    ``wrong_type`` (no wrapper body), ``unknown_body`` (a body this stream does not read),
    ``unknown_channel``, ``channel_mismatch``; kept but notable: ``unknown_side``,
    ``unknown_order_type``."""

    venue = "mexc"
    market = SPOT
    #: the venue channels this handler reads (capture replay routes their frames here)
    CHANNELS = frozenset(row.venue_channel for row in TABLE if row.private)

    def __init__(self, on_event: EventCallback | None = None, symbols: SymbolMap | None = None, state: AccountState | None = None,
                 credentials: Credentials | None = None, decoder: Callable | None = None) -> None:
        PrivateWebSocketHandler.__init__(self, on_event, state)
        self.symbols = symbols if symbols is not None else spot_symbol_map()
        self._unified = self.symbols.unified
        self._names: dict[str, str] = {}  # venue symbol -> unified, filled on first use
        self.credentials = credentials
        #: more secrets to remove from venue messages (the session puts its listenKey here)
        self.masked: tuple[str, ...] = ()
        self._decode = decoder if decoder is not None else decode_private
        # the compiled fused path (frame -> event in one call) when the default decoder is in use
        self._read = private_decode.read_private if decoder is None else None
        # body field number -> bound channel method, from the table's private rows
        self._table = {number: getattr(self, row.handler) for number, row in TABLE.by_result.items() if row.private}
        self._channel_bodies = ChannelBodies()
        apply = self._appliers
        self._apply_order, self._apply_fill, self._apply_balance = apply[Order], apply[Fill], apply[Balance]

    def unified(self, venue_symbol: str) -> str:
        name = self._names.get(venue_symbol)
        if name is None:
            name = self._names[venue_symbol] = self._unified(venue_symbol) if venue_symbol else ""
        return name

    def set_symbols(self, symbols: SymbolMap) -> None:
        self.symbols = symbols
        self._unified = symbols.unified
        self._names.clear()

    def _scrub(self, text: str) -> str:
        if self.credentials is not None:
            return self.credentials.scrub(text, *self.masked)
        for value in self.masked:
            if value and value in text:
                text = text.replace(value, "***")
        return text

    # -- routing ---------------------------------------------------------------------------------
    def _handle_message(self, raw: bytes | str, recv_ts: int | None = None) -> None:
        """Decode one frame, apply its event, publish what changed. Never raises."""
        self.stats.frames += 1
        if recv_ts is None:
            recv_ts = time.time_ns()
        try:
            read = self._read
            if read is None or raw.__class__ is str:
                self._dispatch(raw, recv_ts)
                return
            try:
                got = read(raw, recv_ts, self._names, self._unified, self._channel_bodies)
            except ValueError as exc:
                self._count_error(classify_bad_frame(bytes(raw)), raw, exc)
                return
            cls = got.__class__
            if cls is FusedRead:
                number, got, channel, unknown = got
                if got is None:
                    self._not_applied(number, channel, raw)
                    return
                self._count_unknown(unknown, got)
                cls = got.__class__
            elif got is None:  # a text reply, or a frame the fused path leaves to the reference path
                self._dispatch(raw, recv_ts)
                return
            if cls is Balance:  # the compiled reader leaves the sum to this one rule
                got.total = balance_total(got.available, got.frozen)
            if self._syncing:
                self._account_event(got)
                return
            only = self._only
            if only is not None and got.venue_symbol not in only and not self._admit(got):
                return  # a symbol not followed: counted, never applied (as _account_event)
            event = self._appliers[cls](got)
            if event is None:
                self._dropped()
                return
            # _emit, inline
            self.stats.events += 1
            self.seen[cls][event.venue_symbol] = recv_ts
            callback = self._on_event
            if callback is not None:
                try:
                    callback(event)
                except Exception as exc:
                    self._count_error("callback", b"", exc)
        except Exception as exc:  # the contract: count, log once, skip
            self._failed(raw, recv_ts, exc)

    def _not_applied(self, number: int, channel: str, raw: bytes) -> None:
        """A frame of the fused path that carries no event: another body, or a channel that is
        not its body's."""
        if number in self._table:
            self._count_error(self._channel_bodies.wrong(channel), raw, f"body field {number} on channel {channel[:60]!r}")
            return
        unknown_body_number(parse_wrapper(raw))  # still whole protobuf (the upb reading), else malformed
        self._count_error("wrong_type" if number == 0 else "unknown_body", raw, f"body field {number}")

    def _count_unknown(self, unknown: int, event) -> None:
        if unknown & 2:
            self._count_error("unknown_order_type", b"", f"orderType of order {event.order_id}")
        if unknown & 1:
            self._count_error("unknown_side", b"", "tradeType")

    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        """The reference path: the typed seam (:mod:`.private_decode`), then the normalizers."""
        if type(raw) is str or raw[:1] == b"{":
            self._on_text(raw, recv_ts)
            return
        try:
            number, symbol, ts, body, channel = self._decode(raw)
        except Exception as exc:  # DecodeError / ValueError
            self._count_error(classify_bad_frame(bytes(raw)), raw, exc)
            return
        handler = self._table.get(number)
        if handler is None:
            # a body this stream does not read: still whole protobuf (the upb reading), else malformed
            unknown_body_number(parse_wrapper(raw))
            self._count_error("wrong_type" if number == 0 else "unknown_body", raw, f"body field {number}")
            return
        if self._channel_bodies[channel] != number:
            self._count_error(self._channel_bodies.wrong(channel), raw, f"body field {number} on channel {channel[:60]!r}")
            return
        handler(symbol, ts, body, recv_ts)

    # -- channel methods (the table rows' handlers) --------------------------------------------------
    def _on_orders(self, symbol: str, ts: int | None, body: OrderBody, recv_ts: int) -> None:
        self._publish(self._apply_order, self.order(body, symbol, ts, recv_ts))

    def _on_deals(self, symbol: str, ts: int | None, body: DealBody, recv_ts: int) -> None:
        self._publish(self._apply_fill, self.fill(body, symbol, ts, recv_ts))

    def _on_account(self, symbol: str, ts: int | None, body: AccountBody, recv_ts: int) -> None:
        self._publish(self._apply_balance, self.balance(body, ts, recv_ts))

    def _publish(self, apply: Callable, event) -> None:
        """:meth:`_account_event` with the state's applier already chosen."""
        only = self._only
        if self._syncing or (only is not None and event.venue_symbol not in only):
            self._account_event(event)
            return
        result = apply(event)
        if result is not None:
            self._emit(result)
        else:
            self._dropped()

    # -- normalization (pushes; the compat twin shares it) ---------------------------------------------
    def order(self, b: OrderBody, symbol: str, ts: int | None, recv_ts: int) -> Order:
        """The :class:`Order` of a ``privateOrders`` body (see the module docstring). Raises
        ``ValueError`` for an order without an id or a size, or with a value outside its kind."""
        oid = b.order_id
        if not oid:
            raise ValueError("order without an id")
        check_amounts(b)
        quantity = b.quantity
        if not quantity and not b.amount:
            raise ValueError("order without a size (quantity or amount above 0)")
        check_order_size(b)
        found = ORDER_STATUS.get(b.status)
        status, raw_status = found if found is not None else (S.UNKNOWN, str(b.status))
        kind = ORDER_TYPES.get(b.order_type)
        if kind is None:
            kind = _UNKNOWN_TYPE
            self._count_error("unknown_order_type", b"", f"orderType {b.order_type}")
        side = SIDES.get(b.trade_type)
        raw_side = None
        if side is None:
            side, raw_side = UNKNOWN, str(b.trade_type)
            self._count_error("unknown_side", b"", f"tradeType {b.trade_type}")
        order_type, tif = kind
        by_quote = not quantity and b.amount
        price = b.price
        avg = b.avg_price
        client = b.client_id
        if ts is None:
            ts = b.create_ms
        # positional, in Order's field order (checked below, at import)
        return Order(
            "mexc", SPOT, self.unified(symbol), symbol, ts, recv_ts,
            oid, side, order_type, status, raw_status,
            price if price and order_type != "market" else None, None if by_quote else quantity, b.cumulative_quantity,
            None if by_quote else b.remain_quantity, b.amount, b.remain_amount, b.cumulative_amount,
            None, None, None,  # contracts
            avg if avg else None, None, None,  # fee: not on the order push
            client if client else None, tif, None, b.create_ms, ts, None, raw_side,
        )

    def fill(self, b: DealBody, symbol: str, ts: int | None, recv_ts: int) -> Fill:
        """The :class:`Fill` of a ``privateDeals`` body. Raises ``ValueError`` for a fill without
        trade id, order id, price or quantity, with a value outside its kind, or with a fee
        currency that is no currency code."""
        tid = b.trade_id
        oid = b.order_id
        price = b.price
        quantity = b.quantity
        if not tid or not oid or price is None or quantity is None:
            raise ValueError("fill without trade id, order id, price or quantity")
        check_amounts(b)
        fee_currency = optional_currency(b.fee_currency)  # before the side is counted: a malformed fill counts once
        side = SIDES.get(b.trade_type)
        raw_side = None
        if side is None:
            side, raw_side = UNKNOWN, str(b.trade_type)
            self._count_error("unknown_side", b"", f"tradeType {b.trade_type}")
        client = b.client_order_id
        return Fill(
            "mexc", SPOT, self.unified(symbol), symbol, b.time_ms or ts, recv_ts,
            tid, oid, side, price, quantity, None, _MAKER if b.is_maker else _TAKER, b.fee_amount,
            fee_currency, client if client else None, raw_side,
        )

    def balance(self, b: AccountBody, ts: int | None, recv_ts: int) -> Balance:
        """The :class:`Balance` of a ``privateAccount`` body. Raises ``ValueError`` for one
        without a currency, with one that is no currency code, or with a value outside its kind."""
        if not b.currency:
            raise ValueError("balance without a currency")
        currency = currency_code(b.currency)
        check_amounts(b)
        change_type = b.change_type
        return Balance(
            "mexc", SPOT, "", "", b.time_ms or ts, recv_ts,
            currency, balance_total(b.balance, b.frozen), b.balance, b.frozen, b.balance_change,
            change_type if change_type else None, b.frozen_change,
        )


def check_order_size(b: OrderBody) -> None:
    """Raise ``ValueError`` when an order's quantities contradict its size (as Gate spot refuses
    ``left`` above ``amount``): a base-sized order (``quantity`` above 0) with ``remainQuantity``
    or ``cumulativeQuantity`` above its ``quantity``; an order without a quantity whose type is
    known and not market (only a market order may be sized in the quote currency, §2.3)."""
    quantity = b.quantity
    if quantity:
        remain = b.remain_quantity
        done = b.cumulative_quantity
        if (remain is not None and remain > quantity) or (done is not None and done > quantity):
            raise ValueError("order quantities above its size (remainQuantity or cumulativeQuantity above quantity)")
        return
    kind = ORDER_TYPES.get(b.order_type)
    if kind is not None and kind[0] != "market":
        raise ValueError("non-market order without a quantity")


def balance_total(available, frozen):
    """``total`` of a MEXC balance: available (push ``balanceAmount`` / REST ``free``) + frozen
    (``frozenAmount`` / ``locked``), exact (``Decimal``, the amounts' context: never rounded);
    ``None`` when either is not sent. MEXC states no total of its own (§2.3, REST account)."""
    if available is None or frozen is None:
        return None
    return EXACT.add(available, frozen)


def _check_fields(cls: type, names: str) -> None:
    # the normalizers build events positionally: fail at import when a model's fields drift
    found = tuple(f.name for f in msgspec.structs.fields(cls))
    if found != tuple(names.split()):
        raise TypeError(f"{cls.__name__} fields changed: {found}")


_check_fields(Order, "venue market symbol venue_symbol exchange_ts recv_ts order_id side order_type status raw_status price amount "
                     "filled left quote_amount quote_left filled_quote contracts filled_contracts left_contracts avg_price fee "
                     "fee_currency client_order_id time_in_force reduce_only created_ts updated_ts update_id raw_side")
_check_fields(Fill, "venue market symbol venue_symbol exchange_ts recv_ts trade_id order_id side price amount contracts role fee "
                    "fee_currency client_order_id raw_side")
_check_fields(Balance, "venue market symbol venue_symbol exchange_ts recv_ts currency total available frozen change change_type "
                       "frozen_change")


if private_decode.read_private is not None:
    private_decode._privpb.set_events(private_decode.FusedRead, Order, Fill, Balance, ORDER_STATUS, ORDER_TYPES, SIDES, S.UNKNOWN, "mexc",
                                      SPOT, UNKNOWN, _MAKER, _TAKER, "market")


def replay_handler(instruments: bytes | None) -> MexcPrivateWebSocketHandler:
    """A private handler for capture replay (symbols from an ``/api/v3/exchangeInfo`` body)."""
    return MexcPrivateWebSocketHandler(symbols=spot_symbol_map(instruments))
