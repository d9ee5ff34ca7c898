"""The base of authenticated account-stream handlers: :class:`PrivateWebSocketHandler` (pushes
to normalized account events applied to an :class:`~cexfeed.account.AccountState`, seeding and
reconciling without a gap, account status events)."""

from __future__ import annotations

import time

from .account import AccountSnapshot, AccountState
from .handler_base import EventCallback, WebSocketHandler
from .models import AUTH_FAILED, LIVE, RECONCILING, REFUSED, SEEDING, STALE, AccountEvent, AccountStatus, Balance, Fill, Order, Position


class PrivateWebSocketHandler(WebSocketHandler):
    """Base of authenticated account-stream handlers (orders, fills, balances, positions); the
    contract every venue's private handler keeps (Gate spot and futures, MEXC spot):

    - ``_handle_message(raw, recv_ts)`` as for public handlers: decode, never raise; malformed
      and unknown input counted in ``stats``, logged once, skipped;
    - a subclass turns each push into normalized :mod:`cexfeed.models` account events
      (``Order``, ``Fill``, ``Balance``, ``Position``, ``AccountNotice``) and hands each to
      :meth:`_account_event`; the handler applies it to :attr:`state` (an
      :class:`~cexfeed.account.AccountState`) and publishes what changed;
    - seeding and reconciling without a gap (driven by :class:`cexfeed.private_feed.Account`):
      :meth:`begin_sync` (before subscribing, or when the connection is lost) makes pushes wait
      in a buffer; :meth:`finish_sync` applies a REST :class:`~cexfeed.account.AccountSnapshot`,
      then the buffered pushes (the state drops the ones the snapshot already holds), and
      declares the account ``live``;
    - status changes are :class:`~cexfeed.models.AccountStatus` events (``seeding``,
      ``reconciling``, ``live``, ``stale``, ``auth_failed``, ``refused``); :attr:`status` is the
      current one.

    Used alone (replay, tests) nothing is buffered: every push is applied as it comes.
    ``max_buffer`` bounds the buffer; past it pushes are dropped, counted
    (``buffer_overflow``), and :meth:`finish_sync` returns False so the caller loads a new
    snapshot.
    """

    def __init__(self, on_event: EventCallback | None = None, state: AccountState | None = None, max_buffer: int = 100_000) -> None:
        super().__init__(on_event)
        self.state = state if state is not None else AccountState(self.venue, self.market)
        self.status = ""
        # run by an Account, which reports refusals itself: it waits for every subscription's
        # answer and publishes the one auth_failed naming the refused channels, and a refused
        # session key as a key change (Account._on_replayed); alone the first refusal publishes
        self.managed = False
        self._auth_refused = False
        self.max_buffer = max_buffer
        self._syncing = False
        self._buffer: list[AccountEvent] = []
        self._overflow = False
        self._seeded = False
        state = self.state
        self._appliers = {Order: state.apply_order, Fill: state.apply_fill, Balance: state.apply_balance, Position: state.apply_position}

    def unified(self, venue_symbol: str) -> str:
        raise NotImplementedError

    @property
    def syncing(self) -> bool:
        """True while pushes are buffered (between :meth:`begin_sync` and :meth:`finish_sync`)."""
        return self._syncing

    def _account_event(self, event: AccountEvent) -> None:
        """Apply one normalized account event now, or buffer it while syncing."""
        if self._syncing:
            if len(self._buffer) < self.max_buffer:
                self._buffer.append(event)
            else:
                self._overflow = True
                self.stats.errors["buffer_overflow"] += 1
            return
        apply = self._appliers.get(event.__class__)
        result = apply(event) if apply is not None else event
        if result is not None:
            self._emit(result)

    def begin_sync(self, reason: str = "") -> None:
        """Buffer pushes until the next :meth:`finish_sync` (a buffer already filling since
        :meth:`connection_lost` is kept: it holds the new connection's pushes); publishes
        ``seeding`` (first time) or ``reconciling``."""
        if not self._syncing:
            self._syncing = True
            self._buffer = []
            self._overflow = False
        self._set_status(RECONCILING if self._seeded else SEEDING, reason)

    def finish_sync(self, snapshot: AccountSnapshot, recv_ts: int | None = None) -> bool:
        """Apply ``snapshot``, then the buffered pushes, publish each change once, and go
        ``live``. Returns False when pushes were lost to a full buffer (load another snapshot)."""
        if recv_ts is None:
            recv_ts = time.time_ns()
        self._emit_all(self.state.reconcile(snapshot, recv_ts))
        buffered, self._buffer = self._buffer, []
        self._syncing = False
        apply = self.state.apply
        for event in buffered:
            result = apply(event)
            if result is not None:
                self._emit(result)
        complete = not self._overflow
        self._overflow = False
        self._seeded = True
        self._set_status(LIVE, "snapshot" if complete else "buffer_overflow")
        return complete

    def connection_lost(self, reason: str, recv_ts: int | None = None, code: str = "", message: str = "") -> None:
        """The account is ``stale`` until reconciled. Pushes of the lost connection still
        buffered are dropped: only the next connection's pushes, which all come after its
        subscription, are applied on top of its snapshot (they arrive in order, so the last one
        of each balance or order is the newest). A ``code`` (the venue's, e.g. a refused session
        token) publishes the status again even when already ``stale``, with ``reason``."""
        self._syncing = True
        self._buffer = []
        self._overflow = False
        if self.status in _TERMINAL:
            return  # refused by the venue: that stays the account's status until the user acts
        self._set_status(STALE, reason, code, message, recv_ts=recv_ts)

    def auth_failed(self, code: str, message: str) -> None:
        """The venue refused the credentials: publish ``auth_failed`` with its code and text
        (once: the status is terminal)."""
        if self.status == AUTH_FAILED:
            return
        self._set_status(AUTH_FAILED, "auth", code, message)

    def auth_refused(self, code: str, message: str) -> None:
        """A subscription answer refusing the credentials (one per channel; the caller
        publishes the ``VenueError`` of the first only, while ``_auth_refused`` is false): the
        status comes from :meth:`auth_failed`, at once unless ``managed`` (by an Account)."""
        self._auth_refused = True
        if not self.managed:
            self.auth_failed(code, message)

    def subscription_refused(self, code: str, message: str) -> None:
        """The venue refused a private subscription for another reason than the credentials or
        the clock (a wrong user id, a channel the key may not use): the account cannot be kept
        right, so it is not ``live``: publish ``refused`` with the venue's code and text."""
        self._set_status(REFUSED, "subscription", code, message)

    def _set_status(self, status: str, reason: str, code: str = "", message: str = "", recv_ts: int | None = None) -> None:
        if status == self.status and not code:
            return
        self.status = status
        self._emit(self._local(AccountStatus, "", recv_ts, status=status, reason=reason, code=code, message=message))


_TERMINAL = frozenset({AUTH_FAILED, REFUSED})

