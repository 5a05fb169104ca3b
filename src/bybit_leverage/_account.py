"""The account behind the key: read once, cached, and checked before any write.

Two requests make a profile (``/v5/account/info`` and ``/v5/user/query-api``);
concurrent callers share them, and the profile is kept for a TTL. A key that is
unknown, wrongly signed, IP-blocked, expired, read-only or without the position
permission fails here, once, with a typed error, before a batch writes anything:
a wrong secret must not be tried on every symbol.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from attrs import evolve

from bybit_leverage import _constants as c
from bybit_leverage._api import BybitApi
from bybit_leverage._http import Tally
from bybit_leverage.errors import (
    ApiKeyExpired,
    AuthenticationError,
    BybitError,
    HTTPStatusError,
    InvalidApiKey,
    PermissionDenied,
)
from bybit_leverage.models import AccountProfile

__all__ = ["ACCOUNT_TTL", "AccountCache"]

logger = logging.getLogger(__name__)

#: How long a profile is trusted (seconds of loop time).
ACCOUNT_TTL: Final = 300.0
#: After a read failed for a reason other than the key, wait this long before the
#: next try: a host that cannot answer must not cost every call a request.
RETRY_AFTER: Final = 30.0


class AccountCache:
    """Reads and keeps the account profile; checks that the key may write.

    Args:
        api: The endpoint floor.
        host: How errors name the host (``"testnet"``, a URL, ...).
        ttl: Seconds a profile is trusted.
        on_profile: Called with each profile read (the rate budget learns the
            UID from it).
    """

    def __init__(
        self,
        api: BybitApi,
        host: str,
        *,
        ttl: float = ACCOUNT_TTL,
        on_profile: Callable[[AccountProfile], object] | None = None,
    ) -> None:
        self._api = api
        self._on_profile = on_profile
        self._host = host
        self._ttl = ttl
        self._profile: AccountProfile | None = None
        self._read_at = 0.0
        self._failure: tuple[float, BybitError] | None = None
        self._lock: asyncio.Lock | None = None  # made lazily, inside the loop

    async def get(
        self, *, refresh: bool = False, tally: Tally | None = None
    ) -> AccountProfile:
        """The profile, read if missing, expired or ``refresh`` is asked.

        Raises:
            AuthenticationError: The key cannot be used on this host (10003
                names the host).
            BybitError: A read failed after its retries.
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            now = asyncio.get_running_loop().time()
            fresh = self._profile is not None and now - self._read_at < self._ttl
            if fresh and not refresh and self._profile is not None:
                return self._profile
            if self._failure is not None and now - self._failure[0] < RETRY_AFTER:
                raise self._failure[1]
            try:
                self._profile = await self._read(tally)
            except AuthenticationError:
                raise
            except BybitError as exc:
                self._failure = (now, exc)
                raise
            self._failure = None
            self._read_at = now
            if self._on_profile is not None:
                self._on_profile(self._profile)
            return self._profile

    async def _read(self, tally: Tally | None) -> AccountProfile:
        try:
            account = await self._api.fetch_account(tally=tally)
            try:
                return await self._api.fetch_key(account, tally=tally)
            except HTTPStatusError as exc:
                if exc.status != 404:
                    raise
                # Demo trading serves account/info but not query-api.
                logger.debug("%s: no key info on this host", c.PATH_KEY_INFO)
                return account
        except InvalidApiKey as exc:
            raise evolve(exc, host=self._host) from None

    async def check_can_write(self) -> AccountProfile | None:
        """The profile, once it shows the key may set leverage.

        Returns ``None`` when the profile could not be read for a reason other
        than the key (a transient failure): the batch goes on, and Bybit decides.

        Raises:
            AuthenticationError: The key is unknown (10003), wrongly signed
                (10004), IP-blocked (10010), expired (33004), read-only or
                without the position permission (:class:`PermissionDenied`).
        """
        try:
            profile = await self.get()
        except AuthenticationError:
            raise
        except BybitError as exc:
            logger.warning("could not read the account (%s); going on without", exc)
            return None
        if profile.read_only:
            raise PermissionDenied(
                c.PERMISSION_DENIED,
                "the API key is read-only: it cannot set leverage",
                c.PATH_KEY_INFO,
            )
        if profile.can_set_leverage is False:
            raise PermissionDenied(
                c.PERMISSION_DENIED,
                "the API key lacks the Position permission (ContractTrade)",
                c.PATH_KEY_INFO,
            )
        if profile.expires_at is not None and profile.expires_at <= datetime.now(UTC):
            raise ApiKeyExpired(
                c.API_KEY_EXPIRED,
                f"the API key expired at {profile.expires_at.isoformat()}",
                c.PATH_KEY_INFO,
            )
        return profile
