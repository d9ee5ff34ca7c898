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

    assert GateioFuturesPublicWebSocketHandler()._reader is not None
    assert GateioSpotPublicWebSocketHandler()._reader is not None


def test_compiled_account_value_screen():
    from cexfeed import wire

    assert wire.amounts_plain is not wire.py_amounts_plain


def test_compiled_mexc_decoder():
    assert mexc.COMPILED


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
