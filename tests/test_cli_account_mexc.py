"""``cexfeed account mexc-spot`` as a user runs it (real subprocesses against the simulator),
``cexfeed replay`` of captured MEXC private frames, and the secrets canary: a canary key and
secret, and every listenKey the venue handed out, never appear in any log line (every level,
the WebSocket library's own included), exception, repr, CLI output or event."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import sys
from decimal import Decimal

import pytest

from cexfeed.credentials import Credentials
from cexfeed.exchanges.mexc import encode
from cexfeed.models import AccountStatus, Balance, ConnectionStatus, decode_event, encode_event
from cexfeed.net.rest import RestError
from cexfeed.sim import SimServer
from cexfeed.sim.mexc_private import TEST_KEY, TEST_SECRET
from cexfeed.sim.testing import wait_until

from private_helpers import settle
from test_private_mexc_e2e import open_account

VENUE = "mexc-spot"
CLI = [sys.executable, "-c", "from cexfeed.cli import main; main()"]
CANARY_KEY = "mx0CANARYKEY-5e1d9c"
CANARY_SECRET = "CANARYSECRET-mexc-8a7b"


def env(key: str = TEST_KEY, secret: str = TEST_SECRET) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("MEXC_", "GATEIO_"))}
    out.update(MEXC_API_KEY=key, MEXC_API_SECRET=secret, COLUMNS="160")
    return out


@pytest.fixture
async def sim():
    server = SimServer(seed=3, rate=5, venues=[VENUE])
    await server.start()
    yield server
    await server.stop()


def private(sim):
    return sim.venues[VENUE].private


async def run_cli(args: list[str], environ: dict[str, str], timeout: float = 40) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*CLI, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=environ)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


def account_args(sim, *more: str) -> list[str]:
    return ["account", VENUE, "--url", sim.ws_url(VENUE), "--rest-url", sim.rest_url(VENUE), "--symbols", "BTC/USDT", *more]


async def trade_soon(sim, uid: str | None = None) -> None:
    await asyncio.sleep(1.5)
    extra = {"uid": uid} if uid else {}
    made = await private(sim).act("place", symbol="BTCUSDT", side="BUY", quantity="0.01", price="50000", **extra)
    await private(sim).act("fill", order_id=made["order_id"], quantity="0.005", **extra)


async def test_account_jsonl_against_the_simulator(sim):
    await private(sim).act("deposit", currency="USDT", amount="1000")
    trading = asyncio.ensure_future(trade_soon(sim))
    code, out, err = await run_cli(account_args(sim, "--duration", "4", "--format", "jsonl"), env())
    await trading
    assert code == 0, err
    events = [decode_event(line) for line in out.splitlines()]
    tags = [type(e).__struct_config__.tag for e in events]
    assert tags[0] == "account_status" and events[0].status == "seeding"
    assert [e.status for e in events if isinstance(e, ConnectionStatus)][:2] == ["connecting", "connected"]
    assert all(e.url.endswith("listenKey=***") for e in events if isinstance(e, ConnectionStatus))
    assert [e.status for e in events if isinstance(e, AccountStatus)][:2] == ["seeding", "live"]
    assert {"order", "fill", "balance", "connection"} <= set(tags)
    balances = [e for e in events if isinstance(e, Balance)]
    first = balances[0]
    assert first.currency == "USDT" and first.change_type == "snapshot"
    # seeded before the trade (1000 free), or after it on a slow start (500 free + 250 locked: 250 spent)
    assert (first.total, first.available) in ((Decimal("1000"), Decimal("1000")), (Decimal("750"), Decimal("500")))
    assert first.total == first.available + first.frozen  # free + locked (MEXC sends no total)
    assert f'"available":"{first.available}"' in out.splitlines()[events.index(first)]  # exact decimals as strings
    assert "status live" in err
    # the key was deleted when the command ended
    assert private(sim).keys == {} and private(sim).key_calls["POST"] == 1


async def test_account_table_auth_failure_and_missing_keys(sim):
    await private(sim).act("deposit", currency="BTC", amount="0.25")
    code, out, err = await run_cli(account_args(sim, "--duration", "2"), env())
    assert code == 0, err
    assert "balances" in out and "BTC" in out and "0.25" in out and "status live" in out
    code, out, err = await run_cli(account_args(sim, "--duration", "2"), env(secret="wrong"))
    assert code == 1 and "refused the credentials" in err and "700002" in out
    code, out, err = await run_cli(["account", VENUE], {k: v for k, v in os.environ.items() if not k.startswith("MEXC_")}, 20)
    assert code == 1 and "MEXC_API_KEY" in err and "MEXC_API_SECRET" in err


def private_frames() -> list[bytes]:
    order = dict(id="C02__1", clientId="c-1", price="50000", quantity="0.01", amount="500", avgPrice="50000", orderType=1, tradeType=1,
                 remainAmount="300", remainQuantity="0.006", cumulativeQuantity="0.004", cumulativeAmount="200", status=3,
                 createTime=1_700_000_000_000)
    deal = dict(price="50000", quantity="0.004", amount="200", tradeType=1, isMaker=True, tradeId="9X1", orderId="C02__1",
                feeAmount="0.000004", feeCurrency="BTC", time=1_700_000_000_100)
    account = dict(vcoinName="USDT", balanceAmount="500", balanceAmountChange="0", frozenAmount="300", frozenAmountChange="-200",
                   type="ENTRUST", time=1_700_000_000_100)
    return [
        encode.aggre_deals_frame("BTCUSDT", [("50000", "0.1", 1, 1_700_000_000_000, "")], send_time=1_700_000_000_000),
        encode.private_orders_frame("BTCUSDT", 1_700_000_000_101, **order),
        encode.private_deals_frame("BTCUSDT", 1_700_000_000_101, **deal),
        encode.private_account_frame(None, 1_700_000_000_102, 1_700_000_000_100, **account),
    ]


@pytest.mark.parametrize("layout", ["hex", "bin"])
async def test_replay_of_private_frames(tmp_path, layout):
    frames = private_frames()
    if layout == "hex":
        path = tmp_path / "frames.txt"
        path.write_text("\n".join(f.hex() for f in frames))
        args = ["replay", str(path), "--venue", VENUE, "--format", "jsonl"]
    else:
        path = tmp_path / "frames"
        path.mkdir()
        for i, frame in enumerate(frames):
            (path / f"{i:03d}.bin").write_bytes(frame)
        args = ["replay", str(path), "--format", "jsonl"]
    code, out, err = await run_cli(args, dict(os.environ), 30)
    assert code == 0, err
    events = [decode_event(line) for line in out.splitlines()]
    assert [type(e).__struct_config__.tag for e in events] == ["trade", "order", "fill", "balance"]
    order, fill, balance = events[1:]
    assert (order.status.value, order.raw_status, order.filled, order.left) == ("partially_filled", "PARTIALLY_FILLED", Decimal("0.004"), Decimal("0.006"))
    assert (fill.trade_id, fill.role, fill.fee) == ("9X1", "maker", Decimal("0.000004"))
    assert (balance.currency, balance.available, balance.frozen, balance.frozen_change) == ("USDT", Decimal("500"), Decimal("300"), Decimal("-200"))


# -- the canary ---------------------------------------------------------------------------------------


def assert_no_secret(secrets: list[str], *texts: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, (secret[:12], text[:2000])


async def test_secrets_canary_in_the_library(sim, caplog):
    p = private(sim)
    p.add_account(CANARY_KEY, CANARY_SECRET, "777")
    creds = Credentials(CANARY_KEY, CANARY_SECRET)
    texts: list[str] = []
    caplog.set_level(1)  # every level, the WebSocket library's upgrade request (level 9) included
    root = logging.getLogger()
    before = root.level
    root.setLevel(1)
    try:
        events: list = []
        account = await open_account(sim, events, credentials=creds, keepalive_s=0.6, min_keepalive_s=0.3)
        await p.act("deposit", uid="777", currency="USDT", amount="5")
        # REST failures (retried, logged), a reconnect, a refused keep-alive and a lapse (new keys)
        await p.act("fail_rest", count=2)
        sim.drop_connections(VENUE)
        await p.act("refuse_put", count=1)
        assert await wait_until(lambda: account.protocol.keys.generation >= 2, 10)
        await p.act("lapse", uid="777")
        assert await wait_until(lambda: account.protocol.keys.generation >= 3, 10)
        await settle(account)
        texts += [repr(account), repr(account.protocol), repr(account.protocol.keys), repr(account.handler), repr(creds), str(creds),
                  repr(account.stats()), str(account.ack_results), repr(account.connection.subscriptions), account.connection.last_error]
        await account.close()
        bad = Credentials(CANARY_KEY, "not-the-secret")
        failed = await open_account(sim, events, credentials=bad, expect="auth_failed")
        texts += [repr(failed.ack_results), repr(failed.stats())]
        await failed.close()
        try:
            await failed.rest.get("/api/v3/account", sign=failed.protocol.sign_rest)
        except RestError as exc:
            texts.append(str(exc))
        encoded = [encode_event(e).decode() for e in events]
        assert "auth_failed" in [e.status for e in events if isinstance(e, AccountStatus)]
        assert any("listenKey=***" in t for t in encoded)
    finally:
        root.setLevel(before)
    gc.collect()
    assert caplog.records and any(r.levelno < logging.DEBUG for r in caplog.records), "the lowest levels were captured"
    assert any("Send upgrade request" in r.getMessage() for r in caplog.records)
    assert len(p.issued) >= 3
    assert_no_secret([CANARY_KEY, CANARY_SECRET, *p.issued], caplog.text, *(r.getMessage() for r in caplog.records), *texts, *encoded)


async def test_secrets_canary_in_the_cli(sim):
    p = private(sim)
    p.add_account(CANARY_KEY, CANARY_SECRET, "777")
    await p.act("deposit", uid="777", currency="USDT", amount="5000")
    for secret in (CANARY_SECRET, "wrong"):
        for fmt in ("jsonl", "table"):
            trading = asyncio.ensure_future(trade_soon(sim, "777"))
            code, out, err = await run_cli(["-vv", *account_args(sim, "--duration", "2.5", "--format", fmt)], env(CANARY_KEY, secret))
            await trading
            assert "DEBUG" in err  # the most verbose logging ran
            assert_no_secret([CANARY_KEY, CANARY_SECRET, *p.issued], out, err)
    assert p.issued  # keys were handed out (and looked for)


async def test_cli_account_ends_promptly_on_a_wrong_secret(sim):
    """No --duration: the refused secret ends the run, exit 1 with the venue's error (README)."""
    code, out, err = await run_cli(["account", VENUE, "--url", sim.ws_url(VENUE), "--rest-url", sim.rest_url(VENUE),
                                    "--symbols", "BTC/USDT", "--format", "jsonl"], env(secret="nope"), timeout=20)
    assert code == 1, err
    assert "Error: mexc-spot: the venue refused the credentials:" in err and "nope" not in err
    statuses = [e for e in map(decode_event, out.splitlines()) if isinstance(e, AccountStatus)]
    assert statuses[-1].status == "auth_failed" and statuses[-1].message in err
