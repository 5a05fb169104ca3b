from __future__ import annotations

import base64

import pytest

from bybit_leverage import Credentials, auth_headers, sign_hmac, signature_payload
from bybit_leverage._signing import verify_rsa

# Known-answer vectors for the string Bybit documents on its "Integration guidance"
# page (https://bybit-exchange.github.io/docs/v5/guide), computed with Python's
# hmac and checked with openssl.
KEY = "CFEJUGQEQPPHGOHGHM"
SECRET = "VDFZSSPUTKRJMXAVMJXBHEXIPZNZJIZUBVRQ"
TS = 1658384314791
GET_QUERY = "category=linear&symbol=BTCUSDT"
GET_SIGN = "6d765638b4e69592b3f7258bc14206d6b89516b495c3db05c6c781c6f987819f"
POST_BODY = (
    '{"category":"linear","symbol":"BTCUSDT","buyLeverage":"6","sellLeverage":"6"}'
)
POST_SIGN = "801ce681afdfd32d72a28a858ae66c44a0720773a078483f3ff1558a24df7522"


@pytest.mark.parametrize(
    ("payload", "sign"), [(GET_QUERY, GET_SIGN), (POST_BODY, POST_SIGN)]
)
def test_hmac_known_answer_vectors(payload: str, sign: str) -> None:
    creds = Credentials.hmac(KEY, SECRET)
    headers = auth_headers(creds, timestamp_ms=TS, recv_window_ms=5000, payload=payload)
    assert headers == {
        "X-BAPI-API-KEY": KEY,
        "X-BAPI-TIMESTAMP": str(TS),
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": sign,
        "X-BAPI-SIGN-TYPE": "2",
    }


def test_signature_covers_every_part_of_the_message() -> None:
    base = sign_hmac(SECRET, signature_payload(TS, KEY, 5000, GET_QUERY))
    assert base == GET_SIGN
    assert sign_hmac(SECRET, signature_payload(TS + 1, KEY, 5000, GET_QUERY)) != base
    assert sign_hmac(SECRET, signature_payload(TS, KEY, 6000, GET_QUERY)) != base
    assert sign_hmac(SECRET, signature_payload(TS, KEY, 5000, GET_QUERY + "x")) != base


def test_rsa_round_trip(rsa_pem: tuple[bytes, bytes]) -> None:
    private, public = rsa_pem
    creds = Credentials.rsa(KEY, private.decode())
    headers = auth_headers(
        creds, timestamp_ms=TS, recv_window_ms=5000, payload=POST_BODY
    )
    message = signature_payload(TS, KEY, 5000, POST_BODY)
    assert creds.kind == "rsa"
    assert base64.b64decode(headers["X-BAPI-SIGN"])  # base64, not hex
    assert verify_rsa(public, message, headers["X-BAPI-SIGN"])
    assert not verify_rsa(public, message + "x", headers["X-BAPI-SIGN"])
    assert not verify_rsa(public, message, "not base64!")


def test_rsa_needs_an_rsa_private_key(rsa_pem: tuple[bytes, bytes]) -> None:
    _, public = rsa_pem
    with pytest.raises(ValueError, match=r"PEM|private|key"):
        Credentials.rsa(KEY, public)


def test_secrets_never_show(rsa_pem: tuple[bytes, bytes]) -> None:
    hmac_creds = Credentials.hmac(KEY, SECRET)
    rsa_creds = Credentials.rsa(KEY, rsa_pem[0])
    for creds in (hmac_creds, rsa_creds):
        for text in (repr(creds), str(creds)):
            assert SECRET not in text
            assert "PRIVATE" not in text
    assert str(hmac_creds) == "hmac credentials for key CFEJ…"


@pytest.mark.parametrize(("key", "secret"), [("", SECRET), (KEY, "")])
def test_empty_credentials_are_refused(key: str, secret: str) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        Credentials.hmac(key, secret)
