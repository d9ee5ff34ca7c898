"""cexfeed's comparative benchmark suite (``python -m cexfeed.bench`` / ``cexfeed bench``), part
of the package so that an installed cexfeed can run it. The peers it compares against (ccxt.pro,
cryptofeed) and the chart library come from the ``bench`` extra; a missing one makes its column
``n/a`` with a note.

Modules: :mod:`.frames` (synthetic wire frames), :mod:`.contenders` (cexfeed direct, strategy,
decode floor, ccxt.pro, cryptofeed), :mod:`.micro` (interleaved per-frame timing and
allocations), :mod:`.alloc`, :mod:`.e2e` + :mod:`.blaster` (loopback throughput),
:mod:`.report`, :mod:`.run`; :mod:`.mexc_decode` is a separate MEXC decoder micro-benchmark.
"""
