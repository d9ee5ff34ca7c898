"""What the Gate spot and futures private handlers share (gateio-protocol.md §2, §4, §5):
the envelope and control frames of :class:`~cexfeed.exchanges.gateio.frames.GateioFrames`, the
one grammar of account values (a frame whose numbers a typed Decimal decode would read outside
the grammar goes through the strict converter), authentication refusals, venue times, and the
order-status rules both markets follow.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any, Callable

import msgspec

from ...account import AccountState
from ...credentials import Credentials
from ...handlers import EventCallback, PrivateWebSocketHandler
from ...models import OrderStatus
from ...symbols import SymbolMap
from ...wire import EXACT, MAX_MILLIS, MAX_SECONDS, amounts_plain, convert_amounts, to_ms, trade_side, untyped_amounts
from . import auth
from .frame_json import _last_wins, check_utf8
from .frames import GateioFrames
from .spot_table import REST_FINISHED

try:  # compiled reader of the hot account pushes; the msgspec path below is its twin
    from ._fastprivate import AccountReader
except ImportError:
    AccountReader = None

S = OrderStatus
_ZERO = Decimal(0)

# finish_as -> status of a finished order (spot §8.1, futures §9.1; both markets' lists, EN
# and ZH docs). ``ioc``/``fok`` remainders expire; a post-only order that would take, or one
# below the minimum, is rejected; a market order that ran out of book or counterparties is
# canceled when something filled and rejected when nothing did (see :func:`finished_status`).
FINISH_AS: dict[str, OrderStatus] = {
    "filled": S.FILLED,
    "cancelled": S.CANCELED,
    "canceled": S.CANCELED,
    "liquidate_cancelled": S.CANCELED,
    "stp": S.CANCELED,
    "reduce_only": S.CANCELED,
    "position_closed": S.CANCELED,
    "ioc": S.EXPIRED,
    "fok": S.EXPIRED,
    "poc": S.REJECTED,
    "small": S.REJECTED,
    "depth_not_enough": S.CANCELED,
    "trader_not_enough": S.CANCELED,
    # the order itself was the liquidation / deleveraging trade
    "liquidated": S.FILLED,
    "auto_deleveraged": S.FILLED,
}

# the members as module constants: the hot paths compare and return these (an attribute lookup on
# the Enum class costs more than the rest of a status decision)
_OPEN, _PARTIAL, _FILLED, _CANCELED, _REJECTED, _UNKNOWN = S.OPEN, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.REJECTED, S.UNKNOWN
# finish_as values whose status depends on what was executed
_IF_NOTHING_FILLED_REJECTED = frozenset({"depth_not_enough", "trader_not_enough"})
_IF_NOTHING_LEFT_FILLED = frozenset({"ioc", "fok", "liquidated", "auto_deleveraged"})


def finished_status(finish_as: str, filled_something: bool, nothing_left: bool) -> OrderStatus:
    """The status of a finished order from ``finish_as`` (authoritative: a market buy that
    finished ``filled`` is filled whatever dust is ``left``, pitfalls D.1 #22); ``unknown`` for
    a value not in :data:`FINISH_AS` (``-``, ``open``, anything new)."""
    status = FINISH_AS.get(finish_as)
    if status is None:
        return _UNKNOWN
    if finish_as in _IF_NOTHING_LEFT_FILLED:
        if nothing_left:
            return _FILLED
        # a liquidation/deleveraging order that did not execute in full: the rest was canceled
        return _CANCELED if status is _FILLED else status
    if finish_as in _IF_NOTHING_FILLED_REJECTED and not filled_something:
        return _REJECTED
    return status


def working_status(filled_something: bool) -> OrderStatus:
    return _PARTIAL if filled_something else _OPEN


# REST spot order status -> the finish_as it stands for when the body has none
_REST_FINISHED = REST_FINISHED


def spot_status(event: str, finish_as: str, filled_something: bool, left: Decimal | None) -> tuple[OrderStatus, str]:
    """``(status, raw status)`` of a spot order from its push ``event`` (or REST ``status``)
    and ``finish_as`` (§8.1): ``put``/``update`` (REST ``open``) working, ``finish`` (REST
    ``closed``/``cancelled``) by :func:`finished_status`, anything else ``unknown``."""
    if event == "finish" or event in _REST_FINISHED:
        status = finished_status(finish_as or _REST_FINISHED.get(event, ""), filled_something, left is not None and not left)
    elif event == "put" or event == "update" or event == "open":
        status = working_status(filled_something)
    else:
        status = _UNKNOWN
    return status, f"{event}/{finish_as}" if finish_as else event


def spot_quantities(order_type: str, side: str, amount: Decimal, left: Decimal | None, filled_amount: Decimal | None):
    """``(amount, left, quote_amount, quote_left, filled)`` of a spot order: a market buy's
    amount and left are quote currency (base ``filled`` only when the venue sends
    ``filled_amount``); any other order's are base, ``filled`` = ``filled_amount`` else
    ``amount - left``."""
    if order_type == "market" and side == "buy":
        return None, None, amount, left, filled_amount
    return amount, left, None, None, filled_amount if filled_amount is not None else subtract(amount, left)


def futures_status(status_text: str, finish_as: str, filled: Decimal | None, left: Decimal | None) -> tuple[OrderStatus, str]:
    """``(status, raw status)`` of a futures order (§9.1): ``open`` working, ``finished`` by
    :func:`finished_status`, anything else ``unknown``."""
    if status_text == "finished":
        status = finished_status(finish_as, bool(filled), left is not None and not left)
    elif status_text == "open":
        status = working_status(bool(filled))
    else:
        status = _UNKNOWN
    return status, f"{status_text}/{finish_as}" if finish_as else status_text


def futures_counts(size: Decimal, left: Decimal | None) -> tuple[str, Decimal, Decimal | None, Decimal | None]:
    """``(side, contracts, left, filled)`` of a futures order from its signed ``size`` and
    ``left`` (unsigned counts; ``close`` for a size-0 close-position order)."""
    contracts = abs(size)
    left_c = abs(left) if left is not None else None
    filled = EXACT.subtract(contracts, left_c) if left_c is not None else None
    return ("buy" if size > 0 else "sell" if size < 0 else "close"), contracts, left_c, filled


def ms(*values: Any) -> int | None:
    """The first venue time among ``values`` that is given (not ``None``, not 0), in ms
    (unit by magnitude, :func:`cexfeed.wire.to_ms`); ``None`` when none is."""
    for value in values:
        if value is not None:
            converted = to_ms(value)
            if converted is not None:
                return converted
    return None


def ms2(first: Any, second: Any) -> int | None:
    """:func:`ms` of two values, the usual integer ms count of ``first`` taken as it is (what
    :func:`cexfeed.wire.to_ms` gives for it) without the calls."""
    if first.__class__ is int and MAX_SECONDS <= first < MAX_MILLIS:
        return first
    return ms(first, second)


def fields_in_order(cls: type, names: str) -> None:
    """Check that ``cls`` has exactly the fields ``names`` (space-separated) in this order: the
    hot paths build events positionally. Raises ``TypeError`` at import when they drift."""
    found = tuple(f.name for f in msgspec.structs.fields(cls))
    if found != tuple(names.split()):
        raise TypeError(f"{cls.__name__} fields changed: {found}")


def order_id(value: str | int) -> str:
    """An order or trade id as text (integers from older servers kept exact)."""
    return value if value.__class__ is str else str(value)


def positive(value: Decimal | None) -> Decimal | None:
    """``None`` for a missing or zero price (Gate sends ``"0"`` for a market order's price and
    for the average price of an order with nothing filled)."""
    return value if value else None


def subtract(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return EXACT.subtract(a, b) if a is not None and b is not None else None


def client_id(text: str) -> str | None:
    """Gate's user text when it is a client order id (``t-...``), else ``None`` (sources such
    as ``api``, ``web``)."""
    return text if text.startswith("t-") else None


def ended(state: AccountState, order_id: str) -> bool:
    """Whether ``state`` holds order ``order_id`` in a final status already (a finished order
    the REST history lists again is not asked for nor reported twice)."""
    return order_id in state.closed_orders  # (it holds only orders in a final status)


def _channel_method(normalize: Callable[[Any, Any, int], Any]) -> Callable[[Any, Any, Any, int], Any]:
    """The method of an ``items`` row (``(item, frame, recv_ts)``, see
    :class:`~cexfeed.exchanges.gateio.frames.GateioFrames`): the item's event by ``normalize``
    (which REST bodies share, hence without the frame)."""

    def on_item(self, item, frame, recv_ts: int) -> Any:
        return normalize(self, item, recv_ts)

    return on_item


class GateioPrivateHandler(GateioFrames, PrivateWebSocketHandler):
    """Base of the Gate private handlers: ``symbols`` names the pairs/contracts, ``state`` the
    :class:`~cexfeed.account.AccountState` to keep, ``credentials`` (optional) are scrubbed
    from any venue message before it is reported. Subclasses set ``TABLE`` and ``NORMALIZE``;
    every private row is an ``items`` row, so a push's items are read and dispatched as on the
    public streams (:class:`~cexfeed.exchanges.gateio.frames.GateioFrames`: a bad item of an
    array counted ``malformed_item`` and left out) and their events go to
    :meth:`_account_event`.

    Account values keep the one grammar: a frame whose numbers a typed Decimal decode would read
    outside it (:func:`cexfeed.wire.amounts_plain` says no) skips the typed decode, and its items
    are read by :func:`cexfeed.wire.convert_amounts` (counted ``amounts_checked``), the reader of
    every item this handler reads untyped; numbers keep their text on every untyped path.

    The hot pushes (order, fill and position rows, spot balances: :attr:`READ`) are read by the compiled reader
    (``_fastprivate.AccountReader``, when built) from the raw bytes to the applied and published
    events; a frame it does not take (anything unusual, or while pushes are buffered) comes back
    to the path above, its pure-Python twin (:meth:`use_compiled`).

    An authentication refusal (§2.4 shapes, see :mod:`.auth`) publishes
    ``AccountStatus(auth_failed)`` with the venue's label and message, besides the
    ``VenueError``; a refused request time (``REQUEST_EXPIRED``) is only reported (the account
    stream measures the clock again and retries once)."""

    PRIVATE = True
    EXACT_JSON = True
    _untyped = untyped_amounts
    market = ""
    #: channel method (the table row's ``handler``) -> the method turning one item of its pushes
    #: (or of a REST body) into an event; the channel methods are made from it
    NORMALIZE: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        for handler, normalize in cls.__dict__.get("NORMALIZE", {}).items():
            setattr(cls, handler, _channel_method(getattr(cls, normalize)))
        super().__init_subclass__(**kwargs)

    def __init__(self, on_event: EventCallback | None = None, symbols: SymbolMap | None = None, state: AccountState | None = None,
                 credentials: Credentials | None = None) -> None:
        PrivateWebSocketHandler.__init__(self, on_event, state)
        self.symbols = symbols if symbols is not None else self._default_symbols()
        self._unified = self.symbols.lookup
        self.credentials = credentials
        self._bind_channels()
        self._deliver = self._account_event
        self._deliver_all = self._account_events
        self._reader = None
        self.use_compiled(AccountReader is not None)

    def use_compiled(self, on: bool) -> None:
        """Read the hot pushes with the compiled reader (the default when it is built), or
        with the pure-Python path only (its twin, for the comparison tests)."""
        self.__dict__.pop("_handle_message", None)
        self._reader = self._make_reader() if on and AccountReader is not None else None
        if self._reader is not None:
            # the compiled reader's handle_message is this handler's _handle_message: the pushes
            # it takes are applied and published in C, the rest come back to the base class's
            self._handle_message = self._reader.handle_message

    #: normalizer -> the event the compiled reader gives for the rows it serves
    READ = {"order": "order", "fill": "fill", "position": "position"}

    def _make_reader(self) -> Any:
        """The compiled reader of this handler's rows whose events it reads (:attr:`READ`)."""
        channels = {row.venue_channel: self.READ[self.NORMALIZE[row.handler]] for row in self.ROWS.values()
                    if self.NORMALIZE.get(row.handler) in self.READ}
        return AccountReader(channels, self.market, self._unified, getattr(self, "multiplier", None), getattr(self, "_multipliers", {}),
                             getattr(self, "SETTLE", None), (FINISH_AS, _IF_NOTHING_LEFT_FILLED, _IF_NOTHING_FILLED_REJECTED, _REST_FINISHED),
                             EXACT.subtract, EXACT.multiply, self, partial(PrivateWebSocketHandler._handle_message, self),
                             getattr(self, "whole_contracts", None))

    def _default_symbols(self) -> SymbolMap:
        raise NotImplementedError

    def unified(self, venue_symbol: str) -> str:
        return self._unified(venue_symbol)

    def _unknown_side(self, value: str) -> tuple[str, str]:
        """``("unknown", value)`` for an own order's or fill's side that is not ``buy``/``sell``
        (:func:`cexfeed.wire.trade_side`), counted ``unknown_side``: the item is kept."""
        side, raw_side = trade_side(value)
        self._count_error("unknown_side", b"", f"side {raw_side!r}")
        return side, raw_side

    def _account_events(self, events: list) -> None:
        for event in events:
            self._account_event(event)

    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        check_utf8(raw)
        if amounts_plain(raw):
            self._decode(raw, recv_ts)
        else:  # a text outside the grammar somewhere (or not JSON): item by item, strictly,
            # of a key sent twice the last one (the rule of every JSON path)
            self._slow_path(_last_wins(raw, True), recv_ts, None)

    def _on_items(self, env: Any, row: Any, raw: bytes | str, recv_ts: int, exc: Exception | None) -> None:
        if exc is None:  # a push the typed decode was not trusted with (not every control frame)
            self.stats.errors["amounts_checked"] += 1
        super()._on_items(env, row, raw, recv_ts, exc)

    def _emit_items(self, build: Callable[[Any, Any, int], Any], frame: Any, recv_ts: int) -> None:
        """The events of a push's items, as the base class makes them, except that an item of an
        array its normalizer refuses (``ValueError``: a rule of its instrument, e.g. a fraction
        of a whole-contracts contract) is counted ``malformed_item`` and left out, the others
        kept, as a bad item of an array is on every path (one object that is refused makes the
        push malformed, as there)."""
        if frame.result.__class__ is list:
            whole = build

            def build(item: Any, frame: Any, recv_ts: int) -> Any:
                try:
                    return whole(item, frame, recv_ts)
                except ValueError as bad:
                    self._count_error("malformed_item", b"", bad)
                    return None  # left out, as an item the builder leaves out

        super()._emit_items(build, frame, recv_ts)

    def _read_item(self, item: Any, row: Any) -> Any:
        """One item as the row's struct, each account value by :func:`cexfeed.wire.amount`.
        Raises ``ValueError``."""
        return convert_amounts(item, row.result)

    def _refused(self, code: int, message: str, channel: str, recv_ts: int, exchange_ts: int | None, venue_symbol: str) -> str:
        if self.credentials is not None:
            message = self.credentials.scrub(message)
        found = auth.refusal(message, code)
        if found is not None and found[0] == "auth":
            if not self._auth_refused:  # one error event for the key, not one per channel
                self._venue_error(code, message, channel, recv_ts, exchange_ts, venue_symbol)
            self.auth_refused(found[1], found[2])
            return message
        self._venue_error(code, message, channel, recv_ts, exchange_ts, venue_symbol)
        return message
