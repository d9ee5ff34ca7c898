"""Account-stream rows of the micro benchmark: Gate ``spot.orders``, ``spot.usertrades``,
``futures.orders`` and ``futures.positions``, and MEXC spot ``privateOrders``, ``privateDeals``
and ``privateAccount``, each raw frame taken to the applied account state and the published
event (the direct private handler, its strategy-path twin, the decode floor, ccxt.pro's own
receive path; cryptofeed has no Gate or MEXC private streams).

Gate frames follow the 2026 wire shapes (gateio-protocol.md §8.1, §8.3, §9.1, §9.3; futures
sizes as decimal strings, fees, rates and position values as JSON numbers written the way the
venue's encoder writes them, small ones in e-notation). MEXC frames are protobuf wrappers with
the private bodies of mexc-protocol.md §2.3 (built with
:mod:`cexfeed.exchanges.mexc.encode`; proto3 defaults left out as the venue's encoder does).
Orders go new/put -> partial update -> finish with distinct ids; fills have distinct trade ids;
balances change on every push; every frame changes the state. The account state is cleared
before each round.

Hooked into the harness by :func:`private_cases` (``frames.all_cases``), :func:`make_private_runner`
(``contenders.make_runner``) and :data:`PRIVATE_TARGETS` (``report.ROW_TARGETS``).
"""

from __future__ import annotations

import json
import random

from .frames import BASE_MS, FUTURES_CONTRACTS_JSON, SYMBOL_GATE, SYMBOL_MEXC, Case

KIND = "private"
RECV_TS = 1_764_400_000_000_000_000
LABELS = ("Gate spot.orders", "Gate spot.usertrades", "Gate futures.orders", "Gate futures.positions")
MEXC_LABELS = ("MEXC privateOrders", "MEXC privateDeals", "MEXC privateAccount")
#: issue 11's per-row targets: direct <= 3 us and >= 20x faster than ccxt.pro; issue 12's MEXC
#: rows: direct <= 4 us and >= 15x faster than ccxt.pro
PRIVATE_TARGETS = tuple(
    target for label in LABELS for target in ((label, "direct <= 3 us (median)", "us", 3.0), (label, "direct >= 20x faster than ccxt.pro (median)", "peer:ccxt.pro", 20.0))
) + tuple(
    target for label in MEXC_LABELS for target in ((label, "direct <= 4 us (median)", "us", 4.0), (label, "direct >= 15x faster than ccxt.pro (median)", "peer:ccxt.pro", 15.0))
)


def _frame(channel: str, item: dict, ms: int) -> bytes:
    return json.dumps({"time": ms // 1000, "time_ms": ms, "channel": channel, "event": "update", "result": [item]}, separators=(",", ":")).encode()


def _spot_order(oid: int, event: str, amount: str, left: str, filled: str, price: str, ms: int) -> dict:
    filled_total = f"{float(filled) * float(price):.8f}".rstrip("0").rstrip(".")
    return {
        "id": str(oid), "text": f"t-{oid}", "amend_text": "-", "create_time": str(ms // 1000), "update_time": str(ms // 1000),
        "create_time_ms": str(ms), "update_time_ms": str(ms), "currency_pair": SYMBOL_GATE, "type": "limit", "account": "spot",
        "side": "buy", "amount": amount, "price": price, "time_in_force": "gtc", "left": left, "filled_amount": filled,
        "filled_total": filled_total, "avg_deal_price": price if filled != "0" else "0", "fee": "0.0000123" if filled != "0" else "0",
        "fee_currency": "BTC", "point_fee": "0", "gt_fee": "0", "gt_discount": False, "rebated_fee": "0", "rebated_fee_currency": "USDT",
        "user": 10001, "event": event, "stp_id": 0, "stp_act": "-", "finish_as": "filled" if event == "finish" else "open", "biz_info": "-",
    }


def _futures_order(oid: int, status: str, size: str, left: str, price: str, update_id: int, ms: int) -> dict:
    finished = status == "finished"
    return {
        "contract": SYMBOL_GATE, "create_time": ms // 1000, "create_time_ms": ms, "fill_price": price if left != size else "0",
        "finish_as": "filled" if finished else "", "finish_time": ms // 1000 if finished else 0, "finish_time_ms": ms if finished else 0,
        "iceberg": "0", "id": oid, "id_string": str(oid), "is_close": False, "is_liq": False, "is_reduce_only": False, "left": left,
        "mkfr": -0.00025, "price": price, "refr": 0, "refu": 0, "size": size, "status": status, "text": f"t-{oid}", "tif": "gtc",
        "tkfr": 0.0005, "user": "10001", "update_id": update_id, "update_time": ms, "stop_loss_price": "", "stop_profit_price": "",
        "stp_act": "-", "stp_id": "0", "amend_text": "-", "biz_info": "-", "market_order_slip_ratio": "0.03",
    }


def private_cases(n: int, seed: int = 17) -> list[Case]:
    """The four account rows with ``n`` frames each."""
    rng = random.Random(seed)
    spot_orders, trades, futures_orders, positions = [], [], [], []
    for k in range((n + 2) // 3):
        oid = 1_036_717_689_726 + k
        ms = BASE_MS + k * 30
        price = f"{65000 + rng.randint(-500, 500) / 10:.1f}"
        amount = f"0.{rng.randint(100, 9999):04d}"
        part = f"{float(amount) * 0.4:.4f}"
        rest = f"{float(amount) - float(part):.4f}"
        spot_orders += [_frame("spot.orders", _spot_order(oid, e, amount, left, filled, price, ms + j), ms + j)
                        for j, (e, left, filled) in enumerate((("put", amount, "0"), ("update", rest, part), ("finish", "0", amount)))]
        size = str(rng.choice((-1, 1)) * rng.randint(2, 200))
        sign = -1 if size.startswith("-") else 1
        half = str(sign * (abs(int(size)) // 2))
        futures_orders += [_frame("futures.orders", _futures_order(oid, s, size, left, price, j + 1, ms + j), ms + j)
                           for j, (s, left) in enumerate((("open", size), ("open", half), ("finished", "0")))]
    for k in range(n):
        ms = BASE_MS + k * 10
        price = f"{65000 + rng.randint(-500, 500) / 10:.1f}"
        trades.append(_frame("spot.usertrades", {
            "id": 5_736_713_000 + k, "user_id": 10001, "order_id": str(1_036_717_689_726 + k // 2), "currency_pair": SYMBOL_GATE,
            "create_time": ms // 1000, "create_time_ms": f"{ms}.{k % 1000:03d}", "side": rng.choice(("buy", "sell")),
            "amount": f"0.{rng.randint(100, 9999):04d}", "role": rng.choice(("maker", "taker")), "price": price,
            "fee": f"0.0000{rng.randint(100, 999)}", "fee_currency": "BTC", "point_fee": "0", "gt_fee": "0", "text": "apiv4", "id_market": k,
        }, ms))
        size = rng.randint(1, 500) * rng.choice((-1, 1))
        entry = 65000 + rng.randint(-5000, 5000) / 100
        positions.append(_frame("futures.positions", {
            "contract": SYMBOL_GATE, "cross_leverage_limit": 0, "entry_price": entry, "history_pnl": -rng.randint(1, 9999) / 1e7,
            "history_point": 0, "last_close_pnl": -rng.randint(1, 999) / 1e9, "leverage": 10, "leverage_max": 100,
            "liq_price": round(entry * 0.9, 1), "maintenance_rate": 0.005, "margin": round(abs(size) * entry * 0.0001 / 10, 8),
            "mode": "single", "realised_pnl": -rng.randint(1, 999) / 1e8, "realised_point": 0, "risk_limit": 1000000, "size": str(size),
            "time": ms // 1000, "time_ms": ms, "user": "10001", "update_id": k + 1,
        }, ms))
    return [
        Case("gateio-spot", KIND, LABELS[0], spot_orders[:n], meta={"channel": "spot.orders"}),
        Case("gateio-spot", KIND, LABELS[1], trades, meta={"channel": "spot.usertrades"}),
        Case("gateio-perp", KIND, LABELS[2], futures_orders[:n], meta={"channel": "futures.orders"}),
        Case("gateio-perp", KIND, LABELS[3], positions, meta={"channel": "futures.positions"}),
    ] + mexc_private_cases(n, seed)


def mexc_private_cases(n: int, seed: int = 17) -> list[Case]:
    """The three MEXC account rows with ``n`` frames each (symbol BTCUSDT)."""
    from cexfeed.exchanges.mexc.encode import private_account_frame, private_deals_frame, private_orders_frame

    rng = random.Random(seed + 1)
    orders, deals, balances = [], [], []
    for k in range((n + 2) // 3):
        oid = f"C02__{600000000000000000 + k * 7}"
        ms = BASE_MS + k * 30
        price = f"{65000 + rng.randint(-500, 500) / 10:.1f}"
        qty = f"0.{rng.randint(100, 9999):04d}"
        part = f"{float(qty) * 0.4:.4f}"
        rest = f"{float(qty) - float(part):.4f}"
        total = f"{float(qty) * float(price):.8f}".rstrip("0").rstrip(".")
        done = f"{float(part) * float(price):.8f}".rstrip("0").rstrip(".")
        side = rng.choice((1, 2))
        common = {"id": oid, "clientId": f"c-{k}", "price": price, "quantity": qty, "amount": total, "orderType": 1, "tradeType": side,
                  "createTime": ms}
        for j, (status, left, filled, quote_done) in enumerate(((1, qty, "", ""), (3, rest, part, done), (2, "0", qty, total))):
            fields = dict(common, status=status, remainQuantity=left, remainAmount=f"{float(left) * float(price):.8f}".rstrip("0").rstrip("."))
            if filled:
                fields.update(cumulativeQuantity=filled, cumulativeAmount=quote_done, avgPrice=price, lastDealQuantity=part)
            orders.append(private_orders_frame(SYMBOL_MEXC, ms + j, **fields))
    for k in range(n):
        ms = BASE_MS + k * 10
        price = f"{65000 + rng.randint(-500, 500) / 10:.2f}"
        qty = f"0.{rng.randint(100, 9999):06d}"
        fields = {"price": price, "quantity": qty, "amount": f"{float(price) * float(qty):.8f}", "tradeType": rng.choice((1, 2)),
                  "tradeId": f"{731901896985399296 + k}X1", "orderId": f"C02__{600000000000000000 + k // 2}",
                  "feeAmount": f"0.0000{rng.randint(100, 999)}", "feeCurrency": "USDT", "time": ms}
        if rng.random() < 0.5:
            fields["isMaker"] = True
        deals.append(private_deals_frame(SYMBOL_MEXC, ms + 3, **fields))
        coin = ("USDT", "BTC", "MX")[k % 3]
        change = f"{rng.randint(1, 99999) / 100:.2f}"
        balances.append(private_account_frame(None, ms + 4, ms + 2, vcoinName=coin, coinId="128f589271cb4951b03e71e6323eb7be",
                                              balanceAmount=f"{10000 + k + rng.randint(0, 9999) / 1e4:.8f}", balanceAmountChange=f"-{change}",
                                              frozenAmount=f"{rng.randint(0, 9999) / 100:.2f}", frozenAmountChange=change,
                                              type="ENTRUST_PLACE", time=ms))
    return [
        Case("mexc-spot", KIND, MEXC_LABELS[0], orders[:n], symbol=SYMBOL_MEXC, meta={"channel": "spot@private.orders.v3.api.pb"}),
        Case("mexc-spot", KIND, MEXC_LABELS[1], deals, symbol=SYMBOL_MEXC, meta={"channel": "spot@private.deals.v3.api.pb"}),
        Case("mexc-spot", KIND, MEXC_LABELS[2], balances, symbol=SYMBOL_MEXC, meta={"channel": "spot@private.account.v3.api.pb"}),
    ]


def make_private_runner(contender: str, case: Case):
    """The runner of ``contender`` on an account row, ``None`` where it does not apply (cryptofeed)."""
    from .contenders import Runner, _sink

    if case.stream == "mexc-spot":
        return _mexc_runner(contender, case)
    if contender in ("direct", "strategy", "decode"):
        from cexfeed import venues
        from cexfeed.compat.gateio_private import replay_handler
        from cexfeed.exchanges.gateio.contracts import futures_symbol_map
        from cexfeed.exchanges.gateio.protocol import spot_symbol_map

        if contender == "decode":
            return Runner(venues.private_handler_class(case.stream)._frames.decode)
        if contender == "direct":
            symbols = futures_symbol_map(FUTURES_CONTRACTS_JSON) if case.stream == "gateio-perp" else spot_symbol_map()
            handler = venues.private_handler_class(case.stream)(_sink, symbols=symbols)
        else:
            handler = replay_handler(case.stream, FUTURES_CONTRACTS_JSON.encode() if case.stream == "gateio-perp" else None)
            handler.set_callback(_sink)
        handle = handler._handle_message
        return Runner(lambda raw: handle(raw, RECV_TS), handler.state.clear, lambda: handler.stats.events)
    if contender == "ccxt.pro":
        return _ccxt(case)
    return None


def _ccxt(case: Case):
    import ccxt.pro as ccxtpro
    from ccxt.async_support.base.ws.cache import ArrayCacheBySymbolBySide

    from .contenders import _CCXT_MARKETS, _OPEN, Runner

    exchange = ccxtpro.gate({"newUpdates": False})
    exchange.set_markets(_CCXT_MARKETS["gate"])
    url = exchange.urls["api"]["spot"] if case.stream == "gateio-spot" else exchange.urls["api"]["swap"]["usdt"]
    client = exchange.client(url)
    _OPEN.append(exchange)
    handle = client.handle_text_or_binary_message

    def reset() -> None:
        # what watch_orders / watch_my_trades / watch_positions set up before frames arrive
        exchange.orders = None
        exchange.myTrades = None
        exchange.positions = {kind: ArrayCacheBySymbolBySide() for kind in ("spot", "swap", "future", "option")}

    reset()
    # aiohttp hands ccxt text frames as str (its UTF-8 decode is not charged to ccxt here)
    return Runner(lambda raw: handle(raw.decode()), reset)


def _mexc_runner(contender: str, case: Case):
    from .contenders import _CCXT_MARKETS, _OPEN, Runner, _sink

    if contender == "decode":
        from cexfeed.exchanges.mexc.private_decode import decode_private

        return Runner(decode_private)
    if contender in ("direct", "strategy"):
        from cexfeed.compat.mexc_private import replay_handler
        from cexfeed.exchanges.mexc.private_handler import MexcPrivateWebSocketHandler

        handler = MexcPrivateWebSocketHandler(_sink) if contender == "direct" else replay_handler(None)
        handler.set_callback(_sink)
        handle = handler._handle_message
        return Runner(lambda raw: handle(raw, RECV_TS), handler.state.clear, lambda: handler.stats.events)
    if contender != "ccxt.pro":
        return None
    import ccxt.pro as ccxtpro

    exchange = ccxtpro.mexc({"newUpdates": False})
    exchange.set_markets(_CCXT_MARKETS["mexc"])
    ws = exchange.urls["api"]["ws"]
    client = exchange.client(ws["spot"] if isinstance(ws, dict) else ws)
    _OPEN.append(exchange)

    def reset() -> None:
        # what watch_orders / watch_my_trades / watch_balance leave before frames arrive
        exchange.orders = None
        exchange.myTrades = None
        exchange.balance = {}

    reset()
    # binary frames go to ccxt as they come off the socket (its protobuf decode is its own)
    return Runner(client.handle_text_or_binary_message, reset)
