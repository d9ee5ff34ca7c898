"""MEXC spot v3 signed requests and their refusals (mexc-protocol.md §3.1, §3.2).

- Signed REST ("SIGNED" endpoints): header ``X-MEXC-APIKEY: <key>``; parameters ``timestamp``
  (ms, server time) and ``recvWindow`` (ms, at most 60000); ``signature`` = lowercase hex
  HMAC-SHA256(secret, ``totalParams``) where ``totalParams`` is the query string immediately
  followed by the request body, with no ``&`` between them. We send every parameter in the
  query string (GET, POST, PUT and DELETE alike) and no body, so the text signed is the query
  string as sent; ``signature`` goes last.
- Refusals (§3.1, §3.2): ``10072`` (invalid access key, HTTP 401), ``700001`` (key format),
  ``700002``/``602`` (signature), ``700006`` (IP not whitelisted), ``700007`` (no permission):
  the credentials are refused; ``700003`` (timestamp outside ``recvWindow``): the clock;
  ``730708`` ("listen key information error", seen after keep-alives every 10 s): the
  listenKey is refused and must be recreated. The code may come as a number or a string.
- A listenKey rides in the private WebSocket URL (``?listenKey=<key>``, §3.3): :func:`mask_url`
  and :class:`KeyMask` keep it out of every log line, event and error text.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import msgspec

from ...credentials import MASK, Credentials
from ...net.rest import Signed

API_KEY_HEADER = "X-MEXC-APIKEY"
#: §3.2: the venue's default is 5000 ms; DEMO creates listenKeys with 60000 (the maximum)
RECV_WINDOW_MS = 10_000
MAX_RECV_WINDOW_MS = 60_000

#: codes that mean the key, its signature or its permissions were refused
AUTH_CODES = frozenset({"10072", "700001", "700002", "602", "700006", "700007"})
#: the request time was outside the server's window
CLOCK_CODES = frozenset({"700003"})
#: the listenKey was refused (recreate it, never retry it in a loop)
LISTEN_KEY_CODES = frozenset({"730708"})


def sign_text(query: str, body: bytes | str = b"") -> bytes:
    """``totalParams``: the query string immediately followed by the body (§3.2)."""
    if isinstance(body, str):
        body = body.encode()
    return query.encode() + body


def signature(credentials: Credentials, query: str, body: bytes | str = b"") -> str:
    """Lowercase hex HMAC-SHA256 of ``query`` + ``body`` keyed by the secret."""
    return credentials.hmac_hex(sign_text(query, body), "sha256")


def signed_query(credentials: Credentials, query: str, timestamp_ms: int, recv_window_ms: int = RECV_WINDOW_MS, body: bytes = b"") -> str:
    """``query`` with ``recvWindow``, ``timestamp`` and, last, the ``signature`` over all of it
    (and ``body``). ``recv_window_ms`` is clamped to the venue's maximum (60000)."""
    window = min(max(int(recv_window_ms), 1), MAX_RECV_WINDOW_MS)
    stamped = (query + "&" if query else "") + urlencode({"recvWindow": window, "timestamp": int(timestamp_ms)})
    return f"{stamped}&signature={signature(credentials, stamped, body)}"


def signed_request(credentials: Credentials, query: str, body: bytes, timestamp_ms: int, recv_window_ms: int = RECV_WINDOW_MS) -> Signed:
    """The :class:`~cexfeed.net.rest.Signed` answer of a REST signer: the key header and the
    signed query string."""
    return Signed({API_KEY_HEADER: credentials.key}, signed_query(credentials, query, timestamp_ms, recv_window_ms, body))


class _Error(msgspec.Struct):
    code: int | str | None = None
    msg: str = ""


_error = msgspec.json.Decoder(_Error)


def error_of(body: bytes | str) -> tuple[str, str]:
    """``(code, msg)`` of a REST error body ``{"code": 730708 | "730708", "msg": ...}``;
    ``("", text)`` when it is no such object."""
    try:
        found = _error.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return "", text[:200]
    return ("" if found.code is None else str(found.code)), found.msg


def refusal(code: str, message: str, http_status: int = 0) -> tuple[str, str, str] | None:
    """``("auth" | "clock" | "key", code, message)`` of a refused request, else ``None``.
    ``key``: the listenKey is no longer valid (recreate it). An HTTP 401 without a known code
    is ``auth``."""
    if code in LISTEN_KEY_CODES:
        return "key", code, message
    if code in CLOCK_CODES:
        return "clock", code, message
    if code in AUTH_CODES or (http_status == 401 and not code):
        return "auth", code or str(http_status), message
    return None


# -- masking the listenKey ---------------------------------------------------------------------
_IN_URL = re.compile(r"(listenKey=)[^&\s'\"]+")


def mask_url(url: str) -> str:
    """``url`` with the value of its ``listenKey`` parameter replaced by ``***``."""
    return _IN_URL.sub(r"\1" + MASK, url)


class KeyMask:
    """The listenKeys one session has held (the last ``limit``), removed from any text with
    :meth:`scrub` (as parameters of a URL and anywhere else, e.g. a REST answer)."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._keys: list[str] = []

    def add(self, key: str) -> None:
        if key and key not in self._keys:
            self._keys.append(key)
            del self._keys[: -self.limit]

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys held, oldest first."""
        return tuple(self._keys)

    def scrub(self, text: str) -> str:
        text = mask_url(text)
        for key in self._keys:
            if key in text:
                text = text.replace(key, MASK)
        return text

    def __repr__(self) -> str:
        return f"KeyMask({len(self._keys)} keys)"

