"""Optional compiled parts. Every one has a pure-Python twin used when it is not built
(no compiler, or CEXFEED_PURE_PYTHON=1 at install time)."""

import glob
import os

from setuptools import Extension, setup


def _cythonize_each(modules, **options):
    from Cython.Build import cythonize

    built = []
    for module in modules:
        try:
            built += cythonize([module], **options)
        except Exception as exc:  # noqa: BLE001 - report and fall back to pure Python
            print(f"cexfeed: not compiling {module.name}: {exc}")
            # an editable install keeps the last build beside the source: drop it, so that the
            # pure-Python twin runs rather than a stale build of older code
            folder, _, name = module.name.replace(".", "/").rpartition("/")
            for stale in glob.glob(os.path.join("src", folder, name + ".*.so")) + glob.glob(os.path.join("src", folder, name + ".*.pyd")):
                os.remove(stale)
    return built


extensions = []
if not os.environ.get("CEXFEED_PURE_PYTHON"):
    # a .pyx that fails to translate must not fail the install: the pure-Python twins remain
    extensions = _cythonize_each(
        [
            Extension("cexfeed._book", ["src/cexfeed/_book.pyx"], optional=True),
            Extension("cexfeed._amounts", ["src/cexfeed/_amounts.pyx"], optional=True),
            Extension("cexfeed.exchanges.gateio._fastpush", ["src/cexfeed/exchanges/gateio/_fastpush.pyx"], optional=True),
        ],
        compiler_directives={"language_level": 3},
        quiet=True,
    )
    # MEXC hot push bodies in plain C (no Cython needed); upb decoder used when absent
    extensions.append(Extension("cexfeed.exchanges.mexc._fastpb", ["src/cexfeed/exchanges/mexc/_fastpb.c"], optional=True))

setup(ext_modules=extensions)
