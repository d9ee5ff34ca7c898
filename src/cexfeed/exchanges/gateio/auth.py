"""Gate.io API v4 signatures and authentication refusals (gateio-protocol.md §4, §2.4).

- WebSocket private subscribe/unsubscribe (§4.1): ``auth = {"method": "api_key", "KEY": key,
  "SIGN": hex HMAC-SHA512(secret, "channel=<channel>&event=<event>&time=<seconds>")}``; the
  payload is not signed; ``time`` is the request's own ``time`` field (server seconds).
- REST (APIv4): headers ``KEY``, ``Timestamp`` (seconds) and ``SIGN`` = hex HMAC-SHA512(secret,
  ``METHOD\\n<url path>\\n<query string>\\n<hex SHA-512 of the body>\\n<timestamp>``), the
  path including ``/api/v4``, the body hash taken of ``""`` when there is none.
- Refusals: Gate wraps authentication failures in several shapes (§2.4): code 4 with a JSON
  ``{"label": ..., "message": ...}`` text, code 2 with ``... {"label":"INVALID_SIGNATURE",...}``
  inside, ``auth faild``, codes 6 and 11 on older servers; REST answers
  ``{"label": ..., "message": ...}`` with HTTP 401/403. ``REQUEST_EXPIRED`` means the request
  time was more than 60 s off the server's.
"""

from __future__ import annotations

import hashlib
import re

from ...credentials import Credentials

#: labels that mean the credentials (or their permissions) were refused
AUTH_LABELS = frozenset({
    "INVALID_KEY", "INVALID_SIGNATURE", "MISSING_REQUIRED_HEADER", "INVALID_CREDENTIALS", "IP_FORBIDDEN",
    "READ_ONLY", "FORBIDDEN", "KEY_EXPIRED", "ACCOUNT_LOCKED", "INVALID_PROTOCOL",
})
#: labels that mean the request time was outside the server's window
CLOCK_LABELS = frozenset({"REQUEST_EXPIRED"})
#: WebSocket error codes that mean authentication failed (4; 6 and 11 on older servers)
AUTH_CODES = frozenset({4, 6, 11})

_LABEL = re.compile(r'"label"\s*:\s*"([A-Z_]+)"')
_MESSAGE = re.compile(r'"message"\s*:\s*"([^"]*)"')
_EMPTY_SHA512 = hashlib.sha512(b"").hexdigest()


def ws_sign_text(channel: str, event: str, time_s: int) -> bytes:
    """The text a WebSocket subscribe/unsubscribe signs (§4.1)."""
    return f"channel={channel}&event={event}&time={time_s}".encode()


def ws_auth(credentials: Credentials, channel: str, event: str, time_s: int) -> dict[str, str]:
    """The ``auth`` object of one private request."""
    return {"method": "api_key", "KEY": credentials.key, "SIGN": credentials.hmac_hex(ws_sign_text(channel, event, time_s))}


def rest_sign_text(method: str, path: str, query: str, body: bytes, time_s: int) -> bytes:
    """The text an APIv4 REST request signs."""
    body_hash = hashlib.sha512(body).hexdigest() if body else _EMPTY_SHA512
    return f"{method.upper()}\n{path}\n{query}\n{body_hash}\n{time_s}".encode()


def rest_headers(credentials: Credentials, method: str, path: str, query: str, body: bytes, time_s: int) -> dict[str, str]:
    """``KEY``, ``Timestamp``, ``SIGN`` headers of one REST request."""
    return {
        "KEY": credentials.key,
        "Timestamp": str(time_s),
        "SIGN": credentials.hmac_hex(rest_sign_text(method, path, query, body, time_s)),
    }


def refusal(message: str, code: int | str = 0) -> tuple[str, str, str] | None:
    """``("auth" | "clock", label or code, venue message)`` when a refusal is about the
    credentials or the request time, else ``None``."""
    found = _LABEL.search(message)
    if found is not None:
        label = found.group(1)
        text = _MESSAGE.search(message[found.start():])
        detail = text.group(1) if text is not None else message
        if label in CLOCK_LABELS:
            return "clock", label, detail
        if label in AUTH_LABELS:
            return "auth", label, detail
        return None
    try:
        number = int(code)
    except (TypeError, ValueError):
        number = 0
    if number in AUTH_CODES or "auth faild" in message.lower() or "authentication fail" in message.lower():
        return "auth", str(code), message
    return None
