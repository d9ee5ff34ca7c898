"""The compiled account state (``cexfeed._account``: the ``apply_*`` methods) and its pure-Python
twin (:class:`cexfeed.account.PyAccountState`) give the same published events, the same state
and the same counters for any sequence of account events and REST snapshots (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cexfeed.account import AccountSnapshot, AccountState, PyAccountState
from cexfeed.models import Balance, Fill, Order, OrderStatus, Position

pytestmark = pytest.mark.skipif(AccountState is PyAccountState, reason="cexfeed._account is not built")

D = Decimal
amounts = st.sampled_from([None, D("0"), D("0.5"), D("1"), D("1.0"), D("2"), D("-1"), D("3.25")])
times = st.sampled_from([None, 1000, 1001, 2000])
ids = st.sampled_from([None, 1, 2, 3])


@st.composite
def orders(draw):
    return Order(
        venue="gateio", market="spot", symbol="BTC/USDT", venue_symbol="BTC_USDT", exchange_ts=draw(times), recv_ts=1,
        order_id=draw(st.sampled_from(["1", "2", "3"])), side="buy", order_type="limit", status=draw(st.sampled_from(list(OrderStatus))),
        raw_status="x", price=draw(amounts), amount=draw(amounts), filled=draw(amounts), left=draw(amounts),
        filled_contracts=draw(amounts), avg_price=draw(amounts), fee=draw(amounts), updated_ts=draw(times), update_id=draw(ids),
    )


@st.composite
def fills(draw):
    return Fill(
        venue="gateio", market="spot", symbol="BTC/USDT", venue_symbol="BTC_USDT", exchange_ts=draw(times), recv_ts=1,
        trade_id=draw(st.sampled_from(["a", "b", "c", "d"])), order_id=draw(st.sampled_from(["1", "2", "3"])), side="buy",
        price=D("1"), amount=draw(amounts), contracts=draw(amounts),
    )


@st.composite
def balances(draw):
    return Balance(
        venue="gateio", market="spot", symbol="", venue_symbol="", exchange_ts=draw(times), recv_ts=1,
        currency=draw(st.sampled_from(["USDT", "BTC"])), total=draw(amounts), available=draw(amounts), frozen=draw(amounts),
    )


@st.composite
def positions(draw):
    mode = draw(st.sampled_from(["single", "dual_long", "dual_short"]))
    return Position(
        venue="gateio", market="perp", symbol=draw(st.sampled_from(["BTC/USDT:USDT", "ETH/USDT:USDT"])), venue_symbol="BTC_USDT",
        exchange_ts=draw(times), recv_ts=1, mode=mode, side=draw(st.sampled_from([None, "long", "short"])),
        contracts=draw(st.sampled_from([D("0"), D("1"), D("-2"), D("0.0")])), entry_price=draw(amounts), margin=draw(amounts),
        realised_pnl=draw(amounts), leverage=draw(amounts), update_id=draw(ids),
    )


@st.composite
def snapshots(draw):
    return AccountSnapshot(balances=draw(st.lists(balances(), max_size=2)), balances_complete=draw(st.booleans()),
                           open_orders=draw(st.lists(orders(), max_size=2)), orders=draw(st.lists(orders(), max_size=2)),
                           positions=draw(st.one_of(st.none(), st.lists(positions(), max_size=2))), fills=draw(st.lists(fills(), max_size=2)),
                           taken_ts=1500)


def _state(s) -> dict:
    return msgspec.to_builtins({
        "balances": s.balances, "open": s.open_orders, "closed": list(s.closed_orders.items()), "fills": list(s.fills.items()),
        "sums": {k: [str(x) for x in v] for k, v in s.fill_sums.items()}, "positions": {f"{k[0]} {k[1]}": v for k, v in s.positions.items()},
        "closed_positions": {f"{k[0]} {k[1]}": v for k, v in s._closed_positions.items()}, "stats": dict(s.stats), "last": s.last_fill_ts,
    })


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(orders(), fills(), balances(), positions(), snapshots()), max_size=30), st.sampled_from([2, 1000]),
       st.lists(st.integers(0, 29), max_size=8))
def test_compiled_state_matches_its_twin(events, max_closed, again):
    compiled, pure = AccountState("gateio", "spot", max_closed=max_closed, max_fills=3), PyAccountState("gateio", "spot", max_closed=max_closed, max_fills=3)
    # the same event objects applied again too (a snapshot or a push seen twice)
    events = events + [events[i] for i in again if i < len(events)]
    for event in events:
        if isinstance(event, AccountSnapshot):
            got, want = compiled.reconcile(event, 7), pure.reconcile(event, 7)
        else:
            got, want = compiled.apply(event), pure.apply(event)
        assert msgspec.to_builtins(got) == msgspec.to_builtins(want)
        assert _state(compiled) == _state(pure)
    assert compiled.invariants() == pure.invariants()
