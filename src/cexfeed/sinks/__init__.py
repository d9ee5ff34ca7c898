"""Sinks: where a feed's events go besides the caller — JSONL (stdout or rotating files),
Redis Streams and NATS JetStream — behind one small interface (:class:`Sink`: ``start``,
``submit``, ``close``, ``stats``).

::

    from cexfeed.feed import Feed
    from cexfeed.sinks import SinkConfig, make_sink

    sink = make_sink(SinkConfig(url="redis://127.0.0.1:6379/0", encoding="msgpack"))
    async with Feed("gateio-spot", ["BTC/USDT"], ["book", "trades"], sinks=[sink]) as feed:
        ...

See :mod:`cexfeed.sinks.base` for the buffering and back-pressure policy,
:mod:`cexfeed.sinks.codec` for encodings and stream/subject names, and the readers
:class:`RedisStreamReader` / :class:`NatsJetStreamReader` (``cexfeed consume``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from .base import Sink, SinkUnavailable
from .codec import ENCODINGS, LAYOUTS, SinkGap, decode_payload
from .mirror import BookMirror

__all__ = ["BookMirror", "Sink", "SinkConfig", "SinkGap", "SinkUnavailable", "decode_payload", "make_sink", "open_reader"]


class SinkConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One sink, as the CLI options and the ``[sink]`` table of a ``cexfeed run`` config give it.

    ``url``: ``jsonl:PATH`` (``jsonl:-`` = stdout), ``redis://host:port/db`` or
    ``nats://host:port``. ``encoding`` ``json``/``msgpack`` (JSONL is always JSON); ``layout``
    (Redis) ``symbol``/``channel``; ``prefix`` of keys and subjects; ``maxlen`` approximate
    entries kept per Redis stream (0 = untrimmed); ``stream`` JetStream stream name and
    ``max_bytes``/``max_age`` (s) limits when the sink creates it; ``buffer`` most events held
    while behind; ``batch`` most events per send; ``rotate_bytes``/``rotate_seconds`` JSONL file
    rotation (0 = never)."""

    url: str
    encoding: str = "json"
    layout: str = "symbol"
    prefix: str = "cexfeed"
    maxlen: int = 100_000
    stream: str = "CEXFEED"
    max_bytes: int = -1
    max_age: float = 0.0
    buffer: int = 100_000
    batch: int = 1_000
    rotate_bytes: int = 0
    rotate_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"sink encoding must be one of {ENCODINGS}, not {self.encoding!r}")
        if self.layout not in LAYOUTS:
            raise ValueError(f"sink layout must be one of {LAYOUTS}, not {self.layout!r}")
        if not self.url.startswith(("jsonl:", "redis://", "rediss://", "unix://", "nats://", "tls://")):
            raise ValueError(f"sink url must start with jsonl:, redis://, rediss:// or nats://, not {self.url!r}")


def make_sink(config: SinkConfig, **overrides: Any) -> Sink:
    """The sink a :class:`SinkConfig` names (``overrides`` replace keyword arguments, e.g.
    ``backoff``). Raises ``ValueError`` for an unknown scheme."""
    url = config.url
    common: dict[str, Any] = {"buffer": config.buffer, "batch": config.batch, "encoding": config.encoding}
    if url.startswith("jsonl:"):
        from .jsonl import JsonlSink

        common.pop("encoding")
        return JsonlSink(url[len("jsonl:"):] or "-", rotate_bytes=config.rotate_bytes, rotate_seconds=config.rotate_seconds, **{**common, **overrides})
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .redis_streams import RedisStreamSink

        return RedisStreamSink(url, layout=config.layout, prefix=config.prefix, maxlen=config.maxlen, **{**common, **overrides})
    if url.startswith(("nats://", "tls://")):
        from .nats_js import NatsJetStreamSink

        return NatsJetStreamSink(url, stream=config.stream, prefix=config.prefix, max_bytes=config.max_bytes,
                                 max_age=config.max_age, **{**common, **overrides})
    raise ValueError(f"unknown sink {url!r}")


def open_reader(url: str, group: str, consumer: str, *, prefix: str = "cexfeed", stream: str = "CEXFEED",
                filter: str = "", start: str = "all", **kwargs: Any) -> Any:
    """A reader of what a sink at ``url`` wrote: :class:`RedisStreamReader` (group ``group``,
    consumer ``consumer``, streams matching ``filter`` or ``{prefix}:*``) or
    :class:`NatsJetStreamReader` (durable ``group``, subjects ``filter`` or ``{prefix}.>``).
    ``start`` ``all`` (what the broker still holds) or ``new``."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .redis_streams import RedisStreamReader

        return RedisStreamReader(url, group, consumer, pattern=filter or f"{prefix}:*", start="$" if start == "new" else "0", **kwargs)
    if url.startswith(("nats://", "tls://")):
        from .nats_js import NatsJetStreamReader

        return NatsJetStreamReader(url, group, stream=stream, subjects=filter or f"{prefix}.>", deliver=start, **kwargs)
    raise ValueError(f"cannot read from {url!r}: a redis:// or nats:// URL")
