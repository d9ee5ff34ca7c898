"""What Gate spot and futures handlers (public and private) share: the envelope, acks, error
frames, pongs, system notices and the dispatch derived from the market's channel table
(gateio-protocol.md §2, §3).

Data pushes are decoded in one pass: each channel has a whole-frame struct tagged by its
``channel`` value whose ``result`` is the channel's typed result, and one decoder over the union
of them picks the struct. Anything that does not fit (acks, pongs, error frames, system
notices, unknown channels, wrong field types) fails that decode and takes the slow path through
the generic :class:`~cexfeed.exchanges.gateio.protocol.Envelope`.
"""

from __future__ import annotations

import typing
from typing import Any, Callable, Union

import msgspec

from ...channels import BOOK_REST, Table
from ...handlers import EventCallback, PublicWebSocketHandler
from ...symbols import SymbolMap
from ...wire import Millis, Seconds, SeqId
from .book_push import BookPush
from .contracts import MultiplierUnknown
from .obu import parse_obu_stream
from .protocol import AckResult, Envelope, GateError, already_subscribed

try:  # compiled reader of book updates and futures tickers; the msgspec path is its reference
    from ._fastpush import PushReader
except ImportError:
    PushReader = None

# book updates and full tickers are longer; trades, book tickers and partial tickers are shorter
# and never pay for the compiled reader's channel check
_FAST_MIN_LEN = 300

# lax like the channel decoders: numeric text is a number on every Gate frame
_envelope = msgspec.json.Decoder(Envelope, strict=False)
_ack = msgspec.json.Decoder(Union[AckResult, None], strict=False)


class SystemNotice(msgspec.Struct):
    type: str = ""
    msg: str = ""


_notice = msgspec.json.Decoder(Union[SystemNotice, None], strict=False)


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


def _last_wins(raw: bytes | str) -> bytes | str:
    """The frame as its plain JSON value re-encoded: of a key sent twice only the last value is
    kept. The frame unchanged when it is not JSON (its decode then says why)."""
    try:
        return msgspec.json.encode(msgspec.json.decode(raw))
    except (msgspec.DecodeError, msgspec.EncodeError, OverflowError):
        return raw


def frame_struct(channel: str, result: Any) -> type:
    """The whole-frame struct of one push channel: ``event``, ``time`` (s), ``time_ms`` and a
    typed ``result``, tagged by ``channel`` (§2.3); the other envelope fields (``id``,
    ``error``, ``payload``: never on a push) are checked as :class:`Envelope` checks them."""
    return msgspec.defstruct(
        "Frame_" + channel.replace(".", "_"),
        [("result", result), ("event", str, ""), ("time", Seconds, 0), ("time_ms", Millis, 0),
         ("id", Union[SeqId, None], None), ("error", Union[GateError, None], None), ("payload", Union[list, None], None)],
        tag_field="channel",
        tag=channel,
        gc=False,
    )


def typed(struct: type) -> msgspec.json.Decoder:
    """The lax typed decoder used for channel results: numeric strings become floats/ints."""
    return msgspec.json.Decoder(struct, strict=False)


def lenient_result(raw: bytes, result_type: Any) -> Any:
    """Decode a channel result of ``result_type`` (a struct, ``list[struct]`` or a union of the
    two) one field at a time: a field whose value does not convert to its type (``""`` on quiet
    contracts, an impossible number) is left at its default instead of failing the whole push.
    Raises ``msgspec.ValidationError`` when a required field does not convert, or the result is
    not of a shape ``result_type`` allows; ``msgspec.DecodeError`` on bad JSON."""
    shapes = typing.get_args(result_type) if typing.get_origin(result_type) is Union else (result_type,)
    struct = next(shape for shape in shapes if isinstance(shape, type) and issubclass(shape, msgspec.Struct))
    items = plain_json.decode(raw)
    if items.__class__ is list and not all(item.__class__ is dict for item in items) or not isinstance(items, (list, dict)):
        raise msgspec.ValidationError(f"result of {struct.__name__}: not an object or an array of objects")
    if (list[struct] if isinstance(items, list) else struct) not in shapes:
        raise msgspec.ValidationError(f"result of {struct.__name__}: unexpected shape")
    fields = msgspec.structs.fields(struct)
    out = []
    for item in items if isinstance(items, list) else (items,):
        values = {}
        for field in fields:
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
        out.append(msgspec.convert(values, struct))
    return out if isinstance(items, list) else out[0]


def check_utf8(raw: bytes | str) -> None:
    """JSON is UTF-8: a frame that is not is malformed wherever the bad byte sits (a typed
    decode skipping an unknown field would not see it). Raises ``UnicodeDecodeError``."""
    if raw.__class__ is bytes and not raw.isascii():
        raw.decode()


class GateioFrames:
    """What every Gate handler, public or private, does with a frame: the one-pass typed decode
    of pushes dispatched through the market's channel table, and the envelope path for what
    does not fit (acks, pongs, error frames, system notices, unknown channels, wrong types).

    Subclasses (also deriving from a :class:`~cexfeed.handlers.WebSocketHandler`) set ``TABLE``
    (the market's :class:`~cexfeed.channels.Table`), ``PRIVATE`` (which of its rows they serve),
    ``PONG`` and ``SYSTEM``. From the table: ``CHANNELS`` (venue channel -> (method taking
    ``(frame, recv_ts)``, type of the frame's ``result``)) and ``LENIENT`` (venue channel ->
    counter, for rows whose pushes are kept field by field when a field does not fit its type,
    see :func:`lenient_result`; otherwise such a push is counted as malformed). Hooks:
    :meth:`_bad_push` (a push that could not be used, before it is counted) and
    :meth:`_refused` (an error ack or error frame).
    """

    venue = "gateio"
    TABLE: Table | None = None
    PRIVATE = False
    CHANNELS: dict[str, tuple[str, Any]] = {}
    LENIENT: dict[str, str] = {}
    PONG = ""
    SYSTEM = ""
    _frames: msgspec.json.Decoder
    _frame_types: dict[str, type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("TABLE")
        if table is not None:
            cls.CHANNELS = table.handlers(private=cls.PRIVATE)
            cls.LENIENT = {row.venue_channel: row.lenient for row in table if row.lenient and row.private == cls.PRIVATE}
            cls._frame_types = {channel: frame_struct(channel, result) for channel, (_, result) in cls.CHANNELS.items()}
            cls._frames = msgspec.json.Decoder(Union[tuple(cls._frame_types.values())], strict=False)

    def _bind_channels(self) -> None:
        """Frame struct -> bound handler method, built once per instance."""
        self._table: dict[type, Callable[[Any, int], None]] = {
            self._frame_types[channel]: getattr(self, name) for channel, (name, _) in self.CHANNELS.items()
        }

    def _decode(self, raw: bytes | str, recv_ts: int) -> None:
        """The typed path: one decode into the channel's frame struct, then its handler."""
        try:
            frame = self._frames.decode(raw)
        except msgspec.ValidationError as exc:
            # read as plain JSON first: a key sent twice counts once, the last one (the rule of
            # every JSON path here, compat included)
            raw = _last_wins(raw)
            try:
                frame = self._frames.decode(raw)
            except msgspec.ValidationError:
                self._slow_path(raw, recv_ts, exc)
                return
        if frame.event == "update" or frame.event == "all":
            try:
                self._table[frame.__class__](frame, recv_ts)
            except MultiplierUnknown:
                raise  # held until the contract list names the multiplier, not lost
            except Exception:
                self._bad_push(raw, recv_ts)  # a push no rule could use
                raise
        else:  # e.g. an ack whose result happened to fit the channel's struct
            self._control(_envelope.decode(raw), raw, recv_ts)

    def _slow_path(self, raw: bytes | str, recv_ts: int, exc: Exception) -> None:
        try:
            env = _envelope.decode(raw)
        except msgspec.ValidationError:
            self._bad_push(raw, recv_ts)
            raise
        if env.event == "update" or env.event == "all":
            if env.channel in self.CHANNELS:
                counter = self.LENIENT.get(env.channel)
                if counter is None:
                    self._bad_push(raw, recv_ts)
                    raise exc  # wrong field types: counted as malformed by _handle_message
                self._on_lenient(env, counter, recv_ts)
            elif env.channel == self.SYSTEM:
                self._on_system(env)
            else:
                self._count_error("unknown_channel", raw, env.channel)  # type: ignore[attr-defined]
            return
        self._control(env, raw, recv_ts)

    def _bad_push(self, raw: bytes | str, recv_ts: int) -> None:
        """A push that could not be used (before it is counted as malformed)."""

    def _on_lenient(self, env: Envelope, counter: str, recv_ts: int) -> None:
        frame_type = self._frame_types[env.channel]
        result = lenient_result(env.result, self.CHANNELS[env.channel][1])
        self.stats.errors[counter] += 1  # type: ignore[attr-defined]
        self._table[frame_type](frame_type(result, env.event, env.time, env.time_ms), recv_ts)

    def _control(self, env: Envelope, raw: bytes | str, recv_ts: int) -> None:
        channel = env.channel
        exchange_ts = env.time_ms or env.time * 1000
        hooks = self.hooks  # type: ignore[attr-defined]
        if env.event in ("subscribe", "unsubscribe"):
            error = env.error
            if error is None:
                ack = _ack.decode(env.result)
                status = ack.status if ack is not None else ""
                ok = status in ("success", "")
                hooks.on_ack(env.id, channel, ok, status)
                return
            if already_subscribed(error.message):
                # the stream is held already: no error for the consumer (the connection keeps it)
                hooks.on_ack(env.id, channel, False, error.message)
                self.stats.errors["already_subscribed"] += 1  # type: ignore[attr-defined]
                return
            message = self._refused(error.code, error.message, channel, recv_ts, exchange_ts)
            hooks.on_ack(env.id, channel, False, message)
            return
        if channel == self.PONG:
            hooks.on_pong()
            return
        if env.error is not None:
            self._refused(env.error.code, env.error.message, channel, recv_ts, exchange_ts)
            return
        self._count_error("unknown_frame", raw)  # type: ignore[attr-defined]

    def _refused(self, code: int, message: str, channel: str, recv_ts: int, exchange_ts: int) -> str:
        """An error ack or frame: reported as a ``VenueError``; returns the message passed on
        with the ack."""
        self._venue_error(code, message, channel, recv_ts, exchange_ts)  # type: ignore[attr-defined]
        return message

    def _on_system(self, env: Envelope) -> None:
        notice = _notice.decode(env.result)
        if notice is not None and notice.type == "upgrade":
            self.hooks.on_reconnect_requested(notice.msg)  # type: ignore[attr-defined]


class GateioPublicHandler(GateioFrames, PublicWebSocketHandler):
    """A Gate public stream: :class:`GateioFrames` plus books, and the compiled reader for the
    REST-synced book channel (and futures tickers) in front of the typed decode."""

    # what the compiled reader serves: the REST-synced book channel (b"" = none), futures.tickers
    FAST_BOOK_CHANNEL = b""
    FAST_BOOK_ARRAYS = False  # its levels are [price, size] arrays (spot), not {p, s} objects
    FAST_TICKERS = False
    BOOK_CHANNELS: frozenset[str] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("TABLE")
        if table is not None:
            books = table.books(BOOK_REST)
            cls.FAST_BOOK_CHANNEL = books[0].venue_channel.encode() if books else b""
            cls.BOOK_CHANNELS = frozenset(row.venue_channel for row in table.books())

    def __init__(self, on_event: EventCallback | None = None, symbols: SymbolMap | None = None, depth: int = 100) -> None:
        super().__init__(on_event, depth)
        self.symbols = symbols if symbols is not None else self._default_symbols()
        self._unified = self.symbols.unified
        self._bind_channels()
        # symbol -> (num, den, one, unified name): its size multiplier, for the compiled reader
        self._contracts: dict[str, tuple[float, float, bool, str]] = {}
        self._reader = None
        if PushReader is not None and (self.FAST_BOOK_CHANNEL or self.FAST_TICKERS):
            self._reader = PushReader(self.FAST_BOOK_CHANNEL, self.FAST_BOOK_ARRAYS, self.FAST_TICKERS, self._contracts)

    def _default_symbols(self) -> SymbolMap:
        raise NotImplementedError

    def unified(self, venue_symbol: str) -> str:
        return self._unified(venue_symbol)

    def set_symbols(self, symbols: SymbolMap) -> None:
        self.symbols = symbols
        self._unified = symbols.unified
        self._contracts.clear()

    def _dispatch(self, raw: bytes | str, recv_ts: int) -> None:
        check_utf8(raw)
        reader = self._reader
        if reader is not None and len(raw) > _FAST_MIN_LEN and raw.__class__ is bytes:
            r = reader.read(raw, recv_ts)
            while r.__class__ is str:  # first push of this symbol: learn its multiplier and name
                self._contracts[r] = self._contract_context(r)
                r = reader.read(raw, recv_ts)
            if r.__class__ is list:
                self._emit_all(r)
                return
            if r is not None:
                self._apply_book_update(r, recv_ts)
                return
            # another channel, or a shape the compiled reader does not know: msgspec path
        self._decode(raw, recv_ts)

    # -- order_book_update (REST-synced book), shared by spot and futures ----------------------
    def _contract_context(self, venue_symbol: str) -> tuple[float, float, bool, str]:
        """``(num, den, one, unified)``: sizes are ``size * num / den`` (spot: unchanged)."""
        return 1.0, 1.0, True, self._unified(venue_symbol)

    def _book_push(self, frame: Any) -> BookPush:
        """The :class:`BookPush` of a typed ``order_book_update`` frame, sizes normalized."""
        r = frame.result
        return BookPush(r.s, r.t, r.U, r.u, r.full, r.b, r.a, frame.time, frame.time_ms)

    def _on_book_update(self, frame: Any, recv_ts: int) -> None:
        r = frame.result
        self._check_ids(r.s, r.full, r.U, r.u, recv_ts)  # before any size is converted
        self._apply_book_update(self._book_push(frame), recv_ts)

    def _apply_book_update(self, push: BookPush, recv_ts: int) -> None:
        """Apply one book push (from the compiled reader or the msgspec path). An increment
        needs ``U <= u``; a ``full`` push may come without ``U`` (§6.6, §7.6). Raises
        ``ValueError`` (counted as malformed; the book resyncs) otherwise."""
        symbol, t, first, last, full, bids, asks, time_s, time_ms = push
        self._check_ids(symbol, full, first, last, recv_ts)
        exchange_ts = t or time_ms or time_s * 1000
        if full:
            self._book_full(symbol, last, bids, asks, exchange_ts, recv_ts)
        else:
            self._book_delta(symbol, first, last, bids, asks, exchange_ts, recv_ts)

    def _bad_push(self, raw: bytes | str, recv_ts: int) -> None:
        """When it is a book push naming its symbol, drop that book now rather than wait for
        the next delta to show the gap."""
        try:
            symbol = lost_book_symbol(plain_json.decode(raw), self.BOOK_CHANNELS)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return
        if symbol is not None:
            self._book_lost(symbol, recv_ts)


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


def candle_name(n: str) -> tuple[str, str, str]:
    """``(interval, venue symbol, plain symbol)`` of a candle's ``n`` (``<interval>_<pair>``,
    §6.4, §7.8). Futures mark/index price candles name ``mark_BTC_USDT``/``index_BTC_USDT``:
    the venue symbol keeps the prefix, the plain symbol drops it. Raises ``ValueError`` when no
    pair follows the interval."""
    interval, _, venue_symbol = n.partition("_")
    plain = venue_symbol
    if venue_symbol.startswith("mark_"):
        plain = venue_symbol[5:]
    elif venue_symbol.startswith("index_"):
        plain = venue_symbol[6:]
    if not plain:
        raise ValueError(f"candle without a pair: {n!r}")
    return interval, venue_symbol, plain


def result_prefix(frame: Any) -> bytes:
    """JSON of a decoded frame's result, for the one log line of a skipped item."""
    return msgspec.json.encode(frame.result)
