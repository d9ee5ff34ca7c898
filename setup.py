"""Optional compiled parts. Every one has a pure-Python twin used when it is not built (no
compiler, no Cython, or CEXFEED_PURE_PYTHON=1 at install time).

A compiled part that is not built must not leave an older build of it behind: an editable
install keeps built modules beside their sources, where they would be imported instead of the
pure-Python twin. So every module that is not built this time - a pure-Python install, a missing
Cython, a failed translation or compilation - has its .so/.pyd beside the sources removed.
"""

import glob
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")

# module -> source
CYTHON_MODULES = {
    "cexfeed._book": "src/cexfeed/_book.pyx",
    "cexfeed._amounts": "src/cexfeed/_amounts.pyx",
    "cexfeed._account": "src/cexfeed/_account.pyx",
    "cexfeed.exchanges.gateio._fastpush": "src/cexfeed/exchanges/gateio/_fastpush.pyx",
    # cimports the JSON scanning of _fastpush.pxd and the number rules of _amounts.pxd
    "cexfeed.exchanges.gateio._fastprivate": "src/cexfeed/exchanges/gateio/_fastprivate.pyx",
    # the compiled _handle_message of the public handlers: cimports _fastpush.pxd
    "cexfeed.exchanges.gateio._fastitems": "src/cexfeed/exchanges/gateio/_fastitems.pyx",
    # the compiled _handle_message of the MEXC public handler: cimports _account.pxd
    "cexfeed.exchanges.mexc._fasthandle": "src/cexfeed/exchanges/mexc/_fasthandle.pyx",
}
# MEXC hot push bodies (public) and private bodies in plain C (no Cython needed); the upb
# decoders are used when absent. Both include the wire primitives of _pbwire.h and the wrapper
# walk of _pbpush.h; each has parts of its own in included headers (_fastpb_*.h, _privpb_*.h).
C_MODULES = {
    "cexfeed.exchanges.mexc._fastpb": "src/cexfeed/exchanges/mexc/_fastpb.c",
    "cexfeed.exchanges.mexc._privpb": "src/cexfeed/exchanges/mexc/_privpb.c",
}
# every header is a dependency of both: a change to any rebuilds them (Cython modules find the
# .pxi/.pxd files they include or cimport themselves)
C_HEADERS = sorted(glob.glob("src/cexfeed/exchanges/mexc/*.h", root_dir=HERE))


def remove_stale(module: str, root: str = SRC) -> list[str]:
    """Delete built copies of ``module`` (``cexfeed._book``) beside its sources under ``root``;
    returns the removed paths."""
    folder, _, name = module.replace(".", os.sep).rpartition(os.sep)
    removed = []
    for pattern in (name + ".*.so", name + ".so", name + ".*.pyd", name + ".pyd"):
        for path in glob.glob(os.path.join(root, folder, pattern)):
            os.remove(path)
            removed.append(path)
    return removed


class BuildExt(build_ext):
    """build_ext that removes the stale build of an extension it failed to build (an optional
    extension's failure is then reported as a warning by setuptools, as before)."""

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except BaseException:
            remove_stale(ext.name)
            raise


def cythonized(modules: dict[str, str], root: str = SRC) -> list[Extension]:
    """The Cython modules translated to C, each on its own: one that fails to translate, or all
    of them when Cython cannot be imported, is left out (and its stale build removed)."""
    try:
        from Cython.Build import cythonize
    except Exception as exc:  # noqa: BLE001 - no Cython: the pure-Python twins remain
        print(f"cexfeed: Cython unavailable ({exc}); not compiling {', '.join(modules)}")
        for module in modules:
            remove_stale(module, root)
        return []
    built = []
    for module, source in modules.items():
        try:
            built += cythonize([Extension(module, [source], optional=True)], compiler_directives={"language_level": 3}, quiet=True)
        except Exception as exc:  # noqa: BLE001 - report and fall back to pure Python
            print(f"cexfeed: not compiling {module}: {exc}")
            remove_stale(module, root)
    return built


def extensions(pure: bool = False, root: str = SRC) -> list[Extension]:
    """What to build: nothing for a pure-Python install (every stale build removed), else the
    Cython modules that translate and the C modules."""
    if pure:
        for module in (*CYTHON_MODULES, *C_MODULES):
            remove_stale(module, root)
        return []
    return cythonized(CYTHON_MODULES, root) + [
        Extension(module, [source], depends=C_HEADERS, optional=True) for module, source in C_MODULES.items()
    ]


if __name__ == "__main__":  # setuptools runs it so; tests import the helpers above
    setup(ext_modules=extensions(bool(os.environ.get("CEXFEED_PURE_PYTHON"))), cmdclass={"build_ext": BuildExt})
