"""MEXC spot account stream as seen by the network core (mexc-protocol.md §3): signed REST
(§3.2, :mod:`.auth`), the server clock from ``/api/v3/time``, the listenKey session (§3.1,
§3.3, §3.4, :mod:`.listen_key`) and the REST account snapshot (:mod:`.private_rest`).

:class:`MexcSpotPrivateProtocol` connects to ``<ws_url>?listenKey=<key>`` and subscribes the
private channels of the table (``orders``, ``fills``, ``balances``; the channel strings name no
symbol). The key is made in :meth:`~MexcSpotPrivateProtocol.prepare`, kept alive by its own
task, reused across reconnects, replaced when the venue refuses it (an empty answer to a private
subscription, :meth:`~MexcSpotPrivateProtocol.renew_session`; a failed keep-alive, told to the
account through ``session_listener``) and deleted in
:meth:`~MexcSpotPrivateProtocol.close_session`. Every text this protocol lets out passes
:meth:`~MexcSpotPrivateProtocol.redact` (credentials and every listenKey seen replaced by
``***``); the socket is replaced before the venue's 24 h connection limit (23 h).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from ...account import AccountSnapshot, AccountState
from ...channels import Channel
from ...net.protocol import PrivateProtocol, Subscription
from ...net.rest import RestClient, RestError
from ...symbols import SymbolMap
from ...venues import private_handler_class
from . import auth
from . import protocol as p
from . import spot_table as t
from .listen_key import KEY_EXPIRED, KEY_REFUSED, ListenKeyManager, ListenKeyRest
from .private_rest import Coverage
from .spot_protocol import MexcSpotProtocol

TIME_PATH = "/api/v3/time"
#: what the handler reports for an empty answer to a subscription (replies.py); with the
#: venue's own empty ``msg`` it is the sign of a listenKey the venue no longer takes (§3.4)
EMPTY_ACK = "empty ack"


class _ServerTime(msgspec.Struct):
    serverTime: int


_server_time = msgspec.json.Decoder(_ServerTime, strict=False)


class MexcSpotPrivateProtocol(PrivateProtocol, MexcSpotProtocol):
    """``mexc-spot`` account stream (see the module docstring).

    Options: ``listen_key`` (a key to reuse when the venue still lists it), ``recv_window_ms``
    of signed requests (default 10000, at most 60000), ``keepalive_s``/``min_keepalive_s`` (the
    keep-alive cadence and its floor, default 30 and 5 min), ``listen_keys`` (a
    :class:`~cexfeed.exchanges.mexc.listen_key.ListenKeyManager` to share, e.g. between
    accounts of one API key: at most 5 connections per key)."""

    max_connection_age_s = t.RECONNECT_AFTER_S
    DEFAULT = t.PRIVATE_DEFAULT

    def __init__(self, ws_url: str | None = None, rest_url: str | None = None, *, credentials, clock=None, listen_key: str | None = None,
                 recv_window_ms: int = auth.RECV_WINDOW_MS, keepalive_s: float | None = None, min_keepalive_s: float | None = None,
                 listen_keys: ListenKeyManager | None = None) -> None:
        super().__init__(ws_url, rest_url, credentials=credentials, clock=clock)
        self.base_ws_url = self.ws_url
        self.recv_window_ms = recv_window_ms
        self.mask = auth.KeyMask()
        self.keys = listen_keys
        self._key_options: dict[str, Any] = {"reuse": listen_key}
        if keepalive_s is not None:
            self._key_options["keepalive_s"] = keepalive_s
        if min_keepalive_s is not None:
            self._key_options["min_keepalive_s"] = min_keepalive_s
        self.symbols: SymbolMap | None = None
        self.handler: Any = None
        self._normalizer: Any = None
        self._acquired = False
        self._renewing = False
        # which symbols the REST snapshots ask about (grows with what the account meets)
        self.coverage = Coverage()

    def __repr__(self) -> str:
        return f"MexcSpotPrivateProtocol({self.redact(self.ws_url)!r}, {self.credentials!r}, keys={self.keys!r})"

    # -- signing and secrets -------------------------------------------------------------------
    def sign_rest(self, method: str, path: str, query: str, body: bytes):
        return auth.signed_request(self.credentials, query, body, self.clock.now_ms(), self.recv_window_ms)

    def redact(self, text: str) -> str:
        return self.credentials.scrub(self.mask.scrub(text))

    async def server_time_ms(self, rest: RestClient) -> int:
        """``GET /api/v3/time`` -> ``serverTime`` ms."""
        return _server_time.decode(await rest.get(TIME_PATH)).serverTime

    def refusal(self, message: str, code: int | str = 0) -> tuple[str, str, str] | None:
        if self.session_refusal(message):
            return "key", "empty_ack", "the venue did not take the private subscription: listenKey no longer valid"
        return auth.refusal(str(code), self.redact(message))

    def session_refusal(self, message: str) -> bool:
        return message == "" or message.startswith(EMPTY_ACK)

    def rest_refusal(self, error: RestError) -> tuple[str, str, str] | None:
        if not error.status:
            return None
        code, message = auth.error_of(error.body)
        return auth.refusal(code, self.redact(message), error.status)

    # -- the listenKey session -------------------------------------------------------------------
    def _manager(self, rest: RestClient) -> ListenKeyManager:
        if self.keys is None:
            api = ListenKeyRest(rest, self.sign_rest, self.mask)
            self.keys = ListenKeyManager(api, **self._key_options)
        self.keys.on_change = self._key_changed
        self.keys.redact = self.redact
        self.keys.on_auth_failed = self._key_auth_failed
        self.keys.on_clock = lambda: self.clock.measure(lambda: self.server_time_ms(rest))
        return self.keys

    def session_url(self, key: str) -> str:
        """The private WebSocket URL of ``key`` (§3.3)."""
        self.mask.add(key)
        base = self.base_ws_url
        return f"{base}{'&' if '?' in base else '?'}listenKey={key}"

    def _use(self, key: str) -> None:
        self.ws_url = self.session_url(key)
        if self.handler is not None:
            self.handler.masked = self.mask.keys

    async def prepare(self, rest: RestClient) -> None:
        """Make (or reuse) the listenKey, point ``ws_url`` at it, start its keep-alive task.
        Raises ``RestError`` (refused credentials, venue away)."""
        keys = self._manager(rest)
        if self._acquired:
            key = await keys.current()
        else:
            key = await keys.acquire()
            self._acquired = True
        self._use(key)
        keys.start()

    async def renew_session(self, rest: RestClient, reason: str, code: str, message: str, stale_url: str) -> bool:
        keys = self._manager(rest)
        stale = stale_url.rpartition("listenKey=")[2] or None
        before = self.ws_url
        self._renewing = True  # the account asked: it replaces the socket itself
        try:
            self._use(await keys.renew(reason or KEY_REFUSED, code, message, stale=stale))
        finally:
            self._renewing = False
        return self.ws_url != before

    def _key_changed(self, old: str | None, new: str, reason: str, code: str, message: str) -> None:
        self._use(new)
        if self.session_listener is not None and not self._renewing:
            # the venue's code and message reach the event; never a key or a secret
            self.session_listener("renew", reason or KEY_EXPIRED, code, self.redact(message))

    def _key_auth_failed(self, code: str, message: str) -> None:
        if self.session_listener is not None:
            self.session_listener("auth", "auth", code, self.redact(message))

    async def close_session(self, rest: RestClient) -> None:
        """Delete the keys made for this stream (a key given to reuse stays)."""
        if self.keys is not None:
            if self._acquired:
                self.keys.release()
                self._acquired = False
            if self.keys.connections == 0:
                await self.keys.close()

    # -- channels --------------------------------------------------------------------------------
    def default_channels(self) -> tuple[str, ...]:
        return tuple(self.DEFAULT)

    def subscriptions(self, channels, venue_symbols, held=()) -> list[Subscription]:
        """One subscription per private row: the channels name no symbol (every symbol's pushes
        come on them; ``venue_symbols`` say which symbols the REST snapshot covers)."""
        self.followed = tuple(venue_symbols)
        out: list[Subscription] = []
        for name in channels:
            row = self.table.row(name, True)  # type: ignore[union-attr]
            sub = Subscription(row.name, "", ())
            if sub not in out:
                out.append(sub)
        return out

    def request(self, row: Channel, sub: Subscription, event: str, request_id: int) -> bytes:
        build = p.subscribe if event == "subscribe" else p.unsubscribe
        return build([row.venue_channel], request_id)

    def ack_channel(self, sub: Subscription) -> str:
        return self.row(sub).venue_channel

    def since(self, ms: int) -> int:
        """Server ms -> the ms a missed-trade query starts from (a margin for clock error)."""
        return max(0, ms - 5_000)

    # -- handler and REST snapshot -----------------------------------------------------------------
    def make_private_handler(self, on_event, symbols: SymbolMap, state: AccountState):
        self.symbols = symbols
        self.handler = private_handler_class(self.name)(on_event, symbols, state, self.credentials)
        self.handler.masked = self.mask.keys
        return self.handler

    def normalizer(self) -> Any:
        """A private handler on the current symbols, used for its normalization of REST bodies
        (the same status, type and unit rules as the pushes)."""
        symbols = self.symbols if self.symbols is not None else self.default_symbols()
        if self._normalizer is None or self._normalizer.symbols is not symbols:
            self._normalizer = private_handler_class(self.name)(symbols=symbols, credentials=self.credentials)
        return self._normalizer

    async def fetch_symbols(self, rest: RestClient) -> SymbolMap:
        self.symbols = await super().fetch_symbols(rest)
        return self.symbols

    async def fetch_account(self, rest: RestClient, state: AccountState, since_ms: int | None) -> AccountSnapshot:
        from .private_rest import fetch_account

        return await fetch_account(rest, self.sign_rest, self.normalizer(), state, self.followed, since_ms, self.clock.now_ms(), time.time_ns(),
                                   self.coverage)

    #: venue symbols the REST snapshot always covers (the account's ``symbols``; besides them:
    #: :attr:`coverage`); set by the account
    followed: tuple[str, ...] = ()
