"""Account events of the private streams: orders, fills, balances, positions and the account's
status and notices (units: :class:`AccountEvent`; :mod:`cexfeed.models` names every event)."""

from __future__ import annotations

import enum
from decimal import Decimal

from .market import Event

# -- account events (private streams) ------------------------------------------------------------


class OrderStatus(str, enum.Enum):
    """One order lifecycle for every venue. ``new``: accepted, not yet working (or working, when
    the venue does not tell the two apart: then ``open``); ``open``: working, nothing filled;
    ``partially_filled``: working with ``filled > 0``; terminal: ``filled``, ``canceled`` (also
    after a partial fill: then ``filled > 0``), ``rejected``, ``expired``; ``unknown``: a venue
    value not in the venue's table (the raw value is on the event; it never changes what the
    account state believes about the order's lifecycle)."""

    NEW = "new"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def working(self) -> bool:
        return self in _WORKING


_TERMINAL = frozenset((OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED))
_WORKING = frozenset((OrderStatus.NEW, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED))

# AccountStatus.status values
SEEDING = "seeding"
LIVE = "live"
RECONCILING = "reconciling"
AUTH_FAILED = "auth_failed"
REFUSED = "refused"
# (STALE, of cexfeed.models.market, is shared with BookStatus)

# Position.mode values (Gate: single / dual_long / dual_short)
SINGLE = "single"
DUAL_LONG = "dual_long"
DUAL_SHORT = "dual_short"
LONG = "long"
SHORT = "short"


class AccountEvent(Event, gc=False):
    """Base of account events (``gc=False`` as every event: they cannot be part of a reference
    cycle). Units: every money value and quantity is an exact
    ``decimal.Decimal`` read from the venue's text; quantities in the base currency, with the
    raw contract count beside them on futures (``contracts``); a base quantity is ``None``
    where the venue's count cannot be turned into one (an inverse contract, an unknown
    multiplier) and ``None`` is never a zero. ``exchange_ts`` is ``None`` when the venue gave no
    time, and on ``AccountStatus`` (raised locally like every status event).
    ``symbol``/``venue_symbol`` are empty for account-wide events (balances, status)."""


class Order(AccountEvent, tag="order"):
    """The state of one own order after an update (not a delta).

    - ``status``: :class:`OrderStatus`; ``raw_status``: the venue's own value(s) that decided it
      (Gate spot ``event/finish_as``, ``finish/filled``; futures ``status/finish_as``);
    - ``price``: limit price (quote currency), ``None`` for a market order;
    - ``amount``: order size in base currency; ``None`` when the venue states it in the quote
      currency (a Gate spot market buy: then ``quote_amount``) or in contracts it cannot convert;
    - ``filled``/``left``: base currency executed / still to execute (``left`` in quote currency
      is ``quote_left``, for a market buy); ``filled_quote``: quote currency executed;
    - ``contracts``/``filled_contracts``/``left_contracts``: futures counts (unsigned);
    - ``avg_price``: average fill price; ``fee`` in ``fee_currency`` (cumulative);
    - ``created_ts``/``updated_ts``: ms; ``update_id``: the venue's per-order sequence if any;
    - ``side``: ``buy``/``sell`` (futures: ``close`` for a close-position order of size 0), or
      ``unknown`` for a value the venue added later, kept in ``raw_side`` (else ``None``).
    """

    order_id: str
    side: str
    order_type: str
    status: OrderStatus
    raw_status: str
    price: Decimal | None = None
    amount: Decimal | None = None
    filled: Decimal | None = None
    left: Decimal | None = None
    quote_amount: Decimal | None = None
    quote_left: Decimal | None = None
    filled_quote: Decimal | None = None
    contracts: Decimal | None = None
    filled_contracts: Decimal | None = None
    left_contracts: Decimal | None = None
    avg_price: Decimal | None = None
    fee: Decimal | None = None
    fee_currency: str | None = None
    client_order_id: str | None = None
    time_in_force: str | None = None
    reduce_only: bool | None = None
    created_ts: int | None = None
    updated_ts: int | None = None
    update_id: int | None = None
    raw_side: str | None = None


class Fill(AccountEvent, tag="fill"):
    """One own trade (maker or taker). ``amount`` base currency (``None`` when not convertible),
    ``contracts`` the unsigned futures count, ``price`` quote currency, ``role``
    ``maker``/``taker`` (``None`` when not sent), ``fee`` in ``fee_currency``; ``side``
    ``buy``/``sell``, or ``unknown`` with the venue's value in ``raw_side``."""

    trade_id: str
    order_id: str
    side: str
    price: Decimal
    amount: Decimal | None = None
    contracts: Decimal | None = None
    role: str | None = None
    fee: Decimal | None = None
    fee_currency: str | None = None
    client_order_id: str | None = None
    raw_side: str | None = None


class Balance(AccountEvent, tag="balance"):
    """The balance of one currency after a change: ``total`` = ``available`` + ``frozen`` as the
    venue states them (a field the venue does not send is ``None``; only ``total`` is derived, as
    the exact sum, where the venue states no total but both parts, as MEXC does); ``change``
    the signed change that caused the update and ``change_type`` the venue's reason when sent;
    ``frozen_change`` the signed change of ``frozen`` where the venue states it apart (MEXC
    ``frozenAmountChange``; ``change`` is then the change of ``available``).
    ``symbol``/``venue_symbol`` are empty."""

    currency: str
    total: Decimal | None = None
    available: Decimal | None = None
    frozen: Decimal | None = None
    change: Decimal | None = None
    change_type: str | None = None
    frozen_change: Decimal | None = None


class Position(AccountEvent, tag="position"):
    """One futures position after an update. Keyed by (``symbol``, ``mode``): ``mode``
    ``single``, ``dual_long`` or ``dual_short``. ``contracts`` is the signed contract count
    (< 0 short), ``size`` the signed base-currency size (``None`` when not convertible),
    ``side`` ``long``/``short`` (for a closed position: the side it had). ``closed`` is true
    when the size went to 0; the position then leaves the account state. Prices quote currency,
    ``margin`` and pnl in the settle currency; ``leverage`` 0 = cross."""

    mode: str
    side: str | None
    contracts: Decimal
    size: Decimal | None = None
    entry_price: Decimal | None = None
    mark_price: Decimal | None = None
    liq_price: Decimal | None = None
    margin: Decimal | None = None
    leverage: Decimal | None = None
    realised_pnl: Decimal | None = None
    unrealised_pnl: Decimal | None = None
    update_id: int | None = None
    closed: bool = False


class AccountStatus(AccountEvent, tag="account_status"):
    """State of an account stream: ``seeding`` (first REST snapshot loading, pushes buffered),
    ``live``, ``reconciling`` (after a reconnect: snapshot and missed changes loading),
    ``auth_failed`` (the venue refused the credentials; ``code``/``message`` are the venue's,
    nothing is retried until the user acts), ``refused`` (the venue refused a private
    subscription for another reason, e.g. a wrong user id; ``message`` names the refused
    channels with the venue's text; not retried either) or ``stale`` (disconnected, or closed).
    ``reason`` is a short machine-readable cause."""

    status: str
    reason: str = ""
    code: str = ""
    message: str = ""


class AccountNotice(AccountEvent, tag="account_notice"):
    """Another account happening the venue reports on its own channel: ``kind``
    ``liquidation``, ``auto_deleverage``, ``position_close`` or ``trigger_order``, with the
    values it carries (quote-currency prices, signed ``contracts``, base ``size`` where
    convertible, ``pnl`` in the settle currency, ``status`` for trigger orders)."""

    kind: str
    order_id: str | None = None
    side: str | None = None
    price: Decimal | None = None
    contracts: Decimal | None = None
    size: Decimal | None = None
    pnl: Decimal | None = None
    status: str | None = None
    detail: str = ""
