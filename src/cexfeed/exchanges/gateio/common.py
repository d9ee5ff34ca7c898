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

from functools import partial
from typing import Any, Callable, Union

import msgspec

from ...channels import BOOK_REST, Channel, Table
from ...handlers import EventCallback, PublicWebSocketHandler, WebSocketHandler
from ...models import BestBidOffer, Kline
from ...symbols import SymbolMap
from ...wire import MAX_MILLIS, MAX_SECONDS, SeqId, Time, to_ms, untyped_amounts
from .book_push import BookPush
from .contracts import MultiplierUnknown
from .obu import parse_obu_stream
from .protocol import AckResult, Envelope, GateError, already_subscribed, candle_name, env_ms, stamp
from .spot_table import ALL

try:  # compiled reader of book updates and futures tickers; the msgspec path is its reference
    from ._fastpush import PushReader
except ImportError:
    PushReader = None
try:  # compiled _handle_message: the hot item rows read and every hot push published in C
    from ._fastitems import PushHandler
except ImportError:
    PushHandler = None

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


class GateioFrames:
    """What every Gate handler, public or private, does with a frame: the one-pass typed decode
    of pushes dispatched through the market's channel table, the item-by-item reading of what
    does not fit it, and the envelope path (acks, pongs, error frames, system notices, unknown
    channels).

    Subclasses (also deriving from a :class:`~cexfeed.handlers.WebSocketHandler`) set ``TABLE``
    (the market's :class:`~cexfeed.channels.Table`), ``PRIVATE`` (which of its rows they serve),
    ``PONG`` and ``SYSTEM``. From the table: ``CHANNELS`` (venue channel -> (method, type of the
    frame's ``result``); the method takes ``(frame, recv_ts)``, or on an ``items`` row ``(item,
    frame, recv_ts)`` and returns the item's event(s), see :meth:`_emit_items`) and ``ROWS``
    (venue channel -> row). The events of ``items`` rows go to :attr:`_deliver` /
    :attr:`_deliver_all` (the consumer; a private handler: the account state).

    A push whose one-pass decode fails is read again item by item when its row has ``items``
    (:func:`result_items`): a bad item of an array is counted ``malformed_item`` and left out;
    on a ``lenient`` row an item is kept field by field (a field that does not fit its type is
    left out, counted under the row's counter, see :func:`lenient_item`). Anything else that
    does not fit is counted as malformed. Hooks: :meth:`_bad_push` (a push that could not be
    used, before it is counted), :meth:`_read_item` (one item of the item-by-item path) and
    :meth:`_refused` (an error ack or error frame).
    """

    venue = "gateio"
    TABLE: Table | None = None
    PRIVATE = False
    CHANNELS: dict[str, tuple[str, Any]] = {}
    ROWS: dict[str, Channel] = {}
    PONG = ""
    SYSTEM = ""
    #: account frames: numbers kept exact on the untyped paths (:func:`_last_wins`, items)
    EXACT_JSON = False
    #: the untyped decode of the item-by-item path
    _untyped: msgspec.json.Decoder = plain_json
    _frames: msgspec.json.Decoder
    _frame_types: dict[str, type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("TABLE")
        if table is not None:
            cls.CHANNELS = table.handlers(private=cls.PRIVATE)
            cls.ROWS = {row.venue_channel: row for row in table if row.private == cls.PRIVATE}
            cls._frame_types = {channel: frame_struct(channel, result) for channel, (_, result) in cls.CHANNELS.items()}
            cls._frames = msgspec.json.Decoder(Union[tuple(cls._frame_types.values())], strict=False)

    def _bind_channels(self) -> None:
        """Frame struct -> bound handler, built once per instance: a whole push, or one item of
        an items row; and where the events of items rows go."""
        self._table: dict[type, Callable[[Any, int], None]] = {
            self._frame_types[channel]: getattr(self, name) for channel, (name, _) in self.CHANNELS.items() if not self.ROWS[channel].items
        }
        self._items: dict[type, Callable[[Any, Any, int], Any]] = {
            self._frame_types[channel]: getattr(self, name) for channel, (name, _) in self.CHANNELS.items() if self.ROWS[channel].items
        }
        self._deliver: Callable[[Any], None] = self._emit  # type: ignore[attr-defined]
        self._deliver_all: Callable[[list], None] = self._emit_all  # type: ignore[attr-defined]

    def _decode(self, raw: bytes | str, recv_ts: int) -> None:
        """The typed path: one decode into the channel's frame struct, then its handler."""
        try:
            frame = self._frames.decode(raw)
        except msgspec.ValidationError as exc:
            # read as plain JSON first: a key sent twice counts once, the last one (the rule of
            # every JSON path here, compat included)
            raw = _last_wins(raw, self.EXACT_JSON)
            try:
                frame = self._frames.decode(raw)
            except msgspec.ValidationError:
                self._slow_path(raw, recv_ts, exc)
                return
        if frame.event == "update" or frame.event == "all":
            try:
                build = self._items.get(frame.__class__)
                if build is None:
                    self._table[frame.__class__](frame, recv_ts)
                elif frame.result.__class__ is list:
                    self._emit_items(build, frame, recv_ts)
                else:  # one item (the usual spot push): what _emit_items does, without the call
                    out = build(frame.result, frame, recv_ts)
                    if out.__class__ is list:
                        self._deliver_all(out)
                    elif out is not None:
                        self._deliver(out)
            except MultiplierUnknown:
                raise  # held until the contract list names the multiplier, not lost
            except Exception:
                self._bad_push(raw, recv_ts)  # a push no rule could use
                raise
        else:  # e.g. an ack whose result happened to fit the channel's struct
            self._control(_envelope.decode(raw), raw, recv_ts)

    # -- items rows: one method per item ------------------------------------------------------
    def _emit_items(self, build: Callable[[Any, Any, int], Any], frame: Any, recv_ts: int) -> None:
        """The events of a push of an ``items`` row: ``build(item, frame, recv_ts)`` of each
        item (an event, a list of them, or ``None`` for an item left out), all built before
        any is emitted, so a push is emitted whole or held whole (futures multipliers)."""
        result = frame.result
        if result.__class__ is not list:
            out = build(result, frame, recv_ts)
            if out.__class__ is list:
                self._deliver_all(out)
            elif out is not None:
                self._deliver(out)
            return
        events: list = []
        for item in result:
            out = build(item, frame, recv_ts)
            if out.__class__ is list:
                events += out
            elif out is not None:
                events.append(out)
        self._deliver_all(events)

    def _slow_path(self, raw: bytes | str, recv_ts: int, exc: Exception | None) -> None:
        """What the typed decode did not take (``exc`` its error; ``None`` when it was not
        tried): pushes of items rows item by item, the rest through the envelope."""
        try:
            env = _envelope.decode(raw)
        except msgspec.ValidationError:
            self._bad_push(raw, recv_ts)
            raise
        if env.event == "update" or env.event == "all":
            row = self.ROWS.get(env.channel)
            if row is not None:
                if not row.items:
                    self._bad_push(raw, recv_ts)
                    # wrong field types: counted as malformed by _handle_message
                    raise exc if exc is not None else msgspec.ValidationError(f"{env.channel}: result does not fit")
                self._on_items(env, row, raw, recv_ts, exc)
            elif env.channel == self.SYSTEM:
                self._on_system(env)
            else:
                self._count_error("unknown_channel", raw, env.channel)  # type: ignore[attr-defined]
            return
        self._control(env, raw, recv_ts)

    def _on_items(self, env: Envelope, row: Channel, raw: bytes | str, recv_ts: int, exc: Exception | None) -> None:
        """A push of an ``items`` row read item by item (see the class docstring): one object
        that does not fit raises (malformed); a bad item of an array is counted and left out."""
        items, single = result_items(self._untyped.decode(env.result))
        good = []
        for item in items:
            try:
                good.append(self._read_item(item, row))
            except ValueError as bad:  # msgspec.ValidationError is one
                if single:
                    if exc is None:
                        raise
                    raise exc from bad
                self._count_error("malformed_item", raw, bad)  # type: ignore[attr-defined]
        frame_type = self._frame_types[env.channel]
        self._emit_items(self._items[frame_type], frame_type(good[0] if single else good, env.event, env.time, env.time_ms), recv_ts)

    def _read_item(self, item: Any, row: Channel) -> Any:
        """One item of a result (plain JSON) as the row's struct. Raises ``ValueError``."""
        try:
            return convert_item(item, row.result)
        except msgspec.ValidationError:
            if not row.lenient:
                raise
        value = lenient_item(item, row.result)
        self.stats.errors[row.lenient] += 1  # type: ignore[attr-defined]
        return value

    def _bad_push(self, raw: bytes | str, recv_ts: int) -> None:
        """A push that could not be used (before it is counted as malformed)."""

    # -- control frames -----------------------------------------------------------------------
    def _control(self, env: Envelope, raw: bytes | str, recv_ts: int) -> None:
        channel = env.channel
        exchange_ts = env_ms(env)
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
            # the symbol it concerns (the payload it echoes, else the request it answers) is
            # asked before the ack settles that request
            venue_symbol = self._error_symbol(channel, env.payload, env.id)
            message = self._refused(error.code, error.message, channel, recv_ts, exchange_ts, venue_symbol)
            hooks.on_ack(env.id, channel, False, message)
            return
        if channel == self.PONG:
            hooks.on_pong()
            return
        if env.error is not None:
            venue_symbol = self._error_symbol(channel, env.payload, env.id)
            self._refused(env.error.code, env.error.message, channel, recv_ts, exchange_ts, venue_symbol)
            return
        self._count_error("unknown_frame", raw)  # type: ignore[attr-defined]

    def _error_symbol(self, channel: str, payload: Any, request_id: int | None) -> str:
        """The venue symbol an error frame concerns: the one its echoed request payload names,
        else the one of the request it answers (``hooks.request_symbol``), else ``""`` (also for
        the private payloads' every-symbol ``!all``)."""
        return error_symbol(self.TABLE, channel, payload) or named_symbol(self.hooks.request_symbol(request_id, channel))  # type: ignore[attr-defined]

    def _refused(self, code: int, message: str, channel: str, recv_ts: int, exchange_ts: int | None, venue_symbol: str) -> str:
        """An error ack or frame: reported as a ``VenueError``; returns the message passed on
        with the ack."""
        self._venue_error(code, message, channel, recv_ts, exchange_ts, venue_symbol)  # type: ignore[attr-defined]
        return message

    def _on_system(self, env: Envelope) -> None:
        notice = _notice.decode(env.result)
        if notice is not None and notice.type == "upgrade":
            self.hooks.on_reconnect_requested(notice.msg)  # type: ignore[attr-defined]


class GateioPublicHandler(GateioFrames, PublicWebSocketHandler):
    """A Gate public stream: :class:`GateioFrames` plus books, the book ticker and candle items
    both markets share, and the compiled parts in front of the typed decode (see
    :meth:`use_compiled`): the reader of the REST-synced book channel and futures tickers, and
    the compiled ``_handle_message`` that also reads the item rows of :attr:`FAST_ITEMS`."""

    # what the compiled reader serves: the REST-synced book channel (b"" = none), futures.tickers
    FAST_BOOK_CHANNEL = b""
    FAST_BOOK_ARRAYS = False  # its levels are [price, size] arrays (spot), not {p, s} objects
    FAST_TICKERS = False
    # item methods the compiled _handle_message reads itself -> its row kind (the methods of
    # this module's concrete handlers: a subclass overriding one must leave it out)
    FAST_ITEMS: dict[str, str] = {}
    CONTRACT_SIZES = False  # sizes count contracts (futures): converted through _sizer
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
        self._unified = self.symbols.lookup
        self._bind_channels()
        # symbol -> (num, den, one, unified name): its size multiplier, for the compiled reader
        self._contracts: dict[str, tuple[float, float, bool, str]] = {}
        self._reader = None
        # class facts read on every book ticker, as instance attributes (a faster lookup)
        self._market = self.market
        self._contract_sizes = self.CONTRACT_SIZES
        self.use_compiled(True)

    def use_compiled(self, on: bool) -> None:
        """Read the hot pushes with the compiled parts when they are built (the default): the
        :class:`PushReader` of the book channel and futures tickers, and the compiled
        ``_handle_message`` (:class:`PushHandler`), which also reads the item rows of
        :attr:`FAST_ITEMS` and publishes in C; off: the pure-Python path alone (their twin,
        for the comparison tests). Setting ``_reader`` to ``None`` turns both off too."""
        self.__dict__.pop("_handle_message", None)
        self._reader = None
        if not on or PushReader is None or not (self.FAST_BOOK_CHANNEL or self.FAST_TICKERS or self.FAST_ITEMS):
            return
        self._reader = PushReader(self.FAST_BOOK_CHANNEL, self.FAST_BOOK_ARRAYS, self.FAST_TICKERS, self._contracts)
        if PushHandler is not None:
            items = {channel: self.FAST_ITEMS[name] for channel, (name, _) in self.CHANNELS.items() if name in self.FAST_ITEMS}
            if self.FAST_BOOK_CHANNEL:
                items[self.FAST_BOOK_CHANNEL.decode()] = "reader"
            if self.FAST_TICKERS:
                items["futures.tickers"] = "reader"
            handler = PushHandler(self._reader, items, self._contracts, self, partial(WebSocketHandler._handle_message, self))
            self._handle_message = handler.handle_message

    def _default_symbols(self) -> SymbolMap:
        raise NotImplementedError

    def unified(self, venue_symbol: str) -> str:
        return self._unified(venue_symbol)

    def set_symbols(self, symbols: SymbolMap) -> None:
        self.symbols = symbols
        self._unified = symbols.lookup
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

    def _on_book_ticker(self, r: Any, env: Any, recv_ts: int) -> BestBidOffer:
        """A ``spot.book_ticker`` / ``futures.book_ticker`` item (§6.5, §7.4): a side is quoted
        only with a price and a size above 0, else ``None`` (:func:`cexfeed.wire.quotes`);
        futures sizes contracts -> base."""
        # the rule of wire.quotes, inline on this hot path: a side needs a price and a size above 0
        bid_price = r.b
        bid_size = r.B
        if not (bid_price and bid_size):
            bid_price = bid_size = None
        ask_price = r.a
        ask_size = r.A
        if not (ask_price and ask_size):
            ask_price = ask_size = None
        if self._contract_sizes and (bid_price is not None or ask_price is not None):
            base = self._sizer(r.s).base  # type: ignore[attr-defined]
            bid_size = base(bid_size) if bid_price is not None else None
            ask_size = base(ask_size) if ask_price is not None else None
        t = r.t
        if not (t.__class__ is int and MAX_SECONDS <= t < MAX_MILLIS):
            t = stamp(t, env)  # the usual ms time is kept as it is (what stamp gives), without the call
        return BestBidOffer("gateio", self._market, self._unified(r.s), r.s, t, recv_ts, bid_price, bid_size, ask_price, ask_size, r.u)

    def _on_candle(self, r: Any, env: Any, recv_ts: int) -> Kline:
        """A ``spot.candlesticks`` / ``futures.candlesticks`` item (§6.4, §7.8): ``n`` names the
        interval and the pair (a futures mark/index candle's prefix is kept in
        ``venue_symbol``); volumes by the market (:meth:`_candle_volumes`)."""
        interval, venue_symbol, plain = candle_name(r.n)
        volume, quote_volume = self._candle_volumes(r, plain)
        return Kline("gateio", self.market, self._unified(plain), venue_symbol, env_ms(env), recv_ts, interval, to_ms(r.t),
                     r.o, r.h, r.l, r.c, volume, quote_volume, r.w)

    def _candle_volumes(self, r: Any, plain: str) -> tuple[float | None, float | None]:
        """``(volume base, quote volume)`` of a candle item (must override)."""
        raise NotImplementedError

    # -- order_book_update (REST-synced book), shared by spot and futures ----------------------
    def _contract_context(self, venue_symbol: str) -> tuple[float, float, bool, str]:
        """``(num, den, one, unified)``: sizes are ``size * num / den`` (spot: unchanged)."""
        return 1.0, 1.0, True, self._unified(venue_symbol)

    def _book_push(self, frame: Any) -> BookPush:
        """The :class:`BookPush` of a typed ``order_book_update`` frame, sizes normalized."""
        r = frame.result
        return BookPush(r.s, stamp(r.t, frame), r.U, r.u, r.full, r.b, r.a)

    def _on_book_update(self, frame: Any, recv_ts: int) -> None:
        r = frame.result
        self._check_ids(r.s, r.full, r.U, r.u, recv_ts)  # before any size is converted
        self._apply_book_update(self._book_push(frame), recv_ts)

    def _apply_book_update(self, push: BookPush, recv_ts: int) -> None:
        """Apply one book push (from the compiled reader or the msgspec path). An increment
        needs ``U <= u``; a ``full`` push may come without ``U`` (§6.6, §7.6). Raises
        ``ValueError`` (counted as malformed; the book resyncs) otherwise."""
        symbol, exchange_ts, first, last, full, bids, asks = push
        self._check_ids(symbol, full, first, last, recv_ts)
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
