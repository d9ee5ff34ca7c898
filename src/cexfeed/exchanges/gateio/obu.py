"""Gate.io Order Book V2 (``spot.obu`` / ``futures.obu``), shared by the spot and futures handlers.

Follows gateio-protocol.md §6.8, §7.7 and §10.2:

- payload ``["ob.BTC_USDT.50"]`` (levels 50 every 20 ms, 400 every 100 ms); the push ``s`` is that
  stream name;
- the snapshot arrives in-band with ``full: true`` (replace the book, id = ``u``), possibly
  before the subscribe ack, and may be re-sent mid-stream (replace again);
- an increment applies only when ``U == last u + 1``; one without ``b``/``a`` keys only advances
  the id;
- a gap (or an increment before any snapshot) means the stream is broken: the book is dropped,
  a ``BookStatus`` ``resyncing`` is emitted and ``hooks.request_resubscribe(venue_symbol)`` asks
  the connection to unsubscribe + subscribe that one stream; increments are dropped until the
  new ``full`` arrives;
- an unknown contract or level is acked with success and then stays silent (pitfalls #12): the
  subscribe ack that echoes ``payload`` arms a timer per stream (a connection may also call
  :meth:`ObuBooks.expect_book` itself), and :meth:`ObuBooks.check_no_data` - run at most once a
  second on control frames (acks, app pongs: they keep arriving on a quiet socket), or from a
  timer -
  emits ``BookStatus`` ``stale``/``no_data`` for every book still without a snapshot after
  :attr:`ObuBooks.OBU_TIMEOUT_S`. A resubscribe after a gap arms it too.

A symbol's book comes from one book channel at a time: ``order_book_update`` (REST snapshot +
deltas) or ``obu``; the user picks per subscription (our channel ``book`` vs ``book_obu``).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from ...book import BookSequencer
from ...models import RESYNCING, STALE
from ...wire import Millis, Price, SeqId, Size
from .contracts import ONE, ContractSize
from .protocol import Envelope


class ObuUpdate(msgspec.Struct, gc=False):
    """``result`` of an obu push: ``t`` ms, ``full`` (only when true), ``s`` stream name,
    ``U``/``u`` ids, ``b``/``a`` ``[price, size]`` (sizes strings; contracts on futures)."""

    s: str
    u: SeqId
    t: Millis = 0
    full: bool = False
    U: SeqId = 0
    b: list[tuple[Price, Size]] = []
    a: list[tuple[Price, Size]] = []




# documented levels are 50 and 400 (§6.8, §7.7); a stream name past this is not a real book
MAX_OBU_LEVEL = 1000


def obu_stream(venue_symbol: str, level: int | str = 50) -> str:
    """Stream name of a subscription: ``("BTC_USDT", 50)`` -> ``"ob.BTC_USDT.50"``."""
    return f"ob.{venue_symbol}.{level}"


def parse_obu_stream(stream: str) -> tuple[str, int]:
    """``"ob.BTC_USDT.50"`` -> ``("BTC_USDT", 50)``. Raises ``ValueError`` on another shape or
    a level outside 1..:data:`MAX_OBU_LEVEL`."""
    if not stream.startswith("ob."):
        raise ValueError(f"not an obu stream name: {stream!r}")
    name, _, level = stream[3:].rpartition(".")
    if not name or not level.isdigit() or not 1 <= int(level) <= MAX_OBU_LEVEL:
        raise ValueError(f"not an obu stream name: {stream!r}")
    return name, int(level)


class ObuBooks:
    """Mixin for a :class:`~cexfeed.exchanges.gateio.common.GateioPublicHandler` subclass: adds
    ``_on_obu`` (map the channel to it in ``CHANNELS``), per-symbol resubscribe on obu gaps and
    the no-data check. Sizes go through :meth:`_sizer` (``ONE`` on spot; contract multiplier on
    futures)."""

    OBU_TIMEOUT_S = 5.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # stream name -> venue symbol, parsed once per stream
        self._obu_streams: dict[str, str] = {}
        # venue symbols whose book comes from obu
        self._obu_symbols: set[str] = set()
        # resubscribe requested, waiting for the new full push
        self._obu_pending: set[str] = set()
        # venue symbol -> ns when a snapshot started to be expected
        self._expected: dict[str, int] = {}
        self._next_no_data_check = 0

    def _sizer(self, venue_symbol: str) -> ContractSize:
        return ONE

    # -- push ------------------------------------------------------------------------------
    def _on_obu(self, env, recv_ts: int) -> None:
        r = env.result
        venue_symbol = self._obu_streams.get(r.s)
        if venue_symbol is None:
            venue_symbol = self._obu_register(r.s)
        exchange_ts = r.t or env.time_ms or env.time * 1000
        sizer = self._sizer(venue_symbol)
        if r.full:
            self._obu_pending.discard(venue_symbol)
            self._expected.pop(venue_symbol, None)
            self._book_full(venue_symbol, r.u, sizer.pairs(r.b), sizer.pairs(r.a), exchange_ts, recv_ts)
            return
        seq = self.books[venue_symbol]
        if not seq.synced:
            self.stats.errors["obu_unsynced_delta"] += 1
            if venue_symbol not in self._obu_pending:
                # an increment with no snapshot before it: the stream is broken
                self._status(venue_symbol, RESYNCING, "no_snapshot", None, exchange_ts, recv_ts, f"increment {r.U}-{r.u} before any full push")
                self._resync(venue_symbol)
            return
        self._book_delta(venue_symbol, r.U, r.u, sizer.pairs(r.b), sizer.pairs(r.a), exchange_ts, recv_ts)

    def _obu_register(self, stream: str) -> str:
        venue_symbol, level = parse_obu_stream(stream)
        self._obu_streams[stream] = venue_symbol
        self._obu_symbols.add(venue_symbol)
        seq = self.books.get(venue_symbol)
        if seq is None or seq.book.depth != level:
            # the server keeps exactly `level` levels (a level leaving the window arrives as 0)
            self.books[venue_symbol] = BookSequencer(level, self.unified(venue_symbol))
        return venue_symbol

    # -- recovery --------------------------------------------------------------------------
    def _resync(self, venue_symbol: str) -> None:
        if venue_symbol in self._obu_symbols:
            self._obu_pending.add(venue_symbol)
            self._expected[venue_symbol] = time.time_ns()
            self.hooks.request_resubscribe(venue_symbol)
        else:
            super()._resync(venue_symbol)

    def reset_books(self, reason: str = "reconnect") -> None:
        super().reset_books(reason)
        # the connection resubscribes everything after a reconnect
        self._obu_pending.clear()

    # -- silent subscriptions --------------------------------------------------------------
    def expect_book(self, venue_symbol: str, now_ns: int | None = None) -> None:
        """Start waiting for ``venue_symbol``'s first snapshot (call when subscribing); a book
        already synced (snapshot before ack) is not armed."""
        seq = self.books.get(venue_symbol)
        if seq is not None and seq.synced:
            return
        if venue_symbol not in self._expected:
            self._expected[venue_symbol] = time.time_ns() if now_ns is None else now_ns

    def check_no_data(self, now_ns: int | None = None, timeout_s: float | None = None) -> list[str]:
        """Emit ``BookStatus(status="stale", reason="no_data")`` once for every expected book
        still without a snapshot ``timeout_s`` (default :attr:`OBU_TIMEOUT_S`) after it was
        armed; returns their venue symbols. Call periodically from the connection's timer."""
        if not self._expected:
            return []
        now = time.time_ns() if now_ns is None else now_ns
        limit = int((self.OBU_TIMEOUT_S if timeout_s is None else timeout_s) * 1e9)
        silent = []
        for venue_symbol, since in list(self._expected.items()):
            seq = self.books.get(venue_symbol)
            if seq is not None and seq.synced:
                del self._expected[venue_symbol]
            elif now - since >= limit:
                del self._expected[venue_symbol]
                silent.append(venue_symbol)
                self.stats.errors["no_data"] += 1
                self._status(
                    venue_symbol,
                    STALE,
                    "no_data",
                    None,
                    0,
                    now,
                    f"no snapshot {(now - since) / 1e9:.1f}s after subscribing (unknown symbol or level?)",
                )
        return silent

    def _control(self, env: Envelope, raw, recv_ts: int) -> None:
        super()._control(env, raw, recv_ts)
        # newer acks echo the payload: arm the no-data timer for each stream
        if env.event == "subscribe" and env.error is None and env.payload and env.channel.endswith(".obu"):
            for stream in env.payload:
                try:
                    venue_symbol, _ = parse_obu_stream(stream)
                except ValueError:
                    continue
                self.expect_book(venue_symbol, recv_ts)
        self._no_data_tick(recv_ts)

    def _no_data_tick(self, recv_ts: int) -> None:
        """Run :meth:`check_no_data` at most once a second while a snapshot is awaited. Called on
        control frames (app pongs keep arriving on a quiet socket): no timer task, nothing on
        the data path."""
        if self._expected and recv_ts >= self._next_no_data_check:
            self._next_no_data_check = recv_ts + 1_000_000_000
            self.check_no_data(recv_ts)


# -- book channel choice (our channel names, shared by the spot and futures protocols) --------

OBU_LEVELS = (50, 400)


BOOK_CHANNELS = ("book", "book_obu", "book_snapshots")


def book_channels(protocol: Any, channels: list[str], book_mode: str) -> list[str]:
    """The requested channels with ``book`` meaning ``book_obu`` in obu mode; ``ValueError``
    when two book channels are asked for the same symbols."""
    if book_mode == "obu":
        channels = ["book_obu" if c == "book" else c for c in channels]
    books = [c for c in dict.fromkeys(channels) if c in BOOK_CHANNELS]
    if len(books) > 1:
        raise ValueError(
            f"{protocol.name}: one book channel per symbol: 'book' (order_book_update + REST snapshot), "
            f"'book_obu' (order book V2) or 'book_snapshots', got {books}"
        )
    return channels
