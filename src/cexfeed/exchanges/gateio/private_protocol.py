"""Gate.io private (account) streams as seen by the network core: signed subscribe frames built
when sent (gateio-protocol.md §4.1), signed REST (APIv4), the server clock from ``/spot/time``,
authentication refusals, and the REST account snapshot: :class:`GateioSpotPrivateProtocol`
and :class:`GateioFuturesPrivateProtocol` (handlers in ``private_spot.py`` and
``private_futures.py``).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from ...account import AccountSnapshot, AccountState
from ...channels import Channel
from ...credentials import CredentialsError
from ...net.protocol import PrivateProtocol, Subscription
from ...net.rest import RestClient, RestError
from ...symbols import SymbolMap
from ...venues import private_handler_class
from . import auth
from . import futures_table as ft
from . import spot_table as st
from .futures_protocol import GateioFuturesProtocol
from .protocol import GateioProtocol, request
from .spot_protocol import GateioSpotProtocol


class _ServerTime(msgspec.Struct):
    server_time: int


_server_time = msgspec.json.Decoder(_ServerTime, strict=False)


class GateioPrivateProtocol(PrivateProtocol, GateioProtocol):
    """What both Gate account streams share. Each private request carries ``auth`` signed for
    its own ``time`` (server seconds from :attr:`clock`), computed when the frame is built, i.e.
    when it is sent; REST calls are signed per attempt (:meth:`sign_rest`). Subscriptions: a row
    whose payload names a symbol gets one per symbol given (``!all`` by default); a row without
    (balances) gets one with no symbol."""

    DEFAULT: tuple[str, ...] = ()
    symbols: SymbolMap | None = None
    _normalizer: Any = None

    def normalizer(self) -> Any:
        """A private handler on the current :attr:`symbols`, used only for its normalization of
        REST bodies (units, status table): the same rules as the pushes."""
        symbols = self.symbols if self.symbols is not None else self.default_symbols()
        if self._normalizer is None or self._normalizer.symbols is not symbols:
            self._normalizer = private_handler_class(self.name)(symbols=symbols, credentials=self.credentials)
        return self._normalizer

    def make_private_handler(self, on_event, symbols: SymbolMap, state: AccountState):
        self.symbols = symbols
        return private_handler_class(self.name)(on_event, symbols, state, self.credentials)

    async def fetch_symbols(self, rest: RestClient) -> SymbolMap:
        """The market's instrument list, kept for the normalization of REST bodies."""
        self.symbols = await super().fetch_symbols(rest)
        return self.symbols

    def request(self, row: Channel, sub: Subscription, event: str, request_id: int) -> bytes:
        now = self.clock.now_s()
        payload = self.table.payload(row, sub.venue_symbol, sub.params) if row.payload else None  # type: ignore[union-attr]
        return request(row.venue_channel, event, payload, request_id, now, auth.ws_auth(self.credentials, row.venue_channel, event, now))

    def sign_rest(self, method: str, path: str, query: str, body: bytes) -> dict[str, str]:
        return auth.rest_headers(self.credentials, method, path, query, body, self.clock.now_s())

    async def server_time_ms(self, rest: RestClient) -> int:
        """``GET /spot/time`` -> ``server_time`` ms (both markets share the API host)."""
        return _server_time.decode(await rest.get(st.TIME_PATH)).server_time

    def refusal(self, message: str, code: int | str = 0) -> tuple[str, str, str] | None:
        return auth.refusal(self.redact(message), code)

    def rest_refusal(self, error: RestError) -> tuple[str, str, str] | None:
        if error.status in (400, 401, 403):
            return auth.refusal(self.redact(error.body.decode("utf-8", "replace")), error.status)
        return None

    def default_channels(self) -> tuple[str, ...]:
        return self.DEFAULT

    def subscriptions(self, channels, venue_symbols, held=()) -> list[Subscription]:
        # (``held``: no private row feeds a book, so none can clash with a held one)
        symbols = list(venue_symbols) or [st.ALL]
        out: list[Subscription] = []
        for name in channels:
            row = self.table.row(name, True)  # type: ignore[union-attr]
            params = self.table.params(row.name, self.options.get(row.name, ()))  # type: ignore[union-attr]
            per_symbol = any("{symbol}" in item for item in row.payload)
            for symbol in symbols if per_symbol else [""]:
                sub = Subscription(row.name, symbol, params)
                if sub not in out:
                    out.append(sub)
        return out

    def since(self, ms: int) -> int:
        """Server ms -> the ms a missed-trade query starts from (a margin for clock error)."""
        return max(0, ms - 5_000)


class GateioSpotPrivateProtocol(GateioPrivateProtocol, GateioSpotProtocol):
    """``gateio-spot`` account stream: ``orders``, ``fills``, ``balances`` by default (also
    ``orders_v2``, ``fills_v2``), all pairs (``!all``) unless pairs are given. Endpoints, ping
    and the pair list are the spot market's (:class:`GateioSpotProtocol`)."""

    DEFAULT = st.PRIVATE_DEFAULT

    async def fetch_account(self, rest: RestClient, state: AccountState, since_ms: int | None) -> AccountSnapshot:
        from .private_spot import fetch_spot_account

        return await fetch_spot_account(rest, self.sign_rest, self.normalizer(), state, since_ms, self.clock.now_ms(), time.time_ns(),
                                        self.followed)


class GateioFuturesPrivateProtocol(GateioPrivateProtocol, GateioFuturesProtocol):
    """``gateio-perp`` account stream (USDT perpetuals): orders, fills, positions, balances,
    own liquidations, auto-deleverages, position closes and trigger orders by default, all
    contracts (``!all``) unless contracts are given. The payload is ``[uid, contract]`` (§4.2:
    at most one contract per request, ``!all`` for every one), so the credentials must carry the
    account's user id (``GATEIO_UID``). Endpoints, ping, the ``X-Gate-Size-Decimal: 1`` header
    and the contract list are the futures market's (:class:`GateioFuturesProtocol`). Raises
    ``CredentialsError`` without a uid."""

    DEFAULT = ft.PRIVATE_DEFAULT

    def __init__(self, ws_url: str | None = None, rest_url: str | None = None, *, credentials, clock=None) -> None:
        super().__init__(ws_url, rest_url, credentials=credentials, clock=clock)
        if not credentials.uid:
            raise CredentialsError("gateio-perp private channels need the account's user id: set GATEIO_UID (or pass uid=)")
        for row in self.table:  # type: ignore[union-attr]
            if row.private and any(name == "uid" for name, _ in row.params):
                self.set_option(row.name, credentials.uid)

    async def fetch_account(self, rest: RestClient, state: AccountState, since_ms: int | None) -> AccountSnapshot:
        from .private_futures import fetch_futures_account

        return await fetch_futures_account(rest, self.sign_rest, self.normalizer(), state, since_ms, self.clock.now_ms(), time.time_ns(),
                                           self.followed)
