"""Raw MEXC frames from files, for replay and tests.

Formats read by :func:`iter_mexc_frames`:

- a ``.bin`` file: one binary WebSocket message (one serialized ``PushDataV3ApiWrapper``, no
  length prefix), as in ``shared/captures/mexc/``;
- a folder: every ``*.bin`` in it, sorted by name (other files ignored);
- a text file (``.hex``, ``.txt``, ``.jsonl`` ...): one frame per line, either hex of a binary
  frame, or a JSON text frame (a line starting with ``{``) passed through as ``str``; a
  ``text_frames.jsonl``-style line ``{"frame": "..."}`` yields its ``frame`` string. Blank
  lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import msgspec


class _Recorded(msgspec.Struct):
    frame: str | None = None


_recorded = msgspec.json.Decoder(_Recorded)


def iter_mexc_frames(path: str | Path) -> Iterator[bytes | str]:
    """Yield raw frames (``bytes`` binary, ``str`` JSON text) from ``path`` (see the module
    docstring). Raises ``FileNotFoundError`` for a missing path and ``ValueError`` for a text
    line that is neither hex nor JSON (with its line number)."""
    path = Path(path)
    if path.is_dir():
        for file in sorted(path.glob("*.bin")):
            yield file.read_bytes()
        return
    if path.suffix == ".bin":
        yield path.read_bytes()
        return
    with path.open("r", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("{"):
                try:
                    rec = _recorded.decode(line)
                except msgspec.DecodeError:
                    yield line
                    continue
                yield rec.frame if rec.frame is not None else line
                continue
            try:
                yield bytes.fromhex(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: neither hex nor JSON") from exc


def replay_handler(exchange_info: bytes | None = None):
    """A MEXC spot public handler for replay, named from an ``/api/v3/exchangeInfo`` body (or
    by quote suffix when ``None``). Raises ``msgspec.DecodeError`` on a malformed body."""
    from .public_handler import MexcPublicWebSocketHandler
    from .rest import spot_symbol_map

    return MexcPublicWebSocketHandler(symbols=spot_symbol_map(exchange_info))


def replay_snapshot(handler, venue_symbol: str, body: bytes, recv_ts: int) -> None:
    """Apply one recorded ``/api/v3/depth`` body (``lastUpdateId``) to ``handler``. Raises
    ``msgspec.DecodeError`` (a ``ValueError``) on a malformed body."""
    from .rest import parse_depth_snapshot

    snap = parse_depth_snapshot(body)
    handler.apply_snapshot(venue_symbol, snap.lastUpdateId, snap.bids, snap.asks, snap.exchange_ts, recv_ts)
