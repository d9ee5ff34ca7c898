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
- an unknown contract or level is acked with success and then stays silent (pitfalls #12):
  the connection's per-subscription silence check (:mod:`cexfeed.net.watch`) reports it like
  any silent subscription.

A symbol's book comes from one book channel at a time: ``order_book_update`` (REST snapshot +
deltas) or ``obu``; the user picks per subscription (our channel ``book`` vs ``book_obu``, rows
of the market's channel table).
"""

from __future__ import annotations

import msgspec

from ...book import BookSequencer
from ...models import RESYNCING
from ...wire import Millis, Price, SeqId, Size
from .contracts import ONE, ContractSize


class ObuUpdate(msgspec.Struct, gc=False):
    """``result`` of an obu push: ``t`` ms, ``full`` (only when true), ``s`` stream name,
    ``U``/``u`` ids, ``b``/``a`` ``[price, size]`` (sizes strings; contracts on futures)."""

    s: str
    u: SeqId
    t: Millis = 0
    full: bool = False
    U: SeqId | None = None
    b: list[tuple[Price, Size]] = []
    a: list[tuple[Price, Size]] = []




# documented levels are 50 and 400 (§6.8, §7.7); a stream name past this is not a real book
OBU_LEVELS = ("50", "400")
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
    ``_on_obu`` (map the channel to it in ``CHANNELS``) and per-symbol resubscribe on obu gaps.
    Sizes go through :meth:`_sizer` (``ONE`` on spot; contract multiplier on futures)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # stream name -> venue symbol, parsed once per stream
        self._obu_streams: dict[str, str] = {}
        # venue symbols whose book comes from obu
        self._obu_symbols: set[str] = set()
        # resubscribe requested, waiting for the new full push
        self._obu_pending: set[str] = set()

    def _sizer(self, venue_symbol: str) -> ContractSize:
        return ONE

    # -- push ------------------------------------------------------------------------------
    def _on_obu(self, env, recv_ts: int) -> None:
        r = env.result
        venue_symbol = self._obu_streams.get(r.s) or parse_obu_stream(r.s)[0]
        self._check_ids(venue_symbol, r.full, r.U, r.u, recv_ts)  # before any size is converted
        sizer = self._sizer(venue_symbol)
        bids = sizer.pairs(r.b)
        asks = sizer.pairs(r.a)
        self._obu_symbol(r.s)  # the stream's book exists once one of its pushes is usable
        exchange_ts = r.t or env.time_ms or env.time * 1000
        self._obu_push(venue_symbol, r.full, r.U, r.u, bids, asks, exchange_ts, recv_ts)

    def _obu_push(self, venue_symbol: str, full: bool, first: int, last: int, bids, asks, exchange_ts: int, recv_ts: int) -> None:
        """Apply one obu push (levels already in base currency): a ``full`` one replaces the book,
        an increment must continue it; an increment with no snapshot before it breaks the stream."""
        if self.closed_books and self._book_closed(venue_symbol):
            return
        if full:
            self._obu_pending.discard(venue_symbol)
            self._book_full(venue_symbol, last, bids, asks, exchange_ts, recv_ts)
            return
        seq = self.books[venue_symbol]
        if not seq.synced:
            self.stats.errors["obu_unsynced_delta"] += 1
            if venue_symbol not in self._obu_pending:
                # an increment with no snapshot before it: the stream is broken
                self._status(venue_symbol, RESYNCING, "no_snapshot", None, exchange_ts, recv_ts, f"increment {first}-{last} before any full push")
                self._resync(venue_symbol)
            return
        self._book_delta(venue_symbol, first, last, bids, asks, exchange_ts, recv_ts)

    def _obu_symbol(self, stream: str) -> str:
        """The venue symbol of an obu stream name (registered on first sight). Raises
        ``ValueError`` for a name that is not an obu stream."""
        venue_symbol = self._obu_streams.get(stream)
        return venue_symbol if venue_symbol is not None else self._obu_register(stream)

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
            self.hooks.request_resubscribe(venue_symbol)
        else:
            super()._resync(venue_symbol)

    def reset_books(self, reason: str = "reconnect", recv_ts: int | None = None) -> None:
        super().reset_books(reason, recv_ts)
        # the connection resubscribes everything after a reconnect
        self._obu_pending.clear()

    def open_book(self, venue_symbol: str) -> None:
        super().open_book(venue_symbol)
        # a new subscription may use another level: learn the stream again from its first push
        for stream in [name for name, symbol in self._obu_streams.items() if symbol == venue_symbol]:
            del self._obu_streams[stream]
        self._obu_symbols.discard(venue_symbol)
        self._obu_pending.discard(venue_symbol)
