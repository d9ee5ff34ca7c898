"""What every bus reader shares: iteration that acknowledges a batch once the next is asked for."""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterable


class Reader:
    """Base of :class:`~cexfeed.sinks.redis_streams.RedisStreamReader` and
    :class:`~cexfeed.sinks.nats_js.NatsJetStreamReader`: subclasses implement :meth:`read`
    (one batch of ``(stream or subject, entry id, event)``), :meth:`ack` and :meth:`close`.

    ``async for stream, entry_id, event in reader`` acknowledges each batch when the next one
    is asked for, so a batch whose processing crashed is delivered again (at least once)."""

    async def read(self, count: int | None = None) -> list[tuple[str, Any, Any]]:
        raise NotImplementedError

    async def ack(self, entries: Iterable[tuple[str, Any, Any]] = ()) -> int:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aiter__(self) -> AsyncIterator[tuple[str, Any, Any]]:
        previous: list = []
        while True:
            await self.ack(previous)
            previous = await self.read()
            for entry in previous:
                yield entry


def safe_url(url: str) -> str:
    """``scheme://user:password@host...`` -> ``scheme://host...``: never log a password."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url
