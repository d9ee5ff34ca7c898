"""The MEXC listenKey of one account stream, kept by a task of its own (mexc-protocol.md §3.1,
§3.3, §3.4; pitfalls #34-#37).

:class:`ListenKeyManager` holds one key:

- **create once**: at start it lists the account's valid keys (``GET``); a key given to reuse
  (``reuse=``) that is still listed is taken, and so is one of the listed keys when the account
  already holds the venue's maximum of 60; otherwise one key is created (``POST``). The same key
  serves every reconnect (a network loss never makes a new key);
- **keep alive** every ``keepalive_s`` (30 min, the Doc's advice; the key lives 60 min after
  its creation or last ``PUT``) and never more often than ``min_keepalive_s`` (5 min: a client
  extending every 10 s was refused with ``730708``);
- **recreate** it when the venue refuses it (``730708``, ``10072`` or HTTP 401 on the ``PUT``,
  an empty answer to the private subscription), when the ``PUT`` fails for any other reason
  after its retries, or when its 60 min ran out unextended (e.g. the process slept); the old key
  is deleted (best effort) and ``on_change(old, new, reason)`` is told, so the socket moves to
  the new key and the account reconciles;
- **delete** the keys it created on :meth:`close` (a key given to reuse is left to its owner);
- at most ``max_connections`` (5, the venue's limit per key) connections :meth:`acquire` it.

A refused request time (``700003``) measures the server clock again (``on_clock``) and tries
once more. A refusal of the ``POST`` itself (``10072``, ``700002`` ...) is an authentication failure: it
is raised (:class:`~cexfeed.net.rest.RestError`) from :meth:`acquire`, or reported to
``on_auth_failed(code, message)`` when it happens while recreating. Time comes from ``now``
(monotonic seconds) and waits from ``sleep``: both can be replaced (tests drive the cadence with
a fake clock).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import Awaitable, Callable

import msgspec

from ...net.backoff import Backoff
from ...net.rest import RestClient, RestError, Signer
from ...tasks import cancel_and_wait
from . import auth

log = logging.getLogger("cexfeed.account")

LISTEN_KEY_PATH = "/api/v3/userDataStream"
#: §3.1: a key lives 60 min after its creation or last keep-alive; the Doc advises 30 min
VALIDITY_S = 60 * 60
KEEPALIVE_S = 30 * 60
#: the floor between two keep-alives (mexc-api-demo#35: every 10 s got 730708)
MIN_KEEPALIVE_S = 5 * 60
#: §1.5: at most 60 valid keys per account and 5 connections per key
MAX_KEYS = 60
MAX_CONNECTIONS_PER_KEY = 5

# why a key was replaced (the reason of the account's status events)
KEY_EXPIRED = "key_expired"
KEY_REFUSED = "key_refused"


class _Created(msgspec.Struct):
    listenKey: str


class _Listed(msgspec.Struct):
    listenKey: list[str] | str = []


_created = msgspec.json.Decoder(_Created)
_listed = msgspec.json.Decoder(_Listed)


class ListenKeyRest:
    """The four signed ``/api/v3/userDataStream`` calls (§3.1) on ``rest`` with ``sign``.
    Each raises :class:`~cexfeed.net.rest.RestError` (or ``msgspec`` errors on a body that is
    not the documented shape); ``mask`` learns every key seen so no text shows it."""

    def __init__(self, rest: RestClient, sign: Signer, mask: auth.KeyMask) -> None:
        self.rest = rest
        self.sign = sign
        self.mask = mask

    async def create(self) -> str:
        """``POST``: a new key."""
        key = _created.decode(await self.rest.post(LISTEN_KEY_PATH, sign=self.sign)).listenKey
        self.mask.add(key)
        return key

    async def list(self) -> list[str]:
        """``GET``: the account's valid keys (one key may come as a string)."""
        keys = _listed.decode(await self.rest.get(LISTEN_KEY_PATH, sign=self.sign)).listenKey
        keys = [keys] if isinstance(keys, str) else list(keys)
        for key in keys:
            self.mask.add(key)
        return keys

    async def keep_alive(self, key: str) -> None:
        """``PUT``: the key lives another 60 min."""
        await self.rest.put(LISTEN_KEY_PATH, {"listenKey": key}, sign=self.sign)

    async def delete(self, key: str) -> None:
        """``DELETE``: the key is invalid at once."""
        await self.rest.delete(LISTEN_KEY_PATH, {"listenKey": key}, sign=self.sign)


def classify(error: Exception) -> tuple[str, str, str] | None:
    """:func:`auth.refusal` of a failed REST call (``None`` for transport errors and other
    answers)."""
    if isinstance(error, RestError) and error.status:
        code, message = auth.error_of(error.body)
        return auth.refusal(code, message, error.status)
    return None


def failure(error: Exception) -> tuple[str, str]:
    """``(code, message)`` of a failed REST call, for the log and the ``key_changed`` event: the
    venue's ``code`` and ``msg`` from its answer, the message led by the HTTP status
    (``HTTP 400: listen key information error``); for a transport failure no code and the
    error's type (its text may hold the URL). Keys and secrets are masked by the caller."""
    if isinstance(error, RestError) and error.status:
        code, message = auth.error_of(error.body)
        return code, f"HTTP {error.status}: {message}" if message else f"HTTP {error.status}"
    return "", type(error).__name__


class ListenKeyLimit(RuntimeError):
    """More connections asked for one key than the venue allows (5)."""


class ListenKeyManager:
    """One account stream's listenKey (see the module docstring). ``api`` has the methods of
    :class:`ListenKeyRest`. ``stats`` counts ``created``, ``reused``, ``keepalives``,
    ``keepalives_skipped`` (asked within the floor), ``keepalive_failures``, ``recreated``,
    ``deleted``, ``delete_failures``."""

    def __init__(
        self,
        api: ListenKeyRest,
        *,
        on_change: Callable[[str | None, str, str, str, str], None] | None = None,
        on_auth_failed: Callable[[str, str], None] | None = None,
        on_clock: Callable[[], Awaitable[object]] | None = None,
        reuse: str | None = None,
        keepalive_s: float = KEEPALIVE_S,
        min_keepalive_s: float = MIN_KEEPALIVE_S,
        validity_s: float = VALIDITY_S,
        max_connections: int = MAX_CONNECTIONS_PER_KEY,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not 0 < min_keepalive_s <= keepalive_s < validity_s:
            raise ValueError("listenKey timing needs 0 < min_keepalive_s <= keepalive_s < validity_s")
        self.api = api
        self.on_change = on_change
        self.on_auth_failed = on_auth_failed
        self.on_clock = on_clock
        self.reuse = reuse
        self.keepalive_s = keepalive_s
        self.min_keepalive_s = min_keepalive_s
        self.validity_s = validity_s
        self.max_connections = max_connections
        self.now = now
        self.sleep = sleep
        self.key: str | None = None
        # keys this manager created (deleted on close)
        self.owned: set[str] = set()
        self.generation = 0
        self.connections = 0
        # monotonic s: when the key was made or last extended; of the last PUT attempt
        self.alive_since = 0.0
        self.last_put: float | None = None
        self.stats: Counter[str] = Counter()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._retry = Backoff(initial=1.0, cap=60.0)
        self._retry_at: float | None = None
        # the key being replaced while no new one could be made yet
        self._lost: str | None = None
        self._closed = False
        self._deletions: set[asyncio.Task] = set()
        # the account protocol's masking of its credentials, applied by scrub() on top
        self.redact: Callable[[str], str] | None = None

    def scrub(self, text: str) -> str:
        """``text`` without any listenKey this manager or its ``api`` has seen, nor (``redact``,
        set by the account protocol) its credentials: ``***`` in their place."""
        mask = getattr(self.api, "mask", None)
        if mask is not None:
            text = mask.scrub(text)
        for key in (self.key, self._lost, *self.owned):
            if key and key in text:
                text = text.replace(key, auth.MASK)
        return text if self.redact is None else self.redact(text)

    def __repr__(self) -> str:  # never the key
        return f"ListenKeyManager(generation={self.generation}, connections={self.connections}, stats={dict(self.stats)})"

    # -- the key ------------------------------------------------------------------------------
    @property
    def valid(self) -> bool:
        """Whether the current key is within its 60 min as far as we know."""
        return self.key is not None and self.now() - self.alive_since < self.validity_s

    async def acquire(self) -> str:
        """The key for one more connection (made, reused or recreated as needed). Raises
        :class:`ListenKeyLimit` beyond ``max_connections``, ``RestError`` when the venue
        refuses the credentials or cannot be reached."""
        if self.connections >= self.max_connections:
            raise ListenKeyLimit(f"a listenKey serves at most {self.max_connections} connections")
        key = await self.current()
        self.connections += 1
        return key

    def release(self) -> None:
        """One connection stopped using the key."""
        self.connections = max(0, self.connections - 1)

    async def current(self) -> str:
        """The key to connect with now: the held one while valid, else a new one."""
        async with self._lock:
            if self.key is None and self.generation == 0:
                await self._first()
            elif not self.valid:
                await self._replace(KEY_EXPIRED, "", "no keep-alive within the key's 60 min")
            assert self.key is not None
            return self.key

    async def _first(self) -> None:
        listed = await self.api.list()
        if self.reuse is not None and self.reuse in listed:
            self._set(self.reuse, owned=False)
            self.stats["reused"] += 1
            await self._put(force=True)  # its age is unknown: extend it now
            return
        if len(listed) >= MAX_KEYS:
            # the account holds the maximum: use one of them rather than fail
            self._set(listed[-1], owned=False)
            self.stats["reused"] += 1
            await self._put(force=True)
            return
        self._set(await self.api.create(), owned=True)
        self.stats["created"] += 1

    def _set(self, key: str, owned: bool) -> None:
        self.key = key
        self.generation += 1
        self.alive_since = self.now()
        self.last_put = None
        if owned:
            self.owned.add(key)

    async def renew(self, reason: str, code: str = "", message: str = "", stale: str | None = None) -> str:
        """Replace the key because the venue refused it (``reason``, the venue's ``code`` and
        ``message``). ``stale``: the key that was refused; when another key already replaced it
        nothing is made (several refusals of one key make one new key). Returns the current key.
        Raises ``RestError`` when no key can be made."""
        async with self._lock:
            if stale is not None and stale != self.key and self.key is not None:
                return self.key
            await self._replace(reason, code, message)
            assert self.key is not None
            return self.key

    async def _replace(self, reason: str, code: str, message: str) -> None:
        old = self.key or self._lost
        self.key = None
        self._lost = old
        try:
            new = await self._call(self.api.create)
        except RestError as exc:
            found = classify(exc)
            if found is not None and found[0] == "auth" and self.on_auth_failed is not None:
                self.on_auth_failed(found[1], found[2])
            raise
        self._lost = None
        self._set(new, owned=True)
        self.stats["created"] += 1
        self.stats["recreated"] += 1
        log.info("mexc listenKey replaced (%s%s); generation %d", reason, f" {code}" if code else "", self.generation)
        if old is not None:
            task = asyncio.get_running_loop().create_task(self._delete(old))
            self._deletions.add(task)
            task.add_done_callback(self._deletions.discard)
        if self.on_change is not None:
            self.on_change(old, new, reason, code, message)

    async def _delete(self, key: str) -> None:
        self.owned.discard(key)
        try:
            await self.api.delete(key)
            self.stats["deleted"] += 1
        except Exception:  # already invalid, or the venue is away: it lapses on its own
            self.stats["delete_failures"] += 1

    # -- keep-alive ---------------------------------------------------------------------------
    async def keep_alive(self) -> bool:
        """Extend the key now unless the last ``PUT`` was within ``min_keepalive_s`` (then
        nothing is sent). A refused or failed ``PUT`` recreates the key. Returns whether the
        key is (still) valid afterwards."""
        async with self._lock:
            if self.key is None:
                return False
            try:
                return await self._put(force=False)
            except RestError:
                return False

    async def _put(self, force: bool) -> bool:
        now = self.now()
        if not force and self.last_put is not None and now - self.last_put < self.min_keepalive_s:
            self.stats["keepalives_skipped"] += 1
            return self.valid
        key = self.key
        assert key is not None
        self.last_put = now
        try:
            await self._call(self.api.keep_alive, key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.stats["keepalive_failures"] += 1
            found = classify(exc)
            reason = KEY_REFUSED if found is not None and found[0] in ("key", "auth") else KEY_EXPIRED
            # the venue's own code and message (not just "RestError"); a key it echoes is masked
            code, message = failure(exc)
            if found is not None and found[1] != code:  # an HTTP 401 without a code: "401"
                code = found[1]
            message = self.scrub(message)
            log.warning("mexc listenKey keep-alive failed (%s %s): a new key is made", code or "error", message)
            await self._replace(reason, code, message)
            return True
        self.stats["keepalives"] += 1
        self.alive_since = now  # counted from before the request: never longer than the venue's
        return True

    async def _call(self, call: Callable[..., Awaitable], *args: str):
        """``call(*args)``; a refusal of the request time (``700003``) measures the clock again
        (``on_clock``) and tries once more."""
        try:
            return await call(*args)
        except RestError as exc:
            found = classify(exc)
            if found is None or found[0] != "clock" or self.on_clock is None:
                raise
            self.stats["clock_retries"] += 1
            await self.on_clock()
            return await call(*args)

    def start(self) -> None:
        """Start the keep-alive task (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="cexfeed:mexc-listenkey")

    def next_keepalive(self) -> float:
        """Monotonic s of the next keep-alive (or retry after a failed one)."""
        due = self.alive_since + self.keepalive_s
        return min(due, self._retry_at) if self._retry_at is not None else due

    async def _run(self) -> None:
        while not self._closed:
            delay = self.next_keepalive() - self.now()
            if delay > 0:
                await self.sleep(delay)
                continue
            try:
                async with self._lock:
                    if self.key is None and self.generation == 0:
                        await self._first()
                    elif self.key is None:
                        await self._replace(KEY_EXPIRED, "", "the last keep-alive failed")
                    else:
                        await self._put(force=self._retry_at is not None)
                self._retry_at = None
                self._retry.reset()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # no key could be made (venue away): try again later
                self._retry_at = self.now() + self._retry.next()
                code, message = failure(exc)
                log.warning("mexc listenKey: no valid key (%s%s); trying again", f"{code} " if code else "", self.scrub(message))

    async def close(self) -> None:
        """Stop the task and delete the keys this manager created."""
        self._closed = True
        if self._task is not None:
            await cancel_and_wait(self._task, None)  # again while it runs on (cexfeed.tasks)
        for key in list(self.owned):
            await self._delete(key)
        self.key = None
