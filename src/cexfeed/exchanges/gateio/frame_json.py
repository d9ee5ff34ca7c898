"""Plain reading of Gate JSON frames, shared by the typed handlers, the private handlers and the
compat strategies: the untyped decode (:data:`plain_json`, numbers past the float range kept as
:class:`Overflow`), a push's items (:func:`result_items`) read one at a time
(:func:`convert_item`, :func:`lenient_item`), the whole-frame struct of a channel
(:func:`frame_struct`), and the symbols a frame names (:func:`book_symbol`,
:func:`error_symbol`) (gateio-protocol.md §2.3).
"""

from __future__ import annotations

from typing import Any, Union

import msgspec

from ...channels import Table
from ...wire import SeqId, Time, untyped_amounts
from .obu import parse_obu_stream
from .protocol import GateError
from .spot_table import ALL

class Overflow(str):
    """A JSON number too large for a float, kept as its text: no value rule accepts it (it is not
    a ``str`` to :mod:`cexfeed.wire`), so the field it sits in is impossible, not the frame."""

    __slots__ = ()


def _float(text: str) -> float | Overflow:
    x = float(text)
    return x if x - x == 0.0 else Overflow(text)


#: JSON to plain Python values, the one way every path here reads a market frame untyped
#: (duplicate keys: the last wins; a number past the float range: an :class:`Overflow`). Account
#: frames keep their numbers exact instead: :data:`cexfeed.wire.untyped_amounts` (Decimals).
plain_json = msgspec.json.Decoder(float_hook=_float)


def lost_book_symbol(frame: Any, book_channels: frozenset[str] | set[str]) -> str | None:
    """The venue symbol of a push on one of ``book_channels`` that could not be used (``frame``
    is its plain JSON value), when it still names one: its book must be dropped now."""
    if not isinstance(frame, dict) or frame.get("channel") not in book_channels or frame.get("event") != "update":
        return None
    result = frame.get("result")
    return book_symbol(result.get("s"), frame["channel"].endswith(".obu")) if isinstance(result, dict) else None


#: JSON that writes a Decimal as the number text it was read from (account frames, see
#: :data:`GateioFrames.EXACT_JSON`)
_exact_json = msgspec.json.Encoder(decimal_format="number")


def _last_wins(raw: bytes | str, exact: bool = False) -> bytes | str:
    """The frame as its plain JSON value re-encoded: of a key sent twice only the last value is
    kept; with ``exact`` every number keeps its own text (read as a Decimal, account frames).
    The frame unchanged when it is not JSON (its decode then says why)."""
    try:
        if exact:
            return _exact_json.encode(untyped_amounts.decode(raw))
        return msgspec.json.encode(msgspec.json.decode(raw))
    except (msgspec.DecodeError, msgspec.EncodeError, OverflowError):
        return raw


def frame_struct(channel: str, result: Any) -> type:
    """The whole-frame struct of one push channel: ``event``, ``time`` (s), ``time_ms`` and a
    typed ``result``, tagged by ``channel`` (§2.3); the other envelope fields (``id``,
    ``error``, ``payload``: never on a push) are checked as :class:`Envelope` checks them."""
    return msgspec.defstruct(
        "Frame_" + channel.replace(".", "_"),
        [("result", result), ("event", str, ""), ("time", Time, 0), ("time_ms", Time, 0),
         ("id", Union[SeqId, None], None), ("error", Union[GateError, None], None), ("payload", Union[list, None], None)],
        tag_field="channel",
        tag=channel,
        gc=False,
    )


def typed(struct: type) -> msgspec.json.Decoder:
    """The lax typed decoder used for channel results: numeric strings become floats/ints."""
    return msgspec.json.Decoder(struct, strict=False)


def result_items(result: Any) -> tuple[list, bool]:
    """``(items, single)`` of a push's plain-JSON ``result`` (gateio-protocol.md §2.3: Gate
    sends one object, an array of objects or an array of arrays of objects): the items in order,
    and whether the result was one object. An element of another shape is kept as it is (reading
    it fails: a malformed item). Raises ``ValueError`` for a result that is no object or array."""
    cls = result.__class__
    if cls is dict:
        return [result], True
    if cls is not list:
        raise ValueError(f"result is neither an object nor an array: {result!r:.40}")
    items: list = []
    for element in result:
        if element.__class__ is list:
            items.extend(element)
        else:
            items.append(element)
    return items, False


_FIELDS: dict[type, frozenset[str]] = {}


def convert_item(item: Any, struct: type) -> Any:
    """One item of a result (a plain JSON object) as ``struct``, by the lax rules of the typed
    decode. Raises ``msgspec.ValidationError`` (a ``ValueError``) when it does not fit."""
    if item.__class__ is not dict:
        raise msgspec.ValidationError(f"{struct.__name__}: not an object")
    names = _FIELDS.get(struct)
    if names is None:
        names = _FIELDS[struct] = frozenset(f.encode_name for f in msgspec.structs.fields(struct))
    values = {}
    for key, value in item.items():
        if key in names:
            if value.__class__ is Overflow:
                raise msgspec.ValidationError(f"number out of range: {key}")
            values[key] = value
    return msgspec.convert(values, struct, strict=False)


def lenient_item(item: Any, struct: type) -> Any:
    """One item of a result read one field at a time: a field whose value does not convert to
    its type (``""`` on quiet contracts, an impossible number) is left at its default instead of
    failing the item. Raises ``msgspec.ValidationError`` when a required field does not convert
    or the item is no object."""
    if item.__class__ is not dict:
        raise msgspec.ValidationError(f"{struct.__name__}: not an object")
    values = {}
    for field in msgspec.structs.fields(struct):
        value = item.get(field.encode_name)
        if value is None:
            continue
        try:
            if value.__class__ is Overflow:
                raise msgspec.ValidationError(f"number out of range: {field.encode_name}")
            values[field.encode_name] = msgspec.convert(value, field.type, strict=False)
        except msgspec.ValidationError:
            if field.required:
                raise
    return msgspec.convert(values, struct)


def check_utf8(raw: bytes | str) -> None:
    """JSON is UTF-8: a frame that is not is malformed wherever the bad byte sits (a typed
    decode skipping an unknown field would not see it). Raises ``UnicodeDecodeError``."""
    if raw.__class__ is bytes and not raw.isascii():
        raw.decode()



def error_symbol(table: Table, channel: str, payload: Any) -> str:
    """The venue symbol an error or refusal frame's echoed ``payload`` names, through the
    payload template of ``channel``'s row; ``""`` when it names none (also for the private
    payloads' every-symbol ``!all``)."""
    row = table.by_venue(channel) if channel.__class__ is str else None
    return named_symbol(table.payload_symbol(row, payload) if row is not None else "")


def named_symbol(venue_symbol: str) -> str:
    """``venue_symbol``, or ``""`` for the private payloads' every-symbol ``!all`` (no symbol)."""
    return "" if venue_symbol == ALL else venue_symbol


def book_symbol(s: Any, obu: bool) -> str | None:
    """The venue symbol a book push's ``s`` names: the pair, or on an ``obu`` channel the pair
    of its stream name (``ob.BTC_USDT.50``); ``None`` when it names none."""
    if not isinstance(s, str) or not s:
        return None
    if obu:
        try:
            return parse_obu_stream(s)[0]
        except ValueError:
            return None
    return s


def result_prefix(frame: Any) -> bytes:
    """JSON of a decoded frame's result, for the one log line of a skipped item."""
    return msgspec.json.encode(frame.result)
