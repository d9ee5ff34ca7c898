"""cexfeed's own capture format: record a live session byte for byte, replay it exactly.

* :class:`Recorder` (``Feed(..., tap=Recorder("data/btc"))``) writes ``data/btc.00000.cxf``,
  ``.00001.cxf`` ... : every frame as received with its ``recv_ts``, every frame sent, every
  REST response, every connection event; zstd-compressed blocks, appended, rotated by size and
  time (format: :mod:`cexfeed.record.format`, docs/capture-format.md).
* :func:`read_capture` yields the records, stopping quietly at a torn last block.
* :class:`CaptureReplay` runs them through the venue's real handlers and reproduces the live
  session's events exactly (``cexfeed replay FILE``).
"""

from .format import ReadReport, Record, is_capture, read_capture, read_part, resolve_parts
from .replay import CaptureReplay, RecordedRest
from .writer import Recorder

__all__ = [
    "CaptureReplay",
    "ReadReport",
    "Record",
    "RecordedRest",
    "Recorder",
    "is_capture",
    "read_capture",
    "read_part",
    "resolve_parts",
]
