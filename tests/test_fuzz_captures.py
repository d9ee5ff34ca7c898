"""Capture fuzz (:mod:`cexfeed.soak.fuzz`): every real capture in ../shared/captures, replayed
with damage through every handler of its venue on every path (direct compiled, direct pure,
strategy, account), other venues' frames mixed in: 0 exceptions out of ``_handle_message``, 0
bugs swallowed, 0 wrong books (checked after every event: sorted, uncrossed, within depth,
equal to the book rebuilt from the events; after every clean frame equal to the independent
reference rebuilt from the frames).

CI runs ``CEXFEED_FUZZ_FRAMES`` frames per venue and path (default 20,000); the long run is
the same test with ``CEXFEED_FUZZ_FRAMES=1000000`` (or ``cexfeed soak --fuzz-frames``).

Below: each frame the fuzz ever found wrong, fixed, with the value it must give."""

from __future__ import annotations

import os

import pytest

from cexfeed.soak import fuzz
from paths import same_on_every_path

FRAMES = int(os.environ.get("CEXFEED_FUZZ_FRAMES", "20000"))


@pytest.fixture(scope="module")
def captures(captures_dir):
    return fuzz.Captures(captures_dir)


@pytest.mark.parametrize("stream", fuzz.STREAMS)
@pytest.mark.parametrize("path", fuzz.PATHS)
def test_capture_fuzz(captures, stream, path):
    r = fuzz.run_path(captures, stream, path, FRAMES, seed=7)
    if r.get("skipped"):
        pytest.skip(f"{stream} {path}: {r['skipped']}")
    assert r["frames"] == FRAMES
    assert (r.get("crashes", 0), r.get("unexpected", 0), r.get("wrong_books", 0)) == (0, 0, 0), r["findings"]
    # the run did what it says: damage counted, books checked and compared with the reference
    assert sum(r["error_kinds"].values()) > FRAMES // 100, r["error_kinds"]
    if path != "account":
        assert r["book_checks"] > FRAMES // 20 and r["reference_checks"] > FRAMES // 10, r


def _limit_depth(captures_dir, mutate) -> bytes:
    from cexfeed.exchanges.mexc.proto.push_pb2 import PushDataV3ApiWrapper

    wrapper = PushDataV3ApiWrapper.FromString((captures_dir / "mexc" / "cs_limit_depth_5_BTCUSDT.bin").read_bytes())
    mutate(wrapper.publicLimitDepths)
    return wrapper.SerializeToString()


def test_fuzz_find_limit_depth_with_a_price_out_of_order_is_not_published(captures_dir):
    """Found by the capture fuzz: the captured MEXC limit depth push with its best ask price
    damaged to 18446744073709551616 was published as a book whose asks were not ascending (on
    every path). A whole-book push whose sides are not strictly ordered best first is now
    counted (``unsorted_snapshot``) and skipped, as a crossed one is."""
    def big_first_ask(body):
        body.asks[0].price = "18446744073709551616"

    def bids_out_of_order(body):
        first, second = body.bids[0].price, body.bids[1].price
        body.bids[0].price, body.bids[1].price = second, first

    def repeated_bid(body):
        body.bids[1].price = body.bids[0].price

    for mutate in (big_first_ask, bids_out_of_order, repeated_bid):
        events, errors = same_on_every_path("mexc-spot", [_limit_depth(captures_dir, mutate)])
        assert events == [] and errors == {"unsorted_snapshot": 1}, mutate.__name__
    # the push as captured is published, best first
    events, errors = same_on_every_path("mexc-spot", [_limit_depth(captures_dir, lambda body: None)])
    # limit depth is a full book (one book per symbol): the first push syncs it
    assert errors == {} and [e["type"] for e in events] == ["BookUpdate", "BookStatus"] and events[0]["snapshot"]
    assert events[1]["status"] == "synced"
    asks = [p for p, _ in events[0]["asks"]]
    bids = [p for p, _ in events[0]["bids"]]
    assert asks == sorted(asks) and bids == sorted(bids, reverse=True) and bids[0] < asks[0]
