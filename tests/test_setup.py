"""setup.py leaves no stale compiled module behind: a pure-Python install, a missing Cython or a
failed build removes the .so/.pyd beside the sources, so the pure-Python twin is what imports."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def setup_module():
    spec = importlib.util.spec_from_file_location("cexfeed_setup", ROOT / "setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # __name__ is not "__main__": setup() does not run
    return module


def _tree(tmp_path: Path) -> dict[str, Path]:
    files = {
        "book_so": tmp_path / "cexfeed" / "_book.cpython-311-x86_64-linux-gnu.so",
        "book_pyx": tmp_path / "cexfeed" / "_book.pyx",
        "fastpush_pyd": tmp_path / "cexfeed" / "exchanges" / "gateio" / "_fastpush.cp311-win_amd64.pyd",
        "fastpb_so": tmp_path / "cexfeed" / "exchanges" / "mexc" / "_fastpb.cpython-312-darwin.so",
        "fastpb_c": tmp_path / "cexfeed" / "exchanges" / "mexc" / "_fastpb.c",
        "other_so": tmp_path / "cexfeed" / "exchanges" / "mexc" / "_other.cpython-311-x86_64-linux-gnu.so",
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return files


def test_remove_stale_removes_only_that_module(setup_module, tmp_path):
    files = _tree(tmp_path)
    removed = setup_module.remove_stale("cexfeed.exchanges.mexc._fastpb", str(tmp_path))
    assert removed == [str(files["fastpb_so"])]
    assert not files["fastpb_so"].exists() and files["fastpb_c"].exists() and files["other_so"].exists()


def test_a_pure_python_install_removes_every_stale_build(setup_module, tmp_path):
    files = _tree(tmp_path)
    assert setup_module.extensions(pure=True, root=str(tmp_path)) == []
    assert not files["book_so"].exists() and not files["fastpush_pyd"].exists() and not files["fastpb_so"].exists()
    assert files["book_pyx"].exists() and files["fastpb_c"].exists() and files["other_so"].exists()


def test_a_missing_cython_still_builds_the_c_module(setup_module, tmp_path, monkeypatch):
    files = _tree(tmp_path)
    monkeypatch.setitem(sys.modules, "Cython", None)  # import Cython -> ImportError
    monkeypatch.setitem(sys.modules, "Cython.Build", None)
    exts = setup_module.extensions(pure=False, root=str(tmp_path))
    assert [e.name for e in exts] == ["cexfeed.exchanges.mexc._fastpb", "cexfeed.exchanges.mexc._privpb"]
    assert not files["book_so"].exists() and not files["fastpush_pyd"].exists()
    assert files["fastpb_so"].exists()  # built again by this install


def test_a_failed_build_removes_the_stale_module(setup_module, tmp_path, monkeypatch):
    files = _tree(tmp_path)
    monkeypatch.setattr(setup_module, "SRC", str(tmp_path))
    monkeypatch.setattr(setup_module.remove_stale, "__defaults__", (str(tmp_path),))

    def fail(self, ext):
        raise RuntimeError("compiler error")

    monkeypatch.setattr(setup_module.build_ext, "build_extension", fail)
    from setuptools import Distribution, Extension

    cmd = setup_module.BuildExt(Distribution())
    with pytest.raises(RuntimeError):
        cmd.build_extension(Extension("cexfeed.exchanges.mexc._fastpb", ["x.c"]))
    assert not files["fastpb_so"].exists() and files["book_so"].exists()
