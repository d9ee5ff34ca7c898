"""Binary private push frame -> :class:`~cexfeed.exchanges.mexc.decode.Push` with a typed body
(mexc-protocol.md §2.1 wrapper, §2.3 private bodies, §2.4 value encoding).

Three decoders give the same values (``tests/test_mexc_private_decode.py`` holds them to each
other on the documented samples and on mutated frames):

- :func:`decode_private_upb`, the reference: the protobuf runtime (upb) parses the wrapper, the
  body's fields are read through the value rules below;
- :func:`decode_private_py`, a wire walker in plain Python (the twin of the compiled one, same
  structure and rules);
- the compiled ``_privpb.decode_private`` (C, built by ``setup.py`` when a compiler is there).

:data:`decode_private` is the compiled one when it is importable (unless
``CEXFEED_MEXC_DECODER=upb``), else the upb one. The compiled module also has the private
handler's hot path, :data:`read_private` (frame -> account event in one call, see
:class:`FusedRead`), held to this typed seam plus the handler's normalizers by the tests.

``Push(number, symbol, ts, body, channel)``: ``number`` the wrapper's body field number (for a
frame without a known body, the number of its first unknown field >= 300, else 0); ``symbol``
and ``channel`` the wrapper's (``""`` when absent); ``ts`` the wrapper's ``sendTime``, else
``createTime``, in ms (:func:`cexfeed.wire.to_ms`; ``None`` when neither); ``body`` an
:class:`OrderBody` (304), :class:`DealBody` (306) or :class:`AccountBody` (307), ``None`` for
any other body.

Value rules: an absent proto3 field reads as its default (string ``""``, number 0, ``False``);
an account value (price, quantity, amount, fee, balance) is an exact ``Decimal`` read by
:func:`cexfeed.wire.amount` (JSON number text, magnitude below 1e300), ``None`` when absent;
ids and names are the venue's strings; times are ms by :func:`cexfeed.wire.to_ms` (``None``
for 0); ``int32`` codes are kept as sent (the handler maps them; a new value is not an error).
Unknown fields are skipped. Raises ``ValueError`` (or upb's ``DecodeError``) on a malformed
frame: bad wire data, invalid UTF-8, a value outside the rules.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import NamedTuple

from ... import wire
from .decode import Push, parse_wrapper, unknown_body_number
from .protocol import BODY_NUMBERS

ORDERS, DEALS, ACCOUNT = 304, 306, 307


class OrderBody(NamedTuple):
    """304 ``PrivateOrdersV3Api`` (§2.3): ``order_type`` 1 limit, 2 post only, 3 IOC, 4 FOK,
    5 market, 100 stop-limit; ``trade_type`` 1 buy, 2 sell; ``status`` 1 new, 2 filled,
    3 partially filled, 4 canceled, 5 partially filled then canceled; quantities base currency,
    amounts quote currency; ``create_ms`` ms. Fields 17-26 (undocumented) are not read. Every
    value 0 or above (:data:`cexfeed.wire.UNSIGNED`; a price 0: none); the order's size, its
    ``quantity`` or (quote-sized) its ``amount``, above 0 (checked by the handler)."""

    order_id: str
    client_id: str
    price: wire.UnsignedAmount | None
    quantity: wire.UnsignedAmount | None
    amount: wire.UnsignedAmount | None
    avg_price: wire.UnsignedAmount | None
    order_type: int
    trade_type: int
    is_maker: bool
    remain_amount: wire.UnsignedAmount | None
    remain_quantity: wire.UnsignedAmount | None
    last_deal_quantity: wire.UnsignedAmount | None
    cumulative_quantity: wire.UnsignedAmount | None
    cumulative_amount: wire.UnsignedAmount | None
    status: int
    create_ms: int | None


class DealBody(NamedTuple):
    """306 ``PrivateDealsV3Api`` (§2.3): one own fill; ``quantity`` base, ``amount`` quote,
    ``trade_type`` 1 buy / 2 sell, ``fee_amount`` in ``fee_currency`` (any sign), ``time_ms`` ms;
    ``price`` and ``quantity`` above 0, ``amount`` 0 or above; ``fee_currency`` as sent (the
    handler holds it to :func:`cexfeed.wire.currency`, ``""``: none)."""

    price: wire.PositiveAmount | None
    quantity: wire.PositiveAmount | None
    amount: wire.UnsignedAmount | None
    trade_type: int
    is_maker: bool
    is_self_trade: bool
    trade_id: str
    client_order_id: str
    order_id: str
    fee_amount: Decimal | None
    fee_currency: str
    time_ms: int | None


class AccountBody(NamedTuple):
    """307 ``PrivateAccountV3Api`` (§2.3): the balance of ``currency`` (``vcoinName``) after a
    change: ``balance`` available, ``frozen`` frozen, each with its change; ``change_type`` the
    venue's reason (an open set); ``time_ms`` settlement time, ms. Balances 0 or above, their
    changes any sign; ``currency`` as sent (the handler holds it to :func:`cexfeed.wire.currency`)."""

    currency: str
    coin_id: str
    balance: wire.UnsignedAmount | None
    balance_change: Decimal | None
    frozen: wire.UnsignedAmount | None
    frozen_change: Decimal | None
    change_type: str
    time_ms: int | None


class FusedRead(NamedTuple):
    """What the compiled fused path (``_privpb.read_private``, used by
    :class:`~cexfeed.exchanges.mexc.private_handler.MexcPrivateWebSocketHandler`) makes of a
    frame that is not simply one account event (that one it returns as it is): the body
    ``number``, the account ``event`` (``None`` when the frame carries no private body or its
    ``channel`` is not its body's), and ``unknown``: flags of the values the handler counts
    (1 a side, 2 an order type it does not know)."""

    number: int
    event: object
    channel: str
    unknown: int


def _amount(text: str) -> Decimal | None:
    return wire.amount(text) if text else None


# -- the reference: upb --------------------------------------------------------------------------
def order_body(b) -> OrderBody:
    """An :class:`OrderBody` from the upb ``PrivateOrdersV3Api``. Raises ``ValueError``."""
    return OrderBody(
        b.id, b.clientId, _amount(b.price), _amount(b.quantity), _amount(b.amount), _amount(b.avgPrice), b.orderType, b.tradeType,
        b.isMaker, _amount(b.remainAmount), _amount(b.remainQuantity), _amount(b.lastDealQuantity), _amount(b.cumulativeQuantity),
        _amount(b.cumulativeAmount), b.status, wire.to_ms(b.createTime),
    )


def deal_body(b) -> DealBody:
    """A :class:`DealBody` from the upb ``PrivateDealsV3Api``. Raises ``ValueError``."""
    return DealBody(
        _amount(b.price), _amount(b.quantity), _amount(b.amount), b.tradeType, b.isMaker, b.isSelfTrade, b.tradeId, b.clientOrderId,
        b.orderId, _amount(b.feeAmount), b.feeCurrency, wire.to_ms(b.time),
    )


def account_body(b) -> AccountBody:
    """An :class:`AccountBody` from the upb ``PrivateAccountV3Api``. Raises ``ValueError``."""
    return AccountBody(
        b.vcoinName, b.coinId, _amount(b.balanceAmount), _amount(b.balanceAmountChange), _amount(b.frozenAmount),
        _amount(b.frozenAmountChange), b.type, wire.to_ms(b.time),
    )


#: oneof name -> reader of the upb body
READERS = {"privateOrders": order_body, "privateDeals": deal_body, "privateAccount": account_body}


def decode_private_upb(raw: bytes) -> Push:
    """See the module docstring."""
    m = parse_wrapper(raw)
    name = m.WhichOneof("body")
    ts = wire.to_ms(m.sendTime or m.createTime)
    if name is None:
        return Push(unknown_body_number(m), m.symbol, ts, None, m.channel)
    read = READERS.get(name)
    return Push(BODY_NUMBERS[name], m.symbol, ts, read(getattr(m, name)) if read is not None else None, m.channel)


# -- the pure-Python twin of the compiled walker ---------------------------------------------------
_MAX_FIELD = 2**29 - 1
_MAX_DEPTH = 100  # upb's nesting limit (groups inside unknown fields)
_MASK64 = 2**64 - 1


class _Bad(ValueError):
    pass


def _varint(data, pos: int, end: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while shift < 70:
        if pos >= end:
            raise _Bad("truncated: varint")
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value & _MASK64, pos
        shift += 7
    raise _Bad("malformed: varint longer than 10 bytes")


def _key(data, pos: int, end: int) -> tuple[int, int, int]:
    key, pos = _varint(data, pos, end)
    field = key >> 3
    if field == 0 or field > _MAX_FIELD:
        raise _Bad("malformed: field number")
    return field, key & 7, pos


def _len(data, pos: int, end: int) -> tuple[int, int]:
    """(start, stop) of a length-delimited payload at ``pos``."""
    n, pos = _varint(data, pos, end)
    if n > end - pos:
        raise _Bad("truncated: length")
    return pos, pos + n


def _skip(data, pos: int, end: int, field: int, wire_type: int, depth: int) -> int:
    if wire_type == 0:
        return _varint(data, pos, end)[1]
    if wire_type == 1 or wire_type == 5:
        size = 8 if wire_type == 1 else 4
        if end - pos < size:
            raise _Bad("truncated: fixed")
        return pos + size
    if wire_type == 2:
        return _len(data, pos, end)[1]
    if wire_type == 3:
        if depth >= _MAX_DEPTH:
            raise _Bad("malformed: nesting")
        while pos < end:
            key, pos = _varint(data, pos, end)  # field 0 is taken inside an unknown group
            if key >> 3 > _MAX_FIELD:
                raise _Bad("malformed: field number")
            if key & 7 == 4:
                if key >> 3 != field:
                    raise _Bad("malformed: group end")
                return pos
            pos = _skip(data, pos, end, key >> 3, key & 7, depth + 1)
        raise _Bad("truncated: group")
    raise _Bad("malformed: wire type")


def _text(data, start: int, stop: int) -> str:
    try:
        return str(data[start:stop], "utf-8")
    except UnicodeDecodeError as exc:
        raise _Bad("malformed: invalid UTF-8") from exc


# per body: field number -> (kind, slot); kinds: "s" string, "d" Decimal string, "i" int32,
# "b" bool, "t" int64 time, "x" a string field we do not keep (checked for UTF-8 only)
_ORDER_FIELDS = {
    1: ("s", 0), 2: ("s", 1), 3: ("d", 2), 4: ("d", 3), 5: ("d", 4), 6: ("d", 5), 7: ("i", 6), 8: ("i", 7), 9: ("b", 8), 10: ("d", 9),
    11: ("d", 10), 12: ("d", 11), 13: ("d", 12), 14: ("d", 13), 15: ("i", 14), 16: ("t", 15), 17: ("x", 0), 18: ("n", 0),
    19: ("x", 0), 20: ("n", 0), 21: ("x", 0), 22: ("x", 0), 23: ("x", 0), 24: ("x", 0), 25: ("x", 0), 26: ("x", 0),
}
_DEAL_FIELDS = {
    1: ("d", 0), 2: ("d", 1), 3: ("d", 2), 4: ("i", 3), 5: ("b", 4), 6: ("b", 5), 7: ("s", 6), 8: ("s", 7), 9: ("s", 8), 10: ("d", 9),
    11: ("s", 10), 12: ("t", 11),
}
_ACCOUNT_FIELDS = {1: ("s", 0), 2: ("s", 1), 3: ("d", 2), 4: ("d", 3), 5: ("d", 4), 6: ("d", 5), 7: ("s", 6), 8: ("t", 7)}
_WIRE_OF = {"s": 2, "d": 2, "x": 2, "i": 0, "n": 0, "b": 0, "t": 0}
_DEFAULT = {"s": "", "d": "", "i": 0, "b": 0, "t": 0}
_BODIES = {ORDERS: (_ORDER_FIELDS, OrderBody, 16), DEALS: (_DEAL_FIELDS, DealBody, 12), ACCOUNT: (_ACCOUNT_FIELDS, AccountBody, 8)}


def _body(data, pieces: list[tuple[int, int]], number: int):
    """The typed body of private body ``number`` from its pieces (repeated occurrences merge:
    the last value of a field wins)."""
    fields, cls, n = _BODIES[number]
    kinds = [""] * n
    for kind, slot in fields.values():
        if kind in _DEFAULT:
            kinds[slot] = kind
    values: list = [_DEFAULT[k] for k in kinds]
    for start, stop in pieces:
        pos = start
        while pos < stop:
            field, wire_type, pos = _key(data, pos, stop)
            spec = fields.get(field)
            if spec is None or _WIRE_OF[spec[0]] != wire_type:  # unknown, or a known number with another wire type
                pos = _skip(data, pos, stop, field, wire_type, 1)
                continue
            kind, slot = spec
            if wire_type == 2:
                a, pos = _len(data, pos, stop)
                text = _text(data, a, pos)
                if kind != "x":
                    values[slot] = text
            else:
                v, pos = _varint(data, pos, stop)
                if kind == "i":
                    v &= 0xFFFFFFFF
                    values[slot] = v - (1 << 32) if v >= 1 << 31 else v
                elif kind == "b":
                    values[slot] = v != 0
                elif kind == "t":
                    values[slot] = v - (1 << 64) if v >= 1 << 63 else v
    out = []
    for kind, value in zip(kinds, values):
        if kind == "d":
            out.append(wire.amount(value) if value else None)
        elif kind == "t":
            out.append(wire.to_ms(value))
        elif kind == "b":
            out.append(bool(value))
        else:
            out.append(value)
    return cls(*out)


def decode_private_py(raw: bytes) -> Push:
    """See the module docstring (a frame whose oneof body is replaced by another body, or comes
    in more than 16 pieces, is read by :func:`decode_private_upb`, as on the compiled path)."""
    data = raw if raw.__class__ is bytes else bytes(raw)
    end = len(data)
    pos = 0
    channel = symbol = ""
    send = create = 0
    number = 0
    pieces: list[tuple[int, int]] = []
    replaced = False
    first_unknown = 0
    while pos < end:
        field, wire_type, pos = _key(data, pos, end)
        if 301 <= field <= 315 and wire_type == 2:
            a, pos = _len(data, pos, end)
            if field != number:
                replaced = replaced or number != 0
                number = field
                pieces = []
            if len(pieces) == 16:
                replaced = True
            else:
                pieces.append((a, pos))
        elif wire_type == 2 and field in (1, 3, 4):
            a, pos = _len(data, pos, end)
            text = _text(data, a, pos)
            if field == 1:
                channel = text
            elif field == 3:
                symbol = text
        elif wire_type == 0 and field in (5, 6):
            v, pos = _varint(data, pos, end)
            v = v - (1 << 64) if v >= 1 << 63 else v
            if field == 5:
                create = v
            else:
                send = v
        else:
            if field >= 300 and first_unknown == 0:
                first_unknown = field
            pos = _skip(data, pos, end, field, wire_type, 0)
    if replaced:
        return decode_private_upb(data)
    body = None
    if number == 0:
        if 301 <= first_unknown <= 315:  # one of our bodies with another wire type
            raise _Bad(f"malformed: body field {first_unknown} with wire type")
        number = first_unknown
    elif number in _BODIES:
        body = _body(data, pieces, number)
    return Push(number, symbol, wire.to_ms(send or create), body, channel)


# -- the compiled walker -------------------------------------------------------------------------
try:
    if os.environ.get("CEXFEED_MEXC_DECODER", "").lower() == "upb":
        raise ImportError("upb decoder forced by CEXFEED_MEXC_DECODER")
    from . import _privpb  # type: ignore[attr-defined]
except ImportError:
    _privpb = None
    decode_private_compiled = None
else:
    _privpb.set_types(Push, OrderBody, DealBody, AccountBody, Decimal, wire.MAX_AMOUNT, decode_private_upb)
    # the fused path's account value rules: each body slot's kind (wire.AmountKind.code), and the
    # bound of the currency code rule (wire.currency)
    _privpb.set_rules(*(tuple(dict(wire.amount_kinds(cls)).get(name, wire.SIGNED).code for name in cls._fields)
                        for cls in (OrderBody, DealBody, AccountBody)), wire.NO_NEGATIVE, wire.NO_ZERO, wire.MAX_CURRENCY)
    decode_private_compiled = _privpb.decode_private

#: The fused frame -> event reader (see :class:`FusedRead`), ``None`` without the compiled module.
read_private = _privpb.read_private if _privpb is not None else None

#: The decoder in use: compiled when available, else upb.
decode_private = decode_private_compiled if decode_private_compiled is not None else decode_private_upb
COMPILED = decode_private_compiled is not None
