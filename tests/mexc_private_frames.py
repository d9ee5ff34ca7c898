"""MEXC private push frames for the tests (not a test module), encoded here by hand from the
official field numbers (mexc-protocol.md §2.1 wrapper, §2.3 bodies), independently of the
package's .proto files: the documented samples (§6.2) and frames built from the field tables."""

from __future__ import annotations

from cexfeed.exchanges.mexc import private_decode
from cexfeed.handlers import ConnectionHooks

import pytest

# wrapper (§2.1)
W_CHANNEL, W_SYMBOL, W_SYMBOL_ID, W_CREATE, W_SEND = 1, 3, 4, 5, 6
B_ORDERS, B_DEALS, B_ACCOUNT = 304, 306, 307
# PrivateOrdersV3Api (§2.3): name -> (number, wire type 0 varint / 2 string)
ORDER_FIELDS = {
    "id": (1, 2), "clientId": (2, 2), "price": (3, 2), "quantity": (4, 2), "amount": (5, 2), "avgPrice": (6, 2), "orderType": (7, 0),
    "tradeType": (8, 0), "isMaker": (9, 0), "remainAmount": (10, 2), "remainQuantity": (11, 2), "lastDealQuantity": (12, 2),
    "cumulativeQuantity": (13, 2), "cumulativeAmount": (14, 2), "status": (15, 0), "createTime": (16, 0), "market": (17, 2),
    "triggerType": (18, 0), "triggerPrice": (19, 2), "state": (20, 0), "ocoId": (21, 2), "routeFactor": (22, 2), "symbolId": (23, 2),
    "marketId": (24, 2), "marketCurrencyId": (25, 2), "currencyId": (26, 2),
}
DEAL_FIELDS = {
    "price": (1, 2), "quantity": (2, 2), "amount": (3, 2), "tradeType": (4, 0), "isMaker": (5, 0), "isSelfTrade": (6, 0), "tradeId": (7, 2),
    "clientOrderId": (8, 2), "orderId": (9, 2), "feeAmount": (10, 2), "feeCurrency": (11, 2), "time": (12, 0),
}
ACCOUNT_FIELDS = {
    "vcoinName": (1, 2), "coinId": (2, 2), "balanceAmount": (3, 2), "balanceAmountChange": (4, 2), "frozenAmount": (5, 2),
    "frozenAmountChange": (6, 2), "type": (7, 2), "time": (8, 0),
}
CHANNELS = {B_ORDERS: "spot@private.orders.v3.api.pb", B_DEALS: "spot@private.deals.v3.api.pb", B_ACCOUNT: "spot@private.account.v3.api.pb"}
_FIELDS = {B_ORDERS: ORDER_FIELDS, B_DEALS: DEAL_FIELDS, B_ACCOUNT: ACCOUNT_FIELDS}


def varint(value: int) -> bytes:
    value &= 2**64 - 1
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def field(number: int, value) -> bytes:
    """One field: ``int``/``bool`` as a varint, ``str``/``bytes`` length-delimited."""
    if isinstance(value, (bool, int)):
        return key(number, 0) + varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return key(number, 2) + varint(len(data)) + data


def body(number: int, values: dict) -> bytes:
    """A private body from proto names (in the given order; proto3: a default is left out by the
    venue's encoder, so pass only what the venue would send)."""
    fields = _FIELDS[number]
    return b"".join(field(fields[name][0], value) for name, value in values.items())


def frame(number: int, values: dict, symbol: str | None = None, send: int | None = None, create: int | None = None,
          channel: str | None = None, extra: bytes = b"") -> bytes:
    """A wrapper carrying private body ``number`` (channel: the body's own unless given)."""
    out = field(W_CHANNEL, CHANNELS[number] if channel is None else channel)
    if symbol is not None:
        out += field(W_SYMBOL, symbol)
    if create is not None:
        out += field(W_CREATE, create)
    if send is not None:
        out += field(W_SEND, send)
    return out + extra + field(number, body(number, values))


# -- the documented samples (mexc-protocol.md §6.2, DOCS-EN) ----------------------------------------
DOC_ORDER = {
    "id": "C02__505979017439002624115", "price": "3.5121", "quantity": "1", "amount": "0", "avgPrice": "3.6962", "orderType": 5,
    "tradeType": 2, "remainAmount": "0", "remainQuantity": "0", "lastDealQuantity": "1", "cumulativeQuantity": "1",
    "cumulativeAmount": "3.6962", "status": 2, "createTime": 1736417034259,
}
DOC_DEAL = {
    "price": "3.6962", "quantity": "1", "amount": "3.6962", "tradeType": 2, "tradeId": "505979017439002624X1",
    "orderId": "C02__505979017439002624115", "feeAmount": "0.0003998377369698171", "feeCurrency": "MX", "time": 1736417034280,
}
DOC_ACCOUNT = {
    "vcoinName": "USDT", "coinId": "128f589271cb4951b03e71e6323eb7be", "balanceAmount": "21.94210356004384", "balanceAmountChange": "10",
    "frozenAmount": "0", "frozenAmountChange": "0", "type": "CONTRACT_TRANSFER", "time": 1736416910000,
}
DOC_ORDER_FRAME = frame(B_ORDERS, DOC_ORDER, symbol="MXUSDT", send=1736417034281)
DOC_DEAL_FRAME = frame(B_DEALS, DOC_DEAL, symbol="MXUSDT", send=1736417034332)
DOC_ACCOUNT_FRAME = frame(B_ACCOUNT, DOC_ACCOUNT, create=1736417034305, send=1736417034307)

# -- frames built from the field tables --------------------------------------------------------------
#: a limit buy that filled 0.4 of 1 and was then canceled (status 5), with a client order id
PARTIAL_CANCEL = {
    "id": "C02__600000000000000001", "clientId": "my-order-7", "price": "2.5", "quantity": "1", "amount": "2.5", "avgPrice": "2.5",
    "orderType": 1, "tradeType": 1, "remainAmount": "1.5", "remainQuantity": "0.6", "lastDealQuantity": "0.4",
    "cumulativeQuantity": "0.4", "cumulativeAmount": "1", "status": 5, "createTime": 1736417000000,
}
#: a maker sell fill of a post-only order, with the fee in the quote currency
MAKER_SELL = {
    "price": "96567.38", "quantity": "0.0021", "amount": "202.791498", "tradeType": 2, "isMaker": True, "tradeId": "600000000000000777X1",
    "clientOrderId": "po-1", "orderId": "C02__600000000000000002", "feeAmount": "0.0405582996", "feeCurrency": "USDT",
    "time": 1736417100123,
}
#: placing an order freezes 10 USDT: available down, frozen up
FROZEN_CHANGE = {
    "vcoinName": "USDT", "coinId": "128f589271cb4951b03e71e6323eb7be", "balanceAmount": "11.94210356004384", "balanceAmountChange": "-10",
    "frozenAmount": "10", "frozenAmountChange": "10", "type": "ENTRUST_PLACE", "time": 1736417200000,
}

#: the handler's paths: the upb reference decoder, the pure-Python walker, the compiled walker
#: (all three through the typed seam and the Python normalizers), and the compiled fused path
#: (frame -> event in C, the handler's default)
DECODERS = ["upb", "py", "compiled", "fused"]


def decoder_for(name: str):
    """The ``decoder`` argument of the private handler for path ``name`` (``None``: its
    default, the fused path)."""
    if name == "fused":
        if private_decode.read_private is None:
            pytest.skip("compiled MEXC private decoder (_privpb) not built")
        return None
    if name == "upb":
        return private_decode.decode_private_upb
    if name == "py":
        return private_decode.decode_private_py
    if private_decode.decode_private_compiled is None:
        pytest.skip("compiled MEXC private decoder (_privpb) not built")
    return private_decode.decode_private_compiled


class RecordingHooks(ConnectionHooks):
    def __init__(self) -> None:
        self.acks: list[tuple] = []
        self.pongs = 0

    def on_ack(self, request_id, channel, ok, message) -> None:
        self.acks.append((request_id, channel, ok, message))

    def on_pong(self) -> None:
        self.pongs += 1
