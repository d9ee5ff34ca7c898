"""Redis Streams: :class:`RedisStreamSink` publishes, :class:`RedisStreamReader` reads back
through a consumer group (redis-py asyncio).

Each event is one stream entry ``XADD KEY MAXLEN ~ N * e <payload>``: field ``e`` holds the
encoded event (JSON or MessagePack, see :mod:`cexfeed.sinks.codec`), the key follows the
layout (``{prefix}:{venue}:{venue_symbol}`` or ``{prefix}:{venue}:{type}``), and approximate
``MAXLEN`` trimming keeps each stream near ``maxlen`` entries at little cost to Redis.
A batch is one non-transactional pipeline (one round trip).

Readers use consumer groups (``XREADGROUP``/``XACK``): each group sees every entry once, the
consumers of one group share them, and a consumer that restarts under the same name first gets
back what it had read but not acknowledged. Any number of groups, on any host, read the same
streams.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Iterable

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError

from ..models import Event
from ..tasks import raise_if_cancel_lost
from .base import Item, Rejected, Sink
from .codec import decode_payload, redis_key
from .reader import Reader, safe_url

log = logging.getLogger("cexfeed.sinks.redis")

FIELD = b"e"


def _client(url: str, timeout: float | None, connect_timeout: float) -> aioredis.Redis:
    # retries are the sink's (backoff with jitter) and the reader's own loop, not the client's
    return aioredis.Redis.from_url(url, socket_connect_timeout=connect_timeout, socket_timeout=timeout,
                                   retry=Retry(NoBackoff(), 0), health_check_interval=0)


class RedisStreamSink(Sink):
    """``url`` ``redis://[user:password@]host:port/db`` (``rediss://`` for TLS); ``layout``
    ``symbol`` or ``channel``; ``prefix`` of the keys; ``maxlen`` the approximate length each
    stream is trimmed to (0 = never trimmed); ``timeout`` s for connect and each round trip.
    Other keyword arguments (``buffer``, ``batch``, ``encoding`` ...) go to
    :class:`~cexfeed.sinks.base.Sink`."""

    kind = "redis"

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, layout: str = "symbol", prefix: str = "cexfeed",
                 maxlen: int = 100_000, timeout: float = 5.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.layout = layout
        self.prefix = prefix
        self.maxlen = maxlen
        self.timeout = timeout
        self.route = redis_key(prefix, layout)  # type: ignore[method-assign]
        self._client: aioredis.Redis | None = None
        self._keys: dict[str, bytes] = {}

    def describe(self) -> str:
        return safe_url(self.url)

    async def _connect(self) -> None:
        # one timeout around each whole pipeline (below), none per reply
        client = _client(self.url, None, self.timeout)
        self._client = client
        await asyncio.wait_for(client.ping(), self.timeout)

    async def _send(self, items: list[Item], first_seq: int) -> None:
        client = self._client
        assert client is not None
        pipe = client.pipeline(transaction=False)
        command = pipe.execute_command
        # the constant arguments as bytes: redis-py passes bytes through as they are
        head = (b"MAXLEN", b"~", str(self.maxlen).encode(), b"*", FIELD) if self.maxlen else (b"*", FIELD)
        keys = self._keys
        for key, payload in items:
            raw = keys.get(key)
            if raw is None:
                raw = keys[key] = key.encode()
            command(b"XADD", raw, *head, payload)
        try:
            await asyncio.wait_for(pipe.execute(raise_on_error=True), self.timeout + len(items) * 1e-4)
        except ResponseError as exc:
            raise Rejected(str(exc)) from exc

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


class RedisStreamReader(Reader):
    """Reads typed events from the streams matching ``pattern`` (default every cexfeed stream)
    or the given ``streams``, as consumer ``consumer`` of group ``group`` (created if missing,
    at ``start``: ``0`` = everything the streams still hold, ``$`` = only new entries; streams
    that appear later are always read from their start). New streams are looked for every
    ``rescan`` s.

    ``async for stream, entry_id, event in reader`` yields and acknowledges entries one batch at
    a time (the acknowledgement goes out when the next batch is asked for, so an entry whose
    processing crashed is delivered again); :meth:`read` and :meth:`ack` give manual control.
    Entries that do not decode are acknowledged, counted in ``bad`` and skipped."""

    def __init__(self, url: str, group: str, consumer: str, *, pattern: str = "cexfeed:*", streams: Iterable[str] = (),
                 start: str = "0", count: int = 500, block_ms: int = 1000, rescan: float = 2.0, timeout: float = 5.0) -> None:
        self.url = url
        self.group = group
        self.consumer = consumer
        self.pattern = pattern
        self.fixed = list(streams)
        self.start_id = start
        self.count = count
        self.block_ms = block_ms
        self.rescan = rescan
        self.client = _client(url, timeout + block_ms / 1000, timeout)
        self.streams: list[str] = []
        self.read_count = 0
        self.bad = 0
        self._known: set[str] = set()
        self._pending_phase = True
        self._last_scan = 0.0
        self._to_ack: dict[str, list[bytes]] = {}

    async def discover(self) -> list[str]:
        """Find new streams and join the group on each; returns the new ones."""
        found = list(self.fixed)
        if not self.fixed:
            found = [k.decode() if isinstance(k, bytes) else k async for k in self.client.scan_iter(match=self.pattern, _type="stream", count=1000)]
        first = not self._known
        new = sorted(set(found) - self._known)
        for key in new:
            try:
                await self.client.xgroup_create(key, self.group, id=self.start_id if first else "0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._known.add(key)
        if new:
            self.streams = sorted(self._known)
            # a new stream may hold entries this consumer read before a restart
            self._pending_phase = True
        self._last_scan = asyncio.get_running_loop().time()
        return new

    async def read(self, count: int | None = None) -> list[tuple[str, bytes, Event]]:
        """One ``XREADGROUP`` of up to ``count`` (default the reader's) entries per stream,
        blocking up to ``block_ms``: this consumer's unacknowledged entries first (acknowledge
        them before the next call, or they come again), then new ones. Returns
        ``(stream, entry_id, event)`` in stream order."""
        loop = asyncio.get_running_loop()
        if not self._known or loop.time() - self._last_scan >= self.rescan:
            await self.discover()
            raise_if_cancel_lost()
        if not self.streams:
            await asyncio.sleep(self.block_ms / 1000)
            return []
        while True:
            pending = self._pending_phase
            reply = await self.client.xreadgroup(self.group, self.consumer, {s: "0" if pending else ">" for s in self.streams},
                                                 count=count or self.count, block=None if pending else self.block_ms)
            # a cancellation of the reading task that redis-py swallowed (cexfeed.tasks): honour
            # it, or a read loop runs for ever; the entries come again (not acknowledged)
            raise_if_cancel_lost()
            out = self._decode(reply)
            if pending and not any(entries for _, entries in reply or ()):
                self._pending_phase = False  # nothing of ours left unacknowledged: new entries now
                continue
            self.read_count += len(out)
            return out

    def _decode(self, reply: Any) -> list[tuple[str, bytes, Event]]:
        out: list[tuple[str, bytes, Event]] = []
        for stream, entries in reply or ():
            name = stream.decode() if isinstance(stream, bytes) else stream
            for entry_id, fields in entries:
                payload = fields.get(FIELD) if fields else None
                try:
                    if payload is None:
                        raise msgspec.DecodeError("entry without an event field (trimmed?)")
                    out.append((name, entry_id, decode_payload(payload)))
                except msgspec.DecodeError:
                    self.bad += 1
                    self._to_ack.setdefault(name, []).append(entry_id)
        return out

    async def ack(self, entries: Iterable[tuple[str, bytes, Any]] = ()) -> int:
        """Acknowledge ``entries`` (and the skipped bad ones); returns how many were acked."""
        for stream, entry_id, _ in entries:
            self._to_ack.setdefault(stream, []).append(entry_id)
        done = 0
        if self._to_ack:
            pipe = self.client.pipeline(transaction=False)
            for stream, ids in self._to_ack.items():
                pipe.xack(stream, self.group, *ids)
            done = sum(await pipe.execute())
            self._to_ack.clear()
            raise_if_cancel_lost()
        return done

    async def close(self) -> None:
        try:
            await self.ack()
        except Exception:
            pass
        await self.client.aclose()
