"""Helpers shared by the MEXC tests (not a test module)."""

from __future__ import annotations

import pytest

from cexfeed.exchanges.mexc import decode
from cexfeed.exchanges.mexc.public_handler import MexcPublicWebSocketHandler
from cexfeed.handlers import ConnectionHooks

DECODERS = ["upb", "compiled"]


def decoder_for(name: str):
    if name == "upb":
        return decode.decode_push_upb
    if decode.decode_push_compiled is None:
        pytest.skip("compiled MEXC decoder (_fastpb) not built")
    return decode.decode_push_compiled


class RecordingHooks(ConnectionHooks):
    def __init__(self) -> None:
        self.acks: list[tuple] = []
        self.pongs = 0
        self.snapshots: list[str] = []

    def on_ack(self, request_id, channel, ok, message) -> None:
        self.acks.append((request_id, channel, ok, message))

    def on_pong(self) -> None:
        self.pongs += 1

    def request_snapshot(self, venue_symbol) -> None:
        self.snapshots.append(venue_symbol)


def make_handler(decoder: str = "upb", depth: int = 100):
    events: list = []
    handler = MexcPublicWebSocketHandler(events.append, depth=depth, decoder=decoder_for(decoder))
    hooks = RecordingHooks()
    handler.hooks = hooks
    return handler, events, hooks
