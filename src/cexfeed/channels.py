"""Declarative channel tables: one :class:`Table` per market, one :class:`Channel` row per channel.

A row says what a channel is on the wire and what we do with it: our name, the venue's channel,
the request payload and its parameters, the type its pushes decode to, the handler method, what
state it feeds and which events it emits. Everything else is derived from the rows: a direct
handler's dispatch, the compat parser's builders, subscribe/unsubscribe frames, ack matching, the
``--channels`` help, the simulator's channel lists and the README's channel table (checked by a
test). Venue facts that are not per channel (URLs, headers, heartbeat, limits) sit beside each
table in the venue's ``*_table.py`` module.

Payloads and venue channels are templates filled by :meth:`Table.fill`: ``{symbol}`` is the
venue symbol, every other ``{name}`` a parameter of the row (default in :attr:`Channel.params`,
allowed values in :attr:`Channel.choices`).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator, Union

import msgspec

# what a channel's pushes feed (Channel.book)
BOOK_REST = "rest"  # deltas sequenced against a REST snapshot
BOOK_INBAND = "inband"  # deltas with the snapshot in-band; a broken book is resubscribed
BOOK_FULL = "full"  # every push is a whole top-N book
BOOK_KINDS = (BOOK_REST, BOOK_INBAND, BOOK_FULL)


class UnknownChannel(ValueError):
    """A channel name that is not in the venue's table (``ValueError``, so existing handlers of
    it still catch it); the CLI reports it as a usage error."""


class Channel(msgspec.Struct, frozen=True, kw_only=True):
    """One row of a market's channel table.

    - ``name``: our channel name (``--channels``); ``aliases``: more of our names served by the
      same subscription (Gate ``futures.tickers`` gives ``ticker``, ``funding``, ``mark_price``).
    - ``venue_channel``: the venue's channel (Gate ``spot.trades``) or channel template (MEXC
      ``spot@public.aggre.deals.v3.api.pb@{interval}@{symbol}``).
    - ``payload``: request payload templates (Gate ``("{symbol}", "{interval}")``); ``()`` when
      the channel string itself is the request (MEXC).
    - ``params``: ``(name, default)`` pairs, in the order of ``Subscription.params``;
      ``choices``: ``(name, allowed values)`` pairs.
    - ``result``: what a push decodes to (Gate: the type of ``result``, or of each of its items
      when ``items``; MEXC: the wrapper body field number); ``handler``: the direct handler's
      method for it, called with the frame, or for an ``items`` row with each item and the frame
      (the compat parser has a builder of the same name, called with the frame).
    - ``items``: the push's ``result`` is one item, an array of items or an array of arrays of
      items (Gate sends all three); a bad item of an array is counted (``malformed_item``) and
      left out, the other items are kept.
    - ``book``: ``""`` or one of :data:`BOOK_KINDS`; ``emits``: event classes it produces.
    - ``exclusive``: rows sharing this non-empty name deliver the same events of a symbol in two
      ways (MEXC ``bbo`` and ``bbo_batch``): one of them per symbol, as for book rows (both at
      once would publish each quote twice).
    - ``lenient``: counter name when a push is kept field by field (a field that does not fit
      its type is left out) instead of dropped.
    - ``private``: needs authentication; ``offered``: False for channels we decode but never
      subscribe (retired by the venue, or venue-wide), with the reason in ``note``.
    - ``doc``: the section of the venue's protocol notes it follows.
    """

    name: str
    venue_channel: str
    payload: tuple[str, ...] = ("{symbol}",)
    params: tuple[tuple[str, str], ...] = ()
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()
    result: Any = None
    items: bool = False
    handler: str = ""
    book: str = ""
    exclusive: str = ""
    emits: tuple[type, ...] = ()
    aliases: tuple[str, ...] = ()
    lenient: str = ""
    private: bool = False
    offered: bool = True
    note: str = ""
    doc: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def result_type(self) -> Any:
        """The type a push's whole ``result`` decodes to in one pass: ``result``, or for an
        ``items`` row one item or an array of them (an array of arrays takes the item-by-item
        path)."""
        return Union[list[self.result], self.result] if self.items else self.result

    def defaults(self) -> tuple[str, ...]:
        """The default parameter values, in order."""
        return tuple(default for _, default in self.params)

    def allowed(self, param: str) -> tuple[str, ...] | None:
        for name, values in self.choices:
            if name == param:
                return values
        return None


class Table:
    """The channel table of one market (``venue`` ``gateio``/``mexc``, ``market`` ``spot``/``perp``).

    Lookups: :meth:`row` by our name (aliases included), :meth:`by_venue` by venue channel (for
    MEXC templates, by the fixed text before the first ``{``), :attr:`by_result` by result (MEXC
    body number). Raises ``ValueError`` at construction for duplicate names or venue channels.
    """

    def __init__(self, venue: str, market: str, rows: Iterable[Channel]) -> None:
        self.venue = venue
        self.market = market
        self.rows: tuple[Channel, ...] = tuple(rows)
        self._by_name: dict[str, Channel] = {}
        self._by_venue: dict[str, Channel] = {}
        for row in self.rows:
            for name in row.names:
                if name in self._by_name:
                    raise ValueError(f"{venue} {market}: channel name {name!r} twice")
                self._by_name[name] = row
            if row.venue_channel in self._by_venue:
                raise ValueError(f"{venue} {market}: venue channel {row.venue_channel!r} twice")
            self._by_venue[row.venue_channel] = row
        self.by_result: dict[Any, Channel] = {row.result: row for row in self.rows if isinstance(row.result, int)}

    def __iter__(self) -> Iterator[Channel]:
        return iter(self.rows)

    # -- lookups -----------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """Our public channel names a user may subscribe, in table order (aliases after their
        row)."""
        return tuple(name for row in self.rows if row.offered and not row.private for name in row.names)

    @property
    def private_names(self) -> tuple[str, ...]:
        """Our private (authenticated) channel names, in table order."""
        return tuple(name for row in self.rows if row.offered and row.private for name in row.names)

    @property
    def venue_channels(self) -> tuple[str, ...]:
        return tuple(row.venue_channel for row in self.rows)

    def row(self, name: str, private: bool | None = None) -> Channel:
        """The row of our channel ``name`` (only among public or private rows when ``private``
        says which). Raises ``ValueError`` naming the known ones."""
        row = self._by_name.get(name)
        if row is None or not row.offered or (private is not None and row.private != private):
            known = self.private_names if private else self.names
            raise UnknownChannel(f"{self.venue} {self.market}: unknown channel {name!r} (known: {', '.join(known)})")
        return row

    def get(self, name: str) -> Channel | None:
        """The row of our channel ``name``, offered or not, or ``None``."""
        return self._by_name.get(name)

    def by_venue(self, venue_channel: str) -> Channel | None:
        """The row of a venue channel name (Gate), or ``None``."""
        return self._by_venue.get(venue_channel)

    def books(self, kind: str | None = None) -> tuple[Channel, ...]:
        """Rows that feed a book (of ``kind`` when given); books are public."""
        return tuple(row for row in self.rows if row.book and (kind is None or row.book == kind))

    def handlers(self, private: bool = False) -> dict[str, tuple[str, Any]]:
        """``{venue channel: (handler method, result type)}`` for every public (or every
        ``private``) row: a handler's dispatch (see :attr:`Channel.result_type`)."""
        return {row.venue_channel: (row.handler, row.result_type) for row in self.rows if row.private == private}

    # -- requests ----------------------------------------------------------------------------
    def params(self, name: str, given: Iterable[str] = ()) -> tuple[str, ...]:
        """The full parameter tuple of channel ``name``: ``given`` values first, defaults for the
        rest. Raises ``ValueError`` for a value outside the row's choices or too many values."""
        row = self.row(name)
        given = tuple(str(value) for value in given)
        if len(given) > len(row.params):
            raise ValueError(f"{self.venue} {self.market} {row.name}: at most {len(row.params)} parameter(s), got {given}")
        values = given + row.defaults()[len(given):]
        for (param, _), value in zip(row.params, values):
            allowed = row.allowed(param)
            if allowed is not None and value not in allowed:
                raise ValueError(f"{self.venue} {self.market} {row.name}: {param} must be one of {list(allowed)}, got {value!r}")
        return values

    def fill(self, row: Channel, template: str, venue_symbol: str, params: tuple[str, ...]) -> str:
        """One template of ``row`` with the symbol and parameters put in."""
        values = dict(zip((name for name, _ in row.params), params or row.defaults()))
        return template.format(symbol=venue_symbol, **values)

    def payload(self, row: Channel, venue_symbol: str, params: tuple[str, ...] = ()) -> list[str]:
        """The request payload of one subscription of ``row``."""
        return [self.fill(row, item, venue_symbol, params) for item in row.payload]

    def channel(self, row: Channel, venue_symbol: str, params: tuple[str, ...] = ()) -> str:
        """The venue channel of one subscription (MEXC: the template filled in)."""
        return self.fill(row, row.venue_channel, venue_symbol, params)

    def payload_symbol(self, row: Channel, payload: Any) -> str:
        """The venue symbol a request payload of ``row`` names (as a venue echoes it in an ack or
        error frame: Gate ``["BTC_USDT", "100ms"]``, ``["ob.BTC_USDT.50"]``), read through the
        row's payload template; ``""`` when it names none."""
        if not isinstance(payload, list):
            return ""
        for template, value in zip(row.payload, payload):
            if "{symbol}" in template and isinstance(value, str):
                match = _template_pattern(template).fullmatch(value)
                if match is not None:
                    return match.group("symbol")
        return ""

    # -- docs --------------------------------------------------------------------------------
    def help(self) -> str:
        """One line per offered channel: ``name = venue channel (events)``, for ``--help``."""
        lines = []
        for row in self.rows:
            if not row.offered:
                continue
            events = ", ".join(cls.__name__ for cls in row.emits)
            names = "/".join(row.names)
            lines.append(f"{names} = {row.venue_channel} ({events})")
        return "\n".join(lines)


def _template_pattern(template: str) -> re.Pattern:
    """A regex matching the filled-in ``template``: ``{symbol}`` captured, other parameters any
    text."""
    pattern = re.escape(template).replace(re.escape("{symbol}"), "(?P<symbol>.+)")
    return re.compile(re.sub(r"\\\{\w+\\\}", ".*?", pattern))
