"""Gate spot private channels on the documented samples (gateio-protocol.md §8, Appendix A) and
on frames built from the field tables: every normalized field, the complete finish_as table,
unknown values, malformed frames, older and leaner API shapes, pushes in any order, exact ids;
and the signatures (WS subscribe, REST) against vectors computed here with hmac."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from decimal import Decimal

import msgspec
import pytest

from cexfeed.credentials import Credentials
from cexfeed.exchanges.gateio import auth
from cexfeed.exchanges.gateio.private_protocol import GateioSpotPrivateProtocol
from cexfeed.exchanges.gateio.private_spot import GateioSpotPrivateWebSocketHandler, spot_balances
from cexfeed.models import AccountStatus, Balance, Fill, Order, OrderStatus, VenueError

D = Decimal
S = OrderStatus

DOC_ORDER = {"id": "399123456", "text": "t-testtext", "create_time": "1694655225", "update_time": "1694655225", "currency_pair": "BTC_USDT",
             "type": "limit", "account": "spot", "side": "sell", "amount": "0.0001", "price": "26253.3", "time_in_force": "gtc",
             "left": "0.0001", "filled_total": "0", "filled_amount": "0", "avg_deal_price": "0", "fee": "0", "fee_currency": "USDT",
             "point_fee": "0", "gt_fee": "0", "rebated_fee": "0", "rebated_fee_currency": "USDT", "create_time_ms": "1694655225315",
             "update_time_ms": "1694655225315", "user": 3497082, "event": "put", "stp_id": 0, "stp_act": "-", "finish_as": "open",
             "biz_info": "-", "amend_text": "-"}
DOC_USERTRADES = (b'{"time":1605176741,"time_ms":1605176741763,"channel":"spot.usertrades","event":"update","result":[{"id":5736713,'
                  b'"user_id":1000001,"order_id":"30784428","currency_pair":"BTC_USDT","create_time":1605176741,"create_time_ms":"1605176741123.456",'
                  b'"side":"sell","amount":"1.00000000","role":"taker","price":"10000.00000000","fee":"0.00200000000000","point_fee":"0",'
                  b'"gt_fee":"0","text":"apiv4","id_market":5736713}]}')
DOC_BALANCES = (b'{"time":1605248616,"time_ms":1605248616763,"channel":"spot.balances","event":"update","result":[{"timestamp":"1667556323",'
                b'"timestamp_ms":"1667556323730","user":"1000001","currency":"USDT","change":"0","total":"222244.3827652",'
                b'"available":"222244.3827","freeze":"5","freeze_change":"5.000000","change_type":"order-create"}]}')
DOC_ORDERS_V2 = (b'{"time":1736238443,"time_ms":1736238443516,"channel":"spot.orders_v2","event":"update","result":[{"id":"769689142776",'
                 b'"text":"t-poc1736238443494","create_time":"1736238443","update_time":"1736238443","currency_pair":"OM_USDT","type":"limit",'
                 b'"account":"spot","side":"buy","amount":"0.78","price":"3.9147","time_in_force":"poc","left":"0","filled_total":"3.053466",'
                 b'"filled_amount":"812.8","avg_deal_price":"3.9147","fee_currency":"OM","gt_discount":true,"rebated_fee_currency":"OM",'
                 b'"create_time_ms":"1736238443503","update_time_ms":"1736238443506","user":3128780,"event":"finish","stp_id":0,"stp_act":"-",'
                 b'"finish_as":"filled","biz_info":"-","amend_text":"-","slippage":"0.05"}]}')
DOC_USERTRADES_V2 = (b'{"time":1736237480,"time_ms":1736237480397,"channel":"spot.usertrades_v2","event":"update","result":[{"id":12855056637,'
                     b'"user_id":3128780,"order_id":"769683030088","currency_pair":"PENGU_USDT","create_time":1736237480,'
                     b'"create_time_ms":"1736237480369.211","side":"sell","amount":"32462.7","role":"maker","price":"0.041828",'
                     b'"text":"t-poc1736237480359","amend_text":"-","biz_info":"-","id_market":917144}]}')


def frame(channel: str, items, **envelope) -> bytes:
    body = {"time": 1694655225, "time_ms": 1694655225315, "channel": channel, "event": "update", "result": items}
    body.update(envelope)
    return json.dumps(body).encode()


def order_frame(**changes) -> bytes:
    item = dict(DOC_ORDER)
    item.update(changes)
    return frame("spot.orders", [item])


def run(*frames: bytes) -> tuple[GateioSpotPrivateWebSocketHandler, list]:
    events: list = []
    handler = GateioSpotPrivateWebSocketHandler(events.append)
    for raw in frames:
        handler._handle_message(raw, 7)
    return handler, events


def test_doc_order_put_every_field():
    handler, [order] = run(frame("spot.orders", [DOC_ORDER]))
    assert order == Order(
        venue="gateio", market="spot", symbol="BTC/USDT", venue_symbol="BTC_USDT", exchange_ts=1694655225315, recv_ts=7,
        order_id="399123456", side="sell", order_type="limit", status=S.OPEN, raw_status="put/open", price=D("26253.3"),
        amount=D("0.0001"), filled=D("0"), left=D("0.0001"), filled_quote=D("0"), avg_price=None, fee=D("0"), fee_currency="USDT",
        client_order_id="t-testtext", time_in_force="gtc", created_ts=1694655225315, updated_ts=1694655225315,
    )
    assert handler.state.open_orders["399123456"] == order


def test_doc_usertrades_every_field():
    _, [fill] = run(DOC_USERTRADES)
    assert fill == Fill(
        venue="gateio", market="spot", symbol="BTC/USDT", venue_symbol="BTC_USDT", exchange_ts=1605176741123, recv_ts=7,
        trade_id="5736713", order_id="30784428", side="sell", price=D("10000.00000000"), amount=D("1.00000000"), role="taker",
        fee=D("0.00200000000000"), fee_currency=None, client_order_id=None,
    )
    assert str(fill.fee) == "0.00200000000000"  # the venue's text, not a float


def test_doc_balances_every_field():
    handler, [balance] = run(DOC_BALANCES)
    assert balance == Balance(
        venue="gateio", market="spot", symbol="", venue_symbol="", exchange_ts=1667556323730, recv_ts=7, currency="USDT",
        total=D("222244.3827652"), available=D("222244.3827"), frozen=D("5"), change=D("0"), change_type="order-create",
    )
    assert handler.state.balances["USDT"] is balance


def test_doc_v2_variants():
    _, [order] = run(DOC_ORDERS_V2)
    assert (order.status, order.raw_status, order.fee, order.fee_currency, order.filled) == (S.FILLED, "finish/filled", None, "OM", D("812.8"))
    assert order.avg_price == D("3.9147") and order.time_in_force == "poc" and order.left == 0
    _, [fill] = run(DOC_USERTRADES_V2)
    assert (fill.trade_id, fill.fee, fill.role, fill.exchange_ts, fill.symbol) == ("12855056637", None, "maker", 1736237480369, "PENGU/USDT")


# finish_as (event finish) -> status, for (filled_amount, left)
FINISH_TABLE = [
    ("filled", "0.0001", "0", S.FILLED),
    ("cancelled", "0", "0.0001", S.CANCELED),
    ("cancelled", "0.00004", "0.00006", S.CANCELED),  # canceled after a partial fill
    ("liquidate_cancelled", "0", "0.0001", S.CANCELED),
    ("stp", "0", "0.0001", S.CANCELED),
    ("ioc", "0.00004", "0.00006", S.EXPIRED),
    ("ioc", "0.0001", "0", S.FILLED),  # an IOC that filled completely
    ("fok", "0", "0.0001", S.EXPIRED),
    ("poc", "0", "0.0001", S.REJECTED),
    ("small", "0", "0.0001", S.REJECTED),
    ("depth_not_enough", "0.00003", "0.00007", S.CANCELED),
    ("depth_not_enough", "0", "0.0001", S.REJECTED),
    ("trader_not_enough", "0.00003", "0.00007", S.CANCELED),
    ("trader_not_enough", "0", "0.0001", S.REJECTED),
    ("-", "0", "0.0001", S.UNKNOWN),
    ("open", "0", "0.0001", S.UNKNOWN),
    ("brand_new_reason", "0", "0.0001", S.UNKNOWN),
]


@pytest.mark.parametrize("finish_as,filled,left,status", FINISH_TABLE)
def test_finish_as_table(finish_as, filled, left, status):
    _, [order] = run(order_frame(event="finish", finish_as=finish_as, filled_amount=filled, left=left))
    assert order.status is status and order.raw_status == f"finish/{finish_as}"
    assert order.filled == D(filled) and order.left == D(left)


@pytest.mark.parametrize("event,filled,status", [("put", "0", S.OPEN), ("update", "0", S.OPEN), ("update", "0.00004", S.PARTIALLY_FILLED),
                                                 ("amend", "0", S.UNKNOWN), ("", "0", S.UNKNOWN)])
def test_working_events(event, filled, status):
    _, [order] = run(order_frame(event=event, filled_amount=filled, left=str(D("0.0001") - D(filled)), finish_as="open"))
    assert order.status is status


def test_unknown_values_keep_the_lifecycle_and_the_stream_goes_on():
    handler, events = run(
        order_frame(),
        order_frame(event="finish", finish_as="mystery", update_time_ms="1694655225316"),
        order_frame(event="update", side="hold", type="iceberg_v9", filled_amount="0.00004", left="0.00006", update_time_ms="1694655225317"),
    )
    orders = [e for e in events if isinstance(e, Order)]
    assert [o.status for o in orders] == [S.OPEN, S.UNKNOWN, S.PARTIALLY_FILLED]
    assert orders[1].raw_status == "finish/mystery"
    # the unknown finish did not end the order; the later update still applies
    held = handler.state.open_orders["399123456"]
    # a side the venue added later: the event says ``unknown`` with the venue's value (counted);
    # the held order keeps the side it had (sell) and applies the rest
    assert (orders[2].side, orders[2].raw_side) == ("unknown", "hold")
    assert (held.status, held.side, held.raw_side, held.order_type) == (S.PARTIALLY_FILLED, "sell", None, "iceberg_v9")
    assert handler.stats.errors["unknown_side"] == 1 and orders[0].raw_side is None


def test_malformed_private_frames_are_counted_and_not_applied():
    handler, events = run(
        order_frame(amount="1_000"),  # outside the grammar (Decimal would read it)
        order_frame(amount="NaN"),
        order_frame(amount="1e400"),
        order_frame(price=True),
        frame("spot.orders", [{"id": "1"}]),  # required fields missing
        b'{"time":1,"channel":"spot.orders","event":"update","result":[{"id":',
        frame("spot.balances", [{"currency": "BTC", "total": "abc"}]),
    )
    assert events == [] and handler.state.open_orders == {} and handler.state.balances == {}
    # each bad item came in an array: counted as a bad item (the push had no other); the
    # truncated frame is malformed
    assert handler.stats.errors["malformed_item"] == 6 and handler.stats.errors["malformed"] == 1
    # a lone object that does not fit is a malformed push
    bad_object = dict(DOC_ORDER, amount="1_000")
    run_handler, _ = run(frame("spot.orders", bad_object))
    assert run_handler.stats.errors["malformed"] == 1 and run_handler.state.open_orders == {}
    # and a good frame after them is applied
    handler._handle_message(order_frame(), 1)
    assert list(handler.state.open_orders) == ["399123456"]


@pytest.mark.parametrize("bad", [{"amount": "1_000"}, {"amount": "abc"}, {"price": True}, {"side": 5}])
def test_a_bad_item_of_a_multi_item_push_is_left_out_and_the_others_applied(bad):
    # the public rule (issue #10 item 3) on the account streams too, on the typed path and on the
    # strict one (a number outside the grammar), in any shape Gate sends a result
    second = dict(DOC_ORDER, id="399123457", amount="@")
    for result in ([dict(DOC_ORDER, **bad), second], [[dict(DOC_ORDER, **bad)], [second]]):
        # the second amount a bare JSON number with more digits than a float holds: kept exact
        raw = frame("spot.orders", result).replace(b'"@"', b"0.12345678901234567890123")
        handler, events = run(raw)
        assert [e.order_id for e in events if isinstance(e, Order)] == ["399123457"]
        assert handler.state.open_orders["399123457"].amount == D("0.12345678901234567890123")
        assert handler.stats.errors["malformed_item"] == 1 and handler.stats.errors["malformed"] == 0


def test_older_and_leaner_frames_still_decode():
    # numbers as JSON numbers, ids as integers, lower-case names, optional fields missing
    lean = frame("spot.orders", {"id": 2**63 + 5, "currency_pair": "eth_usdt", "side": "buy", "amount": 0.1, "price": 3000.5, "left": 0.1,
                                 "event": "put", "create_time": 1694655225, "fee_currency": "eth"})
    handler, [order] = run(lean)
    assert order.order_id == str(2**63 + 5) and order.venue_symbol == "ETH_USDT" and order.symbol == "ETH/USDT"
    assert order.amount == D("0.1") and order.price == D("3000.5") and order.fee_currency == "ETH"
    assert order.filled == D("0") and order.updated_ts is None and order.created_ts == 1694655225000 and order.exchange_ts is None
    old_balance = frame("spot.balances", [{"timestamp": "1605248616", "timestamp_ms": "1605248616123", "user": "1000001", "currency": "usdt",
                                           "change": "100", "total": "1032951.325075926", "available": "1022943.325075926"}])
    _, [balance] = run(old_balance)
    assert (balance.currency, balance.frozen, balance.total) == ("USDT", None, D("1032951.325075926"))
    fill = frame("spot.usertrades", {"id": 1, "order_id": 99, "currency_pair": "BTC_USDT", "side": "buy", "amount": "0.5", "price": 3.25e4,
                                     "create_time": 1605176741})
    _, [f] = run(fill)
    assert (f.trade_id, f.order_id, f.price, f.exchange_ts, f.role) == ("1", "99", D("3.25E+4"), 1605176741000, None)


def test_order_ids_beyond_2_53_stay_exact():
    big = "18446744073709551615123"
    _, [order] = run(order_frame(id=big))
    assert order.order_id == big
    _, [fill] = run(frame("spot.usertrades", [{"id": 2**53 + 1, "order_id": big, "currency_pair": "BTC_USDT", "side": "buy", "amount": "1",
                                                "price": "1"}]))
    assert fill.trade_id == str(2**53 + 1) and fill.order_id == big


def test_pushes_of_one_action_in_any_order_end_the_same():
    """A fill: usertrades, orders update and two balances, in every order."""
    put = order_frame(update_time_ms="1694655225315")
    pushes = [
        frame("spot.usertrades", [{"id": 1, "order_id": "399123456", "currency_pair": "BTC_USDT", "side": "sell", "amount": "0.00004",
                                   "price": "26253.3", "create_time_ms": "1694655226000.5"}]),
        order_frame(event="update", filled_amount="0.00004", left="0.00006", filled_total="1.050132", update_time_ms="1694655226000"),
        frame("spot.balances", [{"currency": "BTC", "total": "0.99996", "available": "0.99990", "freeze": "0.00006", "timestamp_ms": "1694655226000"}]),
        frame("spot.balances", [{"currency": "USDT", "total": "101.05", "available": "101.05", "freeze": "0", "timestamp_ms": "1694655226000"}]),
    ]
    finals = set()
    for order in itertools.permutations(pushes):
        handler, _ = run(put, *order)
        state = handler.state
        o = state.open_orders["399123456"]
        finals.add((o.status, o.filled, o.left, tuple(sorted((c, b.total, b.available) for c, b in state.balances.items())),
                    tuple(state.fills), state.fill_sums["399123456"]))
        assert state.invariants() == {}
    assert len(finals) == 1


def test_update_for_an_unknown_order_creates_it_and_older_updates_never_overwrite():
    handler, events = run(
        order_frame(event="update", filled_amount="0.00006", left="0.00004", update_time_ms="1694655225400"),
        order_frame(event="put", update_time_ms="1694655225315"),  # older: dropped
        order_frame(event="update", filled_amount="0.00002", left="0.00008", update_time_ms="1694655225500"),  # less filled: dropped
    )
    assert len([e for e in events if isinstance(e, Order)]) == 1
    assert handler.state.open_orders["399123456"].filled == D("0.00006")
    assert handler.state.stats["stale_order"] == 2


def test_auth_refusals_become_account_status_with_the_venue_label():
    ack = {"time": 1, "time_ms": 1000, "id": 3, "channel": "spot.orders", "event": "subscribe", "payload": ["!all"],
           "error": {"code": 4, "message": '{"label":"INVALID_KEY","message":"Invalid key provided"}'}, "result": {"status": "fail"}}
    creds = Credentials("CANARY-KEY", "CANARY-SECRET")
    events: list = []
    handler = GateioSpotPrivateWebSocketHandler(events.append, credentials=creds)
    ack["error"]["message"] += " auth data : CANARY-KEY"
    handler._handle_message(json.dumps(ack).encode(), 1)
    [error, status] = events
    assert isinstance(error, VenueError) and "CANARY" not in error.message and "***" in error.message
    assert isinstance(status, AccountStatus) and (status.status, status.code, status.message) == ("auth_failed", "INVALID_KEY", "Invalid key provided")
    expired = dict(ack, error={"code": 2, "message": 'http get status code err, status : 400, body : {"label":"REQUEST_EXPIRED","message":"gap"}'})
    handler._handle_message(json.dumps(expired).encode(), 1)
    assert isinstance(events[-1], VenueError)  # a clock refusal is not an auth failure
    assert auth.refusal(expired["error"]["message"], 2) == ("clock", "REQUEST_EXPIRED", "gap")
    assert auth.refusal('{"error":{"code":11,"message":"Authentication fail."}}', 11)[0] == "auth"
    assert auth.refusal("unknown currency pair NOPE_USDT", 2) is None


# -- signatures, computed here independently of cexfeed ------------------------------------------------


def test_ws_subscribe_signature_vector():
    key, secret, t = "ea83fad2604399da16bf97e6eea772a6", "my-secret", 1681984544
    protocol = GateioSpotPrivateProtocol(credentials=Credentials(key, secret))
    protocol.clock.offset_ms = t * 1000 - protocol.clock.now_ms() + protocol.clock.offset_ms + 400
    [sub] = protocol.subscriptions(["orders"], [])
    body = json.loads(protocol.subscribe_frame(sub, 9))
    expected = hmac.new(secret.encode(), f"channel=spot.orders&event=subscribe&time={t}".encode(), hashlib.sha512).hexdigest()
    assert body == {"time": t, "channel": "spot.orders", "event": "subscribe", "id": 9, "payload": ["!all"],
                    "auth": {"method": "api_key", "KEY": key, "SIGN": expected}}
    unsub = json.loads(protocol.unsubscribe_frame(sub, 10))
    assert unsub["auth"]["SIGN"] == hmac.new(secret.encode(), f"channel=spot.orders&event=unsubscribe&time={t}".encode(), hashlib.sha512).hexdigest()
    [balances] = protocol.subscriptions(["balances"], ["BTC_USDT", "ETH_USDT"])
    assert "payload" not in json.loads(protocol.subscribe_frame(balances, 1))  # no payload (§8.4)


def test_rest_signature_vector():
    secret = "my-secret"
    headers = auth.rest_headers(Credentials("k", secret), "GET", "/api/v4/spot/my_trades", "from=1700000000&limit=1000&page=1", b"", 1700000100)
    text = "GET\n/api/v4/spot/my_trades\nfrom=1700000000&limit=1000&page=1\n" + hashlib.sha512(b"").hexdigest() + "\n1700000100"
    assert headers == {"KEY": "k", "Timestamp": "1700000100",
                       "SIGN": hmac.new(secret.encode(), text.encode(), hashlib.sha512).hexdigest()}
    body = b'{"currency_pair":"BTC_USDT"}'
    posted = auth.rest_headers(Credentials("k", secret), "POST", "/api/v4/spot/orders", "", body, 1700000100)
    text = "POST\n/api/v4/spot/orders\n\n" + hashlib.sha512(body).hexdigest() + "\n1700000100"
    assert posted["SIGN"] == hmac.new(secret.encode(), text.encode(), hashlib.sha512).hexdigest()


def test_rest_balances_total_is_available_plus_locked():
    [usdt] = spot_balances(b'[{"currency":"usdt","available":"0.1","locked":"0.20000000000000001","update_id":3}]', 5)
    assert (usdt.currency, usdt.total, usdt.available, usdt.frozen, usdt.exchange_ts) == ("USDT", D("0.30000000000000001"), D("0.1"), D("0.20000000000000001"), None)
    with pytest.raises((ValueError, msgspec.ValidationError)):
        spot_balances(b'[{"currency":"USDT","available":"1_0","locked":"0"}]', 5)
