"""The frame path every Gate handler (spot and futures, public and private) shares: the one-pass
typed decode of pushes dispatched through the market's channel table, the item-by-item reading
of what does not fit it, and the envelope path of acks, pongs, error frames and system notices
(gateio-protocol.md §2, §3).

Data pushes are decoded in one pass: each channel has a whole-frame struct tagged by its
``channel`` value whose ``result`` is the channel's typed result, and one decoder over the union
of them picks the struct. Anything that does not fit (acks, pongs, error frames, system
notices, unknown channels, wrong field types) fails that decode and takes the slow path through
the generic :class:`~cexfeed.exchanges.gateio.protocol.Envelope`.
"""

from __future__ import annotations

from typing import Any, Callable, Union

import msgspec

from ...channels import Channel, Table
from .contracts import MultiplierUnknown
from .frame_json import _last_wins, convert_item, error_symbol, frame_struct, lenient_item, named_symbol, plain_json, result_items
from .protocol import AckResult, Envelope, already_subscribed, env_ms

# lax like the channel decoders: numeric text is a number on every Gate frame
_envelope = msgspec.json.Decoder(Envelope, strict=False)
_ack = msgspec.json.Decoder(Union[AckResult, None], strict=False)


class SystemNotice(msgspec.Struct):
    type: str = ""
    msg: str = ""


_notice = msgspec.json.Decoder(Union[SystemNotice, None], strict=False)


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

