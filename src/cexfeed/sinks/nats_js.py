"""NATS JetStream: :class:`NatsJetStreamSink` publishes, :class:`NatsJetStreamReader` reads
back through a durable pull consumer (nats-py).

Each event goes to subject ``{prefix}.{venue}.{type}.{venue_symbol}`` (see
:mod:`cexfeed.sinks.codec`); one JetStream stream (``stream``, default ``CEXFEED``) captures
``{prefix}.>`` and is created on connect if missing (file storage, limits from the sink's
options). A batch is published in order on one connection and confirmed by the JetStream ack of
its last message (the server stores one connection's messages in order). Every message carries
a ``Nats-Msg-Id`` unique to this sink and message, so a batch sent again after a reconnect is
stored once (within the stream's duplicate window, 2 min by default).

Readers bind a durable pull consumer: consumers sharing the durable name share the messages,
each durable name sees every message once; ``subjects`` narrows it (``cexfeed.*.trade.>``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any, Iterable

import msgspec
import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js import api
from nats.js.errors import APIError, NotFoundError

from ..models import Event
from ..tasks import raise_if_cancel_lost
from .base import Item, Rejected, Sink
from .codec import decode_payload, nats_subject
from .reader import Reader, safe_url

log = logging.getLogger("cexfeed.sinks.nats")

MSG_ID = "Nats-Msg-Id"


async def _quiet(exc: Exception) -> None:
    # the client's own error report (a traceback per failed attempt): the sink reports its
    # failures itself, once (Sink._note_error)
    pass


async def _connect(url: str, timeout: float) -> Any:
    # reconnects are the sink's own (backoff with jitter), not the client's: one attempt (the
    # client's max_reconnect_attempts=0 would mean "retry forever" on the first connect)
    return await nats.connect(url, allow_reconnect=False, connect_timeout=max(1, int(timeout)), max_reconnect_attempts=1,
                              reconnect_time_wait=0, error_cb=_quiet)


async def ensure_stream(js: Any, name: str, prefix: str, *, max_bytes: int = -1, max_age: float = 0,
                        max_msgs_per_subject: int = -1, duplicate_window: float = 120.0) -> None:
    """Create JetStream stream ``name`` over ``{prefix}.>`` unless it exists (an existing
    stream is left as its operator configured it)."""
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        pass
    else:
        wanted = f"{prefix}.>"
        if wanted not in (info.config.subjects or ()):
            raise ValueError(f"JetStream stream {name} exists but captures {info.config.subjects}, not {wanted}")
        return
    config = api.StreamConfig(name=name, subjects=[f"{prefix}.>"], storage=api.StorageType.FILE,
                              max_bytes=max_bytes, max_age=max_age or None, max_msgs_per_subject=max_msgs_per_subject,
                              duplicate_window=duplicate_window)
    try:
        await js.add_stream(config)
    except APIError as exc:  # another worker created it first
        if getattr(exc, "err_code", None) != 10058:
            raise


class NatsJetStreamSink(Sink):
    """``url`` ``nats://[user:password@]host:port``; ``stream`` the JetStream stream name;
    ``prefix`` of the subjects; ``max_bytes``/``max_age`` (s)/``max_msgs_per_subject`` limits
    of a stream this sink creates (-1/0 = none); ``timeout`` s for connect and acks. Other
    keyword arguments (``buffer``, ``batch``, ``encoding`` ...) go to
    :class:`~cexfeed.sinks.base.Sink`."""

    kind = "nats"

    def __init__(self, url: str = "nats://127.0.0.1:4222", *, stream: str = "CEXFEED", prefix: str = "cexfeed",
                 max_bytes: int = -1, max_age: float = 0, max_msgs_per_subject: int = -1, timeout: float = 5.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.limits = {"max_bytes": max_bytes, "max_age": max_age, "max_msgs_per_subject": max_msgs_per_subject}
        self.timeout = timeout
        self.route = nats_subject(prefix)  # type: ignore[method-assign]
        self._id = uuid.uuid4().hex[:12]
        self._nc: Any = None
        self._js: Any = None

    def describe(self) -> str:
        return f"{safe_url(self.url)} stream {self.stream}"

    async def _connect(self) -> None:
        self._nc = await _connect(self.url, self.timeout)
        self._js = self._nc.jetstream(timeout=self.timeout)
        await ensure_stream(self._js, self.stream, self.prefix, **self.limits)

    async def _send(self, items: list[Item], first_seq: int) -> None:
        # All but the last message go out without a reply subject; the last one is published
        # with an ack: JetStream stores one connection's messages in order, so its ack confirms
        # the batch. A batch whose ack does not come is sent again whole, and the message ids
        # make the server keep the messages it already stored only once.
        nc = self._nc
        base = self._id
        publish = nc.publish
        last = len(items) - 1
        for index in range(last):
            subject, payload = items[index]
            await publish(subject, payload, headers={MSG_ID: f"{base}-{first_seq + index}"})
        subject, payload = items[last]
        try:
            await self._js.publish(subject, payload, timeout=self.timeout, headers={MSG_ID: f"{base}-{first_seq + last}"})
        except APIError as exc:
            raise Rejected(str(exc)) from exc

    async def _disconnect(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None:
            await nc.close()


class NatsJetStreamReader(Reader):
    """Reads typed events from JetStream ``stream`` through the durable pull consumer
    ``durable`` (created if missing; ``deliver`` ``all`` or ``new``) filtered to ``subjects``.
    ``async for subject, seq, event in reader`` yields and acknowledges messages a batch at a
    time (acks go out when the next batch is asked for); :meth:`read` and :meth:`ack` give
    manual control. Undecodable messages are acked, counted in ``bad`` and skipped."""

    def __init__(self, url: str, durable: str, *, stream: str = "CEXFEED", subjects: str = "cexfeed.>",
                 deliver: str = "all", count: int = 500, wait: float = 1.0, timeout: float = 5.0) -> None:
        self.url = url
        self.durable = durable
        self.stream = stream
        self.subjects = subjects
        self.deliver = deliver
        self.count = count
        self.wait = wait
        self.timeout = timeout
        self.read_count = 0
        self.bad = 0
        self._nc: Any = None
        self._sub: Any = None
        self._unacked: dict[int, Any] = {}
        self._bad: list[Any] = []

    async def start(self) -> None:
        self._nc = await _connect(self.url, self.timeout)
        js = self._nc.jetstream(timeout=self.timeout)
        policy = api.DeliverPolicy.NEW if self.deliver == "new" else api.DeliverPolicy.ALL
        config = api.ConsumerConfig(durable_name=self.durable, ack_policy=api.AckPolicy.EXPLICIT,
                                    deliver_policy=policy, filter_subject=self.subjects, max_ack_pending=-1)
        self._sub = await js.pull_subscribe(self.subjects, durable=self.durable, stream=self.stream, config=config)

    async def read(self, count: int | None = None) -> list[tuple[str, int, Event]]:
        """One fetch of up to ``count`` (default the reader's) messages, waiting up to
        ``wait`` s: ``(subject, stream_sequence, event)``."""
        if self._sub is None:
            await self.start()
        try:
            msgs = await self._sub.fetch(count or self.count, timeout=self.wait)
        except (NatsTimeout, asyncio.TimeoutError):
            msgs = []
        # nats-py waits with wait_for: honour a cancellation of the reading task it swallowed
        # (cexfeed.tasks); the messages come again (not acknowledged)
        raise_if_cancel_lost()
        out = []
        for msg in msgs:
            try:
                event = decode_payload(msg.data)
            except msgspec.DecodeError:
                self.bad += 1
                self._bad.append(msg)
                continue
            seq = msg.metadata.sequence.stream
            self._unacked[seq] = msg
            out.append((msg.subject, seq, event))
        self.read_count += len(out)
        return out

    async def ack(self, entries: Iterable[tuple[str, int, Any]] = ()) -> int:
        """Acknowledge ``entries`` (as :meth:`read` returned them) and the skipped bad ones;
        returns how many."""
        msgs, self._bad = self._bad, []
        for _, seq, _ in entries:
            msg = self._unacked.pop(seq, None)
            if msg is not None:
                msgs.append(msg)
        for msg in msgs:
            await msg.ack()
        return len(msgs)

    async def close(self) -> None:
        if self._nc is not None:
            try:
                await self.ack()
            except Exception:
                pass
            await self._nc.close()
            self._nc = None
