"""``python -m bench`` from a source checkout: the harness itself is :mod:`cexfeed.bench`; this
folder holds its committed reports (``reports/latest.md``)."""
