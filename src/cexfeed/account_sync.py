"""How an :class:`~cexfeed.private_feed.Account` keeps its state right: the connection's state
and session token (rotation, renewal), the answers to its private subscriptions (refusals of
the credentials, the clock or a channel), and the REST reconciliation after every new session
and every ``reconcile_interval`` s (see :mod:`cexfeed.private_feed` for the whole story)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .handlers import PrivateWebSocketHandler
from .models import AUTH_FAILED, LIVE, REFUSED
from .net.backoff import Backoff
from .net.connection import CONNECTED, WsConnection
from .net.protocol import PrivateProtocol
from .net.requests import AckResult
from .net.rest import RestClient, RestError

log = logging.getLogger("cexfeed.account")


class AccountSync:
    """Mixin of :class:`~cexfeed.private_feed.Account`: the keeping of the account's state
    (it reads and sets the account's attributes, set in ``Account.__init__``)."""

    protocol: PrivateProtocol
    rest: RestClient
    handler: PrivateWebSocketHandler | None
    connection: WsConnection | None
    ack_results: list[AckResult]
    venue: str
    _closed: bool

    def _spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _measure_clock(self) -> None:
        try:
            await self.protocol.clock.measure(lambda: self.protocol.server_time_ms(self.rest))
        except Exception as exc:  # signatures then use the local clock; a skew is retried once
            log.warning("%s: server time unavailable (%s); signing with the local clock", self.venue, exc)

    def _on_state(self, conn: WsConnection, state: str) -> None:
        handler = self.handler
        if state != CONNECTED and handler is not None and handler.status == LIVE:
            # everything up to now arrived live: missed trades start here
            self._covered_ms = self.protocol.clock.now_ms()
        if self._rotation is not None:
            self._rotation.cancel()
            self._rotation = None
        age = self.protocol.max_connection_age_s
        if state == CONNECTED and age:
            self._rotation = asyncio.get_running_loop().call_later(age, self._rotate, conn, conn._session)

    def _rotate(self, conn: WsConnection, session: int) -> None:
        """The socket nears the venue's lifetime limit: a new one now, reconciled."""
        if session == conn._session and conn.connected and not self._closed:
            self._replace_socket(conn, "rotate", "", "connection lifetime limit")

    def _replace_socket(self, conn: WsConnection, reason: str, code: str, message: str) -> None:
        handler = self.handler
        if handler is not None and handler.status not in (AUTH_FAILED, REFUSED):
            if handler.status == LIVE:
                self._covered_ms = self.protocol.clock.now_ms()
            handler.connection_lost(reason, code=code, message=self.protocol.redact(message))
        self._sync_reason = "key_changed" if reason.startswith("key") else reason
        conn.reconnect_now(reason, self.protocol.redact(f"{code} {message}".strip()))

    def _on_session(self, kind: str, reason: str, code: str = "", message: str = "") -> None:
        """The protocol's session changed on its own (see :class:`PrivateProtocol`)."""
        conn = self.connection
        if self._closed or conn is None:
            return
        if kind == "auth":
            self._stop_auth(("auth", code, message), message)
            self._spawn(conn.close())
            return
        self._replace_socket(conn, reason, code, message)

    async def _renew(self, conn: WsConnection, reason: str, code: str, message: str, stale_url: str) -> None:
        """The venue refused the session the socket rode on (the account is ``stale`` with
        ``reason`` already): new session data, then a new socket unless one is up on it."""
        backoff = Backoff(initial=0.5, cap=30.0)
        while not self._closed:
            try:
                await self.protocol.renew_session(self.rest, reason, code, message, stale_url)
            except RestError as exc:
                found = self.protocol.rest_refusal(exc)
                if found is not None and found[0] == "auth":
                    self._on_session("auth", "auth", found[1], found[2])
                    return
                await asyncio.sleep(backoff.next())
                continue
            if conn.session_url != self.protocol.ws_url or not conn.connected:
                conn.reconnect_now(reason, self.protocol.redact(f"{code} {message}".strip()))
            return  # (a socket on the new data that is up already syncs on its own)

    def _on_replayed(self, conn: WsConnection, results: list[AckResult]) -> None:
        """The subscriptions of a new session are answered: reconcile (or stop on a refusal)."""
        self.ack_results = results
        if self._stopped:
            return  # refused before: the refused channels are not replayed, the state stays incomplete
        refused = [(r, self.protocol.refusal(r.message)) for r in results if r.status == "refused"]
        denied = [(r, k) for r, k in refused if k is not None and k[0] == "auth"]
        if denied:  # the refused channels are not replayed
            self._stop_auth(denied[0][1], self._refused_text(denied[0][1][2], [r for r, _ in denied], len(results)))
            return
        session = [k for _, k in refused if k is not None and k[0] == "key"]
        if session:
            # the subscriptions stay in the set (protocol.session_refusal): replayed on the new socket
            _, code, message = session[0]
            if self.handler is not None:
                self.handler.connection_lost("key_refused", code=code, message=self.protocol.redact(message))
            self._sync_reason = "key_changed"
            self._spawn(self._renew(conn, "key_refused", code, message, conn.session_url))
            return
        clock = [r.sub for r, k in refused if k is not None and k[0] == "clock"]
        if clock:
            if not self._clock_retried:
                self._clock_retried = True
                self._spawn(self._retry_clock(conn, clock, [r for r, k in refused if k is None]))
                return
            found = next(k for _, k in refused if k is not None)
            self._stop_auth(found, f"request time refused after measuring the clock again: {found[2]}")
            return
        if not self._stop_refused([r for r, _ in refused]):
            self._start_sync(conn)

    async def _retry_clock(self, conn: WsConnection, subs: list, other: list[AckResult]) -> None:
        await self._measure_clock()
        results = await conn.subscribe(subs)
        refused = [(r, self.protocol.refusal(r.message)) for r in results if r.status == "refused"]
        found = next((k for _, k in refused if k is not None), None)
        if found is not None and self.handler is not None:
            if found[0] == "clock":
                self._stop_auth(found, f"request time refused after measuring the clock again: {found[2]}")
            else:
                self._stop_auth(found, found[2])
            return
        if not self._stop_refused(other + [r for r, _ in refused]):
            self._start_sync(conn)

    def _stop_auth(self, found: tuple[str, str, str], message: str) -> None:
        self._stopped = True
        if self.handler is not None:
            self.handler.auth_failed(found[1], message)

    def _refused_text(self, message: str, refused: list[AckResult], total: int) -> str:
        """The venue's text, then which of the ``total`` subscriptions it refused."""
        names = ", ".join(f"{r.sub.channel}{' ' + r.sub.venue_symbol if r.sub.venue_symbol else ''}" for r in refused)
        return f"{self.protocol.redact(message)} ({len(refused)} of {total} private subscriptions refused: {names})"

    def _stop_refused(self, refused: list[AckResult]) -> bool:
        """Any private subscription refused (not for the credentials or the clock): the account
        is ``refused``, never ``live``, with the venue's text for each refused channel. True when
        it stopped."""
        if not refused:
            return False
        self._stopped = True
        if self.handler is not None:
            redact = self.protocol.redact
            names = "; ".join(f"{r.sub.channel}{' ' + r.sub.venue_symbol if r.sub.venue_symbol else ''}: {redact(r.message)}" for r in refused)
            self.refused = f"{len(refused)} of {len(self.ack_results)} private subscriptions refused: {names}"
            self.handler.subscription_refused("", self.refused)
        return True

    def _start_sync(self, conn: WsConnection, reason: str = "") -> None:
        if self._sync_task is not None and not self._sync_task.done():
            self._sync_task.cancel()
        self._sync_task = self._spawn(self._sync(conn, conn._session, reason))

    async def _periodic(self, interval: float) -> None:
        """Reconcile with REST every ``interval`` s while live (pushes the venue never sent are
        found and published once, like those missed while disconnected)."""
        while not self._closed:
            await asyncio.sleep(interval)
            conn, handler = self.connection, self.handler
            if conn is None or handler is None or not conn.connected or handler.status != LIVE:
                continue
            if self._sync_task is None or self._sync_task.done():
                self._start_sync(conn, "periodic")

    async def _sync(self, conn: WsConnection, session: int, reason: str = "") -> None:
        handler = self.handler
        assert handler is not None
        protocol = self.protocol
        reason, self._sync_reason = reason or self._sync_reason, ""
        handler.begin_sync(reason or ("reconnect" if self.syncs else "start"))
        backoff = Backoff(initial=0.2, cap=5.0)
        clock_retry = True
        while not self._closed:
            since = protocol.since(self._covered_ms) if self._covered_ms is not None else None
            taken = protocol.clock.now_ms()
            try:
                snapshot = await protocol.fetch_account(self.rest, self.state, since)
            except asyncio.CancelledError:
                raise
            except RestError as exc:
                self.sync_failures += 1
                found = protocol.rest_refusal(exc)
                if found is not None and found[0] == "auth":
                    self._stop_auth(found, found[2])
                    return
                if found is not None and found[0] == "clock" and clock_retry:
                    clock_retry = False
                    await self._measure_clock()
                    continue
                handler._count_error("snapshot_failed", b"", exc)
                await asyncio.sleep(backoff.next())
                continue
            except Exception as exc:  # an unusable body: counted, tried again
                self.sync_failures += 1
                handler._count_error("snapshot_failed", b"", protocol.redact(f"{type(exc).__name__}: {exc}"))
                await asyncio.sleep(backoff.next())
                continue
            if session != conn._session or not conn.connected:
                return  # the connection this snapshot belongs to is gone; the next one syncs
            self.syncs += 1
            if handler.finish_sync(snapshot):
                self._covered_ms = taken
                self._clock_retried = False
                return
            handler.begin_sync("buffer_overflow")
