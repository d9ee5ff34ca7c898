"""Capture fuzz: every real capture in ``../shared/captures`` (Gate.io spot and perpetual
sessions with their REST snapshots, the quoted error frames, every MEXC ``.bin`` push and text
frame), replayed over and over with damage, through every handler of its venue on every path
(direct with its compiled parts, direct on the pure-Python twins, strategy) and through the
account handlers, frames of the other venues mixed in.

Each pass over a venue's frames is one connection (the handler is told the connection was
lost in between, as on a reconnect). One pass in four is clean: every frame as recorded, and
after every frame each book must equal :class:`~cexfeed.soak.fuzzref.Reference`, the book
rebuilt from the same frames by an independent reader. The other passes damage frames (a
structure change or bytes changed, :mod:`cexfeed.soak.mutate`). Always, after every event:
no exception leaves ``_handle_message``, the published book (the handler's, when a
``BookUpdate`` is published) is sorted, uncrossed, within the subscription's depth and equal to
what a consumer rebuilds from the events (:class:`~cexfeed.soak.fuzzref.Mirror`). An error a
handler counts is also checked for its exception type: an ``AttributeError``, an
``AssertionError`` or the like is a bug the handler swallowed, counted as ``unexpected`` (:data:`BUGS`).

MEXC has no recorded session, so its book stream is the captured ``aggre.depth`` push sent
again with versions that continue, after a REST snapshot made of its own levels.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from . import mutate
from .fuzzref import Mirror, Reference, book_faults

STREAMS = ("gateio-spot", "gateio-perp", "mexc-spot")
PATHS = ("direct", "direct-pure", "strategy", "account")
DEPTH = 100
# exception types that are bugs when a handler meets them, whatever the input (input of the
# wrong shape raises ValueError, msgspec/protobuf errors, UnicodeDecodeError, TypeError,
# KeyError or IndexError on some path, all counted as malformed: the outcome the rules want)
BUGS = {"AttributeError", "NameError", "UnboundLocalError", "AssertionError", "ZeroDivisionError", "RecursionError", "RuntimeError",
        "NotImplementedError", "SystemError", "MemoryError", "StopIteration"}


class Captures:
    """What the fuzz reads from a captures folder (``shared/captures``)."""

    def __init__(self, folder: Path) -> None:
        from ..capture import instruments_file_beside, merged, read_instruments, snapshot_files_beside

        self.folder = folder
        self.sessions: dict[str, list[tuple]] = {}
        self.instruments: dict[str, bytes | None] = {}
        for name, stream in (("GATEIO", "gateio-spot"), ("GATEIO_FUTURES", "gateio-perp")):
            ws = folder / "gateio" / f"{name}.ws.1.0"
            items = []
            for item in merged(ws, snapshot_files_beside(ws)):
                if item.kind == "frame":
                    items.append(("frame", item.payload.encode() if isinstance(item.payload, str) else item.payload))
                elif item.kind == "snapshot":
                    from ..capture import snapshot_symbol

                    items.append(("snapshot", snapshot_symbol(item.url), item.payload.encode() if isinstance(item.payload, str) else item.payload))
            self.sessions[stream] = items
            found = instruments_file_beside(ws)
            self.instruments[stream] = read_instruments(found) if found else None
        self.errors = [line.encode() for line in (folder / "gateio" / "error-frames_various.jsonl").read_text().splitlines() if line.strip()]
        mexc = folder / "mexc"
        self.mexc_bins = {p.stem: p.read_bytes() for p in sorted(mexc.glob("*.bin"))}
        self.mexc_text = []
        for line in (mexc / "text_frames.jsonl").read_text().splitlines():
            frame = json.loads(line).get("frame") if line.strip() else None
            if isinstance(frame, str):
                self.mexc_text.append(frame.encode())
        self.sessions["mexc-spot"] = self._mexc_session()
        self.instruments["mexc-spot"] = None

    def _mexc_session(self) -> list[tuple]:
        """The captured depth push with versions that continue, after a snapshot of its own
        levels; the other captured MEXC frames in between."""
        from ..exchanges.mexc.proto.push_pb2 import PushDataV3ApiWrapper

        depth = PushDataV3ApiWrapper.FromString(self.mexc_bins["cfarb_aggre_depth_100ms_XRPUSDC_fixture02"])
        body = depth.publicAggreDepths
        first = int(body.fromVersion)
        bids = sorted({x.price: x.quantity for x in body.bids}.items(), key=lambda x: -float(x[0]))
        asks = sorted({x.price: x.quantity for x in body.asks}.items(), key=lambda x: float(x[0]))
        snap = {"lastUpdateId": first - 1, "bids": [list(x) for x in bids], "asks": [list(x) for x in asks], "timestamp": depth.sendTime}
        items: list[tuple] = [("snapshot", depth.symbol, json.dumps(snap).encode())]
        others = [b for name, b in self.mexc_bins.items() if "depth_100ms" not in name] + self.mexc_text
        version = first
        for i in range(40):
            span = int(body.toVersion) - int(body.fromVersion)
            body.fromVersion, body.toVersion = str(version), str(version + span)
            version += span + 1
            items.append(("frame", depth.SerializeToString()))
            items.append(("frame", others[i % len(others)]))
        return items

    def foreign(self, stream: str) -> list[bytes]:
        """Frames of the other venues (and the quoted error frames) for ``stream``'s handlers."""
        gate = [i[1] for s in ("gateio-spot", "gateio-perp") if s != stream for i in self.sessions[s] if i[0] == "frame"][:50]
        mexc = list(self.mexc_bins.values()) + self.mexc_text if stream != "mexc-spot" else []
        return gate + mexc + self.errors


def corpus(captures: Captures, stream: str, frames: int, seed: int) -> Iterator[tuple]:
    """``frames`` frames of ``stream`` in passes: ``("reset",)`` between them, ``("snapshot",
    venue_symbol, body)``, ``("frame", raw, clean)``. Deterministic for a seed."""
    rng = random.Random(seed)
    session = captures.sessions[stream]
    foreign = captures.foreign(stream)
    channels = sorted({c for _, raw, *rest in (i for i in session if i[0] == "frame") for c in _channels(raw)})
    sent = 0
    n = 0
    while sent < frames:
        clean = n % 4 == 0
        n += 1
        yield ("reset",)
        for item in session:
            if item[0] == "snapshot":
                yield item
                continue
            raw = item[1]
            if not clean:
                roll = rng.random()
                if roll < 0.08:
                    raw = mutate.mutate_binary(rng, raw) if stream == "mexc-spot" and raw[:1] != b"{" else mutate.mutate_text(rng, raw)
                elif roll < 0.16:
                    raw = mutate.mutate_protobuf(rng, raw) if stream == "mexc-spot" and raw[:1] != b"{" else mutate.mutate_json(rng, raw, channels)
                elif roll < 0.18:
                    raw = rng.choice(foreign)
            yield ("frame", raw, clean)
            sent += 1
            if sent >= frames:
                return


def _channels(raw: bytes) -> list[str]:
    if raw[:1] != b"{":
        return []
    try:
        channel = json.loads(raw).get("channel")
    except (ValueError, AttributeError):
        return []
    return [channel] if isinstance(channel, str) and channel else []


def make_handler(stream: str, path: str, instruments: bytes | None):
    """The handler of ``stream`` on ``path`` (:data:`PATHS`)."""
    from ..venues import VENUES, load

    if path == "account":
        ref = VENUES[stream].private_replay
        return load(ref)(instruments) if ref else None
    from ..compat import build_handler

    symbols = load(VENUES[stream].replay_handler)(instruments).symbols
    handler = build_handler(stream, "strategy" if path == "strategy" else "direct", symbols=symbols, depth=DEPTH)
    if path == "direct-pure":
        if stream == "mexc-spot":
            from ..exchanges.mexc import decode

            handler._decode = decode.decode_push_upb
        else:
            handler._reader = None
    return handler


def _multipliers(instruments: bytes | None) -> dict[str, str]:
    if not instruments:
        return {}
    return {c["name"]: str(c["quanto_multiplier"]) for c in json.loads(instruments) if c.get("quanto_multiplier") not in (None, "0")}


def run_path(captures: Captures, stream: str, path: str, frames: int, seed: int = 1) -> dict[str, Any]:
    """Fuzz ``stream`` on ``path`` with ``frames`` frames; the figures and the first findings."""
    import cexfeed.book as book_module
    from ..capture import REPLAY_VENUES

    instruments = captures.instruments[stream]
    saved = book_module.L2Book
    if path == "direct-pure":
        book_module.L2Book = book_module.PyL2Book  # the books the handler makes are the pure twin
    try:
        handler = make_handler(stream, path, instruments)
        if handler is None:
            return {"stream": stream, "path": path, "skipped": "no account handler"}
        out = _run(handler, captures, stream, path, frames, seed, REPLAY_VENUES[stream].resolve()[1], _multipliers(instruments))
    finally:
        book_module.L2Book = saved
    return out


def _run(handler, captures: Captures, stream: str, path: str, frames: int, seed: int, apply_snapshot, multipliers) -> dict[str, Any]:
    types: Counter[str] = Counter()
    count_error = handler._count_error

    def counting(kind, raw, exc=None, *args, **kwargs):
        if isinstance(exc, BaseException):
            types[type(exc).__name__] += 1
        return count_error(kind, raw, exc, *args, **kwargs)

    handler._count_error = counting
    books = path != "account"
    mirror, ref = Mirror(DEPTH), Reference(stream, DEPTH, multipliers)
    figures: Counter[str] = Counter()
    findings: list[str] = []
    current = [b""]
    t0 = time.perf_counter()

    def wrong(what: str) -> None:
        figures["wrong_books"] += 1
        if len(findings) < 20:
            findings.append(f"{what}: {current[0][:200]!r}")

    def check(event) -> None:
        """Every event as it is published: the book it changed, as it is at that moment."""
        figures["events"] += 1
        if not books:
            return
        touched = mirror.on_event(event)
        if touched is None:
            return
        figures["book_checks"] += 1
        seq = handler.books.get(touched)
        if seq is None or (event.snapshot and not seq.synced):
            # a whole-book push kept outside the sequenced book (MEXC limit depth): on its own
            mirror.books.pop(touched, None)
            faults = book_faults(event.bids, event.asks, DEPTH)
            if faults:
                wrong(f"published {touched}: {faults}")
            return
        if not seq.synced:
            wrong(f"BookUpdate of {touched} published while not synced")
            return
        bids, asks = seq.book.top_bids(), seq.book.top_asks()
        faults = book_faults(bids, asks, DEPTH)
        if faults:
            wrong(f"book {touched}: {faults}")
        elif mirror.levels(touched) != (bids, asks):
            wrong(f"book {touched} differs from the one rebuilt from its events")

    handler.set_callback(check)
    for item in corpus(captures, stream, frames, seed):
        kind = item[0]
        if kind == "reset":
            current[0] = b"(reconnect)"
            handler.connection_lost("reconnect", 1)
            ref.reset()
            continue
        if kind == "snapshot":
            current[0] = item[2]
            if books:
                try:
                    apply_snapshot(handler, item[1], item[2], 1)
                except ValueError:
                    figures["bad_snapshots"] += 1
                ref.snapshot(item[1], item[2])
            continue
        raw, clean = item[1], item[2]
        current[0] = raw
        figures["frames"] += 1
        try:
            handler._handle_message(raw, 1)
        except Exception as exc:  # the contract: never raises
            figures["crashes"] += 1
            findings.append(f"raised {type(exc).__name__}: {exc}: {raw[:200]!r}")
            continue
        if clean and books:
            ref.frame(raw)
            for symbol, seq in handler.books.items():
                expect = ref.levels(symbol)
                figures["reference_checks"] += 1
                if expect is None:
                    if seq.synced:
                        wrong(f"book {symbol} synced where the reference is not")
                elif not seq.synced:
                    wrong(f"book {symbol} not synced where the reference is")
                elif not _same(expect, (seq.book.top_bids(), seq.book.top_asks())):
                    wrong(f"book {symbol} differs from the reference rebuilt from the frames")
    unexpected = {name: n for name, n in types.items() if name in BUGS}
    figures["unexpected"] = sum(unexpected.values())
    for name in unexpected:
        findings.append(f"swallowed {name} ({unexpected[name]} times)")
    return {"stream": stream, "path": path, **figures, "errors_by_type": dict(types), "error_kinds": dict(handler.stats.errors),
            "seconds": time.perf_counter() - t0, "findings": findings}


def _same(a, b) -> bool:
    """Equal books; perpetual sizes (contracts x multiplier) within a relative 1e-12."""
    if a == b:
        return True
    for side_a, side_b in zip(a, b):
        if len(side_a) != len(side_b):
            return False
        for (pa, sa), (pb, sb) in zip(side_a, side_b):
            if pa != pb or abs(sa - sb) > 1e-12 * max(abs(sa), abs(sb)):
                return False
    return True


def run(folder: Path, frames: int, streams=STREAMS, paths=PATHS, seed: int = 1, log=None) -> dict[str, Any]:
    """The whole fuzz: every stream on every path, ``frames`` frames each."""
    captures = Captures(folder)
    results = []
    for stream in streams:
        for path in paths:
            r = run_path(captures, stream, path, frames, seed)
            results.append(r)
            if log is not None:
                log(f"  fuzz {stream:12s} {path:12s} {r.get('frames', 0):>9,} frames  crashes {r.get('crashes', 0)}  "
                    f"wrong books {r.get('wrong_books', 0)}  unexpected {r.get('unexpected', 0)}  {r.get('seconds', 0):.1f} s")
    return {"frames_per_path": frames, "seed": seed, "runs": results}


def main(argv=None) -> int:
    """``python -m cexfeed.soak.fuzz --frames N [--out FILE]``: the fuzz alone; its results as
    JSON (``cexfeed soak --fuzz-results FILE`` puts them in the report)."""
    import argparse

    from .run import default_captures

    parser = argparse.ArgumentParser(prog="python -m cexfeed.soak.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000, help="frames per venue and path")
    parser.add_argument("--captures", help="captures folder (default ../shared/captures)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="write the results here (JSON)")
    a = parser.parse_args(argv)
    folder = Path(a.captures) if a.captures else default_captures()
    if folder is None:
        parser.error("no captures folder: --captures or CEXFEED_SHARED")
    result = run(folder, a.frames, seed=a.seed, log=print)
    if a.out:
        Path(a.out).write_text(json.dumps(result, indent=1), encoding="utf-8")
    bad = sum(r.get("crashes", 0) + r.get("unexpected", 0) + r.get("wrong_books", 0) for r in result["runs"])
    return 1 if bad else 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
