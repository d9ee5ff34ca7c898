"""cexfeed's comparative benchmark suite (``python -m bench`` / ``cexfeed bench``).

Modules: :mod:`bench.frames` (synthetic wire frames), :mod:`bench.contenders` (cexfeed direct,
strategy, decode floor, ccxt.pro, cryptofeed), :mod:`bench.micro` (interleaved per-frame
timing and allocations), :mod:`bench.alloc`, :mod:`bench.e2e` + :mod:`bench.blaster`
(loopback throughput), :mod:`bench.report`, :mod:`bench.run`.
"""
