"""Who is calling and how often: authentication, key checks and rate windows.

Authentication follows https://bybit-exchange.github.io/docs/v5/guide#authentication
(the string to sign is ``timestamp + api_key + recv_window + payload``); the
answers, in the order they are checked, are the simulator's reading of
https://bybit-exchange.github.io/docs/v5/error:

* a missing ``X-BAPI-API-KEY``, ``X-BAPI-SIGN`` or ``X-BAPI-TIMESTAMP`` header:
  HTTP 401 with a JSON envelope, retCode 10003;
* a timestamp or recv window that is not an integer: retCode 10001;
* an unknown key: 10003; an expired key: 33004; a key bound to other IPs:
  10010 ``Unmatched IP``;
* a timestamp outside ``[server - recv_window, server + 1000)``: 10002;
* a bad signature: 10004 with ``error sign! origin_string[...]``.

Rate limits (https://bybit-exchange.github.io/docs/v5/rate-limit) are rolling
one-second windows per UID and endpoint, shared by every key of the UID, plus
600 requests per 5 s per IP across every route.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Final

from attrs import define, field

from bybit_leverage import _constants as c
from bybit_leverage._signing import signature_payload, verify_rsa
from bybit_leverage.simulator._limits import Decision, RollingWindow
from bybit_leverage.simulator._replies import refuse
from bybit_leverage.simulator._state import SimAccount, SimKey

__all__ = ["UID_LIMITS", "KeyRing", "RateLimits", "authenticate"]

#: Per-UID requests per rolling second. symbol-info's limit is undocumented:
#: the simulator gives it set-leverage's 10/s, the stricter reading. query-api
#: and coin-info are not in the rate-limit table either: 10/s is the
#: simulator's pick for both.
UID_LIMITS: Final = {
    "set-leverage": c.SET_LEVERAGE_LIMIT_PER_S,
    "position-list": c.POSITION_LIST_LIMIT_PER_S,
    "symbol-info": 10,
    "account-info": 50,
    "query-api": 10,
    "coin-info": 10,
}
API_KEY_EXPIRED: Final = 33004


@define
class KeyRing:
    """Every API key, each with its account."""

    _keys: dict[str, tuple[SimKey, SimAccount]] = field(factory=dict)

    def add(self, key: SimKey, account: SimAccount) -> None:
        """Index a key of ``account``.

        Raises:
            ValueError: If the key is already known.
        """
        if key.api_key in self._keys:
            raise ValueError("that API key is already registered")
        self._keys[key.api_key] = (key, account)

    def get(self, api_key: str) -> tuple[SimKey, SimAccount] | None:
        """Return the key and its account, if the key is known."""
        return self._keys.get(api_key)


def authenticate(
    headers: Mapping[str, str],
    payload: str,
    remote: str,
    keys: KeyRing,
    server_ms: int,
) -> tuple[SimKey, SimAccount]:
    """Check a private request's headers and signature; return its key and account.

    ``payload`` is what was signed: the raw query string of a GET, the raw body
    of a POST.

    Raises:
        Refused: With the answer Bybit gives, in the order of the module docstring.
    """
    api_key = headers.get("X-BAPI-API-KEY")
    sign = headers.get("X-BAPI-SIGN")
    timestamp_text = headers.get("X-BAPI-TIMESTAMP")
    if not api_key or not sign or not timestamp_text:
        missing = [
            name
            for name, value in (
                ("X-BAPI-API-KEY", api_key),
                ("X-BAPI-SIGN", sign),
                ("X-BAPI-TIMESTAMP", timestamp_text),
            )
            if not value
        ]
        raise refuse(
            c.INVALID_API_KEY,
            f"missing required header(s): {', '.join(missing)}",
            status=401,
        )
    window_text = headers.get("X-BAPI-RECV-WINDOW", str(c.RECV_WINDOW_MS))
    if not timestamp_text.isdigit() or not window_text.isdigit():
        raise refuse(
            c.PARAM_ERROR, "X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW must be integers"
        )
    found = keys.get(api_key)
    if found is None:
        raise refuse(c.INVALID_API_KEY, "API key is invalid.")
    key, account = found
    if key.expired:
        raise refuse(API_KEY_EXPIRED, "Your api key has expired.")
    if not key.allows_ip(remote):
        raise refuse(
            c.UNMATCHED_IP,
            f"Unmatched IP, please check your API key's bound IP addresses. ({remote})",
        )
    timestamp, recv_window = int(timestamp_text), int(window_text)
    if not server_ms - recv_window <= timestamp < server_ms + c.MAX_CLOCK_AHEAD_MS:
        raise refuse(
            c.TIMESTAMP_ERROR,
            "invalid request, please check your server timestamp or "
            f"recv_window param. req_timestamp[{timestamp}],"
            f"server_timestamp[{server_ms}],recv_window[{recv_window}]",
        )
    message = signature_payload(timestamp, api_key, recv_window, payload)
    if key.rsa_public_key is not None:
        valid = verify_rsa(key.rsa_public_key, message, sign)
    else:
        expected = hmac.new(
            (key.api_secret or "").encode(), message.encode(), "sha256"
        ).hexdigest()
        valid = hmac.compare_digest(expected, sign)
    if not valid:
        # Bybit echoes the string it signed: key, timestamp and payload, never a secret.
        raise refuse(c.INVALID_SIGNATURE, f"error sign! origin_string[{message}]")
    return key, account


@define
class RateLimits:
    """Rolling windows per (UID, endpoint) and per IP, on the event loop's clock.

    ``limits`` maps an endpoint to its per-UID capacity per second; it is read
    when a UID's window for that endpoint is first made.
    """

    enabled: bool = True
    limits: dict[str, int] = field(factory=lambda: UID_LIMITS)
    _uid: dict[tuple[int, str], RollingWindow] = field(factory=dict, init=False)
    _ip: dict[str, RollingWindow] = field(factory=dict, init=False)

    def set_limit(self, endpoint: str, per_second: int) -> None:
        """Change an endpoint's per-UID limit; its windows start afresh.

        Raises:
            ValueError: For an unknown endpoint or a limit below 1.
        """
        if endpoint not in self.limits or per_second < 1:
            raise ValueError(f"cannot limit {endpoint!r} to {per_second}/s")
        self.limits = {**self.limits, endpoint: per_second}  # UID_LIMITS stays as is
        for window in [k for k in self._uid if k[1] == endpoint]:
            del self._uid[window]

    def admit_ip(self, address: str, now: float) -> bool:
        """Count one request from ``address``; ``False`` once it is over 600 per 5 s."""
        if not self.enabled:
            return True
        window = self._ip.get(address)
        if window is None:
            window = self._ip[address] = RollingWindow(c.IP_LIMIT, c.IP_WINDOW_S)
        return window.acquire(now).allowed

    def _window(self, uid: int, endpoint: str) -> RollingWindow:
        window = self._uid.get((uid, endpoint))
        if window is None:
            limit = self.limits[endpoint]
            window = self._uid[(uid, endpoint)] = RollingWindow(limit, 1.0)
        return window

    def take(
        self, uid: int, endpoint: str, now: float, server_ms: int
    ) -> dict[str, str]:
        """Take a slot of the UID's window; return the ``X-Bapi-Limit*`` headers.

        Raises:
            Refused: retCode 10006 (with the headers) when the window is full.
        """
        if not self.enabled:
            return {}
        decision = self._window(uid, endpoint).acquire(now)
        headers = _headers(decision, now, server_ms)
        if not decision.allowed:
            refused = refuse(c.TOO_MANY_VISITS, "Too many visits!")
            refused.reply.headers.update(headers)
            raise refused
        return headers

    def peek(
        self, uid: int, endpoint: str, now: float, server_ms: int
    ) -> dict[str, str]:
        """The headers of the UID's window without taking a slot."""
        if not self.enabled:
            return {}
        return _headers(self._window(uid, endpoint).peek(now), now, server_ms)


def _headers(decision: Decision, now: float, server_ms: int) -> dict[str, str]:
    reset_ms = server_ms + round((decision.reset_at - now) * 1000)
    return {
        "X-Bapi-Limit": str(decision.limit),
        "X-Bapi-Limit-Status": str(decision.remaining),
        "X-Bapi-Limit-Reset-Timestamp": str(reset_ms),
    }
