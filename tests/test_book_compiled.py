"""The compiled L2Book (cexfeed._book) and the pure-Python PyL2Book give the same books."""

from __future__ import annotations

import random

import pytest

from cexfeed.book import L2Book, PyL2Book


def test_compiled_book_is_built():
    # the set-up scripts build it; a pure-Python install (CEXFEED_PURE_PYTHON=1) skips this
    if L2Book is PyL2Book:
        pytest.skip("compiled book not built in this environment")
    assert L2Book.__module__ == "cexfeed._book"


@pytest.mark.parametrize("seed", range(5))
def test_random_operations_match(seed):
    rng = random.Random(seed)
    depth = rng.choice([5, 20, 100])
    books = [L2Book(depth), PyL2Book(depth)]

    def levels(base, sign):
        out = []
        for _ in range(rng.randint(0, 25)):
            price = round(base + sign * rng.randint(0, 150) * 0.01, 2)
            size = 0.0 if rng.random() < 0.3 else round(rng.random() * 10, 4)
            out.append((price, size))
        return out

    for step in range(2000):
        if step % 500 == 0:
            bids, asks = levels(100.0, -1), levels(100.5, 1)
            for book in books:
                book.replace(bids, asks, step)
        else:
            bids, asks = levels(100.0, -1), [list(level) for level in levels(100.5, 1)]
            for book in books:
                book.apply(bids, asks)
        compiled, pure = books
        assert compiled.top_bids() == pure.top_bids()
        assert compiled.top_asks() == pure.top_asks()
        assert compiled.top_bids(3) == pure.top_bids(3) and compiled.top_asks(0) == pure.top_asks(0) == []
        assert compiled.best_bid() == pure.best_bid() and compiled.best_ask() == pure.best_ask()
        assert compiled.crossed() == pure.crossed()
        assert (compiled.bid_count, compiled.ask_count) == (pure.bid_count, pure.ask_count)
        assert compiled.bid_count <= depth and len(compiled.bids) == len(pure.bids)
