"""Which architecture runs a venue stream: :func:`open_feed` builds a :class:`~cexfeed.feed.Feed`
on the direct handlers or on the older strategy architecture (:mod:`cexfeed.compat`), as the
configuration (``CEXFEED_ARCHITECTURE``, a TOML/JSON file, keywords) picks per venue or stream;
:class:`StrategyConnectionManager` is the strategy-era manager with ``ParsedMessage`` callbacks
by type. This is the layer above both: compat never imports it (it serves these names lazily
for older code)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from .feed import DEFAULT_CHANNELS, Feed
from .models import Event

if TYPE_CHECKING:  # pragma: no cover
    from .compat.messages import MessageType
    from .compat.selection import ArchitectureConfig
    from .compat.strategies import MessageCallback


class StrategyConnectionManager:
    """The strategy-driven connection manager of one venue stream.

    ``stream``: ``gateio-spot``, ``gateio-perp`` or ``mexc-spot``; ``symbols`` unified names;
    ``channels`` our channel names; ``url``/``rest_url`` endpoints (default production).
    :meth:`on` routes ``ParsedMessage``\\ s by type (``BOOK``/``BOOK_STATUS`` are applied book
    changes; ``TRADE``, ``BBO``, ``TICKER``, ``KLINE`` ...; ``ACK``/``PONG``/``SYSTEM`` control);
    ``on_event`` receives the typed events as well. Remaining keyword arguments go to
    :class:`~cexfeed.feed.Feed` (timeouts, ``protocol_options``).
    """

    def __init__(
        self,
        stream: str,
        symbols: Sequence[str],
        channels: Sequence[str] = DEFAULT_CHANNELS,
        *,
        url: str | None = None,
        rest_url: str | None = None,
        on_event: Callable[[Event], None] | None = None,
        protocol_options: dict[str, Any] | None = None,
        **feed_options: Any,
    ) -> None:
        from .compat.manager import StrategyProtocol

        self.protocol = StrategyProtocol(stream, url, rest_url, **(protocol_options or {}))
        self.feed = Feed(stream, symbols, channels, protocol=self.protocol, on_event=on_event, **feed_options)

    @property
    def connection(self):
        """The :class:`~cexfeed.compat.ConnectionStrategy` in use."""
        return self.protocol.connection

    def on(self, msg_type: MessageType, callback: MessageCallback) -> None:
        """Register ``callback(ParsedMessage)`` for ``msg_type``."""
        self.protocol.on(msg_type, callback)

    async def start(self, timeout: float = 15.0):
        """Connect and subscribe; returns the ack results (see :meth:`Feed.start`)."""
        return await self.feed.start(timeout)

    async def close(self) -> None:
        await self.feed.close()

    async def __aenter__(self) -> StrategyConnectionManager:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


def open_feed(
    stream: str,
    symbols: Sequence[str],
    channels: Sequence[str] = DEFAULT_CHANNELS,
    *,
    config: ArchitectureConfig | None = None,
    architecture: str | None = None,
    url: str | None = None,
    rest_url: str | None = None,
    on_event: Callable | None = None,
    protocol_options: dict[str, Any] | None = None,
    **feed_options: Any,
) -> Feed:
    """A (not yet started) :class:`~cexfeed.feed.Feed` of ``stream`` in the architecture
    ``architecture`` names, else the one ``config`` (default :func:`load_config`) picks for
    it. Both kinds have the same API and events; a strategy feed's ``protocol`` is a
    :class:`~cexfeed.compat.manager.StrategyProtocol` (``feed.protocol.on(...)`` for
    ParsedMessage callbacks).
    Raises ``ValueError`` for an unknown architecture."""
    if architecture is None:
        from .compat.selection import load_config

        architecture = (config or load_config()).architecture(stream)
    if architecture == "strategy":
        from .compat.manager import StrategyProtocol

        protocol = StrategyProtocol(stream, url, rest_url, **(protocol_options or {}))
        return Feed(stream, symbols, channels, protocol=protocol, on_event=on_event, **feed_options)
    if architecture == "direct":
        return Feed(stream, symbols, channels, url=url, rest_url=rest_url, on_event=on_event, protocol_options=protocol_options, **feed_options)
    raise ValueError(f"unknown architecture {architecture!r}")


def architecture_of(feed: Feed) -> str:
    """``"strategy"`` when ``feed`` runs on strategies, else ``"direct"``."""
    from .compat.manager import StrategyProtocol

    return "strategy" if isinstance(feed.protocol, StrategyProtocol) else "direct"
