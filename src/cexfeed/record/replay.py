"""Replay of a cexfeed capture through the venue's real protocol and handlers.

The live session is rebuilt record by record: the header names the venue and its protocol
options; each ``open`` event makes that connection's handler (symbol map from the recorded
instrument list, through the protocol's own fetch code); frames go to that handler with their
recorded ``recv_ts``; a ``snapshot`` event parses the recorded REST body with the protocol's
own snapshot code and applies it at that point, stamped with the event's time; a
``disconnect`` resets the books as it did live; an ``ack_timeout`` emits the same
``VenueError``. So the events equal the live session's, ``recv_ts`` included.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Coroutine, Iterable

from ..capture import _ReplayHooks, summary
from ..feed import load_symbol_map
from ..handlers import PublicWebSocketHandler
from ..models import Event, decode_event
from ..net.requests import ack_timeout_error
from ..net.rest import RestError
from ..net.tap import ACK_TIMEOUT, DISCONNECT, OPEN, SILENCE, SNAPSHOT, SNAPSHOT_FAILED, STATUS
from ..net.watch import report_silence
from ..symbols import SymbolMap
from ..venues import protocol_class
from .format import (
    BINARY,
    EVENT,
    FORMAT,
    HEADER,
    KIND_NAMES,
    LOST,
    NO_CONN,
    REST,
    TEXT,
    VERSION,
    ReadReport,
    Record,
    decode_json,
    decode_rest,
    params_key,
    read_capture,
)


class RecordedRest:
    """Stands in for :class:`~cexfeed.net.rest.RestClient` during replay: ``get`` answers
    with the latest recorded 200 response to the same path and query, or raises
    :class:`RestError` (as a failed call would) when there is none."""

    def __init__(self) -> None:
        self._bodies: dict[tuple, bytes] = {}

    def add(self, data: bytes) -> None:
        response = decode_rest(data)
        if response.status == 200:
            self._bodies[(response.path, response.params)] = response.body

    async def get(self, path: str, params: Any = None) -> bytes:
        body = self._bodies.get((path, params_key(params)))
        if body is None:
            raise RestError(f"GET {path}: no recorded response", 0)
        return body


def _complete(coro: Coroutine) -> Any:
    """Run a coroutine that never suspends (a protocol fetch over :class:`RecordedRest`)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a replayed fetch waited for something; only recorded responses exist")


class CaptureReplay:
    """Replays capture records through the real handlers.

    ``on_event`` gets every event in the live order; ``speed`` ``None`` replays as fast as
    possible, ``1.0`` at the recorded pace (``2.0`` twice as fast). After :meth:`run`,
    ``handlers`` maps connection ids to their handlers, ``header`` is the session header,
    ``report`` what the reader found (torn or corrupt blocks), ``problems`` counts records
    that could not be replayed (``unknown_connection``: no session header to replay them with,
    ``reopened_connection``: a connection whose ``open`` record was lost, opened at its first
    frame; ``snapshot_unavailable``, ``lost_records``). Raises ``ValueError`` for a file of another format or a newer version.
    """

    def __init__(self, on_event: Callable[[Event], None] | None = None, *, speed: float | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.on_event = on_event
        self._feed_events = 0
        self.speed = speed
        self._sleep = sleep
        self.header: dict[str, Any] | None = None
        self.protocol: Any = None
        self.rest = RecordedRest()
        self.symbol_map: SymbolMap | None = None
        self.handlers: dict[int, PublicWebSocketHandler] = {}
        self.report = ReadReport()
        self.records: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()
        self._at_close: dict[str, dict] = {}

    @property
    def venue(self) -> str:
        return (self.header or {}).get("venue", "")

    def replay_file(self, path: str | Path) -> "CaptureReplay":
        """Replay ``path`` and the parts after it; returns self."""
        self.run(read_capture(path, self.report))
        return self

    def run(self, records: Iterable[Record]) -> None:
        pace = self.speed
        start_ts = 0
        start_wall = 0.0
        for record in records:
            kind, conn, ts, data = record
            if pace:
                if not start_ts:
                    start_ts, start_wall = ts, time.perf_counter()
                ahead = (ts - start_ts) / 1e9 / pace - (time.perf_counter() - start_wall)
                if ahead > 0:
                    self._sleep(ahead)
            if kind == TEXT or kind == BINARY:
                handler = self.handlers.get(conn)
                if handler is None:
                    handler = self._reopen(conn)
                if handler is not None:
                    handler._handle_message(data, ts)
            elif kind == EVENT:
                self._event(conn, ts, decode_json(data))
            elif kind == REST:
                self.rest.add(data)
            elif kind == HEADER:
                self._header(decode_json(data))
            self.records[KIND_NAMES.get(kind, str(kind))] += 1

    def _header(self, header: dict[str, Any]) -> None:
        if header.get("format") != FORMAT:
            raise ValueError(f"not a cexfeed capture header: {header.get('format')!r}")
        if int(header.get("version", 0)) > VERSION:
            raise ValueError(f"capture format version {header.get('version')} is newer than this cexfeed reads ({VERSION})")
        if self.header is not None:
            return  # a later part repeats it
        self.header = header
        if not header.get("venue"):
            raise ValueError("the capture header names no venue")
        self.protocol = protocol_class(header["venue"])(header.get("ws_url"), header.get("rest_url"), **header.get("protocol_options", {}))

    def _event(self, conn: int, ts: int, detail: dict[str, Any]) -> None:
        kind = detail.get("kind")
        if kind == STATUS:
            # a status the core or the feed raised itself: delivered again as it was
            event = decode_event(detail["event"])
            handler = self.handlers.get(conn)
            if handler is not None:
                handler._emit(event)
            else:  # raised by the feed, not by one connection's handler
                self._feed_events += 1
                if self.on_event is not None:
                    self.on_event(event)
            return
        if kind == OPEN:
            if self.protocol is None:  # the header was in a damaged block
                self.problems["unknown_connection"] += 1
            elif conn not in self.handlers:
                self._open(conn, int(detail.get("depth", 100)))
            return
        if kind == LOST:
            self.problems["lost_records"] += int(detail.get("records", 0))
            return
        handler = self.handlers.get(conn)
        if handler is None:
            if kind in (DISCONNECT, SNAPSHOT, SNAPSHOT_FAILED, ACK_TIMEOUT, SILENCE):
                handler = self._reopen(conn)
            if handler is None:
                return
        if kind == DISCONNECT:
            if detail.get("reset") == "closed":
                # the client's own close clears the books: keep them as they ended for summary()
                self._at_close.update(summary(handler))
            handler.connection_lost(detail.get("reset", "reconnect"), ts)
        elif kind == SNAPSHOT:
            venue_symbol = detail["venue_symbol"]
            try:
                snap = _complete(self.protocol.fetch_snapshot(self.rest, venue_symbol, handler.depth))
            except Exception as exc:  # no recorded body (a torn capture) or one the parser refuses now
                self.problems["snapshot_unavailable"] += 1
                handler._count_error("replay_snapshot_unavailable", b"", exc)
                return
            handler.apply_snapshot(venue_symbol, snap.update_id, snap.bids, snap.asks, snap.exchange_ts, ts)
        elif kind == SNAPSHOT_FAILED:
            handler._count_error("snapshot_failed", b"", detail.get("error", ""))
        elif kind == SILENCE:
            report_silence(self.protocol, handler, detail["channel"], detail["venue_symbol"], detail["status"], detail.get("detail", ""), ts)
        elif kind == ACK_TIMEOUT:
            handler._emit(ack_timeout_error(handler, detail["venue_symbol"], detail.get("channel", ""), detail.get("message", ""), ts))

    def _reopen(self, conn: int) -> PublicWebSocketHandler | None:
        """A frame of a connection whose ``open`` record was in a damaged block: once the
        session header is known, open it here (default depth), counted ``reopened_connection``;
        without a header nothing can be replayed (``unknown_connection``)."""
        if self.protocol is None or conn == NO_CONN:
            self.problems["unknown_connection"] += 1
            return None
        self.problems["reopened_connection"] += 1
        self._open(conn, 100)
        return self.handlers[conn]

    def _open(self, conn: int, depth: int) -> None:
        if self.protocol is None:
            raise ValueError("the capture has no header before its first connection")
        if self.symbol_map is None:
            self.symbol_map = _complete(load_symbol_map(self.protocol, self.rest, self.venue))
        handler = self.protocol.make_handler(self.on_event, self.symbol_map, depth)
        if len(self.symbol_map):  # the recorded instrument list: a push of a pair it lacks is unknown_symbol, as live
            handler.follow(self.symbol_map.by_venue)
        else:  # none: a name the venue's symbol rule does not read (" ETH_USDT") is unknown_symbol
            handler.follow_readable(self.symbol_map.readable)
        handler.hooks = _ReplayHooks()
        self.handlers[conn] = handler

    def stats(self) -> dict[str, Any]:
        """Handler counters summed over connections: ``frames``, ``events`` (with the feed's
        own status events, as ``Feed.stats()`` counts them), ``errors``."""
        errors: Counter[str] = Counter()
        frames = 0
        events = self._feed_events
        for handler in self.handlers.values():
            frames += handler.stats.frames
            events += handler.stats.events
            errors.update(handler.stats.errors)
        return {"frames": frames, "events": events, "errors": dict(errors)}

    def summary(self) -> dict[str, dict]:
        """:func:`cexfeed.capture.summary` over every connection's books; for a session that
        ended with the client closing, the books as they were just before that close."""
        out: dict[str, dict] = {}
        for handler in self.handlers.values():
            out.update(summary(handler))
        out.update(self._at_close)
        return dict(sorted(out.items()))
