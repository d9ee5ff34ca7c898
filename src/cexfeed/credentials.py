"""API credentials of one account: key, secret, optional user id.

The secret never leaves this object except into an HMAC: ``repr``/``str`` show neither the key
nor the secret, pickling is refused, and :meth:`Credentials.scrub` removes both (and any
signature made with them, given by the caller) from text that came back from a venue before it
is logged or shown.

Signing itself lives in the venue modules (Gate: :mod:`cexfeed.exchanges.gateio.auth`); they
call :meth:`Credentials.hmac_hex`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from typing import Mapping
from urllib.parse import quote, quote_plus

MASK = "***"

_SIGNED_FIELD = re.compile(r"""(?i)(["']?\b(?:sign|signature)["']?\s*[:=]\s*["']?)([^"',;}\s&]+)""")
_HEX_DIGEST = re.compile(r"\b[0-9a-fA-F]{64,}\b")


def scrub_signatures(text: str) -> str:
    """``text`` with every signature masked (see :meth:`Credentials.scrub`): for any text that
    may carry one, credentials at hand or not."""
    if "sign" in text.lower() or len(text) >= 64:
        text = _HEX_DIGEST.sub(MASK, _SIGNED_FIELD.sub(lambda m: m.group(1) + MASK, text))
    return text


def _written_forms(value: str) -> list[str]:
    """``value`` as a venue may echo it: as sent, escaped inside a JSON string (ASCII-only or
    not), percent-encoded in a URL. Longest first, so a form holding another goes whole."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], quote(value, safe=""), quote_plus(value)}
    return sorted(forms, key=len, reverse=True)


class CredentialsError(ValueError):
    """Credentials are missing or incomplete (the message names the variables, never values)."""


class Credentials:
    """``key`` (API key), ``secret`` (API secret), ``uid`` (the account's user id, needed by
    Gate futures private channels; optional elsewhere). Raises :class:`CredentialsError` when
    the key or secret is empty."""

    __slots__ = ("_key", "_secret", "uid")

    def __init__(self, key: str, secret: str, uid: str | int | None = None) -> None:
        if not key or not secret:
            raise CredentialsError("API key and secret are both required")
        self._key = str(key)
        self._secret = str(secret).encode()
        self.uid = str(uid) if uid not in (None, "") else None

    @classmethod
    def from_env(cls, prefix: str = "GATEIO", environ: Mapping[str, str] | None = None) -> "Credentials":
        """From ``<PREFIX>_API_KEY``, ``<PREFIX>_API_SECRET`` and ``<PREFIX>_UID`` (optional).
        Raises :class:`CredentialsError` naming the missing variables."""
        env = os.environ if environ is None else environ
        names = (f"{prefix}_API_KEY", f"{prefix}_API_SECRET")
        missing = [name for name in names if not env.get(name)]
        if missing:
            raise CredentialsError(f"set {' and '.join(missing)} in the environment")
        return cls(env[names[0]], env[names[1]], env.get(f"{prefix}_UID") or None)

    @property
    def key(self) -> str:
        """The API key (sent to the venue; never logged)."""
        return self._key

    def hmac_hex(self, message: bytes, digest: str = "sha512") -> str:
        """Lowercase hex HMAC of ``message`` keyed by the secret."""
        return hmac.new(self._secret, message, getattr(hashlib, digest)).hexdigest()

    def scrub(self, text: str, *extra: str) -> str:
        """``text`` with the key, the secret, each of ``extra`` and any signature replaced by
        ``***``: for venue messages that may echo what was sent (Gate's old servers echo the
        whole ``auth`` object). A signature is the value of a ``SIGN``/``signature`` field, or
        any run of 64 or more hex digits (an HMAC-SHA256/512 in hex) whatever it is called."""
        for value in (self._key, self._secret.decode(errors="replace"), *extra):
            if value:
                for form in _written_forms(value):
                    if form in text:
                        text = text.replace(form, MASK)
        return scrub_signatures(text)

    def __repr__(self) -> str:
        return f"Credentials(key={MASK}, secret={MASK}, uid={self.uid!r})"

    __str__ = __repr__

    def __reduce__(self):  # never serialize the secret by accident
        raise TypeError("Credentials cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credentials) and hmac.compare_digest(self._key, other._key) and hmac.compare_digest(self._secret, other._secret)

    def __hash__(self) -> int:
        return hash(self._key)
