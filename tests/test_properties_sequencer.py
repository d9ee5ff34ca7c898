"""Property tests (hypothesis) of the book sequencer (cexfeed.book): any sequence of REST
snapshots, deltas (continuing, overlapping, stale, gapped), in-band full pushes, resets and
invalidations gives, after every step, the result code, sync state, last id and levels of a
model written from the rules alone (cexfeed/book.py docstring, gateio-protocol.md §10.1,
mexc-protocol.md §4), on the compiled book and on its pure twin alike; a synced book is never
crossed and never deeper than its depth."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cexfeed.book import APPLIED, BUFFERED, CROSSED, GAP, SNAPSHOT_CROSSED, SNAPSHOT_IGNORED, SNAPSHOT_TOO_OLD, STALE, SYNCED, BookSequencer, PyL2Book

DEPTH = 6
MAX_BUFFER = 5000


class Model:
    """The rules, plainly: dicts for the sides, a list for the buffer."""

    def __init__(self) -> None:
        self.synced = False
        self.bridged = False
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.last = 0
        self.buffer: list = []

    def levels(self):
        return sorted(self.bids.items(), reverse=True), sorted(self.asks.items())

    def _crossed(self) -> bool:
        return bool(self.bids) and bool(self.asks) and max(self.bids) >= min(self.asks)

    def _set(self, bids, asks) -> None:
        for side, levels, best_high in ((self.bids, bids, True), (self.asks, asks, False)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
            for price in sorted(side, reverse=best_high)[DEPTH:]:
                del side[price]

    def _clear(self) -> None:
        self.bids, self.asks, self.last = {}, {}, 0

    def _break(self, kept=None) -> None:
        self.synced = self.bridged = False
        self._clear()
        self.buffer = [kept] if kept is not None else []

    def delta(self, first, last, bids, asks) -> int:
        if not self.synced:
            self.buffer = (self.buffer + [(first, last, bids, asks)])[-MAX_BUFFER:]
            return BUFFERED
        if last <= self.last:
            return STALE
        if first != self.last + 1 and (self.bridged or first > self.last + 1):
            self._break((first, last, bids, asks))
            return GAP
        self.bridged = True
        self._set(bids, asks)
        self.last = last
        if self._crossed():
            self._break()
            return CROSSED
        return APPLIED

    def snapshot(self, update_id, bids, asks) -> int:
        if self.synced and update_id <= self.last:
            return SNAPSHOT_IGNORED
        self._clear()
        self._set(bids, asks)
        self.last = update_id
        if self._crossed():
            self._clear()
            self.synced = self.bridged = False
            return SNAPSHOT_CROSSED
        # stale deltas leave from the front only (the buffer is in arrival order)
        while self.buffer and self.buffer[0][1] <= update_id:
            self.buffer.pop(0)
        pending = list(self.buffer)
        if pending and pending[0][0] > update_id + 1:
            self._clear()
            self.synced = False
            return SNAPSHOT_TOO_OLD
        self.synced, self.bridged, self.buffer = True, False, []
        for index, d in enumerate(pending):
            code = self.delta(*d)
            if code in (GAP, CROSSED):
                self.buffer += pending[index + 1:]
                return code
        return SYNCED

    def full(self, update_id, bids, asks) -> int:
        self.buffer = []
        self._clear()
        self._set(bids, asks)
        self.last = update_id
        self.synced = self.bridged = True
        if self._crossed():
            self._break()
            return CROSSED
        return SYNCED

    def reset(self) -> None:
        self.synced = self.bridged = False
        self.buffer = []
        self._clear()

    def invalidate(self) -> None:
        if self.synced:
            self._break()


prices = st.sampled_from([95.0, 96.0, 97.5, 98.0, 99.0, 99.5, 100.0, 100.5, 101.0, 102.0, 103.0, 104.5])
sizes = st.sampled_from([0.0, 0.0, 0.25, 1.0, 2.5, 7.0])
bid_levels = st.lists(st.tuples(prices.filter(lambda p: p <= 100.0), sizes), max_size=5)
ask_levels = st.lists(st.tuples(prices.filter(lambda p: p >= 100.0), sizes), max_size=5)
# an op: ("delta", first offset, span, bids, asks) | ("snapshot", offset, bids, asks) | ("full", offset, ...) | ("reset",) | ("invalidate",)
ops = st.lists(st.one_of(
    st.tuples(st.just("delta"), st.integers(-3, 3), st.integers(0, 3), bid_levels, ask_levels),
    st.tuples(st.just("delta"), st.just(1), st.integers(0, 2), bid_levels, ask_levels),
    st.tuples(st.just("snapshot"), st.integers(-4, 2), bid_levels, ask_levels),
    st.tuples(st.just("full"), st.integers(-2, 3), bid_levels, ask_levels),
    st.tuples(st.just("reset")),
    st.tuples(st.just("invalidate")),
), max_size=40)


def _clean(levels):
    """Levels as a venue sends them: one entry per price (the last one wins)."""
    return list(dict(levels).items())


@settings(max_examples=400, deadline=None)
@given(ops)
def test_sequencer_follows_the_rules_on_both_books(steps):
    model = Model()
    compiled = BookSequencer(DEPTH)
    pure = BookSequencer(DEPTH)
    pure.book = PyL2Book(DEPTH)
    head = 1000  # the venue's id so far
    for step in steps:
        kind = step[0]
        if kind == "delta":
            _, offset, span, bids, asks = step
            first = max(0, head + offset)
            last = first + span
            head = max(head, last)
            args = (first, last, _clean(bids), _clean(asks))
            codes = {compiled.on_delta(*args), pure.on_delta(*args), model.delta(*args)}
        elif kind in ("snapshot", "full"):
            _, offset, bids, asks = step
            update_id = max(0, head + offset)
            args = (update_id, _clean(bids), _clean(asks))
            if kind == "snapshot":
                codes = {compiled.on_snapshot(*args), pure.on_snapshot(*args), model.snapshot(*args)}
            else:
                head = max(head, update_id)
                codes = {compiled.on_full(*args), pure.on_full(*args), model.full(*args)}
        else:
            for seq in (compiled, pure):
                getattr(seq, kind)()
            getattr(model, kind)()
            codes = {None}
        assert len(codes) == 1, (step, codes)
        expect = model.levels()
        for seq in (compiled, pure):
            book = seq.book
            assert seq.synced == model.synced, step
            assert len(seq.buffer) == len(model.buffer), step
            if seq.synced:
                assert book.last_update_id == model.last
                assert (book.top_bids(), book.top_asks()) == expect, step
                assert book.bid_count <= DEPTH and book.ask_count <= DEPTH
                assert not book.crossed()
            else:
                assert book.top_bids() == [] and book.top_asks() == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(bid_levels, ask_levels), min_size=1, max_size=30))
def test_a_continuing_stream_is_applied_whole_and_equals_a_replay_from_scratch(deltas):
    """Deltas that continue exactly after a snapshot are all applied, whatever their levels
    (unless one crosses the book), and the book equals the model's."""
    seq, model = BookSequencer(DEPTH), Model()
    bids0, asks0 = [(99.0, 1.0), (98.0, 2.0)], [(101.0, 1.0), (102.0, 2.0)]
    assert seq.on_snapshot(10, bids0, asks0) == model.snapshot(10, bids0, asks0) == SYNCED
    uid = 10
    for bids, asks in deltas:
        uid += 1
        args = (uid, uid, _clean(bids), _clean(asks))
        code = seq.on_delta(*args)
        assert code == model.delta(*args)
        assert code in (APPLIED, CROSSED, BUFFERED)
        if code == CROSSED:
            break
        assert (seq.book.top_bids(), seq.book.top_asks()) == model.levels()
