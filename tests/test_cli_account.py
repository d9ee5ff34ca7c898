"""``cexfeed account`` as a user runs it (real subprocesses against the simulator), replay of
captured private frames, and the secrets canary: a canary key and secret never appear in any
log line (DEBUG included), exception, repr, CLI output or JSONL event."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import re
import sys
from decimal import Decimal

import pytest

from cexfeed.capture import Replay, read_raw_frames
from cexfeed.credentials import Credentials
from cexfeed.models import AccountStatus, Balance, ConnectionStatus, Order, decode_event, encode_event
from cexfeed.net.rest import RestError
from cexfeed.sim import SimServer
from cexfeed.sim.gateio_private import TEST_KEY, TEST_SECRET, TEST_UID

from private_helpers import open_account, settle

CLI = [sys.executable, "-c", "from cexfeed.cli import main; main()"]
CANARY_KEY = "CANARYKEY-7f3e9a1c"
CANARY_SECRET = "CANARYSECRET-b2d4f6a8"


def env(key: str = TEST_KEY, secret: str = TEST_SECRET, uid: str = TEST_UID) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("GATEIO_")}
    out.update(GATEIO_API_KEY=key, GATEIO_API_SECRET=secret, GATEIO_UID=uid, COLUMNS="160")
    return out


@pytest.fixture
async def sim():
    server = SimServer(seed=3, rate=5, venues=["gateio-spot", "gateio-perp"])
    await server.start()
    yield server
    await server.stop()


async def run_cli(args: list[str], environ: dict[str, str], timeout: float = 40) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*CLI, *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=environ)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()


async def trade_soon(sim, venue: str) -> None:
    await asyncio.sleep(1.5)
    private = sim.venues[venue].private
    if venue == "gateio-spot":
        made = await private.act("place", pair="BTC_USDT", side="buy", amount="0.01", price="50000")
        await private.act("fill", order_id=made["order_id"], amount="0.005")
    else:
        made = await private.act("place", contract="ETH_USDT", size="2.5", price="3000")
        await private.act("fill", order_id=made["order_id"])


@pytest.mark.parametrize("venue", ["gateio-spot", "gateio-perp"])
async def test_account_jsonl_against_the_simulator(sim, venue):
    private = sim.venues[venue].private
    if venue == "gateio-spot":
        await private.act("deposit", currency="USDT", amount="1000")
    else:
        await private.act("deposit", amount="1000")
    trading = asyncio.ensure_future(trade_soon(sim, venue))
    code, out, err = await run_cli(["account", venue, "--url", sim.ws_url(venue), "--rest-url", sim.rest_url(venue), "--duration", "4",
                                    "--format", "jsonl"], env())
    await trading
    assert code == 0, err
    events = [decode_event(line) for line in out.splitlines()]
    tags = [type(e).__struct_config__.tag for e in events]
    assert tags[0] == "account_status" and events[0].status == "seeding"
    # the connection reports itself as on a market stream, then the snapshot seeds the account
    assert [e.status for e in events if isinstance(e, ConnectionStatus)][:2] == ["connecting", "connected"]
    account = [e for e in events if not isinstance(e, ConnectionStatus)]
    assert account[2].status == "live"
    assert {"order", "fill", "balance", "connection"} <= set(tags)
    if venue == "gateio-perp":
        assert "position" in tags
    balances = [e for e in events if isinstance(e, Balance)]
    assert balances[0].total == Decimal("1000") and balances[0].change_type == "snapshot"
    first_balance = out.splitlines()[events.index(balances[0])]
    assert '"total":"1000"' in first_balance  # exact decimals as strings in JSON
    assert "status live" in err


async def test_account_table_and_auth_failure(sim):
    await sim.venues["gateio-spot"].private.act("deposit", currency="BTC", amount="0.25")
    code, out, err = await run_cli(["account", "gateio-spot", "--url", sim.ws_url("gateio-spot"), "--rest-url", sim.rest_url("gateio-spot"),
                                    "--duration", "2"], env())
    assert code == 0, err
    assert "balances" in out and "BTC" in out and "0.25" in out and "status live" in out and "open orders" in out
    code, out, err = await run_cli(["account", "gateio-spot", "--url", sim.ws_url("gateio-spot"), "--rest-url", sim.rest_url("gateio-spot"),
                                    "--duration", "2"], env(secret="wrong"))
    assert code == 1 and "refused the credentials" in err and "INVALID_SIGNATURE" in out


async def test_account_without_keys_names_the_variables():
    code, out, err = await run_cli(["account", "gateio-perp"], {k: v for k, v in os.environ.items() if not k.startswith("GATEIO_")}, 20)
    assert code == 1 and "GATEIO_API_KEY" in err and "GATEIO_API_SECRET" in err


def test_replay_routes_private_frames_to_the_private_handler(tmp_path):
    frames = [
        {"time": 1, "time_ms": 1000, "channel": "spot.order_book_update", "event": "update",
         "result": {"t": 1000, "s": "BTC_USDT", "U": 5, "u": 6, "b": [["1", "2"]], "a": []}},
        {"time": 1, "time_ms": 1000, "channel": "spot.orders", "event": "update",
         "result": [{"id": "9", "currency_pair": "BTC_USDT", "side": "buy", "amount": "1", "price": "2", "left": "1", "event": "put",
                     "update_time_ms": "1000"}]},
        {"time": 1, "time_ms": 1000, "channel": "spot.balances", "event": "update",
         "result": [{"currency": "USDT", "total": "3", "available": "1", "freeze": "2", "timestamp_ms": "1000"}]},
    ]
    path = tmp_path / "frames.txt"
    path.write_text("\n".join(json.dumps(f) for f in frames))
    events: list = []
    rep = Replay("gateio-spot", None, events.append)
    rep.feed(read_raw_frames(path))
    assert [type(e).__name__ for e in events] == ["Order", "Balance"]
    assert rep.private.state.open_orders["9"].price == Decimal("2") and rep.handler.stats.errors == {}
    # summary-json of account-only frames: the account's counts, not {}
    from click.testing import CliRunner
    from cexfeed.cli import main

    path.write_text("\n".join(json.dumps(f) for f in frames[1:]))
    result = CliRunner().invoke(main, ["replay", str(path), "--venue", "gateio-spot", "--format", "summary-json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"account": {"frames": 2, "events": 2, "errors": {}, "balances": 1, "open_orders": 1, "positions": 0, "fills": 0}}


# -- the canary ---------------------------------------------------------------------------------------


# any HMAC-SHA512 in hex: a signature made with the canary secret must never show either
SIGNATURE = re.compile(r"[0-9a-f]{128}")


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert CANARY_KEY not in text and CANARY_SECRET not in text, text[:2000]
        found = SIGNATURE.search(text)
        assert found is None, text[max(0, found.start() - 300): found.end() + 100]


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
async def test_secrets_canary_in_the_library(sim, caplog, architecture):
    venue = "gateio-spot"
    private = sim.venues[venue].private
    private.add_account(CANARY_KEY, CANARY_SECRET, "777")
    creds = Credentials(CANARY_KEY, CANARY_SECRET, "777")
    encoded: list[bytes] = []
    texts: list[str] = []
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        events: list = []
        account = await open_account(sim, venue, events, credentials=creds, architecture=architecture)
        await private.act("deposit", uid="777", currency="USDT", amount="5")
        # REST failures (retried, logged), a reconnect, an auth refusal echoing the auth data
        await private.act("fail_rest", count=2)
        sim.drop_connections(venue)
        await asyncio.sleep(0.5)
        await settle(account)
        texts += [repr(account), repr(account.protocol), repr(account.handler), repr(creds), str(creds), repr(account.stats()),
                  str(account.ack_results), repr(account.connection.subscriptions)]
        await account.close()
        await private.act("echo_auth", on=True)
        bad = Credentials(CANARY_KEY, "not-the-secret", "777")
        failed = await open_account(sim, venue, events, credentials=bad, expect="auth_failed", architecture=architecture)
        texts += [repr(failed.ack_results), repr(failed.stats())]
        await failed.close()
        # REST errors that would carry the venue's answer
        try:
            await failed.rest.get("/spot/accounts", sign=failed.protocol.sign_rest)
        except RestError as exc:
            texts.append(str(exc))
        encoded = [encode_event(e) for e in events]
        statuses = [e for e in events if isinstance(e, AccountStatus)]
        assert "auth_failed" in [s.status for s in statuses] and any(isinstance(e, Order) or isinstance(e, Balance) for e in events)
        assert any("***" in e.message for e in events if getattr(e, "message", None))
        # the echo carried the request's signature too: masked like the key (trial #8)
        assert any('"SIGN": "***"' in e.message for e in events if getattr(e, "message", None))
    finally:
        logging.getLogger().setLevel(logging.WARNING)
    gc.collect()
    assert caplog.records, "DEBUG logging was captured"
    assert_no_canary(caplog.text, *texts, *(b.decode() for b in encoded))


async def test_secrets_canary_in_the_cli(sim):
    sim.venues["gateio-perp"].private.add_account(CANARY_KEY, CANARY_SECRET, "777")
    await sim.venues["gateio-perp"].private.act("echo_auth", on=True)
    for secret in (CANARY_SECRET, "wrong"):
        for fmt in ("jsonl", "table"):
            code, out, err = await run_cli(["-vv", "account", "gateio-perp", "--url", sim.ws_url("gateio-perp"), "--rest-url",
                                            sim.rest_url("gateio-perp"), "--duration", "2", "--format", fmt],
                                           env(CANARY_KEY, secret, "777"))
            assert "DEBUG" in err  # the most verbose logging ran
            assert_no_canary(out, err)


# -- a refused private subscription (trial #1) ----------------------------------------------------------


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
async def test_a_wrong_uid_leaves_the_account_refused_not_live(sim, architecture):
    """A valid key with another user id: the venue refuses the private channels whose payload
    starts with the uid; the account must not go live on what is left."""
    events: list = []
    account = await open_account(sim, "gateio-perp", events, credentials=Credentials(TEST_KEY, TEST_SECRET, "999"),
                                 expect="refused", architecture=architecture)
    try:
        await asyncio.sleep(0.3)
        statuses = [e for e in events if isinstance(e, AccountStatus)]
        assert [s.status for s in statuses] == ["seeding", "refused"]
        refused = statuses[-1]
        assert refused.reason == "subscription"
        assert refused.message.startswith("6 of 8 private subscriptions refused: orders !all: invalid argument: the first item must be")
        assert "balances: invalid argument" in refused.message and account.stats()["refused"] == refused.message
        # a reconnect does not make it live either
        sim.drop_connections("gateio-perp")
        await asyncio.sleep(1.0)
        assert account.status == "refused" and account.syncs == 0
    finally:
        await account.close()


async def test_cli_account_exits_1_on_a_wrong_uid(sim):
    code, out, err = await run_cli(["account", "gateio-perp", "--url", sim.ws_url("gateio-perp"), "--rest-url", sim.rest_url("gateio-perp"),
                                    "--duration", "2", "--format", "jsonl"], env(uid="999"))
    assert code == 1, err
    assert "Error: gateio-perp: 6 of 8 private subscriptions refused: orders !all: invalid argument" in err
    assert "the account is not live" in err
    statuses = [e.status for e in map(decode_event, out.splitlines()) if isinstance(e, AccountStatus)]
    assert "live" not in statuses and statuses[-1] == "refused"  # also after the close


# -- auth_failed / refused are terminal (README: exit 1; events() ends) ---------------------------------


@pytest.mark.parametrize("venue,environ", [("gateio-spot", {"secret": "nope"}), ("gateio-perp", {"uid": "999"})])
async def test_cli_account_ends_promptly_on_a_refused_key_without_a_duration(sim, venue, environ):
    """No --duration: a refused key or uid ends the run itself, exit 1 with the venue's error."""
    code, out, err = await run_cli(["account", venue, "--url", sim.ws_url(venue), "--rest-url", sim.rest_url(venue),
                                    "--format", "jsonl"], env(**environ), timeout=20)
    assert code == 1, err
    if venue == "gateio-spot":
        assert "Error: gateio-spot: the venue refused the credentials: INVALID_SIGNATURE" in err
    else:
        assert "Error: gateio-perp: 6 of 8 private subscriptions refused" in err
    statuses = [e.status for e in map(decode_event, out.splitlines()) if isinstance(e, AccountStatus)]
    assert statuses[-1] == ("auth_failed" if venue == "gateio-spot" else "refused")


@pytest.mark.parametrize("credentials,expect", [(Credentials(TEST_KEY, "nope", TEST_UID), "auth_failed"),
                                                (Credentials(TEST_KEY, TEST_SECRET, "999"), "refused")])
async def test_account_events_end_after_a_terminal_status(sim, credentials, expect):
    from cexfeed.private_feed import Account

    account = Account("gateio-perp", credentials, url=sim.ws_url("gateio-perp"), rest_url=sim.rest_url("gateio-perp"), ack_timeout=3.0)
    try:
        seen = []

        async def read():
            async for event in account.events():
                seen.append(event)

        reader = asyncio.ensure_future(read())
        assert await account.start(10.0) == expect
        await asyncio.wait_for(reader, 5)  # ended by itself, without close()
        statuses = [e for e in seen if isinstance(e, AccountStatus)]
        assert statuses[-1].status == expect and account.ended
        assert account.failure and account.failure in f"{statuses[-1].code} {statuses[-1].message}".strip()
    finally:
        await account.close()


@pytest.mark.parametrize("architecture", ["direct", "strategy"])
@pytest.mark.parametrize("venue,channels", [("gateio-spot", 3), ("gateio-perp", 8)])
async def test_a_refused_key_is_one_status_naming_the_channels_and_one_error(sim, venue, channels, architecture):
    from cexfeed.models import VenueError

    events: list = []
    account = await open_account(sim, venue, events, credentials=Credentials(TEST_KEY, "nope", TEST_UID), expect="auth_failed",
                                 architecture=architecture)
    try:
        await asyncio.sleep(0.3)
        failed = [e for e in events if isinstance(e, AccountStatus) and e.status == "auth_failed"]
        assert len(failed) == 1 and failed[0].code == "INVALID_SIGNATURE"
        assert failed[0].message.startswith(f"Signature mismatch ({channels} of {channels} private subscriptions refused: orders !all, fills !all")
        errors = [e for e in events if isinstance(e, VenueError)]
        assert len(errors) == 1 and "INVALID_SIGNATURE" in errors[0].message
    finally:
        await account.close()
