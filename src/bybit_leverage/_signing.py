"""Pure request signing for Bybit V5 private endpoints (HMAC and RSA keys).

The string to sign is ``timestamp + api_key + recv_window + payload``, where the
payload is the exact query string of a GET or the exact raw body of a POST. The
caller passes the timestamp in: nothing here reads a clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Final

from attrs import field, frozen
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = [
    "Credentials",
    "auth_headers",
    "sign_hmac",
    "sign_rsa",
    "signature_payload",
    "verify_rsa",
]

#: Sent by Bybit's official SDK on every request; its meaning is undocumented.
SIGN_TYPE: Final = "2"


def signature_payload(
    timestamp_ms: int, api_key: str, recv_window_ms: int, payload: str
) -> str:
    """Return the exact string Bybit signs for a request."""
    return f"{timestamp_ms}{api_key}{recv_window_ms}{payload}"


def sign_hmac(secret: str, message: str) -> str:
    """Sign with a system-generated key: lowercase hex HMAC-SHA256."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign_rsa(private_key: rsa.RSAPrivateKey, message: str) -> str:
    """Sign with a self-generated RSA key: base64 RSASSA-PKCS1-v1_5 over SHA-256."""
    signature = private_key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def verify_rsa(public_key_pem: str | bytes, message: str, signature: str) -> bool:
    """Check an RSA signature as Bybit does (used by the simulator and tests)."""
    data = (
        public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
    )
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("public key must be an RSA key in PEM form")
    try:
        key.verify(
            base64.b64decode(signature, validate=True),
            message.encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def _load_rsa(pem: str | bytes, password: str | bytes | None) -> rsa.RSAPrivateKey:
    data = pem.encode() if isinstance(pem, str) else pem
    secret = password.encode() if isinstance(password, str) else password
    try:
        key = serialization.load_pem_private_key(data, password=secret)
    except TypeError as exc:  # encrypted without a password, or the other way
        if secret is None:
            raise ValueError(
                "the RSA private key is encrypted: give its password"
            ) from None
        raise ValueError(f"the RSA private key is not encrypted ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("private_key must be an RSA key in PEM form")
    return key


@frozen
class Credentials:
    """An API key with its HMAC secret or RSA private key.

    Build one with :meth:`hmac` or :meth:`rsa`. The secret never appears in
    ``repr``, ``str`` or comparisons.
    """

    api_key: str
    _secret: str | None = field(default=None, repr=False, eq=False, alias="secret")
    _private_key: rsa.RSAPrivateKey | None = field(
        default=None, repr=False, eq=False, alias="private_key"
    )

    @classmethod
    def hmac(cls, api_key: str, secret: str) -> Credentials:
        """Credentials for a system-generated (HMAC) key."""
        if not api_key or not secret:
            raise ValueError("api_key and api_secret must both be non-empty")
        return cls(api_key, secret=secret)

    @classmethod
    def rsa(
        cls,
        api_key: str,
        private_key: str | bytes,
        password: str | bytes | None = None,
    ) -> Credentials:
        """Credentials for a self-generated RSA key (PEM; ``password`` if encrypted).

        Raises:
            ValueError: The key is not an RSA key in PEM form, or is encrypted and
                no (or a wrong) password was given. The message never shows it.
        """
        if not api_key:
            raise ValueError("api_key must be non-empty")
        return cls(api_key, private_key=_load_rsa(private_key, password))

    @property
    def kind(self) -> str:
        """``"hmac"`` or ``"rsa"``."""
        return "rsa" if self._private_key is not None else "hmac"

    def __str__(self) -> str:
        return f"{self.kind} credentials for key {self.api_key[:4]}…"

    def sign(self, message: str) -> str:
        """Sign ``message`` with this key's algorithm."""
        if self._private_key is not None:
            return sign_rsa(self._private_key, message)
        if self._secret is None:
            raise ValueError("credentials hold neither a secret nor a private key")
        return sign_hmac(self._secret, message)


def auth_headers(
    creds: Credentials, *, timestamp_ms: int, recv_window_ms: int, payload: str
) -> dict[str, str]:
    """Return the ``X-BAPI-*`` headers that authenticate one request.

    Args:
        creds: The key to sign with.
        timestamp_ms: The request time in epoch ms, already corrected to the
            server's clock.
        recv_window_ms: How long after ``timestamp_ms`` the server may accept it.
        payload: The exact query string (GET) or raw JSON body (POST) to be sent.
    """
    message = signature_payload(timestamp_ms, creds.api_key, recv_window_ms, payload)
    return {
        "X-BAPI-API-KEY": creds.api_key,
        "X-BAPI-TIMESTAMP": str(timestamp_ms),
        "X-BAPI-RECV-WINDOW": str(recv_window_ms),
        "X-BAPI-SIGN": creds.sign(message),
        "X-BAPI-SIGN-TYPE": SIGN_TYPE,
    }
