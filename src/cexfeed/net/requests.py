"""Subscription requests of a :class:`~cexfeed.net.connection.WsConnection`: request ids,
subscribe/unsubscribe with their acks (matched by id, an id echoed as a numeric string too, else
by channel), refusals, "already subscribed", ack timeouts, the replay of the current set after a
reconnect, and per-symbol resubscribes (in-band snapshot streams).

:class:`Requests` is a part of ``WsConnection`` (it uses the connection's ``protocol``,
``handler``, ``subscriptions``, ``watch``, ``tap``, ``on_replayed`` and send path); it holds no
venue knowledge.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Iterable

from ..handlers import PublicWebSocketHandler
from ..models import REFUSED, RESUBSCRIBED, STALE, StreamStatus, VenueError
from .backoff import Backoff
from .protocol import Subscription
from .tap import ACK_TIMEOUT

log = logging.getLogger("cexfeed.net")

# the waits (s) before asking again for a market subscription refused after it had been accepted
REFUSED_RETRY_INITIAL = 1.0
REFUSED_RETRY_CAP = 60.0


class RequestIds:
    """Request ids shared by the connections of one pool: 1, 2, ... wrapping inside int32
    (Gate requires int32 ids, gateio-protocol.md §2.1)."""

    __slots__ = ("_next",)

    def __init__(self, start: int = 1) -> None:
        self._next = start

    def __call__(self) -> int:
        value = self._next
        self._next = value + 1 if value < 0x7FFFFFFF else 1
        return value


class AckResult:
    """Outcome of one subscribe/unsubscribe: ``ok``; ``status`` ``acked``/``refused``/
    ``timeout``/``closed``; ``message`` the venue's text (or ours)."""

    __slots__ = ("sub", "event", "ok", "status", "message")

    def __init__(self, sub: Subscription, event: str, ok: bool, status: str, message: str = "") -> None:
        self.sub = sub
        self.event = event
        self.ok = ok
        self.status = status
        self.message = message

    def __repr__(self) -> str:
        return f"AckResult({self.event} {self.sub.channel} {self.sub.venue_symbol}: {self.status} {self.message!r})"


class _Pending:
    __slots__ = ("sub", "event", "future", "timer", "ack_channel")

    def __init__(self, sub: Subscription, event: str, future: asyncio.Future, ack_channel: str) -> None:
        self.sub = sub
        self.event = event
        self.future = future
        self.timer: asyncio.TimerHandle | None = None
        self.ack_channel = ack_channel


def ack_timeout_error(handler: PublicWebSocketHandler, venue_symbol: str, channel: str, message: str, recv_ts: int | None) -> VenueError:
    """The ``VenueError`` (``code=-1``) reporting a request that got no valid ack (live and
    replay)."""
    return handler._local(VenueError, venue_symbol, recv_ts, code=-1, message=message, channel=channel)


class Requests:
    """Subscribe/unsubscribe and their acks, for :class:`~cexfeed.net.connection.WsConnection`."""

    async def subscribe(self, subs: Iterable[Subscription]) -> list[AckResult]:
        """Add ``subs`` to the current set and wait for their acks (each bounded by
        ``ack_timeout`` once sent; while disconnected they wait for the next connect).
        Already held subscriptions are acknowledged at once. Never raises for venue refusals."""
        futures = []
        loop = asyncio.get_running_loop()
        for sub in subs:
            if sub in self.subscriptions:
                done = loop.create_future()
                done.set_result(AckResult(sub, "subscribe", True, "acked", "already subscribed"))
                futures.append(done)
                continue
            self.subscriptions[sub] = None
            if not self.protocol.private:  # a push of a symbol not subscribed here is unknown_symbol
                self.handler.follow((sub.venue_symbol,))
            if self.protocol.is_book(sub):
                self.handler.open_book(sub.venue_symbol)
            future = loop.create_future()
            futures.append(future)
            if self.connected:
                self._send_request(sub, "subscribe", future)
            else:
                self._awaiting_replay[sub] = future
        return list(await asyncio.gather(*futures))

    async def unsubscribe(self, subs: Iterable[Subscription]) -> list[AckResult]:
        """Remove ``subs`` from the set and, when connected, unsubscribe on the venue."""
        futures = []
        loop = asyncio.get_running_loop()
        for sub in subs:
            self.subscriptions.pop(sub, None)
            self.watch.disarm(sub)
            self._accepted.discard(sub)
            retry = self._refused_retries.pop(sub, None)
            if retry is not None:
                retry.cancel()
            if self.protocol.is_book(sub) and not self.holds_book(sub.venue_symbol):
                self.handler.close_book(sub.venue_symbol)
            self._unfollow(sub.venue_symbol)
            waiting = self._awaiting_replay.pop(sub, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(AckResult(sub, "subscribe", False, "closed", "unsubscribed before sent"))
            future = loop.create_future()
            futures.append(future)
            if self.connected:
                self._send_request(sub, "unsubscribe", future)
            else:
                future.set_result(AckResult(sub, "unsubscribe", True, "acked", "not connected"))
        return list(await asyncio.gather(*futures))

    def _unfollow(self, venue_symbol: str) -> None:
        """``venue_symbol`` lost a subscription: when none is left its pushes are unknown."""
        if not self.protocol.private and not any(s.venue_symbol == venue_symbol for s in self.subscriptions):
            self.handler.unfollow(venue_symbol)

    def book_subscription(self, venue_symbol: str) -> Subscription | None:
        """The subscription feeding ``venue_symbol``'s book on this connection, if any."""
        is_book = self.protocol.is_book
        for sub in self.subscriptions:
            if sub.venue_symbol == venue_symbol and is_book(sub):
                return sub
        return None

    def holds_book(self, venue_symbol: str) -> bool:
        return self.book_subscription(venue_symbol) is not None

    # -- ConnectionHooks ---------------------------------------------------------------------
    def _match(self, request_id: int | str | None, channel: str) -> int | None:
        """The id of the pending request an ack answers: by id (an id echoed back as a numeric
        string is still our id), else the oldest request on ``channel`` (MEXC answers
        ``"id":0``)."""
        if request_id.__class__ is str:
            request_id = int(request_id) if request_id.isdigit() else None  # type: ignore[union-attr]
        if request_id and request_id in self._pending:
            return request_id  # type: ignore[return-value]
        for rid, candidate in self._pending.items():
            if candidate.ack_channel == channel:
                return rid
        return None

    def request_symbol(self, request_id: int | str | None, channel: str) -> str:
        rid = self._match(request_id, channel)
        return self._pending[rid].sub.venue_symbol if rid is not None else ""

    def on_ack(self, request_id: int | str | None, channel: str, ok: bool, message: str) -> None:
        rid = self._match(request_id, channel)
        pending = self._pending.pop(rid) if rid is not None else None
        if pending is None:
            self.stats.acks_unmatched += 1
            return
        if pending.timer is not None:
            pending.timer.cancel()
        sub = pending.sub
        if ok and channel and channel != pending.ack_channel:
            # a success for another channel than the one asked for is no ack of it (pitfalls #59)
            ok = False
            message = f"ack names {channel!r}, the request was for {pending.ack_channel!r}"
            self._ack_error(pending, message)
        elif not ok and self.protocol.already_subscribed(message) and sub in self.subscriptions:
            # the venue holds the stream already: keep it, its book and its place in the set
            ok = True
            message = f"already subscribed ({message})"
        if ok:
            self.stats.acks_ok += 1
            result = AckResult(sub, pending.event, True, "acked", message)
            if pending.event == "subscribe":
                self._accepted.add(sub)
                self.watch.arm(sub, time.time_ns())
                if self.protocol.is_book(sub) and self.protocol.snapshot_via_rest(sub):
                    seq = self.handler.books.get(sub.venue_symbol)
                    if seq is None or not seq.synced:
                        self.request_snapshot(sub.venue_symbol)
        else:
            self.stats.acks_refused += 1
            result = AckResult(sub, pending.event, False, "refused", message)
            if pending.event == "subscribe":
                if sub in self._accepted and sub in self.subscriptions and isinstance(self.handler, PublicWebSocketHandler):
                    self._refused_again(sub, message)
                else:
                    self.watch.disarm(sub)
                    if not self.protocol.session_refusal(message):
                        # refused from the start: never replay it (a refused session keeps it for the next one)
                        self.subscriptions.pop(sub, None)
                        self._unfollow(sub.venue_symbol)
            log.warning("%s: %s %s %s refused: %s", self.name, pending.event, sub.channel, sub.venue_symbol, message)
        if not pending.future.done():
            pending.future.set_result(result)

    def _refused_again(self, sub: Subscription, message: str) -> None:
        """``sub`` was accepted before and is refused now: keep it in the set, tell the consumer,
        ask again later (one retry task per subscription)."""
        self.watch.disarm(sub)
        if sub in self._refused_retries:
            return
        self._refused_retries[sub] = self._spawn(self._retry_refused(sub, self._session, message))

    async def _retry_refused(self, sub: Subscription, session: int, message: str) -> None:
        handler = self.handler
        loop = asyncio.get_running_loop()
        backoff = Backoff(initial=REFUSED_RETRY_INITIAL, cap=REFUSED_RETRY_CAP)
        delay = backoff.next()
        detail = f"{message}; subscribing again in {delay:.1f} s"
        now = time.time_ns()
        handler._emit(handler._local(StreamStatus, sub.venue_symbol, now, channel=sub.channel, status=REFUSED, reason=REFUSED, detail=detail))
        if self.protocol.is_book(sub) and sub.venue_symbol in handler.books:
            handler._status(sub.venue_symbol, STALE, REFUSED, None, None, now, detail)
        try:
            while True:
                await asyncio.sleep(delay)
                if session != self._session or sub not in self.subscriptions or not self.connected:
                    return  # a new socket replays the set, this one with it
                future = loop.create_future()
                self._send_request(sub, "subscribe", future)
                result = await future
                if result.ok:
                    handler._emit(handler._local(StreamStatus, sub.venue_symbol, None, channel=sub.channel, status=RESUBSCRIBED,
                                                 reason=RESUBSCRIBED))
                    return
                if sub not in self.subscriptions:
                    return
                delay = backoff.next()
        finally:
            if self._refused_retries.get(sub) is asyncio.current_task():
                del self._refused_retries[sub]

    def request_resubscribe(self, venue_symbol: str) -> None:
        sub = self.book_subscription(venue_symbol)
        if sub is not None:
            self.stats.resubscribes += 1
            self._spawn(self._resubscribe(sub))

    def _send_request(self, sub: Subscription, event: str, future: asyncio.Future) -> None:
        request_id = self.ids()
        if event == "subscribe":
            frame = self.protocol.subscribe_frame(sub, request_id)
        else:
            frame = self.protocol.unsubscribe_frame(sub, request_id)
        pending = _Pending(sub, event, future, self.protocol.ack_channel(sub))
        self._pending[request_id] = pending
        pending.timer = asyncio.get_running_loop().call_later(self.ack_timeout, self._ack_timeout, request_id)
        if not self._send(frame):
            # not sent: a subscribe waits for the replay after the reconnect
            self._pending.pop(request_id, None)
            pending.timer.cancel()
            if event == "subscribe" and sub in self.subscriptions:
                self._awaiting_replay[sub] = future
            elif not future.done():
                future.set_result(AckResult(sub, event, True, "acked", "not connected"))

    def _ack_timeout(self, request_id: int) -> None:
        pending = self._pending.pop(request_id, None)
        if pending is None:
            return
        self.stats.ack_timeouts += 1
        sub = pending.sub
        message = f"no ack for {pending.event} {sub.channel} {sub.venue_symbol} within {self.ack_timeout:g} s"
        log.warning("%s: %s", self.name, message)
        now = time.time_ns()
        if self.tap is not None:
            detail = {"venue_symbol": sub.venue_symbol, "channel": pending.ack_channel, "message": message}
            self.tap.event(self.tap_id, ACK_TIMEOUT, now, detail)
        self._ack_error(pending, message, now)
        if not pending.future.done():
            pending.future.set_result(AckResult(sub, pending.event, False, "timeout", message))

    def _ack_error(self, pending: _Pending, message: str, recv_ts: int | None = None) -> None:
        """A :class:`VenueError` (``code=-1``) about a request that got no valid ack."""
        self.handler._emit(ack_timeout_error(self.handler, pending.sub.venue_symbol, pending.ack_channel, message, recv_ts))

    def _fail_pending(self, status: str) -> None:
        for pending in self._pending.values():
            if pending.timer is not None:
                pending.timer.cancel()
            if not pending.future.done():
                pending.future.set_result(AckResult(pending.sub, pending.event, False, status, status))
        self._pending.clear()
        for sub, future in self._awaiting_replay.items():
            if not future.done():
                future.set_result(AckResult(sub, "subscribe", False, status, status))
        self._awaiting_replay.clear()

    def _replay(self) -> None:
        """Send the current subscription set (only it) on a fresh socket; ``on_replayed`` gets
        the answers of the whole set once they are in."""
        loop = asyncio.get_running_loop()
        sent = []
        for sub in list(self.subscriptions):
            future = self._awaiting_replay.pop(sub, None) or loop.create_future()
            self._send_request(sub, "subscribe", future)
            sent.append(future)
        for sub, future in list(self._awaiting_replay.items()):
            if not future.done():
                future.set_result(AckResult(sub, "subscribe", False, "closed", "no longer subscribed"))
        self._awaiting_replay.clear()
        if self.on_replayed is not None:
            self._spawn(self._replayed(sent, self._session))

    async def _replayed(self, futures: list[asyncio.Future], session: int) -> None:
        results = list(await asyncio.gather(*futures))
        if session == self._session and self.connected and self.on_replayed is not None:
            outcome = self.on_replayed(self, results)
            if asyncio.iscoroutine(outcome):
                await outcome

    async def _resubscribe(self, sub: Subscription) -> None:
        loop = asyncio.get_running_loop()
        if sub not in self.subscriptions or not self.connected:
            return
        unsub = loop.create_future()
        self._send_request(sub, "unsubscribe", unsub)
        await unsub
        if sub in self.subscriptions and self.connected:
            again = loop.create_future()
            self._send_request(sub, "subscribe", again)
            await again
