"""The message model of the strategy architecture: :class:`MessageType` and :class:`ParsedMessage`.

In the strategy style a parser turns each frame into one or more generic ``ParsedMessage``\\ s
(a type tag, the venue, the unified symbol and a ``dict`` of fields) and a router hands them to the
callbacks registered for their type. For every market-data type ``data`` holds exactly the fields
of the matching :mod:`cexfeed.models` event (same names, units and values), so
``EVENT_CLASSES[msg.type](**msg.data)`` rebuilds the event and :func:`message_from_event` goes the
other way (that is what the direct-path adapter does).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..models import (
    AccountNotice,
    AccountStatus,
    Balance,
    BestBidOffer,
    BookStatus,
    BookUpdate,
    ConnectionStatus,
    Event,
    EventsDropped,
    Fill,
    FundingRate,
    Kline,
    Liquidation,
    MarkPrice,
    OpenInterest,
    Order,
    Position,
    StreamStatus,
    Ticker,
    Trade,
    VenueError,
)


class MessageType(str, enum.Enum):
    """What a :class:`ParsedMessage` carries.

    Event types share their value with the event's JSON ``type`` tag (``trade``, ``bbo`` ...).
    ``BOOK_DELTA``/``BOOK_SNAPSHOT`` are parser output before sequencing (venue ids, levels of
    the frame); consumers see the applied result as ``BOOK`` and ``BOOK_STATUS``. ``ACK``,
    ``PONG``, ``SYSTEM`` and ``UNKNOWN`` are control-plane messages.
    """

    TRADE = "trade"
    BBO = "bbo"
    BOOK = "book"
    TICKER = "ticker"
    KLINE = "kline"
    BOOK_STATUS = "book_status"
    FUNDING = "funding"
    MARK_PRICE = "mark_price"
    LIQUIDATION = "liquidation"
    OPEN_INTEREST = "open_interest"
    ERROR = "error"
    STREAM_STATUS = "stream_status"
    CONNECTION = "connection"
    DROPPED = "dropped"
    # account (private) streams: the data dict is the account event's fields
    ORDER = "order"
    FILL = "fill"
    BALANCE = "balance"
    POSITION = "position"
    ACCOUNT_STATUS = "account_status"
    ACCOUNT_NOTICE = "account_notice"
    BOOK_DELTA = "book_delta"
    BOOK_SNAPSHOT = "book_snapshot"
    ACK = "ack"
    PONG = "pong"
    SYSTEM = "system"
    UNKNOWN = "unknown"


# message type -> event class; the data dict of such a message is that event's fields
EVENT_CLASSES: dict[MessageType, type[Event]] = {
    MessageType.TRADE: Trade,
    MessageType.BBO: BestBidOffer,
    MessageType.BOOK: BookUpdate,
    MessageType.TICKER: Ticker,
    MessageType.KLINE: Kline,
    MessageType.BOOK_STATUS: BookStatus,
    MessageType.FUNDING: FundingRate,
    MessageType.MARK_PRICE: MarkPrice,
    MessageType.LIQUIDATION: Liquidation,
    MessageType.OPEN_INTEREST: OpenInterest,
    MessageType.ERROR: VenueError,
    MessageType.STREAM_STATUS: StreamStatus,
    MessageType.CONNECTION: ConnectionStatus,
    MessageType.DROPPED: EventsDropped,
    MessageType.ORDER: Order,
    MessageType.FILL: Fill,
    MessageType.BALANCE: Balance,
    MessageType.POSITION: Position,
    MessageType.ACCOUNT_STATUS: AccountStatus,
    MessageType.ACCOUNT_NOTICE: AccountNotice,
}
#: the account event types (private streams)
ACCOUNT_TYPES = (MessageType.ORDER, MessageType.FILL, MessageType.BALANCE, MessageType.POSITION, MessageType.ACCOUNT_NOTICE)

_TYPE_OF_CLASS: dict[type, MessageType] = {cls: t for t, cls in EVENT_CLASSES.items()}


@dataclass(slots=True)
class ParsedMessage:
    """One parsed venue message.

    - ``type``: a :class:`MessageType`;
    - ``venue``: ``"gateio"`` / ``"mexc"``;
    - ``symbol``: unified symbol (``BTC/USDT``, ``BTC/USDT:USDT``), ``""`` when the message has none;
    - ``data``: for event types, the event's fields by name (prices quote currency, sizes base
      currency, ``exchange_ts`` ms, ``recv_ts`` ns, book levels ``[(price, size), ...]``); for
      ``BOOK_DELTA``/``BOOK_SNAPSHOT``: ``venue_symbol``, ``first_update_id``,
      ``last_update_id``, ``bids``, ``asks``, ``exchange_ts``, ``recv_ts``; for control types the
      fields named where the parser builds them;
    - ``raw``: the frame it came from (``bytes``/``str``), or ``None``.
    """

    type: MessageType
    venue: str
    symbol: str
    data: dict[str, Any] = field(default_factory=dict)
    raw: bytes | str | None = None


def message_type_of_class(cls: type) -> MessageType:
    """The :class:`MessageType` of an event class. Raises ``KeyError`` for a non-event class."""
    return _TYPE_OF_CLASS[cls]


def message_type_of(event: Event) -> MessageType:
    """The :class:`MessageType` of an event instance. Raises ``KeyError`` for a non-market event."""
    return _TYPE_OF_CLASS[type(event)]


def message_from_event(event: Event, raw: bytes | str | None = None) -> ParsedMessage:
    """The ``ParsedMessage`` a strategy-path consumer receives for ``event`` (same type, symbol
    and field values). Raises ``KeyError`` for an event class without a message type."""
    return ParsedMessage(
        _TYPE_OF_CLASS[type(event)],
        event.venue,
        event.symbol,
        msgspec.structs.asdict(event),
        raw,
    )


def event_from_message(msg: ParsedMessage) -> Event:
    """Rebuild the typed event of an event-type message. Raises ``KeyError`` for a control
    type and ``TypeError`` when ``data`` does not hold the event's fields."""
    return EVENT_CLASSES[msg.type](**msg.data)
