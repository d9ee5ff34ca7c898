"""Allocation measurements per frame.

Two instruments, both reported:

- **tracemalloc** (standard library): the peak of traced memory above the level before the
  frame, i.e. the most memory the frame held at once (temporaries included);
- **allocator counter** (``_alloccount.c``, compiled here with the system C compiler on first
  use, loaded with ctypes): every ``malloc``/``calloc``/``realloc`` call of Python's object and
  mem domains while a frame is processed -- blocks allocated, temporaries included, and the
  bytes requested. tracemalloc alone cannot count those: it only sees blocks still alive.
  When no compiler is available the counter is reported as missing.

The fixed cost of the measuring calls themselves is measured on an empty function and
subtracted.
"""

from __future__ import annotations

import ctypes
import hashlib
import subprocess
import sys
import sysconfig
import tempfile
import tracemalloc
from pathlib import Path
from typing import Callable, Sequence

_SOURCE = Path(__file__).with_name("_alloccount.c")
_lib = None
_error: str | None = None


def _library():
    global _lib, _error
    if _lib is not None or _error is not None:
        return _lib
    try:
        source = _SOURCE.read_bytes()
        tag = hashlib.sha1(source + sys.version.encode()).hexdigest()[:12]
        out = Path(tempfile.gettempdir()) / f"cexfeed_alloccount_{tag}.so"
        if not out.exists():
            include = sysconfig.get_paths()["include"]
            tmp = out.with_suffix(f".{id(out)}.tmp")
            subprocess.run(["cc", "-O2", "-shared", "-fPIC", f"-I{include}", str(_SOURCE), "-o", str(tmp)], check=True, capture_output=True, timeout=60)
            tmp.replace(out)
        lib = ctypes.PyDLL(str(out))
        lib.alloc_blocks.restype = ctypes.c_ulonglong
        lib.alloc_bytes.restype = ctypes.c_ulonglong
        _lib = lib
    except Exception as exc:  # no compiler, no headers: the counter is unavailable
        _error = f"{type(exc).__name__}: {exc}"
    return _lib


def counter_error() -> str | None:
    """Why the allocator counter is unavailable (``None`` when it works)."""
    _library()
    return _error


def count_allocations(process: Callable[[bytes], object], frames: Sequence[bytes]) -> tuple[float, float] | None:
    """Mean (blocks, bytes) allocated per frame by ``process`` over ``frames``, minus the cost
    of the measurement itself; ``None`` when the counter is unavailable."""
    lib = _library()
    if lib is None:
        return None
    start, stop, blocks, nbytes = lib.alloc_start, lib.alloc_stop, lib.alloc_blocks, lib.alloc_bytes

    def run(fn) -> tuple[int, int]:
        b0, n0 = blocks(), nbytes()
        start()
        for raw in frames:
            fn(raw)
        stop()
        return blocks() - b0, nbytes() - n0

    empty = run(_nothing)
    used = run(process)
    n = len(frames)
    return max(0.0, (used[0] - empty[0]) / n), max(0.0, (used[1] - empty[1]) / n)


def _nothing(raw: bytes) -> None:
    return None


def peak_bytes(process: Callable[[bytes], object], frames: Sequence[bytes]) -> float:
    """Median over ``frames`` of tracemalloc's peak traced memory above the level before each
    frame (bytes)."""
    peaks = []
    started = tracemalloc.is_tracing()
    if not started:
        tracemalloc.start()
    try:
        get, reset = tracemalloc.get_traced_memory, tracemalloc.reset_peak
        for raw in frames:
            reset()
            before = get()[0]
            process(raw)
            peaks.append(get()[1] - before)
    finally:
        if not started:
            tracemalloc.stop()
    peaks.sort()
    return float(peaks[len(peaks) // 2]) if peaks else 0.0
