"""MEXC spot: median µs per frame from raw bytes to applied book / emitted event.

Run: ``python -m cexfeed.bench.mexc_decode [--decoder upb|compiled|both] [--repeat 15]``. Not a test.

Frames (generated with the project's encoder, shaped like real pushes):
- ``depth20``: aggre.depth with 20 bid + 20 ask changes at prices already in a 100-level
  book (chained versions, so every push is applied);
- ``bbo``: aggre.bookTicker;
- ``deals5``: aggre.deals with 5 deals.
Beside them: the upb parse-only floor (``PushDataV3ApiWrapper.FromString``) and the decode-only
cost of each decoder. Each figure is the median over ``--repeat`` runs of the mean per frame.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from cexfeed.exchanges.mexc import decode
from cexfeed.exchanges.mexc.encode import aggre_book_ticker_frame, aggre_deals_frame, aggre_depth_frame
from cexfeed.exchanges.mexc.public_handler import MexcPublicWebSocketHandler

SYMBOL = "BTCUSDT"
V0 = 82164153436
N_DEPTH = 2000


def _book_levels():
    bids = [(round(84270.00 - i * 0.37, 2), round(0.01 + i * 0.003, 8)) for i in range(100)]
    asks = [(round(84270.01 + i * 0.41, 2), round(0.02 + i * 0.002, 8)) for i in range(100)]
    return bids, asks


def depth_frames():
    bids, asks = _book_levels()
    frames = []
    for n in range(N_DEPTH):
        first = V0 + 1 + n * 3
        db = [(bids[(n + i * 3) % 100][0], f"{0.001 * ((n + i) % 97 + 1):.8f}") for i in range(20)]
        da = [(asks[(n + i * 3) % 100][0], f"{0.002 * ((n + i) % 89 + 1):.8f}") for i in range(20)]
        frames.append(aggre_depth_frame(SYMBOL, first, first + 2, bids=db, asks=da, send_time=1790281243450 + n))
    return frames


def bbo_frame():
    return aggre_book_ticker_frame(SYMBOL, "84270", "0.006387", "84270.01", "5.42169969", version=V0, send_time=1790281243450)


def deals_frame():
    deals = [("84270.%02d" % i, "0.0009982%d" % i, 1 + i % 2, 1790281246176 + i, f"73190189698539{i}296X0_73190189698539{i}297X0") for i in range(5)]
    return aggre_deals_frame(SYMBOL, deals, send_time=1790281246250)


def _sink(event) -> None:
    pass


def _median_per_frame(run, frames: int, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        run()
        samples.append((time.perf_counter_ns() - t0) / frames / 1000.0)
    return statistics.median(samples)


def bench_handler(decoder_fn, repeat: int) -> dict[str, float]:
    out = {}
    frames = depth_frames()
    bids, asks = _book_levels()

    def depth_run():
        h = MexcPublicWebSocketHandler(_sink, depth=100, decoder=decoder_fn)
        h.apply_snapshot(SYMBOL, V0, bids, asks)
        handle = h._handle_message
        t = 1
        t0 = time.perf_counter_ns()
        for f in frames:
            handle(f, t)
        elapsed = time.perf_counter_ns() - t0
        assert h.stats.errors == {} and h.book(SYMBOL).book.last_update_id == V0 + 3 * N_DEPTH - 1 + 1, h.stats.as_dict()
        return elapsed

    samples = [depth_run() / N_DEPTH / 1000.0 for _ in range(repeat)]
    out["depth20"] = statistics.median(samples)
    h = MexcPublicWebSocketHandler(_sink, decoder=decoder_fn)
    handle = h._handle_message
    for name, raw in (("bbo", bbo_frame()), ("deals5", deals_frame())):
        n = 20000

        def run(raw=raw, n=n):
            for _ in range(n):
                handle(raw, 1)

        out[name] = _median_per_frame(run, n, repeat)
    assert h.stats.errors == {}
    return out


def bench_decode_only(decoder_fn, repeat: int) -> dict[str, float]:
    out = {}
    for name, raw in (("depth20", depth_frames()[0]), ("bbo", bbo_frame()), ("deals5", deals_frame())):
        n = 20000

        def run(raw=raw, n=n):
            for _ in range(n):
                decoder_fn(raw)

        out[name] = _median_per_frame(run, n, repeat)
    return out


def bench_upb_floor(repeat: int) -> dict[str, float]:
    parse = decode.parse_wrapper
    out = {}
    for name, raw in (("depth20", depth_frames()[0]), ("bbo", bbo_frame()), ("deals5", deals_frame())):
        n = 20000

        def run(raw=raw, n=n):
            for _ in range(n):
                parse(raw)

        out[name] = _median_per_frame(run, n, repeat)
    return out


TARGETS = {"depth20": 8.0, "bbo": 1.5, "deals5": 3.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--decoder", choices=["upb", "compiled", "both"], default="both")
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    decoders = []
    if args.decoder in ("upb", "both"):
        decoders.append(("upb", decode.decode_push_upb))
    if args.decoder in ("compiled", "both"):
        if decode.decode_push_compiled is None:
            print("compiled decoder not built (pip install -e . with a C compiler)", file=sys.stderr)
        else:
            decoders.append(("compiled", decode.decode_push_compiled))
    sizes = {"depth20": len(depth_frames()[0]), "bbo": len(bbo_frame()), "deals5": len(deals_frame())}
    floor = bench_upb_floor(args.repeat)
    print(f"{'frame':<9}{'bytes':>6}{'upb parse-only':>16}" + "".join(f"{d + ' decode':>18}{d + ' handler':>18}" for d, _ in decoders) + f"{'target':>8}")
    results = {d: (bench_decode_only(fn, args.repeat), bench_handler(fn, args.repeat)) for d, fn in decoders}
    for frame in ("depth20", "bbo", "deals5"):
        row = f"{frame:<9}{sizes[frame]:>6}{floor[frame]:>16.2f}"
        for d, _ in decoders:
            dec, han = results[d]
            row += f"{dec[frame]:>18.2f}{han[frame]:>18.2f}"
        print(row + f"{TARGETS[frame]:>8.1f}")
    print("µs per frame, median of runs; handler = raw bytes -> applied book / events to a no-op callback")
    return 0


if __name__ == "__main__":
    sys.exit(main())
