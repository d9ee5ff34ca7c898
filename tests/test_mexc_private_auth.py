"""MEXC signed requests (mexc-protocol.md §3.2): the two documented test vectors, recomputed
here with ``hmac`` independently of the code under test; the query string the REST client sends
is the one signed; refusal codes; the listenKey never shown."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl

from cexfeed.credentials import Credentials
from cexfeed.exchanges.mexc import auth
from cexfeed.net.rest import Signed

SECRET = "45d0b3c26f2644f19bfb98b07741b2f5"
CREDS = Credentials("mx0vglTESTKEY", SECRET)
QUERY = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"
# the "mixed" form: query "…type=LIMIT" immediately followed by the body "quantity=1&…" (no "&")
MIXED_QUERY = "symbol=BTCUSDT&side=BUY&type=LIMIT"
MIXED_BODY = "quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"


def reference(message: str) -> str:
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_documented_vectors():
    # computed here, and equal to the values the protocol notes recomputed
    assert reference(QUERY) == "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
    assert reference(MIXED_QUERY + MIXED_BODY) == "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"
    assert auth.signature(CREDS, QUERY) == reference(QUERY)
    assert auth.signature(CREDS, MIXED_QUERY, MIXED_BODY.encode()) == reference(MIXED_QUERY + MIXED_BODY)
    assert auth.signature(CREDS, MIXED_QUERY, MIXED_BODY) == auth.signature(CREDS, MIXED_QUERY + MIXED_BODY)
    # the Doc's "Example 1" value does not reproduce (§3.2, pitfalls #22)
    assert not auth.signature(CREDS, QUERY).startswith("323c96ab")


def test_signed_query_is_what_is_signed_and_sent():
    query = auth.signed_query(CREDS, "listenKey=abc", 1644489390087, 5000)
    signed, _, signature = query.rpartition("&signature=")
    assert signed == "listenKey=abc&recvWindow=5000&timestamp=1644489390087"
    assert signature == reference(signed) and signature == signature.lower() and len(signature) == 64
    assert auth.signed_query(CREDS, "", 7, 999_999).startswith("recvWindow=60000&timestamp=7&signature=")  # clamped to the maximum
    request = auth.signed_request(CREDS, "symbol=BTCUSDT", b"", 1000)
    assert isinstance(request, Signed) and request.headers == {"X-MEXC-APIKEY": "mx0vglTESTKEY"}
    params = dict(parse_qsl(request.query))
    assert params["symbol"] == "BTCUSDT" and params["timestamp"] == "1000" and params["recvWindow"] == str(auth.RECV_WINDOW_MS)


def test_refusal_codes():
    assert auth.error_of(b'{"code":"730708","msg":"listen key information error"}') == ("730708", "listen key information error")
    assert auth.error_of(b'{"code":10072,"msg":"Api key info invalid"}') == ("10072", "Api key info invalid")
    assert auth.error_of(b"<html>oops</html>") == ("", "<html>oops</html>")
    assert auth.refusal("730708", "listen key information error") == ("key", "730708", "listen key information error")
    assert auth.refusal("10072", "Api key info invalid", 401) == ("auth", "10072", "Api key info invalid")
    assert auth.refusal("700002", "Signature for this request is not valid.")[0] == "auth"
    assert auth.refusal("700003", "Timestamp for this request is outside of the recvWindow.")[0] == "clock"
    assert auth.refusal("", "Unauthorized", 401) == ("auth", "401", "Unauthorized")
    assert auth.refusal("-2013", "Order does not exist.", 400) is None


def test_listen_key_masked():
    key = "a" * 64
    assert auth.mask_url(f"wss://wbs-api.mexc.com/ws?listenKey={key}") == "wss://wbs-api.mexc.com/ws?listenKey=***"
    assert auth.mask_url(f"ws://h/ws?x=1&listenKey={key}&y=2") == "ws://h/ws?x=1&listenKey=***&y=2"
    mask = auth.KeyMask(limit=2)
    for k in ("k1" * 32, "k2" * 32, "k3" * 32):
        mask.add(k)
    assert mask.scrub(f'{{"listenKey":"{"k3" * 32}"}} {"k2" * 32}') == '{"listenKey":"***"} ***'
    assert "k3" not in repr(mask)
