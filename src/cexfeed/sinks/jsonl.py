"""JSONL sink: one JSON event per line (:func:`cexfeed.models.encode_event`) to stdout or to a
file rotated by size and/or age.

The active file is ``PATH``; on rotation it is renamed ``STEM.<UTC yyyymmddThhmmss>[.n]SUFFIX``
beside it (``events.jsonl`` -> ``events.20261201T085500.jsonl``) and a new ``PATH`` begins, so
a reader tailing ``PATH`` and a job collecting the rotated files never see a half-written name.
Writes run in a worker thread: a slow disk or a full pipe never stalls the read loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import BinaryIO

from .base import Item, Sink


class JsonlSink(Sink):
    """``path`` a file, or ``-``/``None`` for stdout. ``rotate_bytes``: start a new file once the
    active one reaches this size (0 = never); ``rotate_seconds``: once it is this old (0 =
    never). Other keyword arguments go to :class:`~cexfeed.sinks.base.Sink`; the encoding is
    always JSON. As every sink, it opens each stream, symbol and event type with a
    ``SinkGap(reason="start")`` line (a file may be appended to by a later run: the notice says
    where one publisher's events end and the next one's begin). Missing parent folders of
    ``path`` are created."""

    kind = "jsonl"

    def __init__(self, path: str | os.PathLike | None = None, *, rotate_bytes: int = 0, rotate_seconds: float = 0, **kwargs) -> None:
        kwargs["encoding"] = "json"
        super().__init__(**kwargs)
        self.path = None if path in (None, "-", "") else Path(path)
        self.rotate_bytes = rotate_bytes
        self.rotate_seconds = rotate_seconds
        self.rotations = 0
        self._out: BinaryIO | None = None
        self._size = 0
        self._opened = 0.0

    def describe(self) -> str:
        return f"jsonl:{self.path or '-'}"

    async def _connect(self) -> None:
        await asyncio.to_thread(self._open)

    def _open(self) -> None:
        if self.path is None:
            self._out = sys.stdout.buffer
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out = open(self.path, "ab")
        self._size = self._out.tell()
        self._opened = time.monotonic()

    async def _send(self, items: list[Item], first_seq: int) -> None:
        data = b"".join([payload + b"\n" for _, payload in items])
        await asyncio.to_thread(self._write, data)

    def _write(self, data: bytes) -> None:
        if self.path is not None and self._due():
            self._rotate()
        out = self._out
        assert out is not None
        out.write(data)
        out.flush()
        self._size += len(data)

    def _due(self) -> bool:
        if self._size == 0:
            return False
        if self.rotate_bytes and self._size >= self.rotate_bytes:
            return True
        return bool(self.rotate_seconds and time.monotonic() - self._opened >= self.rotate_seconds)

    def _rotate(self) -> None:
        assert self.path is not None and self._out is not None
        self._out.close()
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.stem}.{stamp}{self.path.suffix}")
        n = 1
        while target.exists():
            target = self.path.with_name(f"{self.path.stem}.{stamp}.{n}{self.path.suffix}")
            n += 1
        os.replace(self.path, target)
        self.rotations += 1
        self._open()

    async def _disconnect(self) -> None:
        out, self._out = self._out, None
        if out is not None and self.path is not None:
            await asyncio.to_thread(out.close)
        elif out is not None:
            try:
                out.flush()
            except (BrokenPipeError, ValueError):
                pass
