"""Build MEXC spot private push frames (serialized ``PushDataV3ApiWrapper`` with a 304, 306 or
307 body, mexc-protocol.md §2.1, §2.3) from field values, with the protobuf runtime.

Used by the simulator, tests and benchmarks; not on the client's receive path. ``fields`` maps
the proto field names (``cumulativeQuantity``, ``feeAmount`` ...) to values; a field left out is
absent on the wire, as proto3 leaves out a default (an ``optional`` one too). Wrapper metadata
follows the Doc samples (§3.3): orders and deals carry ``channel``, ``symbol`` and
``sendTime``; account pushes ``channel``, ``createTime`` and ``sendTime`` and no symbol.
"""

from __future__ import annotations

from typing import Any, Mapping

from .proto.push_pb2 import PushDataV3ApiWrapper

ORDERS_CHANNEL = "spot@private.orders.v3.api.pb"
DEALS_CHANNEL = "spot@private.deals.v3.api.pb"
ACCOUNT_CHANNEL = "spot@private.account.v3.api.pb"
#: channel -> the wrapper's oneof member carrying its body
BODY_OF = {ORDERS_CHANNEL: "privateOrders", DEALS_CHANNEL: "privateDeals", ACCOUNT_CHANNEL: "privateAccount"}


def private_frame(channel: str, fields: Mapping[str, Any], symbol: str = "", send_time: int | None = None,
                  create_time: int | None = None) -> bytes:
    """One private push of ``channel`` (one of :data:`BODY_OF`) with body ``fields``. Raises
    ``KeyError`` for another channel, ``ValueError``/``TypeError`` for a field the schema lacks
    or a value of the wrong type."""
    w = PushDataV3ApiWrapper(channel=channel)
    if symbol:
        w.symbol = symbol
    if send_time is not None:
        w.sendTime = send_time
    if create_time is not None:
        w.createTime = create_time
    body = getattr(w, BODY_OF[channel])
    body.SetInParent()  # an all-default body is still that body
    for name, value in fields.items():
        if value is None:
            continue
        setattr(body, name, value)
    return w.SerializeToString()


def order_frame(symbol: str, fields: Mapping[str, Any], send_time: int) -> bytes:
    """304 ``private.orders`` push."""
    return private_frame(ORDERS_CHANNEL, fields, symbol, send_time)


def deal_frame(symbol: str, fields: Mapping[str, Any], send_time: int) -> bytes:
    """306 ``private.deals`` push."""
    return private_frame(DEALS_CHANNEL, fields, symbol, send_time)


def account_frame(fields: Mapping[str, Any], send_time: int) -> bytes:
    """307 ``private.account`` push (no wrapper symbol; ``createTime`` = the change's time)."""
    return private_frame(ACCOUNT_CHANNEL, fields, "", send_time, fields.get("time") or send_time)
