"""The cexfeed capture format, version 1 (``.cxf`` files): encoding and reading.

A capture is one or more *parts* (files), each a sequence of *blocks*. A block is

* a zstd skippable frame (magic ``0x184D2A5C``, little-endian size ``16``) whose 16 bytes are
  ``b"CXFB"``, the compressed length (u32), the CRC-32 of the compressed bytes (u32) and the
  number of records (u32), followed by
* one zstd frame (with content size and zstd's own checksum) holding those records.

So ``zstd -d`` decompresses a part into the plain record stream, and a reader can tell a
complete block from a torn one (short, bad CRC) without trusting anything after it. A record
is a 15-byte little-endian head ``u32 length | u8 type | u16 connection | u64 ts_ns`` and
``length`` bytes of data:

==========  ======  ============================================================================
type        value   data
==========  ======  ============================================================================
HEADER      1       JSON: ``format`` ("cexfeed-capture"), ``version``, ``session`` (random id),
                    ``part``, ``created_ns``, ``cexfeed`` (version), ``venue``, ``ws_url``,
                    ``rest_url``, ``symbols``, ``channels``, ``protocol_options``
TEXT        2       a text frame as received, byte for byte (``ts`` = its ``recv_ts``)
BINARY      3       a binary frame as received
SENT        4       a text frame the client sent
REST        5       ``u32 n`` + ``n`` bytes of JSON (``url``, ``path``, ``params`` as
                    ``[[key, value], ...]``, ``status``, ``error``) + the response body
EVENT       6       JSON: ``kind`` and details of a connection event (:mod:`cexfeed.net.tap`),
                    or ``kind`` ``lost`` (the writer fell behind: ``records`` were dropped)
==========  ======  ============================================================================

``connection`` is the id of the connection (``0xFFFF`` for REST and session records). Every
part starts with a HEADER; parts after the first then repeat the *context* (the latest REST
response of each request, an ``open`` EVENT per connection) so a part can be read alone.

Part files are named ``STEM.NNNNN.cxf`` (``NNNNN`` from ``00000``); the writer only appends
and never reopens a file. The HEADER of part 0 is written twice, each copy alone in a block of
its own, before anything else: a damaged byte loses at most one block, never the session's
header. Readers stop at a torn last block (a crash, or the writer still
writing it) and go on past a corrupt block in the middle of a file by looking for the next
block head; both are reported in :class:`ReadReport` (with the records lost), never raised.
"""

from __future__ import annotations

import mmap
import re
import struct
import zlib
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import msgspec
import zstandard

FORMAT = "cexfeed-capture"
VERSION = 1
SUFFIX = ".cxf"

HEADER = 1
TEXT = 2
BINARY = 3
SENT = 4
REST = 5
EVENT = 6
KIND_NAMES = {HEADER: "header", TEXT: "text", BINARY: "binary", SENT: "sent", REST: "rest", EVENT: "event"}

NO_CONN = 0xFFFF
LOST = "lost"

_SKIPPABLE = 0x184D2A5C
_TAG = b"CXFB"
BLOCK_HEAD = struct.Struct("<II4sIII")  # magic, size 16, tag, compressed length, crc32, records
BLOCK_MAGIC = BLOCK_HEAD.pack(_SKIPPABLE, 16, _TAG, 0, 0, 0)[:12]
RECORD_HEAD = struct.Struct("<IBHQ")
_REST_META = struct.Struct("<I")

_json = msgspec.json.Encoder()


class Record(NamedTuple):
    """One record: ``type`` (``TEXT`` ...), ``conn`` connection id, ``ts`` ns, ``data`` bytes."""

    type: int
    conn: int
    ts: int
    data: bytes


class RestResponse(NamedTuple):
    """The decoded data of a REST record."""

    url: str
    path: str
    params: tuple[tuple[str, str], ...]
    status: int
    error: str
    body: bytes


def encode(kind: int, conn: int, ts: int, data: bytes) -> bytes:
    """One record, head and data."""
    return RECORD_HEAD.pack(len(data), kind, conn, ts) + data


def encode_json(kind: int, conn: int, ts: int, obj: Any) -> bytes:
    return encode(kind, conn, ts, _json.encode(obj))


def params_key(params: Any) -> tuple[tuple[str, str], ...]:
    """A REST query as sorted ``(key, value)`` string pairs (``None`` -> ``()``)."""
    if not params:
        return ()
    items = params.items() if hasattr(params, "items") else params
    return tuple(sorted((str(k), str(v)) for k, v in items))


def encode_rest(ts: int, url: str, path: str, params: Any, status: int, body: bytes, error: str) -> bytes:
    meta = _json.encode({"url": url, "path": path, "params": params_key(params), "status": status, "error": error})
    return encode(REST, NO_CONN, ts, _REST_META.pack(len(meta)) + meta + body)


def decode_rest(data: bytes) -> RestResponse:
    """The REST record data -> :class:`RestResponse`. Raises ``ValueError`` when malformed."""
    (n,) = _REST_META.unpack_from(data)
    meta = msgspec.json.decode(data[4 : 4 + n])
    params = tuple((str(k), str(v)) for k, v in meta.get("params", ()))
    return RestResponse(meta.get("url", ""), meta.get("path", ""), params, int(meta.get("status", 0)), meta.get("error", ""), bytes(data[4 + n :]))


def decode_json(data: bytes) -> dict[str, Any]:
    return msgspec.json.decode(data)


def block(records: bytes | bytearray, count: int, compressor: zstandard.ZstdCompressor) -> bytes:
    """One block (skippable head + zstd frame) of ``count`` encoded records."""
    frame = compressor.compress(records)
    return BLOCK_HEAD.pack(_SKIPPABLE, 16, _TAG, len(frame), zlib.crc32(frame), count) + frame


def new_compressor(level: int = 1) -> zstandard.ZstdCompressor:
    return zstandard.ZstdCompressor(level=level, write_checksum=True, write_content_size=True)


# -- part names ----------------------------------------------------------------------------
_PART = re.compile(r"^(?P<stem>.*)\.(?P<n>\d{5})\.cxf$")


def part_path(stem: str | Path, index: int) -> Path:
    """``STEM.NNNNN.cxf`` (``stem`` may end in ``.cxf``, which is dropped)."""
    stem = str(stem)
    if stem.endswith(SUFFIX):
        stem = stem[: -len(SUFFIX)]
    return Path(f"{stem}.{index:05d}{SUFFIX}")


def split_part(path: str | Path) -> tuple[str, int] | None:
    """``STEM.00003.cxf`` -> ``("STEM", 3)``; ``None`` for another name."""
    m = _PART.match(str(path))
    return (m.group("stem"), int(m.group("n"))) if m else None


def is_capture(path: str | Path) -> bool:
    """True for a file that starts with a capture block head (or, cut shorter than one, with
    the start of one), a file named as a part (``NAME.00000.cxf``, even empty: a damaged
    capture is still one), or a ``--out`` name whose first part exists."""
    path = Path(path)
    if not path.is_file():
        return not path.exists() and part_path(path, 0).is_file()
    with open(path, "rb") as fh:
        head = fh.read(12)
    return head == BLOCK_MAGIC or (4 <= len(head) < 12 and BLOCK_MAGIC.startswith(head)) or split_part(path) is not None


def resolve_parts(path: str | Path) -> list[Path]:
    """The parts to read for ``path``: that part and every later one of the same stem that
    exists (a ``--out`` name stands for its first part)."""
    path = Path(path)
    if not path.exists() and part_path(path, 0).is_file():
        path = part_path(path, 0)
    named = split_part(path)
    if named is None:
        return [path]
    stem, index = named
    parts = [path]
    while part_path(stem, index + 1).is_file():
        index += 1
        parts.append(part_path(stem, index))
    return parts


# -- reading ------------------------------------------------------------------------------
class ReadReport:
    """What a read found besides records: ``blocks`` read, ``torn`` (``(path, offset)`` of a
    torn last block: incomplete, or a bad checksum with nothing valid after it), ``corrupt``
    (``(path, offset, skipped_bytes)`` of bad blocks skipped in the middle of a file),
    ``lost_records`` the records those blocks held by their (intact) heads, ``unknown_lost``
    the skipped blocks whose head was damaged too (their record count unknown)."""

    def __init__(self) -> None:
        self.blocks = 0
        self.records = 0
        self.torn: list[tuple[str, int]] = []
        self.corrupt: list[tuple[str, int, int]] = []
        self.lost_records = 0
        self.unknown_lost = 0

    def damaged(self) -> bool:
        return bool(self.torn or self.corrupt)

    def lost(self, view: Any, offset: int, size: int) -> None:
        """Count the records of the unusable block at ``offset`` (from its head, when intact)."""
        if offset + BLOCK_HEAD.size <= size:
            magic, frame_size, tag, _, _, count = BLOCK_HEAD.unpack_from(view, offset)
            if magic == _SKIPPABLE and frame_size == 16 and tag == _TAG and count < 1 << 24:
                self.lost_records += count
                return
        self.unknown_lost += 1

    def describe_loss(self) -> str:
        """``"56 records"`` / ``"56 records and 1 block of unknown size"`` / ``""``."""
        parts = [f"{self.lost_records} records"] if self.lost_records else []
        if self.unknown_lost:
            parts.append(f"{self.unknown_lost} block{'s' if self.unknown_lost > 1 else ''} of unknown size")
        return " and ".join(parts)

    def __repr__(self) -> str:
        return (f"ReadReport(blocks={self.blocks}, records={self.records}, torn={self.torn}, corrupt={self.corrupt}, "
                f"lost_records={self.lost_records})")


def _decode_block(view: Any, offset: int, size: int, dctx: zstandard.ZstdDecompressor) -> tuple[list[Record], int] | str:
    """Records of the block at ``offset`` and the offset after it, or why it is unusable:
    ``"short"`` (the file ends inside it) or ``"bad"`` (checksum, head or content wrong).
    Either way the reader looks for a later block head; with none the block is the torn end."""
    end_head = offset + BLOCK_HEAD.size
    if end_head > size:
        return "short"
    magic, frame_size, tag, length, crc, count = BLOCK_HEAD.unpack_from(view, offset)
    if magic != _SKIPPABLE or frame_size != 16 or tag != _TAG:
        return "bad"
    if end_head + length > size:
        return "short"
    frame = view[end_head : end_head + length]
    if zlib.crc32(frame) != crc:
        return "bad"
    try:
        data = dctx.decompress(frame)
    except zstandard.ZstdError:
        return "bad"
    records = []
    pos = 0
    head = RECORD_HEAD
    while pos < len(data):
        if pos + head.size > len(data):
            return "bad"
        length_, kind, conn, ts = head.unpack_from(data, pos)
        pos += head.size
        if pos + length_ > len(data):
            return "bad"
        records.append(Record(kind, conn, ts, data[pos : pos + length_]))
        pos += length_
    if len(records) != count:
        return "bad"
    return records, end_head + length


def read_part(path: str | Path, report: ReadReport | None = None) -> Iterator[Record]:
    """Records of one part file in order. Never raises for a torn or corrupt block (see
    :class:`ReadReport`); raises ``OSError`` when the file cannot be read."""
    report = report if report is not None else ReadReport()
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        if size == 0:
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as view:
            dctx = zstandard.ZstdDecompressor()
            offset = 0
            while offset < size:
                result = _decode_block(view, offset, size, dctx)
                if isinstance(result, str):
                    # resync: the next block head after the damage (a block is the unit the
                    # format can check; records inside a damaged block cannot be trusted)
                    following = view.find(BLOCK_MAGIC, offset + 1)
                    report.lost(view, offset, size)
                    if following < 0:
                        report.torn.append((str(path), offset))
                        return
                    report.corrupt.append((str(path), offset, following - offset))
                    offset = following
                    continue
                records, offset = result
                report.blocks += 1
                report.records += len(records)
                yield from records


def read_capture(path: str | Path, report: ReadReport | None = None) -> Iterator[Record]:
    """Records of ``path`` and the parts after it (:func:`resolve_parts`), in order."""
    for part in resolve_parts(path):
        yield from read_part(part, report)
