"""The compiled parts are built and in use where they must be.

Every compiled part has a pure-Python twin, so a build that fails falls back quietly and the
comparison tests skip. CI sets ``CEXFEED_REQUIRE_COMPILED=1`` (it has a C compiler): there a
missing compiled part is a failure, not a skip.
"""

from __future__ import annotations

import os

import pytest

import cexfeed.book as book
import cexfeed.exchanges.gateio.common as gate
import cexfeed.exchanges.mexc.decode as mexc

pytestmark = pytest.mark.skipif(not os.environ.get("CEXFEED_REQUIRE_COMPILED"), reason="CEXFEED_REQUIRE_COMPILED not set")


def test_compiled_book():
    assert book.L2Book is not book.PyL2Book


def test_compiled_gate_push_reader():
    assert gate.PushReader is not None
    from cexfeed.exchanges.gateio.futures_public_handler import GateioFuturesPublicWebSocketHandler
    from cexfeed.exchanges.gateio.spot_public_handler import GateioSpotPublicWebSocketHandler

    assert gate.PushHandler is not None
    for cls in (GateioFuturesPublicWebSocketHandler, GateioSpotPublicWebSocketHandler):
        handler = cls()
        # the compiled _handle_message (item rows read and every hot push published in C)
        assert handler._reader is not None and handler._handle_message.__self__.__class__ is gate.PushHandler


def test_compiled_account_value_screen():
    from cexfeed import wire

    assert wire.amounts_plain is not wire.py_amounts_plain


def test_compiled_mexc_decoder():
    assert mexc.COMPILED
    from cexfeed.exchanges.mexc import public_handler

    # the compiled _handle_message of the public handler (hot bodies published in C)
    assert public_handler.MexcHandle is not None
    assert public_handler.MexcPublicWebSocketHandler()._handle_message.__self__.__class__ is public_handler.MexcHandle


def test_compiled_book_levels_are_not_tracked_by_the_collector():
    """A queued BookUpdate costs each garbage collection its tracked objects; the compiled
    readers give its (price, size) pairs untracked (two floats are never in a cycle). Values are
    the pure twins' (the differential tests)."""
    import gc

    from cexfeed.bench.frames import gate_futures_cases, gate_spot_cases, mexc_cases
    from cexfeed.compat import build_handler
    from paths import perp_symbols

    for cases, stream in ((gate_spot_cases(3), "gateio-spot"), (gate_futures_cases(3), "gateio-perp"), (mexc_cases(3), "mexc-spot")):
        case = next(c for c in cases if c.kind == "book")
        events: list = []
        h = build_handler(stream, "direct", events.append, symbols=perp_symbols() if stream == "gateio-perp" else None, depth=100)
        update_id, bids, asks = case.snapshot
        h.apply_snapshot(case.symbol, update_id, [(float(p), float(s)) for p, s in bids], [(float(p), float(s)) for p, s in asks], 0, 1)
        events.clear()
        for frame in case.frames:
            h._handle_message(frame, 1)
        updates = [e for e in events if type(e).__name__ == "BookUpdate" and not e.snapshot]
        assert len(updates) == len(case.frames), stream
        pairs = [pair for e in updates for pair in e.bids + e.asks]
        assert len(pairs) > 20 * len(updates) and not any(gc.is_tracked(pair) for pair in pairs), stream


def test_compiled_mexc_private_decoder():
    from cexfeed.exchanges.mexc import private_decode
    from cexfeed.exchanges.mexc.private_handler import MexcPrivateWebSocketHandler

    assert private_decode.COMPILED
    assert MexcPrivateWebSocketHandler()._decode is private_decode.decode_private_compiled


def test_compiled_account_parts():
    from cexfeed import account
    from cexfeed.exchanges.gateio import private_common
    from cexfeed.exchanges.gateio.private_futures import GateioFuturesPrivateWebSocketHandler
    from cexfeed.exchanges.gateio.private_spot import GateioSpotPrivateWebSocketHandler

    assert account.AccountState is not account.PyAccountState
    assert private_common.AccountReader is not None
    for cls in (GateioSpotPrivateWebSocketHandler, GateioFuturesPrivateWebSocketHandler):
        handler = cls()
        assert handler._reader is not None and handler._handle_message == handler._reader.handle_message
