"""Optional compiled parts. Every one has a pure-Python twin used when it is not built
(no compiler, or CEXFEED_PURE_PYTHON=1 at install time)."""

import os

from setuptools import Extension, setup

extensions = []
if not os.environ.get("CEXFEED_PURE_PYTHON"):
    from Cython.Build import cythonize

    extensions = cythonize(
        [Extension("cexfeed._book", ["src/cexfeed/_book.pyx"], optional=True)],
        compiler_directives={"language_level": 3},
        quiet=True,
    )
    # MEXC hot push bodies in plain C (no Cython needed); upb decoder used when absent
    extensions.append(Extension("cexfeed.exchanges.mexc._fastpb", ["src/cexfeed/exchanges/mexc/_fastpb.c"], optional=True))

setup(ext_modules=extensions)
