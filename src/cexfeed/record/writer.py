"""The capture writer: a :class:`~cexfeed.net.tap.Tap` that appends records to a
memory buffer on the read loop and hands full buffers to a background thread, which compresses
each into one block (:mod:`cexfeed.record.format`) and appends it to the current part file.

On the read loop a frame costs one tuple appended to a list; encoding, compression and file
I/O happen on the writer thread (zstd releases the GIL while it compresses). Blocks are large
(1 MiB by default) because a busy read loop gives the GIL back to the writer thread only every
switch interval (5 ms): the writer needs it a few times per block, so small blocks cap what it
can write while the loop is saturated. A buffer is handed
over when it reaches ``block_bytes`` or every ``flush_interval`` seconds (a timer on the loop),
so a crash loses at most that much. When the thread falls more than ``max_pending_bytes``
behind, buffers are dropped, counted, and a ``lost`` EVENT record says so in the capture.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
import uuid
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Mapping

from ..net.tap import OPEN, Tap
from .format import (
    BINARY,
    EVENT,
    FORMAT,
    HEADER,
    LOST,
    NO_CONN,
    SENT,
    TEXT,
    VERSION,
    block,
    encode,
    encode_json,
    encode_rest,
    new_compressor,
    params_key,
    part_path,
)

log = logging.getLogger("cexfeed.record")


def _cexfeed_version() -> str:
    try:
        return version("cexfeed")
    except PackageNotFoundError:
        return "unknown"


# a block merged from waiting buffers stops growing past this many bytes
MERGE_BYTES = 16 << 20
_NOTHING = object()
# the "part" of a queue item written as a block of its own in the current part (never merged)
ALONE = -1


def _encode(parts: list) -> bytes:
    """Join a buffer: encoded records (bytes) and frames ``(type, conn, ts, payload)``."""
    return b"".join(encode(*part) if part.__class__ is tuple else part for part in parts)


class _Writer(threading.Thread):
    """Compresses and appends blocks; owns the part files. Counters are read by the loop."""

    def __init__(self, stem: str, level: int, fsync: bool) -> None:
        super().__init__(name="cexfeed-record-writer", daemon=True)
        self.stem = stem
        self.level = level
        self.fsync = fsync
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self._held: Any = _NOTHING
        self.paths = [part_path(stem, 0)]
        # exclusive create: a capture is never appended to after the fact
        self.file = open(self.paths[0], "xb", buffering=0)
        # records/done_bytes: taken off the queue (written or not: the backlog measure);
        # written/bytes/raw_bytes/blocks: written to the part files; part_bytes: in the current one
        self.records = self.done_bytes = 0
        self.written = self.bytes = self.raw_bytes = self.blocks = self.part_bytes = 0
        self.error = ""

    def _next_item(self) -> Any:
        """The next queue item; buffers already waiting behind it are merged into it (up to
        ``MERGE_BYTES``): a writer that fell behind catches up with fewer, larger blocks."""
        item = self._held if self._held is not _NOTHING else self.queue.get()
        self._held = _NOTHING
        if item is None:
            return None
        part, parts, count, size = item
        merged = False
        while size < MERGE_BYTES and part is not ALONE:
            try:
                following = self.queue.get_nowait()
            except queue.Empty:
                break
            if following is None or following[0] is not None:
                self._held = following  # the end, a new part, or a block of its own: not merged across
                break
            if not merged:
                parts, merged = list(parts), True
            parts += following[1]
            count += following[2]
            size += following[3]
        return part, parts, count, size

    def run(self) -> None:
        compressor = new_compressor(self.level)
        while True:
            item = self._next_item()
            if item is None:
                break
            # part: the index of a part to start first (None: the current one); parts: the
            # buffer; size: what the recorder counted for it (the backlog measure)
            part, parts, count, size = item
            try:
                if part is not None and part is not ALONE:
                    self._next_part(part)
                if not self.error:
                    data = _encode(parts)
                    self.raw_bytes += len(data)
                    out = block(data, count, compressor)
                    # unbuffered: one write call per block (a short write only on a full disk)
                    view = memoryview(out)
                    while view:
                        view = view[self.file.write(view) :]
                    self.bytes += len(out)
                    self.part_bytes += len(out)
                    self.blocks += 1
                    self.written += count
            except Exception as exc:  # disk full, file gone: stop writing, keep counting
                self.error = f"{type(exc).__name__}: {exc}"
                log.error("capture writer: %s; later records are dropped", self.error)
            # counted as done either way: pending measures the backlog, not success
            self.done_bytes += size
            self.records += count
        self._close_file()

    def _next_part(self, index: int) -> None:
        self._close_file()
        path = part_path(self.stem, index)
        self.file = open(path, "xb", buffering=0)
        self.paths.append(path)
        self.part_bytes = 0

    def _close_file(self) -> None:
        try:
            if self.fsync:
                os.fsync(self.file.fileno())
        except Exception as exc:
            if not self.error:
                self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.file.close()


class Recorder(Tap):
    """Record a live session to ``out`` (a stem: parts are ``STEM.00000.cxf``, ...).

    Use ``Feed(..., tap=recorder)``; after ``await feed.close()`` call :meth:`close` or
    ``await recorder.aclose()`` (it writes what is buffered and waits for the writer thread). Parameters: ``block_bytes`` buffer size
    handed over as one block; ``flush_interval`` s between timed hand-overs; ``rotate_bytes``
    (compressed bytes) and ``rotate_seconds`` start a new part (``0`` = never);
    ``max_pending_bytes`` the writer backlog beyond which records are dropped and counted;
    ``level`` the zstd level; ``fsync`` each part when it is closed. Raises
    ``FileExistsError`` if the first part exists, ``OSError`` if it cannot be created.
    """

    def __init__(
        self,
        out: str | Path,
        *,
        block_bytes: int = 1 << 20,
        flush_interval: float = 0.5,
        rotate_bytes: int = 256 << 20,
        rotate_seconds: float = 3600.0,
        max_pending_bytes: int = 256 << 20,
        level: int = 1,
        fsync: bool = True,
    ) -> None:
        self.stem = str(out)[: -len(".cxf")] if str(out).endswith(".cxf") else str(out)
        self.block_bytes = block_bytes
        self.flush_interval = flush_interval
        self.rotate_bytes = rotate_bytes
        self.rotate_ns = int(rotate_seconds * 1e9)
        self.max_pending_bytes = max_pending_bytes
        # records waiting for the next hand-over: encoded ones (bytes) and frames as tuples
        self._parts: list = []
        self._size = 0
        self._handed_bytes = 0
        self._handed_records = 0
        self.dropped = 0
        self._lost_since_report = 0
        self._header: dict[str, Any] | None = None
        self._conns = 0
        self._context_rest: dict[tuple, bytes] = {}
        self._context_open: dict[int, bytes] = {}
        self._part = 0
        self._part_started = time.time_ns()
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        self._writer = _Writer(self.stem, level, fsync)
        self._writer.start()

    # -- Tap -----------------------------------------------------------------------------
    def describe(self, session: Mapping[str, Any]) -> None:
        if self._header is not None:
            raise RuntimeError("a Recorder records one session; describe() was called twice")
        now = time.time_ns()
        self._header = {
            "format": FORMAT,
            "version": VERSION,
            "session": uuid.uuid4().hex,
            "part": 0,
            "created_ns": now,
            "cexfeed": _cexfeed_version(),
            **session,
        }
        # the header twice, each alone in a block: one damaged block never loses the session
        header = encode_json(HEADER, NO_CONN, now, self._header)
        for _ in range(2):
            self._handed_bytes += len(header)
            self._handed_records += 1
            self._writer.queue.put((ALONE, [header], 1, len(header)))
        self._ensure_timer()

    def connection(self, name: str, depth: int) -> int:
        if self._header is None:
            self.describe({})
        conn = self._conns
        if conn >= NO_CONN:
            raise ValueError("a capture holds at most 65535 connections")
        self._conns += 1
        self._ensure_timer()
        return conn

    def frame(self, conn: int, binary: bool, payload: bytes, recv_ts: int) -> None:
        self._parts.append((BINARY if binary else TEXT, conn, recv_ts, payload))
        self._size += len(payload)
        if self._size >= self.block_bytes:
            self._hand_off(recv_ts)

    def sent(self, conn: int, payload: bytes, ts: int) -> None:
        self._append(encode(SENT, conn, ts, payload))

    def event(self, conn: int, kind: str, ts: int, detail: Mapping[str, Any]) -> None:
        record = encode_json(EVENT, conn, ts, {"kind": kind, **detail})
        if kind == OPEN:
            self._context_open[conn] = record
        self._append(record)

    def rest(self, ts: int, url: str, path: str, params: Mapping[str, Any] | None, status: int, body: bytes, error: str) -> None:
        if self._header is None:
            self.describe({})
        record = encode_rest(ts, url, path, params, status, body, error)
        if status == 200:
            self._context_rest[(path, params_key(params))] = record
        self._append(record)

    # -- buffer and hand-over ----------------------------------------------------------------
    def _append(self, record: bytes) -> None:
        self._parts.append(record)
        self._size += len(record)
        if self._size >= self.block_bytes:
            self._hand_off(time.time_ns())

    def _hand_off(self, now: int) -> None:
        if not self._parts:
            return
        writer = self._writer
        if writer.error or self._handed_bytes - writer.done_bytes > self.max_pending_bytes:
            self.dropped += len(self._parts)
            self._lost_since_report += len(self._parts)
            self._parts = []
            self._size = 0
            return
        if self._lost_since_report:
            # the capture says where records are missing
            self._parts.insert(0, encode_json(EVENT, NO_CONN, now, {"kind": LOST, "records": self._lost_since_report}))
            self._lost_since_report = 0
        # rotate only once the writer is in the newest part (its part_bytes are of that part)
        if len(writer.paths) == self._part + 1 and (
            (self.rotate_bytes and writer.part_bytes >= self.rotate_bytes) or (self.rotate_ns and now - self._part_started >= self.rotate_ns)
        ):
            self._rotate(now)
        parts, size = self._parts, self._size
        self._parts = []
        self._size = 0
        self._handed_bytes += size
        self._handed_records += len(parts)
        writer.queue.put((None, parts, len(parts), size))

    def _rotate(self, now: int) -> None:
        """Start the next part with the header and the context (see the format doc)."""
        self._part += 1
        self._part_started = now
        assert self._header is not None
        self._header["part"] = self._part
        context = [encode_json(HEADER, NO_CONN, now, self._header)]
        context += self._context_rest.values()
        context += self._context_open.values()
        size = sum(len(record) for record in context)
        self._handed_bytes += size
        self._handed_records += len(context)
        self._writer.queue.put((self._part, context, len(context), size))

    def _ensure_timer(self) -> None:
        if self._timer is not None or self._closed or not self.flush_interval:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._timer = loop.call_later(self.flush_interval, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self._hand_off(time.time_ns())
        self._ensure_timer()

    # -- end -------------------------------------------------------------------------------
    def flush(self) -> None:
        """Hand what is buffered to the writer now (it is written shortly after)."""
        self._hand_off(time.time_ns())

    async def aclose(self, timeout: float = 30.0) -> None:
        """:meth:`close` without blocking the event loop while the writer finishes."""
        self._finish()
        await asyncio.get_running_loop().run_in_executor(None, self._writer.join, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write everything buffered, end the writer thread and close the part (idempotent).
        Blocks up to ``timeout`` s for the thread to finish (in a coroutine: :meth:`aclose`)."""
        self._finish()
        self._writer.join(timeout)

    def _finish(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        now = time.time_ns()
        self._append(encode_json(EVENT, NO_CONN, now, {"kind": "end"}))
        self._hand_off(now)
        self._writer.queue.put(None)

    @property
    def paths(self) -> list[Path]:
        """The part files written so far."""
        return list(self._writer.paths)

    def stats(self) -> dict[str, Any]:
        """``name``, ``published`` records written, ``pending`` records not yet written,
        ``dropped`` records, ``bytes`` compressed bytes written, ``raw_bytes`` their size
        before compression, ``blocks``, ``parts``, ``error`` (the writer's, or "")."""
        writer = self._writer
        return {
            "name": f"record:{Path(self.stem).name}",
            "published": writer.written,
            "pending": self._handed_records - writer.records + len(self._parts),
            "dropped": self.dropped,
            "bytes": writer.bytes,
            "raw_bytes": writer.raw_bytes,
            "blocks": writer.blocks,
            "parts": len(writer.paths),
            "errors": 1 if writer.error else 0,
            "error": writer.error,
        }
