"""The MEXC listenKey manager on a fake clock (no waiting): keep-alive cadence and its floor,
one key across reconnects, recreation on the venue's refusals (730708, 10072, HTTP 401), on a
failed keep-alive and on a lapse, reuse of a listed key, the 60-key and 5-connection limits,
deletion on close (mexc-protocol.md §3.1, §3.4; pitfalls #34-#37)."""

from __future__ import annotations

import asyncio

import pytest

from cexfeed.exchanges.mexc.listen_key import KEY_EXPIRED, KEY_REFUSED, ListenKeyLimit, ListenKeyManager
from cexfeed.net.rest import RestError

MIN = 60.0


class FakeClock:
    """Monotonic seconds that move only when the test says; ``sleep`` waits for them."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleepers: list[tuple[float, asyncio.Future]] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, delay: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.t + delay, future))
        await future

    async def advance(self, seconds: float, step: float = 10.0) -> None:
        """Move the clock by ``seconds`` in steps, letting the woken tasks run at each."""
        end = self.t + seconds
        while self.t < end:
            self.t = min(end, self.t + step)
            for due, future in list(self.sleepers):
                if due <= self.t and not future.done():
                    future.set_result(None)
                    self.sleepers.remove((due, future))
            for _ in range(5):
                await asyncio.sleep(0)


def refused(code: str, status: int = 400) -> RestError:
    return RestError(f"HTTP {status}", status, f'{{"code":"{code}","msg":"refused"}}'.encode())


class FakeApi:
    """The four userDataStream calls, recorded with the fake clock's time."""

    def __init__(self, clock: FakeClock, listed: list[str] | None = None) -> None:
        self.clock = clock
        self.listed = list(listed or [])
        self.calls: list[tuple[str, float, str]] = []
        self.put_errors: list[Exception] = []
        self.post_errors: list[Exception] = []
        self.seq = 0

    async def create(self) -> str:
        self.calls.append(("POST", self.clock.t, ""))
        if self.post_errors:
            raise self.post_errors.pop(0)
        self.seq += 1
        key = f"key{self.seq:02d}" + "0" * 58
        self.listed.append(key)
        return key

    async def list(self) -> list[str]:
        self.calls.append(("GET", self.clock.t, ""))
        return list(self.listed)

    async def keep_alive(self, key: str) -> None:
        self.calls.append(("PUT", self.clock.t, key))
        if self.put_errors:
            raise self.put_errors.pop(0)

    async def delete(self, key: str) -> None:
        self.calls.append(("DELETE", self.clock.t, key))
        if key in self.listed:
            self.listed.remove(key)

    def times(self, method: str) -> list[float]:
        return [t for m, t, _ in self.calls if m == method]


@pytest.fixture
def clock():
    return FakeClock()


def manager(clock: FakeClock, api: FakeApi, changes: list | None = None, **kwargs) -> ListenKeyManager:
    return ListenKeyManager(api, now=clock.now, sleep=clock.sleep,
                            on_change=(lambda *a: changes.append(a)) if changes is not None else None, **kwargs)


async def test_created_once_and_kept_alive_every_30_minutes(clock):
    api = FakeApi(clock)
    keys = manager(clock, api)
    key = await keys.acquire()
    assert [m for m, _, _ in api.calls] == ["GET", "POST"] and keys.stats["created"] == 1
    keys.start()
    await clock.advance(4 * 60 * MIN)
    puts = api.times("PUT")
    assert len(puts) == 8
    gaps = [b - a for a, b in zip([1000.0] + puts, puts)]
    assert gaps == [30 * MIN] * 8  # every 30 min, from the key's creation
    assert {k for m, _, k in api.calls if m == "PUT"} == {key}
    assert api.times("POST") == [1000.0] and keys.generation == 1
    await keys.close()


async def test_same_key_across_reconnects_and_never_more_often_than_the_floor(clock):
    api = FakeApi(clock)
    keys = manager(clock, api)
    key = await keys.acquire()
    # a reconnect asks for the key again (network loss): the same key, no request
    for _ in range(10):
        assert await keys.current() == key
    assert len(api.calls) == 2
    # keep-alives asked for in a hurry: one PUT, the rest skipped until the floor has passed
    await clock.advance(MIN)
    for _ in range(20):
        assert await keys.keep_alive() is True
        await clock.advance(10, step=10)
    assert len(api.times("PUT")) == 1 and keys.stats["keepalives_skipped"] == 19
    await clock.advance(5 * MIN)
    assert await keys.keep_alive() is True
    puts = api.times("PUT")
    assert len(puts) == 2 and puts[1] - puts[0] >= 5 * MIN
    await keys.close()


@pytest.mark.parametrize("error,reason,code,message", [
    (refused("730708"), KEY_REFUSED, "730708", "HTTP 400: refused"),
    (refused("10072", 401), KEY_REFUSED, "10072", "HTTP 401: refused"),
    (RestError("HTTP 401", 401, b"Unauthorized"), KEY_REFUSED, "401", "HTTP 401: Unauthorized"),
    (RestError("HTTP 500", 500, b""), KEY_EXPIRED, "", "HTTP 500"),
    # a code the manager does not know: the venue's code and message, not just "RestError"
    (RestError("HTTP 400", 400, b'{"code":700004,"msg":"Param error"}'), KEY_EXPIRED, "700004", "HTTP 400: Param error"),
    (RestError("HTTP 403", 403, b'{"code":700007,"msg":"No permission to access the endpoint."}'), KEY_REFUSED, "700007",
     "HTTP 403: No permission to access the endpoint."),
    (RestError("HTTP 429", 429, b'{"code":"429","msg":"Too Many Requests"}'), KEY_EXPIRED, "429", "HTTP 429: Too Many Requests"),
    (RestError("connection refused", 0), KEY_EXPIRED, "", "RestError"),
])
async def test_a_refused_or_failed_keep_alive_makes_a_new_key(clock, error, reason, code, message, caplog):
    api = FakeApi(clock)
    changes: list = []
    keys = manager(clock, api, changes)
    old = await keys.acquire()
    keys.start()
    api.put_errors.append(error)
    await clock.advance(31 * MIN)
    new = await keys.current()
    assert new != old and keys.generation == 2 and keys.stats["recreated"] == 1
    assert changes == [(old, new, reason, code, message)]
    assert f"keep-alive failed ({code or 'error'} {message})" in caplog.text
    # the old key is deleted, the new one kept alive from its creation on
    assert ("DELETE", 1000.0 + 30 * MIN, old) in api.calls
    await clock.advance(30 * MIN)
    assert [k for m, _, k in api.calls if m == "PUT"][-1] == new
    await keys.close()


async def test_a_refusal_of_the_socket_replaces_the_key_once(clock):
    api = FakeApi(clock)
    changes: list = []
    keys = manager(clock, api, changes)
    old = await keys.acquire()
    # three sockets on the old key were refused: one new key
    results = await asyncio.gather(*(keys.renew(KEY_REFUSED, "empty_ack", "", stale=old) for _ in range(3)))
    assert len(set(results)) == 1 and results[0] != old
    assert len(api.times("POST")) == 2 and len(changes) == 1
    # a refusal naming a key already replaced changes nothing
    assert await keys.renew(KEY_REFUSED, stale=old) == results[0] and len(api.times("POST")) == 2


async def test_a_lapsed_key_is_replaced_before_use(clock):
    api = FakeApi(clock)
    changes: list = []
    keys = manager(clock, api, changes)
    old = await keys.acquire()
    await clock.advance(61 * MIN)  # no keep-alive task ran (e.g. the process slept)
    assert not keys.valid
    new = await keys.current()
    assert new != old and changes[0][2] == KEY_EXPIRED


async def test_refused_credentials_while_recreating(clock):
    api = FakeApi(clock)
    failures: list = []
    keys = manager(clock, api, on_auth_failed=lambda code, message: failures.append(code))
    old = await keys.acquire()
    api.post_errors.append(refused("10072", 401))
    with pytest.raises(RestError):
        await keys.renew(KEY_REFUSED, "730708", stale=old)
    assert failures == ["10072"]
    # the next attempt (venue back) makes the key, told as a change from the old one
    changes: list = []
    keys.on_change = lambda *a: changes.append(a)
    new = await keys.current()
    assert new != old and changes[0][:2] == (old, new)


async def test_keepalive_task_retries_when_no_key_can_be_made(clock):
    api = FakeApi(clock)
    changes: list = []
    keys = manager(clock, api, changes)
    old = await keys.acquire()
    keys.start()
    api.put_errors.append(refused("730708"))
    api.post_errors += [RestError("down", 0), RestError("down", 0)]
    await clock.advance(35 * MIN, step=1)
    assert keys.key is not None and keys.key != old and changes and changes[-1][0] == old
    assert len(api.times("POST")) == 4
    await keys.close()


async def test_reuses_a_listed_key_and_respects_the_60_key_limit(clock):
    mine = "mine" + "0" * 60
    api = FakeApi(clock, listed=["other" + "0" * 59, mine])
    keys = manager(clock, api, reuse=mine)
    assert await keys.acquire() == mine
    assert [m for m, _, _ in api.calls] == ["GET", "PUT"] and keys.stats["reused"] == 1
    await keys.close()
    assert "DELETE" not in [m for m, _, _ in api.calls]  # a reused key stays its owner's
    full = FakeApi(clock, listed=[f"k{i:02d}" + "0" * 61 for i in range(60)])
    keys = manager(clock, full)
    assert await keys.acquire() == full.listed[-1] and full.times("POST") == []


async def test_five_connections_per_key_and_delete_on_close(clock):
    api = FakeApi(clock)
    keys = manager(clock, api)
    key = await keys.acquire()
    for _ in range(4):
        assert await keys.acquire() == key
    with pytest.raises(ListenKeyLimit):
        await keys.acquire()
    keys.release()
    assert await keys.acquire() == key
    await keys.close()
    assert api.calls[-1] == ("DELETE", clock.t, key) and keys.key is None
    assert key not in repr(keys)


def test_timing_is_checked():
    with pytest.raises(ValueError):
        ListenKeyManager(FakeApi(FakeClock()), keepalive_s=60 * MIN, validity_s=60 * MIN)
    with pytest.raises(ValueError):
        ListenKeyManager(FakeApi(FakeClock()), min_keepalive_s=0)


async def test_a_keep_alive_failure_never_shows_the_key(clock, caplog):
    # the venue's message echoes the key: the event and the log show the rest of it, masked
    api = FakeApi(clock)
    changes: list = []
    keys = manager(clock, api, changes)
    old = await keys.acquire()
    keys.start()
    api.put_errors.append(RestError(f"HTTP 400 PUT ...?listenKey={old}", 400,
                                    f'{{"code":"700008","msg":"listenKey {old} is not valid"}}'.encode()))
    await clock.advance(31 * MIN)
    assert changes[0][2:] == (KEY_EXPIRED, "700008", "HTTP 400: listenKey *** is not valid")
    assert old not in repr(changes[0][2:]) + caplog.text and "700008" in caplog.text
    await keys.close()


async def test_keep_alive_detail_reaches_the_account_event_without_secrets(clock, caplog):
    # through the account protocol: the venue's code and message go to the session listener (the
    # key_changed event); a listenKey or an API key the venue echoes is masked (canary)
    from cexfeed.credentials import Credentials
    from cexfeed.exchanges.mexc.private_protocol import MexcSpotPrivateProtocol

    protocol = MexcSpotPrivateProtocol("ws://127.0.0.1:1/ws", "http://127.0.0.1:1",
                                       credentials=Credentials("mx0vglCANARYKEY", "CANARYSECRET123"))
    api = FakeApi(clock)
    keys = manager(clock, api)
    protocol.keys = keys
    heard: list = []
    protocol.session_listener = lambda *a: heard.append(a)
    protocol._manager(None)  # the hooks the protocol sets on its manager
    old = await keys.acquire()
    keys.start()
    api.put_errors.append(RestError("HTTP 400", 400, f'{{"code":"700010","msg":"key {old} of mx0vglCANARYKEY: busy"}}'.encode()))
    await clock.advance(31 * MIN)
    assert heard == [("renew", KEY_EXPIRED, "700010", "HTTP 400: key *** of ***: busy")]
    assert "CANARY" not in repr(heard) + caplog.text and old not in repr(heard) + caplog.text
    assert "keep-alive failed (700010 HTTP 400: key *** of ***: busy)" in caplog.text
    await keys.close()
