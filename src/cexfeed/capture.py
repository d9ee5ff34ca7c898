"""Capture replay: run recorded frames through the real handlers.

Formats read:

- **cryptofeed-style** sessions (``../shared/captures/README.md``): a ``NAME.ws.N.M`` file with
  lines ``<url> <-> <ts>`` (connected), ``<url> <- <ts>: <json>`` (sent) and ``<ts>: <json>``
  (received), plus REST snapshots in ``NAME.http.*`` (``<url> -> <ts>: <body>``) and the
  instrument list in ``NAME.0``, both found beside the ``.ws.`` file by name. Frames and
  snapshots are merged by timestamp, as they happened.
- **raw frame files**: one frame per line, JSON text frames as they came and binary frames as
  hex; the venue is given explicitly.

Timestamps in these files are float seconds; ``recv_ts`` on events is that time in ns.
"""

from __future__ import annotations

import heapq
import re
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator
from urllib.parse import parse_qs, urlsplit

import msgspec

from .handlers import ConnectionHooks, PublicWebSocketHandler
from .models import BookUpdate
from .venues import VENUES, load

FRAME = "frame"
SENT = "sent"
CONNECT = "connect"
SNAPSHOT = "snapshot"


class CaptureItem(msgspec.Struct, frozen=True):
    """One line of a capture: ``kind`` is ``frame`` (received), ``sent``, ``connect`` or
    ``snapshot`` (REST body); ``ts`` float seconds; ``url`` for sent/connect/snapshot lines;
    ``payload`` the frame (bytes for binary, str for text) or REST body."""

    kind: str
    ts: float
    payload: bytes | str
    url: str = ""


_RECV = re.compile(r"^(\d+(?:\.\d+)?): (.*)$", re.S)
_SENT = re.compile(r"^(\S+) <- (\d+(?:\.\d+)?): (.*)$", re.S)
_CONN = re.compile(r"^(\S+) <-> (\d+(?:\.\d+)?)$")
_HTTP = re.compile(r"^(\S+) -> (\d+(?:\.\d+)?): (.*)$", re.S)


def read_ws_file(path: str | Path) -> Iterator[CaptureItem]:
    """Items of a cryptofeed ``.ws.`` file in file order. Unparseable lines raise ``ValueError``
    naming the line number."""
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            m = _RECV.match(line)
            if m:
                yield CaptureItem(FRAME, float(m.group(1)), m.group(2))
                continue
            m = _SENT.match(line)
            if m:
                yield CaptureItem(SENT, float(m.group(2)), m.group(3), m.group(1))
                continue
            m = _CONN.match(line)
            if m:
                yield CaptureItem(CONNECT, float(m.group(2)), "", m.group(1))
                continue
            raise ValueError(f"{path}:{number}: not a cryptofeed capture line")


def read_http_file(path: str | Path) -> Iterator[CaptureItem]:
    """Snapshot items of a cryptofeed ``.http.`` file. Raises ``ValueError`` on a bad line."""
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            m = _HTTP.match(line)
            if not m:
                raise ValueError(f"{path}:{number}: not a cryptofeed http line")
            yield CaptureItem(SNAPSHOT, float(m.group(2)), m.group(3), m.group(1))


def is_cryptofeed_capture(path: str | Path) -> bool:
    """True for a cryptofeed session file name such as ``GATEIO.ws.1.0``."""
    return re.search(r"\.ws\.\d+\.\d+$", Path(path).name) is not None


def snapshot_files_beside(ws_path: str | Path) -> list[Path]:
    """``X/NAME.ws.1.0`` -> every ``X/NAME.http.*`` file (sorted)."""
    ws_path = Path(ws_path)
    name = ws_path.name.split(".ws.", 1)[0]
    return sorted(ws_path.parent.glob(f"{name}.http.*"))


def instruments_file_beside(ws_path: str | Path) -> Path | None:
    """``X/NAME.ws.1.0`` -> ``X/NAME.0`` when it exists."""
    ws_path = Path(ws_path)
    candidate = ws_path.parent / (ws_path.name.split(".ws.", 1)[0] + ".0")
    return candidate if candidate.exists() else None


def read_instruments(path: str | Path) -> bytes:
    """The REST body of an instrument-list file: either a cryptofeed ``.0`` file (one
    ``<url> -> <ts>: <body>`` line, other lines ignored) or a plain JSON body.
    Raises ``ValueError`` when neither is found."""
    data = Path(path).read_bytes()
    if data[:1] in (b"[", b"{"):
        return data
    for line in data.decode("utf-8").splitlines():
        m = _HTTP.match(line)
        if m:
            return m.group(3).encode()
    raise ValueError(f"{path}: no REST body line")


def merged(ws_path: str | Path, snapshot_paths: Iterable[str | Path]) -> Iterator[CaptureItem]:
    """Frames and snapshots merged by timestamp (stable: file order on equal times)."""
    streams = [read_ws_file(ws_path)] + [read_http_file(p) for p in snapshot_paths]
    return heapq.merge(*streams, key=lambda item: item.ts)


def read_raw_frames(path: str | Path) -> Iterator[CaptureItem]:
    """One frame per line: lines starting with ``{`` or ``[`` are JSON text frames, lines of hex
    digits are binary frames, blank lines are skipped. Any other line (not JSON, not hex, not
    UTF-8) is passed on as its raw bytes, so the handler counts and skips it like any bad frame
    off the wire instead of the replay stopping there."""
    with open(path, "rb") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            if line[:1] in (b"{", b"["):
                yield CaptureItem(FRAME, 0.0, line)
                continue
            try:
                yield CaptureItem(FRAME, 0.0, bytes.fromhex(line.decode("ascii")))
            except (ValueError, UnicodeDecodeError):
                yield CaptureItem(FRAME, 0.0, line)


def detect_venue(ws_path: str | Path) -> str | None:
    """Venue of a cryptofeed capture from its connect/sent URLs (``None`` if unknown)."""
    for item in read_ws_file(ws_path):
        if item.url:
            return venue_of_url(item.url)
    return None


def venue_of_url(url: str) -> str | None:
    host_path = url.lower()
    if "mexc" in host_path:
        return "mexc-spot"
    if "gateio" in host_path or "gate." in host_path:
        return "gateio-perp" if "/futures/" in host_path or "fx-ws" in host_path else "gateio-spot"
    return None


def snapshot_symbol(url: str) -> str:
    """The symbol a REST snapshot URL asks for (``currency_pair``, ``contract`` or ``symbol``).
    Raises ``ValueError`` if the URL names none."""
    query = parse_qs(urlsplit(url).query)
    for key in ("currency_pair", "contract", "symbol"):
        if key in query:
            return query[key][0]
    raise ValueError(f"no symbol in snapshot url {url!r}")


class ReplaySupport(msgspec.Struct, frozen=True):
    """What replay needs from a venue, as ``"module:function"`` paths imported on use:
    ``make_handler(instruments_body | None) -> handler`` and
    ``apply_snapshot(handler, venue_symbol, rest_body, recv_ts_ns)``."""

    make_handler: str
    apply_snapshot: str

    def resolve(self) -> tuple[Callable, Callable]:
        return load(self.make_handler), load(self.apply_snapshot)


# venue stream -> its replay support, from the venue registry
REPLAY_VENUES: dict[str, ReplaySupport] = {name: ReplaySupport(spec.replay_handler, spec.replay_snapshot) for name, spec in VENUES.items()}


class _ReplayHooks(ConnectionHooks):
    """During replay snapshots come from the file; count what the handler asked for."""

    def __init__(self) -> None:
        self.snapshot_requests: dict[str, int] = {}
        self.resubscribe_requests: dict[str, int] = {}

    def request_snapshot(self, venue_symbol: str) -> None:
        self.snapshot_requests[venue_symbol] = self.snapshot_requests.get(venue_symbol, 0) + 1

    def request_resubscribe(self, venue_symbol: str) -> None:
        self.resubscribe_requests[venue_symbol] = self.resubscribe_requests.get(venue_symbol, 0) + 1


class _Channel(msgspec.Struct):
    channel: str = ""


_channel = msgspec.json.Decoder(_Channel)


def _wrapper_channel(payload: bytes) -> str:
    """The channel of a protobuf push that starts with it (MEXC ``PushDataV3ApiWrapper``
    field 1, length-delimited, mexc-protocol.md §2.1), else ``""``."""
    size = 0
    shift = 0
    pos = 1
    while pos < len(payload) and pos < 6:
        byte = payload[pos]
        size |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return payload[pos:pos + size].decode("utf-8", "replace") if size <= 200 else ""
        shift += 7
    return ""


class Replay:
    """Replays one capture through a venue's real handlers: the public one, and the private
    (account) one for the frames of the channels it owns when the venue has one.

    ``on_event`` gets every event in order. After :meth:`feed`, ``handler.books`` holds the
    rebuilt books, :attr:`full_books` the last whole-book push of each symbol whose pushes are
    whole books and never sequenced, and ``handler.stats`` the counters (with ``instruments``,
    the pushes of a symbol they do not list are counted ``unknown_symbol`` and skipped; without
    them, the pushes of a name the venue's symbol rule does not read, :meth:`cexfeed.symbols.SymbolMap.readable`);
    ``private`` is the private handler (its ``state`` the rebuilt account) or ``None``. Raises
    ``KeyError`` for a venue with no replay support and ``ValueError`` for a malformed capture
    file (bad frames inside a valid file are counted by the handler, not raised).
    """

    def __init__(self, venue: str, instruments: bytes | None = None, on_event: Callable | None = None) -> None:
        make_handler, self._apply_snapshot = REPLAY_VENUES[venue].resolve()
        self.venue = venue
        self.handler = make_handler(instruments)
        listed = getattr(self.handler, "symbols", None)
        if instruments is not None and listed is not None and len(listed):
            # as live, where only subscribed symbols publish: a push of a pair the list lacks is unknown_symbol
            self.handler.follow(listed.by_venue)
        elif listed is not None:
            # no list: every name the venue's symbol rule reads; an odd one (" ETH_USDT") is unknown_symbol
            self.handler.follow_readable(listed.readable)
        self._on_event = on_event
        self.handler.set_callback(self._event)
        self.hooks = _ReplayHooks()
        self.handler.hooks = self.hooks
        self.snapshot_errors = 0
        self.full_books: dict[str, BookUpdate] = {}
        private_replay = VENUES[venue].private_replay if venue in VENUES else ""
        self.private = load(private_replay)(instruments) if private_replay else None
        self._private_channels: frozenset[str] = frozenset()
        if self.private is not None:
            listed = getattr(self.private, "symbols", None)
            if instruments is not None and listed is not None and len(listed):
                # the account pushes too: a pair or contract the list lacks is unknown_symbol, never applied
                self.private.follow(listed.by_venue)
            elif listed is not None:
                self.private.follow_readable(listed.readable)
            self.private.set_callback(self._event)
            self.private.hooks = self.hooks
            self._private_channels = frozenset(self.private.CHANNELS)

    def _handler_of(self, payload: bytes):
        """The private handler for a frame of one of its channels (a JSON push's ``channel``,
        or a protobuf push's leading channel field), else the public one."""
        if self._private_channels:
            first = payload[:1]
            if first == b"{":
                try:
                    if _channel.decode(payload).channel in self._private_channels:
                        return self.private._handle_message
                except (msgspec.DecodeError, RecursionError):  # (nesting too deep: the handler counts it)
                    pass
            elif first == b"\x0a" and _wrapper_channel(payload) in self._private_channels:
                return self.private._handle_message
        return self.handler._handle_message

    def _event(self, event) -> None:
        if event.__class__ is BookUpdate and event.snapshot and event.venue_symbol not in self.handler.books:
            self.full_books[event.venue_symbol] = event
        if self._on_event is not None:
            self._on_event(event)

    def feed(self, items: Iterable[CaptureItem]) -> None:
        for item in items:
            recv_ts = int(item.ts * 1e9) if item.ts else time.time_ns()
            if item.kind == FRAME:
                payload = item.payload
                raw = payload.encode() if isinstance(payload, str) else payload
                self._handler_of(raw)(raw, recv_ts)
            elif item.kind == SNAPSHOT:
                body = item.payload.encode() if isinstance(item.payload, str) else item.payload
                try:
                    self._apply_snapshot(self.handler, snapshot_symbol(item.url), body, recv_ts)
                except (ValueError, msgspec.DecodeError) as exc:
                    self.snapshot_errors += 1
                    self.handler._count_error("bad_snapshot", body, exc)


def summary(handler: PublicWebSocketHandler, full_books: dict[str, BookUpdate] | None = None) -> dict[str, dict]:
    """Per unified symbol: top of book (prices and sizes as the float's repr string, ``None``
    when the side is empty), last update id, sequencer counters, deltas still ``buffered``
    (waiting for a snapshot) and level counts. ``kind`` is ``sequenced`` (snapshot + deltas)
    or ``full`` (only whole-book pushes: a book row of kind ``full``, or ``full_books`` from
    :class:`Replay`; such a symbol that also has a sequenced book is keyed ``"<symbol> (full)"``)."""
    out: dict[str, dict] = {}
    for venue_symbol in sorted(handler.books):
        seq = handler.books[venue_symbol]
        book = seq.book
        # a book only ever replaced by whole-book pushes (MEXC limit.depth, Gate legacy futures.order_book)
        kind = "full" if seq.full_pushes and not seq.deltas_applied else "sequenced"
        out[handler.unified(venue_symbol)] = _entry(
            venue_symbol, kind, seq.synced, book.best_bid(), book.best_ask(), book.last_update_id, len(book.bids), len(book.asks),
            deltas_applied=seq.deltas_applied, deltas_dropped_stale=seq.deltas_dropped_stale, resyncs=seq.resyncs, buffered=len(seq.buffer),
        )
    for venue_symbol in sorted(full_books or {}):
        event = full_books[venue_symbol]  # type: ignore[index]
        key = event.symbol if event.symbol not in out else f"{event.symbol} (full)"
        out[key] = _entry(
            venue_symbol, "full", True, event.bids[0] if event.bids else None, event.asks[0] if event.asks else None,
            event.last_update_id, len(event.bids), len(event.asks), deltas_applied=0, deltas_dropped_stale=0, resyncs=0, buffered=0,
        )
    return out


def _entry(venue_symbol, kind, synced, bid, ask, last_update_id, bid_levels, ask_levels, **counters) -> dict:
    return {
        "venue_symbol": venue_symbol,
        "kind": kind,
        "synced": synced,
        "best_bid": repr(bid[0]) if bid else None,
        "best_bid_size": repr(bid[1]) if bid else None,
        "best_ask": repr(ask[0]) if ask else None,
        "best_ask_size": repr(ask[1]) if ask else None,
        "last_update_id": last_update_id,
        **counters,
        "bid_levels": bid_levels,
        "ask_levels": ask_levels,
    }
