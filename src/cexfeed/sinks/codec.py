"""What goes on the bus: event encodings, the sink's own ``SinkGap`` notice, and the names of
streams (Redis keys) and subjects (NATS).

Encodings (both carry the ``type`` tag of :mod:`cexfeed.models`):

- ``json``: :func:`cexfeed.models.encode_event` bytes (``{"type":"trade",...}``);
- ``msgpack``: the same struct as a MessagePack map (``msgspec.msgpack``), about 25 % smaller.

:func:`decode_payload` tells them apart by the first byte (``{`` is JSON; a MessagePack map
starts with ``0x80``-``0x8f``, ``0xde`` or ``0xdf``), so a reader never needs to be told.

Names (``prefix`` defaults to ``cexfeed``; ``source`` is the event's ``venue-market``, i.e.
the registry name ``gateio-spot``, ``gateio-perp``, ``mexc-spot``; ``type`` the event's tag;
``venue_symbol`` the venue's name, ``_`` for an event without a symbol):

- Redis, ``layout="symbol"``: ``{prefix}:{source}:{venue_symbol}`` — every event of one symbol
  in one stream, in the order the worker produced them (what a book consumer wants);
- Redis, ``layout="channel"``: ``{prefix}:{source}:{type}`` — one stream per venue and event
  type (``cexfeed:gateio-spot:trade``), for consumers of one kind of event across symbols;
- NATS: ``{prefix}.{source}.{type}.{venue_symbol}`` — filter with wildcards
  (``cexfeed.gateio-spot.trade.*``, ``cexfeed.*.book.BTC_USDT``, ``cexfeed.>``).
"""

from __future__ import annotations

from typing import Callable, Union, get_args

import msgspec

from ..models import AnyEvent, Event, encode_event

ENCODINGS = ("json", "msgpack")
LAYOUTS = ("symbol", "channel")

# SinkGap.reason values
GAP_START = "start"
GAP_OVERFLOW = "overflow"


class SinkGap(Event, tag="sink_gap", gc=False):
    """Events of this stream may be missing just before this notice.

    Published by a sink into the same stream (Redis key / NATS subject) as the events it
    concerns, for one ``venue``/``symbol``:

    - ``reason="start"``: the first event a publisher (a worker process, or a sink after a
      restart) writes for this symbol and event type. Whatever happened between the previous
      publisher's last event and this one (a worker died and was restarted) was not seen:
      trade ids may jump, and a book consumer waits for the next snapshot ``BookUpdate``
      (a new publisher always starts its books with one). ``dropped`` is 0 (unknown).
    - ``reason="overflow"``: the sink fell behind and dropped ``dropped`` events of type
      ``channel`` for this symbol (oldest first). When those were book events the worker
      resyncs that book, so a snapshot ``BookUpdate`` follows.

    ``channel`` is the event type (``trade``, ``book`` ...) whose events are concerned;
    ``exchange_ts`` is 0 and ``recv_ts`` the time of the notice (ns)."""

    channel: str
    reason: str
    dropped: int = 0


BusEvent = Union[tuple([*get_args(AnyEvent), SinkGap])]  # type: ignore[misc]

_msgpack_encoder = msgspec.msgpack.Encoder()
_json_decoder = msgspec.json.Decoder(BusEvent)
_msgpack_decoder = msgspec.msgpack.Decoder(BusEvent)


def encoder(encoding: str) -> Callable[[Event], bytes]:
    """The encode function of ``encoding`` (``json`` or ``msgpack``). Raises ``ValueError``."""
    if encoding == "json":
        return encode_event
    if encoding == "msgpack":
        return _msgpack_encoder.encode
    raise ValueError(f"unknown encoding {encoding!r}; one of {ENCODINGS}")


def decode_payload(data: bytes) -> Event:
    """A bus payload (JSON or MessagePack, told apart by its first byte) back to its typed event
    (any :mod:`cexfeed.models` event or :class:`SinkGap`). Raises ``msgspec.DecodeError`` on
    bad input."""
    if data[:1] == b"{":
        return _json_decoder.decode(data)
    return _msgpack_decoder.decode(data)


def event_type(event: Event) -> str:
    """The ``type`` tag of an event (``trade``, ``book`` ...); a ``SinkGap`` answers the type of
    the events it concerns, so it is routed beside them."""
    cls = type(event)
    if cls is SinkGap:
        return event.channel  # type: ignore[attr-defined]
    tag = _TAGS.get(cls)
    if tag is None:  # an event type added after this module loaded
        tag = _TAGS[cls] = str(cls.__struct_config__.tag or cls.__name__)
    return tag


_TAGS: dict[type, str] = {cls: cls.__struct_config__.tag for cls in get_args(BusEvent)}


def _part(value: str) -> str:
    # a name part never holds the separators or NATS wildcards
    if not value:
        return "_"
    for ch in ".*> :":
        if ch in value:
            value = value.replace(ch, "_")
    return value


def source(event: Event) -> str:
    """``venue-market`` of an event: the registry name of the stream it came from
    (``gateio-spot``, ``gateio-perp``, ``mexc-spot``)."""
    return f"{event.venue}-{event.market}"


def redis_key(prefix: str, layout: str) -> Callable[[Event], str]:
    """The function naming the Redis stream of an event under ``layout`` (see the module
    docstring). Raises ``ValueError`` for an unknown layout."""
    if layout == "symbol":
        by_symbol: dict[tuple[str, str, str], str] = {}

        def symbol_key(event: Event) -> str:
            ident = (event.venue, event.market, event.venue_symbol)
            key = by_symbol.get(ident)
            if key is None:
                key = by_symbol[ident] = f"{prefix}:{source(event)}:{_part(event.venue_symbol)}"
            return key

        return symbol_key
    if layout == "channel":
        by_type: dict[tuple[str, str, str], str] = {}

        def channel_key(event: Event) -> str:
            ident = (event.venue, event.market, event_type(event))
            key = by_type.get(ident)
            if key is None:
                key = by_type[ident] = f"{prefix}:{source(event)}:{ident[2]}"
            return key

        return channel_key
    raise ValueError(f"unknown layout {layout!r}; one of {LAYOUTS}")


def nats_subject(prefix: str) -> Callable[[Event], str]:
    """The function naming the NATS subject of an event:
    ``{prefix}.{source}.{type}.{venue_symbol}``."""
    subjects: dict[tuple[str, str, str, str], str] = {}

    def subject(event: Event) -> str:
        ident = (event.venue, event.market, event_type(event), event.venue_symbol)
        name = subjects.get(ident)
        if name is None:
            name = subjects[ident] = f"{prefix}.{source(event)}.{ident[2]}.{_part(event.venue_symbol)}"
        return name

    return subject
