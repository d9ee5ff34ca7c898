"""REST client of the network core: one aiohttp session, GET and POST with bounded retries.

Retryable: connection errors, timeouts, HTTP 429 and 5xx (429/503 honour ``Retry-After``).
Other HTTP errors raise :class:`RestError` at once. An optional recording ``tap``
(:class:`~cexfeed.net.tap.Tap`) is told every attempt: URL, query, status and body.

Signed requests (private REST): the caller passes ``sign(method, path, query, body) ->
headers``, called again for every attempt so each retry carries a fresh timestamp. ``path`` is
the full URL path (the base URL's path included, e.g. ``/api/v4/spot/accounts``), ``query``
the exact query string of the parameters (``""`` when none) and ``body`` the exact bytes sent.
A venue that signs inside the query string (MEXC: ``timestamp`` and ``signature`` are
parameters) returns :class:`Signed` instead: its headers and the whole query string to send.
Headers and queries are never logged; error messages carry the venue's answer through
:attr:`RestClient.redact`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable, Mapping, NamedTuple
from urllib.parse import urlencode, urlsplit

import aiohttp
from yarl import URL

from .backoff import Backoff
from .tap import Tap

log = logging.getLogger("cexfeed.net")


class RestError(Exception):
    """A REST call failed for good. ``status`` is the HTTP status (0 for a transport error);
    ``body`` the venue's answer (``b""`` for a transport error)."""

    def __init__(self, message: str, status: int = 0, body: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class Signed(NamedTuple):
    """What a signer returns when the signature goes into the query string: the request's
    ``headers`` and the ``query`` string to send in place of the parameters' own."""

    headers: Mapping[str, str]
    query: str


#: ``sign(method, path, query, body) -> headers`` (or :class:`Signed`) of a signed request
Signer = Callable[[str, str, str, bytes], "Mapping[str, str] | Signed"]


class RestClient:
    """``await rest.get(path, params)`` -> body bytes. ``base_url`` like
    ``https://api.gateio.ws/api/v4``; ``headers`` go on every request.

    ``retries`` is the number of extra attempts after the first; delays follow :class:`Backoff`.
    The session is created lazily on first use and closed by :meth:`close`.

    ``on_state(status, reason, detail)`` (optional) is told when the endpoint goes from working
    to failing (``"failed"``, after a call's last attempt; ``reason`` ``http_<status>``,
    ``refused``, ``timeout`` or ``error``) and back (``"connected"``, the next success).
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: Backoff | None = None,
        tap: Tap | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = retries
        self._backoff_proto = backoff or Backoff(initial=0.2, cap=5.0)
        self._session: aiohttp.ClientSession | None = None
        self.base_path = urlsplit(self.base_url).path
        self.requests = 0
        self.failures = 0
        # applied to every error message (private clients remove credentials from it)
        self.redact: Callable[[str], str] = str
        self.tap = tap
        self.on_state: Callable[[str, str, str], None] | None = None
        # None until the first call; then whether the last call succeeded
        self.healthy: bool | None = None
        self.last_error = ""

    def _new_backoff(self) -> Backoff:
        b = self._backoff_proto
        return Backoff(b.initial, b.factor, b.cap, b.jitter)

    async def get(self, path: str, params: Mapping[str, Any] | None = None, sign: Signer | None = None) -> bytes:
        """GET ``base_url + path``; returns the body. Raises :class:`RestError` after the last
        failed attempt or on a non-retryable status."""
        return await self.request("GET", path, params, None, sign)

    async def post(self, path: str, body: bytes = b"", params: Mapping[str, Any] | None = None, sign: Signer | None = None) -> bytes:
        """POST ``body`` (JSON bytes) to ``base_url + path``; same retries and errors as :meth:`get`."""
        return await self.request("POST", path, params, body, sign)

    async def put(self, path: str, params: Mapping[str, Any] | None = None, sign: Signer | None = None) -> bytes:
        """PUT with ``params`` in the query string; same retries and errors as :meth:`get`."""
        return await self.request("PUT", path, params, None, sign)

    async def delete(self, path: str, params: Mapping[str, Any] | None = None, sign: Signer | None = None) -> bytes:
        """DELETE with ``params`` in the query string; same retries and errors as :meth:`get`."""
        return await self.request("DELETE", path, params, None, sign)

    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None, body: bytes | None = None,
                      sign: Signer | None = None) -> bytes:
        """One REST call with retries (see the module docstring); returns the response body."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self.headers, timeout=self.timeout)
        query = urlencode(params) if params else ""
        plain_url = self.base_url + path
        # the query string sent is the one signed: aiohttp must not encode it again
        url = URL(plain_url + ("?" + query if query else ""), encoded=True)
        data = body if body is not None else b""
        backoff = self._new_backoff()
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            delay: float | None = None
            headers = None
            if sign is not None:
                signed = sign(method, self.base_path + path, query, data)
                if signed.__class__ is Signed:
                    headers = dict(signed.headers)  # type: ignore[union-attr]
                    url = URL(plain_url + "?" + signed.query, encoded=True)  # type: ignore[union-attr]
                else:
                    headers = dict(signed)  # type: ignore[arg-type]
            if body is not None:
                headers = {**(headers or {}), "Content-Type": "application/json"}
            try:
                async with self._session.request(method, url, data=body, headers=headers) as resp:
                    answer = await resp.read()
                    if self.tap is not None:
                        self.tap.rest(time.time_ns(), plain_url, path, params, resp.status, answer, "")
                    if resp.status == 200:
                        self._state(True, "", "")
                        return answer
                    message = self.redact(f"{method} {plain_url} -> HTTP {resp.status}: {answer[:200]!r}")
                    if resp.status != 429 and resp.status < 500:
                        self.failures += 1
                        self._state(False, f"http_{resp.status}", message)
                        raise RestError(message, resp.status, answer)
                    retry_after = resp.headers.get("Retry-After")
                    if retry_after and retry_after.isdigit():
                        delay = min(float(retry_after), backoff.cap)
                    error = RestError(message, resp.status, answer)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                error = RestError(self.redact(f"{method} {plain_url} failed: {type(exc).__name__}: {exc}"), 0)
                error.__cause__ = exc
                if self.tap is not None:
                    self.tap.rest(time.time_ns(), plain_url, path, params, 0, b"", str(error))
            self.failures += 1
            if attempt > self.retries:
                self._state(False, _reason(error), str(error))
                raise error
            wait = delay if delay is not None else backoff.next()
            log.info("%s; retry %d of %d in %.2f s", error, attempt, self.retries, wait)
            await asyncio.sleep(wait)

    def _state(self, ok: bool, reason: str, detail: str) -> None:
        if not ok:
            self.last_error = detail
        if self.healthy is ok:
            return
        was = self.healthy
        self.healthy = ok
        if self.on_state is not None and (not ok or was is False):
            self.on_state("connected" if ok else "failed", reason, detail)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _reason(error: RestError) -> str:
    if error.status:
        return f"http_{error.status}"
    cause = error.__cause__
    if isinstance(cause, aiohttp.ClientConnectorError) or isinstance(cause, ConnectionRefusedError):
        return "refused"
    if isinstance(cause, asyncio.TimeoutError):
        return "timeout"
    return "error"
